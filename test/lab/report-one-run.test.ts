/**
 * One run, one report, on the lab (root): Ctrl-C during a run's traffic leaves every output in
 * reports/ rendered from the interrupted run's partial results — summary, JUnit, the results'
 * environment, the Allure site, the single file and the transcripts all name the same run, and
 * none of the previous run's outputs is left beside them.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { spawnBackground } from '../../support/exec/index.ts';
import { BIN, cli, REPO, scenario, tempDir, writeFeature } from '../unit/helpers/hardening.ts';
import { oneRunId, runIdsOf } from '../unit/helpers/run-ids.ts';

const skip = process.getuid?.() !== 0 && 'the lab needs root';
const dir = tempDir('one-run-lab');
const cluster = `hprun${process.pid % 10000}`;
after(async () => {
  await cli(['lab', 'down', '--cluster', cluster], { timeoutMs: 60_000 });
  rmSync(dir, { recursive: true, force: true });
});

const SHORT = `When pod "client" sends 3 HTTP requests to service "echo"
Then all 3 requests succeed`;
const LONG = `When pod "client" sends 3000 HTTP requests to service "echo"
Then all 3000 requests succeed`;

test('Ctrl-C during traffic: every output names the interrupted run, rendered from its partial results', {
  skip,
}, async () => {
  const reports = path.join(dir, 'reports');
  // A previous, complete run in the same reports directory.
  const first = await cli(
    [
      'run',
      writeFeature(dir, 'short.feature', scenario(SHORT)),
      '--backend',
      'lab',
      '--cluster',
      cluster,
      '--reports',
      reports,
    ],
    {
      timeoutMs: 240_000,
    },
  );
  assert.equal(first.exitCode, 0, first.stdout.slice(-1500) + first.stderr);
  const previous = oneRunId(reports);
  const before = new Set(readdirSync(path.join(reports, 'allure-results')));

  const feature = writeFeature(
    dir,
    'long.feature',
    `${scenario(SHORT)}\n  Scenario: long\n${LONG.split('\n')
      .map((l) => `    ${l}`)
      .join('\n')}\n`,
  );
  const child = spawnBackground(
    [process.execPath, BIN, 'run', feature, '--backend', 'lab', '--cluster', cluster, '--reports', reports],
    {
      maxMs: 240_000,
      cwd: REPO,
      where: 'test',
    },
  );
  try {
    // The first scenario of this run is done (a result file the previous run did not write) and
    // the long one is sending traffic.
    const results = path.join(reports, 'allure-results');
    const deadline = Date.now() + 120_000;
    for (;;) {
      let fresh = 0;
      try {
        fresh = readdirSync(results).filter((f) => f.endsWith('-result.json') && !before.has(f)).length;
      } catch {}
      if (fresh >= 1) break;
      assert.ok(Date.now() < deadline, `no scenario finished:\n${child.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1500));
    process.kill(child.pid!, 'SIGINT');
    const code = await child.exited;
    assert.equal(code, 130, child.output());
  } finally {
    if (child.running()) await child.stop();
  }
  const id = oneRunId(reports);
  assert.notEqual(id, previous, 'the outputs name the interrupted run, not the one before');
  const ids = runIdsOf(reports);
  for (const k of [
    'summary.md',
    'summary.json',
    'junit.xml',
    'allure-results/environment.properties',
    'allure-report',
    'hookpoint-report.html',
  ])
    assert.equal(ids[k], id, `${k} is missing or names another run: ${JSON.stringify(ids)}`);
  const md = readFileSync(path.join(reports, 'summary.md'), 'utf8');
  assert.match(md, /Interrupted/);
  assert.match(md.split('\n')[0]!, /lab backend, a kernel reproduction/);
});
