import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { CATEGORIES, categoriesDocument, categorize } from '../../support/report/categories.ts';
import { junitXml } from '../../support/report/junit.ts';
import { readResults, type ScenarioResult, type StepResult } from '../../support/report/results.ts';
import { firstEvidenceLine, summarize, summaryMarkdown } from '../../support/report/summary.ts';

const FIX = path.join(import.meta.dirname, '..', 'fixtures');
const A = path.join(FIX, 'allure-results-cilium-1.16.5');
const B = path.join(FIX, 'allure-results-cilium-1.17.0');

test('categories: each non-passing fixture scenario lands in exactly one, by status and message', async () => {
  const rs = await readResults([A, B]);
  const got = Object.fromEntries(
    rs.map((r) => [`${r.name.slice(0, 20)}@${r.parameters.cilium}`, categorize(r)?.id ?? r.status]),
  );
  assert.deepEqual(got, {
    'Denied traffic times@1.16.5': 'timeout',
    'Denied traffic times@1.17.0': 'timeout',
    'Egress through the n@1.16.5': 'infrastructure',
    'Egress through the n@1.17.0': 'infrastructure',
    'Flaky pod startup@1.16.5': 'passed',
    'Flaky pod startup@1.17.0': 'passed',
    'Socket LB bypasses i@1.16.5': 'skipped',
    'Socket LB bypasses i@1.17.0': 'skipped',
    'ClusterIP traffic is@1.16.5': 'passed',
    'ClusterIP traffic is@1.17.0': 'datapath-regression',
    'Hubble observes the @1.16.5': 'inconclusive',
    'Hubble observes the @1.17.0': 'inconclusive',
    'NodePort traffic rea@1.16.5': 'passed',
    'NodePort traffic rea@1.17.0': 'passed',
  });
  for (const r of rs) {
    const n = CATEGORIES.filter((c) => c.statuses.includes(r.status) && c.matches(r.message ?? '')).length;
    assert.equal(n, r.status === 'failed' || r.status === 'broken' ? 1 : 0, r.name);
  }
});

test('categories: message rules (prefixes, case, an assertion that mentions a timeout stays a regression)', () => {
  const c = (status: 'failed' | 'broken', message: string) => categorize({ status, message })?.id;
  assert.equal(c('broken', 'InconclusiveError: Inconclusive: no positive control'), 'inconclusive');
  assert.equal(c('broken', 'Inconclusive: capture saw nothing, not even the control'), 'inconclusive');
  assert.equal(c('broken', 'Error: Inconclusive: the probe timed out'), 'inconclusive');
  assert.equal(c('broken', 'Error: Timed out after 3000 ms waiting for tcpdump'), 'timeout');
  assert.equal(c('broken', 'Error: Command failed with exit code 1 on host: kind'), 'infrastructure');
  assert.equal(c('broken', 'Error: the message says it was inconclusive later'), 'infrastructure');
  assert.equal(c('failed', 'AssertionError: expected a reply but the connect timed out'), 'datapath-regression');
  const doc = categoriesDocument();
  assert.deepEqual(
    doc.map((d) => d.name),
    ['Datapath regression', 'Inconclusive evidence', 'Timeout', 'Infrastructure'],
  );
  assert.deepEqual(doc[0]!.matchedStatuses, ['failed']);
  assert.equal(doc[0]!.messageRegex, undefined);
});

test('firstEvidenceLine drops the error-class prefix and the stack', () => {
  assert.equal(
    firstEvidenceLine('AssertionError [ERR_ASSERTION]: KUBE-SEP-X rose from 0 to 3\n    at x (y.ts:1:1)'),
    'KUBE-SEP-X rose from 0 to 3',
  );
  assert.equal(firstEvidenceLine('\n\nError: boom'), 'boom');
  assert.equal(firstEvidenceLine(undefined), undefined);
});

test('summary of one run: counts, evidence for each failure, no version table', async () => {
  const s = summarize(await readResults(A));
  assert.deepEqual(s.counts, { total: 7, passed: 3, failed: 0, broken: 3, skipped: 1, retries: 4 });
  assert.equal(s.matrix, undefined);
  for (const x of s.scenarios) {
    if (x.status === 'broken') assert.ok(x.evidence && !x.evidence.startsWith('Error:'), x.name);
    else assert.equal(x.evidence, undefined);
  }
  const md = summaryMarkdown(s);
  assert.ok(!md.includes('Scenario × Cilium version'));
  assert.equal(md.split('\n').filter((l) => /^\| .* \|$/.test(l) && !l.startsWith('| Feature')).length, 7);
});

test('summary of two versions: the regression row, its evidence line and a scenario × version table', async () => {
  const s = summarize(await readResults([A, B]));
  assert.equal(s.counts.total, 14);
  assert.equal(s.counts.failed, 1);
  assert.deepEqual(s.categories, { timeout: 2, infrastructure: 2, 'datapath-regression': 1, inconclusive: 2 });
  const reg = s.scenarios.find((x) => x.status === 'failed')!;
  assert.equal(reg.category, 'datapath-regression');
  assert.equal(reg.parameters.cilium, '1.17.0');
  assert.match(reg.evidence!, /^KUBE-SEP-7IQZ3XW stayed at 0 packets on node cilium-worker/);
  assert.equal(reg.failedStep, 'Then KUBE-SEP counters rise on node worker');
  assert.deepEqual(reg.attachments, ['03-iptables-node-cilium-worker.txt']);
  assert.deepEqual(s.matrix?.versions, ['1.16.5', '1.17.0']);
  const row = s.matrix!.rows.find((r) => r.name.startsWith('ClusterIP'))!;
  assert.deepEqual(row.cells, { '1.16.5': 'passed', '1.17.0': 'failed' });
  assert.equal(row.variant, 'backend=kind');
  const md = summaryMarkdown(s);
  assert.match(md, /\| ClusterIP traffic is translated by KUBE-SERVICES \| backend=kind \| pass \| \*\*fail\*\* \|/);
  assert.match(md, /❌ \*\*failed\*\* \(1 retry\) \| Datapath regression \| KUBE-SEP-7IQZ3XW stayed at 0 packets/);
  // Feature text cannot inject HTML or break the table.
  assert.ok(!md.includes('<script>'));
  assert.ok(md.includes('&lt;script&gt;'));
  assert.ok(md.includes('Network policy &lt;deny&gt; &amp; "quotes" \\| pipes'));
  const json = JSON.parse(JSON.stringify(s));
  assert.equal(json.scenarios.length, 14);
});

test('junit.xml: one testcase per scenario, failure/error/skipped by status, escaped text, one file for merged runs', async () => {
  const xml = junitXml(await readResults([A, B]));
  const count = (re: RegExp) => (xml.match(re) ?? []).length;
  assert.equal(count(/<testcase /g), 14);
  assert.equal(count(/<failure /g), 1);
  assert.equal(count(/<error /g), 6);
  assert.equal(count(/<skipped\/>/g), 2);
  assert.equal(count(/<testsuite /g), 2);
  assert.match(xml, /<testsuites name="hookpoint" tests="14" failures="1" errors="6" skipped="2"/);
  assert.match(
    xml,
    /<testcase name="ClusterIP traffic is translated by KUBE-SERVICES \[backend=kind, cilium=1\.17\.0\]"[^>]*>\s*<properties>[\s\S]*?<failure message="KUBE-SEP-7IQZ3XW stayed at 0 packets[^"]*" type="Datapath regression">/,
  );
  assert.ok(!xml.includes('<script>'));
  assert.ok(!/&(?!amp;|lt;|gt;|quot;|apos;)/.test(xml), 'every & is an entity');
  assert.match(xml, /03-iptables-node-cilium-worker\.txt/);
});

test('summary: the failed step is the innermost failed step, with its own attachments', () => {
  const step = (name: string, status: StepResult['status'], steps: StepResult[] = [], attachments: string[] = []) => ({
    name,
    status,
    steps,
    attachments: attachments.map((a) => ({ name: a, source: `${a}-src`, type: 'text/plain' })),
  });
  const scenario: ScenarioResult = {
    uuid: 'u1',
    name: 'ClusterIP traffic is translated',
    feature: 'clusterip',
    fullName: 'clusterip: ClusterIP traffic is translated',
    status: 'failed',
    message: 'AssertionError: KUBE-SEP-7IQZ3XW stayed at 0 packets on node cilium-worker',
    parameters: {},
    labels: [],
    attachments: [],
    retries: 0,
    historyId: 'h1',
    dir: 'allure-results',
    file: 'allure-results/u1-result.json',
    steps: [
      step('Given a ClusterIP service "echo"', 'passed', [], ['01-topology.txt']),
      step('Then KUBE-SEP counters rise on node worker', 'failed', [
        step('snapshot the nat counters', 'passed', [], ['03-iptables-node-cilium-worker.txt']),
        step('judge the KUBE-SEP counters', 'failed', [], ['07-iptables-node-cilium-worker.txt']),
      ]),
      step('And the capture sees only backends', 'skipped'),
    ],
  };
  const [s] = summarize([scenario]).scenarios;
  assert.equal(s!.failedStep, 'judge the KUBE-SEP counters');
  assert.deepEqual(s!.attachments, ['07-iptables-node-cilium-worker.txt']);
});
