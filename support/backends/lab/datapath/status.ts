/**
 * The lab node's datapath state (attached tc programs, map contents, its configured modes), and
 * the `cilium-dbg status` text the lab's agent stand-in prints from it: Cilium's own labels and
 * value formats (pkg/client FormatStatusResponse), only the lines the lab can state, so the
 * status parser reads the lab and a real agent alike. As in Cilium, `KubeProxyReplacement` and
 * `Routing: Network` report the agent's configuration (its Helm values), never what the kernel
 * happens to hold: a node without its native routes still says `Native`, and a broken datapath
 * shows in the routes, captures and monitor, as it would on a real cluster.
 */
import { release } from 'node:os';
import { run } from '../../../exec/index.ts';
import type { LabModes } from '../modes.ts';
import { NodeDatapath, PROGRAM_NAMES } from './node-datapath.ts';

export interface DatapathState {
  node: string;
  kernel: string;
  /** routingMode as configured (Cilium's InterHostRoutingMode: Native or Tunnel). */
  routingNetwork: 'Native' | 'Tunnel';
  /** The tunnel protocol under Tunnel (`vxlan`), printed as `Tunnel [vxlan]`. */
  tunnelProtocol?: string;
  /** Legacy: the lab hands non-local traffic to the kernel's routing (TC_ACT_OK); it has no BPF host routing. */
  hostRouting: 'Legacy';
  /** kubeProxyReplacement as configured: Cilium prints its mode, True or False, nothing else. */
  kubeProxyReplacement: 'False' | 'True';
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
 * (`Attach Mode: Legacy TC`), hands non-local traffic to the kernel (`Host: Legacy`), keeps no kvstore, masquerades nothing itself and runs no Hubble.
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
  const network = s.tunnelProtocol ? `${s.routingNetwork} [${s.tunnelProtocol}]` : s.routingNetwork;
  lines.push(field('Routing', `Network: ${network}   Host: ${s.hostRouting}`));
  lines.push(field('Attach Mode', 'Legacy TC'));
  lines.push(field('Device Mode', 'veth'));
  lines.push(field('Masquerading', 'Disabled'));
  lines.push(field('Global Identity Range', 'min 256, max 65535'));
  lines.push(field('Hubble', 'Disabled'));
  lines.push(field('Encryption', 'Disabled'));
  return `${lines.join('\n')}\n`;
}

/** The lab builds VXLAN tunnels only (modes.ts refuses the other protocols). */
const TUNNEL_PROTOCOL = 'vxlan';

/**
 * Read a node's state: tc attachments (bpftool net show inside the node), map contents and flags
 * (when loaded), and its eth0 addresses under kube-proxy replacement (the device list Cilium
 * prints). Routing and kube-proxy replacement come from `modes`, the configuration the lab was
 * built with. Without a NodeDatapath (variant no-tc) pass `{ node, netns }`: programs are then
 * counted by name (cil_from_container/cil_to_container) and the maps count as empty.
 */
export async function gatherDatapathState(
  target: NodeDatapath | { node: string; netns: string },
  opts: { modes: LabModes; podCIDR?: string },
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
  const kpr = opts.modes.kubeProxyReplacement;
  const [attached, eth0] = await Promise.all([
    dp
      .attachedPrograms()
      .then((list) =>
        target instanceof NodeDatapath ? list : list.map((a) => ({ ...a, ours: ownNames.has(a.program) })),
      ),
    kpr
      ? run(['ip', '-n', dp.netns, '-j', '-4', 'addr', 'show', 'dev', 'eth0'], { timeoutMs: 15_000, where }).then(
          (r) => JSON.parse(r.stdout || '[]') as Array<{ addr_info?: Array<{ local?: string }> }>,
        )
      : Promise.resolve([]),
  ]);
  const eth0Addrs = eth0.flatMap((l) => (l.addr_info ?? []).map((a) => a.local)).filter(Boolean);
  const ours = attached.filter((a) => a.ours);
  const loaded = dp.loaded();
  const [counts, flags] = loaded
    ? await Promise.all([dp.mapCounts(), dp.readFlags()])
    : [
        { services: 0, backends: 0, endpoints: 0, connections: 0 },
        { trace: false, localRedirect: false },
      ];
  const tunnel = opts.modes.routing === 'tunnel';
  return {
    node: dp.node,
    kernel: release(),
    routingNetwork: tunnel ? 'Tunnel' : 'Native',
    ...(tunnel ? { tunnelProtocol: TUNNEL_PROTOCOL } : {}),
    // The lab hands non-local traffic to the kernel's routing: legacy host routing, always.
    hostRouting: 'Legacy',
    kubeProxyReplacement: kpr ? 'True' : 'False',
    ...(kpr ? { kubeProxyReplacementDevices: [`eth0   ${eth0Addrs.join(' ')} (Direct Routing)`] } : {}),
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
