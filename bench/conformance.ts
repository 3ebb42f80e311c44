/**
 * `npm run conformance` end to end on a warm lab, reports included: wall time of the whole
 * command (median of 5) beside the time spent inside the scenarios, so the report's share is
 * visible. Goal (issue 22): ≤ 5 s end to end, the outputs unchanged.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from '../support/exec/index.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = [process.execPath, path.join(ROOT, 'bin/hookpoint.js')];
const CLUSTER = 'hpbench-conf';
const RUNS = 5;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * The machine's speed while the bench ran: a fixed single-threaded loop, timed (best of 3). A
 * shared VM's speed drifts (the same loop has taken from 1× to 3× its best here), so a wall time
 * is read beside it.
 */
function cpuLoopMs(): number {
  let best = Number.POSITIVE_INFINITY;
  for (let round = 0; round < 3; round++) {
    const t = performance.now();
    let x = 0;
    for (let i = 0; i < 50_000_000; i++) x = (x + i * 7) % 1_000_003;
    if (x < 0) throw new Error('unreachable');
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

async function once(reports: string): Promise<{ wallMs: number; scenariosMs: number }> {
  const started = Date.now();
  // What `npm run conformance -- --backend lab` runs (the seed suite), on the warm lab named here.
  const res = await run(
    [...CLI, 'run', '--tags', '@seed', '--backend', 'lab', '--cluster', CLUSTER, '--reports', reports],
    {
      timeoutMs: 300_000,
      check: false,
      cwd: ROOT,
    },
  );
  const wallMs = Date.now() - started;
  if (res.exitCode !== 0)
    throw new Error(`conformance did not pass (exit ${res.exitCode}):\n${res.stdout.slice(-2000)}`);
  const dir = path.join(reports, 'allure-results');
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('-result.json'))) {
    const r = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as { start: number; stop: number };
    first = Math.min(first, r.start);
    last = Math.max(last, r.stop);
  }
  return { wallMs, scenariosMs: last - first };
}

export async function bench(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('conformance bench: needs root (the lab); skipped');
    return;
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'hp-bench-conformance-'));
  try {
    await run([...CLI, 'lab', 'up', '--cluster', CLUSTER, '--seed-workloads'], { timeoutMs: 120_000, cwd: ROOT });
    const reports = path.join(tmp, 'reports');
    await once(reports); // warm-up: caches, JIT, the first report's history
    const loopBefore = cpuLoopMs();
    const samples: Array<{ wallMs: number; scenariosMs: number }> = [];
    for (let i = 0; i < RUNS; i++) samples.push(await once(reports));
    const loopAfter = cpuLoopMs();
    const wall = median(samples.map((s) => s.wallMs));
    const inside = median(samples.map((s) => s.scenariosMs));
    console.log(`runs: ${samples.map((s) => `${(s.wallMs / 1000).toFixed(2)} s`).join(', ')}`);
    console.log(
      `conformance end to end (warm lab, reports included), median of ${RUNS}: ${(wall / 1000).toFixed(2)} s  (goal ≤ 5 s)`,
    );
    console.log(`scenarios only (first start → last stop), median: ${(inside / 1000).toFixed(2)} s`);
    console.log(
      `outside the scenarios (startup, preflight, teardown, reports): ${((wall - inside) / 1000).toFixed(2)} s`,
    );
    console.log(
      `machine speed: a fixed CPU loop took ${loopBefore.toFixed(0)} ms before the runs and ${loopAfter.toFixed(0)} ms after (lower is faster; compare wall times only at similar speeds)`,
    );
  } finally {
    await run([...CLI, 'lab', 'down', '--cluster', CLUSTER], { timeoutMs: 60_000, check: false, cwd: ROOT });
    await rm(tmp, { recursive: true, force: true });
  }
}

if (import.meta.main) await bench();
