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
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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
import { requiresTag } from '../types.ts';
import { compileLabProgram, type DatapathService, NodeDatapath } from './datapath/index.ts';
import { requireLabEnvironment } from './environment.ts';
import {
  applyProxyRules,
  type IptablesMode,
  type ProxyService,
  proxyRules,
  renderRestore,
  rulesFromJson,
  rulesToJson,
} from './kube-proxy.ts';
import { DEFAULT_STATE_ROOT, NETNS_DIR, processStart, RunDir, teardownLedger } from './ledger.ts';
import { networkNetns, nodeNetns, podNetns, podSuffix, stableNumber, validateName } from './names.ts';
import { clusterNamespacesPlan, ipBatch, nativeRouteLines, networkPlan, nodePlan } from './netns.ts';
import {
  cidrContains,
  findNode,
  intToIp,
  type LabNodePlan,
  type LabTopologyPlan,
  parseCidr,
  planFromKindConfig,
} from './topology.ts';
import { createPods, describePod, echoPidFile, echoRunning, type LabPod, removePods, startEcho } from './workloads.ts';

export const LAB_VARIANTS = ['no-tc', 'no-native-route', 'no-local-redirect'] as const;
export type LabVariant = (typeof LAB_VARIANTS)[number];

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

export interface LabService {
  name: string;
  namespace: string;
  app: string;
  port: number;
  targetPort: number;
  portName: string;
  protocol: 'TCP' | 'UDP';
  type: 'ClusterIP' | 'NodePort';
  clusterIP: string;
  nodePort: number | null;
  onlyNodes: string[] | null;
}

export interface LabState {
  version: 1;
  cluster: string;
  kindConfig: string;
  fingerprint: string;
  plan: LabTopologyPlan;
  iptables: IptablesMode;
  variants: LabVariant[];
  keep: boolean;
  phase: 'provisioning' | 'ready';
  owner: { pid: number; start: string };
  createdAt: string;
  /** Compiled datapath object, or null (variant no-tc). */
  datapath: { objectPath: string; hash: string } | null;
  deployments: Array<{ name: string; nodes: string[]; port: number }>;
  pods: LabPod[];
  services: LabService[];
  proxyRules: { nat: Record<string, string[]>; filter: Record<string, string[]> } | null;
}

export function parseVariants(input: readonly string[] | string | undefined): LabVariant[] {
  const list = (typeof input === 'string' ? input.split(',') : (input ?? [])).map((v) => v.trim()).filter(Boolean);
  for (const v of list)
    if (!(LAB_VARIANTS as readonly string[]).includes(v))
      throw new UsageError(
        `Unknown lab variant "${v}".`,
        `Valid variants: ${LAB_VARIANTS.join(', ')} (comma-separated).`,
      );
  return [...new Set(list as LabVariant[])].sort();
}

/** How a feature whose Cilium values the lab cannot reproduce still runs elsewhere and is skipped here. */
export const LAB_SKIP_HINT = `Run it with --backend kind, or tag its scenarios ${requiresTag('helm-values')} so the lab skips them (the lab lacks that capability).`;

/** Cilium values the lab reproduces, and what they change. */
function variantsFromValues(values: Record<string, string>): LabVariant[] {
  const v = (k: string) => values[k]?.toLowerCase();
  if (v('routingMode') === 'tunnel' || (v('tunnel') && v('tunnel') !== 'disabled'))
    throw new UsageError(
      'The lab reproduces native routing only (routingMode=native); this feature asks for tunnel mode.',
      LAB_SKIP_HINT,
    );
  const kpr = v('kubeProxyReplacement');
  if (kpr && kpr !== 'false' && kpr !== 'disabled')
    throw new UsageError(
      `The lab reproduces kubeProxyReplacement=false only; this feature asks for kubeProxyReplacement=${values.kubeProxyReplacement}.`,
      LAB_SKIP_HINT,
    );
  return v('autoDirectNodeRoutes') === 'false' ? ['no-native-route'] : [];
}

function stateRootDefault(): string {
  return process.env.HOOKPOINT_LAB_STATE || DEFAULT_STATE_ROOT;
}

export class LabBackend implements Backend {
  readonly name = 'lab' as const;
  private readonly opts: LabBackendOptions;
  private readonly stateRoot: string;
  private rd: RunDir | undefined;
  private state: LabState | undefined;
  private datapaths = new Map<string, NodeDatapath>();
  /** True when this instance created the lab (teardown removes it all unless kept). */
  private created = false;
  /** Workloads this instance added to a lab it reused (teardown removes just those). */
  private added: Array<{ kind: 'echo' | 'service' | 'client'; name: string }> = [];
  private planSeq = 0;

  constructor(opts: LabBackendOptions = {}) {
    this.opts = opts;
    this.stateRoot = path.resolve(opts.stateRoot ?? stateRootDefault());
    parseVariants(opts.variants);
  }

  describe(): string {
    return 'lab (kernel reproduction)';
  }

  capabilities(): ReadonlySet<Capability> {
    const caps: Capability[] = ['iptables-counters', 'capture', 'bpftool', 'status', 'variants', 'lifecycle'];
    const tc = this.state ? this.state.datapath !== null : !parseVariants(this.opts.variants).includes('no-tc');
    if (tc) caps.push('monitor');
    return new Set(caps);
  }

  /** The lab's model (after provision() or attach()). */
  get labState(): LabState {
    if (!this.state) throw new InfraError('internal: the lab backend was used before provision().');
    return this.state;
  }

  get runDir(): RunDir {
    if (!this.rd) throw new InfraError('internal: the lab backend was used before provision().');
    return this.rd;
  }

  scratchDir(): string {
    const dir = this.runDir.file('scratch');
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Attach to an existing lab (read-only use: status, exec, agent) without provisioning. */
  attach(cluster: string): LabState {
    const rd = new RunDir(this.stateRoot, cluster);
    const state = rd.readState<LabState>();
    if (!state)
      throw new UsageError(
        `There is no lab named "${cluster}" on this machine (no ${rd.stateFile}).`,
        'Create it with `hookpoint lab up` (or pass the right --cluster).',
      );
    this.rd = rd;
    this.state = state;
    this.datapaths = this.makeDatapaths(state);
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
    requireLabEnvironment({ iptables, datapath: tc });

    const rd = new RunDir(this.stateRoot, plan.cluster);
    await rd.acquireLock(`provision (pid ${process.pid})`);
    this.rd = rd;
    const fingerprint = JSON.stringify({ plan, iptables, variants });
    const existing = rd.readState<LabState>();
    if (existing && existing.phase === 'ready' && existing.fingerprint === fingerprint && this.intact(existing)) {
      this.state = existing;
      this.datapaths = this.makeDatapaths(existing);
      this.created = false;
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
    this.state = state;
    this.created = true;
    this.save();
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
    const rd = this.runDir;
    const plan = state.plan;
    // The janitor must be running before anything is created: a signal that cancels its launch
    // would otherwise leave namespaces nobody removes.
    const compiled = tc ? compileLabProgram({ stateDir: path.join(this.stateRoot, '.cache') }) : undefined;
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
    await this.syncServices();
    if (compiled) {
      const obj = await compiled;
      state.datapath = { objectPath: obj.objectPath, hash: obj.hash };
      this.datapaths = this.makeDatapaths(state);
      for (const dp of this.datapaths.values()) rd.record({ kind: 'mount', path: dp.bpffs });
      this.checkCancelled();
      // load() writes the flags, local redirect off under variant no-local-redirect (makeDatapaths).
      await Promise.all([...this.datapaths.values()].map((dp) => dp.load()));
    }
    this.checkCancelled();
    state.phase = 'ready';
    this.save();
  }

  private makeDatapaths(state: LabState): Map<string, NodeDatapath> {
    const out = new Map<string, NodeDatapath>();
    if (!state.datapath || !this.rd) return out;
    for (const n of state.plan.nodes)
      out.set(
        n.name,
        new NodeDatapath({
          node: n.name,
          netns: nodeNetns(state.cluster, n.name),
          bpffs: this.rd.file(`bpffs/${n.role}`),
          objectPath: state.datapath.objectPath,
          options: { localRedirect: !state.variants.includes('no-local-redirect') },
        }),
      );
    return out;
  }

  /**
   * A NodeDatapath to read a node's real state with (tc attachments, maps, flags) — the live one,
   * or, under variant no-tc, one that was never loaded and so reports what is attached.
   */
  datapathReader(node: string): NodeDatapath {
    const n = this.node(node);
    return (
      this.datapaths.get(n.name) ??
      new NodeDatapath({
        node: n.name,
        netns: nodeNetns(this.labState.cluster, n.name),
        bpffs: this.runDir.file(`bpffs/${n.role}`),
        objectPath: '',
        options: { localRedirect: false },
      })
    );
  }

  /** The datapath of a node (undefined under variant no-tc). */
  datapath(node: string): NodeDatapath | undefined {
    return this.datapaths.get(this.node(node).name);
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
    if (cancelled()) throw new InfraError(`Provisioning of lab ${this.state?.cluster} was interrupted.`);
  }

  /**
   * Start the janitor (janitor.ts) that removes the lab if this process goes away before the
   * lab is ready — or at all, unless it is kept.
   */
  private async startJanitor(): Promise<void> {
    const rd = this.runDir;
    const res = await run(
      [
        'setsid',
        '-f',
        process.execPath,
        JANITOR,
        '--root',
        this.stateRoot,
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
    if (!this.rd) return;
    try {
      await teardownLedger(this.rd, { where: 'host (rollback)' });
      this.state = undefined;
    } catch {
      // After SIGINT the command runner refuses new commands: the janitor removes the rest once we exit.
    }
    this.rd.releaseLock();
  }

  async teardown(): Promise<void> {
    if (!this.rd || !this.state) return;
    const rd = this.rd;
    if (this.created && !this.state.keep) {
      // Ours: remove everything the ledger lists.
      await teardownLedger(rd);
    } else if (this.created) {
      // Ours but kept (--keep always): leave it as it is for inspection, for `hookpoint lab down`.
      rd.releaseLock();
    } else {
      // A kept lab we reused: hand it back as we found it, without our workloads.
      for (const w of [...this.added].reverse()) await this.removeWorkload(w.kind, w.name);
      rd.releaseLock();
    }
    this.added = [];
    this.state = undefined;
    this.datapaths.clear();
  }

  /** The run failed: with keepOnFailure the lab is marked kept now, so neither teardown nor the janitor removes it. */
  noteFailure(): void {
    if (this.opts.keepOnFailure && this.created && this.state && !this.state.keep) {
      this.state.keep = true;
      this.save();
    }
  }

  /**
   * Keep the lab after this process ends and release the lock (what `lab up` does once all its
   * steps succeeded; until then an interrupted `lab up` is rolled back by the janitor).
   */
  keepAndRelease(): void {
    if (this.state && !this.state.keep) {
      this.state.keep = true;
      this.save();
    }
    this.rd?.releaseLock();
  }

  private save(): void {
    this.runDir.writeState(this.labState);
  }

  node(nameOrRole: string): LabNodePlan {
    const n = findNode(this.labState.plan.nodes, nameOrRole);
    if (!n)
      throw new UsageError(
        `The lab "${this.labState.cluster}" has no node "${nameOrRole}".`,
        `Its nodes: ${this.labState.plan.nodes.map((x) => `${x.role} (${x.name})`).join(', ')}.`,
      );
    return n;
  }

  pod(name: string): LabPod {
    const p = this.labState.pods.find((x) => x.name === name);
    if (!p)
      throw new UsageError(
        `The lab "${this.labState.cluster}" has no pod "${name}".`,
        `Its pods: ${this.labState.pods.map((x) => x.name).join(', ') || 'none'}.`,
      );
    return p;
  }

  async topology(): Promise<Topology> {
    const s = this.labState;
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
      services: s.services.map((svc) => this.serviceInfo(svc)),
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

  private serviceInfo(svc: LabService): ServiceInfo {
    return {
      name: svc.name,
      namespace: svc.namespace,
      clusterIP: svc.clusterIP,
      port: svc.port,
      targetPort: svc.targetPort,
      portName: svc.portName,
      nodePort: svc.nodePort,
      protocol: svc.protocol,
      backends: this.backendsOf(svc).map((p) => ({ pod: p.name, ip: p.ip, port: svc.targetPort, node: p.node })),
    };
  }

  /** Services as `lab status --json` shows them: backends as "ip:port". */
  statusServices(): Array<{
    name: string;
    clusterIP: string;
    port: number;
    nodePort: number | null;
    backends: string[];
  }> {
    return this.labState.services.map((svc) => ({
      name: svc.name,
      clusterIP: svc.clusterIP,
      port: svc.port,
      nodePort: svc.nodePort,
      backends: this.backendsOf(svc).map((p) => `${p.ip}:${svc.targetPort}`),
    }));
  }

  /** Endpoints of a service: ready echo pods of its app (on onlyNodes, when given). */
  private backendsOf(svc: LabService): LabPod[] {
    return this.labState.pods
      .filter((p) => p.kind === 'echo' && p.app === svc.app)
      .filter((p) => !svc.onlyNodes || svc.onlyNodes.includes(p.node))
      .sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }));
  }

  // -------------------------------------------------------------------------------------------
  // Workloads

  async deployEcho(spec: EchoSpec): Promise<void> {
    const s = this.labState;
    const name = validateName('deployment', spec.name);
    const port = spec.port ?? 80;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`Echo port ${port} is not a port.`);
    if (spec.nodes.length === 0) throw new UsageError(`The echo deployment "${name}" needs at least one node.`);
    const nodes = [...new Set(spec.nodes.map((n) => this.node(n).name))];
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
    this.added.push({ kind: 'echo', name });
    if (s.services.some((svc) => svc.app === name)) await this.syncServices();
  }

  async runClient(spec: ClientSpec): Promise<PodInfo> {
    const name = validateName('pod', spec.name);
    const node = this.node(spec.node).name;
    const existing = this.labState.pods.find((p) => p.name === name);
    if (existing) {
      if (existing.kind === 'client' && existing.node === node) return this.podInfo(existing);
      throw new UsageError(`A pod named "${name}" already exists in lab "${this.labState.cluster}".`);
    }
    const [pod] = this.allocatePods([{ name, node }], 'client', {});
    await this.addPods([pod!]);
    this.added.push({ kind: 'client', name });
    return this.podInfo(pod!);
  }

  private allocatePods(
    wanted: Array<{ name: string; node: string }>,
    kind: 'echo' | 'client',
    extra: { app?: string; port?: number },
  ): LabPod[] {
    const s = this.labState;
    const ips = new Set(s.pods.map((p) => p.ip));
    const ids = new Set(s.pods.map((p) => p.endpointId));
    const out: LabPod[] = [];
    for (const w of wanted) {
      validateName('pod', w.name);
      if (s.pods.some((p) => p.name === w.name))
        throw new UsageError(`A pod named "${w.name}" already exists in lab "${s.cluster}".`);
      const pod = describePod(s.cluster, this.node(w.node), w.name, kind, { ips, ids }, extra);
      ips.add(pod.ip);
      ids.add(pod.endpointId);
      out.push(pod);
    }
    return out;
  }

  /** Namespaces, veths, routes, echo servers, then the datapath (attach + endpoints) of their nodes. */
  private async addPods(pods: LabPod[]): Promise<void> {
    const s = this.labState;
    const rd = this.runDir;
    for (const p of pods) {
      rd.record({ kind: 'netns', name: podNetns(s.cluster, p.name) });
      if (p.kind === 'echo') rd.record({ kind: 'pidfile', path: echoPidFile(rd, p.name) });
    }
    s.pods.push(...pods);
    this.save();
    await createPods(rd, s.cluster, s.plan.nodes, pods);
    await Promise.all([
      ...pods.filter((p) => p.kind === 'echo').map((p) => startEcho(rd, s.cluster, p)),
      ...[...new Set(pods.map((p) => p.node))].map(async (node) => {
        const dp = this.datapaths.get(node);
        if (!dp) return;
        await dp.attachAll(pods.filter((p) => p.node === node).map((p) => p.hostVeth));
        await this.syncEndpoints(node);
      }),
    ]);
  }

  /** The node's lxc_endpoints map from its pods (ifindexes read from the node). */
  private async syncEndpoints(node: string): Promise<void> {
    const dp = this.datapaths.get(node);
    if (!dp) return;
    const names = await dp.interfaceNames(true);
    const byName = new Map([...names].map(([idx, n]) => [n, idx]));
    const eps = this.labState.pods
      .filter((p) => p.node === node && byName.has(p.hostVeth))
      .map((p) => ({
        ip: p.ip,
        ifindex: byName.get(p.hostVeth)!,
        endpointId: p.endpointId,
        podMac: p.mac,
        lxcMac: p.hostVethMac,
      }));
    await dp.setEndpoints(eps);
  }

  async exposeService(spec: ServiceSpec): Promise<ServiceInfo> {
    const s = this.labState;
    const name = validateName('service', spec.name);
    validateName('app', spec.app);
    const port = checkPort(spec.port, 'service port');
    const targetPort = checkPort(spec.targetPort ?? spec.port, 'target port');
    if (spec.type !== 'ClusterIP' && spec.type !== 'NodePort')
      throw new UsageError(`Service type "${String(spec.type)}" is not supported by the lab (ClusterIP or NodePort).`);
    const onlyNodes = spec.onlyNodes ? [...new Set(spec.onlyNodes.map((n) => this.node(n).name))] : null;
    const existing = s.services.find((x) => x.name === name);
    if (existing) {
      const same =
        existing.app === spec.app &&
        existing.port === port &&
        existing.targetPort === targetPort &&
        existing.type === spec.type &&
        (spec.nodePort === undefined || spec.nodePort === existing.nodePort) &&
        JSON.stringify(existing.onlyNodes) === JSON.stringify(onlyNodes);
      if (same) return this.serviceInfo(existing);
      throw new UsageError(`The service "${name}" already exists with another spec.`, 'Remove it first.');
    }
    let nodePort: number | null = null;
    if (spec.type === 'NodePort') {
      const taken = new Set(s.services.map((x) => x.nodePort));
      if (spec.nodePort !== undefined) {
        nodePort = checkPort(spec.nodePort, 'nodePort');
        if (nodePort < 30000 || nodePort > 32767)
          throw new UsageError(`nodePort ${nodePort} is outside the NodePort range 30000-32767.`);
        if (taken.has(nodePort)) throw new UsageError(`nodePort ${nodePort} is already used by another service.`);
      } else {
        let n = 30000 + stableNumber(`${s.cluster}/svc/${name}/nodeport`, 2768);
        while (taken.has(n)) n = n === 32767 ? 30000 : n + 1;
        nodePort = n;
      }
    } else if (spec.nodePort !== undefined) {
      throw new UsageError(`Service "${name}" is of type ClusterIP; a nodePort needs type NodePort.`);
    }
    const svc: LabService = {
      name,
      namespace: 'default',
      app: spec.app,
      port,
      targetPort,
      portName: 'http',
      protocol: 'TCP',
      type: spec.type,
      clusterIP: this.allocateClusterIP(name),
      nodePort,
      onlyNodes,
    };
    s.services.push(svc);
    this.save();
    this.added.push({ kind: 'service', name });
    await this.syncServices();
    return this.serviceInfo(svc);
  }

  /** A stable ClusterIP in the service range (skipping .1, the kubernetes service, and .10, kube-dns). */
  private allocateClusterIP(name: string): string {
    const s = this.labState;
    const range = parseCidr(s.plan.serviceSubnet, 'serviceSubnet');
    const taken = new Set(s.services.map((x) => x.clusterIP));
    const usable = range.size - 2;
    const start = stableNumber(`${s.cluster}/svc/${name}/ip`, usable);
    for (let i = 0; i < usable; i++) {
      const offset = 1 + ((start + i) % usable);
      if (offset === 1 || offset === 10) continue;
      const ip = intToIp(range.base + offset);
      if (!taken.has(ip) && cidrContains(range, ip)) return ip;
    }
    throw new InfraError(`No free ClusterIP left in ${s.plan.serviceSubnet}.`);
  }

  async removeWorkload(kind: 'echo' | 'service' | 'client', name: string): Promise<void> {
    const s = this.labState;
    this.added = this.added.filter((w) => !(w.kind === kind && w.name === name));
    if (kind === 'service') {
      if (!s.services.some((x) => x.name === name)) return;
      s.services = s.services.filter((x) => x.name !== name);
      this.save();
      await this.syncServices();
      return;
    }
    const pods =
      kind === 'echo'
        ? s.pods.filter((p) => p.kind === 'echo' && p.app === name)
        : s.pods.filter((p) => p.kind === 'client' && p.name === name);
    if (kind === 'echo') s.deployments = s.deployments.filter((d) => d.name !== name);
    if (pods.length === 0) {
      this.save();
      return;
    }
    // Endpoints first (kube-proxy and the datapath stop sending to them), then the pods.
    s.pods = s.pods.filter((p) => !pods.includes(p));
    this.save();
    if (kind === 'echo' && s.services.some((svc) => svc.app === name)) await this.syncServices();
    await removePods(
      this.runDir,
      s.cluster,
      pods.map((p) => p.name),
    );
    await Promise.all([...new Set(pods.map((p) => p.node))].map((n) => this.syncEndpoints(n)));
  }

  /** kube-proxy rules on every node (partial sync after the first) and the datapath's service map. */
  private async syncServices(): Promise<void> {
    const s = this.labState;
    const rd = this.runDir;
    const services: ProxyService[] = s.services.map((svc) => ({
      namespace: svc.namespace,
      name: svc.name,
      portName: svc.portName,
      protocol: svc.protocol,
      clusterIP: svc.clusterIP,
      port: svc.port,
      nodePort: svc.nodePort,
      endpoints: this.backendsOf(svc).map((p) => ({ ip: p.ip, port: svc.targetPort })),
    }));
    const rules = proxyRules(services, { clusterCIDR: s.plan.podSubnet });
    const previous = s.proxyRules ? rulesFromJson(s.proxyRules) : undefined;
    const file = rd.file(`plans/kube-proxy-${String(++this.planSeq).padStart(3, '0')}-${Date.now()}.rules`);
    writeFileSync(file, renderRestore(rules, previous));
    await Promise.all(
      s.plan.nodes.map((n) =>
        applyProxyRules({
          netns: nodeNetns(s.cluster, n.name),
          where: `node ${n.name}`,
          mode: s.iptables,
          file,
          partial: previous !== undefined,
        }),
      ),
    );
    s.proxyRules = rulesToJson(rules);
    this.save();
    if (this.datapaths.size > 0) {
      const dpServices: DatapathService[] = services
        .filter((x) => x.endpoints.length > 0)
        .map((x) => ({ vip: x.clusterIP, port: x.port, protocol: x.protocol, backends: x.endpoints }));
      await Promise.all([...this.datapaths.values()].map((dp) => (dp.loaded() ? dp.setServices(dpServices) : null)));
    }
  }

  /** Remove (or restore) the native routes of every node at run time (self-verification). */
  async setNativeRoutes(on: boolean): Promise<void> {
    const s = this.labState;
    await Promise.all(
      s.plan.nodes.map((n) =>
        ipBatch(
          this.runDir,
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
        const n = this.node(target.node);
        return {
          argv: ['ip', 'netns', 'exec', nodeNetns(this.labState.cluster, n.name), ...argv],
          where: `node ${n.name}`,
        };
      }
      case 'pod': {
        const p = this.pod(target.pod);
        return {
          argv: ['ip', 'netns', 'exec', podNetns(this.labState.cluster, p.name), ...argv],
          where: `pod ${p.name}`,
        };
      }
      case 'agent': {
        const n = this.node(target.node);
        const rest = /^cilium(-dbg)?$/.test(argv[0]!) ? argv.slice(1) : [...argv];
        return {
          argv: [
            process.execPath,
            HOOKPOINT_BIN,
            'lab',
            'agent',
            '--cluster',
            this.labState.cluster,
            ...(this.stateRoot !== path.resolve(stateRootDefault()) ? ['--state-root', this.stateRoot] : []),
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

function checkPort(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`The ${what} ${n} is not a port (1-65535).`);
  return n;
}
