/**
 * What every concern of the shared Kubernetes backend reaches the cluster through: the run's
 * options, the executor, the API client, timeouts and waits, the run's identity, the nodes the
 * scenario involved so far, and the Cilium version in use. One object, shared by the exec
 * targets, topology, run workloads and readiness modules (the ClusterBackend owns it).
 */
import type { ImageOverrides } from '../../config.ts';
import type { IptablesMode } from '../../kube-proxy/mode.ts';
import type { BackendName } from '../types.ts';
import type { SemVer } from './cilium-versions.ts';
import type { Executor } from './executor.ts';
import type { KubeApi } from './kube-api.ts';
import type { TIMEOUTS } from './kubectl-commands.ts';
import type { WaitDeps } from './readiness.ts';

export interface ClusterBackendOptions {
  name: Exclude<BackendName, 'lab'>;
  /** Kind cluster name, or a label for an existing cluster (its context). */
  cluster: string;
  kubeconfig: string;
  context?: string;
  /** Forces the iptables variant instead of detecting it. */
  iptables?: IptablesMode;
  /** How node commands run: `docker exec` into the Kind node, or the probe pod entering the host. */
  nodeAccess: 'docker' | 'probe';
  /** Images chosen with --image (probe, echo, client here; node, cilium, operator by kind). */
  images?: ImageOverrides;
}

export interface ClusterAccess {
  readonly opts: ClusterBackendOptions;
  readonly exec: Executor;
  api(): KubeApi;
  /** kubectl argv with the run's kubeconfig and context. */
  kubectl(...rest: string[]): string[];
  readonly t: Record<keyof typeof TIMEOUTS, number>;
  readonly waitDeps: WaitDeps;
  readonly pollMs: number;
  readonly runId: string;
  /** The run's namespace (workloads, probe DaemonSet). */
  readonly namespace: string;
  /** Node directory for files probes write (pcaps). */
  readonly scratchDir: string;
  /** Full names of the nodes this run touched (collectors look there). */
  readonly involved: Set<string>;
  /** Cilium version in use (decides cilium vs cilium-dbg); undefined before provisioning. */
  version(): SemVer | undefined;
}
