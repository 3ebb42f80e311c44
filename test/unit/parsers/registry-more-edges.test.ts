/**
 * The packet table's INNER column for a Geneve record cut by the snaplen right after the inner
 * Ethernet header (`tcpdump -s 64`): the tunnel is shown, with unknown inner addresses and no
 * made-up protocol word.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryOf, parseAs } from '../../../support/parsers/registry.ts';
import { be16, pcapBytes } from '../helpers/pcap-bytes.ts';

/** Pod 10.0.1.5 → pod 10.0.2.7, ICMP echo request, in an Ethernet frame (42 bytes). */
const INNER = [
  ...[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 8, 0],
  ...[0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 10, 0, 1, 5, 10, 0, 2, 7],
  ...[8, 0, 0, 0, 0, 1, 0, 1],
];

/** Node 172.18.0.4 → 172.18.0.2, UDP 51000 → 6081, Geneve VNI 2 carrying INNER; 64 bytes captured. */
function capture(): Uint8Array {
  const payload = [0, 0, ...be16(0x6558), 0, 0, 2, 0, ...INNER];
  const udp = [...be16(51000), ...be16(6081), ...be16(8 + payload.length), 0, 0, ...payload];
  const ip = [0x45, 0, ...be16(20 + udp.length), 0, 0, 0, 0, 64, 17, 0, 0, 172, 18, 0, 4, 172, 18, 0, 2, ...udp];
  const frame = [2, 0x42, 0xac, 0x12, 0, 2, 2, 0x42, 0xac, 0x12, 0, 4, 8, 0, ...ip];
  return pcapBytes([{ sec: 0, frac: 0, frame, incl: 64 }]);
}

describe('packet table of a tunnel record cut inside the inner packet', () => {
  it('shows the inner packet with unknown addresses and no protocol', () => {
    const table = entryOf('pcap').table(parseAs('pcap', capture()));
    const [header, row] = table.split('\n');
    assert.match(header!, /INNER$/);
    assert.ok(row!.endsWith('  ? > ?'), row);
    assert.ok(row!.includes('172.18.0.4.51000'), row);
  });
});
