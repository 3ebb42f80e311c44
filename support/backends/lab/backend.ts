/**
 * LabBackend: the Backend interface on the lab — a real-kernel reproduction of the seed's Kind
 * cluster (Cilium, native routing, kubeProxyReplacement=false) built from network namespaces,
 * veth pairs, native routes, kube-proxy-style iptables and the lab's own eBPF program at tc.
 * It is a reproduction and says so: describe() never says "Cilium".
 *
 * A facade: each concern lives in its own module and shares one LabSession (state.ts) —
 * provisioning.ts (build, reuse, keep, remove), pods.ts, services.ts, exec-targets.ts,
 * node-datapaths.ts and variants.ts.
 *
 * State lives in `<stateRoot>/<cluster>/` (default /run/hookpoint/lab/<cluster>/): state.json
 * (the model: nodes, pods, services), ledger.jsonl (everything created), the lock, pid files,
 * the plans every `ip -batch`/`iptables-restore` ran, and the nodes' private bpffs mounts.
 */
import type { BackgroundProcess, RunResult } from '../../exec/index.ts';
import type { IptablesMode } from '../../kube-proxy/mode.ts';
import { labUnenforced, type NetworkPolicyDoc } from '../../policy/manifest.ts';
import type {
  Backend,
  Capability,
  ClientSpec,
  ClusterSpec,
  EchoSpec,
  ExecOptions,
  ExecTarget,
  PodInfo,
  ServiceInfo,
  ServiceSpec,
  Topology,
} from '../types.ts';
import type { NodeDatapath } from './datapath/index.ts';
import { LAB_DESCRIPTOR } from './descriptor.ts';
import { LabExecTargets } from './exec-targets.ts';
import type { RunDir } from './ledger.ts';
import type { LabPod } from './pod-netns.ts';
import { LabPods } from './pods.ts';
import { LabProvisioning, type LabProvisionOptions } from './provisioning.ts';
import { LabServices, type ServiceStatus } from './services.ts';
import { LabSession, type LabState, type WorkloadKind } from './state.ts';
import type { LabNodePlan } from './topology.ts';
import { parseVariants, setNativeRoutes } from './variants.ts';

export { REPO_ROOT } from './exec-targets.ts';
export { LAB_SKIP_HINT } from './variants.ts';

export interface LabBackendOptions extends LabProvisionOptions {
  /** Where run directories live (default /run/hookpoint/lab, or $HOOKPOINT_LAB_STATE). */
  stateRoot?: string;
}

function samePolicy(a: NetworkPolicyDoc, b: NetworkPolicyDoc): boolean {
  return a.kind === b.kind && a.name === b.name && a.namespace === b.namespace;
}

export class LabBackend implements Backend {
  readonly name = 'lab' as const;
  private readonly opts: LabBackendOptions;
  private readonly lab: LabSession;
  private readonly services: LabServices;
  private readonly pods: LabPods;
  private readonly targets: LabExecTargets;
  private readonly provisioning: LabProvisioning;

  constructor(opts: LabBackendOptions = {}) {
    this.opts = opts;
    this.lab = new LabSession(opts.stateRoot);
    this.services = new LabServices(this.lab);
    this.pods = new LabPods(this.lab, this.services);
    this.targets = new LabExecTargets(this.lab);
    this.provisioning = new LabProvisioning(this.lab, opts, this.services, this.pods);
    parseVariants(opts.variants);
  }

  describe(): string {
    return LAB_DESCRIPTOR.label;
  }

  /** The lab writes kube-proxy's rules itself, so it knows where they are. */
  kubeProxyIptables(): IptablesMode | undefined {
    return this.lab.state?.iptables ?? this.opts.iptables;
  }

  capabilities(): ReadonlySet<Capability> {
    const caps: Capability[] = ['iptables-counters', 'capture', 'bpftool', 'status', 'variants', 'lifecycle'];
    const tc = this.lab.state ? this.lab.state.datapath !== null : !parseVariants(this.opts.variants).includes('no-tc');
    if (tc) caps.push('monitor');
    return new Set(caps);
  }

  /** The lab's model (after provision() or attach()). */
  get labState(): LabState {
    return this.lab.labState;
  }

  get runDir(): RunDir {
    return this.lab.runDir;
  }

  scratchDir(): string {
    return this.lab.scratchDir();
  }

  /** Attach to an existing lab (read-only use: status, exec, agent) without provisioning. */
  attach(cluster: string): LabState {
    return this.lab.attach(cluster);
  }

  async provision(spec: ClusterSpec): Promise<void> {
    await this.provisioning.provision(spec);
    // A reused lab starts without the policies an interrupted run left behind.
    const s = this.lab.labState;
    if (s.policies?.length) {
      s.policies = [];
      this.lab.save();
      await this.lab.datapaths.syncPolicy(s, true);
    }
  }

  /**
   * A NodeDatapath to read a node's real state with (tc attachments, maps, flags) — the live one,
   * or, under variant no-tc, one that was never loaded and so reports what is attached.
   */
  datapathReader(node: string): NodeDatapath {
    return this.lab.datapaths.reader(this.lab.labState.cluster, this.lab.node(node), this.lab.runDir);
  }

  /** The datapath of a node (undefined under variant no-tc). */
  datapath(node: string): NodeDatapath | undefined {
    return this.lab.datapaths.get(this.lab.node(node).name);
  }

  async teardown(): Promise<void> {
    await this.provisioning.teardown((kind, name) => this.removeWorkload(kind, name));
  }

  /** The run failed: with keepOnFailure the lab is marked kept now, so neither teardown nor the janitor removes it. */
  noteFailure(): void {
    this.provisioning.noteFailure();
  }

  /**
   * Keep the lab after this process ends and release the lock (what `lab up` does once all its
   * steps succeeded; until then an interrupted `lab up` is rolled back by the janitor).
   */
  keepAndRelease(): void {
    this.provisioning.keepAndRelease();
  }

  node(nameOrRole: string): LabNodePlan {
    return this.lab.node(nameOrRole);
  }

  pod(name: string): LabPod {
    return this.lab.pod(name);
  }

  async topology(): Promise<Topology> {
    const s = this.lab.labState;
    return {
      cluster: s.cluster,
      nodes: s.plan.nodes.map((n) => ({
        name: n.name,
        role: n.role,
        ip: n.ip,
        podCIDR: n.podCIDR,
        ciliumHostIP: n.ciliumHostIP,
      })),
      pods: s.pods.map((p) => this.pods.info(p)),
      services: s.services.map((svc) => this.services.info(svc)),
    };
  }

  /** Services as `lab status --json` shows them: endpoints as "ip:port" (under `backends`, the JSON contract). */
  statusServices(): ServiceStatus[] {
    return this.services.statusServices();
  }

  // -------------------------------------------------------------------------------------------
  // Workloads

  async deployEcho(spec: EchoSpec): Promise<void> {
    return this.pods.deployEcho(spec);
  }

  async runClient(spec: ClientSpec): Promise<PodInfo> {
    return this.pods.runClient(spec);
  }

  async exposeService(spec: ServiceSpec): Promise<ServiceInfo> {
    // The echo pods answer on the service's target port before the service points there.
    await this.pods.ensureListening(spec.app, { port: spec.targetPort ?? spec.port, protocol: spec.protocol ?? 'TCP' });
    return this.services.expose(spec);
  }

  /** The lab's datapath enforces it on every node as soon as its maps are written. */
  async applyNetworkPolicy(policy: NetworkPolicyDoc): Promise<void> {
    const refused = labUnenforced(policy);
    if (refused) throw refused;
    const s = this.lab.labState;
    s.policies = [...(s.policies ?? []).filter((p) => !samePolicy(p, policy)), policy];
    await this.enforcePolicies();
  }

  /**
   * The repository changed: a new revision is recorded first (what `cilium-dbg policy get`
   * reports), then every node's maps are written and the revision is realized (what `policy
   * wait` waits for).
   */
  private async enforcePolicies(): Promise<void> {
    const s = this.lab.labState;
    const revision = (s.policyRevision ?? 1) + 1;
    s.policyRevision = revision;
    this.lab.save();
    await this.lab.datapaths.syncPolicy(s, true);
    s.policyRealized = revision;
    this.lab.save();
  }

  async removeNetworkPolicy(policy: NetworkPolicyDoc): Promise<void> {
    const s = this.lab.labState;
    if (!(s.policies ?? []).some((p) => samePolicy(p, policy))) return;
    s.policies = (s.policies ?? []).filter((p) => !samePolicy(p, policy));
    await this.enforcePolicies();
  }

  async removeWorkload(kind: WorkloadKind, name: string): Promise<void> {
    this.lab.forgetAdded(kind, name);
    if (kind === 'service') return this.services.remove(name);
    return this.pods.remove(kind, name);
  }

  /** Remove (or restore) the native routes of every node at run time (self-verification). */
  async setNativeRoutes(on: boolean): Promise<void> {
    await setNativeRoutes(this.lab, on);
  }

  // -------------------------------------------------------------------------------------------
  // Commands on nodes, pods and the agent

  /** argv and transcript label for a target (`sysfs`: see LabExecTargets.argv). */
  targetArgv(
    target: ExecTarget,
    argv: readonly string[],
    opts: { sysfs?: boolean } = {},
  ): { argv: string[]; where: string } {
    return this.targets.argv(target, argv, opts);
  }

  async exec(target: ExecTarget, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    return this.targets.exec(target, argv, opts);
  }

  spawn(target: ExecTarget, argv: readonly string[], opts: { maxMs?: number } = {}): BackgroundProcess {
    return this.targets.spawn(target, argv, opts);
  }
}
