/**
 * A real browser opens the single-file report from file:// (headless Chromium, flags from
 * ../shared/notes/toolchain.md §5) and shows scenario names, a Then step's evidence attachment and
 * its verdict, the packet-path picture at the scenario's top level (not under "Tear down"), the
 * suites grouped by feature, and the environment panel; screenshots go to reports/browser/.
 */
import assert from 'node:assert/strict';
import { access, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { run } from '../../support/exec/index.ts';
import { buildReports } from '../../support/report/index.ts';
import { HOOK_POINTS, packetPathSvg } from '../../support/report/packet-path-svg.ts';
import { findJava } from '../../support/report/render.ts';

const CHROMIUM = process.env.HOOKPOINT_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = path.join(import.meta.dirname, '..', '..');
const FIX = path.join(ROOT, 'test', 'fixtures');
const SHOTS = path.join(ROOT, 'reports', 'browser');
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

async function missing(file: string): Promise<boolean> {
  try {
    await access(file);
    return false;
  } catch {
    return true;
  }
}
let why = '';
if (await missing(CHROMIUM)) why = `${CHROMIUM} is not installed (apt-get install -y chromium)`;
else {
  try {
    await findJava();
  } catch (e) {
    why = (e as Error).message;
  }
}
// In CI a missing browser or Java fails the test instead of hiding it.
const skip = why && process.env.CI !== 'true' ? `browser check skipped: ${why}` : false;

let work = '';
let html = '';
let regressionUid = '';
const EVIDENCE = '03-iptables-node-cilium-worker.txt';
const PICTURE = '06-packet-path-scenario.svg';

const VERDICT = 'Verdict: KUBE-SEP DNAT 0→0 on 1 node';
const VERDICT_FILE = '05-verdict-iptables-nat.txt';

/**
 * A copy of the 1.17.0 run shaped like a Hookpoint run: the failing Then step carries its
 * verdict sub-step (with the verdict text attached), the packet-path picture is attached by the
 * After hook (Allure's "Tear down"), and the features sit in a folder (services/).
 */
async function resultsWithPicture(into: string): Promise<void> {
  await cp(path.join(FIX, 'allure-results-cilium-1.17.0'), into, { recursive: true });
  const svg = packetPathSvg({
    title: 'ClusterIP traffic is translated by KUBE-SERVICES — failed',
    subtitle: 'cilium 1.17.0 · kind',
    hops: HOOK_POINTS.map((point) => ({
      point,
      where: point === 'other node' || point === 'backend veth' ? 'node cilium-worker2' : 'node cilium-worker',
      observed: point === 'iptables nat' ? ['KUBE-SEP-7IQZ3XW 0 → 0 packets (flat)'] : [],
      verdict: point === 'pod eth0' ? 'seen' : point === 'iptables nat' ? 'not-seen' : 'no-evidence',
      ...(point === 'iptables nat' ? { expectation: 'contradicted' as const } : {}),
    })),
  });
  await writeFile(path.join(into, 'packet-path-0001-attachment.svg'), svg);
  await writeFile(
    path.join(into, 'verdict-0001-attachment.txt'),
    'failed: KUBE-SEP-7IQZ3XW stayed at 0 packets on node cilium-worker\n',
  );
  for (const f of (await readdir(into)).filter((n) => n.endsWith('-result.json'))) {
    const r = JSON.parse(await readFile(path.join(into, f), 'utf8'));
    r.titlePath = ['hookpoint', 'features', 'services', ...r.titlePath.slice(1)];
    if (r.status === 'failed') {
      const last = r.steps[r.steps.length - 1];
      last.steps.push({
        name: VERDICT,
        status: 'failed',
        statusDetails: { message: 'KUBE-SEP-7IQZ3XW stayed at 0 packets on node cilium-worker' },
        attachments: [],
        steps: [
          {
            name: VERDICT_FILE,
            attachments: [{ name: VERDICT_FILE, source: 'verdict-0001-attachment.txt', type: 'text/plain' }],
            start: last.stop,
            stop: last.stop,
          },
        ],
        start: last.stop,
        stop: last.stop,
      });
      // As allure-cucumberjs files an After hook's attachment: a step of the "after" fixture.
      await writeFile(
        path.join(into, `${r.uuid}-hookpoint-after-container.json`),
        JSON.stringify({
          uuid: `${r.uuid}-after`,
          children: [r.uuid],
          befores: [],
          afters: [
            {
              name: 'After',
              status: 'passed',
              steps: [
                {
                  name: PICTURE,
                  attachments: [{ name: PICTURE, source: 'packet-path-0001-attachment.svg', type: 'image/svg+xml' }],
                  start: r.stop,
                  stop: r.stop,
                },
              ],
              attachments: [],
              start: r.stop,
              stop: r.stop,
            },
          ],
        }),
      );
    }
    await writeFile(path.join(into, f), JSON.stringify(r));
  }
}

/** An embedded data file of the single-file report (`d('data/…', '<base64>')`). */
function embedded(text: string, name: string): unknown {
  const m = text.match(new RegExp(`d\\('${name.replace(/[.]/g, '\\.')}','([A-Za-z0-9+/=]+)'\\)`));
  assert.ok(m, `${name} is embedded in the single file`);
  return JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8'));
}

async function chromium(args: string[]): Promise<string> {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'hookpoint-chromium-'));
  try {
    const r = await run([CHROMIUM, ...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, ...args], {
      timeoutMs: 90_000,
      where: 'host',
      quietStdout: true,
    });
    return r.stdout;
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** The visible text of a dumped DOM (scripts and styles removed, entities kept). */
function visibleText(dom: string): string {
  const body = dom.slice(Math.max(0, dom.indexOf('<body')));
  return body
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<style[\s\S]*?<\/style>/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ');
}

const url = (hash = '') => `${pathToFileURL(html).href}${hash}`;

before(async () => {
  if (skip) return;
  work = await mkdtemp(path.join(os.tmpdir(), 'hookpoint-browser-'));
  const results = path.join(work, 'results-1.17.0');
  await resultsWithPicture(results);
  const built = await buildReports({
    resultsDirs: [path.join(FIX, 'allure-results-cilium-1.16.5'), results],
    reportsDir: path.join(work, 'reports'),
    environment: {
      backend: 'kind',
      cilium: '1.16.5 | 1.17.0',
      kubernetes: 'v1.31.2',
      kernel: '6.1.0-27-amd64',
      'iptables.mode': 'nft',
      'datapath.fingerprint': 'routing=tunnel kpr=false host-routing=legacy',
    },
  });
  html = built.singleFile!;
  // The single file embeds each test case as d('data/test-cases/<uid>.json', '<base64>').
  const text = await readFile(html, 'utf8');
  for (const m of text.matchAll(/d\('data\/test-cases\/([0-9a-f]+)\.json','([A-Za-z0-9+/=]+)'\)/g)) {
    const tc = JSON.parse(Buffer.from(m[2]!, 'base64').toString('utf8'));
    if (tc.status === 'failed' && !tc.retry) regressionUid = m[1]!;
  }
  await mkdir(SHOTS, { recursive: true });
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

test('overview from file://: the environment panel and the categories', { skip }, async () => {
  const shot = path.join(SHOTS, 'hookpoint-report-overview.png');
  const dom = await chromium(['--virtual-time-budget=8000', '--dump-dom', url()]);
  const text = visibleText(dom);
  assert.match(text, /Hookpoint datapath report/);
  assert.match(text, /14 test cases/);
  assert.match(
    text,
    /Environment backend kind cilium 1\.16\.5 \| 1\.17\.0 kubernetes v1\.31\.2 kernel 6\.1\.0-27-amd64/,
  );
  assert.match(text, /Categories .*Datapath regression 1/);
  await rm(shot, { force: true });
  await chromium(['--virtual-time-budget=8000', '--window-size=1400,1000', `--screenshot=${shot}`, url()]);
  assert.ok((await stat(shot)).size > 20_000, `screenshot ${shot} has content`);
});

test('suites page: grouped by feature, every scenario in the tree, feature text shown as text', { skip }, async () => {
  const text = visibleText(await chromium(['--virtual-time-budget=8000', '--dump-dom', url('#suites')]));
  // The top level shows the groups: the feature folder (parent suite) and the features without one.
  for (const group of ['services', 'Service translation through kube-proxy iptables'])
    assert.ok(text.includes(group), `group "${group}" shown`);
  assert.ok(text.includes('Network policy &lt;deny&gt; &amp; "quotes" | pipes'), 'feature text is shown as text');
  const tree = embedded(await readFile(html, 'utf8'), 'data/suites.json') as Node;
  type Node = { name: string; children?: Node[] };
  const leaves = (n: Node): string[] => (n.children ? n.children.flatMap(leaves) : [n.name]);
  const names = leaves(tree);
  for (const name of [
    'ClusterIP traffic is translated by KUBE-SERVICES',
    'NodePort traffic reaches the backend',
    'Hubble observes the flow',
    'Egress through the node works',
    'Socket LB bypasses iptables',
    'Flaky pod startup',
    'Denied traffic times out <script>alert(1)</script>',
  ]) {
    assert.ok(names.includes(name), `scenario "${name}" in the suites tree`);
  }
});

/**
 * A test-only copy of the report with a small script appended: once the page has rendered, it
 * opens the failed step and its attachments (as a reader would by clicking) and records
 * `document.body.innerText` — only what is actually rendered visible — in a hidden <pre>.
 */
const PROBE = `(function () {
  var record = function () {
    var pre = document.createElement('pre');
    pre.id = 'hookpoint-visible-text';
    pre.style.display = 'none';
    pre.textContent = document.body.innerText;
    document.body.appendChild(pre);
  };
  var tries = 0;
  var open = function () {
    var failed = Array.prototype.filter.call(document.querySelectorAll('.step__title_hasContent'), function (t) {
      return t.querySelector('.status-icon_status_failed');
    });
    if (!failed.length && tries++ < 50) return setTimeout(open, 100);
    failed.forEach(function (t) { t.click(); });
    setTimeout(function () {
      failed.forEach(function (t) {
        Array.prototype.forEach.call(t.parentElement.querySelectorAll('.attachment-row'), function (a) { a.click(); });
      });
      setTimeout(record, 1500);
    }, 300);
  };
  window.addEventListener('load', function () { setTimeout(open, 300); });
})();`;

test('the regression under 1.17.0 shows its evidence attachment and its packet-path picture', { skip }, async () => {
  assert.ok(regressionUid, 'the failed test case (latest attempt) is embedded in the single file');
  const hash = `#testresult/${regressionUid}`;
  // Unmodified file: the names are in the page.
  const dom = visibleText(await chromium(['--virtual-time-budget=8000', '--dump-dom', url(hash)]));
  assert.match(dom, /Failed ClusterIP traffic is translated by KUBE-SERVICES/);
  assert.ok(dom.includes(EVIDENCE) && dom.includes(PICTURE));
  // Probe copy: opened like a reader would, the evidence itself is visible.
  const probe = path.join(path.dirname(html), 'probe.html');
  const text = await readFile(html, 'utf8');
  const at = text.lastIndexOf('</body>');
  await writeFile(probe, `${text.slice(0, at)}<script>${PROBE}</script>${text.slice(at)}`);
  const probeUrl = `${pathToFileURL(probe).href}${hash}`;
  const out = await chromium(['--virtual-time-budget=10000', '--dump-dom', probeUrl]);
  const m = out.match(/<pre id="hookpoint-visible-text"[^>]*>([\s\S]*?)<\/pre>/);
  assert.ok(m, 'the probe recorded the visible text');
  const visible = m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  assert.match(visible, /Categories: Datapath regression/);
  assert.match(visible, /cilium: 1\.17\.0/);
  assert.ok(visible.includes(EVIDENCE), `evidence attachment ${EVIDENCE} visible`);
  assert.match(visible, /KUBE-SEP-7IQZ3XW\s+0\s+0\s+\+0/, 'the counter table itself is visible');
  assert.ok(visible.includes(PICTURE), `packet-path attachment ${PICTURE} visible`);
  const shot = path.join(SHOTS, 'hookpoint-report-regression.png');
  await rm(shot, { force: true });
  await chromium(['--virtual-time-budget=10000', '--window-size=1400,1800', `--screenshot=${shot}`, probeUrl]);
  assert.ok((await stat(shot)).size > 20_000, `screenshot ${shot} has content`);
});

test('the single file: packet path at the top level, verdict on the Then step, suites grouped by feature', {
  skip,
}, async () => {
  const text = await readFile(html, 'utf8');
  const tc = embedded(text, `data/test-cases/${regressionUid}.json`) as {
    testStage: {
      attachments: Array<{ name: string }>;
      steps: Array<{
        name: string;
        steps: Array<{ name: string; status: string; steps: Array<{ attachments: Array<{ name: string }> }> }>;
      }>;
    };
    afterStages: Array<{ steps: Array<{ name: string }> }>;
  };
  assert.deepEqual(
    tc.testStage.attachments.map((a) => a.name),
    [PICTURE],
    'the picture is an attachment of the scenario itself',
  );
  assert.ok(!JSON.stringify(tc.afterStages).includes(PICTURE), 'and no longer under Tear down');
  const then = tc.testStage.steps.find((s) => s.name.startsWith('Then KUBE-SEP counters rise'))!;
  const verdict = then.steps.find((s) => s.name === VERDICT)!;
  assert.equal(verdict.status, 'failed');
  assert.deepEqual(
    verdict.steps[0]!.attachments.map((a) => a.name),
    [VERDICT_FILE],
  );

  const suites = embedded(text, 'data/suites.json') as {
    children: Array<{ name: string; children?: Array<{ name: string }> }>;
  };
  const services = suites.children.find((c) => c.name === 'services');
  assert.ok(services, `a parent suite per feature folder (got ${suites.children.map((c) => c.name).join(', ')})`);
  assert.ok(services.children?.some((c) => c.name === 'Service translation through kube-proxy iptables'));

  // What a reader sees: the verdict under the Then step, the picture at the scenario's top level.
  const dom = visibleText(
    await chromium(['--virtual-time-budget=8000', '--dump-dom', url(`#testresult/${regressionUid}`)]),
  );
  assert.ok(dom.includes(VERDICT.replace('→', '→')), 'the verdict is shown');
  assert.ok(dom.includes(PICTURE));
  const suitesPage = visibleText(await chromium(['--virtual-time-budget=8000', '--dump-dom', url('#suites')]));
  assert.match(suitesPage, /services/);
});

test("the packed single file has the layout of Allure's own `generate --single-file` of the same results", {
  skip,
}, async () => {
  // Hookpoint packs hookpoint-report.html from the site (one JVM, not two); Allure's own single
  // file of the same site must embed the same files (names differ only by Allure's random uids)
  // and inline the same assets.
  const site = path.join(path.dirname(html), 'allure-report');
  const own = path.join(work, 'allure-own');
  const { allureLauncher } = await import('../../support/report/render.ts');
  await run([await allureLauncher(), 'generate', '--single-file', path.join(work, 'results-1.17.0'), '-o', own], {
    timeoutMs: 180_000,
    where: 'host',
    env: { ALLURE_NO_ANALYTICS: 'true' },
  });
  const theirs = await readFile(path.join(own, 'index.html'), 'utf8');
  const ours = await readFile(html, 'utf8');
  const shape = (text: string) => {
    const kinds = [...text.matchAll(/d\('([^']+)','/g)].map((m) => m[1]!.replace(/[0-9a-f]{8,}/g, '<uid>')).sort();
    const inlined = [...text.matchAll(/"data:([^;]+)[^,"]*;base64,([A-Za-z0-9+/=]{0,64})/g)].map(
      (m) => `${m[1]} ${m[2]}`,
    );
    return {
      loader: text.includes('window.reportDataReady = true'),
      inlined: inlined.sort(),
      kinds: [...new Set(kinds)],
    };
  };
  const a = shape(theirs);
  const b = shape(ours);
  assert.equal(b.loader, a.loader);
  assert.deepEqual(b.inlined, a.inlined, 'the same assets are inlined with the same bytes');
  // Allure's own run here had one results directory, ours two: compare the kinds of files.
  for (const k of a.kinds) assert.ok(b.kinds.includes(k), `the packed file embeds ${k} as Allure's does`);
  const siteFiles = (await readdir(site, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
  assert.equal([...ours.matchAll(/d\('/g)].length, siteFiles - 3, 'every site file but index.html and its two assets');
});
