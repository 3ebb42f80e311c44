/**
 * Monitor lines at the edges of the grammar, each a shape real Cilium prints (pkg/monitor's
 * DumpInfo/DumpVerbose formats, gopacket's layer and ICMP type names) or a line of the corpus:
 * terminal padding after a pasted line, the pre-1.16 ICMP summary without the `icmp` word (IPv4
 * and IPv6 neighbour discovery), SCTP, an address pair without L4, the `to`/`from` endpoints of
 * L7 records, a drop reason holding ": ", the verbose DROP and from-… headers, layer dumps of
 * every protocol Cilium dissects, policy verdicts whose tuple names no protocol, blank lines.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MonitorEvent, parseMonitor, parseMonitorLine } from '../../../support/parsers/monitor.ts';
import { NO_FIELDS } from '../helpers/monitor-events.ts';
import { realWorld } from '../helpers/real-world.ts';

const NONE = NO_FIELDS;

/** The whole event parseMonitorLine must return for `raw`: every field not named is null. */
function whole(raw: string, fields: Partial<MonitorEvent> & Pick<MonitorEvent, 'type'>): void {
  assert.deepEqual(parseMonitorLine(raw), { ...NONE, ...fields, raw });
}

const at = (ip: string, port: number | null = null) => ({ ip, port });

const pick = (ev: MonitorEvent, keys: (keyof MonitorEvent)[]) => Object.fromEntries(keys.map((k) => [k, ev[k]]));

describe('monitor edges: one-line traces', () => {
  it('terminal padding after a pasted line is not part of the ICMP type (cilium/cilium#3339)', () => {
    // Pre-orig-ip format, copied from a terminal: the lines end in blanks.
    whole(
      '<- host flow 0x6684bcc7 identity 1->0 state new ifindex eth0: 8.8.8.8 -> 10.15.236.254 EchoReply                  ',
      {
        type: 'trace',
        observationPoint: 'from-host',
        flowId: '0x6684bcc7',
        identities: { src: 1, dst: 0 },
        state: 'new',
        ifindex: 'eth0',
        interface: 'eth0',
        src: at('8.8.8.8'),
        dst: at('10.15.236.254'),
        protocol: 'icmp',
        flags: 'EchoReply',
      },
    );
    const tcp = parseMonitorLine(
      '-> stack flow 0x614e9723 identity 323->16777217 state new ifindex 0 orig-ip 0.0.0.0: 10.60.0.182:41510 -> 104.198.14.52:80 tcp SYN, ACK   ',
    );
    assert.deepEqual([tcp.protocol, tcp.flags], ['tcp', 'SYN, ACK']);
  });

  it('the ICMPv6 types gopacket prints bare (pre-`icmp`-word summary) read as icmpv6', () => {
    // GetConnectionSummary before the `icmp` word: "src -> dst <TypeCode>"; these types have no code.
    const head = '-> endpoint 2046 flow 0x0 , identity host->health state new ifindex lxc_health orig-ip fd04::11: ';
    for (const [tuple, src, dst, type] of [
      ['fd04::11 -> fd04::b1 EchoRequest', 'fd04::11', 'fd04::b1', 'EchoRequest'],
      ['fd04::b1 -> fd04::11 EchoReply', 'fd04::b1', 'fd04::11', 'EchoReply'],
      ['fe80::1 -> ff02::1:ff00:b1 NeighborSolicitation', 'fe80::1', 'ff02::1:ff00:b1', 'NeighborSolicitation'],
      ['fe80::b1 -> fe80::1 NeighborAdvertisement', 'fe80::b1', 'fe80::1', 'NeighborAdvertisement'],
      ['fe80::b1 -> ff02::2 RouterSolicitation', 'fe80::b1', 'ff02::2', 'RouterSolicitation'],
      ['fe80::1 -> ff02::1 RouterAdvertisement', 'fe80::1', 'ff02::1', 'RouterAdvertisement'],
    ] as const) {
      const e = parseMonitorLine(head + tuple);
      assert.deepEqual(
        [e.type, e.endpoint, e.origIp, e.src, e.dst, e.protocol, e.flags],
        ['trace', 2046, 'fd04::11', at(src), at(dst), 'icmpv6', type],
        tuple,
      );
    }
  });

  it('an IPv4 EchoReply without the `icmp` word is icmp, not icmpv6', () => {
    const e = parseMonitorLine(
      '-> endpoint 42910 flow 0x6684bcc7 identity 1->23405 state reply ifindex lxc2bde3: 8.8.8.8 -> 10.15.236.254 EchoReply',
    );
    assert.deepEqual([e.endpoint, e.protocol, e.flags], [42910, 'icmp', 'EchoReply']);
  });

  it('reads SCTP (dissect.go prints `sctp` with ports) and no flags after it', () => {
    whole(
      '-> endpoint 1478 flow 0x0 , identity 22446->13837 state new ifindex lxcf51203b3acca orig-ip 10.244.1.87: 10.244.1.87:38412 -> 10.244.0.132:36412 sctp',
      {
        type: 'trace',
        observationPoint: 'to-endpoint',
        endpoint: 1478,
        flowId: '0x0',
        identities: { src: 22446, dst: 13837 },
        state: 'new',
        ifindex: 'lxcf51203b3acca',
        interface: 'lxcf51203b3acca',
        origIp: '10.244.1.87',
        src: at('10.244.1.87', 38412),
        dst: at('10.244.0.132', 36412),
        protocol: 'sctp',
      },
    );
  });

  it('keeps an ICMP type with its code, `DestinationUnreachable(Port)`, whole as the flags; the protocol is ICMP', () => {
    const e = parseMonitorLine(
      '-> endpoint 1478 flow 0x0 , identity 13837->22446 state related ifindex lxcf51203b3acca orig-ip 10.244.0.132: 10.244.0.132 -> 10.244.1.87 DestinationUnreachable(Port)',
    );
    assert.deepEqual(
      [e.state, e.src, e.dst, e.protocol, e.flags],
      ['related', at('10.244.0.132'), at('10.244.1.87'), 'icmp', 'DestinationUnreachable(Port)'],
    );
    const v6 = parseMonitorLine(
      '-> endpoint 1478 flow 0x0 , identity 13837->22446 state related ifindex lxcf51203b3acca orig-ip fd00::1: fd00::1 -> fd00::2 PacketTooBig',
    );
    assert.deepEqual([v6.protocol, v6.flags], ['icmpv6', 'PacketTooBig']);
    const problem = parseMonitorLine(
      '-> endpoint 1478 flow 0x0 , identity 13837->22446 state related ifindex lxcf51203b3acca orig-ip 10.244.0.132: 10.244.0.132 -> 10.244.1.87 ParameterProblem(PointerIndicatesError)',
    );
    assert.deepEqual([problem.protocol, problem.flags], ['icmp', 'ParameterProblem(PointerIndicatesError)']);
    // A word with a parenthesis that is no ICMP type stays flags without a protocol.
    assert.equal(
      parseMonitorLine(
        '-> stack flow 0x0 , identity 1->2 state new ifindex 0 orig-ip 0.0.0.0: 10.0.0.1 -> 10.0.0.2 Unknown(7)',
      ).protocol,
      null,
    );
  });

  it('an Ethernet-only summary (ARP, traced at from-network) is no ICMP: the EtherType is kept as flags', () => {
    // GetConnectionSummary's hasEth case: "srcMAC -> dstMAC EthernetType".
    const e = parseMonitorLine(
      '<- network flow 0x0 , identity unknown->unknown state unknown ifindex eth0 orig-ip 0.0.0.0: 02:42:ac:12:00:03 -> ff:ff:ff:ff:ff:ff ARP',
    );
    assert.deepEqual(
      [e.type, e.observationPoint, e.state, e.interface, e.protocol, e.flags],
      ['trace', 'from-network', 'unknown', 'eth0', null, 'ARP'],
    );
  });

  it('a debug capture from the load balancer (`<- load-balancer eth0: …`) is a trace seen there', () => {
    // DebugCapture.DumpInfo: "<- load-balancer <ifname>: <summary>".
    whole('<- load-balancer eth0: 172.18.0.1:50764 -> 172.18.0.2:30080 tcp SYN', {
      type: 'trace',
      observationPoint: 'from-load-balancer',
      src: at('172.18.0.1', 50764),
      dst: at('172.18.0.2', 30080),
      protocol: 'tcp',
      flags: 'SYN',
    });
  });

  it('reads an address pair without L4 (the summary of a packet gopacket decodes no L4 layer of)', () => {
    whole('-> stack flow 0x0 , identity 323->world state new ifindex 0 orig-ip 0.0.0.0: 10.60.0.182 -> 104.198.14.52', {
      type: 'trace',
      observationPoint: 'to-stack',
      flowId: '0x0',
      identities: { src: 323, dst: 'world' },
      state: 'new',
      ifindex: 0,
      origIp: '0.0.0.0',
      src: at('10.60.0.182'),
      dst: at('104.198.14.52'),
    });
  });
});

describe('monitor edges: L7, drops, verbose headers', () => {
  // cilium-dbg-monitor-related-to-dns-proxy-orig-ip-clusterip-cilium-docs-rst-idx4273197192.txt
  it('L7: the endpoint after `to` is the destination, the one after `from` the source', () => {
    const req = parseMonitorLine(
      '    -> Request dns from 3459 ([k8s:org=alliance k8s:class=xwing]) to 0 ([k8s:k8s-app=kube-dns]), identity 323->15194, verdict Forwarded DNS Query: cilium.io. A',
    );
    assert.deepEqual([req.type, req.srcEndpoint, req.endpoint], ['l7', 3459, 0]);
    const resp = parseMonitorLine(
      "    -> Response dns to 3459 ([k8s:org=alliance k8s:class=xwing]) from 0 ([k8s:k8s-app=kube-dns]), identity 323->15194, verdict Forwarded DNS Query: cilium.io. A TTL: 486 Answer: '104.198.14.52'",
    );
    assert.deepEqual(
      [resp.type, resp.endpoint, resp.srcEndpoint, resp.identities],
      ['l7', 3459, 0, { src: 323, dst: 15194 }],
    );
  });

  it('a drop reason that holds ": " (`CT: Map insertion failed`) does not split the header from the tuple', () => {
    whole(
      'xx drop (CT: Map insertion failed) flow 0x3b5b3b1e to endpoint 0, ifindex 4, file bpf_lxc.c:1234, , identity 1234->world: 10.0.1.5:36612 -> 1.1.1.1:53 udp',
      {
        type: 'drop',
        message: 'CT: Map insertion failed',
        flowId: '0x3b5b3b1e',
        endpoint: 0,
        ifindex: 4,
        file: 'bpf_lxc.c:1234',
        identities: { src: 1234, dst: 'world' },
        src: at('10.0.1.5', 36612),
        dst: at('1.1.1.1', 53),
        protocol: 'udp',
      },
    );
  });

  it('reads the verbose DROP header (`-v`): a drop, its identities and destination endpoint', () => {
    const e = parseMonitorLine(
      'CPU 01: MARK 0x48357586 FROM 211 DROP: 74 bytes, reason Policy denied, identity world->15435, to endpoint 211',
    );
    assert.deepEqual(
      [e.type, e.cpu, e.srcEndpoint, e.endpoint, e.identities],
      ['drop', 1, 211, 211, { src: 'world', dst: 15435 }],
    );
  });

  it('reads a verbose from-… header as a trace with that observation point', () => {
    whole(
      'CPU 00: MARK 0x1c2f4e0a FROM 2927 from-endpoint: 74 bytes (74 captured), state new, interface lxc61f83227c4ba, , identity 22196->world, orig-ip 0.0.0.0',
      {
        type: 'trace',
        cpu: 0,
        observationPoint: 'from-endpoint',
        srcEndpoint: 2927,
        state: 'new',
        interface: 'lxc61f83227c4ba',
        identities: { src: 22196, dst: 'world' },
        origIp: '0.0.0.0',
      },
    );
  });

  // Cilium 1.17+ (pkg/monitor/datapath_trace.go): a packet with an IP trace id is tagged after
  // its mark in the verbose form, and after the identities in the one-line form.
  it('reads a verbose header tagged `[ IP-TRACE-ID = N ]` as the same header without the tag', () => {
    const tagged =
      'CPU 01: MARK 0x8e37b814 [ IP-TRACE-ID = 42 ] FROM 2927 to-endpoint: 74 bytes (74 captured), state reply, interface lxc61f83227c4ba, , identity 60386->22196, orig-ip 10.244.2.148, to endpoint 2927';
    const plain = tagged.replace(' [ IP-TRACE-ID = 42 ]', '');
    const ev = parseMonitorLine(tagged);
    assert.deepEqual({ ...ev, raw: plain }, { ...parseMonitorLine(plain), raw: plain });
    assert.deepEqual(pick(ev, ['type', 'observationPoint', 'srcEndpoint', 'endpoint', 'state', 'origIp']), {
      type: 'trace',
      observationPoint: 'to-endpoint',
      srcEndpoint: 2927,
      endpoint: 2927,
      state: 'reply',
      origIp: '10.244.2.148',
    });
    assert.deepEqual(parseMonitor(tagged).unknownLines, []);
  });

  it('reads a one-line trace tagged `[ ip-trace-id = N ]` as the same trace without the tag', () => {
    const tagged =
      '-> endpoint 2927 flow 0x8e37b814 , identity 60386->22196 [ ip-trace-id = 42 ] state reply ifindex lxc61f83227c4ba orig-ip 10.244.2.148: 10.96.0.10:53 -> 10.244.1.7:41234 udp';
    const plain = tagged.replace(' [ ip-trace-id = 42 ]', '');
    assert.deepEqual({ ...parseMonitorLine(tagged), raw: plain }, { ...parseMonitorLine(plain), raw: plain });
    assert.equal(parseMonitorLine(tagged).state, 'reply');
  });

  // `<- endpoint N` prints the trace's source endpoint (TraceFromLxc: n.Source), `-> endpoint N`
  // its destination (TraceToLxc: n.DstID).
  it('`<- endpoint N` is the sending endpoint; `-> endpoint N` the receiving one', () => {
    const from = parseMonitorLine(
      '<- endpoint 1543 flow 0x5c1f0e2a , identity 22196->unknown state new ifindex 0 orig-ip 0.0.0.0: 10.244.1.7:41234 -> 10.96.0.10:53 udp',
    );
    assert.deepEqual(pick(from, ['observationPoint', 'srcEndpoint', 'endpoint']), {
      observationPoint: 'from-endpoint',
      srcEndpoint: 1543,
      endpoint: null,
    });
    const to = parseMonitorLine(
      '-> endpoint 1543 flow 0x5c1f0e2a , identity 60386->22196 state reply ifindex lxc61f83227c4ba orig-ip 10.96.0.10: 10.96.0.10:53 -> 10.244.1.7:41234 udp',
    );
    assert.deepEqual(pick(to, ['observationPoint', 'srcEndpoint', 'endpoint']), {
      observationPoint: 'to-endpoint',
      srcEndpoint: null,
      endpoint: 1543,
    });
  });

  // cilium-monitor-debug-lines-CT-revnat-cilium-1.12-issue22107-partial.txt
  it('a DEBUG line without a src=… dst=… pair has no addresses', () => {
    for (const msg of [
      'Conntrack lookup 2/2: nexthdr=6 flags=1',
      'CT entry found lifetime=20515375, revnat=4',
      'CT verdict: Reply, revnat=4',
      'Successfully mapped addr=169.254.42.1 to identity=2',
      'Performing reverse NAT, address=10.96.18.67 port=80',
      'Loopback reverse SNAT from=169.254.42.1 to=10.244.1.81',
      'Attempting local delivery for container id 565 from seclabel 7789',
    ])
      whole(`CPU 00: MARK 0xf9d30080 FROM 565 DEBUG: ${msg}`, {
        type: 'debug',
        cpu: 0,
        srcEndpoint: 565,
        message: msg,
      });
  });

  it('a trace-sock line keeps its message without the blank DumpDebug prints before the newline', () => {
    const e = parseMonitorLine(
      'CPU 03: [post-xlate-rev] cgroup_id: 16761 sock_cookie: 72480, dst [10.96.211.254]:80 udp ',
    );
    assert.deepEqual(
      [e.type, e.observationPoint, e.dst, e.protocol, e.message],
      [
        'trace-sock',
        'post-xlate-rev',
        at('10.96.211.254', 80),
        'udp',
        'cgroup_id: 16761 sock_cookie: 72480, dst [10.96.211.254]:80 udp',
      ],
    );
  });
});

describe('monitor edges: layer dumps (`-v -v`)', () => {
  // gopacket's LayerString of each layer Cilium's Dissect prints, TAB after the name.
  const layers: Array<[string, string, string | null]> = [
    [
      'IPv6\t{Contents=[..40..] Payload=[..32..] Version=6 TrafficClass=0 FlowLabel=0 Length=32 NextHeader=TCP HopLimit=63 SrcIP=fd04::11 DstIP=fd04::b1 HopByHop=nil}',
      'IPv6',
      null,
    ],
    [
      'UDP\t{Contents=[..8..] Payload=[..25..] SrcPort=41434 DstPort=53(domain) Length=33 Checksum=22859}',
      'UDP',
      'udp',
    ],
    [
      'SCTP\t{Contents=[..12..] Payload=[..36..] SrcPort=38412 DstPort=36412 VerificationTag=0 Checksum=1817281290}',
      'SCTP',
      'sctp',
    ],
    ['ICMPv4\t{Contents=[..8..] Payload=[..56..] TypeCode=EchoRequest Checksum=38493 Id=7 Seq=1}', 'ICMPv4', 'icmp'],
    [
      'ICMPv6\t{Contents=[..4..] Payload=[..20..] TypeCode=NeighborSolicitation Checksum=2790 TypeBytes=[]}',
      'ICMPv6',
      'icmpv6',
    ],
    [
      'VXLAN\t{Contents=[..8..] Payload=[..98..] ValidIDFlag=true VNI=2 GBPExtension=false GBPDontLearn=false GBPApplied=false GBPGroupPolicyID=0}',
      'VXLAN',
      null,
    ],
    [
      'Geneve\t{Contents=[..8..] Payload=[..98..] Version=0 OptionsLength=0 OAMPacket=false CriticalOption=false Protocol=TransparentEthernetBridging VNI=2 Options=[]}',
      'Geneve',
      null,
    ],
  ];
  for (const [raw, name, protocol] of layers) {
    it(`${name}: a layer event with its protocol`, () => {
      const e = parseMonitorLine(raw);
      assert.deepEqual([e.type, e.layer?.name, e.protocol], ['layer', name, protocol]);
    });
  }

  it('IPv4 carries the addresses and no protocol of its own', () => {
    const e = parseMonitorLine(
      'IPv4\t{Contents=[..20..] Payload=[..32..] Version=4 IHL=5 TOS=0 Length=52 Id=13386 Flags=DF FragOffset=0 TTL=63 Protocol=TCP Checksum=62062 SrcIP=10.0.0.85 DstIP=10.0.0.183 Options=[] Padding=[]}',
    );
    assert.deepEqual([e.src, e.dst, e.protocol], [at('10.0.0.85'), at('10.0.0.183'), null]);
  });

  // cilium-monitor-v-verbose-layers-cilium-1.11-issue18437-partial.txt
  it('a value with blanks inside brackets and parentheses (TCP Options) is one field', () => {
    const e = parseMonitorLine(
      'TCP\t{Contents=[..32..] Payload=[] SrcPort=4240 DstPort=52414 Seq=248933276 Ack=2425498803 DataOffset=8 FIN=false SYN=false RST=false PSH=false ACK=true URG=false ECE=false CWR=false NS=false Window=227 Checksum=5426 Urgent=0 Options=[TCPOption(NOP:), TCPOption(NOP:), TCPOption(Timestamps:156097/152307 0x000261c1000252f3)] Padding=[]}',
    );
    const f = e.layer!.fields;
    assert.equal(
      f.Options,
      '[TCPOption(NOP:), TCPOption(NOP:), TCPOption(Timestamps:156097/152307 0x000261c1000252f3)]',
    );
    assert.equal(f.Padding, '[]');
    assert.equal(Object.keys(f).length, 21);
  });
});

describe('monitor edges: policy verdicts', () => {
  it('keeps every TCP flag of the tuple (the line is split on ", " and joined again)', () => {
    const e = parseMonitorLine(
      'Policy verdict log: flow 0x0 local EP ID 1687, remote ID 2, proto 6, ingress, action audit, match none, 10.0.2.2:47500 -> 10.0.2.15:6443 tcp ACK, FIN',
    );
    assert.deepEqual([e.protocol, e.flags, e.dst], ['tcp', 'ACK, FIN', at('10.0.2.15', 6443)]);
  });

  it('newer verdicts with `auth:` read the same', () => {
    whole(
      'Policy verdict log: flow 0x63113709 local EP ID 232, remote ID 31028, proto 6, ingress, action allow, auth: disabled, match L3-L4, 10.0.0.112:54134 -> 10.29.50.40:80 tcp SYN',
      {
        type: 'policy-verdict',
        flowId: '0x63113709',
        endpoint: 232,
        message: 'allow',
        verdict: { direction: 'ingress', action: 'allow', match: 'L3-L4', remoteIdentity: 31028, proto: 6 },
        src: at('10.0.0.112', 54134),
        dst: at('10.29.50.40', 80),
        protocol: 'tcp',
        flags: 'SYN',
      },
    );
  });

  it('the protocol comes from `proto N` when the tuple names none', () => {
    // An ICMP type outside the bare-name list (pre-`icmp`-word summary), and bare address pairs
    // (no L4 layer decoded): only `proto` says what the packet was.
    const head = 'Policy verdict log: flow 0x0 local EP ID 1687, remote ID world, proto ';
    const tail = ', ingress, action deny, match none, ';
    for (const [proto, tuple, want] of [
      ['1', '192.168.60.12 -> 192.168.60.11 TimestampRequest', 'icmp'],
      ['6', 'fd00::12 -> fd00::11', 'tcp'],
      ['17', 'fd00::12 -> fd00::11', 'udp'],
      ['58', 'fd00::12 -> fd00::11', null],
    ] as const) {
      const e = parseMonitorLine(head + proto + tail + tuple);
      assert.deepEqual([e.verdict?.proto, e.protocol], [Number(proto), want], tuple);
    }
  });

  it('a verdict field the line does not print stays null (oldest format: no `proto`)', () => {
    const e = parseMonitorLine(
      'Policy verdict log: flow 0x0 local EP ID 1687, remote ID 6, ingress true, action allow, match L3-Only, 10.0.2.2:47500 -> 10.0.2.15:6443 tcp SYN',
    );
    assert.equal(e.verdict!.proto, null);
    assert.deepEqual([e.verdict!.action, e.verdict!.match, e.verdict!.remoteIdentity], ['allow', 'L3-Only', 6]);
  });
});

// The probe stops `cilium-dbg monitor` at the end of its window, so the last line can be cut
// anywhere (the corpus's PR excerpts end in `...` too). A cut line keeps what it holds, whole.
describe('monitor edges: a line cut short', () => {
  const TRACE =
    '-> endpoint 2927 flow 0x8e37b814 , identity 60386->22196 state reply ifindex lxc61f83227c4ba orig-ip 10.244.2.148: 10.244.2.148:80 -> 10.244.1.56:56944 tcp SYN, ACK';
  const cut = (line: string, before: string) => line.slice(0, line.indexOf(before));

  it('a trace cut before its tuple is still a trace with every header field it holds', () => {
    whole(cut(TRACE, ' orig-ip'), {
      type: 'trace',
      observationPoint: 'to-endpoint',
      endpoint: 2927,
      flowId: '0x8e37b814',
      identities: { src: 60386, dst: 22196 },
      state: 'reply',
      ifindex: 'lxc61f83227c4ba',
      interface: 'lxc61f83227c4ba',
    });
    const head = parseMonitorLine(cut(TRACE, 'lxc61f'));
    assert.deepEqual([head.type, head.state, head.ifindex, head.interface], ['trace', 'reply', null, null]);
  });

  it('a trace cut inside the identity pair reads no identities, and the flow id keeps it a trace', () => {
    const e = parseMonitorLine(cut(TRACE, '->22196'));
    assert.deepEqual([e.type, e.flowId, e.identities], ['trace', '0x8e37b814', null]);
  });

  it('a trace cut inside its tuple reads no half address', () => {
    for (const part of [cut(TRACE, ' 10.244.1.56'), cut(TRACE, '10.244.1.56')]) {
      const e = parseMonitorLine(part);
      assert.deepEqual([e.type, e.origIp, e.src, e.dst], ['trace', '10.244.2.148', null, null], part);
    }
  });

  it('a drop cut inside its reason is unknown; cut after a field, the field is whole', () => {
    assert.equal(parseMonitorLine('xx drop (Policy den').type, 'unknown');
    const e = parseMonitorLine('    xx drop (Policy denied) flow 0xeea42740 to endpoint 0, ifindex 14, file 2:1167');
    assert.deepEqual([e.type, e.ifindex, e.file], ['drop', 14, '2:1167']);
    const ep = parseMonitorLine('xx drop (Policy denied) flow 0xeea42740 to endpoint');
    assert.deepEqual([ep.type, ep.flowId, ep.endpoint], ['drop', '0xeea42740', null]);
  });

  it('a verbose header cut after a field name reads no empty value', () => {
    const e = parseMonitorLine(
      'CPU 02: MARK 0x65fae318 FROM 2046 to-endpoint: 86 bytes (86 captured), state established, interface lxc_health, , identity host->health, orig-ip fd04::11, to endpoint ',
    );
    assert.deepEqual([e.type, e.srcEndpoint, e.endpoint, e.origIp], ['trace', 2046, null, 'fd04::11']);
    const s = parseMonitorLine('CPU 01: MARK 0xade976e2 FROM 3006 to-stack: 104 bytes (104 captured), state ');
    assert.deepEqual([s.type, s.state], ['trace', null]);
  });

  it('a DEBUG line cut between src= and dst= reads no address', () => {
    const e = parseMonitorLine('CPU 00: MARK 0xf9d30080 FROM 565 DEBUG: Conntrack lookup 1/2: src=10.244.1.81:80');
    assert.deepEqual([e.type, e.src, e.dst], ['debug', null, null]);
  });

  it('a trace-sock line cut before its protocol or inside its address reads no guess', () => {
    const noProto = parseMonitorLine(
      'CPU 03: [pre-xlate-fwd] cgroup_id: 16761 sock_cookie: 72480, dst [10.96.211.254]:80',
    );
    assert.deepEqual([noProto.dst, noProto.protocol], [at('10.96.211.254', 80), null]);
    for (const part of [
      'CPU 03: [pre-xlate-fwd] cgroup_id: 16761 sock_cookie: 72480,',
      'CPU 03: [pre-xlate-fwd] cgroup_id: 16761 sock_cookie: 72480, dst [10.96.211.25',
    ]) {
      const e = parseMonitorLine(part);
      assert.deepEqual(
        [e.type, e.observationPoint, e.dst, e.protocol],
        ['trace-sock', 'pre-xlate-fwd', null, null],
        part,
      );
    }
  });

  it('an L7 record cut after `identity` keeps what it read', () => {
    const e = parseMonitorLine(
      '-> Request dns from 3459 ([k8s:org=alliance k8s:class=xwing]) to 0 ([k8s:k8s-app=kube-dns]), identity',
    );
    assert.deepEqual([e.type, e.srcEndpoint, e.endpoint, e.identities], ['l7', 3459, 0, null]);
    const from = parseMonitorLine('-> Request dns from ');
    assert.deepEqual([from.type, from.srcEndpoint], ['l7', null]);
  });

  it('a layer dump cut short keeps its whole fields and no half pair of addresses', () => {
    const e = parseMonitorLine(
      'IPv4\t{Contents=[..20..] Payload=[..32..] Version=4 IHL=5 TOS=0 Length=52 Id=13386 Flags=DF FragOffset=0 TTL=63 Protocol=TCP Checksum=62062 SrcIP=10.0.0.85 DstI',
    );
    assert.deepEqual([e.type, e.layer?.fields.SrcIP, e.src, e.dst], ['layer', '10.0.0.85', null, null]);
    assert.equal(e.layer?.fields.Checksum, '62062');
  });
});

describe('monitor edges: blank lines and line numbers', () => {
  it('parseMonitorLine reads a blank or blank-only line as info', () => {
    assert.equal(parseMonitorLine('').type, 'info');
    assert.equal(parseMonitorLine('    ').type, 'info');
  });

  it('parseMonitor skips a leading empty line and blank-only lines but counts them', () => {
    const r = parseMonitor(
      '\nListening for events on 4 CPUs with 64x4096 of shared memory\n    \nPress Ctrl-C to quit\n\t\n-> 0: 10.60.0.182:41510 -> 104.198.14.52:80 tcp ACK\n',
    );
    assert.deepEqual(
      r.events.map((e) => [e.line, e.type]),
      [
        [2, 'info'],
        [4, 'info'],
        [6, 'trace'],
      ],
    );
  });

  it("the corpus's elision line `...` is info; only commands, comments and separators are unknown", (t) => {
    const text = realWorld(t, 'cilium-monitor-policy-verdict-cilium-docs-policy-creation-and-host-firewall.txt');
    if (text === null) return;
    const r = parseMonitor(text);
    assert.deepEqual(
      r.events.filter((e) => e.raw.trim() === '...').map((e) => e.type),
      ['info'],
    );
    assert.deepEqual(
      r.unknownLines.map((u) => u.text.trim().slice(0, 5)),
      ['# cil', '=====', '$ kub', '=====', '$ kub'],
    );
    assert.equal(r.events.filter((e) => e.type === 'policy-verdict').length, 5);
  });
});
