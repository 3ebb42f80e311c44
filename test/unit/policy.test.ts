/** Network policy: manifests read and refused with the field named, resolution per endpoint, the lab's drop/verdict lines, the reachability matrix's failure. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { agentView } from '../../support/backends/lab/agent/identities.ts';
import { formatRecord } from '../../support/backends/lab/agent/monitor-format.ts';
import { OBS, type TraceRecord } from '../../support/backends/lab/datapath/index.ts';
import { LAB_DESCRIPTOR } from '../../support/backends/lab/descriptor.ts';
import { UsageError } from '../../support/errors.ts';
import { cellEvidence, expectReachability, type ReachCell } from '../../support/expectations/reachability.ts';
import { parseMonitorLine } from '../../support/parsers/monitor.ts';
import { labUnenforced, parsePolicyManifest } from '../../support/policy/manifest.ts';
import { HOST_IDENTITY, resolvePolicies } from '../../support/policy/resolve.ts';
import type { RequestOutcome } from '../../support/probes/traffic.ts';

const FIXTURES = '../shared/fixtures/real-world';

const allowFromClient = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: echo-from-client}
spec:
  podSelector: {matchLabels: {app: echo}}
  ingress:
    - from:
        - podSelector: {matchLabels: {app: client}}
      ports:
        - {port: 80, protocol: TCP}
`;

describe('policy manifests', () => {
  it('reads a NetworkPolicy: selector, Ingress by default, peers and ports', () => {
    const p = parsePolicyManifest(allowFromClient);
    assert.equal(p.kind, 'NetworkPolicy');
    assert.equal(p.namespace, 'default');
    assert.deepEqual(p.selector.matchLabels, { app: 'echo' });
    assert.equal(p.egress, null);
    assert.equal(p.ingress?.length, 1);
    assert.deepEqual(p.ingress![0]!.ports, [{ port: 80, protocol: 'TCP' }]);
  });

  it('names the field of an invalid manifest in one paragraph', () => {
    assert.throws(
      () => parsePolicyManifest(allowFromClient.replace('port: 80', 'port: 99999')),
      (e: unknown) =>
        e instanceof UsageError && /spec\.ingress\[0\]\.ports\[0\]\.port must be a port number/.test(e.message),
    );
    assert.throws(
      () => parsePolicyManifest(allowFromClient.replace('podSelector: {matchLabels: {app: echo}}', 'podSelektor: {}')),
      (e: unknown) => e instanceof UsageError && /spec\.podSelektor is not a field of spec/.test(e.message),
    );
  });

  it('the lab refuses fields it does not enforce and lists those it does', () => {
    const p = parsePolicyManifest(`
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: fqdn}
spec:
  endpointSelector: {}
  egress:
    - toFQDNs: [{matchName: example.com}]
`);
    assert.deepEqual(p.unenforcedFields, ['spec.egress[0].toFQDNs']);
    const err = labUnenforced(p);
    assert.ok(err && /toFQDNs/.test(err.message) && /The lab enforces: podSelector/.test(err.hint ?? ''));
    assert.equal(LAB_DESCRIPTOR.refusesPolicy(parsePolicyManifest(allowFromClient)), null);
  });
});

describe('policy resolution', () => {
  const pods = [
    { name: 'echo-a', namespace: 'default', labels: { app: 'echo' }, endpointId: 10, identity: 300 },
    { name: 'client', namespace: 'default', labels: { app: 'client' }, endpointId: 11, identity: 301 },
    { name: 'intruder', namespace: 'other', labels: { app: 'client' }, endpointId: 12, identity: 302 },
  ];
  it('allows the selected peer of the policy namespace on its port, plus the host; others are not enforced', () => {
    const r = resolvePolicies([parsePolicyManifest(allowFromClient)], pods);
    assert.deepEqual(r.get(10), {
      enforced: ['ingress'],
      entries: [
        { identity: HOST_IDENTITY, port: 0, proto: 0, direction: 'ingress' },
        { identity: 301, port: 80, proto: 6, direction: 'ingress' },
      ],
    });
    assert.equal(r.has(11), false);
  });
  it('an Egress policy without rules enforces egress with nothing allowed', () => {
    const p = parsePolicyManifest(
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\nspec: {podSelector: {matchLabels: {app: client}}, policyTypes: [Egress]}',
    );
    assert.deepEqual(resolvePolicies([p], pods).get(11), { enforced: ['egress'], entries: [] });
  });
});

function policyRecord(over: Partial<TraceRecord>): TraceRecord {
  return {
    tsNs: 0n,
    ifindex: 5,
    targetIfindex: 979,
    srcEndpoint: 0,
    dstEndpoint: 3918,
    obs: OBS.drop,
    proto: 6,
    tcpFlags: 0x02,
    xlate: 2,
    state: 'unknown',
    slot: 1,
    count: 0,
    version: 1,
    orig: { saddr: '10.244.0.23', daddr: '10.244.1.51', sport: 33876, dport: 80 },
    saddr: '10.244.0.23',
    daddr: '10.244.1.51',
    sport: 33876,
    dport: 80,
    len: 74,
    policy: { direction: 'ingress', action: 'deny', match: 0, peerIdentity: 22094, line: 979 },
    ...over,
  };
}

describe("the lab agent's drop and verdict lines", () => {
  const view = agentView('w', [], []);
  it('a drop prints as Cilium prints it and parses back to the same fields', () => {
    const [line] = formatRecord(policyRecord({}), view, () => undefined);
    assert.match(
      line!,
      /^xx drop \(Policy denied\) flow 0x[0-9a-f]+ to endpoint 3918, ifindex 5, file bpf_lxc\.c:979, , identity 22094->world: 10\.244\.0\.23:33876 -> 10\.244\.1\.51:80 tcp SYN$/,
    );
    const ev = parseMonitorLine(line!);
    assert.equal(ev.type, 'drop');
    assert.equal(ev.message, 'Policy denied');
    assert.equal(ev.endpoint, 3918);
    assert.equal(ev.src?.ip, '10.244.0.23');
  });
  it('a verdict prints as Cilium prints it and parses back', () => {
    const rec = policyRecord({
      obs: OBS.policyVerdict,
      policy: { direction: 'egress', action: 'allow', match: 2, peerIdentity: 300, line: 0 },
      srcEndpoint: 11,
      dstEndpoint: 0,
    });
    const [line] = formatRecord(rec, view, () => undefined);
    assert.match(
      line!,
      /^Policy verdict log: flow 0x[0-9a-f]+ local EP ID 11, remote ID 300, proto 6, egress, action allow, auth: disabled, match L3-L4, 10\.244\.0\.23:33876 -> 10\.244\.1\.51:80 tcp SYN$/,
    );
    const ev = parseMonitorLine(line!);
    assert.equal(ev.verdict?.action, 'allow');
    assert.equal(ev.verdict?.direction, 'egress');
    assert.equal(ev.verdict?.match, 'L3-L4');
    assert.equal(ev.srcEndpoint, 11);
  });
  it('the parser reads the real drop and verdict lines of the fixtures the same way', () => {
    const text = readFileSync(
      `${FIXTURES}/cilium-monitor-trace-policyverdict-drop-host-as-world-korean-blog-idx18039083204.txt`,
      'utf8',
    );
    const drop = parseMonitorLine(text.split('\n').find((l) => l.startsWith('xx drop'))!);
    assert.equal(drop.message, 'Policy denied');
    assert.equal(drop.endpoint, 211);
    assert.deepEqual(drop.identities, { src: 'world', dst: 15435 });
    const verdict = parseMonitorLine(text.split('\n').find((l) => l.startsWith('Policy verdict log:'))!);
    assert.equal(verdict.verdict?.action, 'deny');
    assert.equal(verdict.verdict?.direction, 'ingress');
    assert.equal(verdict.endpoint, 211);
  });
});

function outcome(ok: boolean, port: number): RequestOutcome {
  return {
    seq: 1,
    ok,
    httpStatus: ok ? 200 : null,
    answeredBy: ok ? 'echo-x' : null,
    clientSeen: ok ? `10.0.0.1:${port}` : null,
    error: ok ? null : 'timeout',
    detail: ok ? 'pod=echo-x' : 'Connection timed out',
    localPort: port,
    exitCode: ok ? 0 : 28,
  };
}

describe('the reachability matrix', () => {
  const cells: ReachCell[] = [
    {
      source: 'client',
      destination: 'A',
      expected: true,
      from: '10.0.0.1',
      to: ['10.0.1.1'],
      outcomes: [outcome(true, 1001)],
    },
    {
      source: 'client',
      destination: 'B',
      expected: false,
      from: '10.0.0.1',
      to: ['10.0.1.2'],
      outcomes: [outcome(false, 1002)],
    },
    {
      source: 'intruder',
      destination: 'A',
      expected: true,
      from: '10.0.0.9',
      to: ['10.0.1.1'],
      outcomes: [outcome(false, 1003)],
    },
    {
      source: 'intruder',
      destination: 'B',
      expected: false,
      from: '10.0.0.9',
      to: ['10.0.1.2'],
      outcomes: [outcome(false, 1004)],
    },
  ];
  const drop = parseMonitorLine(
    'xx drop (Policy denied) flow 0x1 to endpoint 7, ifindex 5, file bpf_lxc.c:979, , identity 400->300: 10.0.0.9:1003 -> 10.0.1.1:80 tcp SYN',
  );
  const other = parseMonitorLine(
    'xx drop (Policy denied) flow 0x2 to endpoint 8, ifindex 5, file bpf_lxc.c:979, , identity 400->301: 10.0.0.9:1004 -> 10.0.1.2:80 tcp SYN',
  );
  const monitors = [{ node: 'worker', attachment: '06-monitor.txt', events: [drop, other] }];

  it('passes when every cell is as expected', () => {
    const right = cells.map((c) => (c.source === 'intruder' && c.destination === 'A' ? { ...c, expected: false } : c));
    expectReachability(right, monitors, 'port 80/TCP');
  });

  it('one wrong cell: both matrices, exactly that cell marked, and its drop as evidence', () => {
    let message = '';
    try {
      expectReachability(cells, monitors, 'port 80/TCP');
    } catch (e) {
      message = (e as Error).message;
    }
    assert.match(message, /differs from the table in 1 of 4 cells/);
    assert.match(message, /expected +observed/);
    assert.equal((message.match(/!/g) ?? []).length, 1, 'one cell marked wrong');
    assert.match(message, /\| intruder \| ✗! \| ✗ +\|/);
    const evidence = message.split('\n').filter((l) => l.startsWith('- '));
    assert.equal(evidence.length, 1);
    assert.match(
      evidence[0]!,
      /^- intruder → A: expected ✓, observed ✗\. Dropped on node worker: "xx drop \(Policy denied\) flow 0x1 to endpoint 7/,
    );
    assert.match(evidence[0]!, /06-monitor\.txt/);
    assert.doesNotMatch(message, /flow 0x2/);
  });

  it('a delivered packet that should have been dropped names the answer and the trace of its delivery', () => {
    const delivered = parseMonitorLine(
      '-> endpoint 7 flow 0x3 , identity 400->300 state new ifindex lxc1 orig-ip 10.0.0.1: 10.0.0.1:1002 -> 10.0.1.2:80 tcp SYN',
    );
    const cell = { ...cells[1]!, outcomes: [outcome(true, 1002)] };
    const text = cellEvidence(cell, [{ node: 'w', attachment: 'm.txt', events: [delivered] }]);
    assert.match(text, /should have been dropped was delivered: request 1 from port 1002 was answered by echo-x/);
    assert.match(text, /node w's monitor saw it delivered: "-> endpoint 7 flow 0x3/);
  });
});

describe("the lab's policy map layout (lab_lb.c struct policy_key, ipcache_val)", () => {
  it('key: identity (host order), port (network order), protocol, direction', async () => {
    const { policyKey, ipcacheEntry, POLICY_PROTO_NOT_ENFORCED } = await import(
      '../../support/backends/lab/datapath/index.ts'
    );
    const LE = (await import('node:os')).endianness() === 'LE';
    const id = LE ? [0x2c, 0x01, 0, 0] : [0, 0, 0x01, 0x2c];
    assert.deepEqual(policyKey({ identity: 300, port: 80, proto: 6, direction: 'ingress' }), [...id, 0, 80, 6, 1]);
    assert.deepEqual(
      policyKey({ identity: 0, port: 0, proto: POLICY_PROTO_NOT_ENFORCED, direction: 'egress' }),
      [0, 0, 0, 0, 0, 0, 0xff, 2],
    );
    assert.deepEqual(ipcacheEntry('10.244.1.5', 300), { key: [10, 244, 1, 5], value: [...id, 0, 0, 0, 0] });
  });
});
