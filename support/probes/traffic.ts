/**
 * Traffic probe: HTTP requests from a pod or a node to an address, one curl process per request
 * (so each request is a fresh TCP connection with its own source port and its own line in the
 * transcript), run in the source's network namespace through the backend. Every request is
 * bounded by curl's --max-time and by the exec timeout around it.
 *
 * The lab's echo servers answer `pod=<name> client=<ip:port> …`, so each outcome records which
 * backend answered and which source address it saw; agnhost (kind, existing) answers `/hostname`
 * with the bare pod name, so there only the answering pod is known.
 */
import type { Backend, ExecTarget } from '../backends/types.ts';
import type { Evidence } from '../evidence/index.ts';
import type { RunResult } from '../exec/index.ts';
import { commandOf, describeTarget } from './common.ts';

export type RequestError = 'refused' | 'timeout' | 'reset' | 'other';

export interface RequestOutcome {
  /** 1-based position in the batch. */
  seq: number;
  ok: boolean;
  httpStatus: number | null;
  /** The echo pod that answered ("pod=<name>"), when the body says so. */
  answeredBy: string | null;
  /** The client address the backend saw ("client=<ip:port>"): shows SNAT. */
  clientSeen: string | null;
  error: RequestError | null;
  /** curl's complaint or the body's first line. */
  detail: string;
  localPort: number | null;
  /** curl's exit code (0 on success, 7 refused/unreachable, 28 timeout, 56 reset); the client's for UDP and ICMP. */
  exitCode: number;
  /** The address the answer came from, when the protocol names it (ICMP echo replies). */
  replyFrom?: string;
}

export interface SendOptions {
  /** curl --max-time per request, seconds (default 2). */
  maxTimeSec?: number;
  /** URL path (default "/hostname": agnhost's netexec answers it with the pod name; the lab's echo answers any path). */
  path?: string;
  /** Requests in flight at once (default HTTP_LANES). */
  concurrency?: number;
}

/**
 * HTTP requests in flight at once by default. Each is still its own curl process and connection
 * (its own source port, its own transcript line); three at once cut a window's wait, most of all
 * when requests time out (a denied policy) or each is a `kubectl exec` round trip.
 */
export const HTTP_LANES = 3;

/** A body that is only a pod name (one DNS-1123 subdomain): agnhost's answer to /hostname and to a UDP "hostname". */
export const BARE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** The marker line curl's --write-out prints after the body. */
const MARK = 'hookpoint-curl';

export function curlArgv(to: { ip: string; port: number }, opts: SendOptions = {}): string[] {
  const maxTime = opts.maxTimeSec ?? 2;
  const host = to.ip.includes(':') ? `[${to.ip}]` : to.ip;
  const path = opts.path ?? '/hostname';
  return [
    'curl',
    '-sS',
    '--noproxy',
    '*',
    '--max-time',
    String(maxTime),
    '-o',
    '-',
    '-w',
    `\n${MARK} code=%{http_code} local=%{local_ip}:%{local_port} remote=%{remote_ip}:%{remote_port}\n`,
    `http://${host}:${to.port}${path.startsWith('/') ? path : `/${path}`}`,
  ];
}

/** curl exit code and stderr → the kind of failure. */
export function classifyCurlError(exitCode: number, stderr: string): RequestError {
  if (exitCode === 28 || /timed? ?out/i.test(stderr)) return 'timeout';
  if (/refused/i.test(stderr)) return 'refused';
  if (/reset by peer|connection reset/i.test(stderr) || exitCode === 56) return 'reset';
  return 'other';
}

/** Pure: one curl run (exit code, stdout, stderr) → its outcome. */
export function parseCurlOutcome(seq: number, exitCode: number, stdout: string, stderr: string): RequestOutcome {
  const markAt = stdout.lastIndexOf(`${MARK} `);
  const body = (markAt >= 0 ? stdout.slice(0, markAt) : stdout).trim();
  const meta = markAt >= 0 ? stdout.slice(markAt) : '';
  const code = /code=(\d{3})/.exec(meta)?.[1];
  const httpStatus = code && code !== '000' ? Number(code) : null;
  const portText = /local=\S*:(\d+)/.exec(meta)?.[1];
  const localPort = portText && portText !== '0' ? Number(portText) : null;
  // The lab's echo says "pod=<name> client=<ip:port>"; agnhost's /hostname is the bare pod name.
  const answeredBy = /(?:^|\s)pod=(\S+)/.exec(body)?.[1] ?? (BARE_NAME.test(body) ? body : null);
  const clientSeen = /(?:^|\s)client=(\S+)/.exec(body)?.[1] ?? null;
  const ok = exitCode === 0 && httpStatus !== null && httpStatus >= 200 && httpStatus < 400;
  const complaint = stderr.trim().split('\n').filter(Boolean).pop() ?? '';
  let error: RequestError | null = null;
  if (exitCode !== 0) error = classifyCurlError(exitCode, stderr);
  else if (!ok) error = 'other';
  const detail =
    exitCode !== 0
      ? complaint || `curl exited with ${exitCode}`
      : ok
        ? body.split('\n')[0]!.slice(0, 200)
        : `HTTP ${httpStatus ?? 'no status'}: ${body.split('\n')[0]!.slice(0, 200)}`;
  return { seq, ok, httpStatus, answeredBy, clientSeen, error, detail, localPort, exitCode };
}

export function describeOutcome(o: RequestOutcome): string {
  if (o.ok) {
    const by = o.answeredBy ? ` answered by ${o.answeredBy}` : '';
    const seen = o.clientSeen ? ` (saw client ${o.clientSeen})` : '';
    const status = o.httpStatus === null ? ' reply' : ` HTTP ${o.httpStatus}`;
    const from = o.replyFrom ? ` from ${o.replyFrom}` : '';
    return `#${o.seq} ok${status}${by}${from}${seen}${o.localPort ? ` from port ${o.localPort}` : ''}`;
  }
  return `#${o.seq} ${o.error ?? 'failed'}: ${o.detail}`;
}

export function summarize(
  outcomes: RequestOutcome[],
  where: string,
  to: { ip: string; port?: number },
  noun = 'HTTP requests',
): string {
  const ok = outcomes.filter((o) => o.ok).length;
  const by = new Map<string, number>();
  for (const o of outcomes) if (o.ok && o.answeredBy) by.set(o.answeredBy, (by.get(o.answeredBy) ?? 0) + 1);
  const answered = by.size ? ` (answered by ${[...by].map(([p, n]) => `${p} ×${n}`).join(', ')})` : '';
  const errors = new Map<string, number>();
  for (const o of outcomes) if (!o.ok) errors.set(o.error ?? 'other', (errors.get(o.error ?? 'other') ?? 0) + 1);
  const failed = errors.size ? `; failed: ${[...errors].map(([e, n]) => `${e} ×${n}`).join(', ')}` : '';
  const dst = to.port === undefined ? to.ip : `${to.ip}:${to.port}`;
  return `${ok}/${outcomes.length} ${noun} from ${where} to ${dst} succeeded${answered}${failed}`;
}

/**
 * Send `count` HTTP requests from `from` to `to`, one fresh connection each. Never throws for a
 * failed request (that is the outcome under test); throws InfraError only when the exec itself
 * could not run or hung past its bound.
 */
export async function sendRequests(
  backend: Backend,
  from: ExecTarget,
  to: { ip: string; port: number },
  count: number,
  opts: SendOptions = {},
): Promise<Evidence<RequestOutcome[]>> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`sendRequests: count must be ≥ 1, got ${count}`);
  return sendBatch(backend, from, to, count, {
    argv: curlArgv(to, opts),
    // curl's --max-time bounds the request; the exec bound only catches a hung exec, and a
    // `kubectl exec` round trip on a busy API server (or the kind stand-in) takes seconds itself.
    timeoutMs: ((opts.maxTimeSec ?? 2) + 10) * 1000,
    parse: (seq, res) => parseCurlOutcome(seq, res.exitCode, res.stdout, res.stderr),
    concurrency: opts.concurrency ?? HTTP_LANES,
    noun: 'HTTP requests',
  });
}

/**
 * Run one client process per request (each a fresh socket with its own source port and its own
 * line in the transcript), `concurrency` at a time, and gather the outcomes as traffic evidence.
 */
export async function sendBatch(
  backend: Backend,
  from: ExecTarget,
  to: { ip: string; port: number },
  count: number,
  how: {
    argv: string[];
    input?: string;
    timeoutMs: number;
    parse: (seq: number, res: RunResult) => RequestOutcome;
    concurrency?: number;
    noun: string;
  },
): Promise<Evidence<RequestOutcome[]>> {
  const where = describeTarget(from);
  const results: Array<{ outcome: RequestOutcome; res: RunResult }> = new Array(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const res = await backend.exec(from, how.argv, { timeoutMs: how.timeoutMs, check: false, input: how.input });
      results[i] = { outcome: how.parse(i + 1, res), res };
    }
  };
  const lanes = Math.max(1, Math.min(how.concurrency ?? 1, count));
  await Promise.all(Array.from({ length: lanes }, worker));
  const outcomes = results.map((r) => r.outcome);
  const commands = results.map((r) => commandOf(r.res));
  const raw = results
    .map(({ outcome, res }) => {
      const lines = [describeOutcome(outcome), `  $ ${commandOf(res)}`];
      if (!outcome.ok && res.stderr.trim()) lines.push(`  stderr: ${res.stderr.trim().split('\n').join(' | ')}`);
      return lines.join('\n');
    })
    .join('\n');
  return {
    kind: 'traffic',
    where,
    commands,
    raw: `${raw}\n`,
    data: outcomes,
    summary: summarize(outcomes, where, to, how.noun),
  };
}
