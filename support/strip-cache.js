// Every `hookpoint` process (the CLI, each `lab agent` client of a status read or monitor window,
// the agent server) strips the TypeScript of each module it loads, and the first strip starts
// Node's stripper (a WebAssembly module) first: measured here, ≈0.15 s of CPU for a `lab agent`
// status client, of its ≈0.3 s. This keeps each module's stripped JavaScript in the cache
// directory, keyed by its source text and Node's version, and loads it from there; the stripping
// is Node's own (module.stripTypeScriptTypes), so what runs is what Node would have run. Plain
// JavaScript, so that loading it starts no stripper. HOOKPOINT_STRIP_CACHE=0 turns it off; a
// cache that cannot be written leaves Node's own loading in place.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import module from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir } from './cache-dir.js';

/** Node's stripper, without the ExperimentalWarning it prints on first use (a CLI's stderr is its users'). */
function strip(source) {
  const emit = process.emitWarning;
  process.emitWarning = (warning, ...rest) => {
    if (!String(warning).includes('stripTypeScriptTypes')) emit.call(process, warning, ...rest);
  };
  try {
    return module.stripTypeScriptTypes(source);
  } finally {
    process.emitWarning = emit;
  }
}

/** Register the cache for this process; false when it is off or cannot be used. */
export function useStripCache(env = process.env) {
  if (env.HOOKPOINT_STRIP_CACHE === '0') return false;
  return registerStripCache(path.join(cacheDir(env), 'strip', process.version));
}

/**
 * Load every TypeScript module of ours through `dir` (also the mutation runs' sandbox cache,
 * scripts/stryker-strip-cache.mjs); false when this Node lacks the hooks or `dir` cannot be made.
 */
export function registerStripCache(dir) {
  if (!module.registerHooks || !module.stripTypeScriptTypes) return false;
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    return false;
  }
  module.registerHooks({
    load(url, context, nextLoad) {
      if (!url.startsWith('file:') || !url.endsWith('.ts') || url.includes('/node_modules/'))
        return nextLoad(url, context);
      const source = readFileSync(fileURLToPath(url), 'utf8');
      const file = path.join(dir, `${createHash('sha1').update(source).digest('hex')}.js`);
      let code;
      try {
        code = readFileSync(file, 'utf8');
      } catch {
        code = strip(source);
        try {
          const partial = `${file}.${process.pid}`;
          writeFileSync(partial, code);
          renameSync(partial, file);
        } catch {
          // Not writable now: this process still runs the stripped code.
        }
      }
      return { format: 'module', source: code, shortCircuit: true };
    },
  });
  return true;
}
