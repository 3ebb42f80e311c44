/**
 * Soak: `npm run soak -- N [--stop-on-failure]` runs the seed suite N times (default 20) on one lab
 * and reports how many runs passed and the spread of their wall times (min/median/max).
 *
 * The lab (`hpsoak-<pid>`) is brought up once with the seed workloads (`hookpoint lab up
 * --seed-workloads`) and every run reuses it (`hookpoint run --cluster … --no-report`), as a
 * developer's warm loop does; it is removed at the end, also after a failure or Ctrl-C. A
 * failing run prints its red scenarios with their messages (from the run's Allure results) and
 * keeps its results directory (evidence, transcripts) for the post-mortem.
 * Exit code 0 only when every run passed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { run } from '../support/exec/index.ts';
import { allureResults, labDown } from '../test/lab/helpers/lab-cli.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const BIN = path.join(REPO, 'bin', 'hookpoint.js');
const args = process.argv.slice(2);
const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 20);
const keepGoing = !args.includes('--stop-on-failure');
if (!Number.isInteger(n) || n < 1) {
  process.stderr.write(`soak: N must be a whole number ≥ 1, got "${args.join(' ')}". Usage: npm run soak -- 20\n`);
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  process.stderr.write('soak: the lab needs root (network namespaces, eBPF). Rerun as root.\n');
  process.exit(3);
}

const cluster = `hpsoak-${process.pid}`;
const hp = (argv: string[], timeoutMs: number, check = true) =>
  run([process.execPath, BIN, ...argv], { timeoutMs, where: 'host', cwd: REPO, check });

const down = () => labDown(cluster);

let stopping = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.on(sig, () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\nsoak: ${sig}, removing lab ${cluster} …\n`);
    void down().finally(() => process.exit(130));
  });

function redScenarios(reports: string): string[] {
  return allureResults(reports)
    .filter((r) => r.status !== 'passed')
    .map((r) => `${r.status} — ${r.name}: ${r.message.slice(0, 400)}`);
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const durations: number[] = [];
let passed = 0;
try {
  await hp(['lab', 'up', '--cluster', cluster, '--seed-workloads'], 120_000);
  for (let i = 1; i <= n && !stopping; i++) {
    const reports = mkdtempSync(path.join(tmpdir(), `${cluster}-`));
    try {
      const started = Date.now();
      const res = await hp(
        ['run', '--backend', 'lab', '--cluster', cluster, '--no-report', '--reports', reports],
        300_000,
        false,
      );
      const ms = Date.now() - started;
      durations.push(ms);
      const red = redScenarios(reports);
      const ok = res.exitCode === 0 && red.length === 0;
      if (ok) passed++;
      process.stdout.write(
        `run ${String(i).padStart(2)}/${n}: ${ok ? 'passed' : `FAILED (exit ${res.exitCode})`} in ${fmt(ms)}\n`,
      );
      for (const r of red) process.stdout.write(`    ${r}\n`);
      if (!ok && red.length === 0) process.stdout.write(`    ${(res.stderr || res.stdout).trim().slice(-600)}\n`);
      if (!ok && !keepGoing) break;
      if (!ok) process.stdout.write(`    evidence kept in ${reports}\n`);
      else rmSync(reports, { recursive: true, force: true });
    } catch (err) {
      rmSync(reports, { recursive: true, force: true });
      throw err;
    }
  }
} finally {
  if (!stopping) await down();
}

const sorted = [...durations].sort((a, b) => a - b);
const median =
  sorted.length === 0
    ? 0
    : sorted.length % 2
      ? sorted[(sorted.length - 1) / 2]!
      : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
process.stdout.write(
  `soak: ${passed}/${durations.length} runs passed; duration min ${fmt(sorted[0] ?? 0)}, median ${fmt(median)}, max ${fmt(sorted.at(-1) ?? 0)}\n`,
);
process.exit(passed === n ? 0 : 1);
