/**
 * Test support: the one owner of where the real-world corpus lives and how a test reads it.
 * The corpus sits in ../shared/fixtures/real-world next to the repo (read in place, never
 * copied). HOOKPOINT_REAL_WORLD overrides that place: a copy of the repo elsewhere (Stryker's
 * sandbox under .stryker-tmp/) still finds the corpus of the checkout it was copied from.
 * With CI=true a missing corpus fails the test; otherwise the test skips, saying why.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
export const REAL_WORLD_DIR = path.resolve(
  process.env.HOOKPOINT_REAL_WORLD || path.resolve(REPO_ROOT, '../shared/fixtures/real-world'),
);

interface SkipContext {
  skip(message?: string): void;
}

/** Absolute path of a corpus file (whether or not it exists). */
export function realWorldPath(name: string): string {
  return path.join(REAL_WORLD_DIR, name);
}

/** Why the corpus (or one file of it) is missing: a skip reason outside CI, an error under CI=true. */
function missing(what: string): string {
  const why = `${what} not found under ${REAL_WORLD_DIR}`;
  if (process.env.CI === 'true') throw new Error(`${why} (CI=true: the corpus must be present).`);
  return why;
}

/** The fixture's text, or null after skipping the test (throws under CI=true). */
export function realWorld(t: SkipContext, name: string): string | null {
  const file = realWorldPath(name);
  if (existsSync(file)) return readFileSync(file, 'utf8');
  t.skip(missing(`real-world fixture ${name}`));
  return null;
}

/**
 * For `test(name, { skip }, …)` and `describe(name, { skip }, …)`: false when every named file
 * is there, else the reason to skip (throws under CI=true, so CI never skips silently).
 */
export function skipUnlessRealWorld(...names: string[]): string | false {
  const absent = names.filter((n) => !existsSync(realWorldPath(n)));
  if (names.length === 0 ? !existsSync(REAL_WORLD_DIR) : absent.length > 0)
    return missing(names.length ? `real-world fixtures ${absent.join(', ')}` : 'the real-world corpus');
  return false;
}
