/**
 * The Backend: what differs between Kind, an existing cluster and the lab — and nothing else.
 * Probes are backend-agnostic: they run commands through exec()/spawn() on a node, a pod or
 * the Cilium agent of a node, and parse the output.
 */
import type { Evidence } from '../evidence/index.ts';
import type { BackgroundProcess, RunResult } from '../exec/index.ts';
import type { IptablesMode } from '../kube-proxy/mode.ts';
import type { NetworkPolicyDoc } from '../policy/manifest.ts';

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
  /** The pod's labels, as policies select them. */
  labels?: Record<string, string>;
  /** What an echo pod answers on (its HTTP port first, then its services' other target ports), when known. */
  listeners?: Listener[];
}

/** A port an echo server answers on: HTTP over TCP, or `pod=<name> client=<ip:port>` datagrams over UDP. */
export interface Listener {
  port: number;
  protocol: 'TCP' | 'UDP';
}

/** A backend pod of a service (an endpoint), as the service reaches it. */
export interface ServiceEndpoint {
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
  /** The backend pods behind the service (its endpoints). */
  endpoints: ServiceEndpoint[];
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
  /** Further ports it answers on (the target ports its services name), TCP and UDP. */
  listeners?: Listener[];
  /** The Kubernetes namespace of its pods (default "default"; the kind stand-in passes the run's). */
  namespace?: string;
}

export interface ServiceSpec {
  name: string;
  /** Selects the pods of this echo deployment. */
  app: string;
  port: number;
  targetPort?: number;
  /** TCP unless said (the echo workload answers on the target port in this protocol). */
  protocol?: 'TCP' | 'UDP';
  type: 'ClusterIP' | 'NodePort';
  nodePort?: number;
  /** Restrict backends to pods on these nodes (deterministic same-node scenarios). */
  onlyNodes?: string[];
  /** The Kubernetes namespace the service is named in (the lab's kube-proxy rules say it; default "default"). */
  namespace?: string;
}

export interface ClientSpec {
  name: string;
  node: string;
  /** Namespace (default "default"). */
  namespace?: string;
  /** Labels (default run=<name>, as `kubectl run` sets). */
  labels?: Record<string, string>;
}

export interface ExecOptions {
  timeoutMs?: number;
  check?: boolean;
  input?: string;
  quietStdout?: boolean;
}

/** A check `hookpoint doctor` runs on this machine (implemented in support/doctor.ts). */
export type DoctorCheckId =
  | 'node'
  | 'java'
  | 'root'
  /** Every tool of the lab (one check per tool). */
  | 'lab-tools'
  /** The headers the lab's eBPF compile needs (one check per file). */
  | 'lab-headers'
  /** A Docker engine that answers, not only its client. */
  | 'docker'
  | 'kind'
  | 'helm'
  | 'kubectl'
  /** A kubeconfig (and context) whose cluster answers: `--kubeconfig`/`KUBECONFIG`, `--context`. */
  | 'kubeconfig';

export interface DoctorRequirement {
  check: DoctorCheckId;
  /** A missing optional requirement is printed and warned about, but does not block the backend. */
  required: boolean;
  /** For an optional one: what goes unchecked or unrendered without it (printed with the warning). */
  withoutIt?: string;
}

/** A command a failure collector runs on every involved node after a failed or broken scenario. */
export interface NodeCollector {
  /** The attachment is named `failure-<name>`. */
  name: string;
  /** Where it runs: the node's agent, or the node (the backend routes the tool to its home). */
  target: 'agent' | 'node';
  argv: readonly string[];
}

/**
 * What a backend is, declared once instead of `backend === 'lab'` checks across run, matrix,
 * report, doctor and Helm values. Pure data (no backend instance, nothing heavy imported), so
 * the doctor, the matrix and the report can read it without creating a backend.
 */
export interface BackendDescriptor {
  name: BackendName;
  /** The backend as the matrix report names it (a run's report uses the instance's describe()). */
  label: string;
  /** What `hookpoint doctor --backend NAME` checks, in order. */
  doctor: readonly DoctorRequirement[];
  /** As root, `hookpoint run` installs missing prerequisites with apt before the checks (lab). */
  installsPrerequisitesAsRoot: boolean;
  /**
   * Which Helm values it can honour: any key of the Cilium chart (checked against the chart's
   * own values), or only the keys it reproduces (anything else is refused with the closest one).
   */
  helmValues: { honours: 'chart' } | { honours: 'listed'; keys: readonly string[] };
  /** The Cilium version is a label only (one datapath whatever the version): reports say so. */
  ciliumVersionIsLabel: boolean;
  /** Environment labels the report states, from the run's options. */
  environment(o: { cilium: string; variants: readonly string[] }): Record<string, string>;
  /** Commands collected on each involved node after a failed or broken scenario. */
  nodeCollectors: readonly NodeCollector[];
  /** Collectors the backend instance adds (Backend.collectEvidence), by evidence kind, for docs and tests. */
  ownCollectors: readonly string[];
  /** Which image, node or machine provides each tool the steps need. */
  tools: Readonly<Record<string, string>>;
  /** How to remove a cluster `--keep` kept. */
  keptClusterHint(cluster: string): string;
  /** Why this backend cannot enforce a network policy as written (null: it can); checked at preflight. */
  refusesPolicy(policy: NetworkPolicyDoc): Error | null;
  /**
   * How long a monitor reads on after the traffic before it stops: the delay from a packet to its
   * line on the reader's output, which differs with the path the events take to it.
   */
  monitorSettleMs: number;
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
  /** The iptables variant kube-proxy writes to, when the backend knows it (`--iptables`, the lab's own choice); else the counter probe detects it per node. */
  kubeProxyIptables?(): IptablesMode | undefined;
  topology(): Promise<Topology>;
  deployEcho(spec: EchoSpec): Promise<void>;
  exposeService(spec: ServiceSpec): Promise<ServiceInfo>;
  runClient(spec: ClientSpec): Promise<PodInfo>;
  /** Remove the scenario's workloads (services, deployments, clients) — cleanup LIFO. */
  removeWorkload(kind: 'echo' | 'service' | 'client', name: string): Promise<void>;
  /**
   * Apply a network policy and return once the datapath of every node enforces it (kind and
   * existing: `cilium-dbg policy wait` on every agent). Refuses what the backend cannot enforce.
   */
  applyNetworkPolicy(policy: NetworkPolicyDoc): Promise<void>;
  /** Remove a network policy applied before (idempotent). */
  removeNetworkPolicy(policy: NetworkPolicyDoc): Promise<void>;
  exec(target: ExecTarget, argv: readonly string[], opts?: ExecOptions): Promise<RunResult>;
  spawn(target: ExecTarget, argv: readonly string[], opts?: { maxMs?: number }): BackgroundProcess;
  /** A directory for files a probe writes (pcaps) that the backend's exec can also see. */
  scratchDir(): string;
  /**
   * Read a file a command wrote under scratchDir() where `target` runs (a pcap). Backends whose
   * targets share this machine's filesystem (the lab) may omit it: the file is read locally.
   */
  readFile?(target: ExecTarget, file: string): Promise<Uint8Array>;
  /**
   * The backend's own failure collectors (agent logs, events, pod descriptions …) for these
   * nodes (else the nodes it involved); never throws. Run after every failed or broken scenario.
   */
  collectEvidence?(nodes?: readonly string[]): Promise<Array<Evidence<string>>>;
}
