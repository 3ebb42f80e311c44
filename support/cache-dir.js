// The one owner of where Hookpoint keeps host-wide, rebuildable files (the Allure class archive,
// the stripped TypeScript of the CLI). Plain JavaScript: the CLI's entry reads it before any
// TypeScript is loaded (support/strip-cache.js); TypeScript modules import it with its types
// from cache-dir.d.ts.
import os from 'node:os';
import path from 'node:path';

/** `HOOKPOINT_CACHE_DIR`, else `$XDG_CACHE_HOME/hookpoint`, else `~/.cache/hookpoint`. */
export function cacheDir(env = process.env) {
  if (env.HOOKPOINT_CACHE_DIR) return env.HOOKPOINT_CACHE_DIR;
  const base = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache');
  return path.join(base, 'hookpoint');
}
