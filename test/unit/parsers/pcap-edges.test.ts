/**
 * The pcap reader at the edges of the formats it reads: records cut by the snaplen at every
 * byte, every link type and packet type it knows, IPv6 extension headers, VXLAN on both ports,
 * and the packets of the corpus (printed by tcpdump) rebuilt as bytes and read back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipv6, looksLikePcap, readPcap, tcpFlagsText } from '../../../support/parsers/pcap.ts';
import { type Packet, parseTcpdump } from '../../../support/parsers/tcpdump.ts';
import { be16, be32, pcapBytes } from '../helpers/pcap-bytes.ts';
import { realWorld, skipUnlessRealWorld } from '../helpers/real-world.ts';

// ---- Byte builders, in the layouts of the real formats (network byte order on the wire) ----

const macB = (s: string) => s.split(':').map((h) => Number.parseInt(h, 16));
const ip4B = (s: string) => s.split('.').map(Number);

/** IPv6 text (with at most one `::`) → 16 bytes. */
function ip6B(s: string): number[] {
  const [head, tail] = s.split('::') as [string, string | undefined];
  const words = (x: string | undefined) => (x ? x.split(':').map((w) => Number.parseInt(w, 16)) : []);
  const h = words(head);
  const t = words(tail);
  const all = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  return all.flatMap(be16);
}

function ipv4(proto: number, src: string, dst: string, payload: number[], fragOffset = 0): number[] {
  const hdr = [0x45, 0, ...be16(20 + payload.length), 0x12, 0x34, ...be16(fragOffset), 64, proto, 0, 0];
  return [...hdr, ...ip4B(src), ...ip4B(dst), ...payload];
}

/** IPv6 header; `payload` is everything after the fixed header (extension headers included). */
function ipv6Pkt(next: number, src: string, dst: string, payload: number[]): number[] {
  return [0x60, 0, 0, 0, ...be16(payload.length), next, 64, ...ip6B(src), ...ip6B(dst), ...payload];
}

/** TCP header with `opts` option bytes (NOPs, so the data offset grows in words) and `len` data bytes. */
function tcp(sport: number, dport: number, flags: number, len = 0, opts = 0): number[] {
  const doff = (20 + opts) / 4;
  return [
    ...be16(sport),
    ...be16(dport),
    ...be32(1),
    ...be32(0),
    doff << 4,
    flags,
    ...be16(502),
    0,
    0,
    0,
    0,
    ...new Array(opts).fill(1),
    ...new Array(len).fill(0x61),
  ];
}

function udp(sport: number, dport: number, payload: number[]): number[] {
  return [...be16(sport), ...be16(dport), ...be16(8 + payload.length), 0, 0, ...payload];
}

/** ICMP / ICMPv6 message: type, code, checksum, 4 bytes of rest-of-header, then `body` bytes. */
const icmp = (type: number, body = 0, rest = [0, 0, 0, 0]) => [type, 0, 0, 0, ...rest, ...new Array(body).fill(0)];

function ether(dst: string, src: string, ethertype: number, payload: number[]): number[] {
  return [...macB(dst), ...macB(src), ...be16(ethertype), ...payload];
}

/** ARP for IPv4 over Ethernet (28 bytes). */
function arp(op: number, sha: string, spa: string, tha: string, tpa: string): number[] {
  return [0, 1, 8, 0, 6, 4, ...be16(op), ...macB(sha), ...ip4B(spa), ...macB(tha), ...ip4B(tpa)];
}

/** Linux cooked v1 header (16 bytes): packet type, ARPHRD, address length, 8 address bytes, protocol. */
function sll(pkttype: number, protocol: number, payload: number[], addr = '02:42:ac:12:00:09', hatype = 1): number[] {
  const a = hatype === 1 ? [...macB(addr), 0, 0] : new Array(8).fill(0);
  return [...be16(pkttype), ...be16(hatype), ...be16(hatype === 1 ? 6 : 0), ...a, ...be16(protocol), ...payload];
}

/** Linux cooked v2 header (20 bytes): protocol, reserved, ifindex, ARPHRD, packet type, address length, address. */
function sll2(pkttype: number, protocol: number, payload: number[], addr = '7e:b5:77:fa:4c:e4', hatype = 1): number[] {
  const a = hatype === 1 ? [...macB(addr), 0, 0] : new Array(8).fill(0);
  return [...be16(protocol), 0, 0, ...be32(7), ...be16(hatype), pkttype, hatype === 1 ? 6 : 0, ...a, ...payload];
}

/** VXLAN header (I flag, 24-bit VNI) and the Ethernet frame it carries. */
const vxlan = (vni: number, inner: number[], flags = 0x08) => [flags, 0, 0, 0, ...be32(vni << 8), ...inner];

const pcap = pcapBytes;

/** 2023-11-14 00:00:00 UTC; `at('02:52:24.958577')` is a record time on that day. */
const DAY = 1_699_920_000;
function at(time: string): { sec: number; frac: number } {
  const [h, m, s] = time.split(':') as [string, string, string];
  const [whole, frac] = s.split('.') as [string, string];
  return { sec: DAY + Number(h) * 3600 + Number(m) * 60 + Number(whole), frac: Number(frac) };
}

/** One frame read back as the only packet of a file. */
function one(frame: number[], linkType = 1, incl?: number): Packet {
  const r = readPcap(pcap([{ ...at('06:04:18.494304'), frame, incl }], { linkType }));
  assert.equal(r.packets.length, 1);
  return r.packets[0]!;
}

const MAC_A = '6e:ba:ba:6e:38:70';
const MAC_B = '7e:b5:77:fa:4c:e4';

// ---- The corpus: tcpdump's lines for real packets, the same packets rebuilt as bytes ----

/** The frame tcpdump described in `p` (a line of `tcpdump -nne`), built from its printed fields. */
function frameOf(p: Packet, arpTarget?: string): number[] {
  const fl = p.frameLength!;
  if (p.protocol === 'arp') {
    const reply = p.info!.startsWith('Reply');
    const body = reply
      ? arp(2, p.srcMac!, p.src!.ip, p.dstMac!, arpTarget!)
      : arp(1, p.srcMac!, p.src!.ip, '00:00:00:00:00:00', p.dst!.ip);
    return ether(p.dstMac!, p.srcMac!, 0x0806, body);
  }
  let l4: number[];
  if (p.protocol === 'tcp') {
    const flags = { S: 0x02, 'S.': 0x12, '.': 0x10, 'P.': 0x18, 'F.': 0x11, R: 0x04 }[p.flags!]!;
    l4 = tcp(p.src!.port!, p.dst!.port!, flags, p.length!, fl - 54 - p.length!);
  } else if (p.protocol === 'icmp') {
    const [, id, seq] = /id (\d+), seq (\d+)/.exec(p.info!)!;
    const type = p.info!.includes('request') ? 8 : 0;
    l4 = icmp(type, p.length! - 8, [...be16(Number(id)), ...be16(Number(seq))]);
  } else {
    const vni = Number(/instance (\d+)/.exec(p.info!)![1]);
    l4 = udp(p.src!.port!, p.dst!.port!, vxlan(vni, frameOf(p.inner!)));
  }
  const proto = { tcp: 6, icmp: 1, udp: 17 }[p.protocol!]!;
  return ether(p.dstMac!, p.srcMac!, 0x0800, ipv4(proto, p.src!.ip, p.dst!.ip, l4));
}

/** The fields both readers fill the same way. */
const common = (p: Packet) => ({
  srcMac: p.srcMac,
  dstMac: p.dstMac,
  ethertype: p.ethertype,
  src: p.src,
  protocol: p.protocol,
  flags: p.flags,
});

const CORPUS = {
  vxlan: 'mixed-kubeproxy-vxlan-tc-filter-tcpdump-1.15.0rc1-kind-wcnikind.txt',
  arp: 'tcpdump-pne-in-pod-to-nodeport-kubeproxy-1.15.0rc1-kind-wcnikind.txt',
  ping: 'tcpdump-nne-lxc-ping-crossnode-kubeproxy-native-1.15.0rc1-wcnikind-pcap-rendered.txt',
  eth0: 'tcpdump-nne-eth0-node-kubeproxy-native-1.15.0rc1-wcnikind-pcap-rendered.txt',
};

describe('readPcap reads the corpus packets as tcpdump printed them', {
  skip: skipUnlessRealWorld(...Object.values(CORPUS)),
}, () => {
  /** The packets of `name` whose line matches `re`, with their pcap twins (one file, same order). */
  function twins(t: { skip(m?: string): void }, name: string, re: RegExp, count: number) {
    const text = realWorld(t, name)!;
    const lines = text.split('\n');
    const picked = lines.flatMap((l, i) => (re.test(l) ? [i] : []));
    // A VXLAN line is followed by the line of the frame it carries.
    const block = picked.flatMap((i) => (/OTV/.test(lines[i]!) ? [lines[i]!, lines[i + 1]!] : [lines[i]!]));
    const printed = parseTcpdump(block.join('\n')).packets;
    assert.equal(printed.length, count, `${count} packets picked from ${name}`);
    const target = printed.find((p) => p.info?.startsWith('Request'))?.src?.ip;
    const read = readPcap(pcap(printed.map((p) => ({ ...at(p.time!), frame: frameOf(p, target) })))).packets;
    assert.equal(read.length, count);
    return printed.map((p, i) => [p, read[i]!] as const);
  }

  it('VXLAN on 8472 (tcpdump: OTV) with the ICMP frame inside', (t) => {
    for (const [printed, read] of twins(t, CORPUS.vxlan, /^\d\d:\d\d:\d\d\.\d+ .* OTV, /, 2)) {
      assert.deepEqual(common(read), common(printed));
      assert.deepEqual([read.time, read.frameLength, read.dst], [printed.time, printed.frameLength, printed.dst]);
      assert.equal(read.info, printed.info);
      // The carried frame: same fields and frame length; its text as tcpdump prints it minus id/seq.
      assert.deepEqual(common(read.inner!), common(printed.inner!));
      assert.equal(read.inner!.length, 64);
      assert.equal(read.inner!.frameLength, printed.inner!.frameLength);
      assert.equal(read.inner!.raw, printed.inner!.raw.replace(' (0x0800)', '').replace(/, id \d+, seq \d+/, ''));
      assert.equal(read.raw, printed.raw.replace(' (0x0800)', ''));
    }
  });

  it('ARP request and reply', (t) => {
    const [[pq, rq], [pr, rr]] = twins(t, CORPUS.arp, /ethertype ARP/, 2) as [
      readonly [Packet, Packet],
      readonly [Packet, Packet],
    ];
    for (const [printed, read] of [
      [pq, rq],
      [pr, rr],
    ] as const) {
      assert.deepEqual(common(read), common(printed));
      assert.equal(`${read.info}, length 28`, printed.info);
      assert.equal(read.length, 28);
      assert.equal(
        read.raw,
        printed.raw.replace(' (0x0806), length 42: ', ', length 42: ARP, ').replace(/, length 28$/, ''),
      );
    }
    assert.deepEqual(rq.dst, pq.dst);
  });

  it('ICMP echo and TCP with options', (t) => {
    const pairs = [
      ...twins(t, CORPUS.ping, /ICMP echo/, 2),
      ...twins(t, CORPUS.eth0, /^[\d:.]+ .*: Flags \[/, 276),
      ...twins(t, CORPUS.arp, /^[\d:.]+ [^*]*: Flags \[/, 11),
    ];
    for (const [printed, read] of pairs) {
      assert.deepEqual(common(read), common(printed));
      assert.deepEqual(
        [read.time, read.frameLength, read.dst, read.length],
        [printed.time, printed.frameLength, printed.dst, printed.length],
      );
    }
    const [req] = pairs[0]!;
    assert.equal(pairs[0]![1].raw, req.raw.replace(' (0x0800)', '').replace(/, id \d+, seq \d+/, ''));
  });
});

// ---- Records cut by the snaplen: a field is read only when its bytes were captured ----

/** What a packet says, layer by layer. */
const layers = (p: Packet) => [p.srcMac, p.direction, p.ethertype, p.src?.ip ?? null, p.protocol, p.info];

/**
 * Every cut of `frame` from 0 bytes to the whole: `steps` maps the first cut length at which a
 * layer appears to what the packet says from there on.
 */
function cuts(frame: number[], linkType: number, steps: Array<[number, ReturnType<typeof layers>]>): void {
  for (let incl = 0; incl <= frame.length; incl++) {
    const p = one(frame, linkType, incl);
    const want = steps.filter(([from]) => from <= incl).at(-1)![1];
    assert.deepEqual(layers(p), want, `captured ${incl} of ${frame.length} bytes`);
    assert.equal(p.frameLength, frame.length, 'the frame length is the length on the wire');
    assert.doesNotMatch(p.raw, /undefined|NaN/, `captured ${incl}: ${p.raw}`);
  }
}

describe('a record cut by the snaplen', () => {
  const nothing = [null, null, null, null, null, null];

  it('Ethernet / IPv4 / TCP', () => {
    const f = ether(MAC_B, MAC_A, 0x0800, ipv4(6, '10.244.0.160', '172.18.0.5', tcp(47192, 30495, 0x02)));
    cuts(f, 1, [
      [0, nothing],
      [14, [MAC_A, null, 'IPv4', null, null, null]],
      [34, [MAC_A, null, 'IPv4', '10.244.0.160', 'other', 'ip-proto-6']],
      [48, [MAC_A, null, 'IPv4', '10.244.0.160', 'tcp', 'Flags [S], length 0']],
    ]);
  });

  it('Ethernet / 802.1Q / IPv4 / UDP', () => {
    const f = ether(MAC_B, MAC_A, 0x8100, [
      0,
      10,
      ...be16(0x0800),
      ...ipv4(17, '10.0.0.1', '10.96.0.10', udp(40000, 53, [1, 2, 3, 4])),
    ]);
    cuts(f, 1, [
      [0, nothing],
      [14, [MAC_A, null, '802.1Q', null, 'other', null]],
      [18, [MAC_A, null, 'IPv4', null, null, null]],
      [38, [MAC_A, null, 'IPv4', '10.0.0.1', 'other', 'ip-proto-17']],
      [46, [MAC_A, null, 'IPv4', '10.0.0.1', 'udp', 'UDP, length 4']],
    ]);
  });

  it('Ethernet / ARP', () => {
    const f = ether(
      'ff:ff:ff:ff:ff:ff',
      MAC_A,
      0x0806,
      arp(1, MAC_A, '10.244.0.160', '00:00:00:00:00:00', '10.244.0.50'),
    );
    cuts(f, 1, [
      [0, nothing],
      [14, [MAC_A, null, 'ARP', null, 'arp', null]],
      [42, [MAC_A, null, 'ARP', '10.244.0.160', 'arp', 'Request who-has 10.244.0.50 tell 10.244.0.160']],
    ]);
    assert.equal(one(f, 1, 20).raw, `06:04:18.494304 ${MAC_A} > ff:ff:ff:ff:ff:ff, ethertype ARP, length 42: ARP,`);
  });

  it('Ethernet / IPv4 / UDP 8472 / VXLAN / Ethernet / IPv4 / ICMP', () => {
    const inner = ether(MAC_B, MAC_A, 0x0800, ipv4(1, '10.0.0.178', '10.0.2.39', icmp(8, 56)));
    const f = ether(
      '02:42:ac:12:00:02',
      '02:42:ac:12:00:04',
      0x0800,
      ipv4(17, '172.18.0.4', '172.18.0.2', udp(42008, 8472, vxlan(21845, inner))),
    );
    const outer = ['02:42:ac:12:00:04', null, 'IPv4', '172.18.0.4'];
    cuts(f, 1, [
      [0, nothing],
      [14, [outer[0], null, 'IPv4', null, null, null]],
      [34, [...outer, 'other', 'ip-proto-17']],
      [42, [...outer, 'udp', 'UDP, length 106']],
      [64, [...outer, 'udp', 'OTV, flags [I] (0x08), overlay 0, instance 21845']],
    ]);
    // The carried frame is read as far as it was captured.
    const innerAt = (incl: number) => layers(one(f, 1, incl).inner!);
    assert.equal(one(f, 1, 63).inner, null);
    assert.deepEqual(innerAt(64), [MAC_A, null, 'IPv4', null, null, null]);
    assert.deepEqual(innerAt(84), [MAC_A, null, 'IPv4', '10.0.0.178', 'other', 'ip-proto-1']);
    assert.deepEqual(innerAt(85), [MAC_A, null, 'IPv4', '10.0.0.178', 'icmp', 'ICMP echo request, length 64']);
    // Its frame length is the one on the wire (UDP length 106 − 8 of VXLAN), however far it was captured.
    for (const incl of [64, 85, f.length]) assert.equal(one(f, 1, incl).inner!.frameLength, 98);
  });

  it('Ethernet / IPv6 / hop-by-hop / ICMPv6', () => {
    const hbh = [58, 0, 5, 2, 0, 0, 1, 0]; // router alert, as MLD reports carry
    const f = ether(
      '33:33:00:00:00:16',
      MAC_A,
      0x86dd,
      ipv6Pkt(0, 'fe80::6cba:baff:fe6e:3870', 'ff02::16', [...hbh, ...icmp(143, 20)]),
    );
    const v6 = [MAC_A, null, 'IPv6', 'fe80::6cba:baff:fe6e:3870'];
    cuts(f, 1, [
      [0, nothing],
      [14, [MAC_A, null, 'IPv6', null, null, null]],
      [54, [...v6, 'other', 'ip-proto-0']],
      [62, [...v6, 'other', 'ip-proto-58']],
      [63, [...v6, 'icmp6', 'ICMP6, type 143, length 28']],
    ]);
  });

  it('raw IPv4 (101) / ICMP', () => {
    const f = ipv4(1, '10.0.0.166', '10.0.1.118', icmp(0, 56));
    cuts(f, 101, [
      [0, nothing],
      [1, [null, null, 'IPv4', null, null, null]],
      [20, [null, null, 'IPv4', '10.0.0.166', 'other', 'ip-proto-1']],
      [21, [null, null, 'IPv4', '10.0.0.166', 'icmp', 'ICMP echo reply, length 64']],
    ]);
  });

  it('Linux cooked SLL (113) / IPv4 / ICMP', () => {
    const f = sll(4, 0x0800, ipv4(1, '10.0.0.166', '10.0.1.118', icmp(8, 56)));
    cuts(f, 113, [
      [0, nothing],
      [16, ['02:42:ac:12:00:09', 'Out', 'IPv4', null, null, null]],
      [36, ['02:42:ac:12:00:09', 'Out', 'IPv4', '10.0.0.166', 'other', 'ip-proto-1']],
      [37, ['02:42:ac:12:00:09', 'Out', 'IPv4', '10.0.0.166', 'icmp', 'ICMP echo request, length 64']],
    ]);
  });

  it('Linux cooked SLL2 (276) / IPv6 / UDP', () => {
    const f = sll2(0, 0x86dd, ipv6Pkt(17, 'fd00:10:2::5', 'fd00:10:96::a', udp(40000, 53, new Array(12).fill(0))));
    cuts(f, 276, [
      [0, nothing],
      [20, [MAC_B, 'In', 'IPv6', null, null, null]],
      [60, [MAC_B, 'In', 'IPv6', 'fd00:10:2::5', 'other', 'ip-proto-17']],
      [68, [MAC_B, 'In', 'IPv6', 'fd00:10:2::5', 'udp', 'UDP, length 12']],
    ]);
  });
});

// ---- Link types ----

describe('link types', () => {
  const v4 = ipv4(6, '10.244.0.160', '172.18.0.5', tcp(47192, 30495, 0x12));

  it('SLL and SLL2 name the packet type as tcpdump -i any does', () => {
    const names = ['In', 'B', 'M', 'P', 'Out'];
    for (let type = 0; type <= 4; type++) {
      assert.equal(one(sll(type, 0x0800, v4), 113).direction, names[type], `SLL type ${type}`);
      assert.equal(one(sll2(type, 0x0800, v4), 276).direction, names[type], `SLL2 type ${type}`);
    }
  });

  it('SLL on a device without a link address (a tunnel) has no source MAC', () => {
    const p = one(sll(0, 0x0800, v4, '', 0xfffe), 113);
    assert.equal(p.srcMac, null);
    assert.equal(p.raw, '06:04:18.494304 10.244.0.160.47192 > 172.18.0.5.30495: Flags [S.], length 0');
    const p2 = one(sll2(0, 0x0800, v4, '', 0xfffe), 276);
    assert.equal(p2.srcMac, null);
    assert.equal(p2.raw, p.raw);
  });

  it('SLL and SLL2 carry the source MAC and the protocol (IPv6 here), but no destination MAC', () => {
    const v6 = ipv6Pkt(6, 'fd00:10:2::5', 'fd00:10:96::a', tcp(40000, 80, 0x18, 100));
    for (const [frame, lt] of [
      [sll(4, 0x86dd, v6, MAC_A), 113],
      [sll2(4, 0x86dd, v6, MAC_A), 276],
    ] as const) {
      const p = one([...frame], lt);
      assert.deepEqual([p.srcMac, p.dstMac, p.ethertype, p.protocol, p.length], [MAC_A, null, 'IPv6', 'tcp', 100]);
      assert.equal(
        p.raw,
        `06:04:18.494304 ${MAC_A} > ?, ethertype IPv6, length ${frame.length}: fd00:10:2::5.40000 > fd00:10:96::a.80: Flags [P.], length 100`,
      );
    }
  });

  it('raw IP (101, 12, 14) tells IPv4 from IPv6 by the version nibble', () => {
    const v6 = ipv6Pkt(17, '2001:db8::1', '2001:db8::2', udp(5353, 5353, [0, 0]));
    for (const lt of [101, 12, 14]) {
      assert.deepEqual([one(v6, lt).ethertype, one(v6, lt).src!.ip], ['IPv6', '2001:db8::1']);
      assert.deepEqual([one(v4, lt).ethertype, one(v4, lt).src!.ip], ['IPv4', '10.244.0.160']);
    }
    assert.equal(one(v6, 101).raw, '06:04:18.494304 2001:db8::1.5353 > 2001:db8::2.5353: UDP, length 2');
  });

  it('an 802.1Q tag and an 802.1ad (QinQ) pair of tags are skipped', () => {
    const tagged = ether(MAC_B, MAC_A, 0x8100, [0, 100, ...be16(0x0800), ...v4]);
    const qinq = ether(MAC_B, MAC_A, 0x88a8, [0, 200, ...be16(0x8100), 0, 100, ...be16(0x0800), ...v4]);
    for (const f of [tagged, qinq]) {
      const p = one(f);
      assert.deepEqual(
        [p.ethertype, p.src, p.dst, p.flags],
        ['IPv4', { ip: '10.244.0.160', port: 47192 }, { ip: '172.18.0.5', port: 30495 }, 'S.'],
      );
    }
  });

  it('ARP behind an 802.1Q tag and from tcpdump -i any (SLL): the MAC of a reply is the ARP sender', () => {
    const reply = arp(2, MAC_B, '10.244.0.50', MAC_A, '10.244.0.160');
    const want = 'Reply 10.244.0.50 is-at 7e:b5:77:fa:4c:e4';
    assert.equal(one(ether(MAC_A, MAC_B, 0x8100, [0, 100, ...be16(0x0806), ...reply])).info, want);
    assert.equal(one(sll(4, 0x0806, reply, MAC_B), 113).info, want);
    assert.equal(one(sll2(4, 0x0806, reply, MAC_B), 276).info, want);
  });

  it('an unknown link type (BSD loopback, 0) yields one packet per record, not decoded', () => {
    const r = readPcap(pcap([{ ...at('06:04:18.494304'), frame: [2, 0, 0, 0, ...v4] }], { linkType: 0 }));
    assert.equal(r.linkType, 0);
    assert.deepEqual([r.packets[0]!.protocol, r.packets[0]!.info], ['other', 'link-type 0']);
    assert.equal(r.packets[0]!.raw, '06:04:18.494304 ? > ?: link-type 0');
  });

  it('an Ethernet type it does not decode is named by its number', () => {
    // Wake-on-LAN (0x0842): the number is printed with four digits.
    const wol = one(
      ether('ff:ff:ff:ff:ff:ff', MAC_A, 0x0842, [...new Array(6).fill(255), ...new Array(16).fill(macB(MAC_B)).flat()]),
    );
    assert.deepEqual([wol.ethertype, wol.protocol, wol.src, wol.info], ['0x0842', 'other', null, null]);
    assert.equal(wol.raw, `06:04:18.494304 ${MAC_A} > ff:ff:ff:ff:ff:ff, ethertype 0x0842, length 116: ? > ?:`);
    const lldp = one(ether('01:80:c2:00:00:0e', MAC_A, 0x88cc, new Array(46).fill(0)));
    assert.deepEqual([lldp.ethertype, lldp.protocol], ['0x88cc', 'other']);
  });
});

// ---- Network and transport layers ----

describe('IP and above', () => {
  const e4 = (payload: number[]) => ether(MAC_B, MAC_A, 0x0800, payload);
  const e6 = (payload: number[]) => ether(MAC_B, MAC_A, 0x86dd, payload);

  it('names the ICMP types tcpdump names, and numbers the others', () => {
    const names: Array<[number, string]> = [
      [0, 'echo reply'],
      [3, 'unreachable'],
      [5, 'redirect'],
      [8, 'echo request'],
      [11, 'time exceeded'],
      [13, 'type 13'],
    ];
    for (const [type, name] of names) {
      const p = one(e4(ipv4(1, '10.0.0.1', '10.0.0.2', icmp(type, 28))));
      assert.equal(p.info, `ICMP ${name}, length 36`);
      assert.equal(
        p.raw,
        `06:04:18.494304 ${MAC_A} > ${MAC_B}, ethertype IPv4, length 70: 10.0.0.1 > 10.0.0.2: ICMP ${name}, length 36`,
      );
    }
  });

  it('names the ICMPv6 types tcpdump names, and numbers the others', () => {
    const names: Array<[number, string]> = [
      [1, 'destination unreachable'],
      [3, 'time exceeded'],
      [128, 'echo request'],
      [129, 'echo reply'],
      [133, 'router solicitation'],
      [134, 'router advertisement'],
      [135, 'neighbor solicitation'],
      [136, 'neighbor advertisement'],
      [143, 'type 143'],
    ];
    for (const [type, name] of names) {
      const p = one(e6(ipv6Pkt(58, 'fe80::1', 'ff02::1', icmp(type, 16))));
      assert.deepEqual([p.protocol, p.length, p.info], ['icmp6', 24, `ICMP6, ${name}, length 24`]);
    }
  });

  it('reports a transport it does not decode by its protocol number', () => {
    const sctp = one(e4(ipv4(132, '10.0.0.1', '10.0.0.2', new Array(32).fill(0))));
    assert.deepEqual([sctp.protocol, sctp.info, sctp.src], ['other', 'ip-proto-132', { ip: '10.0.0.1', port: null }]);
    assert.equal(
      sctp.raw,
      `06:04:18.494304 ${MAC_A} > ${MAC_B}, ethertype IPv4, length 66: 10.0.0.1 > 10.0.0.2: ip-proto-132`,
    );
    const gre6 = one(e6(ipv6Pkt(47, 'fd00::1', 'fd00::2', new Array(24).fill(0))));
    assert.deepEqual([gre6.protocol, gre6.info], ['other', 'ip-proto-47']);
  });

  it('a later IPv4 fragment has no transport header; the first fragment is decoded', () => {
    const data = udp(40000, 53, new Array(1472).fill(0));
    const first = one(e4(ipv4(17, '10.0.0.1', '10.0.0.2', data.slice(0, 1480), 0x2000)));
    assert.deepEqual([first.protocol, first.dst!.port, first.length], ['udp', 53, 1472]);
    const later = one(e4(ipv4(17, '10.0.0.1', '10.0.0.2', data.slice(1480), 185)));
    assert.deepEqual(
      [later.protocol, later.info, later.src, later.dst],
      ['other', 'fragment', { ip: '10.0.0.1', port: null }, { ip: '10.0.0.2', port: null }],
    );
    const lastDf = one(e4(ipv4(17, '10.0.0.1', '10.0.0.2', data.slice(1480), 0x4000 | 185)));
    assert.equal(lastDf.info, 'fragment');
  });

  it('UDP: ports and payload length from the UDP header', () => {
    const p = one(e4(ipv4(17, '10.244.0.160', '10.96.0.10', udp(40000, 53, new Array(37).fill(0)))));
    assert.deepEqual(
      [p.src, p.dst, p.length, p.info],
      [{ ip: '10.244.0.160', port: 40000 }, { ip: '10.96.0.10', port: 53 }, 37, 'UDP, length 37'],
    );
  });

  it('TCP over IPv6: the payload length comes from the IPv6 header', () => {
    const p = one(e6(ipv6Pkt(6, 'fd00:10:2::5', 'fd00:10:96::a', tcp(40000, 443, 0x18, 100, 12))));
    assert.deepEqual([p.protocol, p.src!.port, p.dst!.port, p.flags, p.length], ['tcp', 40000, 443, 'P.', 100]);
  });

  describe('IPv6 extension headers are skipped to the transport', () => {
    const payload = tcp(40000, 443, 0x02);
    const src = 'fd00:10:2::5';
    const dst = 'fd00:10:96::a';
    const cases: Array<[string, number, number[]]> = [
      ['hop-by-hop (8 bytes)', 0, [6, 0, 1, 4, 0, 0, 0, 0]],
      ['hop-by-hop (16 bytes)', 0, [6, 1, 1, 12, ...new Array(12).fill(0)]],
      ['routing (type 4, one segment)', 43, [6, 2, 4, 0, 0, 0, 0, 0, ...ip6B('fd00::99')]],
      ['destination options (24 bytes)', 60, [6, 2, 1, 20, ...new Array(20).fill(0)]],
      ['fragment (first)', 44, [6, 0, 0, 1, 0, 0, 0x12, 0x34]],
    ];
    for (const [name, next, ext] of cases)
      it(name, () => {
        const p = one(e6(ipv6Pkt(next, src, dst, [...ext, ...payload])));
        assert.deepEqual(
          [p.protocol, p.src, p.dst, p.flags],
          ['tcp', { ip: src, port: 40000 }, { ip: dst, port: 443 }, 'S'],
        );
      });

    it('a chain of them, then ICMPv6', () => {
      const chain = [60, 0, 1, 4, 0, 0, 0, 0, 58, 0, 1, 4, 0, 0, 0, 0];
      const p = one(e6(ipv6Pkt(0, src, dst, [...chain, ...icmp(128, 56)])));
      assert.deepEqual([p.protocol, p.info], ['icmp6', 'ICMP6, echo request, length 64']);
    });

    it('no next header (59) after a hop-by-hop header ends the packet', () => {
      const p = one(e6(ipv6Pkt(0, src, dst, [59, 0, 1, 4, 0, 0, 0, 0])));
      assert.deepEqual([p.protocol, p.info], ['other', 'ip-proto-59']);
    });
  });
});

// ---- VXLAN ----

describe('VXLAN', () => {
  const inner = ether(MAC_B, MAC_A, 0x0800, ipv4(6, '10.0.0.178', '10.0.2.39', tcp(33000, 8080, 0x18, 1200)));
  const outer = (dport: number, payload: number[]) =>
    one(
      ether(
        '02:42:ac:12:00:02',
        '02:42:ac:12:00:04',
        0x0800,
        ipv4(17, '172.18.0.4', '172.18.0.2', udp(51000, dport, payload)),
      ),
    );

  it('on 4789 (IANA) is printed VXLAN with its VNI, and the carried frame decoded', () => {
    const p = outer(4789, vxlan(0x0a0b0c, inner));
    assert.equal(p.info, `VXLAN, flags [I] (0x08), vni ${0x0a0b0c}`);
    assert.equal(p.inner!.line, p.line);
    assert.deepEqual(
      [p.inner!.srcMac, p.inner!.dstMac, p.inner!.src, p.inner!.dst, p.inner!.flags, p.inner!.length],
      [MAC_A, MAC_B, { ip: '10.0.0.178', port: 33000 }, { ip: '10.0.2.39', port: 8080 }, 'P.', 1200],
    );
    // The carried frame's own length, as tcpdump -e prints it: the UDP payload minus the VXLAN header.
    assert.equal(p.inner!.frameLength, inner.length);
    assert.match(p.inner!.raw, new RegExp(`, ethertype IPv4, length ${inner.length}: `));
  });

  it('a large frame on 8472: the VNI is read from the VXLAN header only', () => {
    const p = outer(8472, vxlan(2, inner));
    assert.equal(p.info, 'OTV, flags [I] (0x08), overlay 0, instance 2');
  });

  it('not decoded without the I flag, nor on another port', () => {
    for (const p of [outer(8472, vxlan(2, inner, 0)), outer(4790, vxlan(2, inner))]) {
      assert.equal(p.inner, null);
      assert.equal(p.info, `UDP, length ${8 + inner.length}`);
    }
  });
});

// ---- The file ----

describe('the pcap file', () => {
  const syn = ether(MAC_B, MAC_A, 0x0800, ipv4(6, '10.244.0.160', '172.18.0.5', tcp(47192, 30495, 0x02)));

  it('a capture that saw no packet (the 24-byte header alone) is an empty list', () => {
    for (const little of [true, false]) {
      const r = readPcap(pcap([], { little }));
      assert.deepEqual([r.packets, r.unknownLines, r.linkType], [[], [], 1]);
    }
  });

  it('big-endian nanosecond files', () => {
    const r = readPcap(pcap([{ ...at('10:10:10.000000010'), frame: syn }], { little: false, nano: true }));
    assert.equal(r.nanosecond, true);
    assert.equal(r.packets[0]!.time, '10:10:10.000000010');
    assert.equal(r.packets[0]!.timestamp, DAY + 36610 + 1e-8);
  });

  it('the packets are numbered from 1 in file order, and nothing is left unread', () => {
    const r = readPcap(pcap([0, 1, 2].map((i) => ({ ...at(`10:0${i}:09.000010`), frame: syn }))));
    assert.deepEqual(
      r.packets.map((p) => [p.line, p.time]),
      [
        [1, '10:00:09.000010'],
        [2, '10:01:09.000010'],
        [3, '10:02:09.000010'],
      ],
    );
    assert.deepEqual(r.unknownLines, []);
  });

  it('a record with no captured byte is still a packet, the last one included', () => {
    const r = readPcap(
      pcap(
        [
          { ...at('06:04:18.494304'), frame: [], incl: 0 },
          { ...at('06:04:18.494305'), frame: syn.slice(14) },
          { ...at('06:04:18.494306'), frame: [], incl: 0 },
        ],
        { linkType: 101 },
      ),
    );
    assert.deepEqual(
      r.packets.map((p) => [p.ethertype, p.protocol]),
      [
        [null, null],
        ['IPv4', 'tcp'],
        [null, null],
      ],
    );
  });

  it('a file of zeros is refused, naming the bytes it found', () => {
    assert.throws(
      () => readPcap(new Uint8Array(64)),
      /Not a pcap file: the first four bytes are 0x00000000, not a pcap magic number \(a1b2c3d4 or a1b23c4d in either byte order\)\./,
    );
  });

  it('looksLikePcap: the four pcap magics and the pcapng section header, from four bytes on', () => {
    for (const magic of [0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1, 0x0a0d0d0a])
      assert.equal(looksLikePcap(new Uint8Array(be32(magic))), true, magic.toString(16));
    assert.equal(looksLikePcap(new Uint8Array([0xd4, 0xc3, 0xb2])), false);
    assert.equal(looksLikePcap(new Uint8Array([0x1f, 0x8b, 0x08, 0x00])), false); // gzip
  });
});

describe('text forms', () => {
  it('tcpFlagsText: urgent is U, after the ack dot', () => {
    assert.equal(tcpFlagsText(0x20), 'U');
    assert.equal(tcpFlagsText(0x30), '.U');
    assert.equal(tcpFlagsText(0x39), 'FP.U');
  });

  it('ipv6: no run of zero words, or a single zero word, is not compressed', () => {
    assert.equal(ipv6(new Uint8Array(ip6B('2001:db8:1:2:3:4:5:6')), 0), '2001:db8:1:2:3:4:5:6');
    assert.equal(ipv6(new Uint8Array(ip6B('fd00:10:2:0:1:2:3:4')), 0), 'fd00:10:2:0:1:2:3:4');
    assert.equal(ipv6(new Uint8Array(ip6B('fd00:10:2:0:0:2:3:4')), 0), 'fd00:10:2::2:3:4');
  });
});
