/**
 * What kind and existing declare alike (BackendDescriptor): Helm values checked against the
 * chart, the Cilium version is real, the failure collectors and tool locations of a Kubernetes
 * cluster with Cilium. Each backend's descriptor adds its name, label and doctor checks.
 */
import type { BackendDescriptor } from '../types.ts';
import { K8S_NODE_COLLECTORS, K8S_OWN_COLLECTORS } from './failure-collectors.ts';
import { K8S_TOOL_PROVIDERS } from './tool-locations.ts';

export const K8S_DESCRIPTOR_PARTS: Pick<
  BackendDescriptor,
  | 'installsPrerequisitesAsRoot'
  | 'helmValues'
  | 'ciliumVersionIsLabel'
  | 'environment'
  | 'nodeCollectors'
  | 'ownCollectors'
  | 'tools'
  | 'monitorSettleMs'
> = {
  installsPrerequisitesAsRoot: false,
  helmValues: { honours: 'chart' },
  ciliumVersionIsLabel: false,
  environment: () => ({}),
  nodeCollectors: K8S_NODE_COLLECTORS,
  ownCollectors: K8S_OWN_COLLECTORS,
  tools: K8S_TOOL_PROVIDERS,
  // Events cross the agent's perf ring reader, its monitor socket, cilium-dbg and the exec stream.
  monitorSettleMs: 250,
};
