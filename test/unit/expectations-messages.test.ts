/**
 * The failure paragraphs of the traffic, route, neighbour and status verdicts, word for word, with the expected/actual pair
 * Allure shows and the hint: what a person reads when a scenario fails is part of the verdict
 * (every failure names its evidence), so a changed word is a changed contract.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CitedEvidence } from '../../support/expectations/evidence-ref.ts';
import {
  expectDefaultGateway,
  expectNeighbourMac,
  expectRouteThroughDevice,
  expectRouteVia,
} from '../../support/expectations/net.ts';
import { expectStatusField, STATUS_FIELD_OF_WORDS, statusValue } from '../../support/expectations/status.ts';
import {
  expectAllFail,
  expectAllSucceeded,
  expectAnsweredBy,
  trafficFigure,
} from '../../support/expectations/traffic.ts';
import { parseIpNeigh, parseIpRoute } from '../../support/parsers/ip.ts';
import { parseCiliumStatus } from '../../support/parsers/status.ts';
import type { RequestError, RequestOutcome } from '../../support/probes/traffic.ts';
import { realWorld } from './helpers/real-world.ts';
import { thrown } from './helpers/thrown.ts';

function o(seq: number, by: string | null, error: RequestError | null = null): RequestOutcome {
  const ok = error === null;
  return {
    seq,
    ok,
    httpStatus: ok ? 200 : null,
    answeredBy: ok ? by : null,
    clientSeen: ok ? '10.244.0.10:40001' : null,
    error,
    detail: ok ? `pod=${by} client=10.244.0.10:40001` : 'curl: (7) Failed to connect',
    localPort: 40000 + seq,
    exitCode: ok ? 0 : 7,
  };
}

function ev(data: RequestOutcome[]): CitedEvidence<RequestOutcome[]> {
  return {
    kind: 'traffic',
    where: 'pod client',
    commands: [],
    raw: '',
    data,
    summary: `${data.filter((d) => d.ok).length}/${data.length} requests to echo 10.96.94.95:80 succeeded`,
    attachment: '09-traffic-pod-client.txt',
  };
}

const EV = ' (evidence 09-traffic-pod-client.txt)';
const LABEL = '(requests to echo 10.96.94.95:80)';
const OK1 = '#1 ok HTTP 200 answered by echo-a (saw client 10.244.0.10:40001) from port 40001';

test('all succeeded: too few requests, and failed requests, each named', () => {
  assert.deepEqual(
    thrown(() => expectAllSucceeded(ev([o(1, 'a'), o(2, 'a')]), 3)),
    { kind: 'AssertionError', message: `Expected 3 requests but 2 ran ${LABEL}${EV}.`, expected: 3, actual: 2 },
  );
  assert.deepEqual(
    thrown(() => expectAllSucceeded([o(1, 'a')], 2)),
    {
      kind: 'AssertionError',
      message: 'Expected 2 requests but 1 ran (requests).',
      expected: 2,
      actual: 1,
    },
  );
  assert.deepEqual(
    thrown(() => expectAllSucceeded(ev([o(1, 'echo-a'), o(2, null, 'refused'), o(3, null, 'timeout')]), 3)),
    {
      kind: 'AssertionError',
      message: `2 of 3 requests failed ${LABEL}: #2 refused: curl: (7) Failed to connect, #3 timeout: curl: (7) Failed to connect${EV}.`,
      expected: '3 succeeded',
      actual: '1 succeeded',
    },
  );
  expectAllSucceeded(ev([o(1, 'a'), o(2, 'b')]), 2);
});

test('all fail: nothing ran is inconclusive; a success or another failure kind fails', () => {
  assert.deepEqual(
    thrown(() => expectAllFail(ev([]), 'any')),
    {
      kind: 'inconclusive',
      message: `No request ran, so no failure could be observed${EV}.`,
    },
  );
  assert.deepEqual(
    thrown(() => expectAllFail(ev([o(1, 'echo-a'), o(2, null, 'timeout')]), 'any')),
    {
      kind: 'AssertionError',
      message: `Expected every request to fail, but 1 of 2 succeeded ${LABEL}: ${OK1}${EV}.`,
      expected: 0,
      actual: 1,
    },
  );
  assert.deepEqual(
    thrown(() => expectAllFail(ev([o(1, 'echo-a')]), 'refused')),
    {
      kind: 'AssertionError',
      message: `Expected every request to fail (refused), but 1 of 1 succeeded ${LABEL}: ${OK1}${EV}.`,
      expected: 0,
      actual: 1,
    },
  );
  assert.deepEqual(
    thrown(() => expectAllFail(ev([o(1, null, 'timeout'), o(2, null, 'refused')]), 'refused')),
    {
      kind: 'AssertionError',
      message: `Expected every request to fail as connection refused, but 1 of 2 failed otherwise ${LABEL}: #1 timeout: curl: (7) Failed to connect${EV}.`,
      expected: 'refused',
      actual: 'timeout',
    },
  );
  assert.deepEqual(
    thrown(() => expectAllFail(ev([o(1, null, 'refused'), o(2, null, 'reset')]), 'timeout')),
    {
      kind: 'AssertionError',
      message: `Expected every request to fail as a timeout, but 2 of 2 failed otherwise ${LABEL}: #1 refused: curl: (7) Failed to connect, #2 reset: curl: (7) Failed to connect${EV}.`,
      expected: 'timeout',
      actual: 'refused, reset',
    },
  );
  // With a positive control (the client reached another destination) the failures pass.
  const control = { reached: ev([o(9, 'echo-other')]) };
  expectAllFail(ev([o(1, null, 'refused'), o(2, null, 'timeout')]), 'any', control);
  expectAllFail(ev([o(1, null, 'refused')]), 'refused', control);
  expectAllFail(ev([o(1, null, 'timeout')]), 'timeout', control);
  // Without one, the same failures are inconclusive.
  assert.equal(thrown(() => expectAllFail(ev([o(1, null, 'timeout')]), 'timeout')).kind, 'inconclusive');
});

test('answered by: no success, an anonymous answer, a stranger, a silent pod', () => {
  assert.deepEqual(
    thrown(() => expectAnsweredBy(ev([o(1, null, 'timeout')]), ['echo-a', 'echo-b'])),
    {
      kind: 'AssertionError',
      message: `Expected answers from echo-a, echo-b, but none of 1 request succeeded ${LABEL}${EV}.`,
    },
  );
  assert.deepEqual(
    thrown(() => expectAnsweredBy(ev([o(1, null), o(2, 'echo-a')]), ['echo-a'])),
    {
      kind: 'inconclusive',
      message: `1 of 2 successful responses do not name the pod that answered (no "pod=<name>" in the body: pod=null client=10.244.0.10:40001), so who answered cannot be judged${EV}.`,
      hint: 'The echo server must answer "pod=<name> client=<ip:port>".',
    },
  );
  assert.deepEqual(
    thrown(() => expectAnsweredBy(ev([o(1, 'echo-a'), o(2, 'other')]), ['echo-a', 'echo-b'])),
    {
      kind: 'AssertionError',
      message: `Expected every response to come from echo-a, echo-b, but 1 of 2 came from elsewhere: #2 ok HTTP 200 answered by other (saw client 10.244.0.10:40001) from port 40002${EV}.`,
      expected: ['echo-a', 'echo-b'],
      actual: ['echo-a', 'other'],
    },
  );
  assert.deepEqual(
    thrown(() => expectAnsweredBy(ev([o(1, 'echo-a'), o(2, 'echo-a')]), ['echo-a', 'echo-b'], { every: true })),
    {
      kind: 'AssertionError',
      message: `Expected each of echo-a, echo-b to answer at least once in 2 successful requests, but echo-b never did${EV}.`,
      expected: ['echo-a', 'echo-b'],
      actual: ['echo-a'],
    },
  );
  expectAnsweredBy(ev([o(1, 'echo-a'), o(2, 'echo-a')]), ['echo-a', 'echo-b']);
  expectAnsweredBy(ev([o(1, 'echo-a'), o(2, 'echo-b')]), ['echo-a', 'echo-b'], { every: true });
});

test('traffic figure: answered, by how many backends, and the failures by kind', () => {
  const unknownFailure = { ...o(5, null, 'refused'), error: null };
  assert.equal(
    trafficFigure(ev([o(1, 'echo-a'), o(2, 'echo-b'), o(3, null, 'refused'), o(4, null, 'refused'), unknownFailure])),
    '2/5 answered by 2 backends; refused ×2, other ×1',
  );
  assert.equal(trafficFigure([o(1, 'echo-a')]), '1/1 answered by 1 backend');
  assert.equal(trafficFigure([o(1, null)]), '1/1 answered');
  assert.equal(trafficFigure([]), '0/0 answered');
});

const ROUTES = parseIpRoute(
  JSON.stringify([
    { dst: '10.244.1.0/24', gateway: '172.18.0.3', dev: 'eth0', flags: [] },
    {
      dst: '10.244.2.0/24',
      dev: 'eth0',
      flags: [],
      nexthops: [
        { gateway: '172.18.0.4', dev: 'eth0', weight: 1, flags: [] },
        { gateway: '172.18.0.5', dev: 'eth0', weight: 1, flags: [] },
      ],
    },
    { dst: 'default', gateway: '172.18.0.1', dev: 'eth0', flags: [] },
  ]),
).routes;

function cited<T>(kind: string, where: string, data: T, attachment?: string): CitedEvidence<T> {
  return { kind, where, commands: [], raw: '', data, summary: kind, ...(attachment ? { attachment } : {}) };
}

test('routes: a nexthop counts as the gateway; a wrong or missing route is named with what is there', () => {
  assert.equal(expectRouteVia(ROUTES, '10.244.2.0/24', '172.18.0.5').dst, '10.244.2.0/24');
  assert.equal(expectDefaultGateway(ROUTES, '172.18.0.1').dst, 'default');
  assert.deepEqual(
    thrown(() => expectRouteVia(cited('routes', 'node cp', ROUTES, '11-routes-cp.txt'), '10.244.1.0/24', '172.18.0.9')),
    {
      kind: 'AssertionError',
      message:
        'Expected the routes of node cp to send 10.244.1.0/24 via 172.18.0.9, but the route for 10.244.1.0/24 is `10.244.1.0/24 via 172.18.0.3 dev eth0` (evidence 11-routes-cp.txt).',
      expected: '10.244.1.0/24 via 172.18.0.9',
      actual: ['10.244.1.0/24 via 172.18.0.3 dev eth0'],
    },
  );
  assert.deepEqual(
    thrown(() => expectRouteVia(cited('routes', 'node cp', ROUTES), '10.244.9.0/24', '172.18.0.9')),
    {
      kind: 'AssertionError',
      message:
        'Expected the routes of node cp to send 10.244.9.0/24 via 172.18.0.9, but there is no route for 10.244.9.0/24 (routes: `10.244.1.0/24 via 172.18.0.3 dev eth0`, `10.244.2.0/24 dev eth0 nexthop via 172.18.0.4 dev eth0 nexthop via 172.18.0.5 dev eth0`, `default via 172.18.0.1 dev eth0`) (evidence: routes node cp).',
      expected: '10.244.9.0/24 via 172.18.0.9',
      actual: [],
    },
  );
  assert.deepEqual(
    thrown(() => expectDefaultGateway(ROUTES, '172.18.0.9')),
    {
      kind: 'AssertionError',
      message:
        'Expected the routes to have its default gateway at 172.18.0.9, but the default route is `default via 172.18.0.1 dev eth0`.',
      expected: 'default via 172.18.0.9',
      actual: ['default via 172.18.0.1 dev eth0'],
    },
  );
  assert.deepEqual(
    thrown(() => expectDefaultGateway(ROUTES.slice(0, 1), '172.18.0.9')),
    {
      kind: 'AssertionError',
      message: 'Expected the routes to have its default gateway at 172.18.0.9, but there is no default route.',
      expected: 'default via 172.18.0.9',
      actual: [],
    },
  );
});

test('neighbours: a wrong MAC lists every entry of the address; no entry is inconclusive with a hint', () => {
  const neigh = parseIpNeigh(
    JSON.stringify([
      { dst: '10.244.0.26', dev: 'eth0', lladdr: '76:f0:bd:76:76:77', state: ['REACHABLE'] },
      { dst: '10.244.0.26', dev: 'eth1', state: ['FAILED'] },
    ]),
  ).neighbours;
  assert.deepEqual(
    thrown(() => expectNeighbourMac(neigh, '10.244.0.26', '02:00:00:00:00:01')),
    {
      kind: 'AssertionError',
      message:
        'Expected the neighbour table to resolve 10.244.0.26 to 02:00:00:00:00:01, but it resolves to 76:f0:bd:76:76:77 REACHABLE on eth0, no MAC FAILED on eth1.',
      expected: '02:00:00:00:00:01',
      actual: ['76:f0:bd:76:76:77', null],
    },
  );
  const hint = 'The entry appears after traffic to that address; send traffic in the scenario first.';
  assert.deepEqual(
    thrown(() => expectNeighbourMac(cited('neigh', 'pod client', neigh), '10.244.0.1', '02:00:00:00:00:01')),
    {
      kind: 'inconclusive',
      message:
        'The neighbour table of pod client has no entry for 10.244.0.1 (entries: 10.244.0.26, 10.244.0.26) (evidence: neigh pod client), so the MAC it resolves to cannot be judged.',
      hint,
    },
  );
  assert.deepEqual(
    thrown(() => expectNeighbourMac([], '10.244.0.1', '02:00:00:00:00:01')),
    {
      kind: 'inconclusive',
      message:
        'The neighbour table has no entry for 10.244.0.1 (entries: none), so the MAC it resolves to cannot be judged.',
      hint,
    },
  );
});

test('status: a field is read by path, by label, or as a mode; wrong, missing and non-agent outputs are named', () => {
  const st = parseCiliumStatus(
    [
      'KVStore:                 Disabled',
      'KubeProxyReplacement:    False',
      'Routing:                 Network: Native   Host: Legacy',
      'Masquerading:            IPTables [IPv4: Enabled, IPv6: Disabled]',
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    ['routing.network', 'routing', 'masquerading', 'KubeProxyReplacement', 'KVStore', 'nothing'].map((f) =>
      statusValue(st, f),
    ),
    ['Native', '{"network":"Native","host":"Legacy","tunnelProtocol":null}', 'IPTables', 'False', 'Disabled', null],
  );
  expectStatusField(st, 'Routing', 'Network');
  expectStatusField(st, 'routing.network', ' native ');
  assert.deepEqual(
    thrown(() => expectStatusField(st, 'KubeProxyReplacement', 'Fal')),
    {
      kind: 'AssertionError',
      message: 'Expected the agent status to report KubeProxyReplacement "Fal", but it reports "False".',
      expected: 'Fal',
      actual: 'False',
    },
  );
  assert.deepEqual(
    thrown(() => expectStatusField(cited('status', 'node cp', st, '02-status-cp.txt'), 'routing.network', 'Tunnel')),
    {
      kind: 'AssertionError',
      message:
        'Expected the agent status on node cp to report routing.network "Tunnel", but it reports "Native" (evidence 02-status-cp.txt).',
      expected: 'Tunnel',
      actual: 'Native',
    },
  );
  assert.deepEqual(
    thrown(() => expectStatusField(st, 'no.such', 'x')),
    {
      kind: 'inconclusive',
      message: 'The agent status does not report no.such; this Cilium version or install may not print it.',
    },
  );
  assert.deepEqual(
    thrown(() =>
      expectStatusField(cited('status', 'node cp', parseCiliumStatus('hello')), 'routing.network', 'Native'),
    ),
    {
      kind: 'inconclusive',
      message:
        'The status on node cp is not an agent status (unknown) (evidence: status node cp), so routing.network cannot be read.',
    },
  );
});

test('route through a device: the mtu asked for or not, the routes named with their mtu, a host address as /32', () => {
  const routes = parseIpRoute(
    JSON.stringify([
      { dst: '10.244.1.0/24', gateway: '10.244.0.1', dev: 'cilium_host', metrics: [{ mtu: 1450 }] },
      { dst: '10.244.2.0/24', gateway: '172.18.0.4', dev: 'eth0' },
      { dst: '10.244.0.5', dev: 'lxc1' },
      { dst: 'fd00::5', dev: 'lxc2' },
    ]),
  ).routes;
  assert.equal(expectRouteThroughDevice(routes, '10.244.1.0/24', 'cilium_host').mtu, 1450);
  assert.equal(expectRouteThroughDevice(routes, '10.244.0.5/32', 'lxc1').dev, 'lxc1');
  assert.equal(expectRouteThroughDevice(routes, 'fd00::5/128', 'lxc2').dev, 'lxc2');
  assert.deepEqual(
    thrown(() =>
      expectRouteThroughDevice(
        cited('routes', 'node cp', routes, '11-routes-cp.txt'),
        '10.244.1.0/24',
        'cilium_host',
        1500,
      ),
    ),
    {
      kind: 'AssertionError',
      message:
        'Expected the routes of node cp to send 10.244.1.0/24 dev cilium_host mtu 1500, but the route for 10.244.1.0/24 is `10.244.1.0/24 via 10.244.0.1 dev cilium_host mtu 1450` (evidence 11-routes-cp.txt).',
      expected: '10.244.1.0/24 dev cilium_host mtu 1500',
      actual: ['10.244.1.0/24 via 10.244.0.1 dev cilium_host'],
    },
  );
  assert.deepEqual(
    thrown(() => expectRouteThroughDevice(routes, '10.244.2.0/24', 'cilium_host')),
    {
      kind: 'AssertionError',
      message:
        'Expected the routes to send 10.244.2.0/24 dev cilium_host, but the route for 10.244.2.0/24 is `10.244.2.0/24 via 172.18.0.4 dev eth0`.',
      expected: '10.244.2.0/24 dev cilium_host',
      actual: ['10.244.2.0/24 via 172.18.0.4 dev eth0'],
    },
  );
  const many = parseIpRoute(
    JSON.stringify(Array.from({ length: 7 }, (_, i) => ({ dst: `10.0.${i}.0/24`, dev: `d${i}` }))),
  ).routes;
  assert.deepEqual(
    thrown(() => expectRouteThroughDevice(many, '10.9.0.0/24', 'cilium_host')),
    {
      kind: 'AssertionError',
      message:
        'Expected the routes to send 10.9.0.0/24 dev cilium_host, but there is no route for 10.9.0.0/24 (routes: `10.0.0.0/24 dev d0`, `10.0.1.0/24 dev d1`, `10.0.2.0/24 dev d2`, `10.0.3.0/24 dev d3`, `10.0.4.0/24 dev d4`, `10.0.5.0/24 dev d5` … and 1 more).',
      expected: '10.9.0.0/24 dev cilium_host',
      actual: [],
    },
  );
});

test('routes and neighbours: default routes of every spelling, a multipath default, a MAC compared without case', () => {
  const defaults = parseIpRoute(
    JSON.stringify([
      { dst: '0.0.0.0/0', gateway: '172.18.0.1', dev: 'eth0' },
      { dst: '::/0', nexthops: [{ gateway: 'fe80::1', dev: 'eth0' }, { dev: 'eth1' }] },
    ]),
  ).routes;
  assert.equal(expectDefaultGateway(defaults, '172.18.0.1').dst, '0.0.0.0/0');
  assert.equal(expectDefaultGateway(defaults, 'fe80::1').dst, '::/0');
  assert.equal(
    thrown(() => expectDefaultGateway(defaults, '10.0.0.1')).message,
    'Expected the routes to have its default gateway at 10.0.0.1, but the default route is `0.0.0.0/0 via 172.18.0.1 dev eth0`, `::/0 nexthop via fe80::1 dev eth0 nexthop via - dev eth1`.',
  );
  const neigh = parseIpNeigh(
    '10.244.0.26 dev eth0 lladdr 76:F0:BD:76:76:77 REACHABLE\n10.244.0.27 FAILED\n',
  ).neighbours;
  assert.equal(expectNeighbourMac(neigh, '10.244.0.26', '76:f0:bd:76:76:77').dev, 'eth0');
  assert.deepEqual(
    thrown(() =>
      expectNeighbourMac(
        cited('neigh', 'pod client', neigh, '12-neigh.txt'),
        '10.244.0.27',
        '02:00:00:00:00:01',
        'lxc1',
      ),
    ),
    {
      kind: 'AssertionError',
      message:
        'Expected the neighbour table of pod client to resolve 10.244.0.27 to 02:00:00:00:00:01 (lxc1), but it resolves to no MAC FAILED (evidence 12-neigh.txt).',
      expected: '02:00:00:00:00:01',
      actual: [null],
    },
  );
});

test('status value: numbers and lists by path, a path through a missing object, a label of the raw output', () => {
  const st = parseCiliumStatus(
    [
      'KVStore:                 Disabled',
      'Controller Status:       16/16 healthy',
      'IPAM:                    IPv4: 2/254 allocated from 10.244.3.0/24,',
      'Routing:                 Network: Native (direct routing)   Host: BPF',
      'Encryption:',
      '',
    ].join('\n'),
  );
  assert.deepEqual(
    ['controllers.healthy', 'ipamAllocations', 'routing.host', 'masquerading.mode', 'ciliumVersion', 'Encryption'].map(
      (f) => statusValue(st, f),
    ),
    ['16', '[{"family":"IPv4","used":2,"total":254,"cidr":"10.244.3.0/24"}]', 'BPF', null, null, ''],
  );
  // A value that starts with the word, followed by a non-word character, matches; a longer word does not.
  expectStatusField(st, 'Routing', 'network: native');
  expectStatusField(st, 'Encryption', '');
  assert.deepEqual(
    thrown(() => expectStatusField(st, 'routing.host', 'B')),
    {
      kind: 'AssertionError',
      message: 'Expected the agent status to report routing.host "B", but it reports "BPF".',
      expected: 'B',
      actual: 'BPF',
    },
  );
  assert.equal(thrown(() => expectStatusField(st, 'KVStore', 'Disabled2')).kind, 'AssertionError');
  assert.equal(thrown(() => expectStatusField(st, 'masquerading', 'BPF')).kind, 'inconclusive');
});

test('routes: two routes for the same destination are both quoted', () => {
  const two = parseIpRoute(
    JSON.stringify([
      { dst: '10.244.1.0/24', gateway: '172.18.0.3', dev: 'eth0', metric: 100 },
      { dst: '10.244.1.0/24', dev: 'cilium_host', metrics: [{ mtu: 1450 }] },
    ]),
  ).routes;
  assert.equal(
    thrown(() => expectRouteVia(two, '10.244.1.0/24', '172.18.0.9')).message,
    'Expected the routes to send 10.244.1.0/24 via 172.18.0.9, but the route for 10.244.1.0/24 is `10.244.1.0/24 via 172.18.0.3 dev eth0`, `10.244.1.0/24 dev cilium_host`.',
  );
  assert.equal(
    thrown(() => expectRouteThroughDevice(two, '10.244.1.0/24', 'lxc1')).message,
    'Expected the routes to send 10.244.1.0/24 dev lxc1, but the route for 10.244.1.0/24 is `10.244.1.0/24 via 172.18.0.3 dev eth0`, `10.244.1.0/24 dev cilium_host mtu 1450`.',
  );
});

test('status: the field words of the steps read a real 1.18.6 agent status', (t) => {
  const text = realWorld(t, 'cilium-dbg-status-1.18.6-kind-native-kpr-true-bpfhostrouting-idx60285825367.txt');
  if (text === null) return;
  const st = parseCiliumStatus(text);
  assert.deepEqual(
    Object.entries(STATUS_FIELD_OF_WORDS).map(([word, path]) => [word, statusValue(st, path)]),
    [
      ['routing', 'Native'],
      ['host routing', 'BPF'],
      ['tunnel protocol', null],
      ['kube-proxy replacement', 'True'],
      ['IPAM', 'IPv4: 2/254 allocated from 10.244.3.0/24'],
      ['masquerading', 'BPF'],
    ],
  );
  // A path past a text value is no value; a longer word is no match even with blanks after it.
  assert.equal(statusValue(st, 'routing.network.x'), null);
  assert.equal(thrown(() => expectStatusField(st, 'Kubernetes', 'O')).kind, 'AssertionError');
  expectStatusField(st, 'Kubernetes', 'Ok');
});
