/**
 * A process and its descendants, read from /proc (Linux). A command that hangs may have children
 * (`sh -c '… ; sleep'`, `timeout`, `ip netns exec` wrappers) holding its output pipes open: killing
 * only the direct child would leave them running and keep the caller waiting past its timeout.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** pid and every descendant of it, parents first (a snapshot: orphans are reparented once a parent dies). */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [pid];
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
    } catch {}
  }
  const out = [pid];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]!) ?? []));
  return out;
}

/** Send a signal to every pid given; gone ones are ignored. */
export function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {}
  }
}
