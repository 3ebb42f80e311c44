/**
 * tcpdump lines read whole: every field of the packet compared at once (time, timestamp,
 * interface and direction, MACs, ethertype, frame length, addresses and ports, protocol, flags,
 * length, info, inner packet, raw line, line number), for the line kinds the corpus holds
 * (-e frames, ARP, ICMP, a VXLAN carrier with its inner frame, `-i any`, `-tt`, IPv6) and the
 * lines that are not packets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptyPacket, type Packet, parseTcpdump, parseTcpdumpAddress } from '../../../support/parsers/tcpdump.ts';
import { realWorld } from '../helpers/real-world.ts';

function packet(p: Partial<Packet> & Pick<Packet, 'raw' | 'line'>): Packet {
  return { ...emptyPacket(p.raw, p.line), ...p };
}

describe('tcpdump lines read whole', () => {
  it('an -e ICMP frame and a pod SYN with options (real-world lines)', (t) => {
    const ping = realWorld(t, 'tcpdump-nne-lxc-ping-crossnode-kubeproxy-native-1.15.0rc1-wcnikind-pcap-rendered.txt');
    if (ping === null) return;
    const lines = ping.split('\n');
    const d = parseTcpdump(lines.slice(0, 2).join('\n'));
    assert.deepEqual(d.unknownLines, [], 'the "reading from file" line is tcpdump talking, not a packet');
    assert.deepEqual(d.packets, [
      packet({
        time: '03:14:06.543372',
        srcMac: '22:39:79:6d:4a:ce',
        dstMac: 'de:fc:0b:30:de:6a',
        ethertype: 'IPv4',
        frameLength: 98,
        src: { ip: '10.0.0.166', port: null },
        dst: { ip: '10.0.1.118', port: null },
        protocol: 'icmp',
        length: 64,
        info: 'ICMP echo request, id 45, seq 0, length 64',
        raw: lines[1]!,
        line: 2,
      }),
    ]);
  });

  it('ARP request and reply with -e (real-world lines)', (t) => {
    const text = realWorld(t, 'tcpdump-pne-in-pod-to-nodeport-kubeproxy-1.15.0rc1-kind-wcnikind.txt');
    if (text === null) return;
    const lines = text.split('\n').slice(33, 35);
    const d = parseTcpdump(lines.join('\n'));
    assert.deepEqual(d.packets, [
      packet({
        time: '06:04:18.494304',
        srcMac: '6e:ba:ba:6e:38:70',
        dstMac: 'ff:ff:ff:ff:ff:ff',
        ethertype: 'ARP',
        frameLength: 42,
        src: { ip: '10.244.0.160', port: null },
        dst: { ip: '10.244.0.50', port: null },
        protocol: 'arp',
        length: 28,
        info: 'Request who-has 10.244.0.50 tell 10.244.0.160, length 28',
        raw: lines[0]!,
        line: 1,
      }),
      packet({
        time: '06:04:18.494346',
        srcMac: '7e:b5:77:fa:4c:e4',
        dstMac: '6e:ba:ba:6e:38:70',
        ethertype: 'ARP',
        frameLength: 42,
        src: { ip: '10.244.0.50', port: null },
        protocol: 'arp',
        length: 28,
        info: 'Reply 10.244.0.50 is-at 7e:b5:77:fa:4c:e4, length 28',
        raw: lines[1]!,
        line: 2,
      }),
    ]);
  });

  it('a VXLAN carrier with its inner frame on the next line (real-world lines)', (t) => {
    const text = realWorld(t, 'mixed-kubeproxy-vxlan-tc-filter-tcpdump-1.15.0rc1-kind-wcnikind.txt');
    if (text === null) return;
    const lines = text.split('\n').slice(69, 73);
    const d = parseTcpdump(lines.join('\n'));
    assert.deepEqual(d.unknownLines, []);
    assert.deepEqual(d.packets, [
      packet({
        time: '02:52:24.958577',
        srcMac: '02:42:ac:12:00:04',
        dstMac: '02:42:ac:12:00:02',
        ethertype: 'IPv4',
        frameLength: 148,
        src: { ip: '172.18.0.4', port: 42008 },
        dst: { ip: '172.18.0.2', port: 8472 },
        protocol: 'udp',
        info: 'OTV, flags [I] (0x08), overlay 0, instance 21845',
        inner: packet({
          srcMac: 'e2:11:f9:ee:e2:a7',
          dstMac: '62:dc:dc:22:70:4e',
          ethertype: 'IPv4',
          frameLength: 98,
          src: { ip: '10.0.0.178', port: null },
          dst: { ip: '10.0.2.39', port: null },
          protocol: 'icmp',
          length: 64,
          info: 'ICMP echo request, id 69, seq 0, length 64',
          raw: lines[3]!,
          line: 4,
        }),
        raw: lines[2]!,
        line: 3,
      }),
    ]);
  });

  it('-i any with direction and ifindex, -tt timestamps, dates, IPv6, named ports, UDP and other protocols', () => {
    const lines = [
      '09:15:36.860874 lxc12ab  In  ifindex 9 aa:bb:cc:dd:ee:01 ethertype IPv4 (0x0800), length 80: 10.244.0.10.40001 > 10.96.94.95.80: Flags [S.], seq 1, ack 2, win 64240, length 0',
      '1764129336.123456 eth0  Out IP 10.244.0.10.53124 > 10.96.0.10.53: 4660+ A? echo.default.svc. (34)',
      '2026-11-26 09:15:36.860874 IP6 fe80::1.546 > ff02::1:2.547: dhcp6 solicit',
      '09:15:36.860875 IP 10.0.0.1.http > 10.0.0.2.40001: Flags [P.], seq 1:5, ack 1, win 5, length 4: HTTP',
      '09:15:36.860876 IP 10.0.0.1 > 10.0.0.2: GREv0, length 52: IP 10.0.0.3 > 10.0.0.4: ICMP echo request',
      '09:15:36.860877 IP 10.0.0.1.5000 > 10.0.0.2.6000: UDP, length 12',
      '09:15:36.860878 IP6 fe80::2 > ff02::2: ICMP6, router solicitation, length 16',
      '09:15:36.860879 IP 10.0.0.1.5000 > 10.0.0.2.6000: Flags [R',
    ];
    const d = parseTcpdump(lines.join('\r\n'));
    assert.deepEqual(d.unknownLines, []);
    assert.deepEqual(d.packets, [
      packet({
        time: '09:15:36.860874',
        interface: 'lxc12ab',
        direction: 'In',
        srcMac: 'aa:bb:cc:dd:ee:01',
        ethertype: 'IPv4',
        frameLength: 80,
        src: { ip: '10.244.0.10', port: 40001 },
        dst: { ip: '10.96.94.95', port: 80 },
        protocol: 'tcp',
        flags: 'S.',
        length: 0,
        info: 'Flags [S.], seq 1, ack 2, win 64240, length 0',
        raw: lines[0]!,
        line: 1,
      }),
      packet({
        time: '1764129336.123456',
        timestamp: 1764129336.123456,
        interface: 'eth0',
        direction: 'Out',
        ethertype: 'IPv4',
        src: { ip: '10.244.0.10', port: 53124 },
        dst: { ip: '10.96.0.10', port: 53 },
        protocol: 'udp',
        info: '4660+ A? echo.default.svc. (34)',
        raw: lines[1]!,
        line: 2,
      }),
      packet({
        time: '2026-11-26 09:15:36.860874',
        ethertype: 'IPv6',
        src: { ip: 'fe80::1', port: 546 },
        dst: { ip: 'ff02::1:2', port: 547 },
        protocol: 'udp',
        info: 'dhcp6 solicit',
        raw: lines[2]!,
        line: 3,
      }),
      packet({
        time: '09:15:36.860875',
        ethertype: 'IPv4',
        src: { ip: '10.0.0.1', port: null, portName: 'http' },
        dst: { ip: '10.0.0.2', port: 40001 },
        protocol: 'tcp',
        flags: 'P.',
        length: 4,
        info: 'Flags [P.], seq 1:5, ack 1, win 5, length 4: HTTP',
        raw: lines[3]!,
        line: 4,
      }),
      packet({
        time: '09:15:36.860876',
        ethertype: 'IPv4',
        src: { ip: '10.0.0.1', port: null },
        dst: { ip: '10.0.0.2', port: null },
        protocol: 'other',
        length: 52,
        info: 'GREv0, length 52: IP 10.0.0.3 > 10.0.0.4: ICMP echo request',
        raw: lines[4]!,
        line: 5,
      }),
      packet({
        time: '09:15:36.860877',
        ethertype: 'IPv4',
        src: { ip: '10.0.0.1', port: 5000 },
        dst: { ip: '10.0.0.2', port: 6000 },
        protocol: 'udp',
        length: 12,
        info: 'UDP, length 12',
        raw: lines[5]!,
        line: 6,
      }),
      packet({
        time: '09:15:36.860878',
        ethertype: 'IPv6',
        src: { ip: 'fe80::2', port: null },
        dst: { ip: 'ff02::2', port: null },
        protocol: 'icmp6',
        length: 16,
        info: 'ICMP6, router solicitation, length 16',
        raw: lines[6]!,
        line: 7,
      }),
      packet({
        time: '09:15:36.860879',
        ethertype: 'IPv4',
        src: { ip: '10.0.0.1', port: 5000 },
        dst: { ip: '10.0.0.2', port: 6000 },
        protocol: 'tcp',
        info: 'Flags [R',
        raw: lines[7]!,
        line: 8,
      }),
    ]);
  });

  it("tcpdump's own lines are skipped; lines that are not packets are kept as unknown with their number", () => {
    const lines = [
      'tcpdump: verbose output suppressed, use -v[v]... for full protocol decode',
      'listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes',
      '09:15:36.860874 IP 10.0.0.1.5000 10.0.0.2.6000: no arrow',
      'IP 10.0.0.3 > 10.0.0.4: an inner line without a carrier',
      '09:15:36.860875 IP 10.0.0.1.5000 > 10.0.0.2.6000: UDP, length 1',
      'IP 10.0.0.3 > 10.0.0.4: not after a tunnel line',
      '09:15:36.860876 IP 1.2.3 > 10.0.0.2: bad address',
      '12 packets captured',
      '14 packets received by filter',
      '0 packets dropped by kernel',
      '1 packet captured',
      '^C',
      'dropped privs to tcpdump',
      'reading from file x.pcap, link-type EN10MB (Ethernet)',
      '   ',
      'at 09:15:36.860877 IP 10.0.0.1.5000 > 10.0.0.2.6000: UDP, length 1',
    ];
    const d = parseTcpdump(lines.join('\n'));
    assert.deepEqual(
      d.packets.map((p) => p.line),
      [5],
    );
    assert.deepEqual(d.unknownLines, [
      { line: 3, text: lines[2] },
      { line: 4, text: lines[3] },
      { line: 6, text: lines[5] },
      { line: 7, text: lines[6] },
      { line: 16, text: lines[15] },
    ]);
  });

  it('a tunnel line takes one inner packet; a second line after it is unknown', () => {
    const lines = [
      '09:15:36.860874 IP 172.18.0.2.36121 > 172.18.0.3.6081: Geneve, Flags [none], vni 0x2',
      'IP 10.0.0.3.1 > 10.0.0.4.2: Flags [S], seq 1, win 1, length 0',
      'IP 10.0.0.5.1 > 10.0.0.6.2: Flags [S], seq 1, win 1, length 0',
      '09:15:36.860875 IP 172.18.0.2.36121 > 172.18.0.3.4789: VXLAN, flags [I] (0x08), vni 2',
      'not a packet',
    ];
    const d = parseTcpdump(lines.join('\n'));
    assert.deepEqual(
      d.packets.map((p) => [p.line, p.protocol, p.inner?.line ?? null, p.inner?.dst ?? null]),
      [
        [1, 'udp', 2, { ip: '10.0.0.4', port: 2 }],
        [4, 'udp', null, null],
      ],
    );
    assert.deepEqual(
      d.unknownLines.map((u) => u.line),
      [3, 5],
    );
  });
});

describe('parseTcpdumpAddress', () => {
  it('IPv4 with and without port, IPv6 with and without port, a named port, an annotation, garbage', () => {
    assert.deepEqual(
      [
        '10.0.0.1.80',
        '10.0.0.1',
        'fe80::1.546',
        'fe80::1',
        '10.0.0.1.http',
        '10.0.0.1.80[|tcp]',
        '[x]',
        '',
        '1.2.3',
        '1.2.3.4.5.6',
      ].map(parseTcpdumpAddress),
      [
        { ip: '10.0.0.1', port: 80 },
        { ip: '10.0.0.1', port: null },
        { ip: 'fe80::1', port: 546 },
        { ip: 'fe80::1', port: null },
        { ip: '10.0.0.1', port: null, portName: 'http' },
        { ip: '10.0.0.1', port: 80 },
        null,
        null,
        null,
        null,
      ],
    );
  });
});
