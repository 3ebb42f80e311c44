/**
 * The lab's lifecycle: build it from a kind config (or reuse an identical kept one), roll it back
 * when building fails or is interrupted, and remove it at teardown unless a keep policy holds it.
 * The janitor started here removes the lab should this process die first.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { InfraError, UsageError } from '../../errors.ts';
import { cancelled, run } from '../../exec/index.ts';
import type { IptablesMode } from '../../kube-proxy/mode.ts';
import type { ClusterSpec } from '../types.ts';
import { ensureAgentServer } from './agent/launch.ts';
import { createNodeCgroups } from './cgroups.ts';
import { compileLabProgram, KPR_NETDEV_DEFINE, LAB_KPR_SOURCE, NodeKpr } from './datapath/index.ts';
import { requireHostPrerequisites } from './host-prerequisites.ts';
import { NETNS_DIR, processStart, RunDir, teardownLedger } from './ledger.ts';
import { modesFromValues } from './modes.ts';
import { networkNetns, nodeNetns, podNetns } from './names.ts';
import { clusterNamespacesPlan, ipBatch, networkPlan, nodePlan } from './netns.ts';
import type { LabPods } from './pods.ts';
import type { LabServices } from './services.ts';
import type { LabSession, LabState, WorkloadKind } from './state.ts';
import { planFromKindConfig } from './topology.ts';
import { encapsulates, parseVariants, variantsFromValues } from './variants.ts';

const JANITOR = path.join(import.meta.dirname, 'janitor.ts');

export interface LabProvisionOptions {
  /** Lab (cluster) name; default: the kind config's `name`, else `cilium-kubeproxy`. */
  cluster?: string;
  /** iptables backend kube-proxy's rules are loaded with (default nft). */
  iptables?: IptablesMode;
  /** Datapath mutations: a list or a comma-separated string of LAB_VARIANTS (support/config.ts). */
  variants?: readonly string[] | string;
  /** Keep the lab after teardown() and after this process ends (what `hookpoint lab up` does). */
  keep?: boolean;
  /** Keep it only if the run fails (`--keep on-failure`; see noteFailure()). */
  keepOnFailure?: boolean;
}

export class LabProvisioning {
  private readonly lab: LabSession;
  private readonly opts: LabProvisionOptions;
  private readonly services: LabServices;
  private readonly pods: LabPods;

  constructor(lab: LabSession, opts: LabProvisionOptions, services: LabServices, pods: LabPods) {
    this.lab = lab;
    this.opts = opts;
    this.services = services;
    this.pods = pods;
  }

  async provision(spec: ClusterSpec): Promise<void> {
    const kindConfig = path.resolve(spec.kindConfig);
    if (!existsSync(kindConfig))
      throw new UsageError(`The kind config "${spec.kindConfig}" does not exist (looked at ${kindConfig}).`);
    const plan = planFromKindConfig(readFileSync(kindConfig, 'utf8'), {
      cluster: this.opts.cluster,
      source: spec.kindConfig,
    });
    const modes = modesFromValues(spec.ciliumValues);
    const variants = parseVariants([
      ...parseVariants(this.opts.variants),
      ...variantsFromValues(spec.ciliumValues, modes),
    ]);
    const iptables: IptablesMode = this.opts.iptables ?? 'nft';
    if (iptables !== 'nft' && iptables !== 'legacy')
      throw new UsageError(`Unknown iptables backend "${String(iptables)}".`, 'Valid choices: nft, legacy.');
    const tc = !variants.includes('no-tc');
    requireHostPrerequisites({ iptables, datapath: tc });

    const rd = new RunDir(this.lab.stateRoot, plan.cluster);
    await rd.acquireLock(`provision (pid ${process.pid})`);
    this.lab.rd = rd;
    const fingerprint = JSON.stringify({ plan, iptables, variants, modes });
    const existing = rd.readState<LabState>();
    if (existing && existing.phase === 'ready' && existing.fingerprint === fingerprint && this.intact(existing)) {
      this.lab.state = existing;
      this.lab.datapaths.reset(existing, rd);
      this.lab.created = false;
      // Reuse: a kept lab outlives its echo servers if someone killed them; start the missing ones.
      await Promise.all([
        this.pods.restartStoppedEchoes(),
        ensureAgentServer(rd, existing.cluster, this.lab.stateRoot),
      ]);
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
      modes,
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
    const tunnel = encapsulates(state.modes, state.variants);
    const compiled = tc
      ? compileLabProgram({ stateDir: path.join(this.lab.stateRoot, '.cache'), program: { tunnel } })
      : undefined;
    compiled?.catch(() => {});
    // Kube-proxy replacement: its own programs, built with the mode's options (part of the cache key).
    const kpr =
      tc && state.modes.kubeProxyReplacement
        ? compileLabProgram({
            stateDir: path.join(this.lab.stateRoot, '.cache'),
            sourcePath: LAB_KPR_SOURCE,
            defines: [KPR_NETDEV_DEFINE],
          })
        : undefined;
    kpr?.catch(() => {});
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
        ipBatch(rd, `node-${n.role}`, nodePlan(plan, n, { nativeRoutes, tunnel }), {
          netns: nodeNetns(plan.cluster, n.name),
          where: `node ${n.name}`,
        }),
      ),
    ]);
    this.checkCancelled();
    if (kpr) {
      // The node's processes run in its own cgroup, where the socket hooks are attached.
      const byRole = await createNodeCgroups(
        rd,
        plan.nodes.map((n) => n.role),
      );
      state.kpr = {
        objectPath: (await kpr).objectPath,
        cgroups: Object.fromEntries(plan.nodes.map((n) => [n.name, byRole[n.role]!])),
      };
      this.lab.save();
    }
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
      if (state.kpr) {
        const k = state.kpr;
        const socketLB = !state.variants.includes('no-socket-lb');
        await Promise.all(
          this.lab.datapaths.all().map((dp) =>
            new NodeKpr({
              datapath: dp,
              objectPath: k.objectPath,
              cgroup: socketLB ? k.cgroups[dp.node]! : null,
            }).load(),
          ),
        );
      }
    }
    this.checkCancelled();
    state.phase = 'ready';
    this.lab.save();
    await ensureAgentServer(rd, state.cluster, this.lab.stateRoot);
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

  /** Remove what this process created, honouring the keep policies; a reused lab loses just our workloads. */
  async teardown(removeWorkload: (kind: WorkloadKind, name: string) => Promise<void>): Promise<void> {
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
      for (const w of [...this.lab.added].reverse()) await removeWorkload(w.kind, w.name);
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
}
