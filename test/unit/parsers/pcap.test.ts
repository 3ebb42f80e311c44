import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipv6, looksLikePcap, PcapFormatError, readPcap, tcpFlagsText } from '../../../support/parsers/pcap.ts';
import { be16, pcapBytes } from '../helpers/pcap-bytes.ts';

const ip4 = (s: string) => s.split('.').map(Number);

function ipv4Tcp(src: string, sport: number, dst: string, dport: number, flags: number, payload = 0): number[] {
  const tcp = [...be16(sport), ...be16(dport), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, ...be16(64240), 0, 0, 0, 0];
  const total = 20 + tcp.length + payload;
  const ip = [0x45, 0, ...be16(total), 0, 1, 0x40, 0, 64, 6, 0, 0, ...ip4(src), ...ip4(dst)];
  return [...ip, ...tcp, ...new Array(payload).fill(0x61)];
}

function ether(payload: number[], ethertype = 0x0800): number[] {
  return [0x02, 0x42, 0xac, 0x12, 0, 2, 0x02, 0x42, 0xac, 0x12, 0, 3, ...be16(ethertype), ...payload];
}

describe('tcpFlagsText', () => {
  it('renders flags in tcpdump order and notation', () => {
    assert.equal(tcpFlagsText(0x02), 'S');
    assert.equal(tcpFlagsText(0x12), 'S.');
    assert.equal(tcpFlagsText(0x10), '.');
    assert.equal(tcpFlagsText(0x18), 'P.');
    assert.equal(tcpFlagsText(0x11), 'F.');
    assert.equal(tcpFlagsText(0x04), 'R');
    assert.equal(tcpFlagsText(0x14), 'R.');
    assert.equal(tcpFlagsText(0xc2), 'SEW');
    assert.equal(tcpFlagsText(0), 'none');
  });
});

describe('readPcap', () => {
  const handshake = [
    { sec: 1_700_000_000, frac: 860874, frame: ether(ipv4Tcp('10.244.0.140', 53574, '10.244.1.16', 9495, 0x02)) },
    { sec: 1_700_000_000, frac: 861057, frame: ether(ipv4Tcp('10.244.1.16', 9495, '10.244.0.140', 53574, 0x12)) },
    { sec: 1_700_000_001, frac: 5, frame: ether(ipv4Tcp('10.244.0.140', 53574, '10.244.1.16', 9495, 0x18, 80)) },
  ];

  for (const little of [true, false])
    it(`reads Ethernet TCP records (${little ? 'little' : 'big'}-endian, microseconds)`, () => {
      const r = readPcap(pcapBytes(handshake, { little }));
      assert.equal(r.linkType, 1);
      assert.equal(r.nanosecond, false);
      assert.deepEqual(
        r.packets.map((p) => [p.src?.ip, p.src?.port, p.dst?.ip, p.dst?.port, p.flags, p.length]),
        [
          ['10.244.0.140', 53574, '10.244.1.16', 9495, 'S', 0],
          ['10.244.1.16', 9495, '10.244.0.140', 53574, 'S.', 0],
          ['10.244.0.140', 53574, '10.244.1.16', 9495, 'P.', 80],
        ],
      );
      const p = r.packets[0]!;
      assert.equal(p.time, '22:13:20.860874');
      assert.equal(p.timestamp, 1_700_000_000.860874);
      assert.equal(p.srcMac, '02:42:ac:12:00:03');
      assert.equal(p.dstMac, '02:42:ac:12:00:02');
      assert.equal(p.ethertype, 'IPv4');
      assert.equal(p.protocol, 'tcp');
      assert.equal(p.frameLength, 54);
      assert.match(p.raw, /10\.244\.0\.140\.53574 > 10\.244\.1\.16\.9495: Flags \[S\]/);
    });

  it('reads nanosecond timestamps', () => {
    const r = readPcap(
      pcapBytes([{ sec: 0, frac: 123456789, frame: ether(ipv4Tcp('1.1.1.1', 1, '2.2.2.2', 2, 0x10)) }], { nano: true }),
    );
    assert.equal(r.nanosecond, true);
    assert.equal(r.packets[0]!.time, '00:00:00.123456789');
  });

  it('reads raw IP (101), Linux SLL (113) and SLL2 (276) link types', () => {
    const pkt = ipv4Tcp('10.0.0.1', 1000, '10.96.0.10', 53, 0x02);
    const raw = readPcap(pcapBytes([{ sec: 0, frac: 0, frame: pkt }], { linkType: 101 }));
    assert.equal(raw.packets[0]!.dst!.ip, '10.96.0.10');
    const sll = [0, 4, 0, 1, 0, 6, 2, 66, 172, 18, 0, 9, 0, 0, 0x08, 0x00, ...pkt];
    const s = readPcap(pcapBytes([{ sec: 0, frac: 0, frame: sll }], { linkType: 113 })).packets[0]!;
    assert.equal(s.direction, 'Out');
    assert.equal(s.srcMac, '02:42:ac:12:00:09');
    assert.equal(s.flags, 'S');
    const sll2 = [0x08, 0x00, 0, 0, 0, 0, 0, 7, 0, 1, 0, 6, 2, 66, 172, 18, 0, 9, 0, 0, ...pkt];
    const s2 = readPcap(pcapBytes([{ sec: 0, frac: 0, frame: sll2 }], { linkType: 276 })).packets[0]!;
    assert.equal(s2.direction, 'In');
    assert.equal(s2.src!.port, 1000);
  });

  it('reads IPv6 UDP, ICMP echo and ARP', () => {
    const v6src = [0xfd, 0, 0, 0x10, 0, 0x2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5];
    const v6dst = [0xfd, 0, 0, 0x10, 0, 0x96, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a];
    const udp = [...be16(40000), ...be16(53), ...be16(8 + 12), 0, 0, ...new Array(12).fill(0)];
    const v6 = [0x60, 0, 0, 0, ...be16(udp.length), 17, 64, ...v6src, ...v6dst, ...udp];
    const icmp = [8, 0, 0, 0, 0, 45, 0, 0, ...new Array(56).fill(0)];
    const v4icmp = [
      0x45,
      0,
      ...be16(20 + icmp.length),
      0,
      1,
      0,
      0,
      64,
      1,
      0,
      0,
      ...ip4('10.0.0.166'),
      ...ip4('10.0.1.118'),
      ...icmp,
    ];
    const arp = [
      0,
      1,
      8,
      0,
      6,
      4,
      0,
      1,
      0x6e,
      0xba,
      0xba,
      0x6e,
      0x38,
      0x70,
      ...ip4('10.244.0.160'),
      0,
      0,
      0,
      0,
      0,
      0,
      ...ip4('10.244.0.50'),
    ];
    const r = readPcap(
      pcapBytes([
        { sec: 0, frac: 0, frame: ether(v6, 0x86dd) },
        { sec: 0, frac: 1, frame: ether(v4icmp) },
        { sec: 0, frac: 2, frame: ether(arp, 0x0806) },
      ]),
    );
    const [a, b, c] = r.packets;
    assert.deepEqual(
      [a!.protocol, a!.src, a!.dst, a!.length],
      ['udp', { ip: 'fd00:10:2::5', port: 40000 }, { ip: 'fd00:10:96::a', port: 53 }, 12],
    );
    assert.deepEqual([b!.protocol, b!.length, b!.info], ['icmp', 64, 'ICMP echo request, length 64']);
    assert.deepEqual([c!.protocol, c!.src!.ip, c!.dst!.ip], ['arp', '10.244.0.160', '10.244.0.50']);
  });

  it('refuses what is not a classic pcap with one clear sentence, and stops at a truncated record', () => {
    assert.throws(() => readPcap(new Uint8Array(10)), PcapFormatError);
    assert.throws(
      () => readPcap(new TextEncoder().encode('09:15:36.860874 IP 1.2.3.4.5 > 6.7.8.9.10: Flags [S]')),
      /not a pcap magic/,
    );
    assert.throws(() => readPcap(new Uint8Array([0x0a, 0x0d, 0x0d, 0x0a, ...new Array(40).fill(0)])), /pcapng/);
    const full = pcapBytes(handshake);
    const cut = readPcap(full.slice(0, full.length - 10));
    assert.equal(cut.packets.length, 2);
    assert.equal(looksLikePcap(full), true);
    assert.equal(looksLikePcap(new TextEncoder().encode('text')), false);
  });

  it('formats IPv6 like RFC 5952', () => {
    assert.equal(ipv6(new Uint8Array(16), 0), '::');
    assert.equal(ipv6(new Uint8Array([0xfe, 0x80, ...new Array(13).fill(0), 1]), 0), 'fe80::1');
    assert.equal(ipv6(new Uint8Array([0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0]), 0), '1:0:2::3:0:0');
  });
});
