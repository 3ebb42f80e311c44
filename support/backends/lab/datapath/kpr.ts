/**
 * Kube-proxy replacement on one lab node (lab_kpr.c): the socket LB programs attached to the
 * node's own cgroup (cgroups.ts), and the NodePort programs on the node's eth0 (tc ingress
 * `cil_from_netdev`, egress `cil_to_netdev`). The object is loaded with the node's shared maps
 * of lab_lb.c (lab_config, lb4_services, lxc_endpoints, events), so the services the lab writes
 * there are what the socket and eth0 programs translate, and their trace records reach the
 * same monitor stream. Pins under `<bpffs>/kpr/`; the bpffs unmount, the cgroup's removal and
 * the node netns's deletion remove the rest.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { InfraError } from '../../../errors.ts';
import { run } from '../../../exec/index.ts';
import type { NodeDatapath } from './node-datapath.ts';

/** Cgroup attach type → program (Cilium's names, bpf_sock.c). */
export const SOCK_PROGRAMS: ReadonlyArray<{ attach: string; program: string }> = [
  { attach: 'connect4', program: 'cil_sock4_connect' },
  { attach: 'sendmsg4', program: 'cil_sock4_sendmsg' },
  { attach: 'recvmsg4', program: 'cil_sock4_recvmsg' },
  { attach: 'getpeername4', program: 'cil_sock4_getpeername' },
];
/** Programs on the node's eth0 (Cilium's bpf_host names). */
export const NETDEV_PROGRAMS = { ingress: 'cil_from_netdev', egress: 'cil_to_netdev' } as const;
/** Build option of lab_kpr.c that adds the eth0 NodePort programs. */
export const KPR_NETDEV_DEFINE = 'LAB_KPR_NETDEV';
/** lab_lb.c maps lab_kpr.c reuses from the node's pins (both define them in lab_common.h). */
export const SHARED_MAPS = ['lab_config', 'lb4_services', 'lxc_endpoints', 'events'] as const;
const TIMEOUT_MS = 15_000;

export interface NodeKprConfig {
  /** The node's lab_lb.c datapath (loaded): its bpffs and shared maps. */
  datapath: NodeDatapath;
  /** Compiled lab_kpr.o. */
  objectPath: string;
  /** The node's cgroup, or null when socket LB is off (variant no-socket-lb). */
  cgroup: string | null;
}

export class NodeKpr {
  private readonly cfg: NodeKprConfig;

  constructor(cfg: NodeKprConfig) {
    this.cfg = cfg;
  }

  private get dir(): string {
    return join(this.cfg.datapath.bpffs, 'kpr');
  }

  programPin(program: string): string {
    return join(this.dir, 'progs', program);
  }

  /** Load lab_kpr.o with the node's shared maps, attach socket LB to the node's cgroup and NodePort to eth0. */
  async load(): Promise<void> {
    const dp = this.cfg.datapath;
    if (!dp.loaded()) throw new InfraError(`internal: kube-proxy replacement on node ${dp.node} before load().`);
    rmSync(this.dir, { recursive: true, force: true });
    mkdirSync(this.dir, { recursive: true });
    const shared = SHARED_MAPS.flatMap((m) => ['map', 'name', m, 'pinned', dp.mapPin(m)]);
    const res = await run(
      [
        'bpftool',
        'prog',
        'loadall',
        this.cfg.objectPath,
        join(this.dir, 'progs'),
        ...shared,
        'pinmaps',
        join(this.dir, 'maps'),
      ],
      { timeoutMs: 30_000, where: 'host', check: false },
    );
    if (res.exitCode !== 0) {
      const tail = (res.stderr || res.stdout).trim().split('\n').slice(-8).join(' | ');
      throw new InfraError(
        `The kernel rejected the lab's kube-proxy replacement ${this.cfg.objectPath} for node ${dp.node} (exit ${res.exitCode}): ${tail}.`,
        { hint: 'The verifier log is in the transcript of this command.' },
      );
    }
    const batch: string[] = [];
    if (this.cfg.cgroup)
      for (const s of SOCK_PROGRAMS)
        batch.push(`cgroup attach ${this.cfg.cgroup} ${s.attach} pinned ${this.programPin(s.program)} multi`);
    if (this.cfg.cgroup && /[\s"']/.test(this.cfg.cgroup))
      throw new InfraError(`internal: the cgroup path "${this.cfg.cgroup}" has whitespace or quotes.`);
    if (batch.length)
      await run(['bpftool', 'batch', 'file', '-'], {
        timeoutMs: TIMEOUT_MS,
        where: 'host',
        input: `${batch.join('\n')}\n`,
      });
    if (existsSync(this.programPin(NETDEV_PROGRAMS.ingress))) {
      const lines = [
        'qdisc replace dev eth0 clsact',
        `filter replace dev eth0 ingress pref 1 handle 1 bpf da pinned ${this.programPin(NETDEV_PROGRAMS.ingress)}`,
        `filter replace dev eth0 egress pref 1 handle 1 bpf da pinned ${this.programPin(NETDEV_PROGRAMS.egress)}`,
      ];
      await run(['tc', '-n', dp.netns, '-batch', '-'], {
        timeoutMs: TIMEOUT_MS,
        where: dp.where,
        input: `${lines.join('\n')}\n`,
      });
    }
  }
}

/** One row of `bpftool cgroup tree`/`show` as JSON. */
export interface CgroupProgram {
  cgroup: string;
  id: number;
  attachType: string;
  name: string;
}

/**
 * Programs attached to cgroups under root (`bpftool -j cgroup tree <root>`), the real state the
 * status and the tests read. Programs of the root cgroup itself are included (cgroup = root).
 */
export async function cgroupPrograms(root: string): Promise<CgroupProgram[]> {
  const res = await run(['bpftool', '-j', 'cgroup', 'tree', root], { timeoutMs: TIMEOUT_MS, where: 'host' });
  const out: CgroupProgram[] = [];
  for (const c of JSON.parse(res.stdout || '[]') as Array<{
    cgroup: string;
    programs?: Array<{ id: number; attach_type: string; name: string }>;
  }>)
    for (const p of c.programs ?? []) out.push({ cgroup: c.cgroup, id: p.id, attachType: p.attach_type, name: p.name });
  return out;
}
