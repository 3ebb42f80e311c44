/**
 * The Cucumber World: the run's backend, the scenario's transcript and evidence recorder, the
 * probes armed for the scenario, and the last observation window that Then steps assert on.
 */
import { type IWorldOptions, setWorldConstructor, World } from '@cucumber/cucumber';
import type { Backend, Topology } from '../backends/types.ts';
import { type Attachment, type Evidence, EvidenceRecorder, MediaType } from '../evidence/index.ts';
import { Transcript, useTranscript } from '../exec/index.ts';
import type { CitedEvidence } from '../expectations/evidence-ref.ts';
import type { NodeEvents, ReachCell } from '../expectations/reachability.ts';
import type { CiliumStatus, MonitorEvent } from '../parsers/index.ts';
import type { NetworkPolicyDoc } from '../policy/manifest.ts';
import { type RunContext, runContext } from '../run/context.ts';
import type { Judgement } from './judged.ts';
import type { Arming } from './vocabulary.ts';
import type { ObservationWindow } from './window.ts';

export type Armed = Required<Arming>;

export class HookpointWorld extends World {
  ctx!: RunContext;
  readonly transcript = new Transcript();
  readonly evidence: EvidenceRecorder;
  armed: Armed = { captures: [], monitors: [], counters: false };
  window?: ObservationWindow;
  /** The Background's cluster words, until Cilium's values complete them. */
  clusterRequest?: { kindConfig?: string; values: Record<string, string> };
  /** Agent status evidence per node, read once per scenario. */
  readonly statusByNode = new Map<string, CitedEvidence<CiliumStatus>>();
  /** Nodes the scenario touched: failure collectors look at these. */
  readonly involvedNodes = new Set<string>();
  /** Network policies the scenario applied (removed when it ends). */
  policies: NetworkPolicyDoc[] = [];
  /** The reachability matrix's window: its cells and every node's monitor events. */
  reachability?: {
    cells: ReachCell[];
    monitors: NodeEvents[];
    evidence: Map<string, CitedEvidence<MonitorEvent[]>>;
  };
  /** What the scenario's Then steps judged, hook point by hook point (the packet-path picture reads it). */
  readonly judgements: Judgement[] = [];
  private topo?: Topology;

  constructor(options: IWorldOptions) {
    super(options);
    useTranscript(this.transcript);
    this.evidence = new EvidenceRecorder((a: Attachment) =>
      typeof a.body === 'string'
        ? this.attach(a.body, { mediaType: a.media, fileName: a.name })
        : this.attach(a.body, { mediaType: a.media, fileName: a.name }),
    );
  }

  async init(): Promise<void> {
    this.ctx = await runContext();
  }

  get backend(): Backend {
    return this.ctx.backend;
  }

  /** Topology, re-read after workloads change. */
  async topology(fresh = false): Promise<Topology> {
    if (!this.topo || fresh) this.topo = await this.backend.topology();
    return this.topo;
  }

  invalidateTopology(): void {
    this.topo = undefined;
  }

  /**
   * Attach evidence (raw text, plus JSON of the parsed data) and remember its name for citations.
   * `hold`: name it now but show it on the Then step that judges it (see judged.ts).
   */
  async cite<T>(ev: Evidence<T>, opts: { json?: boolean; hold?: boolean } = {}): Promise<CitedEvidence<T>> {
    const header = `# ${ev.summary}\n# where: ${ev.where}\n${ev.commands.map((c) => `# $ ${c}`).join('\n')}\n`;
    const text = `${header}\n${ev.raw}`;
    if (opts.hold) {
      const a = this.evidence.hold(ev.kind, ev.where, MediaType.text, text);
      if (opts.json) this.evidence.hold(ev.kind, ev.where, MediaType.json, JSON.stringify(ev.data, null, 2), a.name);
      return Object.assign(ev, { attachment: a.name });
    }
    const a = await this.evidence.attach(ev.kind, ev.where, MediaType.text, text);
    if (opts.json) await this.evidence.attach(ev.kind, ev.where, MediaType.json, JSON.stringify(ev.data, null, 2));
    return Object.assign(ev, { attachment: a.name });
  }
}

setWorldConstructor(HookpointWorld);
