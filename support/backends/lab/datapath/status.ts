/**
 * The lab node's datapath state read from the kernel (attached tc programs, map contents,
 * routes), and the `cilium-dbg status` text the lab's agent stand-in prints from it: Cilium's
 * own labels and value formats (pkg/client FormatStatusResponse), only the lines the lab can
 * state from what it reads, so the status parser reads the lab and a real agent alike.
 */
import { release } from 'node:os';
import { run } from '../../../exec/index.ts';
import { findKubeProxyChains } from '../../../kube-proxy/mode.ts';
import { netnsRun } from '../node-run.ts';
import { NETDEV_PROGRAMS } from './kpr.ts';
import { NodeDatapath, PROGRAM_NAMES } from './node-datapath.ts';

export interface DatapathState {
  node: string;
  kernel: string;
  /** Native: every remote pod CIDR has a route via a gateway on a non-tunnel device. */
  routingNetwork: 'Native' | 'Tunnel' | 'Unknown';
  /** Tunnel kind, or why routing is not native ("no route to 10.244.1.0/24"). */
  routingDetail?: string;
  /** Legacy: the lab hands non-local traffic to the kernel's routing (TC_ACT_OK). */
  hostRouting: 'Legacy' | 'BPF';
  /**
   * Read from the node's nat table: kube-proxy's KUBE-SERVICES chain present means services stay
   * with kube-proxy ('False'); without them, 'True' only when the lab's NodePort program
   * (cil_from_netdev, lab_kpr.c) sits on the node's eth0, else nothing handles NodePort: 'Unknown'.
   */
  kubeProxyReplacement: 'False' | 'Unknown' | 'True';
  /** Under 'True': the devices NodePort is served on, as Cilium lists them (`eth0   172.18.0.3 (Direct Routing)`). */
  kubeProxyReplacementDevices?: string[];
  /** This node's cil_from_container/cil_to_container attachments found on tc. */
  programsAttached: number;
  interfacesWithPrograms: string[];
  servicesInMaps: number;
  backendsInMaps: number;
  endpointsInMaps: number;
  connectionsTracked: number;
  localRedirect: boolean;
  trace: boolean;
  /** This node's pod CIDR, for the IPAM line. */
  podCIDR?: string;
}

const WIDTH = 25;

function field(label: string, value: string): string {
  return `${`${label}:`.padEnd(WIDTH)}${value}`;
}

function cidrSize(cidr: string): number | null {
  const bits = Number(cidr.split('/')[1]);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return null;
  return Math.max(2 ** (32 - bits) - 2, 0);
}

/**
 * Render `cilium-dbg status` (pure), in Cilium's line order. The lab attaches with tc clsact
 * (`Attach Mode: Legacy TC`), hands non-local traffic to the kernel (`Host: Legacy` unless a
 * program sits on the uplink), keeps no kvstore, masquerades nothing itself and runs no Hubble.
 */
export function renderStatus(s: DatapathState, opts: { cpus?: number } = {}): string {
  const lines: string[] = [];
  lines.push(field('KVStore', 'Disabled'));
  const kprDevices = s.kubeProxyReplacementDevices?.length ? `   [${s.kubeProxyReplacementDevices.join(', ')}]` : '';
  lines.push(field('KubeProxyReplacement', `${s.kubeProxyReplacement}${kprDevices}`));
  lines.push(field('Host firewall', 'Disabled'));
  lines.push(field('SRv6', 'Disabled'));
  lines.push(field('CNI Chaining', 'none'));
  lines.push(
    field(
      'NodeMonitor',
      s.trace ? `Listening for events on ${opts.cpus ?? 1} CPUs with 64x4096 of shared memory` : 'Disabled',
    ),
  );
  if (s.podCIDR) {
    const size = cidrSize(s.podCIDR);
    lines.push(field('IPAM', `IPv4: ${s.endpointsInMaps}/${size ?? '?'} allocated from ${s.podCIDR},`));
  }
  lines.push(field('IPv4 BIG TCP', 'Disabled'));
  lines.push(field('IPv6 BIG TCP', 'Disabled'));
  lines.push(field('BandwidthManager', 'Disabled'));
  const network = s.routingDetail ? `${s.routingNetwork} [${s.routingDetail}]` : s.routingNetwork;
  lines.push(field('Routing', `Network: ${network}   Host: ${s.hostRouting}`));
  lines.push(field('Attach Mode', 'Legacy TC'));
  lines.push(field('Device Mode', 'veth'));
  lines.push(field('Masquerading', 'Disabled'));
  lines.push(field('Global Identity Range', 'min 256, max 65535'));
  lines.push(field('Hubble', 'Disabled'));
  lines.push(field('Encryption', 'Disabled'));
  return `${lines.join('\n')}\n`;
}

interface RouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
}

interface LinkJson {
  ifname: string;
  linkinfo?: { info_kind?: string };
}

const TUNNEL_KINDS = new Set(['vxlan', 'geneve', 'ipip', 'gre', 'sit']);

/**
 * Native / Tunnel / Unknown from the node's routes and links (pure): Tunnel when every other
 * node's pod CIDR goes to a tunnel device, or to cilium_host while the node has one.
 */
export function routingFromState(
  routes: readonly RouteJson[],
  links: readonly LinkJson[],
  remotePodCIDRs: readonly string[],
): { network: DatapathState['routingNetwork']; detail?: string } {
  const tunnels = new Map(
    links.filter((l) => TUNNEL_KINDS.has(l.linkinfo?.info_kind ?? '')).map((l) => [l.ifname, l.linkinfo!.info_kind!]),
  );
  const missing: string[] = [];
  const viaTunnel = new Set<string>();
  // Cilium's tunnel mode routes other nodes' pod CIDRs via cilium_host; its programs encapsulate.
  const overlay = [...tunnels.values()][0];
  for (const cidr of remotePodCIDRs) {
    const r = routes.find((x) => x.dst === cidr);
    if (!r) missing.push(cidr);
    else if (r.dev && tunnels.has(r.dev)) viaTunnel.add(tunnels.get(r.dev)!);
    else if (r.dev === 'cilium_host' && overlay) viaTunnel.add(overlay);
    else if (!r.gateway) missing.push(cidr);
  }
  if (viaTunnel.size > 0 && missing.length === 0) return { network: 'Tunnel', detail: [...viaTunnel].join(',') };
  if (missing.length > 0) return { network: 'Unknown', detail: `no route to ${missing.join(', ')}` };
  if (remotePodCIDRs.length === 0 && tunnels.size > 0)
    return { network: 'Tunnel', detail: [...new Set(tunnels.values())].join(',') };
  return { network: 'Native' };
}

/**
 * Read the real state of a node: tc attachments (bpftool net show inside the node), map
 * contents and flags (when loaded), routes and links. `remotePodCIDRs` are the other nodes'
 * pod CIDRs: routing is Native only if each has a route via a gateway on a non-tunnel device.
 * Without a NodeDatapath (variant no-tc) pass `{ node, netns }`: programs are then counted by
 * name (cil_from_container/cil_to_container) and the maps count as empty.
 */
export async function gatherDatapathState(
  target: NodeDatapath | { node: string; netns: string },
  opts: { remotePodCIDRs: readonly string[]; podCIDR?: string },
): Promise<DatapathState> {
  const dp =
    target instanceof NodeDatapath
      ? target
      : new NodeDatapath({
          node: target.node,
          netns: target.netns,
          bpffs: '/nonexistent-hookpoint-bpffs',
          objectPath: '',
          options: { localRedirect: false, trace: false },
        });
  const where = `node ${dp.node}`;
  const ownNames = new Set<string>(Object.values(PROGRAM_NAMES));
  const [attached, routesRes, linksRes, chains] = await Promise.all([
    dp
      .attachedPrograms()
      .then((list) =>
        target instanceof NodeDatapath ? list : list.map((a) => ({ ...a, ours: ownNames.has(a.program) })),
      ),
    run(['ip', '-n', dp.netns, '-j', 'route', 'show'], { timeoutMs: 15_000, where }),
    run(['ip', '-n', dp.netns, '-j', '-d', 'link', 'show'], { timeoutMs: 15_000, where, quietStdout: true }),
    findKubeProxyChains(netnsRun(dp.netns, where)),
  ]);
  const kubeProxyChains = chains.mode !== null;
  const netdev = attached.some(
    (a) => a.interface === 'eth0' && a.direction === 'ingress' && a.program === NETDEV_PROGRAMS.ingress,
  );
  const kpr = kubeProxyChains ? 'False' : netdev ? 'True' : 'Unknown';
  const eth0 =
    kpr === 'True'
      ? (JSON.parse(
          (await run(['ip', '-n', dp.netns, '-j', '-4', 'addr', 'show', 'dev', 'eth0'], { timeoutMs: 15_000, where }))
            .stdout || '[]',
        ) as Array<{ addr_info?: Array<{ local?: string }> }>)
      : [];
  const eth0Addrs = eth0.flatMap((l) => (l.addr_info ?? []).map((a) => a.local)).filter(Boolean);
  // BPF host routing would mean our programs on the node's uplink; the lab leaves it to the kernel.
  const onUplink = attached.some((a) => a.ours && (a.interface === 'eth0' || a.interface === 'cilium_host'));
  const ours = attached.filter((a) => a.ours);
  const loaded = dp.loaded();
  const counts = loaded ? await dp.mapCounts() : { services: 0, backends: 0, endpoints: 0, connections: 0 };
  const flags = loaded ? await dp.readFlags() : { trace: false, localRedirect: false };
  const routing = routingFromState(
    JSON.parse(routesRes.stdout || '[]') as RouteJson[],
    JSON.parse(linksRes.stdout || '[]') as LinkJson[],
    opts.remotePodCIDRs,
  );
  return {
    node: dp.node,
    kernel: release(),
    routingNetwork: routing.network,
    routingDetail: routing.detail,
    hostRouting: onUplink ? 'BPF' : 'Legacy',
    kubeProxyReplacement: kpr,
    ...(kpr === 'True' ? { kubeProxyReplacementDevices: [`eth0   ${eth0Addrs.join(' ')} (Direct Routing)`] } : {}),
    programsAttached: ours.length,
    interfacesWithPrograms: [...new Set(ours.map((a) => a.interface))].sort(),
    servicesInMaps: counts.services,
    backendsInMaps: counts.backends,
    endpointsInMaps: counts.endpoints,
    connectionsTracked: counts.connections,
    localRedirect: flags.localRedirect,
    trace: flags.trace,
    podCIDR: opts.podCIDR,
  };
}
