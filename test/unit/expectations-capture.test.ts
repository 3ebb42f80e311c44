import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssertionError } from 'chai';
import { InconclusiveError } from '../../support/errors.ts';
import { expectDestinationSeen, expectNothingTo, expectOnlyDestinations } from '../../support/expectations/capture.ts';
import type { CitedEvidence } from '../../support/expectations/evidence-ref.ts';
import { parseTcpdump } from '../../support/parsers/tcpdump.ts';
import type { CaptureData } from '../../support/probes/capture.ts';
import { realWorld } from './helpers/real-world.ts';

const CLIENT = '10.244.0.10';
const VIP = '10.96.94.95';
const BACKENDS = ['10.244.0.20', '10.244.1.30'];

/** Lab-findings §5c: the client's SYNs as seen before tc (pod eth0) and after it (node eth0). */
const POD_ETH0 = `04:08:00.370324 12:94:43:de:b3:c0 > 76:f0:bd:76:76:77, ethertype IPv4 (0x0800), length 74: 10.244.0.10.40001 > 10.96.94.95.80: Flags [S], seq 1, win 64240, length 0
04:08:00.370584 76:f0:bd:76:76:77 > 12:94:43:de:b3:c0, ethertype IPv4 (0x0800), length 74: 10.96.94.95.80 > 10.244.0.10.40001: Flags [S.], seq 2, ack 2, win 65160, length 0
`;
const NODE_ETH0 = `04:08:00.370478 IP 10.244.0.10.40001 > 10.244.1.30.80: Flags [S], seq 1, win 64240, length 0
04:08:00.370568 IP 10.244.1.30.80 > 10.244.0.10.40001: Flags [S.], seq 2, ack 2, win 65160, length 0
`;
/** tc detached: the ClusterIP leaks onto node eth0. */
const NODE_ETH0_LEAK = `04:08:00.370478 IP 10.244.0.10.40001 > 10.96.94.95.80: Flags [S], seq 1, win 64240, length 0
04:08:00.370490 IP 10.244.0.10.40002 > 10.244.1.30.80: Flags [S], seq 1, win 64240, length 0
`;
const OTHER_TRAFFIC = `04:08:00.100000 IP 172.18.0.2.57812 > 172.18.0.4.6443: Flags [.], ack 1, win 502, length 0
`;

/**
 * Tunnel routing: node eth0 carries the pod traffic inside VXLAN (tcpdump's OTV decoding of port
 * 8472, the inner packet on its own line); only the inner packets name the pods.
 */
const NODE_ETH0_VXLAN = `04:08:00.370478 IP 172.18.0.2.36121 > 172.18.0.3.8472: OTV, flags [I] (0x08), overlay 0, instance 22446
IP 10.244.0.10.40001 > 10.244.1.30.80: Flags [S], seq 1, win 64240, length 0
04:08:00.370568 IP 172.18.0.3.51810 > 172.18.0.2.8472: OTV, flags [I] (0x08), overlay 0, instance 41467
IP 10.244.1.30.80 > 10.244.0.10.40001: Flags [S.], seq 2, ack 2, win 65160, length 0
`;
const NODE_ETH0_VXLAN_LEAK = NODE_ETH0_VXLAN.replace(
  '10.244.0.10.40001 > 10.244.1.30.80',
  '10.244.0.10.40001 > 10.96.94.95.80',
);

function cap(where: string, text: string, n: number): CitedEvidence<CaptureData> {
  return {
    kind: 'capture',
    where,
    commands: [],
    raw: text,
    data: { packets: parseTcpdump(text).packets, pcapFile: `/tmp/${n}.pcap` },
    summary: '',
    attachment: `${String(n).padStart(2, '0')}-capture-${where.replace(/ /g, '-')}.txt`,
  };
}

test('destination seen: pod eth0 sees the ClusterIP; node eth0 does not, and the message says what it saw', () => {
  const hits = expectDestinationSeen(cap('pod client eth0', POD_ETH0, 5), VIP, { clientIps: [CLIENT] });
  assert.equal(hits.length, 1);
  assert.throws(
    () =>
      expectDestinationSeen(cap('node cilium-kubeproxy-control-plane eth0', NODE_ETH0, 7), VIP, {
        clientIps: [CLIENT],
      }),
    (err: unknown) => {
      assert.ok(err instanceof AssertionError);
      const m = (err as Error).message;
      assert.match(
        m,
        /^Expected the capture on node cilium-kubeproxy-control-plane eth0 to see 10\.96\.94\.95 as a destination, but none of its 2 packets goes to 10\.96\.94\.95/,
      );
      assert.match(m, /destinations: 10\.244\.1\.30 ×1, 10\.244\.0\.10 ×1/);
      assert.match(m, /`04:08:00\.370478 IP 10\.244\.0\.10\.40001 > 10\.244\.1\.30\.80/);
      assert.match(m, /evidence 07-capture-node-cilium-kubeproxy-control-plane-eth0\.txt/);
      return true;
    },
  );
});

test('destination seen: an empty capture, or one without the client, is inconclusive', () => {
  assert.throws(
    () => expectDestinationSeen(cap('pod client eth0', '', 5), VIP),
    (e: unknown) => e instanceof InconclusiveError && /saw no packet at all/.test((e as Error).message),
  );
  assert.throws(
    () => expectDestinationSeen(cap('pod client eth0', OTHER_TRAFFIC, 5), VIP, { clientIps: [CLIENT] }),
    (e: unknown) =>
      e instanceof InconclusiveError && /none from or to the client \(10\.244\.0\.10\)/.test((e as Error).message),
  );
});

test('only destinations: node eth0 sees only backends (replies are not judged); a leaked ClusterIP fails', () => {
  const sent = expectOnlyDestinations(cap('node cp eth0', NODE_ETH0, 7), BACKENDS, [CLIENT]);
  assert.equal(sent.length, 1);
  assert.throws(
    () => expectOnlyDestinations(cap('node cp eth0', NODE_ETH0_LEAK, 7), BACKENDS, [CLIENT]),
    (err: unknown) =>
      err instanceof AssertionError &&
      /to see only 10\.244\.0\.20, 10\.244\.1\.30 as destination of the client's packets, but 1 of 2 went to 10\.96\.94\.95 ×1: `04:08:00\.370478 IP 10\.244\.0\.10\.40001 > 10\.96\.94\.95\.80/.test(
        err.message,
      ) &&
      /evidence 07-capture-node-cp-eth0\.txt/.test(err.message),
  );
});

test('only destinations: without a packet from the client it is inconclusive (positive control)', () => {
  assert.throws(
    () => expectOnlyDestinations(cap('node cp eth0', OTHER_TRAFFIC, 7), BACKENDS, [CLIENT]),
    (e: unknown) =>
      e instanceof InconclusiveError &&
      /saw no packet from the client \(10\.244\.0\.10\) among its 1 packet/.test((e as Error).message),
  );
  assert.throws(() => expectOnlyDestinations(cap('node cp eth0', '', 7), BACKENDS, [CLIENT]), InconclusiveError);
});

test('nothing to: silent node eth0 passes when the pod eth0 capture saw the traffic', () => {
  const podCap = cap('pod client eth0', POD_ETH0, 5);
  expectNothingTo(cap('node cp eth0', OTHER_TRAFFIC, 7), [CLIENT], [podCap]);
  expectNothingTo(
    cap('node cp eth0', '', 7),
    ['10.244.0.20'],
    [
      cap(
        'host veth of pod echo-cp',
        '04:08:00.426061 IP 10.244.0.10.40003 > 10.244.0.20.80: Flags [S], seq 1, win 1, length 0\n',
        6,
      ),
    ],
  );
});

test('nothing to: a packet of that traffic fails; no witness anywhere is inconclusive', () => {
  assert.throws(
    () => expectNothingTo(cap('node cp eth0', NODE_ETH0, 7), [CLIENT], [cap('pod client eth0', POD_ETH0, 5)]),
    (err: unknown) =>
      err instanceof AssertionError &&
      /Expected the capture on node cp eth0 to see none of the traffic of 10\.244\.0\.10, but it saw 2 packets: `04:08:00\.370478 IP 10\.244\.0\.10\.40001 > 10\.244\.1\.30\.80/.test(
        err.message,
      ) &&
      /evidence 07-capture-node-cp-eth0\.txt/.test(err.message),
  );
  assert.throws(
    () => expectNothingTo(cap('node cp eth0', '', 7), [CLIENT], [cap('pod client eth0', OTHER_TRAFFIC, 5)]),
    (e: unknown) =>
      e instanceof InconclusiveError &&
      /none of the 1 other capture of the window \(the capture on pod client eth0\) saw it either/.test(
        (e as Error).message,
      ),
  );
  assert.throws(
    () => expectNothingTo(cap('node cp eth0', '', 7), [CLIENT]),
    (e: unknown) =>
      e instanceof InconclusiveError && /no other capture of the window was armed/.test((e as Error).message),
  );
});

test('encapsulated packets (VXLAN/Geneve) are judged by their inner packet, and by the outer header on the wire', () => {
  const c = cap('node cilium-kubeproxy-control-plane eth0', NODE_ETH0_VXLAN, 8);
  assert.equal(c.data.packets.length, 2, 'two outer packets, each with its inner packet');
  // On the wire the client's packet goes to the other node: "only backends" fails, naming the tunnel.
  assert.throws(
    () => expectOnlyDestinations(c, BACKENDS, [CLIENT]),
    (err: unknown) =>
      err instanceof AssertionError && /inside a tunnel whose outer header goes to 172\.18\.0\.3/.test(err.message),
  );
  // With the node IPs allowed as carriers, the inner packet is what is judged.
  const NODES = ['172.18.0.2', '172.18.0.3'];
  assert.deepEqual(
    expectOnlyDestinations(c, [...BACKENDS, ...NODES], [CLIENT]).map((p) => p.dst?.ip),
    ['10.244.1.30'],
  );
  expectDestinationSeen(c, '10.244.1.30', { clientIps: [CLIENT] });
  assert.throws(
    () => expectOnlyDestinations(cap('node eth0', NODE_ETH0_VXLAN_LEAK, 9), [...BACKENDS, ...NODES], [CLIENT]),
    (err: unknown) => err instanceof AssertionError && /went to 10\.96\.94\.95 ×1/.test(err.message),
  );
  assert.throws(
    () => expectNothingTo(c, [CLIENT]),
    (err: unknown) => err instanceof AssertionError && /saw 2 packets/.test(err.message),
  );
});

test('real-world tcpdump -pne on a kind node eth0: the client pod reached the backend pod IP, never a ClusterIP', (t) => {
  const text = realWorld(t, 'tcpdump-pne-eth0-pod-to-clusterip-nativerouting-1.15.0rc1-kind-wcnikind.txt');
  if (text === null) return;
  const c = cap('node cilium-kubeproxy-control-plane eth0', text, 9);
  expectOnlyDestinations(c, ['10.244.1.16'], ['10.244.0.140']);
  expectDestinationSeen(c, '10.244.1.16', { clientIps: ['10.244.0.140'] });
  assert.throws(() => expectOnlyDestinations(c, ['10.244.1.99'], ['10.244.0.140']), /went to 10\.244\.1\.16 ×7/);
});

test('real-world tcpdump -ni in a pod: KPR=false shows the ClusterIP, KPR=true the backend', (t) => {
  const text = realWorld(t, 'tcpdump-ni-pod-eth0-syn-to-clusterip-kpr-false-vs-true-cilium-1.20.1-idx71145198530.txt');
  if (text === null) return;
  const [kprFalse, kprTrue] = text.split('=====');
  expectDestinationSeen(cap('pod web eth0', kprFalse!, 3), '10.102.39.104', { clientIps: ['10.244.0.46'] });
  assert.throws(
    () => expectDestinationSeen(cap('pod web eth0', kprTrue!, 4), '10.102.39.104', { clientIps: ['10.244.0.46'] }),
    AssertionError,
  );
});
