/** Where reports go must accept files: checked before a run (or a render) spends any time. */
import { accessSync, constants, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.ts';

/** The reports directory exists (or can be created) and accepts files. */
export function checkReportsDir(dir: string, flag = '--reports'): void {
  const abs = path.resolve(dir);
  const probe = path.join(abs, `.hookpoint-write-test-${process.pid}`);
  try {
    // Level by level: a recursive mkdir spins forever under /proc (ENOENT on a directory that exists).
    const missing: string[] = [];
    for (let p = abs; !existsSync(p); p = path.dirname(p)) missing.unshift(p);
    for (const p of missing) mkdirSync(p);
    accessSync(abs, constants.W_OK);
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (err) {
    throw new UsageError(
      `The ${flag === '--reports' ? 'reports' : 'output'} directory "${dir}" is not writable (${(err as NodeJS.ErrnoException).code ?? String(err)} at ${abs}).`,
      `Pass ${flag} DIR with a folder you can write to (default: reports/).`,
    );
  }
}
