/**
 * Test support: the real-world corpus in ../shared/fixtures/real-world (read from there, never
 * copied). With CI=true a missing corpus fails the test; otherwise the test skips, saying why.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const REPO_ROOT = path.resolve(import.meta.dirname, '../../../..');
export const REAL_WORLD_DIR = path.resolve(REPO_ROOT, '../shared/fixtures/real-world');

interface SkipContext {
  skip(message?: string): void;
}

/** The fixture's text, or null after skipping the test (throws under CI=true). */
export function realWorld(t: SkipContext, name: string): string | null {
  const file = path.join(REAL_WORLD_DIR, name);
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const why = `real-world fixture ${name} not found under ${REAL_WORLD_DIR}`;
  if (process.env.CI === 'true') throw new Error(`${why} (CI=true: the corpus must be present).`);
  t.skip(why);
  return null;
}

/** The fixture's text, or undefined when it cannot be read (rethrows under CI=true); the test decides what to skip. */
export function optionalRealWorld(name: string): string | undefined {
  try {
    return readFileSync(path.join(REAL_WORLD_DIR, name), 'utf8');
  } catch (err) {
    if (process.env.CI === 'true') throw err;
    return undefined;
  }
}
