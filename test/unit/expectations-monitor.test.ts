/**
 * Monitor expectations on the lines the lab's agent stand-in prints (Cilium's real trace
 * format; test/unit/expectations-monitor-real.test.ts holds the same checks on real fixtures).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssertionError } from 'chai';
import { InconclusiveError } from '../../support/errors.ts';
import type { CitedEvidence } from '../../support/expectations/evidence-ref.ts';
import { expectNoTranslation, expectSameNodeDelivery, expectTranslation } from '../../support/expectations/monitor.ts';
import { type MonitorEvent, parseMonitor } from '../../support/parsers/monitor.ts';

const CLIENT = '10.244.0.10';
const VIP = '10.96.94.95';
const BACKENDS = ['10.244.0.20', '10.244.1.30'];
const CLAIM = { endpoint: 1573, clientIp: CLIENT, clusterIP: VIP, port: 80, backends: BACKENDS };
const LOCAL = [{ ip: '10.244.0.20', endpoint: 2103 }];

/** Lab, local redirect on: a connection to the remote backend, one to the same-node backend. */
const TRANSLATED = `-> stack flow 0x6c1f03a2 , identity 41467->20391 state new ifindex 0 orig-ip 0.0.0.0: 10.244.0.10:40001 -> 10.244.1.30:80 tcp SYN
-> endpoint 1573 flow 0x1b7e6f40 , identity 20391->41467 state reply ifindex lxcd2a04d71301a orig-ip 10.244.1.30: 10.96.94.95:80 -> 10.244.0.10:40001 tcp SYN, ACK
-> endpoint 2103 flow 0x9a0c5d11 , identity 41467->20391 state new ifindex lxc2420d7527a95 orig-ip 10.244.0.10: 10.244.0.10:40003 -> 10.244.0.20:80 tcp SYN
-> endpoint 1573 flow 0x3d2e8b07 , identity 20391->41467 state reply ifindex lxcd2a04d71301a orig-ip 10.244.0.20: 10.96.94.95:80 -> 10.244.0.10:40003 tcp SYN, ACK
`;
/**
 * Nothing translated at tc: the SYN leaves to the stack still addressed to the ClusterIP and
 * the reply arrives already un-DNATed by the kernel. Its orig-ip (10.96.94.95) differs from
 * its destination, as on every `-> endpoint` event: that alone is no translation.
 */
const UNTRANSLATED = `-> stack flow 0x11a2b3c4 , identity 41467->world state new ifindex 0 orig-ip 0.0.0.0: 10.244.0.10:40003 -> 10.96.94.95:80 tcp SYN
-> endpoint 1573 flow 0x55aa0c3e , identity world->41467 state established ifindex lxcd2a04d71301a orig-ip 10.96.94.95: 10.96.94.95:80 -> 10.244.0.10:40003 tcp SYN, ACK
`;
/** Reverse-NATed from an address that is not a backend of the service. */
const WRONG_BACKEND = `-> endpoint 1573 flow 0x1b7e6f40 , identity 20391->41467 state reply ifindex lxcd2a04d71301a orig-ip 10.244.9.9: 10.96.94.95:80 -> 10.244.0.10:40001 tcp SYN, ACK
`;
/** Lab variant no-local-redirect: the same-node backend is reached through the stack. */
const THROUGH_STACK = `-> stack flow 0x9a0c5d11 , identity 41467->20391 state new ifindex 0 orig-ip 0.0.0.0: 10.244.0.10:40003 -> 10.244.0.20:80 tcp SYN
-> endpoint 2103 flow 0x9a0c5d11 , identity 41467->20391 state new ifindex lxc2420d7527a95 orig-ip 10.244.0.10: 10.244.0.10:40003 -> 10.244.0.20:80 tcp SYN
-> stack flow 0x2f1e0d9c , identity 20391->41467 state established ifindex 0 orig-ip 0.0.0.0: 10.244.0.20:80 -> 10.244.0.10:40003 tcp SYN, ACK
-> endpoint 1573 flow 0x3d2e8b07 , identity 20391->41467 state reply ifindex lxcd2a04d71301a orig-ip 10.244.0.20: 10.96.94.95:80 -> 10.244.0.10:40003 tcp SYN, ACK
`;

function ev(text: string): CitedEvidence<MonitorEvent[]> {
  return {
    kind: 'monitor',
    where: 'node cilium-kubeproxy-control-plane',
    commands: ['cilium-dbg monitor --type trace'],
    raw: text,
    data: parseMonitor(text).events,
    summary: 'monitor',
    attachment: '06-monitor-node-cilium-kubeproxy-control-plane.txt',
  };
}

test('translation: a reply reverse-NATed from the ClusterIP with a backend as orig-ip proves it; the forward events are cited', () => {
  const proof = expectTranslation(ev(TRANSLATED), CLAIM);
  assert.deepEqual(
    proof.map((e) => [e.observationPoint, e.endpoint, e.src?.ip, e.dst?.ip, e.origIp]),
    [
      ['to-stack', null, CLIENT, '10.244.1.30', '0.0.0.0'],
      ['to-endpoint', 2103, CLIENT, '10.244.0.20', CLIENT],
      ['to-endpoint', 1573, VIP, CLIENT, '10.244.1.30'],
      ['to-endpoint', 1573, VIP, CLIENT, '10.244.0.20'],
    ],
  );
  expectTranslation(ev(TRANSLATED), { ...CLAIM, endpoint: undefined });
});

test("translation: replies that go to another endpoint than the client's do not count", () => {
  assert.throws(
    () => expectTranslation(ev(TRANSLATED), { ...CLAIM, endpoint: 999 }),
    (err: unknown) =>
      err instanceof AssertionError && /no reply to the client is reverse-NATed from 10\.96\.94\.95/.test(err.message),
  );
});

test('translation: orig-ip ≠ destination on an untranslated reply is no translation; the message shows the untranslated SYN', () => {
  assert.throws(
    () => expectTranslation(ev(UNTRANSLATED), CLAIM),
    (err: unknown) =>
      err instanceof AssertionError &&
      /Expected cilium monitor on node cilium-kubeproxy-control-plane to show 10\.244\.0\.10 \(endpoint 1573\) → 10\.96\.94\.95:80 translated to a backend/.test(
        err.message,
      ) &&
      /passes untranslated: `-> stack flow 0x11a2b3c4 .*-> 10\.96\.94\.95:80 tcp SYN`, `-> endpoint 1573 flow 0x55aa0c3e /.test(
        err.message,
      ) &&
      /evidence 06-monitor-node-cilium-kubeproxy-control-plane\.txt/.test(err.message),
  );
});

test('translation: reverse NAT from an address that is not a backend fails, naming it', () => {
  assert.throws(
    () => expectTranslation(ev(WRONG_BACKEND), CLAIM),
    (err: unknown) =>
      err instanceof AssertionError && /orig-ip is 10\.244\.9\.9, which is not a backend/.test(err.message),
  );
});

/** Kube-proxy replacement: socket LB rewrote the destination at connect(); tc sees the backend only. */
const AT_SOCKET = `CPU 01: [pre-xlate-fwd] cgroup_id: 557 sock_cookie: 413, dst [10.96.94.95]:80 tcp
CPU 01: [post-xlate-fwd] cgroup_id: 557 sock_cookie: 413, dst [10.244.1.30]:80 tcp
-> stack flow 0x6c1f03a2 , identity 41467->20391 state new ifindex 0 orig-ip 0.0.0.0: 10.244.0.10:40001 -> 10.244.1.30:80 tcp SYN
-> endpoint 1573 flow 0x1b7e6f40 , identity 20391->41467 state established ifindex lxcd2a04d71301a orig-ip 10.244.1.30: 10.244.1.30:80 -> 10.244.0.10:40001 tcp SYN, ACK
`;

test('translation: under socket-level load balancing the failure names the socket translation events', () => {
  assert.throws(
    () => expectTranslation(ev(AT_SOCKET), CLAIM),
    (err: unknown) =>
      err instanceof AssertionError &&
      /translated at the socket before any packet existed/.test(err.message) &&
      /`CPU 01: \[pre-xlate-fwd\] cgroup_id: 557 sock_cookie: 413, dst \[10\.96\.94\.95\]:80 tcp`, `CPU 01: \[post-xlate-fwd\] .*dst \[10\.244\.1\.30\]:80 tcp`/.test(
        err.message,
      ) &&
      /evidence 06-monitor-node-cilium-kubeproxy-control-plane\.txt/.test(err.message),
  );
});

test('translation: a monitor that printed no trace event is inconclusive', () => {
  for (const text of ['', 'Listening for events on 4 CPUs with 64x4096 of shared memory\nPress Ctrl-C to quit\n']) {
    assert.throws(
      () => expectTranslation(ev(text), CLAIM),
      (err: unknown) =>
        err instanceof InconclusiveError && /printed no trace event during the window/.test(err.message),
    );
  }
});

test('no translation: passes on untranslated client traffic; fails on a reverse-NATed reply', () => {
  expectNoTranslation(ev(UNTRANSLATED), CLAIM);
  assert.throws(
    () => expectNoTranslation(ev(TRANSLATED), CLAIM),
    (err: unknown) =>
      err instanceof AssertionError &&
      /Expected no translation of 10\.244\.0\.10 → 10\.96\.94\.95:80, but cilium monitor on node cilium-kubeproxy-control-plane shows 2 replies reverse-NATed from the ClusterIP \(orig-ip 10\.244\.1\.30, 10\.244\.0\.20\)/.test(
        err.message,
      ),
  );
});

test('no translation: without any event of the client it is inconclusive (positive control)', () => {
  const other =
    '-> endpoint 388 flow 0x1 , identity 41467->20391 state new ifindex lxcc2f25b3ad380 orig-ip 10.244.1.5: 10.244.1.5:40001 -> 10.244.1.30:80 tcp SYN\n';
  assert.throws(
    () => expectNoTranslation(ev(other), CLAIM),
    (err: unknown) => err instanceof InconclusiveError && /saw none of the traffic of 10\.244\.0\.10/.test(err.message),
  );
});

test('same-node delivery: -> endpoint <backend ep> of the client connection with no -> stack of it', () => {
  const proof = expectSameNodeDelivery(ev(TRANSLATED), { clientIp: CLIENT, backends: LOCAL });
  assert.deepEqual(
    proof.map((e) => [e.endpoint, e.ifindex, e.src?.port, e.dst?.ip]),
    [[2103, 'lxc2420d7527a95', 40003, '10.244.0.20']],
  );
  expectSameNodeDelivery(ev(TRANSLATED), { clientIp: CLIENT, backends: [{ ip: '10.244.0.20' }] });
});

test('same-node delivery: fails when the connection also passed -> stack (variant no-local-redirect), citing both', () => {
  assert.throws(
    () => expectSameNodeDelivery(ev(THROUGH_STACK), { clientIp: CLIENT, backends: LOCAL }),
    (err: unknown) =>
      err instanceof AssertionError &&
      /every delivery of it \(`-> endpoint 2103 flow 0x9a0c5d11 .*\) follows a `-> stack` event of the same connection \(`-> stack flow 0x9a0c5d11 .*10\.244\.0\.10:40003 -> 10\.244\.0\.20:80 tcp SYN`\)/.test(
        err.message,
      ),
  );
});

test('same-node delivery: a delivery to another endpoint id, or only a remote backend, fails', () => {
  assert.throws(
    () => expectSameNodeDelivery(ev(TRANSLATED), { clientIp: CLIENT, backends: [{ ip: '10.244.0.20', endpoint: 7 }] }),
    (err: unknown) =>
      err instanceof AssertionError &&
      /no `-> endpoint` event delivers the client's traffic to 10\.244\.0\.20/.test(err.message),
  );
  const remoteOnly = TRANSLATED.split('\n').slice(0, 2).join('\n');
  assert.throws(
    () => expectSameNodeDelivery(ev(remoteOnly), { clientIp: CLIENT, backends: LOCAL }),
    (err: unknown) =>
      err instanceof AssertionError && /events of the client: `-> stack flow 0x6c1f03a2/.test(err.message),
  );
});
