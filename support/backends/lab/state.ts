/**
 * The lab this process holds: its run directory, its model (state.json: nodes, pods, services)
 * and the nodes' live datapaths. The lab's concerns (provisioning, pods, services, exec targets)
 * share this one object, so the model has one owner and is saved in one place.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { InfraError, UsageError } from '../../errors.ts';
import type { IptablesMode } from '../../kube-proxy/mode.ts';
import type { NetworkPolicyDoc } from '../../policy/manifest.ts';
import { RunDir } from './ledger.ts';
import type { LabModes } from './modes.ts';
import { stateRootDefault } from './names.ts';
import { NodeDatapaths } from './node-datapaths.ts';
import type { LabPod } from './pod-netns.ts';
import { findNode, type LabNodePlan, type LabTopologyPlan } from './topology.ts';
import type { LabVariant } from './variants.ts';

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
  /** Routing and kube-proxy replacement, from the Helm values (modes.ts). */
  modes: LabModes;
  keep: boolean;
  phase: 'provisioning' | 'ready';
  owner: { pid: number; start: string };
  createdAt: string;
  /** Compiled datapath object, or null (variant no-tc). */
  datapath: { objectPath: string; hash: string } | null;
  /**
   * Kube-proxy replacement (modes.kubeProxyReplacement): its compiled object (lab_kpr.c) and each
   * node's cgroup (node name → path), where that node's processes run; absent otherwise.
   */
  kpr?: { objectPath: string; cgroups: Record<string, string> } | null;
  deployments: Array<{ name: string; nodes: string[]; port: number }>;
  pods: LabPod[];
  services: LabService[];
  proxyRules: { nat: Record<string, string[]>; filter: Record<string, string[]> } | null;
  /** Network policies applied now (absent in a state written before policies existed). */
  policies?: NetworkPolicyDoc[];
  /**
   * The policy repository's revision (as Cilium's agent counts it: one more at every import or
   * deletion, starting at 1), and the revision every endpoint's datapath enforces now.
   */
  policyRevision?: number;
  policyRealized?: number;
}

export type WorkloadKind = 'echo' | 'service' | 'client';

export { stateRootDefault };

export class LabSession {
  readonly stateRoot: string;
  rd: RunDir | undefined;
  state: LabState | undefined;
  readonly datapaths = new NodeDatapaths();
  /** True when this process created the lab (teardown removes it all unless kept). */
  created = false;
  /** Workloads this process added to a lab it reused (teardown removes just those). */
  added: Array<{ kind: WorkloadKind; name: string }> = [];

  constructor(stateRoot: string | undefined) {
    this.stateRoot = path.resolve(stateRoot ?? stateRootDefault());
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
    this.datapaths.reset(state, rd);
    return state;
  }

  save(): void {
    this.runDir.writeState(this.labState);
  }

  /** Note a workload this process added (teardown of a reused lab removes just those). */
  noteAdded(kind: WorkloadKind, name: string): void {
    this.added.push({ kind, name });
  }

  forgetAdded(kind: WorkloadKind, name: string): void {
    this.added = this.added.filter((w) => !(w.kind === kind && w.name === name));
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
}
