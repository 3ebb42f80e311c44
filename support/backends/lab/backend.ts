/**
 * LabBackend: the Backend interface on the lab — a real-kernel reproduction of the seed's Kind
 * cluster (Cilium, native routing, kubeProxyReplacement=false) built from network namespaces,
 * veth pairs, native routes, kube-proxy-style iptables and the lab's own eBPF program at tc.
 * It is a reproduction and says so: describe() never says "Cilium".
 *
 * State lives in `<stateRoot>/<cluster>/` (default /run/hookpoint/lab/<cluster>/): state.json
 * (the model: nodes, pods, services), ledger.jsonl (everything created), the lock, pid files,
 * the plans every `ip -batch`/`iptables-restore` ran, and the nodes' private bpffs mounts.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InfraError, UsageError } from '../../errors.ts';
import { type BackgroundProcess, cancelled, type RunResult, run, spawnBackground } from '../../exec/index.ts';
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
import { compileLabProgram, type NodeDatapath } from './datapath/index.ts';
import { requireHostPrerequisites } from './host-prerequisites.ts';
import type { IptablesMode } from './kube-proxy.ts';
import { NETNS_DIR, processStart, RunDir, teardownLedger } from './ledger.ts';
import { networkNetns, nodeNetns, podNetns, podSuffix, validateName } from './names.ts';
import { clusterNamespacesPlan, ipBatch, nativeRouteLines, networkPlan, nodePlan } from './netns.ts';
import { createPods, describePod, echoPidFile, echoRunning, type LabPod, removePods, startEcho } from './pod-netns.ts';
import { LabServices, type ServiceStatus } from './services.ts';
import { LabSession, type LabState, stateRootDefault } from './state.ts';
import { type LabNodePlan, planFromKindConfig } from './topology.ts';
import { parseVariants, variantsFromValues } from './variants.ts';

export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
const JANITOR = path.join(import.meta.dirname, 'janitor.ts');
const HOOKPOINT_BIN = path.join(REPO_ROOT, 'bin', 'hookpoint.js');

export interface LabBackendOptions {
  /** Lab (cluster) name; default: the kind config's `name`, else `cilium-kubeproxy`. */
  cluster?: string;
  /** Where run directories live (default /run/hookpoint/lab, or $HOOKPOINT_LAB_STATE). */
  stateRoot?: string;
  /** iptables backend kube-proxy's rules are loaded with (default nft). */
  iptables?: IptablesMode;
  /** Datapath mutations: a list or a comma-separated string of no-tc, no-native-route, no-local-redirect. */
  variants?: readonly string[] | string;
  /** Keep the lab after teardown() and after this process ends (what `hookpoint lab up` does). */
  keep?: boolean;
  /** Keep it only if the run fails (`--keep on-failure`; see noteFailure()). */
  keepOnFailure?: boolean;
}

export class LabBackend implements Backend {
  readonly name = 'lab' as const;
  private readonly opts: LabBackendOptions;
  private readonly lab: LabSession;
  private readonly services: LabServices;

  constructor(opts: LabBackendOptions = {}) {
    this.opts = opts;
    this.lab = new LabSession(opts.stateRoot);
    this.services = new LabServices(this.lab);
    parseVariants(opts.variants);
  }

  describe(): string {
    return 'lab (kernel reproduction)';
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
    const state = this.lab.attach(cluster);
    this.lab.datapaths.reset(state, this.lab.rd);
    return state;
  }

  async provision(spec: ClusterSpec): Promise<void> {
    const kindConfig = path.resolve(spec.kindConfig);
    if (!existsSync(kindConfig))
      throw new UsageError(`The kind config "${spec.kindConfig}" does not exist (looked at ${kindConfig}).`);
    const plan = planFromKindConfig(readFileSync(kindConfig, 'utf8'), {
      cluster: this.opts.cluster,
      source: spec.kindConfig,
    });
    const variants = parseVariants([...parseVariants(this.opts.variants), ...variantsFromValues(spec.ciliumValues)]);
    const iptables: IptablesMode = this.opts.iptables ?? 'nft';
    if (iptables !== 'nft' && iptables !== 'legacy')
      throw new UsageError(`Unknown iptables backend "${String(iptables)}".`, 'Valid choices: nft, legacy.');
    const tc = !variants.includes('no-tc');
    requireHostPrerequisites({ iptables, datapath: tc });

    const rd = new RunDir(this.lab.stateRoot, plan.cluster);
    await rd.acquireLock(`provision (pid ${process.pid})`);
    this.lab.rd = rd;
    const fingerprint = JSON.stringify({ plan, iptables, variants });
    const existing = rd.readState<LabState>();
    if (existing && existing.phase === 'ready' && existing.fingerprint === fingerprint && this.intact(existing)) {
      this.lab.state = existing;
      this.lab.datapaths.reset(existing, rd);
      this.lab.created = false;
      // Reuse: a kept lab outlives its echo servers if someone killed them; start the missing ones.
      await Promise.all(
        existing.pods
          .filter((p) => p.kind === 'echo' && !echoRunning(rd, p.name))
          .map((p) => startEcho(rd, existing.cluster, p)),
      );
      return;
    }
    if (existing?.keep && existing.phase === 'ready' && existing.fingerprint !== fingerprint) {
      rd.releaseLock();
      throw new UsageError(
        `Lab "${plan.cluster}" was kept (hookpoint lab up or --keep) with another configuration (variants, iptables backend or kind config), so it is not replaced.`,
        `Use another --cluster name, or remove it first with \`hookpoint lab down --cluster ${plan.cluster}\`.`,
      );
    }
    if (existing || rd.entries().length > 0) {
      // A different or broken lab of our own under this name: rebuild it from scratch.
      await teardownLedger(rd, { where: `host (replacing lab ${plan.cluster})` });
      await rd.acquireLock(`provision (pid ${process.pid})`);
    }
    const state: LabState = {
      version: 1,
      cluster: plan.cluster,
      kindConfig,
      fingerprint,
      plan,
      iptables,
      variants,
      keep: this.opts.keep ?? false,
      phase: 'provisioning',
      owner: { pid: process.pid, start: processStart(process.pid) ?? '' },
      createdAt: new Date().toISOString(),
      datapath: null,
      deployments: [],
      pods: [],
      services: [],
      proxyRules: null,
    };
    this.lab.state = state;
    this.lab.created = true;
    this.lab.save();
    try {
      await this.build(state, tc);
    } catch (err) {
      await this.rollback();
      if (cancelled())
        throw new InfraError(`Provisioning of lab ${plan.cluster} was interrupted; what it created is being removed.`, {
          cause: err,
          hint: `If anything is left, \`hookpoint lab down --cluster ${plan.cluster}\` removes it.`,
        });
      throw err;
    }
  }

  private async build(state: LabState, tc: boolean): Promise<void> {
    const rd = this.lab.runDir;
    const plan = state.plan;
    // The janitor must be running before anything is created: a signal that cancels its launch
    // would otherwise leave namespaces nobody removes.
    const compiled = tc ? compileLabProgram({ stateDir: path.join(this.lab.stateRoot, '.cache') }) : undefined;
    compiled?.catch(() => {});
    await this.startJanitor();
    const ns = clusterNamespacesPlan(plan);
    for (const name of ns.namespaces) rd.record({ kind: 'netns', name });
    this.checkCancelled();
    await ipBatch(rd, 'cluster', ns.lines);
    this.checkCancelled();
    const nativeRoutes = !state.variants.includes('no-native-route');
    await Promise.all([
      ipBatch(rd, 'network', networkPlan(plan), { netns: networkNetns(plan.cluster), where: 'kind network' }),
      ...plan.nodes.map((n) =>
        ipBatch(rd, `node-${n.role}`, nodePlan(plan, n, { nativeRoutes }), {
          netns: nodeNetns(plan.cluster, n.name),
          where: `node ${n.name}`,
        }),
      ),
    ]);
    this.checkCancelled();
    await this.services.sync();
    if (compiled) {
      const obj = await compiled;
      state.datapath = { objectPath: obj.objectPath, hash: obj.hash };
      this.lab.datapaths.reset(state, rd);
      for (const dp of this.lab.datapaths.all()) rd.record({ kind: 'mount', path: dp.bpffs });
      this.checkCancelled();
      // load() writes the flags, local redirect off under variant no-local-redirect (NodeDatapaths.reset).
      await Promise.all(this.lab.datapaths.all().map((dp) => dp.load()));
    }
    this.checkCancelled();
    state.phase = 'ready';
    this.lab.save();
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

  private intact(state: LabState): boolean {
    const names = [
      networkNetns(state.cluster),
      ...state.plan.nodes.map((n) => nodeNetns(state.cluster, n.name)),
      ...state.pods.map((p) => podNetns(state.cluster, p.name)),
    ];
    return names.every((n) => existsSync(path.join(NETNS_DIR, n)));
  }

  private checkCancelled(): void {
    if (cancelled()) throw new InfraError(`Provisioning of lab ${this.lab.state?.cluster} was interrupted.`);
  }

  /**
   * Start the janitor (janitor.ts) that removes the lab if this process goes away before the
   * lab is ready — or at all, unless it is kept.
   */
  private async startJanitor(): Promise<void> {
    const rd = this.lab.runDir;
    const res = await run(
      [
        'setsid',
        '-f',
        process.execPath,
        JANITOR,
        '--root',
        this.lab.stateRoot,
        '--cluster',
        rd.cluster,
        '--owner',
        String(process.pid),
        '--owner-start',
        processStart(process.pid) ?? '',
      ],
      { timeoutMs: 15_000, where: 'host', check: false },
    );
    if (!/janitor pid=\d+/.test(res.stdout))
      throw new InfraError(`The lab's janitor did not start: ${(res.stderr || res.stdout).trim() || res.exitCode}.`);
  }

  /** Best-effort removal after a failed or interrupted provision; the janitor finishes it if we cannot. */
  private async rollback(): Promise<void> {
    if (!this.lab.rd) return;
    try {
      await teardownLedger(this.lab.rd, { where: 'host (rollback)' });
      this.lab.state = undefined;
    } catch {
      // After SIGINT the command runner refuses new commands: the janitor removes the rest once we exit.
    }
    this.lab.rd.releaseLock();
  }

  async teardown(): Promise<void> {
    if (!this.lab.rd || !this.lab.state) return;
    const rd = this.lab.rd;
    if (this.lab.created && !this.lab.state.keep) {
      // Ours: remove everything the ledger lists.
      await teardownLedger(rd);
    } else if (this.lab.created) {
      // Ours but kept (--keep always): leave it as it is for inspection, for `hookpoint lab down`.
      rd.releaseLock();
    } else {
      // A kept lab we reused: hand it back as we found it, without our workloads.
      for (const w of [...this.lab.added].reverse()) await this.removeWorkload(w.kind, w.name);
      rd.releaseLock();
    }
    this.lab.added = [];
    this.lab.state = undefined;
    this.lab.datapaths.clear();
  }

  /** The run failed: with keepOnFailure the lab is marked kept now, so neither teardown nor the janitor removes it. */
  noteFailure(): void {
    if (this.opts.keepOnFailure && this.lab.created && this.lab.state && !this.lab.state.keep) {
      this.lab.state.keep = true;
      this.lab.save();
    }
  }

  /**
   * Keep the lab after this process ends and release the lock (what `lab up` does once all its
   * steps succeeded; until then an interrupted `lab up` is rolled back by the janitor).
   */
  keepAndRelease(): void {
    if (this.lab.state && !this.lab.state.keep) {
      this.lab.state.keep = true;
      this.lab.save();
    }
    this.lab.rd?.releaseLock();
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
      pods: s.pods.map((p) => this.podInfo(p)),
      services: s.services.map((svc) => this.services.info(svc)),
    };
  }

  private podInfo(p: LabPod): PodInfo {
    return {
      name: p.name,
      namespace: p.namespace,
      node: p.node,
      ip: p.ip,
      mac: p.mac,
      hostVeth: p.hostVeth,
      hostVethMac: p.hostVethMac,
      endpointId: p.endpointId,
      app: p.app,
    };
  }

  /** Services as `lab status --json` shows them: backends as "ip:port". */
  statusServices(): ServiceStatus[] {
    return this.services.statusServices();
  }

  // -------------------------------------------------------------------------------------------
  // Workloads

  async deployEcho(spec: EchoSpec): Promise<void> {
    const s = this.lab.labState;
    const name = validateName('deployment', spec.name);
    const port = spec.port ?? 80;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`Echo port ${port} is not a port.`);
    if (spec.nodes.length === 0) throw new UsageError(`The echo deployment "${name}" needs at least one node.`);
    const nodes = [...new Set(spec.nodes.map((n) => this.lab.node(n).name))];
    const existing = s.deployments.find((d) => d.name === name);
    if (existing) {
      if (existing.port === port && existing.nodes.join() === nodes.join()) return;
      throw new UsageError(
        `The echo deployment "${name}" already exists on ${existing.nodes.join(', ')} (port ${existing.port}).`,
        'Remove it first or use another name.',
      );
    }
    const template = podSuffix(`${s.cluster}/deploy/${name}`, 10);
    const pods = this.allocatePods(
      nodes.map((node) => ({
        name: `${name}-${template}-${podSuffix(`${s.cluster}/deploy/${name}/${node}`, 5)}`,
        node,
      })),
      'echo',
      { app: name, port },
    );
    s.deployments.push({ name, nodes, port });
    await this.addPods(pods);
    this.lab.noteAdded('echo', name);
    await this.services.podsChanged(name);
  }

  async runClient(spec: ClientSpec): Promise<PodInfo> {
    const name = validateName('pod', spec.name);
    const node = this.lab.node(spec.node).name;
    const existing = this.lab.labState.pods.find((p) => p.name === name);
    if (existing) {
      if (existing.kind === 'client' && existing.node === node) return this.podInfo(existing);
      throw new UsageError(`A pod named "${name}" already exists in lab "${this.lab.labState.cluster}".`);
    }
    const [pod] = this.allocatePods([{ name, node }], 'client', {});
    await this.addPods([pod!]);
    this.lab.noteAdded('client', name);
    return this.podInfo(pod!);
  }

  private allocatePods(
    wanted: Array<{ name: string; node: string }>,
    kind: 'echo' | 'client',
    extra: { app?: string; port?: number },
  ): LabPod[] {
    const s = this.lab.labState;
    const ips = new Set(s.pods.map((p) => p.ip));
    const ids = new Set(s.pods.map((p) => p.endpointId));
    const out: LabPod[] = [];
    for (const w of wanted) {
      validateName('pod', w.name);
      if (s.pods.some((p) => p.name === w.name))
        throw new UsageError(`A pod named "${w.name}" already exists in lab "${s.cluster}".`);
      const pod = describePod(s.cluster, this.lab.node(w.node), w.name, kind, { ips, ids }, extra);
      ips.add(pod.ip);
      ids.add(pod.endpointId);
      out.push(pod);
    }
    return out;
  }

  /** Namespaces, veths, routes, echo servers, then the datapath (attach + endpoints) of their nodes. */
  private async addPods(pods: LabPod[]): Promise<void> {
    const s = this.lab.labState;
    const rd = this.lab.runDir;
    for (const p of pods) {
      rd.record({ kind: 'netns', name: podNetns(s.cluster, p.name) });
      if (p.kind === 'echo') rd.record({ kind: 'pidfile', path: echoPidFile(rd, p.name) });
    }
    s.pods.push(...pods);
    this.lab.save();
    await createPods(rd, s.cluster, s.plan.nodes, pods);
    await Promise.all([
      ...pods.filter((p) => p.kind === 'echo').map((p) => startEcho(rd, s.cluster, p)),
      ...[...new Set(pods.map((p) => p.node))].map((node) => this.lab.datapaths.attachPods(node, pods, s.pods)),
    ]);
  }

  async exposeService(spec: ServiceSpec): Promise<ServiceInfo> {
    return this.services.expose(spec);
  }

  async removeWorkload(kind: 'echo' | 'service' | 'client', name: string): Promise<void> {
    const s = this.lab.labState;
    this.lab.forgetAdded(kind, name);
    if (kind === 'service') return this.services.remove(name);
    const pods =
      kind === 'echo'
        ? s.pods.filter((p) => p.kind === 'echo' && p.app === name)
        : s.pods.filter((p) => p.kind === 'client' && p.name === name);
    if (kind === 'echo') s.deployments = s.deployments.filter((d) => d.name !== name);
    if (pods.length === 0) {
      this.lab.save();
      return;
    }
    // Endpoints first (kube-proxy and the datapath stop sending to them), then the pods.
    s.pods = s.pods.filter((p) => !pods.includes(p));
    this.lab.save();
    if (kind === 'echo') await this.services.podsChanged(name);
    await removePods(
      this.lab.runDir,
      s.cluster,
      pods.map((p) => p.name),
    );
    await Promise.all([...new Set(pods.map((p) => p.node))].map((n) => this.lab.datapaths.syncEndpoints(n, s.pods)));
  }

  /** Remove (or restore) the native routes of every node at run time (self-verification). */
  async setNativeRoutes(on: boolean): Promise<void> {
    const s = this.lab.labState;
    await Promise.all(
      s.plan.nodes.map((n) =>
        ipBatch(
          this.lab.runDir,
          `native-routes-${on ? 'add' : 'del'}-${n.role}`,
          nativeRouteLines(s.plan, n).map((l) =>
            on ? l.replace(/^route add/, 'route replace') : l.replace(/^route add/, 'route del'),
          ),
          { netns: nodeNetns(s.cluster, n.name), where: `node ${n.name}`, force: true },
        ),
      ),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Commands on nodes, pods and the agent

  /** argv and transcript label for a target. */
  targetArgv(target: ExecTarget, argv: readonly string[]): { argv: string[]; where: string } {
    if (argv.length === 0) throw new UsageError('No command given to run.');
    switch (target.kind) {
      case 'host':
        return { argv: [...argv], where: 'host' };
      case 'node': {
        const n = this.lab.node(target.node);
        return {
          argv: ['ip', 'netns', 'exec', nodeNetns(this.lab.labState.cluster, n.name), ...argv],
          where: `node ${n.name}`,
        };
      }
      case 'pod': {
        const p = this.lab.pod(target.pod);
        return {
          argv: ['ip', 'netns', 'exec', podNetns(this.lab.labState.cluster, p.name), ...argv],
          where: `pod ${p.name}`,
        };
      }
      case 'agent': {
        const n = this.lab.node(target.node);
        const rest = /^cilium(-dbg)?$/.test(argv[0]!) ? argv.slice(1) : [...argv];
        return {
          argv: [
            process.execPath,
            HOOKPOINT_BIN,
            'lab',
            'agent',
            '--cluster',
            this.lab.labState.cluster,
            ...(this.lab.stateRoot !== path.resolve(stateRootDefault()) ? ['--state-root', this.lab.stateRoot] : []),
            n.role,
            '--',
            ...rest,
          ],
          where: `agent ${n.name} (lab reproduction)`,
        };
      }
    }
  }

  async exec(target: ExecTarget, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    const t = this.targetArgv(target, argv);
    return run(t.argv, {
      timeoutMs: opts.timeoutMs ?? 30_000,
      where: t.where,
      check: opts.check,
      input: opts.input,
      quietStdout: opts.quietStdout,
    });
  }

  spawn(target: ExecTarget, argv: readonly string[], opts: { maxMs?: number } = {}): BackgroundProcess {
    const t = this.targetArgv(target, argv);
    return spawnBackground(t.argv, { maxMs: opts.maxMs ?? 120_000, where: t.where });
  }
}
