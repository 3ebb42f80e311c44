/**
 * Geneve (UDP 6081) records cut by the snaplen inside the tunnel: a Geneve header only partly
 * captured is no Geneve header, a header captured whole is read even without the frame it
 * carries, and an inner frame is kept as soon as its Ethernet header was captured.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readPcap } from '../../../support/parsers/pcap.ts';
import { be16, pcapBytes } from '../helpers/pcap-bytes.ts';

/** Pod 10.0.1.5 → pod 10.0.2.7, ICMP echo request, in an Ethernet frame (42 bytes). */
const INNER = [
  ...[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0],
  ...[0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 1, 5, 10, 0, 2, 7],
  ...[8, 0, 0, 0, 0, 1, 0, 1],
];

/** Geneve base header without options: Ethernet (0x6558) payload, VNI 2. */
const GENEVE = [0, 0, ...be16(0x6558), 0, 0, 2, 0];

/** Ethernet + IPv4 + UDP headers before the Geneve header. */
const OUTER_HEADERS = 14 + 20 + 8;

/** Node 172.18.0.4 → node 172.18.0.2, UDP 51000 → 6081 carrying Geneve + INNER, cut at `incl` bytes. */
function capture(incl: number): Uint8Array {
  const payload = [...GENEVE, ...INNER];
  const udp = [...be16(51000), ...be16(6081), ...be16(8 + payload.length), 0, 0, ...payload];
  const ip = [0x45, 0, ...be16(20 + udp.length), 0, 0, 0, 0, 64, 17, 0, 0, 172, 18, 0, 4, 172, 18, 0, 2, ...udp];
  const frame = [2, 0x42, 0xac, 0x12, 0, 2, 2, 0x42, 0xac, 0x12, 0, 4, 8, 0, ...ip];
  return pcapBytes([{ sec: 0, frac: 0, frame, incl }]);
}

describe('a Geneve record cut by the snaplen', () => {
  it('is plain UDP when only part of the Geneve header was captured', () => {
    const [p] = readPcap(capture(OUTER_HEADERS + 4)).packets;
    assert.equal(p!.protocol, 'udp');
    assert.equal(p!.dst?.port, 6081);
    assert.equal(p!.info, 'UDP, length 50');
    assert.equal(p!.inner ?? null, null);
  });

  it('reads a Geneve header captured whole, with no inner packet after it', () => {
    const [p] = readPcap(capture(OUTER_HEADERS + 8)).packets;
    assert.equal(p!.info, 'Geneve, Flags [none], vni 0x2');
    assert.equal(p!.inner ?? null, null);
  });

  it('keeps the inner frame once its Ethernet header was captured', () => {
    const [p] = readPcap(capture(OUTER_HEADERS + 8 + 14)).packets;
    assert.equal(p!.info, 'Geneve, Flags [none], vni 0x2');
    assert.ok(p!.inner);
    assert.equal(p!.inner.srcMac, '02:00:00:00:00:02');
    assert.equal(p!.inner.dstMac, '02:00:00:00:00:01');
    assert.equal(p!.inner.ethertype, 'IPv4');
    assert.equal(p!.inner.src, null);
  });

  it('decodes the inner packet when the whole frame was captured', () => {
    const [p] = readPcap(capture(OUTER_HEADERS + 8 + INNER.length)).packets;
    assert.deepEqual([p!.inner?.src?.ip, p!.inner?.dst?.ip, p!.inner?.protocol], ['10.0.1.5', '10.0.2.7', 'icmp']);
  });
});
