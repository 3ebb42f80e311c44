/**
 * Network namespaces of the lab: nodes joined on an `eth0` link, cilium_host/cilium_net,
 * native routes, and the `ip -batch` plans that build them.
 *
 * The "kind" docker network is a bridge (`br-kind`, 172.18.0.1/16 — the gateway Kind's nodes
 * use as default route) in its own namespace, with one veth per node whose node end is `eth0`.
 * A bridge rather than a veth mesh: every node then has exactly one `eth0` with one address
 * and one L2 segment for any number of nodes, exactly as with Kind's docker network, and the
 * nodes' default route has the same gateway. (A direct veth pair works for two nodes only; a
 * mesh would give a node one interface per peer.) Links are created directly in their target
 * namespaces; nothing is created in the root namespace.
 *
 * Every plan is written to a file under the run directory and run as `ip [-n NS] -batch FILE`,
 * so the transcript line can be rerun by hand and one process builds a whole step.
 */
import { writeFileSync } from 'node:fs';
import { run } from '../../exec/index.ts';
import type { RunDir } from './ledger.ts';
import { labMac, networkNetns, nodeNetns } from './names.ts';
import type { LabNodePlan, LabTopologyPlan } from './topology.ts';

/** Per-namespace sysctls only (never kernel.*): routing between pods, no reverse-path filter, no IPv6 noise. */
export const NODE_SYSCTLS = [
  'net.ipv4.ip_forward=1',
  'net.ipv4.conf.all.rp_filter=0',
  'net.ipv4.conf.default.rp_filter=0',
  'net.ipv6.conf.all.disable_ipv6=1',
  'net.ipv6.conf.default.disable_ipv6=1',
];
export const POD_SYSCTLS = ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'];
const NETWORK_SYSCTLS = [
  'net.ipv4.ip_forward=0',
  'net.ipv6.conf.all.disable_ipv6=1',
  'net.ipv6.conf.default.disable_ipv6=1',
];
export const BRIDGE = 'br-kind';

let planSeq = 0;

/** Write a plan and run it with `ip [-n netns] -batch FILE`. */
export async function ipBatch(
  rd: RunDir,
  label: string,
  lines: readonly string[],
  opts: { netns?: string; where?: string; force?: boolean } = {},
): Promise<void> {
  if (lines.length === 0) return;
  const file = rd.file(`plans/${String(++planSeq).padStart(3, '0')}-${label}.ip`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const argv = ['ip'];
  if (opts.netns) argv.push('-n', opts.netns);
  if (opts.force) argv.push('-force');
  argv.push('-batch', file);
  await run(argv, { timeoutMs: 20_000, where: opts.where ?? (opts.netns ? `netns ${opts.netns}` : 'host') });
}

export function sysctlLine(netns: string, settings: readonly string[]): string {
  return `netns exec ${netns} sysctl -q -w ${settings.join(' ')}`;
}

/** The bridge port of a node in the network namespace (docker names them veth…). */
function bridgePort(index: number): string {
  return `veth${String(index).padStart(2, '0')}`;
}

/** Root-namespace plan: namespaces, their sysctls, and the node links made directly inside them. */
export function clusterNamespacesPlan(plan: LabTopologyPlan): { namespaces: string[]; lines: string[] } {
  const net = networkNetns(plan.cluster);
  const nodes = plan.nodes.map((n) => nodeNetns(plan.cluster, n.name));
  const lines: string[] = [];
  for (const ns of [net, ...nodes]) lines.push(`netns add ${ns}`);
  lines.push(sysctlLine(net, NETWORK_SYSCTLS));
  for (const ns of nodes) lines.push(sysctlLine(ns, NODE_SYSCTLS));
  lines.push(`link add ${BRIDGE} netns ${net} address ${labMac(plan.cluster, 'bridge')} type bridge`);
  plan.nodes.forEach((n, i) => {
    lines.push(
      `link add eth0 netns ${nodes[i]} address ${labMac(plan.cluster, `${n.name}/eth0`)} type veth peer name ${bridgePort(i)} netns ${net}`,
    );
  });
  return { namespaces: [net, ...nodes], lines };
}

export function networkPlan(plan: LabTopologyPlan): string[] {
  const prefix = plan.network.subnet.split('/')[1];
  const lines = ['link set lo up', `link set ${BRIDGE} up`, `addr add ${plan.network.gateway}/${prefix} dev ${BRIDGE}`];
  plan.nodes.forEach((_, i) => {
    lines.push(`link set ${bridgePort(i)} master ${BRIDGE}`, `link set ${bridgePort(i)} up`);
  });
  return lines;
}

/**
 * A node: eth0 on the kind network with the default route via its gateway (which is also how
 * the service range is routed, as on a Kind node), cilium_host/cilium_net with the router
 * address, the node's own pod CIDR via cilium_host, and — autoDirectNodeRoutes — each other
 * node's pod CIDR via that node's IP; in tunnel mode instead the cilium_vxlan device and each
 * other node's pod CIDR via cilium_host (tunnelRouteLines).
 */
export function nodePlan(
  plan: LabTopologyPlan,
  node: LabNodePlan,
  opts: { nativeRoutes: boolean; tunnel?: boolean },
): string[] {
  const prefix = plan.network.subnet.split('/')[1];
  const lines = [
    'link set lo up',
    `addr add ${node.ip}/${prefix} dev eth0`,
    'link set eth0 up',
    `route add default via ${plan.network.gateway} dev eth0`,
    `link add cilium_host address ${labMac(plan.cluster, `${node.name}/cilium_host`)} type veth peer name cilium_net address ${labMac(plan.cluster, `${node.name}/cilium_net`)}`,
    'link set cilium_net up',
    'link set cilium_host up',
    `addr add ${node.ciliumHostIP}/32 dev cilium_host`,
    `route add ${node.podCIDR} via ${node.ciliumHostIP} dev cilium_host src ${node.ciliumHostIP}`,
  ];
  if (opts.tunnel) lines.push(...tunnelLines(plan, node));
  else if (opts.nativeRoutes) lines.push(...nativeRouteLines(plan, node));
  return lines;
}

/** UDP port of Cilium's VXLAN device (the Linux kernel's historical VXLAN port, not IANA's 4789). */
export const VXLAN_PORT = 8472;
/** MTU of the routes into the tunnel: the node's 1500 less VXLAN's 50 bytes of outer headers. */
export const TUNNEL_ROUTE_MTU = 1450;

/**
 * Tunnel mode, as Cilium's agent sets it up: one external (collect_md) VXLAN device without
 * learning, so it has no FDB entries — the eBPF program names the remote node per packet with
 * the tunnel key — and each other node's pod CIDR routed via cilium_host, never via a node IP.
 */
export function tunnelLines(plan: LabTopologyPlan, node: LabNodePlan): string[] {
  return [
    `link add cilium_vxlan address ${labMac(plan.cluster, `${node.name}/cilium_vxlan`)} type vxlan external dstport ${VXLAN_PORT} nolearning`,
    'link set cilium_vxlan up',
    // As Cilium's: NOARP, so the route via the node's own cilium_host address needs no neighbour
    // (an ARP request from a local address for a local address goes unanswered).
    'link set cilium_host arp off',
    'link set cilium_net arp off',
    ...plan.nodes
      .filter((o) => o.name !== node.name)
      .map(
        (o) =>
          `route add ${o.podCIDR} via ${node.ciliumHostIP} dev cilium_host src ${node.ciliumHostIP} mtu ${TUNNEL_ROUTE_MTU}`,
      ),
  ];
}

export function nativeRouteLines(plan: LabTopologyPlan, node: LabNodePlan): string[] {
  return plan.nodes.filter((o) => o.name !== node.name).map((o) => `route add ${o.podCIDR} via ${o.ip} dev eth0`);
}
