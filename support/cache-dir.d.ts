/** The cache directory Hookpoint keeps host-wide, rebuildable files in (cache-dir.js). */
export function cacheDir(env?: NodeJS.ProcessEnv): string;
