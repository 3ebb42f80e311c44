/**
 * Where each tool a step needs exists on a Kubernetes cluster with Cilium (kind and existing):
 * the one owner of that fact. Images differ in what they ship (see the image contents in
 * docs/backends-kind.md): the kindest/node image has iptables and iproute2 but no bpftool and no
 * tcpdump; the Cilium agent image has cilium-dbg, bpftool, iproute2 and iptables, and the agent
 * runs in the host network namespace; the pinned probe image has tcpdump and nsenter.
 * Exec targets route a command by its first word through this table, so probes stay
 * backend-neutral: a `bpftool` asked of a node runs in the Cilium agent's image, never the node's.
 * Not in the agent container itself: it has the chart's default capabilities (values.yaml
 * `securityContext.capabilities.ciliumAgent`), without SYSLOG, so unless the nodes' kernel allows
 * it (`kernel.perf_event_paranoid` ≤ 1) the kernel withholds every helper call but tail calls from
 * its `bpftool prog dump xlated` (parsers/bpftool.ts WITHHELD_HELPER). The run's probe pod holds
 * a privileged container of the same image for it.
 */
import type { ImageName } from '../images.ts';
import { CILIUM_AGENT_CONTAINER } from './kubectl-commands.ts';
import { PROBE_BPFTOOL_CONTAINER, PROBE_IMAGE } from './workload-manifests.ts';

/**
 * - `agent`: the node's Cilium pod, container cilium-agent (host network namespace);
 * - `agent-image`: the run's probe pod on the node, its privileged container of the agent's image;
 * - `probe`: the run's privileged probe pod on the node (nsenter into the node's or a pod's netns);
 * - `node`: the node itself (`docker exec` on kind, the host's own binaries on existing).
 */
export type ToolHome = 'agent' | 'agent-image' | 'probe' | 'node';

/** The image each home runs (images.ts lists what each has). */
export const HOME_IMAGE: Readonly<Record<ToolHome, ImageName>> = {
  agent: 'cilium-agent',
  'agent-image': 'cilium-agent',
  probe: 'probe',
  node: 'kind-node',
};

export interface ToolLocation {
  home: ToolHome;
  /** The image or node that provides it, as stated in evidence and docs. */
  providedBy: string;
}

const AGENT = `the ${CILIUM_AGENT_CONTAINER} container of the node's Cilium pod (quay.io/cilium/cilium, host network namespace)`;
const PROBE = `the run's probe pod on the node (${PROBE_IMAGE}, nsenter into the network namespace)`;
const AGENT_IMAGE = `the ${PROBE_BPFTOOL_CONTAINER} container of the run's probe pod on the node (the Cilium agent's own image, privileged, host network namespace)`;
const NODE = 'the node (kindest/node on kind; the host through the probe pod on existing)';

/** Tool (argv[0]) → where it runs. A tool not listed runs on the node. */
export const K8S_TOOL_LOCATIONS: Readonly<Record<string, ToolLocation>> = {
  'cilium-dbg': { home: 'agent', providedBy: AGENT },
  cilium: { home: 'agent', providedBy: AGENT },
  bpftool: { home: 'agent-image', providedBy: AGENT_IMAGE },
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

/**
 * The cilium-agent container's capabilities as the chart installs it by default (values.yaml
 * `securityContext.capabilities.ciliumAgent`, with `drop: [ALL]` and `privileged: false`): no
 * SYSLOG, the reason bpftool runs elsewhere (above). The kind stand-in gives its agent these.
 */
export const CILIUM_AGENT_CAPABILITIES = [
  'CHOWN',
  'KILL',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'SYS_MODULE',
  'SYS_ADMIN',
  'SYS_RESOURCE',
  'DAC_OVERRIDE',
  'FOWNER',
  'SETGID',
  'SETUID',
] as const;
