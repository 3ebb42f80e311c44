/**
 * What a counter verdict says: the key figure, the delta table, the failure paragraphs with
 * expected/actual and hints, and how it cites the two snapshots of each node. The verdict
 * logic itself is in expectations-counters.test.ts; this file pins the words a person reads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CounterRow,
  type CounterWindow,
  counterFigure,
  expectCountersFlat,
  expectCountersRise,
  renderCounterTable,
} from '../../support/expectations/counters.ts';
import { cite, citeAll, listSome, plural } from '../../support/expectations/evidence-ref.ts';
import { parseIptablesSave } from '../../support/parsers/iptables.ts';
import type { RequestOutcome } from '../../support/probes/traffic.ts';
import { thrown } from './helpers/thrown.ts';

const NAT = (sep: number, svc = 0) =>
  [
    '*nat',
    `[${svc}:0] -A KUBE-SERVICES -d 10.96.94.95/32 -p tcp -m comment --comment "default/echo:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-ZJMBFACUQCTMIK2C`,
    '[0:0] -A KUBE-SVC-ZJMBFACUQCTMIK2C -m comment --comment "default/echo:http -> 10.244.0.20:80" -j KUBE-SEP-GKX2UC7VFHO7SJQN',
    `[${sep}:0] -A KUBE-SEP-GKX2UC7VFHO7SJQN -p tcp -m comment --comment "default/echo:http" -m tcp -j DNAT --to-destination 10.244.0.20:80`,
    'COMMIT',
    '',
  ].join('\n');

const ok: RequestOutcome = {
  seq: 1,
  ok: true,
  httpStatus: 200,
  answeredBy: 'echo-a',
  clientSeen: null,
  error: null,
  detail: 'pod=echo-a',
  localPort: 40001,
  exitCode: 0,
};

function snap(node: string, text: string, attachment?: string) {
  return {
    kind: 'iptables',
    where: `node ${node}`,
    commands: [],
    raw: text,
    data: parseIptablesSave(text),
    summary: 'nat',
    ...(attachment ? { attachment } : {}),
  };
}

function win(before: string, after: string, o: Partial<CounterWindow> = {}): CounterWindow {
  return {
    before: new Map([['w1', parseIptablesSave(before)]]),
    after: new Map([['w1', parseIptablesSave(after)]]),
    service: { namespace: 'default', name: 'echo', portName: 'http' },
    nodes: ['w1'],
    traffic: [ok],
    ...o,
  };
}

const SVC_JUMP = 'KUBE-SERVICES → KUBE-SVC-ZJMBFACUQCTMIK2C (default/echo:http cluster IP) jump';
const SEP_DNAT = 'KUBE-SEP-GKX2UC7VFHO7SJQN (default/echo:http) DNAT';
const SNAPSHOT_HINT = 'Counter steps need the traffic step to snapshot every judged node before and after.';

test('counter verdicts cite both snapshots, one, or the node when the evidence has no attachment name', () => {
  assert.deepEqual(
    thrown(() => expectCountersFlat(win(NAT(0), NAT(0), { nodes: [] }))),
    {
      kind: 'inconclusive',
      message: 'No node was given to judge the counters on.',
    },
  );
  const noBefore = win(NAT(0), NAT(0));
  (noBefore.before as Map<string, unknown>).clear();
  (noBefore.after as Map<string, unknown>).set('w1', snap('w1', NAT(0), '07-a.txt'));
  assert.deepEqual(
    thrown(() => expectCountersFlat(noBefore)),
    {
      kind: 'inconclusive',
      message:
        'No before counter snapshot of node w1 in this window (evidence 07-a.txt), so the counters of default/echo:http there cannot be judged.',
      hint: SNAPSHOT_HINT,
    },
  );
  const noAfter = win(NAT(0), NAT(0));
  (noAfter.after as Map<string, unknown>).clear();
  (noAfter.before as Map<string, unknown>).set('w1', snap('w1', NAT(0)));
  assert.deepEqual(
    thrown(() => expectCountersFlat(noAfter)),
    {
      kind: 'inconclusive',
      message:
        'No after counter snapshot of node w1 in this window (evidence: the nat counters of node w1, before and after), so the counters of default/echo:http there cannot be judged.',
      hint: SNAPSHOT_HINT,
    },
  );
  const both = win(NAT(0), NAT(0));
  (both.before as Map<string, unknown>).set('w1', snap('w1', NAT(0), '03-b.txt'));
  (both.after as Map<string, unknown>).set('w1', snap('w1', NAT(2, 2), '07-a.txt'));
  assert.deepEqual(
    thrown(() => expectCountersFlat(both)),
    {
      kind: 'AssertionError',
      message: `Expected the KUBE-SVC/KUBE-SEP/NodePort counters of service default/echo:http to stay flat on 1 node while 1/1 request of the window succeeded, but ${SVC_JUMP} rose from 0 to 2 packets on node w1 (evidence 03-b.txt → 07-a.txt); ${SEP_DNAT} rose from 0 to 2 packets on node w1 (evidence 03-b.txt → 07-a.txt).`,
      expected: 0,
      actual: 4,
    },
  );
  const one = win(NAT(0), NAT(1));
  (one.before as Map<string, unknown>).set('w1', snap('w1', NAT(0), '03-b.txt'));
  (one.after as Map<string, unknown>).set('w1', snap('w1', NAT(1)));
  assert.deepEqual(
    thrown(() => expectCountersFlat({ ...one, which: 'sep' })),
    {
      kind: 'AssertionError',
      message: `Expected the KUBE-SEP DNAT counters of service default/echo:http to stay flat on 1 node while 1/1 request of the window succeeded, but ${SEP_DNAT} rose from 0 to 1 packet on node w1 (evidence 03-b.txt).`,
      expected: 0,
      actual: 1,
    },
  );
});

test('counter verdicts: no traffic, no rules, rewritten rules — each inconclusive with its hint', () => {
  const flatHint = 'A "stays flat" verdict needs traffic that really reached the service in the same window.';
  const timeout: RequestOutcome = { ...ok, ok: false, error: 'timeout' };
  assert.deepEqual(
    thrown(() => expectCountersFlat(win(NAT(0), NAT(0), { traffic: [timeout] }))),
    {
      kind: 'inconclusive',
      message:
        'No request of the window succeeded (0/1 request of the window succeeded), so flat counters of default/echo:http would prove nothing.',
      hint: flatHint,
    },
  );
  assert.deepEqual(
    thrown(() => expectCountersFlat(win(NAT(0), NAT(0), { traffic: [] }))),
    {
      kind: 'inconclusive',
      message:
        'No request of the window succeeded (0/0 requests of the window succeeded), so flat counters of default/echo:http would prove nothing.',
      hint: flatHint,
    },
  );
  // Batches: a bare batch, and a batch as evidence, are added up.
  const batches = win(NAT(0), NAT(0), {
    traffic: [[timeout], { kind: 'traffic', where: 'pod c', commands: [], raw: '', data: [ok, ok], summary: 's' }],
  });
  assert.equal(expectCountersFlat(batches).rows.length, 2);
  const noKubeProxy = win('*nat\nCOMMIT\n', '*nat\nCOMMIT\n');
  (noKubeProxy.after as Map<string, unknown>).set('w1', snap('w1', '*nat\n[0:0] -A X -j Y\nCOMMIT\n', '07-a.txt'));
  assert.deepEqual(
    thrown(() => expectCountersFlat(noKubeProxy)),
    {
      kind: 'inconclusive',
      message:
        "The KUBE-SVC jump counters of service default/echo:http cannot stay flat or move: node w1 has no KUBE-SERVICES chain in its nat table: kube-proxy does not run there (as with kubeProxyReplacement=true and kind's kubeProxyMode: none), so there are no kube-proxy counters to read (1 rule read) (evidence 07-a.txt). A counter step passes only where the counters exist.",
      hint: 'Under kube-proxy replacement, state what the eBPF datapath shows instead (captures, cilium monitor, cilium status).',
    },
  );
  const otherServices = '*nat\n:KUBE-SERVICES - [0:0]\n[0:0] -A X -j Y\nCOMMIT\n';
  const noRules = win(otherServices, otherServices);
  (noRules.after as Map<string, unknown>).set('w1', snap('w1', otherServices, '07-a.txt'));
  assert.deepEqual(
    thrown(() => expectCountersFlat(noRules)),
    {
      kind: 'inconclusive',
      message:
        'The nat table of node w1 holds no KUBE-SVC jump rule of service default/echo:http (1 rule read) (evidence 07-a.txt), so their counters cannot show anything: the instrument cannot see this service there.',
      hint: 'Check the service name and port name, and that kube-proxy runs on that node in iptables mode.',
    },
  );
  const withoutDnat = NAT(0).replace(/.*KUBE-SEP-GK.*DNAT.*\n/, '');
  assert.deepEqual(
    thrown(() => expectCountersFlat({ ...win(withoutDnat, NAT(0)), which: 'sep' })),
    {
      kind: 'inconclusive',
      message: `The KUBE-SEP DNAT rules of default/echo:http on node w1 changed during the window (${SEP_DNAT} not in the before snapshot): kube-proxy rewrote them, so their counters cannot be compared.`,
      hint: 'Rerun once the service has settled.',
    },
  );
});

test('rise: the shortfall over all nodes or per node, with the movement of each rule', () => {
  assert.deepEqual(
    thrown(() => expectCountersRise({ ...win(NAT(0), NAT(2, 1)), atLeast: 5, which: 'any', scope: 'sum' })),
    {
      kind: 'AssertionError',
      message: `Expected the KUBE-SVC/KUBE-SEP/NodePort counters of service default/echo:http to rise by at least 5 packets over 1 node (1/1 request of the window succeeded), but they rose by 2: on node w1 they rose by 2 (${SVC_JUMP} 0 → 1, ${SEP_DNAT} 0 → 2).`,
      expected: '≥ 5',
      actual: 2,
    },
  );
  assert.deepEqual(
    thrown(() => expectCountersRise({ ...win(NAT(0), NAT(2, 1)), atLeast: 5, which: 'svc' })),
    {
      kind: 'AssertionError',
      message: `Expected the KUBE-SVC jump counters of service default/echo:http to rise by at least 5 packets on node w1 (1/1 request of the window succeeded), but on node w1 they rose by 1 (${SVC_JUMP} 0 → 1).`,
      expected: '≥ 5',
      actual: [1],
    },
  );
  const two = win(NAT(0), NAT(1), { nodes: ['w1', 'w2'] });
  (two.before as Map<string, unknown>).set('w2', parseIptablesSave(NAT(0)));
  (two.after as Map<string, unknown>).set('w2', parseIptablesSave(NAT(0)));
  assert.match(
    thrown(() => expectCountersRise({ ...two, atLeast: 1, which: 'sep' })).message,
    /to rise by at least 1 packet on node w2 \(/,
  );
  assert.match(
    thrown(() => expectCountersRise({ ...two, atLeast: 2, which: 'sep' })).message,
    /to rise by at least 2 packets on each of 2 nodes \(.*\), but on node w1 they rose by 1 \(.*\); on node w2 they rose by 0 \(/,
  );
  const v = expectCountersRise({ ...win(NAT(0), NAT(2, 1)), atLeast: 2, which: 'any' });
  assert.equal(
    v.text,
    `node\trule\tpackets before → after\tdelta\nw1\t${SVC_JUMP}\t0 → 1\t+1\nw1\t${SEP_DNAT}\t0 → 2\t+2\n`,
  );
});

test('the key figure and the delta table', () => {
  const rows: CounterRow[] = [
    { node: 'a', kind: 'sep', label: 'L1', before: 1, after: 3, delta: 2 },
    { node: 'b', kind: 'sep', label: 'L2', before: 0, after: 0, delta: 0 },
    { node: 'a', kind: 'svc', label: 'L3', before: 5, after: 4, delta: -1 },
    { node: 'a', kind: 'nodeport', label: 'L4', before: 0, after: 1, delta: 1 },
  ];
  assert.equal(
    counterFigure(rows),
    'KUBE-SEP DNAT 1→3 on 2 nodes; KUBE-SVC jump 5→4 on 1 node; NodePort jump 0→1 on 1 node',
  );
  assert.equal(counterFigure([]), 'no watched rules');
  assert.equal(
    renderCounterTable(rows),
    'node\trule\tpackets before → after\tdelta\na\tL1\t1 → 3\t+2\nb\tL2\t0 → 0\t0\na\tL3\t5 → 4\t-1\na\tL4\t0 → 1\t+1\n',
  );
  assert.equal(renderCounterTable([]), '(no watched rules)\n');
});

test('evidence references: cite, citeAll, plural and listSome', () => {
  const named = snap('w1', NAT(0), '03-b.txt');
  const unnamed = snap('w2', NAT(0));
  assert.equal(cite(named), 'evidence 03-b.txt');
  assert.equal(cite(unnamed), 'evidence: iptables node w2');
  assert.equal(cite(parseIptablesSave(NAT(0))), '');
  assert.equal(cite(undefined), '');
  assert.equal(cite(null as never), '');
  assert.equal(cite([named] as never), '', 'a list of evidence is not evidence');
  assert.equal(citeAll(named, unnamed, named, undefined), ' (evidence 03-b.txt; evidence: iptables node w2)');
  assert.equal(citeAll(undefined, []), '');
  assert.deepEqual(
    [plural(1, 'packet'), plural(0, 'packet'), plural(2, 'reply', 'replies')],
    ['1 packet', '0 packets', '2 replies'],
  );
  assert.equal(listSome(['a', 'b', 'c'], 3), 'a, b, c');
  assert.equal(listSome(['a', 'b', 'c', 'd'], 3), 'a, b, c … and 1 more');
  assert.equal(listSome([]), '');
});
