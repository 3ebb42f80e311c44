/**
 * One run, one report: every output names the same run; a run that stops before any scenario
 * (exit 2) leaves nothing that could pass for current; summary.md fits a GitHub job summary.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { buildReports } from '../../support/report/index.ts';
import { findJava } from '../../support/report/render.ts';
import { readResults } from '../../support/report/results.ts';
import { MARKDOWN_LIMIT, summarize, summaryMarkdown } from '../../support/report/summary.ts';
import { cli, scenario, tempDir, writeFeature } from './helpers/hardening.ts';
import { oneRunId, runIdsOf } from './helpers/run-ids.ts';

const FIX = path.join(import.meta.dirname, '..', 'fixtures');
const A = path.join(FIX, 'allure-results-cilium-1.16.5');
const B = path.join(FIX, 'allure-results-cilium-1.17.0');
const dir = tempDir('one-run');
after(() => rmSync(dir, { recursive: true, force: true }));
let noJava = '';
try {
  await findJava();
} catch (e) {
  noJava = (e as Error).message;
}

/** A reports directory as a previous run left it. */
function previousRun(reports: string): void {
  mkdirSync(path.join(reports, 'allure-report', 'widgets'), { recursive: true });
  mkdirSync(path.join(reports, 'allure-results'), { recursive: true });
  mkdirSync(path.join(reports, 'transcripts'), { recursive: true });
  writeFileSync(path.join(reports, 'summary.md'), '# old\n\nRun `OLD-RUN` · started then\n');
  writeFileSync(path.join(reports, 'summary.json'), JSON.stringify({ run: { id: 'OLD-RUN' } }));
  writeFileSync(path.join(reports, 'junit.xml'), '<property name="run.id" value="OLD-RUN"/>');
  writeFileSync(path.join(reports, 'hookpoint-report.html'), '<html>old</html>');
  writeFileSync(path.join(reports, 'allure-results', 'environment.properties'), 'run.id=OLD-RUN\n');
  writeFileSync(path.join(reports, 'transcripts', 'x.json'), JSON.stringify({ run: 'OLD-RUN' }));
}

test("exit 2 before any scenario: the previous run's outputs are gone and summary.md names the run that stopped", async () => {
  const reports = path.join(dir, 'exit2');
  previousRun(reports);
  const feature = writeFeature(dir, 'undefined-step.feature', scenario('When the moon is full'));
  const res = await cli(['run', feature, '--backend', 'lab', '--reports', reports]);
  assert.equal(res.exitCode, 2, res.stderr);
  for (const gone of ['junit.xml', 'hookpoint-report.html', 'allure-report', 'allure-results', 'transcripts'])
    assert.ok(!existsSync(path.join(reports, gone)), `${gone} of the previous run is still there`);
  const id = oneRunId(reports);
  assert.notEqual(id, 'OLD-RUN');
  const md = readFileSync(path.join(reports, 'summary.md'), 'utf8');
  assert.match(md.split('\n')[0]!, new RegExp(`run ${id} stopped before any scenario ran \\(exit 2\\)`));
  assert.match(md, /Undefined step/);
  assert.ok(md.endsWith('\n'));
  assert.equal(JSON.parse(readFileSync(path.join(reports, 'summary.json'), 'utf8')).stopped.exitCode, 2);
});

test('exit 2 on a bad option value: the previous outputs are retired too', async () => {
  const reports = path.join(dir, 'badflag');
  previousRun(reports);
  const res = await cli(['run', '--backend', 'nosuch', '--reports', reports]);
  assert.equal(res.exitCode, 2, res.stderr);
  assert.ok(!existsSync(path.join(reports, 'junit.xml')));
  assert.notEqual(oneRunId(reports), 'OLD-RUN');
  assert.match(readFileSync(path.join(reports, 'summary.md'), 'utf8'), /stopped before any scenario ran \(exit 2\)/);
});

test('a report replaces every output together: all of them name the same run', { skip: noJava || false }, async () => {
  const reports = path.join(dir, 'together');
  previousRun(reports);
  const env = {
    backend: 'kind',
    cilium: '1.17.0',
    'run.id': 'RUN-42',
    'run.started': '2026-12-01T00:00:00Z',
    'run.selection': 'features (14 scenarios)',
  };
  const built = await buildReports({ resultsDirs: [A, B], reportsDir: reports, environment: env });
  assert.equal(built.run.id, 'RUN-42');
  const ids = runIdsOf(reports);
  // allure-results and transcripts belong to `hookpoint run`, not to a render: only the rendered ones count here.
  for (const k of ['summary.md', 'summary.json', 'junit.xml', 'allure-report', 'hookpoint-report.html'])
    assert.equal(ids[k], 'RUN-42', `${k}: ${JSON.stringify(ids)}`);
  const md = readFileSync(path.join(reports, 'summary.md'), 'utf8');
  assert.match(md.split('\n')[0]!, /^# Hookpoint report: kind backend, Cilium 1\.16\.5, 1\.17\.0$/);
  assert.match(md, /selection: features \(14 scenarios\)/);
});

test('summary.md: the lab is named a kernel reproduction; under 65,536 characters with a pointer when truncated', async () => {
  const results = await readResults([A, B]);
  const lab = summaryMarkdown(
    summarize(results, new Date(), {
      environment: { backend: 'lab (kernel reproduction)', 'cilium.version': '1.17.15 (label only)' },
    }),
  );
  assert.match(
    lab.split('\n')[0]!,
    /lab backend, a kernel reproduction of the datapath .* not Cilium; Cilium .*1\.17\.15.* is only a label/,
  );
  // Many scenarios with long names: the table is cut, with a pointer to the full report.
  const many = Array.from({ length: 900 }, (_, i) => ({
    ...results[0]!,
    name: `${'long scenario name '.repeat(6)}${i}`,
    historyId: String(i),
  }));
  const md = summaryMarkdown(summarize(many));
  assert.ok(md.length < MARKDOWN_LIMIT, `${md.length} characters`);
  assert.match(md, /more scenarios truncated to fit; the full report: hookpoint-report\.html/);
  assert.ok(md.endsWith('\n'));
});
