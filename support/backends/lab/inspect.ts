/**
 * What the lab's datapath really is, read from the kernel — never from the lab's own intent:
 * routes (native routes to the other nodes' pod CIDRs), kube-proxy's chains (in whichever
 * iptables backend holds them), tc programs on the lxc interfaces and the BPF maps. This is
 * the `datapath` of `hookpoint lab status --json` and the body of the agent's `status`.
 */
import { run } from '../../exec/index.ts';
import { NODEPORTS_CHAIN } from '../../kube-proxy/chains.ts';
import { findKubeProxyChains, type IptablesMode, iptablesCommand, nftChainCounts } from '../../kube-proxy/mode.ts';
import { parseIptablesSave } from '../../parsers/index.ts';
import type { LabBackend } from './backend.ts';
import { gatherDatapathState, PROGRAM_NAMES } from './datapath/index.ts';
import { nodeNetns } from './names.ts';
import { netnsRun } from './node-run.ts';

export interface NodeDatapathReport {
  name: string;
  /** Routes to other nodes' pod CIDRs (autoDirectNodeRoutes). */
  nativeRoutes: Array<{ dst: string; via: string | null; dev: string | null }>;
  /** Other nodes' pod CIDRs this node has no route for. */
  missingRoutes: string[];
  kubeProxy: {
    /** iptables backend that holds KUBE-* chains; null when neither does. */
    iptables: IptablesMode | null;
    serviceChains: number;
    endpointChains: number;
    nodePortRules: number;
  };
  /** tc programs attached in the node (bpftool net show, inside the node). */
  tc: Array<{ interface: string; direction: 'ingress' | 'egress'; program: string; id: number }>;
  /** Contents of the node's BPF maps, when the datapath is loaded. */
  maps: { services: number; backends: number; endpoints: number; connections: number } | null;
  localRedirect: boolean | null;
}

export interface DatapathReport {
  /** Native when every node routes every other node's pod CIDR via a gateway. */
  routing: 'native' | 'incomplete';
  /** Who translates pod → ClusterIP: the lab's tc programs (on every pod's lxc) or kube-proxy alone. */
  clusterIPTranslation: 'tc' | 'kube-proxy' | 'mixed';
  /** NodePort and node → ClusterIP are kube-proxy's (kubeProxyReplacement=false). */
  nodePortTranslation: 'kube-proxy' | 'none';
  iptables: IptablesMode | 'mixed' | null;
  /** Variants the lab was asked for (the effects above are what is really in place). */
  requestedVariants: string[];
  nodes: NodeDatapathReport[];
}

async function kubeProxyOf(netns: string, where: string): Promise<NodeDatapathReport['kubeProxy']> {
  const nodeRun = netnsRun(netns, where);
  const found = await findKubeProxyChains(nodeRun);
  if (!found.mode) return { iptables: null, serviceChains: 0, endpointChains: 0, nodePortRules: 0 };
  if (found.nftOnly) return { iptables: found.mode, ...(await nftChainCounts(nodeRun)) };
  // Status wants the whole table's shape (how many chains), so this one reads it all.
  const save = await nodeRun([iptablesCommand(found.mode, 'save'), '-t', 'nat']);
  const nat = parseIptablesSave(save.stdout).chains.filter((c) => c.table === 'nat');
  return {
    iptables: found.mode,
    serviceChains: nat.filter((c) => c.name.startsWith('KUBE-SVC-')).length,
    endpointChains: nat.filter((c) => c.name.startsWith('KUBE-SEP-')).length,
    nodePortRules: nat.find((c) => c.name === NODEPORTS_CHAIN)?.rules.length ?? 0,
  };
}

export async function inspectNode(lab: LabBackend, nodeName: string): Promise<NodeDatapathReport> {
  const s = lab.labState;
  const node = lab.node(nodeName);
  const netns = nodeNetns(s.cluster, node.name);
  const where = `node ${node.name}`;
  const others = s.plan.nodes.filter((n) => n.name !== node.name);
  const dp = lab.datapathReader(node.name);
  const [routesRes, kubeProxy, state] = await Promise.all([
    run(['ip', '-n', netns, '-j', 'route', 'show'], { timeoutMs: 15_000, where }),
    kubeProxyOf(netns, where),
    gatherDatapathState(dp, { modes: s.modes, podCIDR: node.podCIDR }),
  ]);
  const routes = JSON.parse(routesRes.stdout || '[]') as Array<{ dst: string; gateway?: string; dev?: string }>;
  const nativeRoutes = others
    .map((o) => routes.find((r) => r.dst === o.podCIDR))
    .filter((r): r is { dst: string; gateway?: string; dev?: string } => !!r)
    .map((r) => ({ dst: r.dst, via: r.gateway ?? null, dev: r.dev ?? null }));
  const attached = await dp.attachedPrograms();
  const loaded = dp.loaded();
  return {
    name: node.name,
    nativeRoutes,
    missingRoutes: others.map((o) => o.podCIDR).filter((c) => !nativeRoutes.some((r) => r.dst === c && r.via)),
    kubeProxy,
    tc: attached.map((a) => ({ interface: a.interface, direction: a.direction, program: a.program, id: a.id })),
    maps: loaded
      ? {
          services: state.servicesInMaps,
          backends: state.backendsInMaps,
          endpoints: state.endpointsInMaps,
          connections: state.connectionsTracked,
        }
      : null,
    localRedirect: loaded ? state.localRedirect : null,
  };
}

export async function inspectDatapath(lab: LabBackend): Promise<DatapathReport> {
  const s = lab.labState;
  const nodes = await Promise.all(s.plan.nodes.map((n) => inspectNode(lab, n.name)));
  const lxcs = s.pods.map((p) => ({ node: p.node, lxc: p.hostVeth }));
  const translated = lxcs.filter(({ node, lxc }) => {
    const n = nodes.find((x) => x.name === node);
    const dirs = new Set(
      n?.tc.filter((t) => t.interface === lxc && t.program === PROGRAM_NAMES.ingress).map((t) => t.direction),
    );
    return dirs.has('ingress') && (n?.maps?.services ?? 0) > 0;
  }).length;
  const modes = new Set(nodes.map((n) => n.kubeProxy.iptables));
  return {
    routing: nodes.every((n) => n.missingRoutes.length === 0) ? 'native' : 'incomplete',
    clusterIPTranslation:
      lxcs.length > 0 && translated === lxcs.length ? 'tc' : translated === 0 ? 'kube-proxy' : 'mixed',
    nodePortTranslation: nodes.every((n) => n.kubeProxy.iptables !== null) ? 'kube-proxy' : 'none',
    iptables: modes.size === 1 ? [...modes][0]! : 'mixed',
    requestedVariants: [...s.variants],
    nodes,
  };
}
