/**
 * The seed suite on the lab, warm: total and per scenario, against a baseline that replays the
 * commands of the run's own transcript directly (same traffic, same probes, no framework).
 * Goals (issue 7): whole suite ≤ 20 s warm, total ≤ 1.3 × baseline.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type BackgroundProcess, type CommandRecord, run, spawnBackground } from '../support/exec/index.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = [process.execPath, path.join(ROOT, 'bin/hookpoint.js')];
const CLUSTER = 'hpbench';

async function suiteOnce(
  reports: string,
): Promise<{ wallMs: number; scenarios: Array<{ name: string; ms: number; status: string }> }> {
  const started = Date.now();
  const res = await run(
    [...CLI, 'run', '--backend', 'lab', '--cluster', CLUSTER, '--no-report', '--reports', reports],
    {
      timeoutMs: 300_000,
      check: false,
      cwd: ROOT,
    },
  );
  const wallMs = Date.now() - started;
  if (res.exitCode !== 0)
    throw new Error(`the seed suite did not pass (exit ${res.exitCode}):\n${res.stdout.slice(-2000)}`);
  const dir = path.join(reports, 'allure-results');
  const scenarios = [];
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('-result.json'))) {
    const r = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as {
      name: string;
      start: number;
      stop: number;
      status: string;
    };
    scenarios.push({ name: r.name, ms: r.stop - r.start, status: r.status });
  }
  return { wallMs, scenarios };
}

/** Replay a scenario transcript: foreground commands in order, background ones (captures, monitors) alive until the end. */
async function replay(records: CommandRecord[]): Promise<number> {
  const started = Date.now();
  const bg: BackgroundProcess[] = [];
  const cutoff = Math.max(...records.filter((r) => !r.background).map((r) => r.seq), 0);
  // Background records are written when they stop; start them before the foreground command they preceded.
  const ordered = [...records].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.seq - b.seq);
  for (const r of ordered) {
    if (r.background) {
      const p = spawnBackground(r.argv, { maxMs: 60_000, where: `replay ${r.where}` });
      bg.push(p);
      await p.waitFor(/./, 3000).catch(() => undefined);
    } else if (r.seq <= cutoff) {
      await run(r.argv, { timeoutMs: 60_000, check: false, where: `replay ${r.where}`, input: r.input });
    }
  }
  for (const p of bg) await p.stop();
  return Date.now() - started;
}

export async function bench(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.log('suite bench: needs root (the lab); skipped');
    return;
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'hp-bench-suite-'));
  try {
    await run([...CLI, 'lab', 'up', '--cluster', CLUSTER, '--seed-workloads'], { timeoutMs: 120_000, cwd: ROOT });
    await suiteOnce(path.join(tmp, 'warmup'));
    const measured = await suiteOnce(path.join(tmp, 'measured'));
    const tdir = path.join(tmp, 'measured', 'transcripts');
    let baselineMs = 0;
    for (const f of (await readdir(tdir)).sort()) {
      const t = JSON.parse(await readFile(path.join(tdir, f), 'utf8')) as { records: CommandRecord[] };
      baselineMs += await replay(t.records);
    }
    const inScenarios = measured.scenarios.reduce((n, s) => n + s.ms, 0);
    console.log('scenario\tms\tstatus');
    for (const s of measured.scenarios.sort((a, b) => b.ms - a.ms)) console.log(`${s.name}\t${s.ms}\t${s.status}`);
    console.log(
      `suite wall time (hookpoint run process, warm lab): ${(measured.wallMs / 1000).toFixed(2)} s  (goal ≤ 20 s)`,
    );
    console.log(`time inside scenarios: ${(inScenarios / 1000).toFixed(2)} s`);
    console.log(`baseline (replay of the run's own transcript, no framework): ${(baselineMs / 1000).toFixed(2)} s`);
    console.log(
      `ratio scenarios / baseline: ${(inScenarios / baselineMs).toFixed(2)}×  (goal ≤ 1.3×); wall / baseline: ${(measured.wallMs / baselineMs).toFixed(2)}×`,
    );
  } finally {
    await run([...CLI, 'lab', 'down', '--cluster', CLUSTER], { timeoutMs: 60_000, check: false, cwd: ROOT });
    await rm(tmp, { recursive: true, force: true });
  }
}

if (import.meta.main) await bench();
