/**
 * Where the lab runs a command: the host, a node's or a pod's network namespace, or a node's
 * agent (the lab's `cilium-dbg` reproduction, run through `hookpoint lab agent`). Probes name a
 * target; this turns it into an argv and the label the transcript shows.
 */
import path from 'node:path';
import { UsageError } from '../../errors.ts';
import { type BackgroundProcess, type RunResult, run, spawnBackground } from '../../exec/index.ts';
import type { ExecOptions, ExecTarget } from '../types.ts';
import { inCgroup } from './cgroups.ts';
import { nodeNetns, podNetns } from './names.ts';
import { inNetns, inNetnsWithSysfs } from './netns-exec.ts';
import { type LabSession, stateRootDefault } from './state.ts';

/** The repository this code runs from: its bin/hookpoint.js runs a node's agent reproduction. */
export const REPO_ROOT = path.resolve(import.meta.dirname, '../../..');
const HOOKPOINT_BIN = path.join(REPO_ROOT, 'bin', 'hookpoint.js');

export class LabExecTargets {
  private readonly lab: LabSession;

  constructor(lab: LabSession) {
    this.lab = lab;
  }

  /**
   * argv and transcript label for a target. `sysfs`: a node's or pod's command also sees the
   * namespace's own /sys (for a person's commands; probes read the network without it).
   */
  argv(target: ExecTarget, argv: readonly string[], opts: { sysfs?: boolean } = {}): { argv: string[]; where: string } {
    if (argv.length === 0) throw new UsageError('No command given to run.');
    const enter = opts.sysfs ? inNetnsWithSysfs : inNetns;
    switch (target.kind) {
      case 'host':
        return { argv: [...argv], where: 'host' };
      case 'node': {
        const n = this.lab.node(target.node);
        return {
          argv: this.inNodeCgroup(n.name, enter(nodeNetns(this.lab.labState.cluster, n.name), argv)),
          where: `node ${n.name}`,
        };
      }
      case 'pod': {
        const p = this.lab.pod(target.pod);
        return {
          argv: this.inNodeCgroup(p.node, enter(podNetns(this.lab.labState.cluster, p.name), argv)),
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

  /** Under kube-proxy replacement a node's processes (its pods' too) run in the node's cgroup. */
  private inNodeCgroup(node: string, argv: string[]): string[] {
    const cgroup = this.lab.labState.kpr?.cgroups[node];
    return cgroup ? inCgroup(cgroup, argv) : argv;
  }

  async exec(target: ExecTarget, argv: readonly string[], opts: ExecOptions = {}): Promise<RunResult> {
    const t = this.argv(target, argv);
    return run(t.argv, {
      timeoutMs: opts.timeoutMs ?? 30_000,
      where: t.where,
      check: opts.check,
      input: opts.input,
      quietStdout: opts.quietStdout,
    });
  }

  spawn(target: ExecTarget, argv: readonly string[], opts: { maxMs?: number } = {}): BackgroundProcess {
    const t = this.argv(target, argv);
    return spawnBackground(t.argv, { maxMs: opts.maxMs ?? 120_000, where: t.where });
  }
}
