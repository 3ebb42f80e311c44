/**
 * The lab's run directory, ledger and lock.
 *
 * Everything a lab creates is written to `<root>/<cluster>/ledger.jsonl` BEFORE it is created
 * (network namespaces, pid files, mounts, pins), so teardown — after success, failure, a signal
 * or a crash (`hookpoint lab down`) — removes exactly what the ledger lists, and only names that
 * carry the lab's prefix. The lock (`lock`, holding the owner's pid and start time) keeps one
 * owner per lab name at a time; a lock whose process is gone is stale and taken over.
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { InfraError, UsageError } from '../../errors.ts';
import { run } from '../../exec/index.ts';
import { ownsCgroup, removeCgroups } from './cgroups.ts';
import { DEFAULT_STATE_ROOT, ownsNetns, validateCluster } from './names.ts';

export { DEFAULT_STATE_ROOT };

export const NETNS_DIR = '/run/netns';

export type LedgerEntry =
  | { kind: 'netns'; name: string }
  | { kind: 'pidfile'; path: string }
  | { kind: 'mount'; path: string }
  | { kind: 'pin'; path: string }
  | { kind: 'file'; path: string }
  /** One of the lab's cgroups (cgroups.ts): outside the run directory, named after the lab. */
  | { kind: 'cgroup'; path: string };

interface LockInfo {
  pid: number;
  start: string;
  command: string;
  at: string;
}

/** Start time of a process (field 22 of /proc/<pid>/stat), to tell a live owner from a reused pid. */
export function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** True while pid runs (a zombie waiting for its reaper counts as gone), with the given start time when given. */
export function processAlive(pid: number, start?: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return false;
  return start === undefined || fields[19] === start;
}

export class RunDir {
  readonly cluster: string;
  readonly root: string;
  readonly dir: string;

  constructor(root: string, cluster: string) {
    this.cluster = validateCluster(cluster);
    this.root = path.resolve(root);
    this.dir = path.join(this.root, this.cluster);
  }

  get ledgerFile(): string {
    return path.join(this.dir, 'ledger.jsonl');
  }
  get stateFile(): string {
    return path.join(this.dir, 'state.json');
  }
  get lockFile(): string {
    return path.join(this.dir, 'lock');
  }
  file(name: string): string {
    return path.join(this.dir, name);
  }

  exists(): boolean {
    return existsSync(this.dir);
  }

  ensure(): void {
    mkdirSync(path.join(this.dir, 'plans'), { recursive: true, mode: 0o700 });
  }

  /** Record an intent to create something; call before creating it. */
  record(entry: LedgerEntry): void {
    this.assertOwned(entry);
    this.ensure();
    appendFileSync(this.ledgerFile, `${JSON.stringify(entry)}\n`);
  }

  entries(): LedgerEntry[] {
    let text = '';
    try {
      text = readFileSync(this.ledgerFile, 'utf8');
    } catch {
      return [];
    }
    const out: LedgerEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as LedgerEntry;
        this.assertOwned(e);
        out.push(e);
      } catch {
        // A torn last line after a crash, or an entry that is not ours: never act on it.
      }
    }
    return out;
  }

  /** Nothing outside the lab's prefix (netns) or run directory (paths) is ever recorded or removed. */
  private assertOwned(e: LedgerEntry): void {
    if (e.kind === 'netns') {
      if (!ownsNetns(this.cluster, e.name))
        throw new Error(`ledger: ${e.name} is not a namespace of lab ${this.cluster}`);
    } else if (e.kind === 'cgroup') {
      if (!ownsCgroup(this.cluster, e.path))
        throw new Error(`ledger: ${e.path} is not a cgroup of lab ${this.cluster}`);
    } else {
      const p = path.resolve(e.path);
      if (!p.startsWith(`${this.dir}${path.sep}`)) throw new Error(`ledger: ${e.path} is outside ${this.dir}`);
    }
  }

  readState<T>(): T | null {
    try {
      return JSON.parse(readFileSync(this.stateFile, 'utf8')) as T;
    } catch {
      return null;
    }
  }

  writeState(state: unknown): void {
    this.ensure();
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
    renameSync(tmp, this.stateFile);
  }

  lockHolder(): LockInfo | null {
    try {
      const info = JSON.parse(readFileSync(this.lockFile, 'utf8')) as LockInfo;
      return processAlive(info.pid, info.start) ? info : null;
    } catch {
      return null;
    }
  }

  /**
   * Take the lab's lock for this process (re-entrant). A lock left by a dead process is taken
   * over; a live holder is a UsageError naming it, after waiting up to waitMs.
   */
  async acquireLock(command: string, waitMs = 0): Promise<void> {
    this.ensure();
    const me: LockInfo = {
      pid: process.pid,
      start: processStart(process.pid) ?? '',
      command,
      at: new Date().toISOString(),
    };
    const deadline = Date.now() + waitMs;
    for (;;) {
      try {
        const fd = openSync(this.lockFile, 'wx', 0o600);
        writeSync(fd, JSON.stringify(me));
        closeSync(fd);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = this.lockHolder();
      if (holder?.pid === process.pid) return;
      if (!holder) {
        // Stale: its owner is gone. Remove and retry (openSync 'wx' arbitrates between racers).
        try {
          unlinkSync(this.lockFile);
        } catch {}
        continue;
      }
      if (Date.now() >= deadline)
        throw new UsageError(
          `The lab "${this.cluster}" is in use by process ${holder.pid} (${holder.command}, since ${holder.at}).`,
          'One run per lab name at a time: wait for it, stop it, or pick another name with --cluster.',
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Hand the lock to another live process (the janitor taking over a dead owner's lab). */
  releaseLock(): void {
    try {
      const info = JSON.parse(readFileSync(this.lockFile, 'utf8')) as LockInfo;
      if (info.pid === process.pid) unlinkSync(this.lockFile);
    } catch {}
  }
}

/** Names of the labs that have a run directory under root. */
export function listLabs(root: string = DEFAULT_STATE_ROOT): string[] {
  try {
    return readdirSync(root, { withFileTypes: true })
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

function netnsInode(name: string): number | null {
  try {
    return statSync(path.join(NETNS_DIR, name)).ino;
  } catch {
    return null;
  }
}

/** Pids of processes whose network namespace is one of these inodes (what `ip netns pids` reports). */
export function pidsInNetns(inodes: ReadonlySet<number>): number[] {
  const out: number[] = [];
  if (inodes.size === 0) return out;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    try {
      const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/ns/net`));
      if (m && inodes.has(Number(m[1]))) out.push(pid);
    } catch {}
  }
  return out;
}

/** Mount points of this process's mount namespace at or below dir. */
export function mountsUnder(dir: string): string[] {
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const decoded = mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
    if (decoded === dir || decoded.startsWith(`${dir}/`)) out.push(decoded);
  }
  return out;
}

export async function killAll(pids: number[], graceMs: number): Promise<void> {
  const starts = new Map(pids.map((p) => [p, processStart(p)]));
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {}
  }
  const deadline = Date.now() + graceMs;
  let left = pids;
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    left = left.filter((p) => processAlive(p, starts.get(p) ?? undefined));
  }
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
}

/** Read a pid file, trusting it only while that pid still runs the lab's program for this run directory. */
function pidFromFile(file: string, runDir: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 1) return null;
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes(runDir) ? pid : null;
  } catch {
    return null;
  }
}

export interface TeardownReport {
  killed: number;
  netns: string[];
  mounts: string[];
}

/**
 * Remove everything the ledger lists: processes (by pid file and by living in a lab
 * namespace), network namespaces, mounts (bpffs and pins go with them), then the run
 * directory itself. Idempotent; a missing item is not an error.
 */
export async function teardownLedger(
  rd: RunDir,
  opts: { keepDir?: boolean; where?: string } = {},
): Promise<TeardownReport> {
  const entries = rd.entries();
  const namespaces = [
    ...new Set(entries.filter((e) => e.kind === 'netns').map((e) => (e as { name: string }).name)),
  ].filter((n) => existsSync(path.join(NETNS_DIR, n)));
  const inodes = new Set(namespaces.map(netnsInode).filter((i): i is number => i !== null));

  const pids = new Set<number>(pidsInNetns(inodes));
  for (const e of entries)
    if (e.kind === 'pidfile') {
      const pid = pidFromFile(e.path, rd.dir);
      if (pid) pids.add(pid);
    }
  await killAll([...pids], 1000);
  // Cgroups before mounts: a cgroup2 mount of the lab's own must still show them to remove them.
  const leftCgroups = await removeCgroups(
    entries.filter((e) => e.kind === 'cgroup').map((e) => (e as { path: string }).path),
    (p) => killAll(p, 1000),
  );

  if (namespaces.length > 0) {
    // One `ip -force -batch` removes every namespace: their veths, routes, rules and tc programs go with them.
    const batch = rd.file('teardown.ip');
    writeFileSync(batch, `${namespaces.map((n) => `netns delete ${n}`).join('\n')}\n`);
    await run(['ip', '-force', '-batch', batch], {
      timeoutMs: 15_000,
      where: opts.where ?? 'host',
      check: false,
      cleanup: true,
    });
  }

  const listedMounts = entries.filter((e) => e.kind === 'mount').map((e) => (e as { path: string }).path);
  const mounts = [...new Set([...listedMounts, ...mountsUnder(rd.dir)])]
    .filter((m) => mountsUnder(m).length > 0)
    .sort((a, b) => b.length - a.length);
  for (const m of mounts)
    await run(['umount', m], { timeoutMs: 10_000, where: opts.where ?? 'host', check: false, cleanup: true });

  const leftNetns = namespaces.filter((n) => existsSync(path.join(NETNS_DIR, n)));
  const leftMounts = mountsUnder(rd.dir);
  if (leftNetns.length > 0 || leftMounts.length > 0 || leftCgroups.length > 0)
    throw new InfraError(
      `Teardown of lab ${rd.cluster} left ${[...leftNetns, ...leftMounts, ...leftCgroups].join(', ')} behind; rerun \`hookpoint lab down --cluster ${rd.cluster}\`.`,
    );
  if (!opts.keepDir) {
    for (const e of entries)
      if (e.kind === 'pidfile' || e.kind === 'file' || e.kind === 'pin') rmSync(e.path, { force: true });
    rmSync(rd.dir, { recursive: true, force: true });
  }
  return { killed: pids.size, netns: namespaces, mounts };
}
