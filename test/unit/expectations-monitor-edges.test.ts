/**
 * Monitor expectations on the edges of real `cilium monitor` output: verbose `CPU NN: MARK … FROM N
 * to-…:` headers (a trace with no tuple) mixed into a stream, IPv6 `orig-ip ::`, socket-LB
 * `[pre-xlate-fwd]`/`[post-xlate-fwd]` pairs interleaved with other CPUs' events, replies from a
 * service port the claim does not name, repeated deliveries of one connection, and the words a
 * user reads when a verdict fails or is inconclusive (which lines are cited, trimmed, how many).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  clientForward,
  endpointDeliveries,
  expectNoTranslation,
  expectPolicyDrop,
  expectPolicyVerdict,
  expectSameNodeDelivery,
  expectToOverlay,
  expectTranslation,
  reverseNatReplies,
  socketTranslations,
} from '../../support/expectations/monitor.ts';
import { type MonitorEvent, parseMonitorLine } from '../../support/parsers/monitor.ts';
import { thrown } from './helpers/thrown.ts';

const CLIENT = '10.244.1.56';
const CLUSTER = '10.96.211.254';
const BACKEND = '10.244.2.148';
const OTHER_BACKEND = '10.244.1.77';
const parse = (lines: string[]): MonitorEvent[] => lines.map((l) => parseMonitorLine(l));

// Verbose (`-v`) headers as Cilium prints them: the tuple is only in the layer dumps that follow.
const VERBOSE_TO_ENDPOINT =
  'CPU 02: MARK 0x2e4f8a31 FROM 2046 to-endpoint: 86 bytes (86 captured), state established, interface lxc_health, , identity host->health, orig-ip fd04::11, to endpoint 2046';
const VERBOSE_TO_STACK =
  'CPU 01: MARK 0xade976e2 FROM 3006 to-stack: 104 bytes (104 captured), state established, , identity 52663->host, orig-ip 0.0.0.0';

const reply = (sp: number, orig = BACKEND, flags = 'SYN, ACK', svcPort = 80) =>
  `-> endpoint 2927 flow 0x8e37b814 , identity 60386->22196 state reply ifindex lxc61f83227c4ba orig-ip ${orig}: ${CLUSTER}:${svcPort} -> ${CLIENT}:${sp} tcp ${flags}`;
const toStack = (sp: number, dst = BACKEND, flags = 'SYN') =>
  `-> stack flow 0xd67215a2 , identity 22196->60386 state new ifindex 0 orig-ip 0.0.0.0: ${CLIENT}:${sp} -> ${dst}:80 tcp ${flags}`;
const deliver = (sp: number, dst = BACKEND, ep = 1478, flags = 'SYN') =>
  `-> endpoint ${ep} flow 0xd67215a2 , identity 22196->60386 state new ifindex lxc9a1b2c3d4e5f orig-ip ${CLIENT}: ${CLIENT}:${sp} -> ${dst}:80 tcp ${flags}`;
const sock = (point: string, dst: string, cpu = '03', cookie = 72480) =>
  `CPU ${cpu}: [${point}] cgroup_id: 16761 sock_cookie: ${cookie}, dst [${dst}]:80 tcp`;

test('reverse NAT: an IPv6 reply whose orig-ip is :: (no address recorded) is not a reverse-NATed reply', () => {
  const v6 = parseMonitorLine(
    '-> endpoint 3459 flow 0xe6866e21 , identity 15194->323 state reply ifindex lxc84b58cbdabfe orig-ip ::: [fd00:10:96::a]:53 -> [fd00:10:244::5]:42132 udp',
  );
  assert.deepEqual(reverseNatReplies([v6], { clientIp: 'fd00:10:244::5', clusterIP: 'fd00:10:96::a', port: 53 }), []);
});

test('reverse NAT: verbose headers without a tuple in the stream are skipped, the reply is still found', () => {
  const list = parse([VERBOSE_TO_ENDPOINT, VERBOSE_TO_STACK, reply(56944)]);
  assert.deepEqual(
    reverseNatReplies(list, { clientIp: CLIENT, clusterIP: CLUSTER, port: 80 }).map((e) => e.raw),
    [reply(56944)],
  );
});

test('reverse NAT: with no port in the claim, a reply from any service port of the ClusterIP counts', () => {
  const list = parse([reply(42132, BACKEND, 'SYN, ACK', 53)]);
  assert.equal(reverseNatReplies(list, { clientIp: CLIENT, clusterIP: CLUSTER }).length, 1);
});

test('socket LB: without a port, the pre-xlate-fwd of the VIP and its post-xlate-fwd are returned (real 1.18.6 lines)', () => {
  const list = parse([sock('pre-xlate-fwd', CLUSTER), sock('post-xlate-fwd', BACKEND)]);
  assert.deepEqual(
    socketTranslations(list, CLUSTER).map((e) => e.raw),
    [sock('pre-xlate-fwd', CLUSTER), sock('post-xlate-fwd', BACKEND)],
  );
});

test("socket LB: the post-xlate-fwd paired with a VIP is the next one after it, past other CPUs' events", () => {
  const list = parse([
    sock('pre-xlate-fwd', '10.96.0.10', '01', 1001),
    sock('post-xlate-fwd', '10.244.0.3', '01', 1001),
    sock('pre-xlate-fwd', CLUSTER),
    toStack(41000, '10.244.0.3'),
    sock('pre-xlate-rev', '10.244.0.3', '01', 1001),
    sock('post-xlate-fwd', BACKEND),
  ]);
  assert.deepEqual(
    socketTranslations(list, CLUSTER, 80).map((e) => e.raw),
    [sock('pre-xlate-fwd', CLUSTER), sock('post-xlate-fwd', BACKEND)],
  );
});

test('socket LB: a pre-xlate-fwd with no post-xlate-fwd after it (capture cut) is returned alone', () => {
  const list = parse([sock('post-xlate-fwd', BACKEND), sock('pre-xlate-fwd', CLUSTER)]);
  assert.deepEqual(
    socketTranslations(list, CLUSTER, 80).map((e) => e.raw),
    [sock('pre-xlate-fwd', CLUSTER)],
  );
});

test("client forward: verbose headers without a tuple are not the client's events", () => {
  const list = parse([VERBOSE_TO_STACK, toStack(56944)]);
  assert.deepEqual(
    clientForward(list, CLIENT).map((e) => e.raw),
    [toStack(56944)],
  );
});

test('delivery: a delivery to any one of several backends is a delivery', () => {
  const list = parse([deliver(56944, BACKEND)]);
  const r = endpointDeliveries(list, { clientIp: CLIENT, backends: [{ ip: OTHER_BACKEND }, { ip: BACKEND }] });
  assert.deepEqual(
    r.direct.map((e) => e.raw),
    [deliver(56944, BACKEND)],
  );
});

test('delivery: a delivery of the client to a pod that is not a backend does not prove a same-node delivery', () => {
  const list = parse([deliver(56944, '10.244.1.200', 900)]);
  assert.deepEqual(
    thrown(() => expectSameNodeDelivery(list, { clientIp: CLIENT, backends: [{ ip: BACKEND }] })),
    {
      kind: 'AssertionError',
      message: `Expected cilium monitor to show traffic from ${CLIENT} delivered to the endpoint of ${BACKEND} without passing through the stack, but no \`-> endpoint\` event delivers the client's traffic to ${BACKEND} (events of the client: \`${deliver(56944, '10.244.1.200', 900)}\`).`,
      expected: 'a -> endpoint event to a backend',
      actual: '1 other client events',
    },
  );
});

test('delivery: stack events shared by several deliveries of one connection are cited once each', () => {
  const list = parse([
    toStack(56944, BACKEND, 'SYN'),
    deliver(56944, BACKEND, 1478, 'SYN'),
    toStack(56944, BACKEND, 'ACK'),
    deliver(56944, BACKEND, 1478, 'ACK'),
  ]);
  const claim = { clientIp: CLIENT, backends: [{ ip: BACKEND }] };
  assert.deepEqual(
    endpointDeliveries(list, claim).stack.map((e) => e.flags),
    ['SYN', 'ACK'],
  );
  assert.equal(thrown(() => expectSameNodeDelivery(list, claim)).actual, '2 -> stack events');
});

test('inconclusive messages name what the monitor could not show', () => {
  const info = parse(['Listening for events on 8 CPUs with 64x4096 of shared memory']);
  const claim = { clientIp: CLIENT, clusterIP: CLUSTER, port: 80, backends: [BACKEND] };
  assert.equal(
    thrown(() => expectTranslation(info, claim)).message,
    'cilium monitor printed no trace event during the window (1 line read), so it cannot show whether traffic was translated.',
  );
  assert.equal(
    thrown(() => expectSameNodeDelivery(info, { clientIp: CLIENT, backends: [{ ip: BACKEND }] })).message,
    'cilium monitor printed no trace event during the window (1 line read), so it cannot show how the traffic was delivered.',
  );
  assert.equal(
    thrown(() => expectPolicyVerdict(info, { srcIp: CLIENT, dstIp: BACKEND }, 'allow')).message,
    'cilium monitor printed no trace, drop or policy verdict during the window (1 line read), so it cannot show a policy verdict.',
  );
});

test('translation proof: only forward events to the proving backend are cited, not another connection reusing the port', () => {
  const list = parse([toStack(56944, BACKEND), toStack(56944, '10.244.0.9'), reply(56944)]);
  const got = expectTranslation(list, { clientIp: CLIENT, clusterIP: CLUSTER, port: 80, backends: [BACKEND] });
  assert.deepEqual(
    got.map((e) => e.raw),
    [toStack(56944, BACKEND), reply(56944)],
  );
});

test("translation failure: with no reply and no packet to the ClusterIP, the failure lists the client's events (verbose headers ignored)", () => {
  const list = parse([VERBOSE_TO_STACK, toStack(56944, BACKEND)]);
  assert.deepEqual(
    thrown(() => expectTranslation(list, { clientIp: CLIENT, clusterIP: CLUSTER, port: 80, backends: [BACKEND] })),
    {
      kind: 'AssertionError',
      message: `Expected cilium monitor to show ${CLIENT} → ${CLUSTER}:80 translated to a backend (${BACKEND}), but no reply to the client is reverse-NATed from ${CLUSTER}; events of the client: \`${toStack(56944, BACKEND)}\`.`,
      expected: `${CLIENT} → ${CLUSTER}:80 translated to a backend (${BACKEND})`,
      actual: '1 client events, 0 reverse-NATed replies from a backend',
    },
  );
});

test('translation failure at the socket: the expected/actual pair names the socket translations', () => {
  const list = parse([sock('pre-xlate-fwd', CLUSTER), sock('post-xlate-fwd', BACKEND), toStack(56944, BACKEND)]);
  const t = thrown(() =>
    expectTranslation(list, { clientIp: CLIENT, clusterIP: CLUSTER, port: 80, backends: [BACKEND] }),
  );
  assert.equal(t.expected, `${CLIENT} → ${CLUSTER}:80 translated to a backend (${BACKEND})`);
  assert.equal(t.actual, '2 socket translation events, 0 reverse-NATed replies');
});

test("no translation: the client's forward packets alone are enough positive control (verbose headers ignored)", () => {
  const list = parse([VERBOSE_TO_STACK, VERBOSE_TO_ENDPOINT, toStack(56944, CLUSTER)]);
  assert.doesNotThrow(() => expectNoTranslation(list, { clientIp: CLIENT, clusterIP: CLUSTER, port: 80 }));
});

test('no translation failure: three replies are cited in full, backquoted and without a "more" tail', () => {
  const lines = [reply(56944, BACKEND, 'SYN, ACK'), reply(56944, BACKEND, 'ACK'), reply(56944, BACKEND, 'ACK, FIN')];
  const list = parse(lines.map((l) => `    ${l}`));
  assert.equal(
    thrown(() => expectNoTranslation(list, { clientIp: CLIENT, clusterIP: CLUSTER, port: 80 })).message,
    `Expected no translation of ${CLIENT} → ${CLUSTER}:80, but cilium monitor shows 3 replies reverse-NATed from the ClusterIP (orig-ip ${BACKEND}): ${lines.map((l) => `\`${l}\``).join(', ')}.`,
  );
});

test("overlay: verbose headers without a tuple do not hide the client's overlay events", () => {
  const overlay = `-> overlay flow 0x0 , identity 22446->13837 state new ifindex cilium_vxlan orig-ip 0.0.0.0: ${CLIENT}:56944 -> 10.244.0.132:80 tcp SYN`;
  const list = parse([VERBOSE_TO_STACK, overlay]);
  assert.deepEqual(
    expectToOverlay(list, CLIENT).map((e) => e.raw),
    [overlay],
  );
});

test('policy drop: a denied drop of another source to the same destination is not the claimed drop', () => {
  const drop =
    'xx drop (Policy denied) flow 0x48357586 to endpoint 211, , identity world->15435: 172.26.50.201:60556 -> 10.0.1.185:8082 tcp SYN';
  const t = thrown(() =>
    expectPolicyDrop(parse([drop]), { srcIp: '10.0.1.20', dstIp: '10.0.1.185', dstEndpoint: 211 }),
  );
  assert.equal(
    t.message,
    `cilium monitor shows no policy denied drop from 10.0.1.20 to 10.0.1.185; it dropped other flows: \`${drop}\`.`,
  );
  assert.equal(t.actual, 'none');
});

test("policy drop: the actual of a failure is the flow's drop lines trimmed as printed", () => {
  const drop =
    'xx drop (Stale or unroutable IP) flow 0x29e44ff to endpoint 0, , identity 10977->unknown: 10.244.0.5:53 -> 10.244.1.3:41000 udp';
  const t = thrown(() => expectPolicyDrop(parse([`    ${drop}  `]), { srcIp: '10.244.0.5', dstIp: '10.244.1.3' }));
  assert.equal(t.actual, drop);
});

test('policy verdict: only verdict lines of the flow are listed, trimmed, when the action differs', () => {
  const verdict =
    'Policy verdict log: flow 0x0 local EP ID 1687, remote ID 6, proto 6, ingress, action allow, match L3-Only, 192.168.60.12:37278 -> 192.168.60.11:2379 tcp SYN';
  const drop =
    'xx drop (Policy denied) flow 0x0 to endpoint 1687, , identity host->6: 192.168.60.12:37278 -> 192.168.60.11:2379 tcp SYN';
  const t = thrown(() =>
    expectPolicyVerdict(parse([`    ${verdict}`, drop]), { srcIp: '192.168.60.12', dstIp: '192.168.60.11' }, 'deny'),
  );
  assert.deepEqual(t, {
    kind: 'AssertionError',
    message: `cilium monitor shows no policy verdict "deny" for 192.168.60.12 -> 192.168.60.11; its verdicts were: \`${verdict}\`.`,
    expected: 'action deny',
    actual: verdict,
  });
});
