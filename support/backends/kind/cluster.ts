/**
 * What the kind and existing backends share: a Kubernetes cluster with Cilium, reached through
 * a kubeconfig file. Workloads through @kubernetes/client-node (a namespace per run), agent
 * commands through the Cilium pod of the node, captures from a privileged probe pod with a
 * pinned tcpdump image (nsenter into the right network namespace), node commands through
 * `docker exec` (kind) or the probe pod entering the host (existing), a Lease as the lock, and
 * failure collectors. Every external command goes through the injectable Executor.
 */
import { randomBytes } from 'node:crypto';
import type * as k8s from '@kubernetes/client-node';
import { InfraError } from '../../errors.ts';
import type { Evidence } from '../../evidence/index.ts';
import type { BackgroundProcess, RunResult } from '../../exec/index.ts';
import type {
  Backend,
  BackendName,
  Capability,
  ClientSpec,
  ClusterSpec,
  EchoSpec,
  ExecOptions,
  ExecTarget,
  NodeInfo,
  PodInfo,
  ServiceInfo,
  ServiceSpec,
  Topology,
} from '../types.ts';
import { collectFailureEvidence, ProvisioningError } from './collect.ts';
import { deferredProcess } from './deferred.ts';
import { defaultExecutor, type Executor } from './executor.ts';
import { KubeApi } from './kube.ts';
import { ClusterLock } from './lock.ts';
import {
  agentExecArgv,
  CILIUM_AGENT_SELECTOR,
  CILIUM_DAEMONSET,
  CILIUM_NAMESPACE,
  helmGetValuesArgv,
  kubectlArgv,
  TIMEOUTS,
} from './plan.ts';
import { realWaitDeps, type WaitDeps, waitUntil } from './readiness.ts';
import { flattenValues } from './values.ts';
import { parseCiliumVersion, type SemVer } from './versions.ts';
import {
  clientPod,
  DEFAULT_ECHO_PORT,
  echoDeployments,
  namespaceLabels,
  PROBE_NAME,
  probeDaemonSet,
  runNamespace,
  serviceManifest,
} from './workloads.ts';

/** Tools that never come from a node or workload image: they run in the probe pod. */
export const PROBE_TOOLS: ReadonlySet<string> = new Set(['tcpdump']);

export type IptablesMode = 'legacy' | 'nft';

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
}

export function newRunId(): string {
  return randomBytes(3).toString('hex');
}

/** `kind-cilium-kubeproxy-worker2` → "worker2"; other clusters: control-plane, worker, worker2… by name order. */
export function assignRoles(nodes: ReadonlyArray<k8s.V1Node>, cluster: string): Map<string, string> {
  const roles = new Map<string, string>();
  const names = nodes.map((n) => n.metadata?.name ?? '').sort();
  const isCp = (n: k8s.V1Node) =>
    Object.hasOwn(n.metadata?.labels ?? {}, 'node-role.kubernetes.io/control-plane') ||
    Object.hasOwn(n.metadata?.labels ?? {}, 'node-role.kubernetes.io/master');
  if (names.every((n) => n.startsWith(`${cluster}-`))) {
    for (const n of names) roles.set(n, n.slice(cluster.length + 1));
    return roles;
  }
  let cp = 0;
  let w = 0;
  for (const name of names) {
    const node = nodes.find((n) => n.metadata?.name === name)!;
    if (isCp(node)) roles.set(name, ++cp === 1 ? 'control-plane' : `control-plane${cp}`);
    else roles.set(name, ++w === 1 ? 'worker' : `worker${w}`);
  }
  return roles;
}

/** The version in a Cilium image reference: quay.io/cilium/cilium:v1.17.15@sha256:… → "1.17.15". */
export function imageVersion(image: string | undefined): string | undefined {
  const m = /:v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)(?:@|$)/.exec(image ?? '');
  return m?.[1];
}

/**
 * How kube-proxy's iptables wrapper picks a variant: a kubelet/kube-proxy hint chain in the nft
 * mangle table → nft; in the legacy mangle table → legacy; otherwise whichever has more rules.
 */
export function chooseIptablesMode(o: {
  nftMangle: string | null;
  legacyMangle: string | null;
  nftAll?: string | null;
  legacyAll?: string | null;
}): { mode: IptablesMode; why: string } | null {
  const hint = /^(?::|-N )(KUBE-IPTABLES-HINT|KUBE-KUBELET-CANARY)\b/m;
  if (o.nftMangle && hint.test(o.nftMangle)) return { mode: 'nft', why: 'kubelet hint chain in the nft mangle table' };
  if (o.legacyMangle && hint.test(o.legacyMangle))
    return { mode: 'legacy', why: 'kubelet hint chain in the legacy mangle table' };
  if (o.nftAll === undefined && o.legacyAll === undefined) return null;
  const rules = (t: string | null | undefined) =>
    t ? t.split('\n').filter((l) => /^(\[\d+:\d+\] )?-A /.test(l)).length : 0;
  const n = rules(o.nftAll);
  const l = rules(o.legacyAll);
  return l > n
    ? { mode: 'legacy', why: `more rules in legacy (${l}) than nft (${n})` }
    : { mode: 'nft', why: `rules: nft ${n}, legacy ${l}` };
}

/** id, interface-name, mac, host-mac of each endpoint in `endpoint list -o json` (unknown shapes give []). */
export function parseEndpointNetworking(
  json: string,
): Array<{ id: number; interfaceName?: string; mac?: string; hostMac?: string }> {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(doc)) return [];
  return doc.flatMap((e) => {
    const id = (e as { id?: unknown })?.id;
    const net = (e as { status?: { networking?: Record<string, unknown> } })?.status?.networking ?? {};
    if (typeof id !== 'number') return [];
    const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    return [{ id, interfaceName: str(net['interface-name']), mac: str(net.mac), hostMac: str(net['host-mac']) }];
  });
}

export class ClusterBackend implements Backend {
  readonly name: Exclude<BackendName, 'lab'>;
  protected readonly opts: ClusterBackendOptions;
  protected readonly exec_: Executor;
  protected readonly makeKube: (kubeconfig: string, context?: string) => KubeApi;
  protected readonly waitDeps: WaitDeps;
  protected readonly pollMs: number;
  protected readonly t: Record<keyof typeof TIMEOUTS, number>;
  readonly runId: string;
  readonly namespace: string;
  protected kube: KubeApi | undefined;
  protected lock: ClusterLock | undefined;
  protected readonly lockHolder: string | undefined;
  /** Cilium version in use (decides cilium vs cilium-dbg). */
  protected version: SemVer | undefined;
  private namespaceCreated = false;
  private probeReady: Promise<void> | undefined;
  private readonly agentPods = new Map<string, string>();
  private readonly probePods = new Map<string, string>();
  private readonly podPids = new Map<string, string>();
  private readonly iptablesModes = new Map<string, { mode: IptablesMode; why: string }>();
  private readonly echoPorts = new Map<string, number>();
  private readonly scratchReady = new Set<string>();
  private roles = new Map<string, string>();
  protected readonly involved = new Set<string>();
  /** Evidence collected when provisioning broke (also on the ProvisioningError). */
  readonly collected: Array<Evidence<string>> = [];

  constructor(opts: ClusterBackendOptions, deps: ClusterBackendDeps = {}) {
    this.name = opts.name;
    this.opts = opts;
    this.exec_ = deps.exec ?? defaultExecutor;
    this.makeKube = deps.kube ?? ((file, ctx) => KubeApi.fromFile(file, ctx));
    this.waitDeps = { ...realWaitDeps, ...deps.wait };
    this.pollMs = deps.pollMs ?? 2000;
    this.t = { ...TIMEOUTS, ...deps.timeouts };
    this.runId = deps.runId ?? newRunId();
    this.namespace = runNamespace(this.runId);
    this.lockHolder = deps.lockHolder;
  }

  describe(): string {
    return `${this.name} cluster "${this.opts.cluster}"${this.version ? ` + Cilium ${this.version.text}` : ''}`;
  }

  capabilities(): ReadonlySet<Capability> {
    return new Set<Capability>(['iptables-counters', 'capture', 'monitor', 'bpftool', 'status', 'helm-values']);
  }

  scratchDir(): string {
    return `/tmp/hookpoint-${this.runId}`;
  }

  provision(_spec: ClusterSpec): Promise<void> {
    return Promise.reject(new InfraError('internal: ClusterBackend.provision is implemented by kind/existing.'));
  }

  teardown(): Promise<void> {
    return this.releaseRunResources();
  }

  protected progress(line: string): void {
    this.waitDeps.progress(line);
  }

  protected api(): KubeApi {
    if (!this.kube) this.kube = this.makeKube(this.opts.kubeconfig, this.opts.context);
    return this.kube;
  }

  protected kubectl(...rest: string[]): string[] {
    return kubectlArgv(this.opts.kubeconfig, this.opts.context, ...rest);
  }

  protected async takeLock(): Promise<void> {
    if (this.lock?.isHeld()) return;
    this.lock ??= new ClusterLock(this.api(), this.opts.cluster, { holder: this.lockHolder });
    await this.lock.acquire();
    this.lock.startRenewing((err) => this.progress(`warning: ${(err as Error).message}`));
  }

  // --- readiness ---

  protected async waitForCilium(): Promise<void> {
    const api = this.api();
    await waitUntil(
      `Cilium DaemonSet ${CILIUM_NAMESPACE}/${CILIUM_DAEMONSET}`,
      async () => {
        const ds = await api.readDaemonSet(CILIUM_NAMESPACE, CILIUM_DAEMONSET);
        if (!ds) return { done: false, state: 'not created yet' };
        const st = ds.status;
        const desired = st?.desiredNumberScheduled ?? 0;
        const ready = st?.numberReady ?? 0;
        const updated = st?.updatedNumberScheduled ?? 0;
        const current = (st?.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 0);
        return {
          done: desired > 0 && ready === desired && updated === desired && current,
          state: `${ready}/${desired} agents ready, ${updated} updated`,
        };
      },
      {
        timeoutMs: this.t.ciliumReady,
        intervalMs: this.pollMs,
        deps: this.waitDeps,
        hint: 'The agent logs and pod descriptions are attached; `kubectl -n kube-system describe ds cilium` shows more.',
      },
    );
    await waitUntil(
      'nodes Ready',
      async () => {
        const nodes = await api.listNodes();
        const ready = nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return {
          done: nodes.length > 0 && ready.length === nodes.length,
          state: `${ready.length}/${nodes.length} nodes Ready`,
        };
      },
      { timeoutMs: this.t.nodesReady, intervalMs: this.pollMs, deps: this.waitDeps },
    );
  }

  /** `cilium-dbg status --brief` on every agent: exit 0 means the agent reports itself healthy. */
  protected async checkAgents(): Promise<void> {
    const nodes = await this.api().listNodes();
    for (const n of nodes) {
      const node = n.metadata!.name!;
      await this.exec({ kind: 'agent', node }, ['cilium', 'status', '--brief'], { timeoutMs: this.t.agentExec });
    }
  }

  /** Collect agent logs, events and pod descriptions; never throws. */
  async collectEvidence(nodes?: readonly string[]): Promise<Array<Evidence<string>>> {
    let agentPods: Array<{ node: string; pod: string }> = [];
    try {
      const pods = await this.api().listPods(CILIUM_NAMESPACE, { labelSelector: CILIUM_AGENT_SELECTOR });
      const want = nodes?.length ? new Set(nodes) : this.involved.size ? this.involved : undefined;
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
      namespace: this.namespaceCreated ? this.namespace : undefined,
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

  /** Installed Cilium: version from the agent DaemonSet image, values from the Helm release (if any). */
  protected async installedCilium(): Promise<{ version?: string; values?: Record<string, string> }> {
    const ds = await this.api().readDaemonSet(CILIUM_NAMESPACE, CILIUM_DAEMONSET);
    if (!ds) return {};
    const agent =
      ds.spec?.template.spec?.containers.find((c) => c.name === 'cilium-agent') ??
      ds.spec?.template.spec?.containers[0];
    const version = imageVersion(agent?.image);
    const res = await this.exec_.run(helmGetValuesArgv(this.opts.kubeconfig, this.opts.context), {
      timeoutMs: this.t.helmQuery,
      where: 'host',
      check: false,
    });
    let values: Record<string, string> | undefined;
    if (res.exitCode === 0) {
      try {
        values = flattenValues(JSON.parse(res.stdout || '{}'));
      } catch {
        values = undefined;
      }
    }
    return { version, values };
  }

  // --- run namespace, probe ---

  protected async ensureNamespace(): Promise<void> {
    if (this.namespaceCreated) return;
    await this.api().createNamespace(this.namespace, namespaceLabels(this.runId));
    this.namespaceCreated = true;
  }

  protected ensureProbe(): Promise<void> {
    this.probeReady ??= (async () => {
      await this.ensureNamespace();
      await this.api().createDaemonSet(this.namespace, probeDaemonSet(this.runId, this.scratchDir()));
      await waitUntil(
        `probe DaemonSet ${this.namespace}/${PROBE_NAME}`,
        async () => {
          const ds = await this.api().readDaemonSet(this.namespace, PROBE_NAME);
          const desired = ds?.status?.desiredNumberScheduled ?? 0;
          const ready = ds?.status?.numberReady ?? 0;
          return { done: desired > 0 && ready === desired, state: `${ready}/${desired} probe pods ready` };
        },
        { timeoutMs: this.t.workloadReady, intervalMs: this.pollMs, deps: this.waitDeps },
      );
    })();
    this.probeReady.catch(() => {
      this.probeReady = undefined;
    });
    return this.probeReady;
  }

  protected async probePod(node: string): Promise<string> {
    const hit = this.probePods.get(node);
    if (hit) return hit;
    await this.ensureProbe();
    const pods = await this.api().listPods(this.namespace, {
      labelSelector: `app=${PROBE_NAME}`,
      fieldSelector: `spec.nodeName=${node}`,
    });
    const pod = pods.find((p) => p.status?.phase === 'Running')?.metadata?.name;
    if (!pod) throw new InfraError(`No running probe pod on node ${node} (DaemonSet ${this.namespace}/${PROBE_NAME}).`);
    this.probePods.set(node, pod);
    return pod;
  }

  protected async agentPod(node: string): Promise<string> {
    const hit = this.agentPods.get(node);
    if (hit) return hit;
    const pods = await this.api().listPods(CILIUM_NAMESPACE, {
      labelSelector: CILIUM_AGENT_SELECTOR,
      fieldSelector: `spec.nodeName=${node}`,
    });
    const pod = pods.find((p) => p.status?.phase === 'Running')?.metadata?.name ?? pods[0]?.metadata?.name;
    if (!pod)
      throw new InfraError(
        `No Cilium agent pod on node ${node} (pods ${CILIUM_NAMESPACE} -l ${CILIUM_AGENT_SELECTOR}).`,
        {
          hint: 'Is the node name right, and is Cilium installed? `hookpoint doctor` checks.',
        },
      );
    this.agentPods.set(node, pod);
    return pod;
  }

  /** Full node name for a full name or a role ("worker2"). */
  protected async nodeName(nameOrRole: string): Promise<string> {
    if (this.roles.size === 0) await this.topologyNodes();
    if (this.roles.has(nameOrRole)) return nameOrRole;
    for (const [name, role] of this.roles) if (role === nameOrRole) return name;
    return nameOrRole;
  }

  /** The host PID of a pod's first container, found from the probe pod (hostPID) by its container id. */
  protected async podPid(namespace: string, pod: string, node: string): Promise<string> {
    const key = `${namespace}/${pod}`;
    const hit = this.podPids.get(key);
    if (hit) return hit;
    const p = await this.api().readPod(namespace, pod);
    const id = p?.status?.containerStatuses?.[0]?.containerID?.replace(/^[a-z]+:\/\//, '');
    if (!id) throw new InfraError(`Pod ${key} has no running container yet (no containerID).`);
    const probe = await this.probePod(node);
    // A fixed script; the container id is passed as $1, never spliced into the text.
    const script =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
      'for p in /proc/[0-9]*; do if grep -qs "$1" "$p/cgroup"; then echo "${p#/proc/}"; exit 0; fi; done; exit 1';
    const res = await this.exec_.run(
      this.kubectl('--namespace', this.namespace, 'exec', probe, '--', 'sh', '-c', script, 'sh', id),
      { timeoutMs: this.t.nodeExec, where: `probe on node ${node}`, check: false },
    );
    const pid = res.stdout.trim().split('\n')[0] ?? '';
    if (res.exitCode !== 0 || !/^\d+$/.test(pid))
      throw new InfraError(`Could not find the process of pod ${key} on node ${node} (container ${id.slice(0, 12)}).`);
    this.podPids.set(key, pid);
    return pid;
  }

  // --- iptables variant ---

  /** The iptables variant kube-proxy uses on a node (detected once per node, or forced by config). */
  async iptablesMode(nodeOrRole: string): Promise<{ mode: IptablesMode; why: string }> {
    if (this.opts.iptables) return { mode: this.opts.iptables, why: 'forced by --iptables' };
    const node = await this.nodeName(nodeOrRole);
    const hit = this.iptablesModes.get(node);
    if (hit) return hit;
    const save = async (argv: string[]) => {
      const r = await this.exec({ kind: 'node', node }, argv, { check: false, quietStdout: true });
      return r.exitCode === 0 ? r.stdout : null;
    };
    let pick = chooseIptablesMode({
      nftMangle: await save(['iptables-nft-save', '-t', 'mangle']),
      legacyMangle: await save(['iptables-legacy-save', '-t', 'mangle']),
    });
    pick ??= chooseIptablesMode({
      nftMangle: null,
      legacyMangle: null,
      nftAll: await save(['iptables-nft-save']),
      legacyAll: await save(['iptables-legacy-save']),
    })!;
    this.iptablesModes.set(node, pick);
    return pick;
  }

  // --- commands ---

  /** argv to run on a node, and where it runs (resolving the probe pod when needed). */
  protected async nodeArgv(node: string, argv: readonly string[], input: boolean): Promise<string[]> {
    if (PROBE_TOOLS.has(argv[0]!)) {
      const probe = await this.probePod(node);
      return this.kubectl(
        '--namespace',
        this.namespace,
        'exec',
        probe,
        '--',
        'nsenter',
        '-t',
        '1',
        '-n',
        '--',
        ...argv,
      );
    }
    if (this.opts.nodeAccess === 'docker') {
      if (!this.scratchReady.has(node)) {
        this.scratchReady.add(node);
        await this.exec_.run(['docker', 'exec', node, 'mkdir', '-p', this.scratchDir()], {
          timeoutMs: this.t.nodeExec,
          where: `node ${node}`,
          check: false,
        });
      }
      return ['docker', 'exec', ...(input ? ['-i'] : []), node, ...argv];
    }
    const probe = await this.probePod(node);
    return this.kubectl(
      '--namespace',
      this.namespace,
      'exec',
      ...(input ? ['-i'] : []),
      probe,
      '--',
      'nsenter',
      '-t',
      '1',
      '-m',
      '-u',
      '-i',
      '-n',
      '-p',
      '--',
      ...argv,
    );
  }

  protected async resolve(
    target: ExecTarget,
    argv: readonly string[],
    input = false,
  ): Promise<{ argv: string[]; where: string }> {
    switch (target.kind) {
      case 'host':
        return { argv: [...argv], where: 'host' };
      case 'node': {
        const node = await this.nodeName(target.node);
        this.involved.add(node);
        return { argv: await this.nodeArgv(node, argv, input), where: `node ${node}` };
      }
      case 'agent': {
        const node = await this.nodeName(target.node);
        this.involved.add(node);
        const pod = await this.agentPod(node);
        if (!this.version) throw new InfraError('internal: agent command before the Cilium version is known.');
        return {
          argv: agentExecArgv({
            kubeconfig: this.opts.kubeconfig,
            context: this.opts.context,
            pod,
            version: this.version,
            argv,
          }),
          where: `agent on node ${node}`,
        };
      }
      case 'pod': {
        const ns = target.namespace ?? this.namespace;
        if (PROBE_TOOLS.has(argv[0]!)) {
          const p = await this.api().readPod(ns, target.pod);
          const node = p?.spec?.nodeName;
          if (!node) throw new InfraError(`Pod ${ns}/${target.pod} is not scheduled on a node.`);
          this.involved.add(node);
          const pid = await this.podPid(ns, target.pod, node);
          const probe = await this.probePod(node);
          return {
            argv: this.kubectl(
              '--namespace',
              this.namespace,
              'exec',
              probe,
              '--',
              'nsenter',
              '-t',
              pid,
              '-n',
              '--',
              ...argv,
            ),
            where: `pod ${target.pod} (netns via probe on ${node})`,
          };
        }
        return {
          argv: this.kubectl('--namespace', ns, 'exec', ...(input ? ['-i'] : []), target.pod, '--', ...argv),
          where: `pod ${target.pod}`,
        };
      }
    }
  }

  async exec(target: ExecTarget, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    const r = await this.resolve(target, argv, opts.input !== undefined);
    return this.exec_.run(r.argv, {
      timeoutMs: opts.timeoutMs ?? (target.kind === 'agent' ? this.t.agentExec : this.t.nodeExec),
      where: r.where,
      check: opts.check,
      input: opts.input,
      quietStdout: opts.quietStdout,
    });
  }

  spawn(target: ExecTarget, argv: readonly string[], opts: { maxMs?: number } = {}): BackgroundProcess {
    const maxMs = opts.maxMs ?? 600_000;
    return deferredProcess(
      this.resolve(target, argv).then((r) => this.exec_.spawn(r.argv, { maxMs, where: r.where })),
      `${argv.join(' ')} on ${target.kind}`,
    );
  }

  /** A file a probe wrote on a node (pcap), as bytes (base64 through the probe pod). */
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

  async readNodeFile(nodeOrRole: string, file: string): Promise<Buffer> {
    const node = await this.nodeName(nodeOrRole);
    const probe = await this.probePod(node);
    const res = await this.exec_.run(
      this.kubectl('--namespace', this.namespace, 'exec', probe, '--', 'base64', '-w0', file),
      {
        timeoutMs: this.t.nodeExec,
        where: `probe on node ${node}`,
        quietStdout: true,
      },
    );
    return Buffer.from(res.stdout.trim(), 'base64');
  }

  // --- topology and workloads ---

  private async topologyNodes(): Promise<NodeInfo[]> {
    const nodes = await this.api().listNodes();
    this.roles = assignRoles(nodes, this.opts.cluster);
    return nodes.map((n) => {
      const name = n.metadata!.name!;
      return {
        name,
        role: this.roles.get(name) ?? name,
        ip: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
        podCIDR: n.spec?.podCIDR ?? '',
      };
    });
  }

  private async serviceInfo(svc: k8s.V1Service): Promise<ServiceInfo> {
    const name = svc.metadata!.name!;
    const port = svc.spec?.ports?.[0];
    const slices = await this.api().listEndpointSlices(this.namespace, name);
    const backends = slices.flatMap((s) =>
      (s.endpoints ?? [])
        .filter((e) => e.conditions?.ready !== false)
        .map((e) => ({
          pod: e.targetRef?.name ?? '',
          ip: e.addresses[0] ?? '',
          port: s.ports?.[0]?.port ?? Number(port?.targetPort ?? 0),
          node: e.nodeName ?? '',
        })),
    );
    return {
      name,
      namespace: this.namespace,
      clusterIP: svc.spec?.clusterIP ?? '',
      port: port?.port ?? 0,
      targetPort: Number(port?.targetPort ?? port?.port ?? 0),
      portName: port?.name ?? '',
      nodePort: port?.nodePort ?? null,
      protocol: (port?.protocol as 'TCP' | 'UDP') ?? 'TCP',
      backends,
    };
  }

  async topology(): Promise<Topology> {
    const nodes = await this.topologyNodes();
    const pods: PodInfo[] = [];
    const services: ServiceInfo[] = [];
    if (this.namespaceCreated) {
      for (const p of await this.api().listPods(this.namespace)) {
        if (p.metadata?.labels?.app === PROBE_NAME) continue;
        const name = p.metadata!.name!;
        pods.push({
          name,
          namespace: this.namespace,
          node: p.spec?.nodeName ?? '',
          ip: p.status?.podIP ?? '',
          app: p.metadata?.labels?.app,
          endpointId: await this.api().ciliumEndpointId(this.namespace, name),
        });
      }
      await this.addEndpointDetails(pods);
      for (const s of await this.api().listServices(this.namespace)) services.push(await this.serviceInfo(s));
    }
    return { cluster: this.opts.cluster, nodes, pods, services };
  }

  /**
   * Host-side veth and MACs from the agent's endpoint list (`cilium-dbg endpoint list -o json`,
   * status.networking), one call per node; best effort — a pod without them keeps what it has.
   */
  private async addEndpointDetails(pods: PodInfo[]): Promise<void> {
    const byNode = new Map<string, PodInfo[]>();
    for (const p of pods)
      if (p.node && p.endpointId !== undefined) byNode.set(p.node, [...(byNode.get(p.node) ?? []), p]);
    for (const [node, list] of byNode) {
      const res = await this.exec({ kind: 'agent', node }, ['cilium', 'endpoint', 'list', '-o', 'json'], {
        check: false,
        quietStdout: true,
      }).catch(() => undefined);
      if (res?.exitCode !== 0) continue;
      for (const d of parseEndpointNetworking(res.stdout)) {
        const p = list.find((x) => x.endpointId === d.id);
        if (!p) continue;
        p.hostVeth = d.interfaceName ?? p.hostVeth;
        p.mac = d.mac ?? p.mac;
        p.hostVethMac = d.hostMac ?? p.hostVethMac;
      }
    }
  }

  private async waitPodsReady(what: string, labelSelector: string, count: number): Promise<void> {
    await waitUntil(
      what,
      async () => {
        const pods = await this.api().listPods(this.namespace, { labelSelector });
        const ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return { done: ready.length >= count, state: `${ready.length}/${count} pods ready` };
      },
      { timeoutMs: this.t.workloadReady, intervalMs: this.pollMs, deps: this.waitDeps },
    );
  }

  async deployEcho(spec: EchoSpec): Promise<void> {
    await this.ensureNamespace();
    const nodes = await Promise.all(spec.nodes.map((n) => this.nodeName(n)));
    for (const d of echoDeployments({ ...spec, nodes }, this.opts.cluster, this.runId))
      await this.api().createDeployment(this.namespace, d);
    this.echoPorts.set(spec.name, spec.port ?? DEFAULT_ECHO_PORT);
    for (const n of nodes) this.involved.add(n);
    await this.waitPodsReady(`echo deployment "${spec.name}"`, `app=${spec.name}`, nodes.length);
  }

  async exposeService(spec: ServiceSpec): Promise<ServiceInfo> {
    await this.ensureNamespace();
    const onlyNodes = spec.onlyNodes ? await Promise.all(spec.onlyNodes.map((n) => this.nodeName(n))) : undefined;
    const manifest = serviceManifest({ ...spec, onlyNodes }, this.echoPorts.get(spec.app) ?? DEFAULT_ECHO_PORT);
    await this.api().createService(this.namespace, manifest);
    const pods = await this.api().listPods(this.namespace, {
      labelSelector: Object.entries(manifest.spec!.selector!)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    });
    let info: ServiceInfo | undefined;
    await waitUntil(
      `endpoints of service "${spec.name}"`,
      async () => {
        const svc = await this.api().readService(this.namespace, spec.name);
        if (!svc) return { done: false, state: 'service not found' };
        info = await this.serviceInfo(svc);
        return {
          done: info.backends.length >= pods.length && pods.length > 0,
          state: `${info.backends.length}/${pods.length} ready endpoints`,
        };
      },
      { timeoutMs: this.t.workloadReady, intervalMs: this.pollMs, deps: this.waitDeps },
    );
    return info!;
  }

  async runClient(spec: ClientSpec): Promise<PodInfo> {
    await this.ensureNamespace();
    const node = await this.nodeName(spec.node);
    await this.api().createPod(this.namespace, clientPod({ ...spec, node }, this.runId));
    this.involved.add(node);
    await waitUntil(
      `client pod "${spec.name}"`,
      async () => {
        const p = await this.api().readPod(this.namespace, spec.name);
        const ready = p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
        return { done: ready, state: p?.status?.phase ?? 'not created' };
      },
      { timeoutMs: this.t.workloadReady, intervalMs: this.pollMs, deps: this.waitDeps },
    );
    const p = (await this.api().readPod(this.namespace, spec.name))!;
    return {
      name: spec.name,
      namespace: this.namespace,
      node,
      ip: p.status?.podIP ?? '',
      endpointId: await this.api().ciliumEndpointId(this.namespace, spec.name),
    };
  }

  async removeWorkload(kind: 'echo' | 'service' | 'client', name: string): Promise<void> {
    if (!this.namespaceCreated) return;
    if (kind === 'service') return this.api().deleteService(this.namespace, name);
    if (kind === 'client') {
      this.podPids.delete(`${this.namespace}/${name}`);
      return this.api().deletePod(this.namespace, name);
    }
    for (const d of await this.api().listDeployments(this.namespace, `app=${name}`))
      await this.api().deleteDeployment(this.namespace, d.metadata!.name!);
    this.echoPorts.delete(name);
  }

  /** Delete the run namespace (workloads, probe), the node scratch dirs, and release the lock. Idempotent. */
  protected async releaseRunResources(): Promise<void> {
    const errors: string[] = [];
    if (this.namespaceCreated) {
      for (const node of this.scratchReady) {
        await this.exec_
          .run(['docker', 'exec', node, 'rm', '-rf', this.scratchDir()], {
            timeoutMs: this.t.nodeExec,
            where: `node ${node}`,
            check: false,
          })
          .catch((e: Error) => errors.push(e.message));
      }
      if (this.opts.nodeAccess === 'probe' && this.probeReady) {
        for (const [node, pod] of this.probePods) {
          await this.exec_
            .run(this.kubectl('--namespace', this.namespace, 'exec', pod, '--', 'rm', '-rf', this.scratchDir()), {
              timeoutMs: this.t.nodeExec,
              where: `probe on node ${node}`,
              check: false,
            })
            .catch((e: Error) => errors.push(e.message));
        }
      }
      await this.api()
        .deleteNamespace(this.namespace)
        .then(() => {
          this.namespaceCreated = false;
        })
        .catch((e: Error) => errors.push(e.message));
    }
    this.probeReady = undefined;
    this.probePods.clear();
    this.podPids.clear();
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

export { CILIUM_AGENT_SELECTOR, CILIUM_NAMESPACE };
