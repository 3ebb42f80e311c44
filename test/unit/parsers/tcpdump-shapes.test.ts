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
      '09:15:36.860874 lxc12ab  In  ifindex 12 aa:bb:cc:dd:ee:01 ethertype IPv4 (0x0800), length 80: 10.244.0.10.40001 > 10.96.94.95.80: Flags [S.], seq 1, ack 2, win 64240, length 0',
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

describe('tcpdump line edges', () => {
  it('-i any directions B, M and P; two spaces after the time; an -e frame without the ethertype word', () => {
    const lines = [
      '09:15:36.000001 eth0  B   IP 10.0.0.1.5000 > 10.0.0.255.6000: UDP, length 1',
      '09:15:36.000002 eth0  M   IP 10.0.0.1.5000 > 224.0.0.1.6000: UDP, length 2',
      '09:15:36.000003 eth0  P   IP 10.0.0.1.5000 > 10.0.0.9.6000: UDP, length 3',
      '09:15:36.000004  IP 10.0.0.1.5000 > 10.0.0.2.6000: UDP, length 4',
      '09:15:36.000005 aa:bb:cc:dd:ee:01 > aa:bb:cc:dd:ee:02, IPv4, length 74: 10.0.0.1.5000 > 10.0.0.2.6000: UDP, length 5',
      '09:15:36.000006 aa:bb:cc:dd:ee:01 > aa:bb:cc:dd:ee:02, IPv6, length 86: fe80::1 > ff02::2: ICMP6, router solicitation, length 6',
    ];
    const d = parseTcpdump(lines.join('\n'));
    assert.deepEqual(d.unknownLines, []);
    assert.deepEqual(
      d.packets.map((p) => [
        p.interface,
        p.direction,
        p.ethertype,
        p.srcMac,
        p.frameLength,
        p.src?.ip,
        p.protocol,
        p.length,
      ]),
      [
        ['eth0', 'B', 'IPv4', null, null, '10.0.0.1', 'udp', 1],
        ['eth0', 'M', 'IPv4', null, null, '10.0.0.1', 'udp', 2],
        ['eth0', 'P', 'IPv4', null, null, '10.0.0.1', 'udp', 3],
        [null, null, 'IPv4', null, null, '10.0.0.1', 'udp', 4],
        [null, null, 'IPv4', 'aa:bb:cc:dd:ee:01', 74, '10.0.0.1', 'udp', 5],
        [null, null, 'IPv6', 'aa:bb:cc:dd:ee:01', 86, 'fe80::1', 'icmp6', 6],
      ],
    );
  });

  it('ARP without -e: with and without a MAC in parentheses, at the end of the line', () => {
    const lines = [
      '09:15:36.000001 ARP, Request who-has 10.0.0.1 (aa:bb:cc:dd:ee:ff) tell 10.0.0.2, length 46',
      '09:15:36.000002 ARP, Request who-has 10.0.0.3 tell 10.0.0.4',
      '09:15:36.000003 ARP, Reply 10.0.0.1 is-at aa:bb:cc:dd:ee:ff',
    ];
    const d = parseTcpdump(lines.join('\n'));
    assert.deepEqual(d.packets, [
      packet({
        time: '09:15:36.000001',
        ethertype: 'ARP',
        src: { ip: '10.0.0.2', port: null },
        dst: { ip: '10.0.0.1', port: null },
        protocol: 'arp',
        length: 46,
        info: 'Request who-has 10.0.0.1 (aa:bb:cc:dd:ee:ff) tell 10.0.0.2, length 46',
        raw: lines[0]!,
        line: 1,
      }),
      packet({
        time: '09:15:36.000002',
        ethertype: 'ARP',
        src: { ip: '10.0.0.4', port: null },
        dst: { ip: '10.0.0.3', port: null },
        protocol: 'arp',
        info: 'Request who-has 10.0.0.3 tell 10.0.0.4',
        raw: lines[1]!,
        line: 2,
      }),
      packet({
        time: '09:15:36.000003',
        ethertype: 'ARP',
        src: { ip: '10.0.0.1', port: null },
        protocol: 'arp',
        info: 'Reply 10.0.0.1 is-at aa:bb:cc:dd:ee:ff',
        raw: lines[2]!,
        line: 3,
      }),
    ]);
  });

  it('the protocol: named ports, UDP or tunnel info without ports, a tunnel word later in the info, a line cut before the colon', () => {
    const lines = [
      '09:15:36.000001 IP 10.0.0.1.domain > 10.0.0.2.53124: 4660 1/0/0 A 10.0.0.5 (50)',
      '09:15:36.000002 IP 10.0.0.1 > 10.0.0.2: UDP, bad length 5 > 4',
      '09:15:36.000003 IP 10.0.0.1 > 10.0.0.2: VXLAN, flags [I] (0x08), vni 2',
      '09:15:36.000004 IP 10.0.0.1 > 10.0.0.2: gre-proto-0x6558 OTV',
      'IP 10.0.0.3 > 10.0.0.4: ICMP echo request',
      '09:15:36.000005 IP 10.0.0.1.5 > 10.0.0.2.6',
      '09:15:36.000006 IP 10.0.0.1.5000 > 10.0.0.2.6000: length 7',
    ];
    const d = parseTcpdump(lines.join('\n'));
    assert.deepEqual(
      d.packets.map((p) => [
        p.line,
        p.protocol,
        p.src?.portName ?? null,
        p.dst,
        p.info,
        p.length,
        p.inner?.line ?? null,
      ]),
      [
        [1, 'udp', 'domain', { ip: '10.0.0.2', port: 53124 }, '4660 1/0/0 A 10.0.0.5 (50)', null, null],
        [2, 'udp', null, { ip: '10.0.0.2', port: null }, 'UDP, bad length 5 > 4', 5, null],
        [3, 'udp', null, { ip: '10.0.0.2', port: null }, 'VXLAN, flags [I] (0x08), vni 2', null, null],
        [4, 'other', null, { ip: '10.0.0.2', port: null }, 'gre-proto-0x6558 OTV', null, null],
        [6, 'udp', null, { ip: '10.0.0.2', port: 6 }, '', null, null],
        [7, 'udp', null, { ip: '10.0.0.2', port: 6000 }, 'length 7', 7, null],
      ],
    );
    assert.deepEqual(d.unknownLines, [{ line: 5, text: lines[4] }]);
  });

  it("tcpdump's own words count only at the start of a line; a leading ifindex only; CR only at the end", () => {
    const lines = [
      'note: tcpdump: something',
      'was listening on eth0',
      'not reading from file x',
      'got 12 packets captured',
      'x^C',
      '^Cx',
      'we dropped privs',
      'a\rb',
      '09:15:36.000001 IP 10.0.0.1.5: x',
      '09:15:36.000002 eth0  Out IP 10.0.0.1.5000 > 10.0.0.2.6000: UDP, ifindex 12 length 1',
    ];
    const d = parseTcpdump(lines.join('\n'));
    assert.deepEqual(
      d.unknownLines.map((u) => u.text),
      lines.slice(0, 9),
    );
    assert.deepEqual(
      d.packets.map((p) => [p.interface, p.direction, p.info]),
      [['eth0', 'Out', 'UDP, ifindex 12 length 1']],
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
        '[1.2.3.4]',
        '10.0.0.1[x',
        '10.0.0.1.pop3',
        '10.0.0.1.3com-tsmux',
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
        { ip: '[1.2.3.4]', port: null },
        { ip: '10.0.0.1[x', port: null },
        { ip: '10.0.0.1', port: null, portName: 'pop3' },
        { ip: '10.0.0.1', port: null, portName: '3com-tsmux' },
        null,
        null,
      ],
    );
  });
});
