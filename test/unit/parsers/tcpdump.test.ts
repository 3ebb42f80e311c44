import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseTcpdump, parseTcpdumpAddress } from '../../../support/parsers/tcpdump.ts';

describe('parseTcpdump', () => {
  it('reads -nn without -e: time, addresses, ports, flags verbatim and length', () => {
    const r = parseTcpdump(
      [
        '04:37:01.756170 IP 10.244.0.46.43336 > 10.102.39.104.80: Flags [S], seq 593624381, win 64860, options [mss 1410,sackOK,TS val 760402145 ecr 0,nop,wscale 10], length 0',
        '04:37:01.756500 IP 10.102.39.104.80 > 10.244.0.46.43336: Flags [S.], seq 1, ack 593624382, win 65160, length 0',
        '04:37:01.757000 IP 10.244.0.46.43336 > 10.102.39.104.80: Flags [P.], seq 1:81, ack 1, win 502, length 80',
        '04:37:01.758000 IP 10.244.0.46.43336 > 10.102.39.104.80: Flags [R.], seq 81, ack 1, win 0, length 0',
      ].join('\n'),
    );
    assert.deepEqual(
      r.packets.map((p) => [p.time, p.src?.ip, p.src?.port, p.dst?.ip, p.dst?.port, p.flags, p.length, p.protocol]),
      [
        ['04:37:01.756170', '10.244.0.46', 43336, '10.102.39.104', 80, 'S', 0, 'tcp'],
        ['04:37:01.756500', '10.102.39.104', 80, '10.244.0.46', 43336, 'S.', 0, 'tcp'],
        ['04:37:01.757000', '10.244.0.46', 43336, '10.102.39.104', 80, 'P.', 80, 'tcp'],
        ['04:37:01.758000', '10.244.0.46', 43336, '10.102.39.104', 80, 'R.', 0, 'tcp'],
      ],
    );
    assert.equal(r.packets[0]!.srcMac, null);
    assert.equal(r.packets[0]!.ethertype, 'IPv4');
  });

  it('reads -e: MACs, ethertype, frame length; ARP who-has and reply; ICMP echo', () => {
    const r = parseTcpdump(
      [
        'tcpdump: verbose output suppressed, use -v[v]... for full protocol decode',
        'listening on eth0, link-type EN10MB (Ethernet), snapshot length 262144 bytes',
        '06:04:18.494304 6e:ba:ba:6e:38:70 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 10.244.0.50 tell 10.244.0.160, length 28',
        '06:04:18.494346 7e:b5:77:fa:4c:e4 > 6e:ba:ba:6e:38:70, ethertype ARP (0x0806), length 42: Reply 10.244.0.50 is-at 7e:b5:77:fa:4c:e4, length 28',
        '03:14:06.543372 22:39:79:6d:4a:ce > de:fc:0b:30:de:6a, ethertype IPv4 (0x0800), length 98: 10.0.0.166 > 10.0.1.118: ICMP echo request, id 45, seq 0, length 64',
        '^C',
        '3 packets captured',
        '3 packets received by filter',
        '0 packets dropped by kernel',
      ].join('\n'),
    );
    assert.deepEqual(r.unknownLines, []);
    const [who, reply, icmp] = r.packets;
    assert.deepEqual(
      [who!.protocol, who!.src!.ip, who!.dst!.ip, who!.dstMac],
      ['arp', '10.244.0.160', '10.244.0.50', 'ff:ff:ff:ff:ff:ff'],
    );
    assert.equal(reply!.src!.ip, '10.244.0.50');
    assert.deepEqual(
      [icmp!.srcMac, icmp!.ethertype, icmp!.frameLength, icmp!.protocol, icmp!.length, icmp!.dst],
      ['22:39:79:6d:4a:ce', 'IPv4', 98, 'icmp', 64, { ip: '10.0.1.118', port: null }],
    );
  });

  it('reads -i any interface and direction, IPv6, UDP and named ports', () => {
    const r = parseTcpdump(
      [
        '10:00:00.000001 lxc1234 In  IP 10.244.0.10.40000 > 10.96.0.10.53: 12345+ A? kubernetes.default. (36)',
        '10:00:00.000002 eth0  Out IP6 fd00::1.443 > fd00::2.50000: Flags [.], ack 1, win 5, length 0',
        '10:00:00.000003 IP 10.0.0.1.http > 10.0.0.2.51000: Flags [P.], seq 1:10, ack 1, win 5, length 9',
        '10:00:00.000004 IP 10.0.0.1.5000 > 10.0.0.2.6000: UDP, length 12',
      ].join('\n'),
    );
    const [dns, v6, named, udp] = r.packets;
    assert.deepEqual([dns!.interface, dns!.direction, dns!.protocol, dns!.dst!.port], ['lxc1234', 'In', 'udp', 53]);
    assert.deepEqual(
      [v6!.interface, v6!.direction, v6!.ethertype, v6!.src],
      ['eth0', 'Out', 'IPv6', { ip: 'fd00::1', port: 443 }],
    );
    assert.deepEqual(named!.src, { ip: '10.0.0.1', port: null, portName: 'http' });
    assert.deepEqual([udp!.protocol, udp!.length], ['udp', 12]);
  });

  it('skips the `ifindex N` that tcpdump 4.99 prints after -i any with -e, reading MACs and tuple', () => {
    // Shape as tcpdump 4.99.3 prints it with `-i any -e -nn` (Linux cooked v2 header).
    const r = parseTcpdump(
      [
        '06:44:56.002023 lo    In  ifindex 1 00:00:00:00:00:00 ethertype IPv4 (0x0800), length 104: 127.0.0.1 > 127.0.0.1: ICMP echo request, id 6480, seq 1, length 64',
        '04:08:00.370324 lxcd2a04d71301a In  ifindex 9 12:94:43:de:b3:c0 ethertype IPv4 (0x0800), length 80: 10.244.0.10.40001 > 10.96.94.95.80: Flags [S], seq 1, win 64240, length 0',
      ].join('\n'),
    );
    assert.deepEqual(r.unknownLines, []);
    const [lo, lxc] = r.packets;
    assert.deepEqual([lo!.interface, lo!.direction, lo!.protocol, lo!.dst!.ip], ['lo', 'In', 'icmp', '127.0.0.1']);
    assert.deepEqual(
      [lxc!.interface, lxc!.direction, lxc!.srcMac, lxc!.ethertype, lxc!.src, lxc!.dst, lxc!.flags],
      [
        'lxcd2a04d71301a',
        'In',
        '12:94:43:de:b3:c0',
        'IPv4',
        { ip: '10.244.0.10', port: 40001 },
        { ip: '10.96.94.95', port: 80 },
        'S',
      ],
    );
  });

  it('attaches the inner packet printed under a VXLAN (OTV) line', () => {
    const r = parseTcpdump(
      [
        '19:07:35.425287 IP 192.168.76.3.36121 > 192.168.76.2.8472: OTV, flags [I] (0x08), overlay 0, instance 22446',
        'IP 10.244.1.87 > 10.244.0.132: ICMP echo request, id 29, seq 0, length 64',
      ].join('\n'),
    );
    assert.equal(r.packets.length, 1);
    assert.equal(r.packets[0]!.protocol, 'udp');
    assert.deepEqual(r.packets[0]!.inner!.dst, { ip: '10.244.0.132', port: null });
    assert.equal(r.packets[0]!.inner!.protocol, 'icmp');
  });

  it('lists malformed lines as unknown and never throws', () => {
    const r = parseTcpdump(
      'garbage\n12:00:00.000000 IP nothing here\n12:00:00.000000 \nIP 1.2.3.4 > 5.6.7.8: ICMP echo\n',
    );
    assert.equal(r.packets.length, 0);
    assert.deepEqual(
      r.unknownLines.map((u) => u.line),
      [1, 2, 3, 4],
    );
  });

  it('parses tcpdump addresses', () => {
    assert.deepEqual(parseTcpdumpAddress('10.0.0.1.80'), { ip: '10.0.0.1', port: 80 });
    assert.deepEqual(parseTcpdumpAddress('10.0.0.1'), { ip: '10.0.0.1', port: null });
    assert.deepEqual(parseTcpdumpAddress('fe80::1.546'), { ip: 'fe80::1', port: 546 });
    assert.deepEqual(parseTcpdumpAddress('fe80::1'), { ip: 'fe80::1', port: null });
    assert.equal(parseTcpdumpAddress('1.2'), null);
  });
});
