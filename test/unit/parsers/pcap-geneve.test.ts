/**
 * Geneve in a pcap (UDP 6081, Cilium's `tunnelProtocol=geneve`): the encapsulated Ethernet frame
 * is decoded as the packet's inner packet, as tcpdump's text shows it on the line after, so a
 * capture on a node's eth0 is judged by the pod addresses inside the tunnel on either input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readPcap } from '../../../support/parsers/pcap.ts';
import { parseTcpdump } from '../../../support/parsers/tcpdump.ts';
import { be16, pcapBytes } from '../helpers/pcap-bytes.ts';

/** Pod 10.0.1.5 → pod 10.0.2.7, ICMP echo request, in an Ethernet frame. */
const INNER = [
  ...[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0],
  ...[0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 1, 5, 10, 0, 2, 7],
  ...[8, 0, 0, 0, 0, 1, 0, 1],
];

/** Node 172.18.0.4 → node 172.18.0.2, UDP to `port`, carrying `payload`; one classic pcap record. */
function capture(payload: number[], port = 6081): Uint8Array {
  const udp = [...be16(51000), ...be16(port), ...be16(8 + payload.length), 0, 0, ...payload];
  const ip = [0x45, 0, ...be16(20 + udp.length), 0, 0, 0, 0, 64, 17, 0, 0, 172, 18, 0, 4, 172, 18, 0, 2, ...udp];
  const frame = [2, 0x42, 0xac, 0x12, 0, 2, 2, 0x42, 0xac, 0x12, 0, 4, 8, 0, ...ip];
  return pcapBytes([{ sec: 0, frac: 0, frame }]);
}

/** Geneve base header: option length (4-byte words), flags byte, protocol type, VNI. */
const geneve = (opts: number[], flags: number, proto: number, vni: number) => [
  opts.length / 4,
  flags,
  ...be16(proto),
  (vni >> 16) & 255,
  (vni >> 8) & 255,
  vni & 255,
  0,
  ...opts,
];

test('Geneve: the inner frame is the inner packet, with tcpdump-like text', () => {
  const [p] = readPcap(capture([...geneve([], 0, 0x6558, 2), ...INNER])).packets;
  assert.equal(p!.info, 'Geneve, Flags [none], vni 0x2');
  assert.deepEqual(
    [p!.src, p!.dst, p!.protocol],
    [{ ip: '172.18.0.4', port: 51000 }, { ip: '172.18.0.2', port: 6081 }, 'udp'],
  );
  assert.deepEqual(
    [p!.inner?.src, p!.inner?.dst, p!.inner?.protocol],
    [{ ip: '10.0.1.5', port: null }, { ip: '10.0.2.7', port: null }, 'icmp'],
  );
  // The same judgement from tcpdump's text of such a packet.
  const text = parseTcpdump(
    '09:15:36.860874 IP 172.18.0.4.51000 > 172.18.0.2.6081: Geneve, Flags [none], vni 0x2\nIP 10.0.1.5 > 10.0.2.7: ICMP echo request, id 1, seq 1, length 8\n',
  ).packets[0]!;
  assert.deepEqual([text.inner?.src?.ip, text.inner?.dst?.ip], [p!.inner?.src?.ip, p!.inner?.dst?.ip]);
});

test('Geneve: options are skipped, O and C flags and a larger VNI are printed', () => {
  const opts = [0x01, 0x02, 0x80, 0x01, 0xde, 0xad, 0xbe, 0xef]; // one option TLV of 4 data bytes
  const [p] = readPcap(capture([...geneve(opts, 0xc0, 0x6558, 0x1a2b3c), ...INNER])).packets;
  assert.equal(p!.info, 'Geneve, Flags [OC], vni 0x1a2b3c');
  assert.deepEqual([p!.inner?.src?.ip, p!.inner?.dst?.ip], ['10.0.1.5', '10.0.2.7']);
  // The carried frame's own length excludes the Geneve header and its options.
  assert.equal(p!.inner?.frameLength, INNER.length);
});

test('Geneve: no inner packet for another protocol, another version, a cut frame or another port', () => {
  const ipv4Payload = readPcap(capture([...geneve([], 0, 0x0800, 2), ...INNER.slice(14)])).packets[0]!;
  assert.equal(ipv4Payload.info, 'Geneve, Flags [none], vni 0x2');
  assert.equal(ipv4Payload.inner, null);
  const version1 = [...geneve([], 0, 0x6558, 2), ...INNER];
  version1[0] = 0x40;
  assert.deepEqual(
    [readPcap(capture(version1)).packets[0]!.info, readPcap(capture(version1)).packets[0]!.inner],
    [`UDP, length ${version1.length}`, null],
  );
  const cut = readPcap(capture([...geneve([], 0, 0x6558, 2), ...INNER.slice(0, 13)])).packets[0]!;
  assert.equal(cut.inner, null);
  const elsewhere = readPcap(capture([...geneve([], 0, 0x6558, 2), ...INNER], 6082)).packets[0]!;
  assert.deepEqual([elsewhere.info, elsewhere.inner], [`UDP, length ${8 + INNER.length}`, null]);
});
