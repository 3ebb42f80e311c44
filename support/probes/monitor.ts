/**
 * Monitor probe: `cilium-dbg monitor --type trace` on the Cilium agent of a node (the kind
 * backend runs it in the agent pod; the lab's agent stand-in serves it from its own trace stream,
 * in the same formats), read for the length of an observation window.
 *
 * Readiness: `cilium-dbg monitor` prints "Listening for events on N CPUs …" and "Press Ctrl-C to
 * quit" on stderr once it reads (the lab's stand-in once its reader has opened the per-CPU
 * buffers). startMonitor()
 * therefore resolves at the first line the reader prints; if none comes within `readyMs`
 * (default 10 s; a cold agent CLI can take seconds) but the reader is still running, it resolves anyway after that bounded wait
 * and the evidence says so. A reader that exits before that is an InfraError.
 *
 * Stopping waits `settleMs` first (default: the backend's monitorSettleMs): trace events travel
 * through a perf ring buffer and on to the reader, so the last packets of the window reach it a
 * moment after the traffic ends.
 */
import { descriptorOf } from '../backends/descriptors.ts';
import type { Backend } from '../backends/types.ts';
import { InfraError } from '../errors.ts';
import type { Evidence } from '../evidence/index.ts';
import { type MonitorEvent, parseMonitor } from '../parsers/monitor.ts';
import { commandEvidence, commandOf, sleep, tail } from './common.ts';

/** The event types a scenario with network policies reads: traces, drops and verdicts. */
export const POLICY_MONITOR_TYPES = ['trace', 'drop', 'policy-verdict'] as const;

export interface MonitorOptions {
  /** Event types (`--type`, repeated; default trace only). */
  types?: readonly string[];
  /** Only events related to this endpoint id (`--related-to`). */
  relatedTo?: number;
  /** Wait at most this long for the reader's first line (default 10 000 ms). */
  readyMs?: number;
  /** Pause before stopping so in-flight events arrive (default: the backend descriptor's monitorSettleMs). */
  settleMs?: number;
  /** Hard bound on the reader's life (default 10 minutes). */
  maxMs?: number;
}

export interface RunningMonitor {
  readonly node: string;
  readonly argv: readonly string[];
  /** Stop the reader and return what it saw. Idempotent. */
  stop(): Promise<Evidence<MonitorEvent[]>>;
}

/** `cilium-dbg monitor` prints this on stderr once it is about to read events. */
const READY = /Press Ctrl-C to quit/;

export function monitorArgv(opts: MonitorOptions = {}): string[] {
  const argv = ['cilium-dbg', 'monitor', ...(opts.types ?? ['trace']).flatMap((t) => ['--type', t])];
  if (opts.relatedTo !== undefined) argv.push('--related-to', String(opts.relatedTo));
  return argv;
}

function summarize(events: MonitorEvent[], node: string, note: string): string {
  const traces = events.filter((e) => e.type === 'trace');
  const toEndpoint = traces.filter((e) => e.observationPoint === 'to-endpoint').length;
  const toStack = traces.filter((e) => e.observationPoint === 'to-stack').length;
  const drops = events.filter((e) => e.type === 'drop').length;
  const verdicts = events.filter((e) => e.type === 'policy-verdict').length;
  const policy = drops || verdicts ? `, ${drops} drops, ${verdicts} policy verdicts` : '';
  return `cilium monitor on node ${node}: ${traces.length} trace events (${toEndpoint} -> endpoint, ${toStack} -> stack)${policy}${note}`;
}

export async function startMonitor(backend: Backend, node: string, opts: MonitorOptions = {}): Promise<RunningMonitor> {
  const argv = monitorArgv(opts);
  const proc = backend.spawn({ kind: 'agent', node }, argv, { maxMs: opts.maxMs ?? 600_000 });
  const readyMs = opts.readyMs ?? 10_000;
  let note = '';
  const notStarted = async (cause?: unknown): Promise<never> => {
    const res = await proc.stop();
    const complaint = tail(res.stderr || res.stdout);
    throw new InfraError(
      `The monitor on node ${node} exited before it was ready: \`${commandOf(res)}\` exited with ${res.exitCode}${complaint ? ` — ${complaint}` : ''}.`,
      { hint: 'Check that the Cilium agent runs on that node (`hookpoint doctor`).', cause },
    );
  };
  try {
    // Cilium's last line before it reads events (stderr); a complaint and an exit fail the wait.
    await proc.waitFor(READY, readyMs);
  } catch (err) {
    if (!proc.running()) await notStarted(err);
    note = `; no ready line within ${readyMs} ms, read from then on`;
  }
  if (!proc.running()) await notStarted();
  let result: Promise<Evidence<MonitorEvent[]>> | undefined;
  const finish = async (): Promise<Evidence<MonitorEvent[]>> => {
    const diedEarly = !proc.running();
    const settleMs = opts.settleMs ?? descriptorOf(backend.name).monitorSettleMs;
    if (!diedEarly && settleMs > 0) await sleep(settleMs);
    const res = await proc.stop();
    if (diedEarly) {
      throw new InfraError(
        `The monitor on node ${node} stopped by itself during the window (exit ${res.exitCode}), so it may have missed events: \`${commandOf(res)}\`${tail(res.stderr) ? ` — ${tail(res.stderr)}` : ''}.`,
      );
    }
    const { events } = parseMonitor(res.stdout);
    return commandEvidence('monitor', `node ${node}`, res, events, summarize(events, node, note));
  };
  return {
    node,
    argv,
    stop() {
      result ??= finish();
      return result;
    },
  };
}
