/**
 * `hookpoint down --backend kind --cluster N` — delete a kept Kind cluster (and its per-run
 * files). Idempotent: a cluster that does not exist is reported, not an error. A cluster whose
 * Hookpoint lock (a Lease) is held by a live run is left alone unless --force is given.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { defaultExecutor, type Executor } from '../backends/k8s/executor.ts';
import { kindLifecycle } from '../backends/kind/lifecycle.ts';
import { DEFAULTS, DNS1123 } from '../config.ts';
import { UsageError } from '../errors.ts';

export interface DownOptions {
  backend?: string;
  cluster?: string;
  reports?: string;
  force?: boolean;
}

export async function down(
  opts: DownOptions,
  deps: { exec?: Executor; say?: (line: string) => void } = {},
): Promise<'deleted' | 'absent'> {
  const backend = opts.backend ?? 'kind';
  if (backend !== 'kind')
    throw new UsageError(
      `\`hookpoint down\` deletes Kind clusters only; "${backend}" has no cluster Hookpoint owns.`,
      backend === 'lab' ? 'Use `hookpoint lab down` for the lab.' : 'Use --backend kind.',
    );
  if (!opts.cluster) throw new UsageError('`hookpoint down` needs the cluster to delete.', 'Pass --cluster NAME.');
  if (!DNS1123.test(opts.cluster)) throw new UsageError(`Invalid --cluster "${opts.cluster}" (a DNS-1123 name).`);
  const say = deps.say ?? ((l: string) => process.stdout.write(`${l}\n`));
  const reports = opts.reports ?? DEFAULTS.reportsDir;
  const life = kindLifecycle(deps.exec ?? defaultExecutor);
  if (!(await life.exists(opts.cluster))) {
    say(`No Kind cluster named "${opts.cluster}"; nothing to delete.`);
    rmSync(path.join(reports, 'kind', opts.cluster), { recursive: true, force: true });
    return 'absent';
  }
  if (!opts.force) await life.refuseIfLocked(opts.cluster, reports);
  await life.delete(opts.cluster);
  rmSync(path.join(reports, 'kind', opts.cluster), { recursive: true, force: true });
  say(`Deleted Kind cluster "${opts.cluster}".`);
  return 'deleted';
}

export function register(program: Command): void {
  program
    .command('down')
    .description('delete a kept cluster')
    .option('--backend <name>', 'backend (kind)', 'kind')
    .option('--cluster <name>', 'Kind cluster to delete')
    .option('--reports <dir>', `reports directory (default ${DEFAULTS.reportsDir})`)
    .option('--force', 'delete even if a run holds the cluster lock')
    .action(async (opts: DownOptions) => {
      await down(opts);
    });
}
