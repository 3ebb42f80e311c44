/**
 * Where each tool a step needs exists on a Kubernetes cluster with Cilium (kind and existing):
 * the one owner of that fact. Images differ in what they ship (see the image contents in
 * docs/backends-kind.md): the kindest/node image has iptables and iproute2 but no bpftool and no
 * tcpdump; the Cilium agent image has cilium-dbg, bpftool, iproute2 and iptables, and the agent
 * runs in the host network namespace; the pinned probe image has tcpdump and nsenter.
 * Exec targets route a command by its first word through this table, so probes stay
 * backend-neutral: a `bpftool` asked of a node runs in that node's cilium-agent container.
 * That container has the chart's default capabilities (values.yaml
 * `securityContext.capabilities.ciliumAgent`), without SYSLOG: unless the nodes' kernel allows
 * it (`kernel.perf_event_paranoid` ≤ 1), its `bpftool prog dump xlated` shows every helper call
 * but tail calls withheld (parsers/bpftool.ts WITHHELD_HELPER).
 */
import { CILIUM_AGENT_CONTAINER } from './kubectl-commands.ts';
import { PROBE_IMAGE } from './workload-manifests.ts';

/**
 * - `agent`: the node's Cilium pod, container cilium-agent (host network namespace);
 * - `probe`: the run's privileged probe pod on the node (nsenter into the node's or a pod's netns);
 * - `node`: the node itself (`docker exec` on kind, the host's own binaries on existing).
 */
export type ToolHome = 'agent' | 'probe' | 'node';

export interface ToolLocation {
  home: ToolHome;
  /** The image or node that provides it, as stated in evidence and docs. */
  providedBy: string;
}

const AGENT = `the ${CILIUM_AGENT_CONTAINER} container of the node's Cilium pod (quay.io/cilium/cilium, host network namespace)`;
const PROBE = `the run's probe pod on the node (${PROBE_IMAGE}, nsenter into the network namespace)`;
const NODE = 'the node (kindest/node on kind; the host through the probe pod on existing)';

/** Tool (argv[0]) → where it runs. A tool not listed runs on the node. */
export const K8S_TOOL_LOCATIONS: Readonly<Record<string, ToolLocation>> = {
  'cilium-dbg': { home: 'agent', providedBy: AGENT },
  cilium: { home: 'agent', providedBy: AGENT },
  bpftool: { home: 'agent', providedBy: AGENT },
  tcpdump: { home: 'probe', providedBy: PROBE },
  // UDP and ICMP clients: in no workload or node image, so from the probe, in the client's network namespace.
  socat: { home: 'probe', providedBy: PROBE },
  ping: { home: 'probe', providedBy: PROBE },
  'iptables-save': { home: 'node', providedBy: NODE },
  'iptables-nft-save': { home: 'node', providedBy: NODE },
  'iptables-legacy-save': { home: 'node', providedBy: NODE },
  ip: { home: 'node', providedBy: NODE },
};

export function toolLocation(tool: string): ToolLocation {
  return K8S_TOOL_LOCATIONS[tool] ?? { home: 'node', providedBy: NODE };
}

/** Tool → the image or node that provides it (the descriptors of kind and existing state this). */
export const K8S_TOOL_PROVIDERS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(K8S_TOOL_LOCATIONS).map(([tool, l]) => [tool, l.providedBy]),
);
