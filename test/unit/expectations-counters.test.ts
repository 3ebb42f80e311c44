import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssertionError } from 'chai';
import { InconclusiveError } from '../../support/errors.ts';
import { type CounterWindow, expectCountersFlat, expectCountersRise } from '../../support/expectations/counters.ts';
import { parseIptablesSave } from '../../support/parsers/iptables.ts';
import { CP, natText, outcome, traffic, WORKER, window } from './helpers/counter-window.ts';
import { realWorld } from './helpers/real-world.ts';

test('flat: passes when the service rules are present, traffic succeeded and nothing moved', () => {
  const v = expectCountersFlat(window({ [CP]: { sepA: 3 }, [WORKER]: {} }, { [CP]: { sepA: 3 }, [WORKER]: {} }));
  // 2 nodes × (1 svc jump + 2 SEP DNAT + 1 NodePort jump)
  assert.equal(v.rows.length, 8);
  assert.ok(v.rows.every((r) => r.delta === 0));
  assert.match(v.text, /KUBE-SEP-GKX2UC7VFHO7SJQN \(default\/echo:http\) DNAT\t3 → 3\t0/);
});

test('flat: a KUBE-SEP DNAT that rose fails, naming the rule, the service, the node and the evidence', () => {
  const w = window({ [CP]: {}, [WORKER]: {} }, { [CP]: {}, [WORKER]: { sepA: 3, svc: 3 } });
  assert.throws(
    () => expectCountersFlat({ ...w, which: 'sep' }),
    (err: unknown) => {
      assert.ok(err instanceof AssertionError, 'a datapath mismatch is an AssertionError');
      assert.ok(!(err instanceof InconclusiveError));
      const m = (err as Error).message;
      assert.match(
        m,
        /KUBE-SEP-GKX2UC7VFHO7SJQN \(default\/echo:http\) DNAT rose from 0 to 3 packets on node cilium-kubeproxy-worker \(evidence \d+-iptables-worker\.txt → \d+-iptables-worker\.txt\)/,
      );
      assert.doesNotMatch(m, /KUBE-SVC/, "which: 'sep' judges the SEP rules only");
      assert.match(m, /10\/10 requests of the window succeeded/);
      return true;
    },
  );
});

test('flat: the KUBE-SERVICES → KUBE-SVC jump rising fails under which "any"', () => {
  const w = window({ [CP]: {} }, { [CP]: { svc: 6 } });
  assert.throws(
    () => expectCountersFlat(w),
    (err: unknown) =>
      err instanceof AssertionError &&
      /KUBE-SERVICES → KUBE-SVC-ZJMBFACUQCTMIK2C \(default\/echo:http cluster IP\) jump rose from 0 to 6 packets on node cilium-kubeproxy-control-plane/.test(
        err.message,
      ),
  );
});

test('flat: no successful request in the window is inconclusive, not a pass', () => {
  const w = window({ [CP]: {} }, { [CP]: {} });
  w.traffic = traffic(0, 10);
  assert.throws(
    () => expectCountersFlat(w),
    (err: unknown) =>
      err instanceof InconclusiveError && /No request of the window succeeded \(0\/10/.test(err.message),
  );
});

test('flat: a table without the service rules is inconclusive and names the node and evidence', () => {
  const w = window({ [WORKER]: { withService: false } }, { [WORKER]: { withService: false } });
  assert.throws(
    () => expectCountersFlat(w),
    (err: unknown) =>
      err instanceof InconclusiveError &&
      /nat table of node cilium-kubeproxy-worker holds no KUBE-SVC jump rule of service default\/echo:http .*evidence \d+-iptables-worker\.txt/.test(
        err.message,
      ),
  );
});

test('flat without kube-proxy (kube-proxy replacement): inconclusive, naming the missing KUBE-SERVICES chain, never a pass', () => {
  const w = window({ [CP]: { kubeProxy: false } }, { [CP]: { kubeProxy: false } });
  assert.throws(
    () => expectCountersFlat(w),
    (err: unknown) =>
      err instanceof InconclusiveError &&
      /node cilium-kubeproxy-control-plane has no KUBE-SERVICES chain in its nat table: kube-proxy does not run there.*no kube-proxy counters to read.*evidence \d+-iptables-control-plane\.txt/.test(
        err.message,
      ),
  );
});

test('rise without kube-proxy: fails, naming the missing KUBE-SERVICES chain', () => {
  assert.throws(
    () =>
      expectCountersRise({
        ...window({ [WORKER]: { kubeProxy: false } }, { [WORKER]: { kubeProxy: false } }),
        atLeast: 6,
        which: 'nodeport',
      }),
    (err: unknown) =>
      err instanceof AssertionError &&
      /node cilium-kubeproxy-worker has no KUBE-SERVICES chain in its nat table/.test((err as Error).message),
  );
});

test('flat: a missing snapshot, a reset counter or rewritten rules are inconclusive', () => {
  const missing = window({ [CP]: {} }, { [CP]: {} });
  (missing.before as Map<string, unknown>).delete(CP);
  assert.throws(
    () => expectCountersFlat(missing),
    (e: unknown) =>
      e instanceof InconclusiveError &&
      /No before counter snapshot of node cilium-kubeproxy-control-plane/.test((e as Error).message),
  );

  const reset = window({ [CP]: { sepA: 5 } }, { [CP]: { sepA: 0 } });
  assert.throws(
    () => expectCountersFlat(reset),
    (e: unknown) => e instanceof InconclusiveError && /reset \(from 5 to 0 packets\)/.test((e as Error).message),
  );

  const appeared = window({ [CP]: { withService: false } }, { [CP]: {} });
  assert.throws(
    () => expectCountersFlat(appeared),
    (e: unknown) => e instanceof InconclusiveError && /changed during the window/.test((e as Error).message),
  );
});

test('flat: a rise of a single packet fails (one connection is a rise)', () => {
  for (const which of ['sep', 'svc', 'nodeport', 'any'] as const) {
    const rise = which === 'sep' ? { sepB: 1 } : which === 'svc' ? { svc: 1 } : { nodePort: 1 };
    const w = window({ [CP]: {} }, { [CP]: rise });
    assert.throws(
      () => expectCountersFlat({ ...w, which }),
      (err: unknown) => {
        assert.ok(err instanceof AssertionError, `${which}: ${String(err)}`);
        assert.match((err as Error).message, /rose from 0 to 1 packet on node cilium-kubeproxy-control-plane/);
        const { expected, actual } = err as { expected?: unknown; actual?: unknown };
        assert.deepEqual([expected, actual], [0, 1]);
        return true;
      },
    );
  }
});

test('flat under "any": the KUBE-SEP DNAT rules are required too; NodePort jumps are not', () => {
  const noSeps = window({ [CP]: { withSeps: false } }, { [CP]: { withSeps: false } });
  assert.throws(
    () => expectCountersFlat(noSeps),
    (e: unknown) =>
      e instanceof InconclusiveError &&
      /holds no KUBE-SEP DNAT rule of service default\/echo:http/.test((e as Error).message),
  );
  const noSvc = window({ [CP]: {} }, { [CP]: {} });
  const withoutJump = natText().replace(/^.*-A KUBE-SERVICES -d 10\.96\.94\.95.*\n/m, '');
  (noSvc.after as Map<string, unknown>).set(CP, parseIptablesSave(withoutJump));
  assert.throws(
    () => expectCountersFlat(noSvc),
    (e: unknown) => e instanceof InconclusiveError && /holds no KUBE-SVC jump rule/.test((e as Error).message),
  );
  // A ClusterIP-only service has no NodePort jump: "any" still judges its other rules.
  const clusterIpOnly = natText().replace(/^.*-A KUBE-NODEPORTS .*\n/m, '');
  const w = window({ [CP]: {} }, { [CP]: {} });
  (w.before as Map<string, unknown>).set(CP, parseIptablesSave(clusterIpOnly));
  (w.after as Map<string, unknown>).set(CP, parseIptablesSave(clusterIpOnly));
  const v = expectCountersFlat(w);
  assert.deepEqual(v.rows.map((r) => r.kind).sort(), ['sep', 'sep', 'svc']);
});

test('flat and rise: a rule removed during the window is inconclusive, naming it', () => {
  for (const judge of [
    (w: CounterWindow) => expectCountersFlat({ ...w, which: 'sep' }),
    (w: CounterWindow) => expectCountersFlat(w),
    (w: CounterWindow) => expectCountersRise({ ...w, atLeast: 1, which: 'sep' }),
  ]) {
    const w = window({ [CP]: {} }, { [CP]: { withSepB: false, sepA: 4 } });
    assert.throws(
      () => judge(w),
      (e: unknown) =>
        e instanceof InconclusiveError &&
        /KUBE-SEP-7DHTXQBGUJIEXMRO \(default\/echo:http\) DNAT on node cilium-kubeproxy-control-plane was removed during the window/.test(
          (e as Error).message,
        ),
    );
  }
});

test('flat: a snapshot without counters (iptables-save without -c) is inconclusive', () => {
  const w = window({ [CP]: {} }, { [CP]: {} });
  const noCounters = natText().replace(/^\[\d+:\d+\] /gm, '');
  (w.before as Map<string, unknown>).set(CP, parseIptablesSave(noCounters));
  assert.throws(
    () => expectCountersFlat(w),
    (e: unknown) => e instanceof InconclusiveError && /no counters/.test((e as Error).message),
  );
});

test('rise: passes when the SEP DNAT counters rose by at least N on the node', () => {
  const v = expectCountersRise({
    ...window({ [WORKER]: { sepA: 1 } }, { [WORKER]: { sepA: 4, sepB: 3, nodePort: 6 } }),
    atLeast: 6,
    which: 'sep',
  });
  assert.equal(
    v.rows.reduce((n, r) => n + r.delta, 0),
    6,
  );
  expectCountersRise({ ...window({ [WORKER]: {} }, { [WORKER]: { nodePort: 6 } }), atLeast: 6, which: 'nodeport' });
  // 'any' takes the largest kind, not the sum of kinds (one connection moves all of them).
  expectCountersRise({ ...window({ [WORKER]: {} }, { [WORKER]: { svc: 3, sepA: 3 } }), atLeast: 3, which: 'any' });
  assert.throws(
    () =>
      expectCountersRise({ ...window({ [WORKER]: {} }, { [WORKER]: { svc: 3, sepA: 3 } }), atLeast: 4, which: 'any' }),
    AssertionError,
  );
});

test('rise: counters that stayed flat fail with the per-rule movement and the evidence', () => {
  assert.throws(
    () =>
      expectCountersRise({
        ...window({ [CP]: {}, [WORKER]: {} }, { [CP]: { sepA: 6 }, [WORKER]: { sepA: 1 } }),
        atLeast: 6,
        which: 'sep',
      }),
    (err: unknown) => {
      assert.ok(err instanceof AssertionError);
      const m = (err as Error).message;
      assert.match(m, /rise by at least 6 packets on node cilium-kubeproxy-worker/);
      assert.match(m, /they rose by 1 \(KUBE-SEP-GKX2UC7VFHO7SJQN \(default\/echo:http\) DNAT 0 → 1/);
      assert.match(m, /evidence \d+-iptables-worker\.txt/);
      assert.doesNotMatch(m, /on node cilium-kubeproxy-control-plane they rose/, 'the node that rose is not blamed');
      return true;
    },
  );
});

test('rise: scope "sum" adds the nodes up', () => {
  const w = window({ [CP]: {}, [WORKER]: {} }, { [CP]: { sepA: 3 }, [WORKER]: { sepB: 3 } });
  expectCountersRise({ ...w, atLeast: 6, which: 'sep', scope: 'sum' });
  assert.throws(() => expectCountersRise({ ...w, atLeast: 6, which: 'sep' }), AssertionError);
  assert.throws(() => expectCountersRise({ ...w, atLeast: 7, which: 'sep', scope: 'sum' }), /rose by 6/);
});

test('rise: a service whose rules are missing fails (nothing can rise), naming the node', () => {
  assert.throws(
    () =>
      expectCountersRise({
        ...window({ [CP]: { withService: false } }, { [CP]: { withService: false } }),
        atLeast: 1,
        which: 'sep',
      }),
    (err: unknown) =>
      err instanceof AssertionError &&
      /node cilium-kubeproxy-control-plane has no KUBE-SEP DNAT rule of default\/echo:http/.test(err.message),
  );
});

test('real-world iptables-save -c: the kube-dns SEP counters can be judged', (t) => {
  const text = realWorld(t, 'iptables-save-c-counters-kube-sep-submariner-pr1205-partial.txt');
  if (text === null) return;
  const before = parseIptablesSave(text);
  const after = parseIptablesSave(
    text.replace('[102:8638] -A KUBE-SEP-EHRALZ2IVFLIEMXK', '[110:9300] -A KUBE-SEP-EHRALZ2IVFLIEMXK'),
  );
  const w: CounterWindow = {
    before: new Map([['n1', before]]),
    after: new Map([['n1', after]]),
    service: { namespace: 'kube-system', name: 'kube-dns', portName: 'dns' },
    nodes: ['n1'],
    traffic: [outcome(true)],
  };
  expectCountersRise({ ...w, atLeast: 8, which: 'sep' });
  assert.throws(
    () => expectCountersFlat({ ...w, which: 'sep' }),
    (e: unknown) =>
      e instanceof AssertionError &&
      /KUBE-SEP-EHRALZ2IVFLIEMXK \(kube-system\/kube-dns:dns\) DNAT rose from 102 to 110 packets on node n1/.test(
        (e as Error).message,
      ),
  );
});
