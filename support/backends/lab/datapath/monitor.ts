/**
 * The lab's trace stream: records of lab_lb.c's perf event array `events`, read by
 * `bpftool map event_pipe` (one process per node, started with spawnBackground) and decoded
 * here from its hex dump into typed records (the agent stand-in, ../agent/, prints them in
 * `cilium-dbg monitor`'s formats). Why bpftool and not a C reader: no second userspace program to build, ship and
 * keep in sync; bpftool flushes each record as it arrives, and the record layout is fixed
 * (64 bytes, version 1), so decoding it in TypeScript is a pure, unit-tested function.
 *
 * A perf event array has ONE consumer (lab-findings pitfall 12): a second reader silently
 * steals the events. startMonitor() therefore refuses a second stream on the same node in
 * this process; share the returned stream between probes instead.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { InfraError } from '../../../errors.ts';
import { type BackgroundProcess, spawnBackground } from '../../../exec/index.ts';
import { TRACE_POLL_MS } from '../trace-poll.ts';
import type { NodeDatapath } from './node-datapath.ts';

export const TRACE_RECORD_SIZE = 64;

/** Observation points of lab_lb.c's records (OBS_*); toOverlay only in tunnel mode. */
export const OBS = {
  toStack: 1,
  toEndpointRedirect: 2,
  toEndpoint: 3,
  drop: 4,
  policyVerdict: 5,
  toOverlay: 6,
} as const;
export const XLATE = { none: 0, dnat: 1, revnat: 2 } as const;
const STATES = ['unknown', 'new', 'established', 'reply'] as const;

/** One decoded record of lab_lb.c's struct trace_ev. */
export interface TraceRecord {
  tsNs: bigint;
  /** lxc the program ran on. */
  ifindex: number;
  /** bpf_redirect target (0: none). */
  targetIfindex: number;
  srcEndpoint: number;
  dstEndpoint: number;
  /** 1 to-stack (from_container), 2 to-endpoint by bpf_redirect (from_container), 3 to-endpoint (to_container). */
  obs: number;
  proto: number;
  /** TCP flags byte; the ICMP type for ICMP. */
  tcpFlags: number;
  /** 0 none, 1 service DNAT, 2 reverse NAT. */
  xlate: number;
  state: (typeof STATES)[number];
  slot: number;
  count: number;
  version: number;
  orig: { saddr: string; daddr: string; sport: number; dport: number };
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  len: number;
  /**
   * Policy records (obs drop, policyVerdict): the decision as lab_lb.c made it — direction,
   * action, match type (Cilium's numbers), the peer's identity from the datapath's ipcache, and
   * the source line of a drop.
   */
  policy?: {
    direction: 'ingress' | 'egress';
    action: 'allow' | 'deny';
    match: number;
    peerIdentity: number;
    line: number;
  };
  /** CPU the record was emitted on (bpftool's record header), when known. */
  cpu?: number;
}

/** Record layout version (byte 31) of lab_kpr.c's socket translation records. */
export const SOCK_TRACE_VERSION = 2;
/** Cilium's socket translation points, by lab_kpr.c's XLATE_* number. */
export const XLATE_POINTS = ['pre-xlate-fwd', 'post-xlate-fwd', 'pre-xlate-rev', 'post-xlate-rev'] as const;

/** One decoded record of lab_kpr.c's struct sock_ev: a socket hook's translation, before or after. */
export interface SockTraceRecord {
  kind: 'sock';
  tsNs: bigint;
  cgroupId: bigint;
  cookie: bigint;
  point: (typeof XLATE_POINTS)[number];
  proto: number;
  daddr: string;
  dport: number;
  cpu?: number;
}

/** True when a 64-byte record is a socket translation record (lab_kpr.c), not a packet trace. */
export function isSockTrace(bytes: Uint8Array): boolean {
  return bytes[31] === SOCK_TRACE_VERSION;
}

export function decodeSockTraceRecord(bytes: Uint8Array, littleEndian = true): SockTraceRecord {
  if (bytes.length < TRACE_RECORD_SIZE)
    throw new InfraError(
      `internal: a lab socket trace record has ${bytes.length} bytes, expected ${TRACE_RECORD_SIZE}.`,
    );
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    kind: 'sock',
    tsNs: v.getBigUint64(0, littleEndian),
    cgroupId: v.getBigUint64(8, littleEndian),
    cookie: v.getBigUint64(16, littleEndian),
    point: XLATE_POINTS[bytes[24]!] ?? 'pre-xlate-fwd',
    proto: bytes[25]!,
    daddr: ip(bytes, 32),
    dport: v.getUint16(36, false),
  };
}

function ip(b: Uint8Array, off: number): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/** Decode a 64-byte record (host byte order for counters, network order for addresses/ports). */
export function decodeTraceRecord(bytes: Uint8Array, littleEndian = true): TraceRecord {
  if (bytes.length < TRACE_RECORD_SIZE)
    throw new InfraError(`internal: a lab trace record has ${bytes.length} bytes, expected ${TRACE_RECORD_SIZE}.`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => v.getUint32(o, littleEndian);
  const be16 = (o: number) => v.getUint16(o, false);
  const obs = bytes[24]!;
  const policy =
    obs === OBS.drop || obs === OBS.policyVerdict
      ? {
          direction: bytes[29] === 2 ? ('egress' as const) : ('ingress' as const),
          action: bytes[27] === 1 ? ('allow' as const) : ('deny' as const),
          match: bytes[30]!,
          peerIdentity: u32(60),
          line: u32(12),
        }
      : undefined;
  return {
    ...(policy ? { policy } : {}),
    tsNs: v.getBigUint64(0, littleEndian),
    ifindex: u32(8),
    targetIfindex: u32(12),
    srcEndpoint: u32(16),
    dstEndpoint: u32(20),
    obs: bytes[24]!,
    proto: bytes[25]!,
    tcpFlags: bytes[26]!,
    xlate: bytes[27]!,
    state: STATES[bytes[28]!] ?? 'unknown',
    slot: bytes[29]!,
    count: bytes[30]!,
    version: bytes[31]!,
    orig: { saddr: ip(bytes, 32), daddr: ip(bytes, 36), sport: be16(40), dport: be16(42) },
    saddr: ip(bytes, 44),
    daddr: ip(bytes, 48),
    sport: be16(52),
    dport: be16(54),
    len: u32(56),
  };
}

/**
 * Incremental parser of `bpftool map event_pipe` text output:
 *   == @424.323070973 CPU: 0 index: 0 =====
 *   6e 4c ab cb 62 00 00 00  02 00 00 00 00 00 00 00
 *   …
 * A record is complete once TRACE_RECORD_SIZE bytes arrived. Lost-sample notices are counted.
 */
export class EventPipeDecoder {
  private partial = '';
  private current: number[] | undefined;
  private emitted = false;
  private cpu: number | undefined;
  /** CPU of each record returned so far, in order (from the `== @… CPU: n` headers). */
  readonly cpus: Array<number | undefined> = [];
  lost = 0;
  /** Lines that were neither headers nor hex (kept for diagnosis). */
  readonly other: string[] = [];

  push(chunk: string): Uint8Array[] {
    const out: Uint8Array[] = [];
    const text = this.partial + chunk;
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    for (const raw of lines) this.line(raw.trim(), out);
    return out;
  }

  /** Flush a final line without newline. */
  end(): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (this.partial) this.line(this.partial.trim(), out);
    this.partial = '';
    return out;
  }

  private line(line: string, out: Uint8Array[]): void {
    if (!line) return;
    if (line.startsWith('==')) {
      this.current = [];
      this.emitted = false;
      const cpu = /CPU: (\d+)/.exec(line);
      this.cpu = cpu ? Number(cpu[1]) : undefined;
      return;
    }
    const lost = /^lost (\d+) (?:events|samples)/i.exec(line);
    if (lost) {
      this.lost += Number(lost[1]);
      return;
    }
    if (this.current && /^[0-9a-f]{2}( +[0-9a-f]{2})*$/i.test(line)) {
      for (const h of line.split(/ +/)) this.current.push(Number.parseInt(h, 16));
      if (!this.emitted && this.current.length >= TRACE_RECORD_SIZE) {
        out.push(Uint8Array.from(this.current.slice(0, TRACE_RECORD_SIZE)));
        this.cpus.push(this.cpu);
        this.emitted = true;
      }
      return;
    }
    if (this.other.length < 100) this.other.push(line);
  }
}

export interface TraceStream {
  readonly node: string;
  /** The records so far, in arrival order. */
  records(): TraceRecord[];
  /** Samples the kernel reported lost. */
  lost(): number;
  running(): boolean;
  /**
   * Stop the reader and return every record (the node's interface names refreshed first, so a
   * formatter can name the lxc of a pod created during the stream).
   */
  stop(): Promise<TraceRecord[]>;
}

const active = new Set<string>();

/** Number of possible CPUs (bpftool opens one perf buffer per CPU; `cilium-dbg monitor` reports it). */
export function possibleCpus(): number {
  try {
    const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
    let n = 0;
    for (const part of text.split(',')) {
      const [a, b] = part.split('-').map(Number);
      n += b === undefined ? 1 : b! - a! + 1;
    }
    return n || 1;
  } catch {
    return 1;
  }
}

function perfFds(pid: number): number {
  try {
    let n = 0;
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`).includes('perf_event')) n++;
      } catch {
        // fd closed meanwhile
      }
    }
    return n;
  } catch {
    return 0;
  }
}

export interface MonitorOptions {
  /** Upper bound of the reader's life (spawnBackground maxMs); default 6 h. */
  maxMs?: number;
  /**
   * Called with each record as it arrives, polled every `pollMs` (default TRACE_POLL_MS), once the node's
   * interface names cover its interfaces: for a `cilium-dbg monitor`-style command that prints
   * the stream.
   */
  onRecord?: (record: TraceRecord) => void;
  /** The same for socket translation records (kube-proxy replacement), in arrival order with the others. */
  onSockRecord?: (record: SockTraceRecord) => void;
  pollMs?: number;
}

/**
 * Start the node's trace stream. Resolves once the reader has opened its per-CPU buffers, so
 * traffic sent afterwards is seen. Stop it before dp.unload().
 */
export async function startMonitor(dp: NodeDatapath, opts: MonitorOptions = {}): Promise<TraceStream> {
  const key = dp.eventsMapPath;
  if (active.has(key))
    throw new InfraError(
      `A trace stream is already reading ${key} for node ${dp.node}; a perf event array has a single consumer, so share that stream.`,
    );
  active.add(key);
  try {
    await dp.interfaceNames(true);
  } catch {
    // Names are cosmetic; numbers are printed until they resolve.
  }
  const decoder = new EventPipeDecoder();
  const records: TraceRecord[] = [];
  /** Every record in arrival order, socket translations included (what onRecord/onSockRecord see). */
  const arrived: Array<TraceRecord | SockTraceRecord> = [];
  let consumed = 0;
  let bg: BackgroundProcess;
  try {
    bg = spawnBackground(['bpftool', 'map', 'event_pipe', 'pinned', key], {
      maxMs: opts.maxMs ?? 6 * 3600_000,
      where: `node ${dp.node}`,
    });
  } catch (err) {
    active.delete(key);
    throw err;
  }
  const unnamed = (r: TraceRecord) =>
    [r.ifindex, r.targetIfindex].some((i) => i !== 0 && dp.interfaceName(i) === undefined);
  const take = (list: Uint8Array[]) => {
    for (const bytes of list) {
      const cpu = decoder.cpus[arrived.length];
      if (isSockTrace(bytes)) {
        arrived.push({ ...decodeSockTraceRecord(bytes), cpu });
        continue;
      }
      const rec = decodeTraceRecord(bytes);
      rec.cpu = cpu;
      records.push(rec);
      arrived.push(rec);
    }
  };
  let refreshing: Promise<unknown> | undefined;
  const pump = () => {
    const out = bg.output();
    if (out.length > consumed) {
      const chunk = out.slice(consumed);
      consumed = out.length;
      const before = records.length;
      take(decoder.push(chunk));
      if (!refreshing && records.slice(before).some(unnamed))
        refreshing = dp
          .interfaceNames(true)
          .catch(() => undefined)
          .finally(() => {
            refreshing = undefined;
          });
    }
  };
  // Ready once every possible CPU has its perf buffer (bpftool opens one per CPU).
  const cpus = possibleCpus();
  const deadline = Date.now() + 5000;
  // The pid is known once the process runs (it is started by the spawner, support/exec).
  while (bg.running() && (bg.pid === undefined || perfFds(bg.pid) < cpus) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 10));
  if (!bg.running()) {
    active.delete(key);
    const res = await bg.stop();
    throw new InfraError(
      `The trace reader for node ${dp.node} exited at start: ${(res.stderr || res.stdout).trim().slice(-300)}.`,
    );
  }
  await new Promise((r) => setTimeout(r, 30));
  let stopped: Promise<TraceRecord[]> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let delivered = 0;
  let delivering: Promise<void> | undefined;
  const delivers = opts.onRecord || opts.onSockRecord;
  if (delivers) {
    const tick = () => {
      if (!delivering)
        delivering = deliverRecords().finally(() => {
          delivering = undefined;
        });
    };
    timer = setInterval(tick, opts.pollMs ?? TRACE_POLL_MS);
    timer.unref();
  }
  async function deliverRecords(): Promise<void> {
    pump();
    const fresh = arrived.slice(delivered);
    if (fresh.length === 0) return;
    if (fresh.some((r) => !('kind' in r) && unnamed(r))) await dp.interfaceNames(true).catch(() => undefined);
    for (const r of fresh)
      if ('kind' in r) opts.onSockRecord?.(r);
      else opts.onRecord?.(r);
    delivered += fresh.length;
  }
  return {
    node: dp.node,
    records: () => {
      pump();
      return [...records];
    },
    lost: () => decoder.lost,
    running: () => bg.running(),
    stop(): Promise<TraceRecord[]> {
      if (!stopped)
        stopped = (async () => {
          try {
            if (timer) clearInterval(timer);
            await bg.stop();
            pump();
            take(decoder.end());
            if (delivering) await delivering;
            if (delivers) await deliverRecords();
            if (refreshing) await refreshing;
            if (records.some(unnamed)) await dp.interfaceNames(true).catch(() => undefined);
            return [...records];
          } finally {
            active.delete(key);
          }
        })();
      return stopped;
    },
  };
}
