/**
 * Counter expectations: services without a port name, rules without comments (kube-proxy drops
 * them on large services), ClusterIP services with no NodePort rules, port-name selection, reset
 * counters, and the message of a summed rise over several nodes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type CounterWindow,
  expectCountersFlat,
  expectCountersRise,
  ruleLabel,
} from '../../support/expectations/counters.ts';
import type { CitedEvidence } from '../../support/expectations/evidence-ref.ts';
import { type IptablesDump, parseIptablesSave } from '../../support/parsers/iptables.ts';
import { type Counts, CP, ECHO, natText, snap, traffic, WORKER, window } from './helpers/counter-window.ts';
import { thrown } from './helpers/thrown.ts';

/** A ClusterIP service: the same table without the KUBE-NODEPORTS jump. */
const clusterIpOnly = (c: Counts = {}): string => natText(c).replace(/^.*-A KUBE-NODEPORTS -p tcp.*\n/m, '');

function cited(node: string, raw: string): CitedEvidence<IptablesDump> {
  return { ...snap(node), raw, data: parseIptablesSave(raw) };
}

test('a service without a port name is named namespace/name in messages', () => {
  const w: CounterWindow = {
    before: new Map([[WORKER, snap(WORKER)]]),
    after: new Map([[WORKER, snap(WORKER)]]),
    service: { namespace: 'default', name: 'echo' },
    nodes: [WORKER],
    traffic: traffic(0, 3),
  };
  const err = thrown(() => expectCountersFlat(w));
  assert.equal(err.kind, 'inconclusive');
  assert.match(err.message, /so flat counters of default\/echo would prove nothing/);
});

test('a rule without a comment is labelled by its chain alone', () => {
  const dump = parseIptablesSave(
    '*nat\n:KUBE-SEP-GKX2UC7VFHO7SJQN - [0:0]\n[3:180] -A KUBE-SEP-GKX2UC7VFHO7SJQN -p tcp -m tcp -j DNAT --to-destination 10.244.0.20:80\nCOMMIT\n',
  );
  const rule = dump.chains.flatMap((c) => c.rules).find((r) => r.target === 'DNAT')!;
  assert.equal(ruleLabel(rule, 'sep'), 'KUBE-SEP-GKX2UC7VFHO7SJQN DNAT');
});

test('the counters of another port of the service do not count for the port named', () => {
  const w = window({ [WORKER]: {} }, { [WORKER]: { sepA: 3, svc: 3 } });
  const err = thrown(() =>
    expectCountersRise({ ...w, service: { ...ECHO, portName: 'metrics' }, atLeast: 1, which: 'sep' }),
  );
  assert.equal(err.kind, 'AssertionError');
  assert.match(err.message, /has no KUBE-SEP DNAT rule of default\/echo:metrics/);
  expectCountersRise({ ...w, atLeast: 3, which: 'sep' });
});

test('a ClusterIP service (no NodePort rules) can stay flat on all its counters', () => {
  const w: CounterWindow = {
    before: new Map([[WORKER, cited(WORKER, clusterIpOnly({ sepA: 1, svc: 1 }))]]),
    after: new Map([[WORKER, cited(WORKER, clusterIpOnly({ sepA: 1, svc: 1 }))]]),
    service: ECHO,
    nodes: [WORKER],
    traffic: traffic(4),
  };
  const v = expectCountersFlat(w);
  assert.deepEqual([...new Set(v.rows.map((r) => r.kind))].sort(), ['sep', 'svc']);
  // Asked for its NodePort counters explicitly, there is nothing to see: inconclusive, not a pass.
  const err = thrown(() => expectCountersFlat({ ...w, which: 'nodeport' }));
  assert.equal(err.kind, 'inconclusive');
  assert.match(err.message, /holds no NodePort jump rule of service default\/echo:http/);
});

test('a counter reset during the window is inconclusive, with the advice to rerun once settled', () => {
  const w = window({ [WORKER]: { sepA: 5, svc: 5 } }, { [WORKER]: { sepA: 2, svc: 2 } });
  const err = thrown(() => expectCountersFlat({ ...w, which: 'sep' }));
  assert.equal(err.kind, 'inconclusive');
  assert.match(err.message, /was reset \(from 5 to 2 packets\)/);
  assert.equal(err.hint, 'Rerun once the service has settled.');
});

test('a summed rise that falls short lists every node, separated', () => {
  const w = window({ [CP]: {}, [WORKER]: {} }, { [CP]: { sepA: 1 }, [WORKER]: { sepB: 1 } });
  const err = thrown(() => expectCountersRise({ ...w, atLeast: 5, which: 'sep', scope: 'sum' }));
  assert.equal(err.kind, 'AssertionError');
  assert.match(
    err.message,
    /but they rose by 2: on node cilium-kubeproxy-control-plane they rose by 1 \(.*\); on node cilium-kubeproxy-worker they rose by 1/,
  );
});
