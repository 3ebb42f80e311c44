// Mutation runs start `node` once per test file per mutant, and Node strips the TypeScript of every
// module again each time: about 40 % of a test process's CPU. Stryker's instrumented sources do
// not change during a run (the active mutant is chosen at run time), so each module's stripped
// JavaScript is kept in the sandbox, keyed by its content, and loaded from there. The stripping is
// Node's own (module.stripTypeScriptTypes), so what runs is what Node would have run.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { registerHooks, stripTypeScriptTypes } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = path.resolve('.strip-cache');
mkdirSync(dir, { recursive: true });

registerHooks({
  load(url, context, nextLoad) {
    if (!url.startsWith('file:') || !url.endsWith('.ts') || url.includes('/node_modules/'))
      return nextLoad(url, context);
    const source = readFileSync(fileURLToPath(url), 'utf8');
    const file = path.join(dir, `${createHash('sha1').update(source).digest('hex')}.js`);
    let code;
    try {
      code = readFileSync(file, 'utf8');
    } catch {
      code = stripTypeScriptTypes(source);
      const partial = `${file}.${process.pid}`;
      writeFileSync(partial, code);
      renameSync(partial, file);
    }
    return { format: 'module', source: code, shortCircuit: true };
  },
});
