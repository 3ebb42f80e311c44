/**
 * What `hookpoint parse <kind>` prints, kind by kind, through the parser registry
 * (support/parsers/registry.ts): the whole readable table and `--json` document of real inputs,
 * the unknown lines, and the "nothing readable" reason word for word. cli-parse.test.ts covers
 * the command itself (exit codes, --strict, warnings) and corpus-*.test.ts the parsed facts.
 * Inputs are corpus excerpts (../shared/fixtures/real-world, named per test), the lab's own
 * bpftool recording, or lines copied from the corpus into a short text.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseInput, runParse } from '../../../support/cli/parse.ts';
import { UsageError } from '../../../support/errors.ts';
import {
  entryOf,
  looksBinary,
  PARSE_KINDS,
  type ParseKind,
  parseAs,
  UnreadablePcapError,
} from '../../../support/parsers/registry.ts';
import { readRecorded } from '../helpers/bpftool-replay.ts';
import { realWorld } from '../helpers/real-world.ts';

interface SkipContext {
  skip(message?: string): void;
}

/** Lines `from`..`to` (1-based, inclusive) of a corpus file, or null after skipping. */
function corpus(t: SkipContext, name: string, from?: number, to?: number): string | null {
  const text = realWorld(t, name);
  if (text === null) return null;
  return from === undefined
    ? text
    : text
        .split('\n')
        .slice(from - 1, to)
        .join('\n');
}

/** The table, the unknown lines and the "nothing" reason of one input, as `hookpoint parse` gets them. */
function render(kind: ParseKind, input: string | Uint8Array) {
  const entry = entryOf(kind);
  const r = parseAs(kind, input);
  return {
    table: entry.table(r),
    unknown: entry.unknownLines(r),
    nothing: entry.nothing(r, '"f"'),
    json: entry.json(r),
  };
}

const IPTABLES_MANGLE = 'iptables-mangle-nvL-cilium-chains-1.18.6-kind-idx60285825367.txt';
const IPTABLES_NAT_L = 'iptables-nat-L-kube-services-svc-1.15.0rc1-kind-wcnikind.txt';
const BPFTOOL_TCX = 'bpftool-net-show-prog-show-tcx-1.17.5-native-endpointroutes-idx7258039410.txt';
const BPFTOOL_CLSACT = 'bpftool-net-show-legacy-clsact-cilium-1.9-pr14895.txt';
const IP_NODE_POD = 'ip-route-node-and-pod-1.18.6-kind-native-autodirectnoderoutes-idx60285825367.txt';

describe('iptables: one block per chain, its rules indented under it', () => {
  it('iptables -t mangle -nvL: policy and counters of built-in chains, references of user chains, empty chains bare', (t) => {
    const text = corpus(t, IPTABLES_MANGLE, 1, 32);
    if (text === null) return;
    const r = render('iptables', text);
    // The K suffixes of -L without -x are expanded (1544K → 1544000); empty chains print no rule header.
    assert.equal(
      r.table,
      [
        'PREROUTING policy ACCEPT [9386 packets, 1544000 bytes]',
        '  PKTS  BYTES    TARGET             PROT  COMMENT                           DNAT',
        '  9386  1544000  CILIUM_PRE_mangle  all   cilium-feeder: CILIUM_PRE_mangle  -',
        '',
        'INPUT policy ACCEPT [8874 packets, 1516000 bytes]',
        '',
        'FORWARD policy ACCEPT [504 packets, 27216 bytes]',
        '',
        'OUTPUT policy ACCEPT [8704 packets, 1072000 bytes]',
        '',
        'POSTROUTING policy ACCEPT [9208 packets, 1099000 bytes]',
        '  PKTS  BYTES    TARGET              PROT  COMMENT                            DNAT',
        '  9208  1099000  CILIUM_POST_mangle  all   cilium-feeder: CILIUM_POST_mangle  -',
        '',
        'CILIUM_POST_mangle (1 references)',
        '',
        'CILIUM_PRE_mangle (1 references)',
        '  PKTS  BYTES  TARGET  PROT  COMMENT                                                  DNAT',
        '  0     0      MARK    all   cilium: any->pod redirect proxied traffic to host proxy  -',
        '  0     0      TPROXY  tcp   cilium: TPROXY to host cilium-dns-egress proxy           -',
        '  0     0      TPROXY  udp   cilium: TPROXY to host cilium-dns-egress proxy           -',
        '',
        'KUBE-IPTABLES-HINT (0 references)',
        '',
        'KUBE-KUBELET-CANARY (0 references)',
      ].join('\n'),
    );
    assert.deepEqual(r.unknown, [{ line: 1, text: 'root@kind-worker2:/# iptables -t mangle -nvL' }]);
    assert.equal(r.nothing, null);
  });

  it('iptables -nt nat -L (no -v): no counters, so none printed; the prompt lines are unknown', (t) => {
    const text = corpus(t, IPTABLES_NAT_L, 1, 7);
    if (text === null) return;
    const r = render('iptables', text);
    assert.equal(
      r.table,
      [
        'PREROUTING policy ACCEPT',
        '  PKTS  BYTES  TARGET          PROT  COMMENT                        DNAT',
        '  -     -      CILIUM_PRE_nat  all   cilium-feeder: CILIUM_PRE_nat  -',
        '  -     -      KUBE-SERVICES   all   kubernetes service portals     -',
        '  -     -      DOCKER_OUTPUT   all   -                              -',
      ].join('\n'),
    );
    assert.deepEqual(r.unknown, [
      { line: 1, text: '1.1: iptables -nt nat -L PREROUTING' },
      { line: 2, text: 'root@cilium-kubeproxy-control-plane:~# iptables -nt nat -L PREROUTING' },
    ]);
  });

  it('iptables-save -c: the table before each chain, the DNAT target in its column', () => {
    const save = [
      '*nat',
      ':PREROUTING ACCEPT [10:600]',
      ':KUBE-SEP-AAAA - [0:0]',
      '[3:180] -A KUBE-SERVICES -d 10.96.10.10/32 -p tcp -m comment --comment "default/echo:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-EEEE',
      '[2:120] -A KUBE-SEP-AAAA -p tcp -m comment --comment "default/echo:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080',
      'COMMIT',
    ].join('\n');
    const r = render('iptables', save);
    // KUBE-SERVICES has rules but no `:KUBE-SERVICES` line in this excerpt: no chain counters.
    assert.equal(
      r.table,
      [
        '*nat PREROUTING policy ACCEPT [10 packets, 600 bytes]',
        '',
        '*nat KUBE-SEP-AAAA [0 packets, 0 bytes]',
        '  PKTS  BYTES  TARGET  PROT  COMMENT            DNAT',
        '  2     120    DNAT    tcp   default/echo:http  10.244.1.5:8080',
        '',
        '*nat KUBE-SERVICES',
        '  PKTS  BYTES  TARGET         PROT  COMMENT                       DNAT',
        '  3     180    KUBE-SVC-EEEE  tcp   default/echo:http cluster IP  -',
      ].join('\n'),
    );
    assert.deepEqual(r.unknown, []);
  });
});

describe('monitor: one row per event, info lines left out', () => {
  // Lines of cilium-monitor-trace-policyverdict-drop-host-as-world-korean-blog-idx18039083204.txt,
  // cilium-monitor-to-overlay-line-pr17370.txt, cilium-monitor-v-verbose-layers-cilium-1.11-issue18437-partial.txt,
  // cilium-monitor-v-t-trace-socklb-1.18.6-kind-native-idx60285825367.txt (the `Listening`/`Press` and
  // `level=info` lines); an IPv6 trace as Cilium prints it (JoinHostPort brackets); a tcpdump line
  // pasted in by mistake, indented, which is unknown.
  const MONITOR = [
    'Listening for events on 8 CPUs with 64x4096 of shared memory',
    'Press Ctrl-C to quit',
    '-> endpoint 1562 flow 0x76403eb7 , identity world->11803 state new ifindex 0 orig-ip 172.26.50.201: 172.26.50.201:56134 -> 10.0.1.184:8080 tcp SYN',
    'xx drop (Policy denied) flow 0x48357586 to endpoint 211, , identity world->15435: 172.26.50.201:60556 -> 10.0.1.185:8082 tcp SYN',
    '-> overlay flow 0x0 , identity 19929->unknown state new ifindex cilium_vxlan orig-ip 0.0.0.0: 10.244.0.253 -> 10.244.1.18 EchoRequest',
    '-> stack flow 0x1 , identity 11803->host state reply ifindex 0 orig-ip 0.0.0.0: [fd00:10:244::5]:8080 -> [fd00:10:244::9]:56134 tcp SYN, ACK',
    'time=2026-03-10T13:10:36.8488477Z level=info msg="Initializing dissection cache..."',
    'CPU 02: MARK 0x65fae318 FROM 2046 to-endpoint: 86 bytes (86 captured), state established, interface lxc_health, , identity host->health, orig-ip fd04::11, to endpoint 2046',
    '   04:37:01.756170 IP 10.244.0.46.43336 > 10.102.39.104.80: Flags [S], seq 1, win 5, length 0',
  ].join('\n');

  it('trace, drop, overlay, IPv6 and verbose events; an unknown line shows its first 60 characters', () => {
    const r = render('monitor', MONITOR);
    assert.equal(
      r.table,
      [
        'LINE  TYPE     POINT        FROM-EP  TO-EP  IDENTITY        STATE        IFINDEX       ORIG-IP        SRC                    DST                     PROTO  FLAGS        MESSAGE',
        '3     trace    to-endpoint  -        1562   world->11803    new          0             172.26.50.201  172.26.50.201:56134    10.0.1.184:8080         tcp    SYN          -',
        '4     drop     -            -        211    world->15435    -            -             -              172.26.50.201:60556    10.0.1.185:8082         tcp    SYN          Policy denied',
        '5     trace    to-overlay   -        -      19929->unknown  new          cilium_vxlan  0.0.0.0        10.244.0.253           10.244.1.18             icmp   EchoRequest  -',
        '6     trace    to-stack     -        -      11803->host     reply        0             0.0.0.0        [fd00:10:244::5]:8080  [fd00:10:244::9]:56134  tcp    SYN, ACK     -',
        '8     trace    to-endpoint  2046     2046   host->health    established  -             fd04::11       -                      -                       -      -            -',
        '9     unknown  -            -        -      -               -            -             -              -                      -                       -      -            04:37:01.756170 IP 10.244.0.46.43336 > 10.102.39.104.80: Fla',
      ].join('\n'),
    );
    assert.deepEqual(r.unknown, [
      {
        line: 9,
        text: '   04:37:01.756170 IP 10.244.0.46.43336 > 10.102.39.104.80: Flags [S], seq 1, win 5, length 0',
      },
    ]);
    assert.equal(r.nothing, null);
  });

  it('an unknown line cut at a blank ends without it (the row is trimmed)', () => {
    // Character 60 of this line is the blank before "ack": the cut leaves a trailing blank.
    const line = '04:37:01.756170 IP 10.244.0.46.43336 > 10.102.39.104.80: F. ack 1, win 5, length 0';
    const r = render('monitor', line);
    assert.equal(
      r.table.split('\n')[1],
      '1     unknown  -      -        -      -         -      -        -        -    -    -      -      04:37:01.756170 IP 10.244.0.46.43336 > 10.102.39.104.80: F.',
    );
  });

  it('only the banner, or only unknown lines: nothing readable', (t) => {
    const banner = corpus(t, 'cilium-monitor-v-t-trace-socklb-1.18.6-kind-native-idx60285825367.txt', 1, 3);
    if (banner === null) return;
    assert.equal(render('monitor', banner).nothing, 'no cilium monitor events found in "f"');
    const tcpdump = '04:37:01.756170 IP 10.244.0.46.43336 > 10.102.39.104.80: Flags [S], seq 1, win 5, length 0';
    assert.equal(render('monitor', tcpdump).nothing, 'no cilium monitor events found in "f"');
    // One event among them is enough.
    assert.equal(render('monitor', `${banner}\n${MONITOR.split('\n')[2]}`).nothing, null);
  });
});

describe('status: one row per field', () => {
  const rows = (values: string[]) =>
    [
      'FIELD                 VALUE',
      ...[
        'Format',
        'Cilium version',
        'KubeProxyReplacement',
        'KPR devices',
        'Routing network',
        'Host routing',
        'Attach mode',
        'Device mode',
        'IPAM',
        'Masquerading',
        'Controllers',
      ].map((f, i) => `${f.padEnd(22)}${values[i]}`),
    ].join('\n');

  it('cilium-dbg status 1.19 with a VXLAN tunnel: the tunnel protocol in brackets, no KPR devices', (t) => {
    const text = corpus(t, 'cilium-dbg-status-1.19.0-kubeadm-tunnel-kpr-false-idx55353775762.txt');
    if (text === null) return;
    const r = render('status', text);
    assert.equal(
      r.table,
      rows([
        'agent',
        '1.19.0',
        'False',
        '-',
        'Tunnel [vxlan]',
        'Legacy',
        'Legacy TC',
        'veth',
        'IPv4: 3/254 allocated from 10.0.0.0/24',
        'IPTables [IPv4: Enabled, IPv6: Disabled]',
        '20/20 healthy',
      ]),
    );
    assert.deepEqual(r.unknown, [
      { line: 1, text: 'albert@k8s-cp-1:~$ kubectl -n kube-system exec ds/cilium -- cilium-dbg status' },
    ]);
    assert.equal(r.nothing, null);
  });

  it('cilium-dbg status 1.17 on EKS: native routing, three KPR devices separated by "; "', (t) => {
    const text = corpus(t, 'cilium-dbg-status-1.17.4-eks-native-legacy-kpr-true-widecolumns-idx34246154250.txt');
    if (text === null) return;
    assert.equal(
      render('status', text).table,
      rows([
        'agent',
        '1.17.4',
        'True',
        'enX0 10.0.3.76 fe80::49b:66ff:fed2:b509 (Direct Routing); enX1 10.0.3.149 fe80::4b4:f2ff:fe2d:8009; enX2 10.0.3.144 fe80::41f:fff:fe7a:3f07',
        'Native',
        'Legacy',
        'Legacy TC',
        'veth',
        'IPv4: 5/13 allocated',
        'IPTables [IPv4: Enabled, IPv6: Disabled]',
        '37/37 healthy',
      ]),
    );
  });

  it('cilium-cli status: every agent field empty, and the reason names the other tool', (t) => {
    const text = corpus(t, 'cilium-cli-status-1.18.6-kind-idx60285825367.txt');
    if (text === null) return;
    const r = render('status', text);
    assert.equal(r.table, rows(['cilium-cli', '-', '-', '-', '-', '-', '-', '-', '-', '-', '-']));
    assert.equal(
      r.nothing,
      '"f" is the cluster-wide `cilium status` of cilium-cli, not the agent\'s `cilium-dbg status`',
    );
  });
});

describe('tcpdump and pcap: one row per packet', () => {
  it('text: VXLAN packets with their inner ICMP, ARP and RARP, an -i any packet with its direction, ICMP without ports', () => {
    // Lines of mixed-cilium-1.20.1-minikube-vxlan-kpr-false-status-iproute-monitor-idx69598493232.txt
    // (OTV = VXLAN on 8472, its inner packet on the next line), tcpdump 4.99's `-i any -e` form and
    // tcpdump-nne-eth0-node-kubeproxy-native-1.15.0rc1-wcnikind-pcap-rendered.txt; then a ping reply
    // line, which is not tcpdump's.
    const text = [
      '19:07:35.425287 IP 192.168.76.3.36121 > 192.168.76.2.8472: OTV, flags [I] (0x08), overlay 0, instance 22446',
      'IP 10.244.1.87 > 10.244.0.132: ICMP echo request, id 29, seq 0, length 64',
      '09:15:36.860874 lxc12ab  In  ifindex 12 aa:bb:cc:dd:ee:01 ethertype IPv4 (0x0800), length 80: 10.244.0.10.40001 > 10.96.94.95.80: Flags [S.], seq 1, ack 2, win 64240, length 0',
      '03:14:06.543522 02:42:ac:12:00:04 > 02:42:ac:12:00:02, ethertype IPv4 (0x0800), length 98: 10.0.0.166 > 10.0.1.118: ICMP echo request, id 45, seq 0, length 64',
      '19:07:35.425463 IP 192.168.76.2.36121 > 192.168.76.3.8472: OTV, flags [I] (0x08), overlay 0, instance 13837',
      'ARP, Reply 10.244.0.132 is-at 0a:2a:fc:fc:ee:23, length 28',
      '19:07:35.425601 IP 192.168.76.3.36121 > 192.168.76.2.8472: OTV, flags [I] (0x08), overlay 0, instance 22446',
      'ARP, Reverse Request who-is 0a:2a:fc:fc:ee:23 tell 0a:2a:fc:fc:ee:23, length 28',
      '64 bytes from 10.244.0.132: seq=0 ttl=63 time=0.369 ms',
    ].join('\n');
    const r = render('tcpdump', text);
    // An ARP reply names no target address, a RARP request (who-is a MAC) no IP address at all:
    // the addresses it lacks show as "?".
    assert.equal(
      r.table,
      [
        'TIME             IF          SRC                 DST                PROTO  FLAGS  LENGTH  INNER',
        '19:07:35.425287  -           192.168.76.3.36121  192.168.76.2.8472  udp    -      -       10.244.1.87 > 10.244.0.132 icmp',
        '09:15:36.860874  lxc12ab In  10.244.0.10.40001   10.96.94.95.80     tcp    S.     0       -',
        '03:14:06.543522  -           10.0.0.166          10.0.1.118         icmp   -      64      -',
        '19:07:35.425463  -           192.168.76.2.36121  192.168.76.3.8472  udp    -      -       10.244.0.132 > ? arp',
        '19:07:35.425601  -           192.168.76.3.36121  192.168.76.2.8472  udp    -      -       ? > ? arp',
      ].join('\n'),
    );
    assert.deepEqual(r.unknown, [{ line: 9, text: '64 bytes from 10.244.0.132: seq=0 ttl=63 time=0.369 ms' }]);
    assert.equal(r.nothing, null);
  });

  /** A classic pcap (tcpdump -w, Ethernet) with one TCP SYN-ACK 10.0.0.1:40000 → 10.96.0.10:80. */
  function pcapBytes(): Uint8Array {
    const hdr = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0];
    const ip = [0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 96, 0, 10];
    const tcp = [0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0xfa, 0xf0, 0, 0, 0, 0];
    const frame = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0, ...ip, ...tcp];
    const le = (v: number) => [v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255];
    return new Uint8Array([...hdr, ...le(1700000000), ...le(42), ...le(frame.length), ...le(frame.length), ...frame]);
  }

  it('pcap: the same table from the bytes; text given as a pcap is refused by its first bytes', () => {
    const table = [
      'TIME             IF  SRC             DST            PROTO  FLAGS  LENGTH  INNER',
      '22:13:20.000042  -   10.0.0.1.40000  10.96.0.10.80  tcp    S.     0       -',
    ].join('\n');
    assert.equal(render('pcap', pcapBytes()).table, table);
    assert.equal(render('tcpdump', pcapBytes()).table, table);
    // parseAs takes text too (the corpus harness passes strings): tcpdump text is no pcap.
    assert.throws(
      () => parseAs('pcap', '04:37:01.756170 IP 10.244.0.46.43336 > 10.102.39.104.80: Flags [S], length 0'),
      (e: unknown) =>
        e instanceof UnreadablePcapError &&
        e.message === 'it does not start with the magic number of a classic pcap file',
    );
  });
});

describe('bpftool: attachments, programs, helper calls', () => {
  it('net show, tcx (Cilium 1.17): program ids and link ids, no object', (t) => {
    const text = corpus(t, BPFTOOL_TCX, 3, 9);
    if (text === null) return;
    const r = render('bpftool-net', text);
    assert.equal(
      r.table,
      [
        'INTERFACE  IFINDEX  HOOK  DIRECTION  PROGRAM          OBJECT  ID    LINK',
        'eth0       2        tcx   ingress    cil_from_netdev  -       1975  16',
        'eth0       2        tcx   egress     cil_to_netdev    -       1973  17',
        'eth1       3        tcx   ingress    cil_from_netdev  -       1984  18',
        'eth1       3        tcx   egress     cil_to_netdev    -       1982  19',
      ].join('\n'),
    );
    assert.deepEqual(r.unknown, [{ line: 1, text: 'c0bpf net show' }]);
    assert.equal(r.nothing, null);
  });

  it('net show, clsact (Cilium 1.9): the object:[section] name, no link id', (t) => {
    const text = corpus(t, BPFTOOL_CLSACT, 1, 8);
    if (text === null) return;
    const r = render('bpftool-net', text);
    assert.equal(
      r.table,
      [
        'INTERFACE    IFINDEX  HOOK  DIRECTION  PROGRAM                OBJECT                           ID   LINK',
        'eth0         2        tc    ingress    bpf_network.o          bpf_network.o:[from-network]     221  -',
        'cilium_net   4        tc    ingress    bpf_host_cilium_net.o  bpf_host_cilium_net.o:[to-host]  230  -',
        'cilium_host  5        tc    ingress    bpf_host.o             bpf_host.o:[to-host]             222  -',
        'cilium_host  5        tc    egress     bpf_host.o             bpf_host.o:[from-host]           226  -',
      ].join('\n'),
    );
    assert.deepEqual(r.unknown, [{ line: 1, text: 'bpftool net show' }]);
  });

  it('prog show: the table, and the JSON is the parsed programs whole', (t) => {
    const text = corpus(t, BPFTOOL_TCX, 25, 35);
    if (text === null) return;
    const r = render('bpftool-prog', text);
    assert.equal(
      r.table,
      [
        'ID    TYPE       NAME                TAG               XLATED  MAPS',
        '1998  sched_cls  cil_from_container  41989045bb171bee  752     312,313,35',
        '2003  sched_cls  cil_to_container    0b3125767ba1861c  1448    312,35,313',
      ].join('\n'),
    );
    assert.deepEqual(r.unknown, [
      { line: 1, text: 'c0bpf prog show id 1998' },
      { line: 7, text: 'c0bpf prog show id 2003' },
    ]);
    assert.equal(r.nothing, null);
    const one = corpus(t, BPFTOOL_TCX, 25, 29)!;
    assert.deepEqual(render('bpftool-prog', one).json, {
      programs: [
        {
          id: 1998,
          type: 'sched_cls',
          name: 'cil_from_container',
          tag: '41989045bb171bee',
          gpl: true,
          loadedAt: '2025-07-19T16:42:31+0000',
          uid: 0,
          xlatedBytes: 752,
          jitedBytes: 784,
          memlockBytes: 4096,
          mapIds: [312, 313, 35],
          btfId: 667,
          pinned: [],
        },
      ],
      unknownLines: [{ line: 1, text: 'c0bpf prog show id 1998' }],
    });
  });

  it('prog dump xlated (the lab’s tail_ipv4_policy): each helper once, with its count and first call', () => {
    const xlated = readRecorded('test/fixtures/lab-bpftool/tail-calls-same-node.txt').get(
      'bpftool prog dump xlated id 563',
    )!;
    const r = render('bpftool-xlated', xlated);
    assert.equal(
      r.table,
      [
        'HELPER                  CALLS  FIRST AT',
        'bpf_skb_load_bytes      4      72',
        '__htab_map_lookup_elem  2      149',
        'bpf_ktime_get_ns        2      179',
        'bpf_skb_event_output    2      191',
        'bpf_l4_csum_replace     2      219',
        'bpf_l3_csum_replace     2      227',
        'bpf_skb_store_bytes     5      237',
        'bpf_redirect            1      330',
      ].join('\n'),
    );
    assert.deepEqual(r.unknown, []);
    assert.equal(r.nothing, null);
  });
});

describe('ip: routes, neighbours, interfaces', () => {
  it('ip route on a kind node: gateways, scopes and preferred sources', (t) => {
    const text = corpus(t, IP_NODE_POD, 26, 32);
    if (text === null) return;
    const r = render('ip-route', text);
    assert.equal(
      r.table,
      [
        'DST            GATEWAY       DEV          PROTO   SCOPE  SRC           MTU',
        'default        10.89.0.1     eth0         static  -      -             -',
        '10.89.0.0/24   -             eth0         kernel  link   10.89.0.4     -',
        '10.244.0.0/24  10.244.0.154  cilium_host  kernel  -      10.244.0.154  -',
        '10.244.0.154   -             cilium_host  kernel  link   -             -',
        '10.244.1.0/24  10.89.0.3     eth0         kernel  -      -             -',
        '10.244.3.0/24  10.89.0.2     eth0         kernel  -      -             -',
      ].join('\n'),
    );
    assert.deepEqual(r.unknown, [{ line: 1, text: 'root@kind-control-plane:/# ip route' }]);
    assert.equal(r.nothing, null);
  });

  it('ip route show table local: the route type before the destination; a pod route with its MTU', () => {
    const text = [
      'local 10.89.0.4 dev eth0 proto kernel scope host src 10.89.0.4',
      'broadcast 10.89.0.255 dev eth0 proto kernel scope link src 10.89.0.4',
      'local 127.0.0.0/8 dev lo proto kernel scope host src 127.0.0.1',
      'default via 10.244.0.154 dev eth0 mtu 1500',
    ].join('\n');
    assert.equal(
      render('ip-route', text).table,
      [
        'DST                    GATEWAY       DEV   PROTO   SCOPE  SRC        MTU',
        'local 10.89.0.4        -             eth0  kernel  host   10.89.0.4  -',
        'broadcast 10.89.0.255  -             eth0  kernel  link   10.89.0.4  -',
        'local 127.0.0.0/8      -             lo    kernel  host   127.0.0.1  -',
        'default                10.244.0.154  eth0  -       -      -          1500',
      ].join('\n'),
    );
  });

  it('ip neigh: a failed entry has no link-layer address; the JSON is the parsed list whole', () => {
    const text = [
      '10.244.0.50 dev eth0 lladdr 7e:b5:77:fa:4c:e4 REACHABLE',
      '10.244.1.9 dev eth0 FAILED',
      'fe80::1 dev eth0 lladdr 5a:94:ef:e4:0c:ee router STALE',
      'Device "eth9" does not exist.',
    ].join('\n');
    const r = render('ip-neigh', text);
    assert.equal(
      r.table,
      [
        'IP           LLADDR             DEV   STATE',
        '10.244.0.50  7e:b5:77:fa:4c:e4  eth0  REACHABLE',
        '10.244.1.9   -                  eth0  FAILED',
        'fe80::1      5a:94:ef:e4:0c:ee  eth0  STALE',
      ].join('\n'),
    );
    const unknown = [{ line: 4, text: 'Device "eth9" does not exist.' }];
    assert.deepEqual(r.unknown, unknown);
    assert.equal(r.nothing, null);
    assert.deepEqual(r.json, {
      neighbours: [
        {
          ip: '10.244.0.50',
          lladdr: '7e:b5:77:fa:4c:e4',
          dev: 'eth0',
          state: 'REACHABLE',
          router: false,
          raw: '10.244.0.50 dev eth0 lladdr 7e:b5:77:fa:4c:e4 REACHABLE',
        },
        {
          ip: '10.244.1.9',
          lladdr: null,
          dev: 'eth0',
          state: 'FAILED',
          router: false,
          raw: '10.244.1.9 dev eth0 FAILED',
        },
        {
          ip: 'fe80::1',
          lladdr: '5a:94:ef:e4:0c:ee',
          dev: 'eth0',
          state: 'STALE',
          router: true,
          raw: 'fe80::1 dev eth0 lladdr 5a:94:ef:e4:0c:ee router STALE',
        },
      ],
      unknownLines: unknown,
    });
  });

  it('ip addr in a pod: every address with its prefix length; the JSON is the parsed interfaces whole', (t) => {
    const text = corpus(t, IP_NODE_POD, 1, 13);
    if (text === null) return;
    const r = render('ip-addr', text);
    assert.equal(
      r.table,
      [
        'IFINDEX  NAME  LINK  STATE    MTU    ADDRESSES',
        '1        lo    -     UNKNOWN  65536  127.0.0.1/8 ::1/128',
        '11       eth0  if12  UP       1500   10.244.0.66/32 fe80::a436:57ff:fe51:25c6/64',
      ].join('\n'),
    );
    assert.deepEqual(r.unknown, [{ line: 1, text: '[root@localhost kind]# nsenter -t 10280 -n ip a' }]);
    assert.equal(r.nothing, null);
    const short = corpus(t, IP_NODE_POD, 17, 19)!;
    assert.deepEqual(render('ip-addr', short).json, {
      interfaces: [
        {
          ifindex: 1,
          name: 'lo',
          link: null,
          flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
          mtu: 65536,
          state: 'UNKNOWN',
          mac: null,
          addresses: [],
          raw: '1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN group default qlen 1000',
        },
        {
          ifindex: 2,
          name: 'eth0',
          link: 'if6',
          flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
          mtu: 1500,
          state: 'UP',
          mac: null,
          addresses: [],
          raw: '2: eth0@if6: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000',
        },
      ],
      unknownLines: [{ line: 1, text: 'root@kind-control-plane:/# ip a | grep qlen' }],
    });
  });
});

describe('hookpoint parse: nothing readable, and binary input', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'hookpoint-registry-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A pcap header (tcpdump -w, Ethernet) and no packet. */
  const EMPTY_PCAP = new Uint8Array([
    0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0,
  ]);
  const KINDS =
    'iptables, monitor, status, tcpdump, pcap, bpftool-net, bpftool-prog, bpftool-xlated, ip-route, ip-neigh, ip-addr';
  /** Per kind: the reason an empty input is nothing, and what the kind reads (the hint's words). */
  const EXPECTED: Record<ParseKind, [string, string]> = {
    iptables: ['no iptables chains or rules found in', 'iptables-save [-c], iptables -S, iptables -L [-n] [-v] [-x]'],
    monitor: ['no cilium monitor events found in', 'cilium(-dbg) monitor [-v] [--type …]'],
    status: ['no cilium(-dbg) status fields found in', 'cilium-dbg status [--verbose]'],
    tcpdump: ['no packets found in', 'tcpdump -n [-e] [-v] text, or a classic .pcap'],
    pcap: ['no packets found in', 'a classic .pcap file (tcpdump -w)'],
    'bpftool-net': ['no program attachments found in', 'bpftool net show, tc filter show'],
    'bpftool-prog': ['no programs found in', 'bpftool prog show'],
    'bpftool-xlated': ['no translated instructions found in', 'bpftool prog dump xlated'],
    'ip-route': ['no routes found in', 'ip route show'],
    'ip-neigh': ['no neighbours found in', 'ip neigh show'],
    'ip-addr': ['no interfaces found in', 'ip addr show'],
  };

  it('an empty input of each kind: the reason and what the kind reads, in one paragraph', () => {
    assert.deepEqual(Object.keys(EXPECTED), PARSE_KINDS);
    for (const kind of PARSE_KINDS) {
      const file = path.join(dir, `empty-${kind}`);
      writeFileSync(file, kind === 'pcap' ? EMPTY_PCAP : '');
      const [reason, reads] = EXPECTED[kind];
      assert.throws(
        () => runParse(kind, file, {}),
        (e: unknown) => {
          assert.ok(e instanceof UsageError);
          assert.equal(
            e.paragraph(),
            `Nothing readable as ${kind} output: ${reason} "${file}". \`hookpoint parse ${kind}\` reads ${reads}; the kinds are ${KINDS}.`,
          );
          return true;
        },
        kind,
      );
    }
  });

  it('binary data is refused by every kind that reads text, naming what it reads', () => {
    const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0]);
    for (const kind of PARSE_KINDS.filter((k) => k !== 'pcap'))
      assert.throws(
        () => parseInput(kind, elf, '"a.out"'),
        (e: unknown) =>
          e instanceof UsageError && e.message === `"a.out" is binary data, not ${kind} output (${EXPECTED[kind][1]}).`,
        kind,
      );
  });
});

describe('looksBinary: NUL, or more than 10 % of the first 8 KiB control bytes that text does not use', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);

  it('text: tabs, CR/LF line ends, form feeds, terminal bells and colour escapes', () => {
    assert.equal(looksBinary(new Uint8Array(0)), false);
    // `ip -c addr` colours its names with ESC sequences; BEL (ping -a), BS, VT and FF are text too.
    assert.equal(looksBinary(bytes('\x1b[36meth0\x1b[0m\r\n\x1b[1m')), false);
    assert.equal(looksBinary(bytes('\x07\x08\t\n\x0b\x0c\r')), false);
  });

  it('binary: a NUL anywhere in the head; control bytes 1–6 and 14–31 above a tenth', () => {
    assert.equal(looksBinary(bytes(`${'iptables-save output '.repeat(20)}\0`)), true);
    assert.equal(looksBinary(bytes('0123456789abcdef\x01\x02\x03')), true);
    assert.equal(looksBinary(bytes('0123456789abcdef\x0e\x1f\x1a')), true);
  });

  it('the threshold: one control byte in ten is text, two in ten are binary', () => {
    assert.equal(looksBinary(bytes('012345678\x01')), false);
    assert.equal(looksBinary(bytes('01234567\x01\x1f')), true);
    assert.equal(looksBinary(bytes('0123456789012345678\x06')), false);
  });
});
