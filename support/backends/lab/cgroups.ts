/**
 * The lab's own cgroups (cgroup v2), where kube-proxy replacement's socket hooks are attached:
 * one `hookpoint-<cluster>` directory under the machine's cgroup2 mount (or under a cgroup2
 * mount of the lab's own when the machine has none), and one child per node. A node's
 * processes — clients, echo servers, node-side commands — run in its cgroup, so the socket
 * hooks see exactly the lab's sockets and never the machine's (its root cgroup stays as it was).
 * Every cgroup is recorded in the ledger before it is made; teardown kills what still runs in
 * it and removes it (which also detaches its programs).
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';

import { run } from '../../exec/index.ts';
import type { RunDir } from './ledger.ts';

/** Name of the lab's cgroup directory (what the ledger accepts as the lab's). */
export function labCgroupName(cluster: string): string {
  return `hookpoint-${cluster}`;
}

/** True when p is the lab's cgroup of this cluster or one of its node cgroups (ledger ownership). */
export function ownsCgroup(cluster: string, p: string): boolean {
  const parts = path.resolve(p).split(path.sep);
  const i = parts.lastIndexOf(labCgroupName(cluster));
  return i > 1 && (i === parts.length - 1 || (i === parts.length - 2 && /^[a-z0-9][a-z0-9.-]*$/.test(parts[i + 1]!)));
}

/** The first cgroup2 mount of this mount namespace (from /proc/self/mountinfo), or null. */
export function cgroup2Mount(mountinfo?: string): string | null {
  let text = mountinfo;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mountinfo', 'utf8');
    } catch {
      return null;
    }
  }
  for (const line of text.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post || post.split(' ')[0] !== 'cgroup2') continue;
    const mp = pre.split(' ')[4];
    if (mp) return mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  }
  return null;
}

/**
 * Make the lab's cgroups: `<cgroup2>/hookpoint-<cluster>/<role>` for each node role. The
 * cgroup2 mount is the machine's, or the lab's own under the run directory (recorded, so
 * teardown unmounts it after removing the cgroups). Returns node role → cgroup path.
 */
export async function createNodeCgroups(rd: RunDir, roles: readonly string[]): Promise<Record<string, string>> {
  let root = cgroup2Mount();
  if (!root) {
    root = rd.file('cgroup2');
    rd.record({ kind: 'mount', path: root });
    mkdirSync(root, { recursive: true });
    await run(['mount', '-t', 'cgroup2', 'none', root], { timeoutMs: 10_000, where: 'host' });
  }
  const lab = path.join(root, labCgroupName(rd.cluster));
  rd.record({ kind: 'cgroup', path: lab });
  mkdirSync(lab, { recursive: true });
  const out: Record<string, string> = {};
  for (const role of roles) {
    const dir = path.join(lab, role);
    rd.record({ kind: 'cgroup', path: dir });
    mkdirSync(dir, { recursive: true });
    out[role] = dir;
  }
  return out;
}

/** Pids in a cgroup (none when it is gone). */
export function cgroupPids(dir: string): number[] {
  try {
    return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8')
      .split('\n')
      .filter((l) => /^\d+$/.test(l))
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * argv that runs `argv` inside a cgroup: a fixed `sh` script moves itself into the cgroup and
 * execs the command (the command's words are arguments, never part of the script).
 */
export function inCgroup(dir: string, argv: readonly string[]): string[] {
  return ['sh', '-c', 'echo $$ > "$0" && exec "$@"', path.join(dir, 'cgroup.procs'), ...argv];
}

/**
 * Remove cgroups, deepest first, after killing what still runs in them (kill is the caller's:
 * pass it). Missing ones are fine; one that stays is an error naming it.
 */
export async function removeCgroups(
  dirs: readonly string[],
  kill: (pids: number[]) => Promise<void>,
): Promise<string[]> {
  const left: string[] = [];
  for (const dir of [...new Set(dirs)].sort((a, b) => b.length - a.length)) {
    if (!existsSync(dir)) continue;
    const pids = cgroupPids(dir);
    if (pids.length) await kill(pids);
    for (let i = 0; i < 50; i++) {
      try {
        rmdirSync(dir);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
        // EBUSY while killed processes are still exiting.
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    if (existsSync(dir)) left.push(dir);
  }
  return left;
}
