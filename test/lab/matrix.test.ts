/**
 * The nightly mechanics on real labs (root), through the real CLI as child processes:
 * `hookpoint matrix --backend lab` over two Cilium versions gives one merged report with two
 * results per scenario and the scenario × version table; and two shard result directories merged
 * with `hookpoint report --merge` give the same scenarios and statuses as one unsharded run.
 * A tag subset keeps it short; every lab is named after this run and must be gone at the end.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { run } from '../../support/exec/index.ts';
import { readResults, type ScenarioResult } from '../../support/report/index.ts';
import { expandFeaturePaths, planScenarios } from '../../support/run/features.ts';
import { selectScenarios } from '../../support/run/run-suite.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const HOOKPOINT = [process.execPath, path.join(ROOT, 'bin/hookpoint.js')];
const TAGS = '@native-routing';
const VERSIONS = ['1.16.15', '1.17.15'];
const ID = randomBytes(2).toString('hex');
const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tmp(prefix: string): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function hookpoint(args: string[], timeoutMs = 120_000) {
  return run([...HOOKPOINT, ...args], { timeoutMs, check: false, cwd: ROOT });
}

const key = (r: ScenarioResult) => `${r.feature} / ${r.name} [${r.parameters.cilium}]`;
const verdicts = (rs: ScenarioResult[]) => rs.map((r) => `${key(r)}: ${r.status}`).sort();

test('matrix on the lab and merged shards (real labs)', { skip: !isRoot && 'needs root' }, async () => {
  const matrixDir = await tmp('hp-matrix-');
  const shardA = await tmp('hp-shard-a-');
  const shardB = await tmp('hp-shard-b-');
  const merged = await tmp('hp-merged-');
  const clusters = { matrix: `hpmx-${ID}`, a: `hpsa-${ID}`, b: `hpsb-${ID}` };
  const shard = (i: number, cluster: string, reports: string) =>
    hookpoint([
      'run',
      ...['--shard', `${i}/2`, '--tags', TAGS, '--cilium', VERSIONS[1]!],
      ...['--cluster', cluster, '--reports', reports, '--no-report'],
    ]);
  const results = (dir: string) => path.join(dir, 'allure-results');
  // Distinct names, so the matrix's two labs and the two shard labs run side by side; the shards
  // are merged while the matrix still runs.
  const [mx, [a, b, rep]] = await Promise.all([
    hookpoint(
      [
        'matrix',
        ...['--backend', 'lab', '--cilium', VERSIONS.join(','), '--tags', TAGS],
        ...['--cluster', clusters.matrix, '--reports', matrixDir, '--parallel', '2'],
      ],
      240_000,
    ),
    Promise.all([shard(1, clusters.a, shardA), shard(2, clusters.b, shardB)]).then(async ([a, b]) => [
      a,
      b,
      await hookpoint(['report', '--merge', results(shardA), results(shardB), '--out', merged]),
    ]),
  ]);
  // How many scenarios the tag subset has, from the run's own planner (what `run --list` prints).
  const n = selectScenarios(planScenarios(expandFeaturePaths(['features'], ROOT), ROOT), TAGS).length;
  assert.ok(n >= 2, `the tag subset ${TAGS} has at least two scenarios to shard, found ${n}`);

  // --- the matrix: one merged report, two results per scenario, the table, the label note.
  const summary = JSON.parse(await readFile(path.join(matrixDir, 'summary.json'), 'utf8'));
  assert.equal(summary.counts.total, 2 * n, `${mx.stdout}\n${mx.stderr}`);
  assert.equal(mx.exitCode, summary.counts.passed === 2 * n ? 0 : 1, 'exit 0 exactly when every combination passed');
  assert.deepEqual(summary.matrix.versions, VERSIONS);
  assert.equal(summary.matrix.rows.length, n);
  for (const row of summary.matrix.rows)
    for (const v of VERSIONS) assert.ok(row.cells[v], `${row.name} has a result on ${v}`);
  const md = await readFile(path.join(matrixDir, 'summary.md'), 'utf8');
  assert.match(md, /### Scenario × Cilium version/);
  assert.match(md, /\| Feature \| Scenario \| Variant \| 1\.16\.15 \| 1\.17\.15 \|/);
  assert.match(md, /Cilium version is only a label/);
  for (const v of VERSIONS) assert.match(mx.stdout, new RegExp(`^\\[c${v.replaceAll('.', '-')}\\] started: `, 'm'));
  // One Allure report over both versions, the versions as parameters, the label in its environment.
  const site = path.join(matrixDir, 'allure-report');
  assert.ok(existsSync(path.join(matrixDir, 'hookpoint-report.html')));
  const env = await readFile(path.join(site, 'widgets', 'environment.json'), 'utf8');
  assert.match(env, /1\.16\.15, 1\.17\.15 \(label only/);
  const allure = JSON.parse(await readFile(path.join(site, 'widgets', 'summary.json'), 'utf8'));
  assert.equal(allure.statistic.total, 2 * n);

  // --- shards: disjoint non-empty slices; merged, they equal one unsharded run (the matrix's 1.17.15 run).
  for (const [res, what] of [
    [a, 'shard 1/2'],
    [b, 'shard 2/2'],
  ] as const)
    assert.ok(res.exitCode === 0 || res.exitCode === 1, `${what} exited ${res.exitCode}: ${res.stderr}`);
  const sliceA = await readResults(results(shardA));
  const sliceB = await readResults(results(shardB));
  assert.ok(sliceA.length >= 1 && sliceB.length >= 1, 'both shards ran something');
  const inA = new Set(sliceA.map(key));
  assert.ok(!sliceB.some((r) => inA.has(key(r))), 'the shards are disjoint');
  assert.equal(rep.exitCode, 0, rep.stderr);
  assert.match(rep.stdout, new RegExp(`^${n} scenarios: .*\\(from 2 results directories\\)$`, 'm'));
  const unsharded = await readResults(path.join(matrixDir, 'matrix', 'c1-17-15', 'allure-results'));
  const mergedSummary = JSON.parse(await readFile(path.join(merged, 'summary.json'), 'utf8')) as {
    scenarios: Array<{ feature: string; name: string; status: string; parameters: Record<string, string> }>;
  };
  assert.deepEqual(
    mergedSummary.scenarios.map((s) => `${s.feature} / ${s.name} [${s.parameters.cilium}]: ${s.status}`).sort(),
    verdicts(unsharded),
  );
  assert.deepEqual(verdicts([...sliceA, ...sliceB]), verdicts(unsharded));

  // --- nothing left behind: no network namespace of any of the four labs.
  const netns = await run(['ip', 'netns', 'list'], { timeoutMs: 10_000 });
  for (const c of [`${clusters.matrix}-c1-16-15`, `${clusters.matrix}-c1-17-15`, clusters.a, clusters.b])
    assert.ok(!netns.stdout.includes(`hp.${c}.`), `lab ${c} was torn down`);
});
