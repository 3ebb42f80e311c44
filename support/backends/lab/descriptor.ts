/**
 * The lab backend described (BackendDescriptor): a reproduction of one datapath in network
 * namespaces on this machine, so the Cilium version is a label, only the Helm keys it
 * reproduces are honoured, and every tool comes from this machine's packages.
 */
import { HOST_FILES, toolsFor } from '../../exec/host-tools.ts';
import { labUnenforced } from '../../policy/manifest.ts';
import type { BackendDescriptor } from '../types.ts';
import { TRACE_POLL_MS } from './trace-poll.ts';

/** Tools of the lab and the Debian package that provides each (one list: support/exec/host-tools.ts). */
export const LAB_TOOLS: ReadonlyArray<[tool: string, pkg: string]> = toolsFor(['lab']).map((t) => [t.tool, t.pkg]);
export const LAB_HEADERS: ReadonlyArray<[file: string, pkg: string]> = HOST_FILES.filter(
  (f) => f.purpose === 'lab',
).map((f) => [f.file, f.pkg]);

/** Keys the lab reproduces (or, for ipam.mode and the native-routing CIDR, matches as stated). */
export const LAB_HELM_KEYS = [
  'routingMode',
  'tunnel',
  'tunnelProtocol',
  'kubeProxyReplacement',
  'autoDirectNodeRoutes',
  'ipam.mode',
  'ipv4NativeRoutingCIDR',
] as const;

export const LAB_DESCRIPTOR: BackendDescriptor = {
  name: 'lab',
  label: 'lab (kernel reproduction)',
  doctor: [
    { check: 'node', required: true },
    { check: 'java', required: false },
    { check: 'root', required: true },
    { check: 'lab-tools', required: true },
    { check: 'lab-headers', required: true },
  ],
  installsPrerequisitesAsRoot: true,
  helmValues: { honours: 'listed', keys: LAB_HELM_KEYS },
  ciliumVersionIsLabel: true,
  environment: ({ cilium, variants }) => ({
    'cilium.version': `${cilium} (label only: the lab reproduces one datapath)`,
    ...(variants.length ? { 'lab.variants': variants.join(',') } : {}),
  }),
  nodeCollectors: [
    { name: 'status', target: 'agent', argv: ['cilium-dbg', 'status'] },
    { name: 'iptables-save', target: 'node', argv: ['iptables-save', '-c'] },
    { name: 'bpftool-net', target: 'node', argv: ['bpftool', 'net', 'show'] },
    { name: 'routes', target: 'node', argv: ['ip', 'route', 'show', 'table', 'all'] },
    { name: 'neigh', target: 'node', argv: ['ip', 'neigh', 'show'] },
  ],
  ownCollectors: [],
  tools: Object.fromEntries(
    LAB_TOOLS.map(([tool, pkg]) => [tool, `this machine (Debian package ${pkg}), run in the lab node's namespaces`]),
  ),
  keptClusterHint: (cluster) => `hookpoint lab down --cluster ${cluster}`,
  refusesPolicy: labUnenforced,
  // The agent stand-in polls its trace stream every TRACE_POLL_MS and writes each line at once: two polls cover it.
  monitorSettleMs: 2 * TRACE_POLL_MS,
};
