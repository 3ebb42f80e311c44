/**
 * The real-output corpus (../shared/fixtures/real-world, read in place, never copied): every
 * file there is mapped either to the parser(s) that read it, with facts checked per file, or to
 * "out of scope" with the reason. Every in-scope file parses without throwing and leaves at most
 * a capped share of its lines unknown; lines that are the author's, not the tool's (shell prompts,
 * `=====` separators added by the corpus editor, `#` notes), are set aside first, as INDEX.md allows.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { serviceRules } from '../../../support/kube-proxy/rules.ts';
import {
  findChain,
  parseBpftoolNet,
  parseBpftoolProgShow,
  parseBpftoolXlated,
  parseCiliumStatus,
  parseIpAddr,
  parseIpRoute,
  parseIptables,
  parseMonitor,
  parseTcpdump,
} from '../../../support/parsers/index.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const corpusDir = path.resolve(repoRoot, '../shared/fixtures/real-world');

type Kind =
  | 'iptables'
  | 'monitor'
  | 'status'
  | 'tcpdump'
  | 'bpftool-net'
  | 'bpftool-prog'
  | 'bpftool-xlated'
  | 'ip-route'
  | 'ip-addr';

interface Use {
  parser: Kind;
  /** 1-based inclusive line ranges of a mixed notebook that hold this tool's output. */
  lines?: Array<[number, number]>;
  /** Share of (non-author) lines allowed to stay unknown; default 0. */
  maxUnknown?: number;
  /** Why a non-zero share is accepted. */
  why?: string;
  /** Extra author lines for this file (beyond prompts, `=====`, `#` notes). */
  author?: RegExp;
  // biome-ignore lint/suspicious/noExplicitAny: each fact function knows its parser's result type
  facts: (r: any) => void;
}

type Entry = { uses: Use[] } | { outOfScope: string };

/** Lines written by the person who pasted the output, not by the tool. */
const AUTHOR_LINES = [
  /^\s*=====\s*$/, // separators added by the corpus editor
  /^\s*#(\s|$)/, // notes and `# command` prompts
  /^\s*\$ /, // `$ command`
  /^\s*\[[^\]]+\][$#]/, // [root@host dir]$ command
  /^\s*[\w.-]+@[\w.-]+:[^\s]*[#$]/, // root@node:~# command
  /^\s*\S*~\$/, // client~$command
  /^\s*(⬢|›|c0bpf |c2 |kubectl |sudo |Themis)/, // other prompts seen in the corpus
];

function isAuthorLine(line: string, extra?: RegExp): boolean {
  return AUTHOR_LINES.some((r) => r.test(line)) || (extra?.test(line) ?? false);
}

function select(text: string, ranges?: Array<[number, number]>): string {
  if (!ranges) return text;
  const all = text.split('\n');
  return ranges.map(([a, b]) => all.slice(a - 1, b).join('\n')).join('\n');
}

// biome-ignore lint/suspicious/noExplicitAny: dispatch over heterogeneous parser results
function run(kind: Kind, text: string): { result: any; unknown: Array<{ line: number; text: string }> } {
  switch (kind) {
    case 'iptables': {
      const r = parseIptables(text);
      return { result: r, unknown: r.unknownLines };
    }
    case 'monitor': {
      const r = parseMonitor(text);
      return { result: r, unknown: r.unknownLines };
    }
    case 'status': {
      const r = parseCiliumStatus(text);
      return { result: r, unknown: r.unknownLines };
    }
    case 'tcpdump': {
      const r = parseTcpdump(text);
      return { result: r, unknown: r.unknownLines };
    }
    case 'bpftool-net': {
      const r = parseBpftoolNet(text);
      return { result: r, unknown: r.unknownLines };
    }
    case 'bpftool-prog': {
      const r = parseBpftoolProgShow(text);
      return { result: r, unknown: r.unknownLines };
    }
    case 'bpftool-xlated': {
      const r = parseBpftoolXlated(text);
      return { result: r, unknown: r.unknownLines };
    }
    case 'ip-route': {
      const r = parseIpRoute(text);
      return { result: r, unknown: r.unknownLines };
    }
    case 'ip-addr': {
      const r = parseIpAddr(text);
      return { result: r, unknown: r.unknownLines };
    }
  }
}

// biome-ignore lint/suspicious/noExplicitAny: fact helpers over parsed JSON-like data
type Any = any;
/** A chain of a parsed dump; the facts fail loudly on a missing chain. */
const chain = (d: Any, name: string, table?: string): Any => {
  const c = findChain(d, name, table);
  assert.ok(c, `chain ${name} not found`);
  return c;
};
const ofType = (r: Any, t: string): Any[] => r.events.filter((e: Any) => e.type === t);

const CORPUS: Record<string, Entry> = {
  'INDEX.md': { outOfScope: 'the corpus index (provenance and quirks), not tool output' },

  // ---------------------------------------------------------------- cilium monitor
  'cilium-monitor-v-t-trace-socklb-1.18.6-kind-native-idx60285825367.txt': {
    uses: [
      {
        parser: 'monitor',
        facts: (r) => {
          const sock = ofType(r, 'trace-sock');
          assert.equal(sock.length, 6);
          assert.deepEqual(sock[0].dst, { ip: '10.96.211.254', port: 80 });
          assert.equal(sock[0].observationPoint, 'pre-xlate-fwd');
          assert.deepEqual(sock[1].dst, { ip: '10.244.2.148', port: 80 });
          assert.equal(sock[1].observationPoint, 'post-xlate-fwd');
          const toEp = r.events.filter((e: Any) => e.observationPoint === 'to-endpoint');
          assert.equal(toEp.length, 3);
          assert.ok(toEp.every((e: Any) => e.endpoint === 2927 && e.origIp === '10.244.2.148'));
          assert.equal(toEp[0].interface, 'lxc61f83227c4ba');
          assert.equal(toEp[0].flags, 'SYN, ACK');
          const net = r.events.filter((e: Any) => e.observationPoint === 'to-network');
          assert.equal(net.length, 5);
          assert.ok(net.every((e: Any) => e.origIp === '0.0.0.0' && e.ifindex === 'eth0'));
          assert.deepEqual(net[0].identities, { src: 22196, dst: 60386 });
          assert.equal(net[0].flowId, '0xd67215a2');
        },
      },
    ],
  },
  'cilium-dbg-monitor-related-to-dns-proxy-orig-ip-clusterip-cilium-docs-rst-idx4273197192.txt': {
    uses: [
      {
        parser: 'monitor',
        facts: (r) => {
          const reply = r.events.find((e: Any) => e.type === 'trace' && e.src?.port === 53);
          assert.equal(reply.endpoint, 3459);
          assert.equal(reply.origIp, '10.60.1.115', 'reply from the ClusterIP carries the backend as orig-ip');
          assert.deepEqual(reply.src, { ip: '10.63.240.10', port: 53 });
          assert.equal(reply.flowId, '0xe6866e21', 'flow id without the comma of the older format');
          assert.equal(ofType(r, 'l7').length, 2);
          assert.equal(ofType(r, 'l7')[0].srcEndpoint, 3459);
          const pv = ofType(r, 'policy-verdict')[0];
          assert.equal(pv.verdict.direction, 'egress');
          assert.equal(pv.srcEndpoint, 3459);
          assert.equal(r.events.filter((e: Any) => e.type === 'trace' && e.observationPoint === null).length, 5);
          assert.equal(r.events.filter((e: Any) => e.observationPoint === 'to-stack').length, 5);
        },
      },
    ],
  },
  'cilium-monitor-network-flow-enp3s0-unknown-identity-idx18022035911.txt': {
    uses: [
      {
        parser: 'monitor',
        facts: (r) => {
          const t = ofType(r, 'trace');
          assert.equal(t.length, 4);
          assert.deepEqual(
            [t[0].endpoint, t[0].origIp, t[0].identities],
            [734, '10.0.4.122', { src: 72931, dst: 71695 }],
          );
          assert.equal(t[1].state, 'reply');
          assert.deepEqual(t[2].identities, { src: 'unknown', dst: 'unknown' });
          assert.equal(t[2].observationPoint, 'to-network');
          assert.equal(t[2].interface, 'enp3s0');
          assert.deepEqual(t[3].dst, { ip: '10.0.99.1', port: 53 });
        },
      },
    ],
  },
  'cilium-monitor-trace-policyverdict-drop-host-as-world-korean-blog-idx18039083204.txt': {
    uses: [
      {
        parser: 'monitor',
        facts: (r) => {
          const pv = ofType(r, 'policy-verdict')[0];
          assert.deepEqual([pv.verdict.remoteIdentity, pv.verdict.action, pv.endpoint], ['world', 'deny', 211]);
          const drop = ofType(r, 'drop')[0];
          assert.deepEqual([drop.message, drop.endpoint, drop.identities.src], ['Policy denied', 211, 'world']);
          const [toEp, toStack] = ofType(r, 'trace');
          assert.deepEqual([toEp.endpoint, toEp.ifindex, toEp.origIp], [1562, 0, '172.26.50.201']);
          assert.deepEqual(
            [toStack.observationPoint, toStack.identities.dst, toStack.flags],
            ['to-stack', 'host', 'SYN, ACK'],
          );
        },
      },
    ],
  },
  'cilium-monitor-to-overlay-line-pr17370.txt': {
    uses: [
      {
        parser: 'monitor',
        facts: (r) => {
          const e = r.events[0];
          assert.deepEqual(
            [e.observationPoint, e.ifindex, e.origIp, e.protocol, e.flags],
            ['to-overlay', 'cilium_vxlan', '0.0.0.0', 'icmp', 'EchoRequest'],
          );
          assert.deepEqual(e.identities, { src: 19929, dst: 'unknown' });
        },
      },
    ],
  },
  'cilium-monitor-vv-trace-verbose-1.14or1.16-guu13-k8s-install.txt': {
    uses: [
      {
        parser: 'monitor',
        facts: (r) => {
          const layers = ofType(r, 'layer');
          assert.deepEqual(
            layers.map((l: Any) => l.layer.name),
            ['Ethernet', 'IPv4', 'TCP'],
          );
          assert.equal(layers[1].layer.fields.SrcIP, '172.200.0.112');
          assert.equal(layers[2].layer.fields.DstPort, '10250');
          const t = ofType(r, 'trace')[0];
          assert.deepEqual(
            [t.observationPoint, t.srcEndpoint, t.cpu, t.state, t.origIp],
            ['to-stack', 3006, 1, 'established', '0.0.0.0'],
          );
          assert.deepEqual(t.identities, { src: 52663, dst: 'host' });
        },
      },
    ],
  },
  'cilium-monitor-v-verbose-layers-cilium-1.11-issue18437-partial.txt': {
    uses: [
      {
        parser: 'monitor',
        facts: (r) => {
          const t = ofType(r, 'trace')[0];
          assert.deepEqual(
            [t.observationPoint, t.srcEndpoint, t.endpoint, t.interface, t.origIp],
            ['to-endpoint', 2046, 2046, 'lxc_health', 'fd04::11'],
          );
          assert.equal(ofType(r, 'layer').length, 4);
        },
      },
    ],
  },
  'cilium-monitor-debug-lines-CT-revnat-cilium-1.12-issue22107-partial.txt': {
    uses: [
      {
        parser: 'monitor',
        facts: (r) => {
          const d = ofType(r, 'debug');
          assert.equal(d.length, 9);
          assert.ok(d.every((e: Any) => e.srcEndpoint === 565 && e.cpu === 0));
          assert.ok(d.some((e: Any) => e.message === 'Performing reverse NAT, address=10.96.18.67 port=80'));
          assert.deepEqual(d[0].src, { ip: '10.244.1.81', port: 80 });
        },
      },
    ],
  },
  'cilium-monitor-policy-verdict-cilium-docs-policy-creation-and-host-firewall.txt': {
    uses: [
      {
        parser: 'monitor',
        author: /^\s*\.\.\.\s*$/,
        facts: (r) => {
          const pv = ofType(r, 'policy-verdict');
          assert.equal(pv.length, 5);
          assert.deepEqual(
            pv.map((e: Any) => e.verdict.action),
            ['audit', 'allow', 'allow', 'audit', 'deny'],
          );
          assert.deepEqual(pv[0].src, { ip: '10.0.0.112', port: 54134 });
          assert.deepEqual([pv[1].protocol, pv[1].flags, pv[1].src.port], ['icmp', 'EchoRequest', null]);
          assert.equal(pv[1].verdict.match, 'L3-Only');
          assert.equal(pv[4].dst.port, 21);
        },
      },
    ],
  },
  'cilium-monitor-drop-file-id-vs-filename-format-change-pr24143.txt': {
    uses: [
      {
        parser: 'monitor',
        facts: (r) => {
          const d = ofType(r, 'drop');
          assert.deepEqual(
            d.map((e: Any) => e.file),
            ['101:80', '2:1167', 'bpf_lxc.c:734', 'lib/icmp6.h:413', 'bpf_lxc.c:734'],
          );
          assert.deepEqual(
            d.map((e: Any) => e.ifindex),
            [12, 14, 8, 8, 10],
          );
          assert.equal(d[2].message, 'Invalid source ip');
        },
      },
    ],
  },
  'cilium-monitor-drop-stale-unroutable-kind-older-format-idx43227103883.txt': {
    uses: [
      {
        parser: 'monitor',
        facts: (r) => {
          const d = ofType(r, 'drop');
          assert.equal(d.length, 4);
          assert.ok(d.every((e: Any) => e.message === 'Stale or unroutable IP' && e.protocol === 'udp'));
          assert.deepEqual(d[0].identities, { src: 10977, dst: 'unknown' });
          assert.deepEqual(d[0].dst, { ip: '10.242.1.170', port: 53 });
          assert.equal(d[0].flowId, '0x29e44ff');
        },
      },
    ],
  },

  // ---------------------------------------------------------------- cilium status
  'cilium-status-verbose-1.15.0rc1-kpr-native-kind-wcnikind.txt': {
    uses: [
      {
        parser: 'status',
        facts: (s) => {
          assert.equal(s.kubeProxyReplacement, 'True');
          assert.equal(s.routing, null, '1.15 has no Routing line');
          assert.equal(s.hostRouting, 'Legacy');
          assert.equal(s.masquerading.mode, 'IPTables');
          assert.equal(s.ciliumVersion, '1.15.0-rc.1');
          assert.deepEqual([s.controllers.healthy, s.controllers.total, s.controllers.list.length], [18, 18, 18]);
          assert.equal(s.controllers.list[0].name, 'cilium-health-ep');
          assert.equal(s.kubeProxyReplacementDetails['Socket LB'], 'Enabled');
          assert.equal(s.ipam, 'IPv4: 2/254 allocated from 10.0.1.0/24');
        },
      },
    ],
  },
  'cilium-dbg-status-1.16.5-native-legacy-tcx-kpr-true-idx3544560782.txt': {
    uses: [
      {
        parser: 'status',
        facts: (s) => {
          assert.deepEqual(s.routing, { network: 'Native', host: 'Legacy', tunnelProtocol: null });
          assert.deepEqual([s.kubeProxyReplacement, s.attachMode, s.deviceMode], ['True', 'TCX', 'veth']);
          assert.equal(s.ciliumVersion, '1.16.5');
          assert.equal(s.fields.KVStore, 'Ok   Disabled');
          assert.equal(s.controllers.healthy, 130);
        },
      },
    ],
  },
  'cilium-dbg-status-1.17.4-eks-native-legacy-kpr-true-widecolumns-idx34246154250.txt': {
    uses: [
      {
        parser: 'status',
        facts: (s) => {
          assert.equal(s.kubeProxyReplacement, 'True');
          assert.equal(s.kubeProxyReplacementDevices.length, 3);
          assert.equal(s.attachMode, 'Legacy TC');
          assert.equal(s.routing.host, 'Legacy');
          assert.equal(s.ciliumVersion, '1.17.4');
          assert.deepEqual(s.ipamAllocations, [{ family: 'IPv4', used: 5, total: 13, cidr: null }]);
        },
      },
    ],
  },
  'cilium-dbg-status-1.18.2-gke-native-legacy-kpr-false-idx35517101370.txt': {
    uses: [
      {
        parser: 'status',
        facts: (s) => {
          assert.deepEqual([s.kubeProxyReplacement, s.kubeProxyReplacementDevices], ['False', []]);
          assert.deepEqual([s.routing.network, s.routing.host, s.attachMode], ['Native', 'Legacy', 'TCX']);
          assert.equal(s.fields.KVStore, 'Disabled');
          assert.equal(s.ciliumVersion, '1.18.2');
        },
      },
    ],
  },
  'cilium-dbg-status-1.18.6-kind-native-kpr-true-bpfhostrouting-idx60285825367.txt': {
    uses: [
      {
        parser: 'status',
        facts: (s) => {
          assert.deepEqual([s.routing.network, s.hostRouting], ['Native', 'BPF']);
          assert.deepEqual([s.masquerading.mode, s.masquerading.ipv4, s.masquerading.ipv6], ['BPF', true, false]);
          assert.equal(s.ipamAllocations[0].cidr, '10.244.3.0/24');
        },
      },
    ],
  },
  'cilium-dbg-status-1.19.0-kubeadm-tunnel-kpr-false-idx55353775762.txt': {
    uses: [
      {
        parser: 'status',
        facts: (s) => {
          assert.deepEqual(s.routing, { network: 'Tunnel', host: 'Legacy', tunnelProtocol: 'vxlan' });
          assert.equal(s.kubeProxyReplacement, 'False');
          assert.equal(s.fields.NodeMonitor, 'Disabled');
          assert.equal(s.ciliumVersion, '1.19.0');
        },
      },
    ],
  },
  'cilium-status-1.14.2-eks-chaining-kpr-false-hostrouting-legacy-mdindented-awsia.txt': {
    uses: [
      {
        parser: 'status',
        facts: (s) => {
          assert.equal(s.kubeProxyReplacement, 'False');
          assert.deepEqual(s.kubeProxyReplacementDevices, ['eth0 10.0.21.109 (Direct Routing)', 'eth1 10.0.27.0']);
          assert.equal(s.hostRouting, 'Legacy');
          assert.equal(s.masquerading.mode, 'Disabled');
          assert.equal(s.fields['CNI Chaining'], 'aws-cni');
          assert.equal(s.ciliumVersion, '1.14.2');
        },
      },
    ],
  },
  'cilium-dbg-service-list-and-kpr-details-1.20.1-minikube-idx71145198530.txt': {
    uses: [
      {
        parser: 'status',
        lines: [[11, 19]], // lines 1–10 are `cilium-dbg service list` and a pod table: not a status
        facts: (s) => {
          assert.equal(s.kubeProxyReplacement, 'True');
          assert.equal(s.kubeProxyReplacementDetails.Devices, 'eth0  192.168.76.3 (Direct Routing)');
          assert.equal(s.kubeProxyReplacementDetails['Socket LB'], 'Enabled');
        },
      },
    ],
  },
  'cilium-cli-status-1.18.6-kind-idx60285825367.txt': {
    uses: [
      {
        parser: 'status',
        facts: (s) => {
          assert.equal(
            s.format,
            'cilium-cli',
            'the cluster-wide cilium-cli summary is told apart from the agent status',
          );
          assert.equal(s.kubeProxyReplacement, null);
        },
      },
    ],
  },
  'mixed-cilium-1.20.1-minikube-vxlan-kpr-false-status-iproute-monitor-idx69598493232.txt': {
    uses: [
      {
        parser: 'status',
        lines: [[1, 7]],
        facts: (s) => {
          assert.equal(s.kubeProxyReplacement, 'False', 'trailing spaces after False');
          assert.deepEqual(s.routing, { network: 'Tunnel', host: 'Legacy', tunnelProtocol: 'vxlan' });
          assert.equal(s.ciliumVersion, '1.20.1');
          assert.equal(s.ipam, 'IPv4: 2/254 allocated from 10.244.0.0/24');
        },
      },
      {
        parser: 'ip-route',
        lines: [
          [14, 15],
          [22, 26],
        ],
        facts: (r) => {
          assert.deepEqual(
            [r.routes[0].dst, r.routes[0].gateway, r.routes[0].dev, r.routes[0].mtu],
            ['default', '10.244.1.99', 'eth0', 1450],
          );
          const other = r.routes.find((x: Any) => x.dst === '10.244.0.0/24');
          assert.deepEqual(
            [other.gateway, other.dev, other.protocol, other.mtu],
            ['10.244.1.99', 'cilium_host', 'kernel', 1450],
          );
          assert.equal(r.routes.length, 7);
        },
      },
      {
        parser: 'ip-addr',
        lines: [[12, 13]],
        facts: (r) => {
          assert.deepEqual([r.interfaces[0].name, r.interfaces[0].link], ['eth0', 'if12']);
          assert.equal(r.interfaces[0].addresses[0].local, '10.244.1.87');
        },
      },
      {
        parser: 'tcpdump',
        lines: [[37, 40]],
        facts: (r) => {
          assert.equal(r.packets.length, 2);
          assert.deepEqual(r.packets[0].dst, { ip: '192.168.76.2', port: 8472 });
          assert.deepEqual(r.packets[0].inner.dst, { ip: '10.244.0.132', port: null });
          assert.equal(r.packets[1].inner.info, 'ICMP echo reply, id 29, seq 0, length 64');
        },
      },
      {
        parser: 'monitor',
        lines: [[41, 42]],
        facts: (r) => {
          const [over, ep] = r.events;
          assert.deepEqual(
            [over.observationPoint, over.ifindex, over.flags],
            ['to-overlay', 'cilium_vxlan', 'EchoRequest'],
          );
          assert.deepEqual(
            [ep.endpoint, ep.origIp, ep.protocol, ep.flags],
            [1478, '10.244.0.132', 'icmp', 'EchoReply'],
          );
        },
      },
    ],
  },

  // ---------------------------------------------------------------- iptables
  'iptables-nat-L-kube-services-svc-1.15.0rc1-kind-wcnikind.txt': {
    uses: [
      {
        parser: 'iptables',
        author: /^\d+\.\d+: /, // the author's step headings
        facts: (d) => {
          assert.equal(d.format, 'list');
          const svc = chain(d, 'KUBE-SERVICES');
          assert.deepEqual([svc.references, svc.rules.length], [2, 8]);
          const s = serviceRules(d, { namespace: 'default', service: 'serversvc' });
          assert.deepEqual(
            s.svcJumps.map((r: Any) => r.target),
            ['KUBE-SVC-SWRT7AX63WBUEU6W'],
          );
          assert.equal(s.svcJumps[0].comment, 'default/serversvc cluster IP');
          assert.deepEqual(s.sepChains, ['KUBE-SEP-Q7ITRINEDXC7ONHS']);
          assert.equal(
            svc.rules.find((r: Any) => r.target === 'KUBE-SVL-NZTS37XDTDNXGCKJ').comment,
            'kube-system/hubble-peer:peer-service cluster IP',
          );
          assert.equal(chain(d, 'PREROUTING').policy, 'ACCEPT');
          assert.equal(chain(d, 'PREROUTING').rules[0].packets, null);
        },
      },
    ],
  },
  'iptables-nat-L-n-v-kind-kubeproxy-KUBE-SERVICES-SVC-SEP-idx16035165759.txt': {
    uses: [
      {
        parser: 'iptables',
        facts: (d) => {
          const pre = chain(d, 'PREROUTING');
          assert.deepEqual([pre.packets, pre.bytes], [18999, 3_902_000]);
          assert.deepEqual([pre.rules[0].packets, pre.rules[0].bytes], [18955, 3_898_000]);
          assert.equal(d.exactCounters, false);
          const np = chain(d, 'KUBE-SERVICES').rules.find((r: Any) => r.target === 'KUBE-NODEPORTS');
          assert.deepEqual([np.packets, np.bytes], [417, 25020]);
          const s = serviceRules(d, { namespace: 'default', service: 'mysvc' });
          assert.deepEqual(
            s.sepDnat.map((r: Any) => r.dnatTo),
            ['10.244.1.2:8080'],
          );
          assert.equal(chain(d, 'KUBE-SVC-BM6F4AVTDKG47F3K').rules.length, 4);
          assert.match(chain(d, 'KUBE-SVC-BM6F4AVTDKG47F3K').rules[1].matches, /probability 0\.33333333349/);
        },
      },
    ],
  },
  'iptables-mangle-nvL-cilium-chains-1.18.6-kind-idx60285825367.txt': {
    uses: [
      {
        parser: 'iptables',
        facts: (d) => {
          assert.deepEqual([chain(d, 'PREROUTING').packets, chain(d, 'PREROUTING').bytes], [9386, 1_544_000]);
          const pre = chain(d, 'CILIUM_PRE_mangle').rules;
          assert.deepEqual(
            pre.map((r: Any) => [r.target, r.protocol]),
            [
              ['MARK', '0'],
              ['TPROXY', '6'],
              ['TPROXY', '17'],
            ],
          );
          assert.match(pre[1].comment, /TPROXY to host cilium-dns-egress proxy/);
          assert.equal(chain(d, 'KUBE-IPTABLES-HINT').references, 0);
          assert.equal(d.chains.length, 9);
        },
      },
    ],
  },
  'iptables-S-nat-cilium-plus-kubeproxy-node-CILIUM_POST_nat-idx49537655284.txt': {
    uses: [
      {
        parser: 'iptables',
        facts: (d) => {
          assert.equal(d.format, 'rules');
          assert.equal(d.chains.length, 37);
          const dns = serviceRules(d, { namespace: 'kube-system', service: 'kube-dns', portName: 'dns' });
          assert.deepEqual(
            dns.svcJumps.map((r: Any) => r.target),
            ['KUBE-SVC-TCOU7JCQXEZGVUNU'],
          );
          assert.deepEqual(dns.sepDnat.map((r: Any) => r.dnatTo).sort(), ['10.0.0.61:53', '10.0.1.248:53']);
          const x = serviceRules(d, { namespace: 'default', service: 'x-tools-svc-1' });
          assert.deepEqual(
            x.nodePortJumps.map((r: Any) => r.target),
            ['KUBE-SVC-XXQFMBX2TZG6LPU6'],
            'NodePort jumps straight into KUBE-SVC (no KUBE-EXT)',
          );
          assert.equal(chain(d, 'CILIUM_POST_nat').rules.length, 5);
          assert.equal(chain(d, 'KUBE-POSTROUTING').rules[2].target, 'MASQUERADE');
        },
      },
    ],
  },
  'iptables-S-filter-cilium-plus-kubeproxy-node-idx49537655284.txt': {
    uses: [
      {
        parser: 'iptables',
        facts: (d) => {
          assert.equal(chain(d, 'FORWARD').policy, 'DROP');
          const fwd = chain(d, 'CILIUM_FORWARD').rules;
          assert.equal(fwd.length, 4);
          assert.ok(fwd.every((r: Any) => r.target === 'ACCEPT'));
          assert.equal(chain(d, 'KUBE-FIREWALL').rules[1].matches.includes('! -s 127.0.0.0/8'), true);
        },
      },
    ],
  },
  'iptables-nft-save-t-nat-grep-svc-kubeproxy-minikube-idx71145198530.txt': {
    uses: [
      {
        parser: 'iptables',
        author: /^(mode: iptables|I\d{4} )/, // kube-proxy's mode and log line pasted above the grep
        facts: (d) => {
          const s = serviceRules(d, { namespace: 'ch40', service: 'web', portName: 'http' });
          assert.deepEqual(
            s.svcJumps.map((r: Any) => r.target),
            ['KUBE-SVC-LJMWSUCFDC3EU5W3'],
          );
          assert.deepEqual(s.sepDnat.map((r: Any) => r.dnatTo).sort(), [
            '10.244.0.9:8080',
            '10.244.1.7:8080',
            '10.244.1.8:8080',
          ]);
          assert.equal(s.sepChains.length, 3);
        },
      },
    ],
  },
  'iptables-save-c-counters-kube-sep-submariner-pr1205-partial.txt': {
    uses: [
      {
        parser: 'iptables',
        facts: (d) => {
          assert.equal(d.exactCounters, true);
          const s = serviceRules(d, { namespace: 'kube-system', service: 'kube-dns', portName: 'dns' });
          assert.deepEqual(
            s.sepDnat.map((r: Any) => [r.chain, r.packets, r.bytes, r.dnatTo]),
            [
              ['KUBE-SEP-EHRALZ2IVFLIEMXK', 102, 8638, '10.131.0.2:53'],
              ['KUBE-SEP-EWDMSLOSUEG5PNZG', 90, 7626, '10.131.0.4:53'],
            ],
          );
        },
      },
    ],
  },
  'iptables-save-t-filter-c-chain-vs-rule-counters-k8s-pr110328.txt': {
    uses: [
      {
        parser: 'iptables',
        facts: (d) => {
          const foo = chain(d, 'FOO');
          assert.deepEqual([foo.policy, foo.packets, foo.bytes], [null, 0, 0], 'user chain headers are always [0:0]');
          assert.deepEqual([foo.rules[0].packets, foo.rules[0].bytes, foo.rules[0].target], [1, 60, 'REJECT']);
          assert.deepEqual([chain(d, 'OUTPUT').rules[0].packets, chain(d, 'OUTPUT').rules[0].bytes], [53, 9070]);
        },
      },
    ],
  },
  'iptables-save-nat-fragment-kind-kubeproxy-KUBE-EXT-POSTROUTING-k8s-pr114470-partial.txt': {
    uses: [
      {
        parser: 'iptables',
        facts: (d) => {
          const s = serviceRules(d, { namespace: 'default', service: 'nodeport-service' });
          assert.deepEqual(
            s.nodePortJumps.map((r: Any) => r.target),
            ['KUBE-EXT-QATUYZLPU4I4HE4S'],
          );
          assert.deepEqual(s.extChains, ['KUBE-EXT-QATUYZLPU4I4HE4S']);
          assert.deepEqual(s.svcChains, ['KUBE-SVC-QATUYZLPU4I4HE4S']);
          assert.equal(
            chain(d, 'KUBE-POSTROUTING').rules[2].matches,
            '-m comment --comment "kubernetes service traffic requiring SNAT"',
          );
        },
      },
    ],
  },
  'kubeproxy-iptables-restore-input-fixture-k8s-proxier_test-TestOverallIPTablesRules.txt': {
    uses: [
      {
        parser: 'iptables',
        facts: (d) => {
          assert.deepEqual(
            d.chains.filter((c: Any) => c.table === 'filter').map((c: Any) => c.name),
            [
              'KUBE-NODEPORTS',
              'KUBE-SERVICES',
              'KUBE-EXTERNAL-SERVICES',
              'KUBE-FIREWALL',
              'KUBE-FORWARD',
              'KUBE-PROXY-FIREWALL',
            ],
          );
          const s2 = serviceRules(d, { namespace: 'ns2', service: 'svc2' });
          assert.deepEqual(
            s2.svcJumps.map((r: Any) => r.target),
            ['KUBE-SVC-GNZBNJ2PO5MGZ6GT'],
          );
          assert.equal(s2.nodePortJumps.length, 2);
          assert.deepEqual(s2.extChains, ['KUBE-EXT-GNZBNJ2PO5MGZ6GT']);
          assert.deepEqual(
            s2.sepDnat.map((r: Any) => r.dnatTo),
            ['10.180.0.2:80'],
          );
          const s5 = serviceRules(d, { namespace: 'ns5', service: 'svc5' });
          assert.deepEqual(
            s5.sepDnat.map((r: Any) => r.dnatTo),
            ['10.180.0.3:80'],
          );
          assert.ok(s5.extChains.includes('KUBE-FW-NUKIZ6OKUXPJNT4C'));
          const fw = chain(d, 'KUBE-FW-NUKIZ6OKUXPJNT4C', 'nat').rules[1];
          assert.equal(fw.target, null, 'a rule with no -j');
          assert.equal(chain(d, 'KUBE-MARK-MASQ', 'nat').rules[0].raw, '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000');
        },
      },
    ],
  },
  'iptables-tracer-pod-cilium-kpr-false-1.14.0rc0-wcnikind.txt': {
    uses: [
      {
        parser: 'iptables',
        lines: [[12, 20]], // the `iptables -nvL` run inside the pod; the rest is kubectl and iptables-tracer
        facts: (d) => {
          assert.deepEqual(
            d.chains.map((c: Any) => [c.name, c.policy, c.packets, c.rules.length]),
            [
              ['INPUT', 'ACCEPT', 0, 0],
              ['FORWARD', 'ACCEPT', 0, 0],
              ['OUTPUT', 'ACCEPT', 0, 0],
            ],
          );
        },
      },
    ],
  },
  'iptables-tracer-host-cilium-kpr-false-1.14.0rc0-wcnikind.txt': {
    outOfScope:
      'iptables-tracer output (netfilter hook trace with tracer columns) and kubectl; not iptables-save/-S/-L nor plain tcpdump',
  },
  'nft-list-table-kube-proxy-nftables-mode-minikube-idx71145198530.txt': {
    outOfScope: 'nft ruleset of kube-proxy nftables mode: nftables syntax, not one of the iptables formats',
  },
  'conntrack-L-clusterip-dnat-kubeproxy-minikube-idx71145198530.txt': {
    outOfScope: 'conntrack -L: not among the six formats',
  },

  // ---------------------------------------------------------------- bpftool / tc
  'bpftool-net-show-legacy-clsact-cilium-1.9-pr14895.txt': {
    uses: [
      {
        parser: 'bpftool-net',
        author: /^bpftool net show$/,
        facts: (r) => {
          assert.equal(r.attachments.length, 12);
          const h = r.attachments.find((a: Any) => a.interface === 'lxc_health' && a.direction === 'ingress');
          assert.deepEqual(
            [h.hook, h.program, h.object, h.section, h.id, h.ifindex],
            ['tc', 'bpf_lxc.o', 'bpf_lxc.o:[from-container]', 'from-container', 242, 7],
          );
          assert.equal(r.attachments.filter((a: Any) => a.section === 'to-container').length, 4);
        },
      },
    ],
  },
  'bpftool-net-show-prog-show-tcx-1.17.5-native-endpointroutes-idx7258039410.txt': {
    uses: [
      {
        parser: 'bpftool-net',
        lines: [[1, 16]],
        facts: (r) => {
          assert.equal(r.attachments.length, 11);
          assert.ok(r.attachments.every((a: Any) => a.hook === 'tcx'));
          const lxc = r.attachments.filter((a: Any) => a.interface === 'lxc016a899bb2f4');
          assert.deepEqual(
            lxc.map((a: Any) => [a.direction, a.program, a.id, a.linkId]),
            [
              ['ingress', 'cil_from_container', 1998, 30],
              ['egress', 'cil_to_container', 2003, 31],
            ],
          );
        },
      },
      {
        parser: 'bpftool-prog',
        lines: [[23, 35]],
        facts: (r) => {
          assert.deepEqual(
            r.programs.map((p: Any) => [p.id, p.name, p.xlatedBytes, p.mapIds]),
            [
              [1998, 'cil_from_container', 752, [312, 313, 35]],
              [2003, 'cil_to_container', 1448, [312, 35, 313]],
            ],
          );
          assert.equal(r.programs[0].btfId, 667);
        },
      },
    ],
  },
  'bpftool-net-show-tcx-vxlan-no-lxc-egress-idx57918766907.txt': {
    uses: [
      {
        parser: 'bpftool-net',
        facts: (r) => {
          assert.equal(r.attachments.length, 12);
          const lxc = r.attachments.filter((a: Any) => a.interface.startsWith('lxc'));
          assert.equal(lxc.length, 5);
          assert.ok(
            lxc.every((a: Any) => a.direction === 'ingress' && a.program === 'cil_from_container'),
            'no to-container',
          );
          assert.ok(r.attachments.some((a: Any) => a.interface === 'cilium_vxlan' && a.program === 'cil_from_overlay'));
        },
      },
    ],
  },
  'tc-filter-show-lxc-ingress-legacy-kind-issue17468-partial.txt': {
    uses: [
      {
        parser: 'bpftool-net',
        facts: (r) => {
          assert.deepEqual(
            r.attachments.map((a: Any) => [a.interface, a.program, a.section, a.id]),
            [
              [null, 'bpf_lxc.o', 'from-container', 15843],
              ['cilium_net', 'bpf_host_cilium_net.o', 'to-host', 15871],
            ],
          );
        },
      },
    ],
  },
  'bpftool-prog-dump-xlated-generic-socketfilter-format-idx21415374477.txt': {
    uses: [
      {
        parser: 'bpftool-xlated',
        facts: (r) => {
          assert.deepEqual(r.calls, ['bpf_skb_load_helper_8_no_cache', 'bpf_map_lookup_elem']);
          assert.deepEqual(
            r.callSites.map((c: Any) => c.insn),
            [3, 15],
          );
          assert.equal(r.instructions, 20);
        },
      },
    ],
  },
  'bpftool-prog-dump-xlated-with-btf-source-lines-generic-idx27298049517.txt': {
    uses: [
      {
        parser: 'bpftool-xlated',
        facts: (r) => {
          assert.equal(r.instructions, 9);
          assert.deepEqual(r.calls, [], 'the excerpt stops before any call');
        },
      },
    ],
  },
  'cilium-verifier-log-call-bpf_redirect-insn-format-idx22275592747-partial.txt': {
    uses: [
      {
        parser: 'bpftool-xlated',
        maxUnknown: 0.4,
        why: 'a verifier log, wrapped by a mail client: only its instruction lines are xlated text; the wrapped `subsys=` halves and verifier state lines are not',
        facts: (r) => {
          assert.deepEqual(r.calls, ['bpf_perf_event_output', 'bpf_redirect']);
          assert.deepEqual(r.callSites[1], { insn: 2179, helper: 'bpf_redirect' });
        },
      },
    ],
  },
  'bpftool-cgroup-tree-socklb-1.18.6-kind-idx60285825367.txt': {
    outOfScope: '`bpftool cgroup tree` (socket-LB programs on cgroups): not net show, prog show or dump xlated',
  },
  'cilium-dbg-bpf-lb-list-1.18.6-kind-idx60285825367.txt': {
    outOfScope: '`cilium bpf lb list`: not among the six formats',
  },
  'cilium-dbg-map-get-ipcache-1.17.5-native-idx7258039410.txt': {
    outOfScope: 'Cilium ipcache map dump: not among the six formats',
  },

  // ---------------------------------------------------------------- tcpdump
  'tcpdump-pne-eth0-pod-to-clusterip-nativerouting-1.15.0rc1-kind-wcnikind.txt': {
    uses: [
      {
        parser: 'tcpdump',
        facts: (r) => {
          assert.equal(r.packets.length, 12);
          assert.deepEqual(
            r.packets.slice(0, 4).map((p: Any) => p.flags),
            ['S', 'S.', '.', 'P.'],
          );
          assert.ok(
            r.packets.every((p: Any) => p.src.ip !== '10.96.94.95' && p.dst.ip !== '10.96.94.95'),
            'the wire shows the backend, never the ClusterIP',
          );
          assert.deepEqual(r.packets[0].dst, { ip: '10.244.1.16', port: 9495 });
          assert.deepEqual([r.packets[0].srcMac, r.packets[0].frameLength], ['02:42:ac:12:00:03', 74]);
          assert.equal(r.packets[9].flags, 'F.');
        },
      },
    ],
  },
  'tcpdump-pne-in-pod-to-nodeport-kubeproxy-1.15.0rc1-kind-wcnikind.txt': {
    uses: [
      {
        parser: 'tcpdump',
        lines: [[31, 53]],
        facts: (r) => {
          assert.equal(r.packets.length, 14);
          assert.deepEqual(
            [r.packets[0].protocol, r.packets[0].dst.ip, r.packets[0].src.ip],
            ['arp', '10.244.0.50', '10.244.0.160'],
          );
          assert.deepEqual(
            r.packets[2].dst,
            { ip: '172.18.0.5', port: 30495 },
            'the author marker after the port is set aside',
          );
          assert.equal(r.packets[2].flags, 'S');
        },
      },
    ],
  },
  'tcpdump-nne-lxc-ping-crossnode-kubeproxy-native-1.15.0rc1-wcnikind-pcap-rendered.txt': {
    uses: [
      {
        parser: 'tcpdump',
        facts: (r) => {
          assert.deepEqual(
            r.packets.map((p: Any) => [p.src.ip, p.dst.ip, p.protocol, p.length, p.frameLength]),
            [
              ['10.0.0.166', '10.0.1.118', 'icmp', 64, 98],
              ['10.0.1.118', '10.0.0.166', 'icmp', 64, 98],
            ],
          );
          assert.equal(r.packets[0].time, '03:14:06.543372');
        },
      },
    ],
  },
  'tcpdump-nne-eth0-node-kubeproxy-native-1.15.0rc1-wcnikind-pcap-rendered.txt': {
    uses: [
      {
        parser: 'tcpdump',
        facts: (r) => {
          assert.equal(r.packets.length, 278);
          const icmp = r.packets.filter((p: Any) => p.protocol === 'icmp');
          assert.deepEqual(
            icmp.map((p: Any) => [p.src.ip, p.dst.ip]),
            [
              ['10.0.0.166', '10.0.1.118'],
              ['10.0.1.118', '10.0.0.166'],
            ],
          );
          assert.ok(r.packets.filter((p: Any) => p.src.port === 6443 || p.dst.port === 6443).length > 200);
        },
      },
    ],
  },
  'tcpdump-ni-pod-eth0-syn-to-clusterip-kpr-false-vs-true-cilium-1.20.1-idx71145198530.txt': {
    uses: [
      {
        parser: 'tcpdump',
        author: /^(KubeProxyReplacement:|web-cc9cbd757-)/, // the author's labels of the two captures
        facts: (r) => {
          assert.deepEqual(
            r.packets.map((p: Any) => [p.dst.ip, p.dst.port, p.flags]),
            [
              ['10.102.39.104', 80, 'S'],
              ['10.244.1.177', 8080, 'S'],
            ],
          );
        },
      },
    ],
  },
  'mixed-kubeproxy-nativerouting-service-datapath-1.15.0rc1-kind-wcnikind.txt': {
    uses: [
      {
        parser: 'iptables',
        lines: [[20, 48]],
        author: /^\d+\.\d+: /,
        facts: (d) => {
          const s = serviceRules(d, { namespace: 'default', service: 'serversvc' });
          assert.deepEqual(s.svcChains, ['KUBE-SVC-SWRT7AX63WBUEU6W']);
          assert.deepEqual(s.sepChains, ['KUBE-SEP-Q7ITRINEDXC7ONHS']);
        },
      },
      {
        parser: 'tcpdump',
        lines: [[52, 71]],
        facts: (r) => {
          assert.equal(r.packets.length, 12);
          assert.deepEqual(r.packets[1].src, { ip: '10.244.1.16', port: 9495 });
        },
      },
    ],
  },
  'mixed-kubeproxy-vxlan-tc-filter-tcpdump-1.15.0rc1-kind-wcnikind.txt': {
    uses: [
      {
        parser: 'tcpdump',
        lines: [
          [17, 21],
          [46, 50],
          [70, 75],
        ],
        facts: (r) => {
          assert.equal(r.packets.length, 6);
          const outer = r.packets.filter((p: Any) => p.inner);
          assert.equal(outer.length, 2);
          assert.deepEqual(outer[0].dst, { ip: '172.18.0.2', port: 8472 });
          assert.deepEqual([outer[0].inner.srcMac, outer[0].inner.dst.ip], ['e2:11:f9:ee:e2:a7', '10.0.2.39']);
        },
      },
      {
        parser: 'bpftool-net',
        lines: [[39, 41]],
        facts: (r) => {
          assert.deepEqual(
            r.attachments.map((a: Any) => [a.program, a.id]),
            [['cil_from_container-lxcd92d2fc9309d', 2832]],
          );
        },
      },
      {
        parser: 'ip-addr',
        lines: [[25, 36]],
        facts: (r) => {
          assert.deepEqual(
            r.interfaces.map((i: Any) => [i.ifindex, i.name, i.link]),
            [
              [1, 'lo', null],
              [13, 'eth0', 'if14'],
            ],
          );
          assert.equal(r.interfaces[1].addresses[0].local, '10.0.0.178');
        },
      },
    ],
  },

  // ---------------------------------------------------------------- ip
  'ip-route-node-and-pod-1.18.6-kind-native-autodirectnoderoutes-idx60285825367.txt': {
    uses: [
      {
        parser: 'ip-route',
        lines: [
          [14, 15],
          [26, 32],
        ],
        facts: (r) => {
          assert.deepEqual(
            r.routes.map((x: Any) => [x.dst, x.gateway, x.dev]),
            [
              ['default', '10.244.0.154', 'eth0'],
              ['default', '10.89.0.1', 'eth0'],
              ['10.89.0.0/24', null, 'eth0'],
              ['10.244.0.0/24', '10.244.0.154', 'cilium_host'],
              ['10.244.0.154', null, 'cilium_host'],
              ['10.244.1.0/24', '10.89.0.3', 'eth0'],
              ['10.244.3.0/24', '10.89.0.2', 'eth0'],
            ],
          );
          assert.equal(r.routes[0].mtu, 1500);
          assert.equal(r.routes[5].protocol, 'kernel');
        },
      },
      {
        parser: 'ip-addr',
        lines: [
          [1, 13],
          [17, 25],
        ],
        facts: (r) => {
          const podEth0 = r.interfaces[1];
          assert.deepEqual(
            [podEth0.name, podEth0.link, podEth0.addresses[0].local, podEth0.addresses[0].prefixlen],
            ['eth0', 'if12', '10.244.0.66', 32],
          );
          assert.equal(r.interfaces.filter((i: Any) => i.name.startsWith('lxc')).length, 4);
          assert.equal(r.interfaces.find((i: Any) => i.name === 'cilium_host').link, 'cilium_net');
        },
      },
    ],
  },

  // ---------------------------------------------------------------- out of scope: kind / kubectl / helm
  'kind-config-and-helm-kubeproxy-nativerouting-1.15.0rc1-wcnikind.sh.txt': {
    outOfScope: 'kind cluster config and helm command (a shell script): not tool output of the six formats',
  },
  'kind-config-cilium-docs-kind-config.yaml.txt': { outOfScope: 'kind config YAML: not among the six formats' },
  'kind-create-cluster-output-kind-docs-working-offline.txt': {
    outOfScope: '`kind create cluster` output: not among the six formats',
  },
  'kubectl-get-nodes-pods-svc-wide-kind-1.27-wcnikind.txt': { outOfScope: 'kubectl tables: not among the six formats' },
  'helm-values-excerpt-cilium-1.14.0-rc.0-chart-tgz-wcnikind.yaml.txt': {
    outOfScope: 'Cilium Helm values: not among the six formats',
  },
};

const present = existsSync(corpusDir);

describe('real-world corpus', () => {
  if (!present) {
    it('needs ../shared/fixtures/real-world', (t) => {
      if (process.env.CI === 'true')
        assert.fail(`The corpus directory ${corpusDir} is missing; with CI=true the corpus test must run.`);
      t.skip(`corpus not found at ${corpusDir} (outside CI the corpus test is skipped)`);
    });
    return;
  }

  it('maps every file of the corpus, and only files that exist', () => {
    const files = readdirSync(corpusDir).sort();
    const unmapped = files.filter((f) => !(f in CORPUS));
    const missing = Object.keys(CORPUS).filter((f) => !files.includes(f));
    assert.deepEqual(unmapped, [], `corpus files without a parser or an out-of-scope reason: ${unmapped.join(', ')}`);
    assert.deepEqual(missing, [], `mapped files not in the corpus: ${missing.join(', ')}`);
  });

  for (const [file, entry] of Object.entries(CORPUS)) {
    if ('outOfScope' in entry) continue;
    for (const use of entry.uses) {
      const where = use.lines ? ` lines ${use.lines.map(([a, b]) => `${a}-${b}`).join(',')}` : '';
      it(`${file}${where} → ${use.parser}`, () => {
        const text = select(readFileSync(path.join(corpusDir, file), 'utf8'), use.lines);
        const { result, unknown } = run(use.parser, text);
        const toolLines = text.split('\n').filter((l) => l.trim() && !isAuthorLine(l, use.author));
        const unread = unknown.filter((u) => !isAuthorLine(u.text, use.author));
        const share = toolLines.length === 0 ? 0 : unread.length / toolLines.length;
        const cap = use.maxUnknown ?? 0;
        assert.ok(
          share <= cap,
          `${(share * 100).toFixed(0)}% of the tool lines are unknown (cap ${(cap * 100).toFixed(0)}%): ${unread
            .slice(0, 3)
            .map((u) => JSON.stringify(u.text.slice(0, 100)))
            .join(', ')}`,
        );
        use.facts(result);
      });
    }
  }
});
