/**
 * The Backend: what differs between Kind, an existing cluster and the lab — and nothing else.
 * Probes are backend-agnostic: they run commands through exec()/spawn() on a node, a pod or
 * the Cilium agent of a node, and parse the output.
 */
import type { BackgroundProcess, RunResult } from '../exec/index.ts';

export type BackendName = 'lab' | 'kind' | 'existing';

export interface NodeInfo {
  /** Full name, Kind style: cilium-kubeproxy-control-plane, cilium-kubeproxy-worker. */
  name: string;
  /** Role name as users write it: control-plane, worker, worker2. */
  role: string;
  ip: string;
  podCIDR: string;
  /** Node address on cilium_host (the pods' gateway), when known. */
  ciliumHostIP?: string;
}

export interface PodInfo {
  name: string;
  namespace: string;
  /** Full node name. */
  node: string;
  ip: string;
  mac?: string;
  /** Host-side veth (lxc…) in the node, and its MAC. */
  hostVeth?: string;
  hostVethMac?: string;
  /** Cilium endpoint id (the lab assigns its own). */
  endpointId?: number;
  /** App label (the echo deployment it belongs to). */
  app?: string;
}

export interface ServiceBackend {
  pod: string;
  ip: string;
  port: number;
  node: string;
}

export interface ServiceInfo {
  name: string;
  namespace: string;
  clusterIP: string;
  port: number;
  targetPort: number;
  /** kube-proxy port name (appears in its comments as ns/svc:portName). */
  portName: string;
  nodePort: number | null;
  protocol: 'TCP' | 'UDP';
  backends: ServiceBackend[];
}

export interface Topology {
  cluster: string;
  nodes: NodeInfo[];
  pods: PodInfo[];
  services: ServiceInfo[];
}

/** Where a command runs. `agent` is the Cilium agent of a node (on the lab: its reproduction). */
export type ExecTarget =
  | { kind: 'host' }
  | { kind: 'node'; node: string }
  | { kind: 'pod'; pod: string; namespace?: string }
  | { kind: 'agent'; node: string };

export type Capability =
  /** iptables-save -c readable on nodes. */
  | 'iptables-counters'
  /** tcpdump at pod eth0, host veth, node eth0, cilium_host. */
  | 'capture'
  /** cilium monitor style trace stream per node. */
  | 'monitor'
  /** bpftool on nodes. */
  | 'bpftool'
  /** cilium status. */
  | 'status'
  /** Datapath mutations for self-verification (lab only). */
  | 'variants'
  /** The backend creates and deletes clusters. */
  | 'lifecycle'
  /** Cilium runs from its Helm chart, so any chart value a feature states is honoured (not the lab). */
  | 'helm-values';

/** The tag that skips a scenario on a backend without the capability (`@requires:capture`). */
export function requiresTag(c: Capability): string {
  return `@requires:${c}`;
}

/** The capabilities a scenario's tags require. */
export function requiredCapabilities(tags: readonly string[]): string[] {
  return tags.flatMap((t) => (t.startsWith('@requires:') ? [t.slice('@requires:'.length)] : []));
}

export interface ClusterSpec {
  /** Path of the kind config (also the lab's topology source). */
  kindConfig: string;
  /** Cilium Helm values from the feature's table and values files (flattened dotted keys). */
  ciliumValues: Record<string, string>;
  ciliumVersion: string;
  k8sVersion: string;
}

export interface EchoSpec {
  /** Deployment name (DNS-1123). */
  name: string;
  /** Full node names, one replica each. */
  nodes: string[];
  port?: number;
}

export interface ServiceSpec {
  name: string;
  /** Selects the pods of this echo deployment. */
  app: string;
  port: number;
  targetPort?: number;
  type: 'ClusterIP' | 'NodePort';
  nodePort?: number;
  /** Restrict backends to pods on these nodes (deterministic same-node scenarios). */
  onlyNodes?: string[];
}

export interface ClientSpec {
  name: string;
  node: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  check?: boolean;
  input?: string;
  quietStdout?: boolean;
}

export interface Backend {
  readonly name: BackendName;
  /** Shown in the report environment: "lab (kernel reproduction)", "kind + Cilium 1.17.15". */
  describe(): string;
  capabilities(): ReadonlySet<Capability>;
  /** Create or reuse the cluster (idempotent). */
  provision(spec: ClusterSpec): Promise<void>;
  /** Remove what this run created (idempotent; honours keep policies). */
  teardown(): Promise<void>;
  /** The run failed: a `--keep on-failure` policy keeps the cluster at teardown. */
  noteFailure?(): void;
  topology(): Promise<Topology>;
  deployEcho(spec: EchoSpec): Promise<void>;
  exposeService(spec: ServiceSpec): Promise<ServiceInfo>;
  runClient(spec: ClientSpec): Promise<PodInfo>;
  /** Remove the scenario's workloads (services, deployments, clients) — cleanup LIFO. */
  removeWorkload(kind: 'echo' | 'service' | 'client', name: string): Promise<void>;
  exec(target: ExecTarget, argv: readonly string[], opts?: ExecOptions): Promise<RunResult>;
  spawn(target: ExecTarget, argv: readonly string[], opts?: { maxMs?: number }): BackgroundProcess;
  /** A directory for files a probe writes (pcaps) that the backend's exec can also see. */
  scratchDir(): string;
  /**
   * Read a file a command wrote under scratchDir() where `target` runs (a pcap). Backends whose
   * targets share this machine's filesystem (the lab) may omit it: the file is read locally.
   */
  readFile?(target: ExecTarget, file: string): Promise<Uint8Array>;
}
