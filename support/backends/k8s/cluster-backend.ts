/**
 * The shared Kubernetes backend (kind and existing): a cluster with Cilium reached through a
 * kubeconfig file. A small facade over its concerns — exec targets (exec-targets.ts, with the
 * tool locations), topology (topology.ts), the run's workloads (run-workloads.ts), the installed
 * Cilium and its readiness (installed-cilium.ts), a Lease as the lock (run-lock.ts) and the
 * failure collectors (failure-collectors.ts). Every external command goes through the
 * injectable Executor. kind and existing add provisioning on top.
 */

import { randomBytes } from 'node:crypto';
import { InfraError } from '../../errors.ts';
import type { Evidence } from '../../evidence/index.ts';
import type { BackgroundProcess, RunResult } from '../../exec/index.ts';
import { findKubeProxyChains, type IptablesMode } from '../../kube-proxy/mode.ts';
import type { NetworkPolicyDoc } from '../../policy/manifest.ts';
import type {
  Backend,
  BackendName,
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
import { parseCiliumVersion, type SemVer } from './cilium-versions.ts';
import type { ClusterAccess, ClusterBackendOptions } from './cluster-access.ts';
import { deferredProcess } from './deferred-process.ts';
import { ExecTargets } from './exec-targets.ts';
import { defaultExecutor, type Executor } from './executor.ts';
import { collectFailureEvidence, ProvisioningError } from './failure-collectors.ts';
import { boundedArgv, splitResolved, stopTaggedArgv } from './in-container.ts';
import { type InstalledCilium, installedCilium, restartAgents, waitForCilium } from './installed-cilium.ts';
import { KubeApi } from './kube-api.ts';
import { CILIUM_AGENT_SELECTOR, CILIUM_NAMESPACE, kubectlArgv, TIMEOUTS } from './kubectl-commands.ts';
import { createPolicy, deletePolicy, type PolicyAgents, policyNamespace, waitForAgents } from './network-policies.ts';
import { realWaitDeps, type WaitDeps } from './readiness.ts';
import { ClusterLock } from './run-lock.ts';
import { RunWorkloads } from './run-workloads.ts';
import { ClusterTopology } from './topology.ts';
import { runNamespace } from './workload-manifests.ts';

export type { ClusterBackendOptions } from './cluster-access.ts';

export interface ClusterBackendDeps {
  exec?: Executor;
  /** Build the API client for a kubeconfig file (tests point it at a fake API server). */
  kube?: (kubeconfig: string, context?: string) => KubeApi;
  wait?: Partial<WaitDeps>;
  /** Poll interval of readiness waits (ms). */
  pollMs?: number;
  timeouts?: Partial<Record<keyof typeof TIMEOUTS, number>>;
  runId?: string;
  lockHolder?: string;
}

export function newRunId(): string {
  return randomBytes(3).toString('hex');
}

export class ClusterBackend implements Backend {
  readonly name: Exclude<BackendName, 'lab'>;
  protected readonly opts: ClusterBackendOptions;
  protected readonly exec_: Executor;
  protected readonly t: Record<keyof typeof TIMEOUTS, number>;
  readonly runId: string;
  readonly namespace: string;
  protected lock: ClusterLock | undefined;
  protected readonly lockHolder: string | undefined;
  /** Cilium version in use (decides cilium vs cilium-dbg). */
  protected version: SemVer | undefined;
  /** What every concern reaches the cluster through. */
  protected readonly access: ClusterAccess;
  protected readonly targets: ExecTargets;
  protected readonly topo: ClusterTopology;
  protected readonly workloads: RunWorkloads;
  private kube: KubeApi | undefined;
  /** Processes started in containers so far (each gets its own tag). */
  private windowSeq = 0;
  private readonly iptablesModes = new Map<string, { mode: IptablesMode; why: string }>();
  protected readonly involved = new Set<string>();
  /** Evidence collected when provisioning broke or a scenario failed (also on the ProvisioningError). */
  readonly collected: Array<Evidence<string>> = [];

  constructor(opts: ClusterBackendOptions, deps: ClusterBackendDeps = {}) {
    this.name = opts.name;
    this.opts = opts;
    this.exec_ = deps.exec ?? defaultExecutor;
    const makeKube = deps.kube ?? ((file: string, ctx?: string) => KubeApi.fromFile(file, ctx));
    this.t = { ...TIMEOUTS, ...deps.timeouts };
    this.runId = deps.runId ?? newRunId();
    this.namespace = runNamespace(this.runId);
    this.lockHolder = deps.lockHolder;
    this.access = {
      opts,
      exec: this.exec_,
      api: () => {
        this.kube ??= makeKube(opts.kubeconfig, opts.context);
        return this.kube;
      },
      kubectl: (...rest) => kubectlArgv(opts.kubeconfig, opts.context, ...rest),
      t: this.t,
      waitDeps: { ...realWaitDeps, ...deps.wait },
      pollMs: deps.pollMs ?? 2000,
      runId: this.runId,
      namespace: this.namespace,
      scratchDir: `/tmp/hookpoint-${this.runId}`,
      involved: this.involved,
      version: () => this.version,
    };
    this.topo = new ClusterTopology(this.access, {
      endpointList: async (node) => {
        const res = await this.exec({ kind: 'agent', node }, ['cilium', 'endpoint', 'list', '-o', 'json'], {
          check: false,
          quietStdout: true,
        }).catch(() => undefined);
        return res?.exitCode === 0 ? res.stdout : null;
      },
    });
    this.targets = new ExecTargets(this.access, {
      ensureNamespace: () => this.workloads.ensureNamespace(),
      nodeName: (n) => this.topo.nodeName(n),
    });
    this.workloads = new RunWorkloads(this.access, {
      topology: this.topo,
      forgetPod: (ns, pod) => this.targets.forgetPod(ns, pod),
    });
  }

  describe(): string {
    return `${this.name} cluster "${this.opts.cluster}"${this.version ? ` + Cilium ${this.version.text}` : ''}`;
  }

  capabilities(): ReadonlySet<Capability> {
    return new Set<Capability>(['iptables-counters', 'capture', 'monitor', 'bpftool', 'status', 'helm-values']);
  }

  scratchDir(): string {
    return this.access.scratchDir;
  }

  provision(_spec: ClusterSpec): Promise<void> {
    return Promise.reject(new InfraError('internal: ClusterBackend.provision is implemented by kind/existing.'));
  }

  teardown(): Promise<void> {
    return this.releaseRunResources();
  }

  protected progress(line: string): void {
    this.access.waitDeps.progress(line);
  }

  protected api(): KubeApi {
    return this.access.api();
  }

  protected async takeLock(): Promise<void> {
    if (this.lock?.isHeld()) return;
    this.lock ??= new ClusterLock(this.api(), this.opts.cluster, { holder: this.lockHolder });
    await this.lock.acquire();
    this.lock.startRenewing((err) => this.progress(`warning: ${(err as Error).message}`));
  }

  // --- readiness ---

  protected waitForCilium(): Promise<void> {
    return waitForCilium(this.access);
  }

  /**
   * Restart the Cilium agents (rollout restart of the DaemonSet) so they run the configuration
   * just installed; the agent pods found before are forgotten, the next command finds the new ones.
   */
  protected async restartAgents(): Promise<void> {
    const generation = await restartAgents(this.access);
    this.targets.forgetAgentPods();
    this.progress(`restarted the Cilium agents (DaemonSet generation ${generation}); waiting for the new pods`);
  }

  /** `cilium-dbg status --brief` on every agent: exit 0 means the agent reports itself healthy. */
  protected async checkAgents(): Promise<void> {
    const nodes = await this.api().listNodes();
    for (const n of nodes) {
      const node = n.metadata!.name!;
      await this.exec({ kind: 'agent', node }, ['cilium', 'status', '--brief'], { timeoutMs: this.t.agentExec });
    }
  }

  protected installedCilium(): Promise<InstalledCilium> {
    return installedCilium(this.access);
  }

  // --- failure collectors ---

  /** Collect agent logs, events and pod descriptions of the given (else the involved) nodes; never throws. */
  async collectEvidence(nodes?: readonly string[]): Promise<Array<Evidence<string>>> {
    let agentPods: Array<{ node: string; pod: string }> = [];
    try {
      const pods = await this.api().listPods(CILIUM_NAMESPACE, { labelSelector: CILIUM_AGENT_SELECTOR });
      const full = nodes?.length ? await Promise.all(nodes.map((n) => this.topo.nodeName(n))) : [];
      const want = full.length ? new Set(full) : this.involved.size ? this.involved : undefined;
      agentPods = pods
        .filter((p) => p.spec?.nodeName && (!want || want.has(p.spec.nodeName)))
        .map((p) => ({ node: p.spec!.nodeName!, pod: p.metadata!.name! }));
    } catch {
      agentPods = [];
    }
    const ev = await collectFailureEvidence({
      exec: this.exec_,
      kubeconfig: this.opts.kubeconfig,
      context: this.opts.context,
      namespace: this.workloads.namespaceExists ? this.namespace : undefined,
      agentPods,
    });
    this.collected.push(...ev);
    return ev;
  }

  protected async broken(message: string, err: unknown, hint?: string): Promise<ProvisioningError> {
    const evidence = await this.collectEvidence();
    const why = err instanceof Error ? err.message : String(err);
    return new ProvisioningError(`${message}: ${why}`, evidence, {
      hint: hint ?? (err instanceof InfraError ? err.hint : undefined),
      cause: err,
    });
  }

  // --- iptables variant ---

  /** The iptables variant forced by --iptables, if any (the counter probe then skips detection). */
  kubeProxyIptables(): IptablesMode | undefined {
    return this.opts.iptables;
  }

  /** Where kube-proxy's chains live on a node (detected once per node, or forced by config). */
  async iptablesMode(nodeOrRole: string): Promise<{ mode: IptablesMode; why: string }> {
    if (this.opts.iptables) return { mode: this.opts.iptables, why: 'forced by --iptables' };
    const node = await this.topo.nodeName(nodeOrRole);
    const hit = this.iptablesModes.get(node);
    if (hit) return hit;
    const found = await findKubeProxyChains((argv) =>
      this.exec({ kind: 'node', node }, argv, { check: false, quietStdout: true }),
    );
    const pick = { mode: found.mode ?? 'nft', why: found.why };
    this.iptablesModes.set(node, pick);
    return pick;
  }

  // --- commands ---

  async exec(target: ExecTarget, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    const r = await this.targets.resolve(target, argv, opts.input !== undefined);
    return this.exec_.run(r.argv, {
      timeoutMs: opts.timeoutMs ?? (target.kind === 'agent' ? this.t.agentExec : this.t.nodeExec),
      where: r.where,
      check: opts.check,
      input: opts.input,
      quietStdout: opts.quietStdout,
    });
  }

  /**
   * A long-running command (monitor, capture). Inside a container it is tagged, bounded by a
   * deadline there, and stopped there when the window stops it (in-container.ts): stopping the
   * local `kubectl exec` / `docker exec` alone would leave it running in the container.
   */
  spawn(target: ExecTarget, argv: readonly string[], opts: { maxMs?: number } = {}): BackgroundProcess {
    const maxMs = opts.maxMs ?? 600_000;
    const label = `${argv.join(' ')} on ${target.kind}`;
    if (target.kind === 'host')
      return deferredProcess(
        this.targets.resolve(target, argv).then((r) => this.exec_.spawn(r.argv, { maxMs, where: r.where })),
        label,
      );
    const tag = `${this.runId}-${++this.windowSeq}`;
    const started = this.targets.resolve(target, argv).then((r) => {
      const { prefix, inner } = splitResolved(r.argv, argv);
      // The local side may outlive the deadline inside by a little, so that tcpdump's last lines arrive.
      const proc = this.exec_.spawn([...prefix, ...boundedArgv(tag, maxMs, inner)], {
        maxMs: maxMs + this.t.windowStopGrace,
        where: r.where,
      });
      const stopInside = async () => {
        await this.exec_
          .run([...prefix, ...stopTaggedArgv(tag)], { timeoutMs: this.t.nodeExec, where: r.where, check: false })
          .catch(() => undefined);
        // The tool exits on SIGINT and the exec session with it; give it a moment before the local kill.
        await Promise.race([proc.exited, new Promise((res) => setTimeout(res, this.t.windowStopGrace))]);
        return proc.stop();
      };
      let stopping: Promise<RunResult> | undefined;
      const bounded: BackgroundProcess = {
        get pid() {
          return proc.pid;
        },
        output: () => proc.output(),
        running: () => proc.running(),
        exited: proc.exited,
        waitFor: (re, ms) => proc.waitFor(re, ms),
        stop: () => {
          stopping ??= stopInside();
          return stopping;
        },
      };
      return bounded;
    });
    return deferredProcess(started, label);
  }

  /** Backend.readFile: a file a command wrote on a node or in a pod's probe (captures run in the node's probe pod). */
  async readFile(target: ExecTarget, file: string): Promise<Uint8Array> {
    if (target.kind === 'host')
      throw new InfraError(
        `internal: readFile on the host target is not supported by the ${this.name} backend (${file}).`,
      );
    if (target.kind === 'pod') {
      const pod = (await this.topology()).pods.find((p) => p.name === target.pod);
      if (!pod) throw new InfraError(`Cannot read ${file}: pod ${target.pod} is not in the topology.`);
      return this.readNodeFile(pod.node, file);
    }
    return this.readNodeFile(target.node, file);
  }

  /** A file a probe wrote on a node (pcap), as bytes (base64 through the probe pod). */
  async readNodeFile(nodeOrRole: string, file: string): Promise<Buffer> {
    return this.targets.readNodeFile(await this.topo.nodeName(nodeOrRole), file);
  }

  // --- topology and workloads ---

  topology(): Promise<Topology> {
    return this.topo.topology(this.workloads.namespaceExists, this.workloads.clientNamespaces());
  }

  deployEcho(spec: EchoSpec): Promise<void> {
    return this.workloads.deployEcho(spec);
  }

  exposeService(spec: ServiceSpec): Promise<ServiceInfo> {
    return this.workloads.exposeService(spec);
  }

  runClient(spec: ClientSpec): Promise<PodInfo> {
    return this.workloads.runClient(spec);
  }

  removeWorkload(kind: 'echo' | 'service' | 'client', name: string): Promise<void> {
    return this.workloads.removeWorkload(kind, name);
  }

  /** Create the policy through the API, then wait until every agent enforces it (network-policies.ts). */
  async applyNetworkPolicy(policy: NetworkPolicyDoc): Promise<void> {
    await this.workloads.ensureNamespace();
    const ns = policyNamespace(policy, this.namespace);
    await deletePolicy(this.access.api(), policy, ns);
    await createPolicy(this.access.api(), policy, ns);
    await waitForAgents(this.policyAgents(), policy, ns, true, this.policyWait());
  }

  async removeNetworkPolicy(policy: NetworkPolicyDoc): Promise<void> {
    const ns = policyNamespace(policy, this.namespace);
    await deletePolicy(this.access.api(), policy, ns);
    await waitForAgents(this.policyAgents(), policy, ns, false, this.policyWait());
  }

  private policyAgents(): PolicyAgents {
    return {
      nodes: async () => (await this.topo.nodes()).map((n) => n.name),
      agent: (node, argv) =>
        this.exec({ kind: 'agent', node }, argv, { check: false, timeoutMs: this.t.policyApplied }),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    };
  }

  private policyWait(): { timeoutMs: number; pollMs: number } {
    return { timeoutMs: this.t.policyApplied, pollMs: Math.min(this.access.pollMs, 1000) };
  }

  /** Delete the run namespace (workloads, probe), the node scratch dirs, and release the lock. Idempotent. */
  protected async releaseRunResources(): Promise<void> {
    const errors: string[] = [];
    if (this.workloads.namespaceExists) {
      errors.push(...(await this.targets.removeScratch()));
      errors.push(...(await this.workloads.deleteNamespace()));
    }
    this.targets.forgetRunPods();
    if (this.lock) await this.lock.release().catch((e: Error) => errors.push(e.message));
    if (errors.length)
      throw new InfraError(
        `Cleanup of run ${this.runId} on cluster "${this.opts.cluster}" was incomplete: ${errors.join(' ')}`,
        {
          hint: `Delete the namespace ${this.namespace} by hand if it is still there.`,
        },
      );
  }

  /** For subclasses: the version in use. */
  protected useVersion(text: string): void {
    this.version = parseCiliumVersion(text);
  }
}
