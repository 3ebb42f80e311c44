import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { EnvironmentError } from '../../support/errors.ts';
import { buildReports } from '../../support/report/index.ts';
import { findJava } from '../../support/report/render.ts';
import { skipWithoutJava as skip, tmp } from './helpers/report-setup.ts';

const FIX = path.join(import.meta.dirname, '..', 'fixtures');
const A = path.join(FIX, 'allure-results-cilium-1.16.5');
const B = path.join(FIX, 'allure-results-cilium-1.17.0');

const ENV = {
  backend: 'kind',
  cilium: '1.16.5 | 1.17.0',
  kubernetes: 'v1.31.2',
  kernel: '6.1.0-27-amd64',
  'iptables.mode': 'nft',
  'datapath.fingerprint': 'routing=tunnel kpr=false host-routing=legacy',
};

const json = async (p: string) => JSON.parse(await readFile(p, 'utf8'));

test('two consecutive reports: every artifact, categories as summary.md says, and a trend of two', {
  skip,
}, async (t) => {
  const out = await tmp();
  // A private TMPDIR, so staging copies of other test files running in parallel do not count.
  const privateTmp = await tmp();
  const cache = await tmp();
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = privateTmp;
  // A private cache, so the first report writes Allure's class archive and the later ones map it.
  const savedCache = process.env.HOOKPOINT_CACHE_DIR;
  process.env.HOOKPOINT_CACHE_DIR = cache;
  t.after(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    if (savedCache === undefined) delete process.env.HOOKPOINT_CACHE_DIR;
    else process.env.HOOKPOINT_CACHE_DIR = savedCache;
  });
  const first = await buildReports({ resultsDirs: [A, B], reportsDir: out, environment: ENV });
  assert.deepEqual(first.files.map((f) => path.relative(out, f)).sort(), [
    'allure-report',
    'hookpoint-report.html',
    'junit.xml',
    'summary.json',
    'summary.md',
  ]);
  for (const f of first.files) await stat(f);
  assert.equal(first.trend, 1);
  assert.equal((await json(path.join(out, 'allure-report/history/history-trend.json'))).length, 1);

  // Allure (Java regexes in categories.json) and summary (JS rules) agree on every category.
  const widget = await json(path.join(out, 'allure-report/widgets/categories.json'));
  const allure = Object.fromEntries(
    (widget.items as Array<{ name: string; statistic: { total: number } }>).map((i) => [i.name, i.statistic.total]),
  );
  assert.deepEqual(allure, {
    'Datapath regression': 1,
    'Inconclusive evidence': 2,
    Timeout: 2,
    Infrastructure: 2,
  });
  const env = await json(path.join(out, 'allure-report/widgets/environment.json'));
  assert.deepEqual(
    env.map((e: { name: string }) => e.name),
    [
      'backend',
      'cilium',
      'kubernetes',
      'kernel',
      'iptables.mode',
      'datapath.fingerprint',
      'run.id',
      'run.selection',
      'run.started',
    ],
  );
  const exec = await json(path.join(out, 'allure-report/widgets/executors.json'));
  assert.equal(exec[0].buildOrder, 1);

  const html = await readFile(path.join(out, 'hookpoint-report.html'), 'utf8');
  assert.match(html.slice(0, 200), /<!DOCTYPE html>/i);
  assert.ok(html.length > 500_000, 'the single file embeds the report data and scripts');
  // Opened offline from a change review: no analytics tag, in the single file or the site.
  assert.ok(!/googletagmanager|G-FVWC4GKEYS/.test(html));
  assert.ok(!/googletagmanager/.test(await readFile(path.join(out, 'allure-report/index.html'), 'utf8')));

  // The first report left Allure's class archive (whole, under its final name); every later
  // report maps it, and what they render is checked below as before.
  const archives = await readdir(cache);
  assert.equal(archives.length, 1, `one class archive: ${archives}`);
  assert.match(archives[0]!, /^allure-[\d.]+-[0-9a-f]{16}\.jsa$/);
  assert.ok((await stat(path.join(cache, archives[0]!))).size > 1_000_000);

  const second = await buildReports({ resultsDirs: [A, B], reportsDir: out, environment: ENV });
  assert.equal(second.trend, 2);
  const trend = await json(path.join(out, 'allure-report/history/history-trend.json'));
  assert.equal(trend.length, 2);
  assert.deepEqual(
    trend.map((t: { buildOrder: number; data: { total: number } }) => [t.buildOrder, t.data.total]),
    [
      [2, 14],
      [1, 14],
    ],
  );
  // Trends join comparable runs only: another selection (B alone) or another backend starts its own.
  assert.equal((await buildReports({ resultsDirs: [B], reportsDir: out, environment: ENV })).trend, 1);
  assert.equal(
    (await buildReports({ resultsDirs: [A, B], reportsDir: out, environment: { ...ENV, backend: 'lab' } })).trend,
    1,
  );
  const third = await buildReports({ resultsDirs: [A, B], reportsDir: out, environment: ENV });
  assert.equal(third.trend, 3, 'the comparable trend continues after other runs in between');
  // The inputs are never written to, and the staging copies are gone.
  assert.ok(!(await readdir(A)).includes('history'));
  assert.deepEqual(await readdir(privateTmp), []);

  const noHistory = await buildReports({ resultsDirs: [A], reportsDir: out, history: false });
  assert.equal(noHistory.trend, 1);
  assert.deepEqual(await readdir(cache), archives, 'later reports map the archive, they do not write another');
});

test('Java missing: an EnvironmentError naming the apt package, after summary and JUnit were written', async () => {
  await assert.rejects(findJava({ PATH: '/nonexistent' }), (e: unknown) => {
    return e instanceof EnvironmentError && e.paragraph().includes('apt-get install -y openjdk-17-jre-headless');
  });
  await assert.rejects(
    findJava({ JAVA_HOME: '/nonexistent/jdk', PATH: process.env.PATH }),
    (e: unknown) => e instanceof EnvironmentError && /JAVA_HOME is set to \/nonexistent\/jdk/.test(e.message),
  );
  const out = await tmp();
  const saved = { PATH: process.env.PATH, JAVA_HOME: process.env.JAVA_HOME };
  process.env.PATH = '/nonexistent';
  delete process.env.JAVA_HOME;
  try {
    await assert.rejects(buildReports({ resultsDirs: [A], reportsDir: out }), EnvironmentError);
  } finally {
    process.env.PATH = saved.PATH;
    if (saved.JAVA_HOME !== undefined) process.env.JAVA_HOME = saved.JAVA_HOME;
  }
  assert.deepEqual((await readdir(out)).sort(), ['junit.xml', 'summary.json', 'summary.md']);
});
