/** `hookpoint diff`: status changes and changed evidence per scenario; unaffected scenarios show nothing. */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { comparable, counterTrend, diffHtml, diffMarkdown, diffResults } from '../../support/report/diff.ts';
import { parseResult } from '../../support/report/results.ts';
import { verdictStepName } from '../../support/report/verdict.ts';
import { cli, tempDir } from './helpers/hardening.ts';

const dir = tempDir('diff');
after(() => rmSync(dir, { recursive: true, force: true }));

function result(name: string, status: string, thens: Array<[string, string, string]>, params: Record<string, string>) {
  return {
    uuid: `${name}-${params.variant ?? 'base'}`.replace(/\W+/g, '-'),
    name,
    status,
    historyId: name,
    labels: [{ name: 'feature', value: 'Pod to ClusterIP is translated at tc' }],
    parameters: Object.entries(params).map(([n, v]) => ({ name: n, value: v })),
    steps: thens.map(([step, st, line]) => ({
      name: step,
      status: st,
      steps: [{ name: verdictStepName(line), status: st, steps: [] }],
    })),
  };
}

function runs(variant?: string) {
  const params = { backend: 'lab', cilium: '1.17.15', ...(variant ? { 'lab variant': variant } : {}) };
  const flat = variant
    ? [
        'And the KUBE-SVC counters stay flat',
        'failed',
        'Expected the KUBE-SVC jump counters of service default/echo to stay flat on 2 nodes while 10/10 requests succeeded, but KUBE-SVC-X rose from 0 to 10 packets on node a.',
      ]
    : ['And the KUBE-SVC counters stay flat', 'passed', 'KUBE-SVC jump 0→0 on 2 nodes'];
  return [
    result(
      'Pod to ClusterIP: counters stay flat',
      variant ? 'failed' : 'passed',
      [['Then all 10 requests succeed', 'passed', '10/10 answered by 2 backends'], flat as [string, string, string]],
      params,
    ),
    // Unaffected: absolute counter values and packet counts differ, what they say does not.
    result(
      'Node to ClusterIP goes through kube-proxy',
      'passed',
      [
        ['Then all 6 requests succeed', 'passed', '6/6 answered by 2 backends'],
        [
          'And the KUBE-SVC counters rise',
          'passed',
          variant ? 'KUBE-SVC jump 16→22 on 1 node' : 'KUBE-SVC jump 0→6 on 1 node',
        ],
        [
          'And a capture sees',
          'passed',
          variant
            ? 'capture on pod client eth0: 61 packets; destinations 10.96.0.10 ×37'
            : 'capture on pod client eth0: 60 packets; destinations 10.96.0.10 ×36',
        ],
      ],
      params,
    ),
  ].map((r) => parseResult(JSON.stringify(r), `${r.uuid}-result.json`));
}

test('a no-tc run against a normal one: the ClusterIP scenario with counters flat → rising, nothing else', () => {
  const d = diffResults(runs(), runs('no-tc'));
  assert.equal(d.worse, true);
  assert.deepEqual(
    d.scenarios.map((s) => [s.name, s.before, s.after]),
    [['Pod to ClusterIP: counters stay flat', 'passed', 'failed']],
  );
  const [change] = d.scenarios[0]!.evidence;
  assert.equal(change!.step, 'And the KUBE-SVC counters stay flat');
  assert.deepEqual(change!.counters, { before: 'flat', after: 'rising' });
  const md = diffMarkdown(d);
  assert.match(md, /counters flat → rising/);
  assert.ok(!md.includes('Node to ClusterIP'));
  assert.ok(md.endsWith('\n'));
  assert.ok(!diffHtml({ ...d, baseline: '<script>x' }).includes('<script>'));
});

test('the same run twice: nothing changed, not worse', () => {
  const d = diffResults(runs(), runs());
  assert.deepEqual(d.scenarios, []);
  assert.equal(d.worse, false);
  assert.match(diffMarkdown(d), /No scenario changed/);
});

test('comparable lines and counter trends', () => {
  assert.equal(counterTrend('KUBE-SEP DNAT 0→0 on 2 nodes'), 'flat');
  assert.equal(counterTrend('KUBE-SEP DNAT 3→9 on 1 node'), 'rising');
  assert.equal(counterTrend('… but KUBE-SVC-X rose from 0 to 10 packets'), 'rising');
  assert.equal(counterTrend('10/10 answered by 2 backends'), undefined);
  assert.equal(
    comparable('program 609 on node x: 692 instructions'),
    comparable('program 1108 on node x: 692 instructions'),
  );
  // Each run provisions its own addresses: compared as addresses, not values.
  assert.equal(comparable('default via 10.244.0.194 dev eth0'), comparable('default via 10.244.0.11 dev eth0'));
  assert.equal(
    comparable('10.244.0.11 0a:84:cf:f7:0a:41 REACHABLE'),
    comparable('10.244.0.194 0a:1a:4d:f1:d0:6b REACHABLE'),
  );
  assert.notEqual(comparable('KUBE-SVC jump 0→0'), comparable('KUBE-SVC jump 0→6'));
  // Which replicas a random pick hit is not a change: 6 requests can all land on one of two.
  assert.equal(comparable('6/6 answered by 2 backends'), comparable('6/6 answered by 1 backend'));
  assert.notEqual(comparable('6/6 answered by 1 backend'), comparable('3/6 answered by 1 backend'));
});

test('hookpoint diff: Markdown on stdout, diff.html in --out, exit 1 when worse, 2 on bad input', async () => {
  // parseResult was given file names only: write the JSON texts anew.
  const writeRun = (name: string, variant?: string) => {
    const d = path.join(dir, name, 'allure-results');
    mkdirSync(d, { recursive: true });
    for (const r of runs(variant)) writeFileSync(path.join(d, `${r.uuid}-result.json`), JSON.stringify(toJson(r)));
    return path.join(dir, name);
  };
  const base = writeRun('base');
  const cur = writeRun('no-tc', 'no-tc');
  const out = path.join(dir, 'out');
  mkdirSync(out);
  const res = await cli(['diff', base, cur, '--out', out]);
  assert.equal(res.exitCode, 1, res.stderr);
  assert.match(res.stdout, /^# Hookpoint diff: /);
  assert.match(res.stdout, /counters flat → rising/);
  assert.match(readFileSync(path.join(out, 'diff.html'), 'utf8'), /Pod to ClusterIP: counters stay flat/);
  assert.equal((await cli(['diff', base, base, '--out', out])).exitCode, 0);
  const bad = await cli(['diff', base, path.join(dir, 'nope'), '--out', out]);
  assert.equal(bad.exitCode, 2);
  assert.match(bad.stderr, /current run ".*nope" is not a directory/);
});

function toJson(r: ReturnType<typeof runs>[number]) {
  const steps = (ss: typeof r.steps): unknown[] =>
    ss.map((s) => ({
      name: s.name,
      status: s.status === 'unknown' ? undefined : s.status,
      steps: steps(s.steps),
      attachments: [],
    }));
  return {
    uuid: r.uuid,
    name: r.name,
    status: r.status,
    historyId: r.historyId,
    labels: r.labels,
    parameters: Object.entries(r.parameters).map(([name, value]) => ({ name, value })),
    steps: steps(r.steps),
  };
}
