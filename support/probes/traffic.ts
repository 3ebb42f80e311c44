/**
 * Traffic probe: HTTP requests from a pod or a node to an address, run in the source's network
 * namespace through the backend. A curl process carries several requests (its lane's share of the
 * batch), each a fresh TCP connection (`Connection: close`, so curl never reuses one) with its own
 * source port and its own write-out line: outcome, exit code and error per request. Every request
 * is bounded by curl's --max-time and every process by the exec timeout around it.
 *
 * The lab's echo servers answer `pod=<name> client=<ip:port> …`, so each outcome records which
 * backend answered and which source address it saw; agnhost (kind, existing) answers `/hostname`
 * with the bare pod name, so there only the answering pod is known.
 */
import type { Backend, ExecTarget } from '../backends/types.ts';
import type { Evidence } from '../evidence/index.ts';
import type { RunResult } from '../exec/index.ts';
import { commandOf, describeTarget, tail } from './common.ts';

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
 * HTTP requests in flight at once by default: three curl processes, each carrying its share of the
 * batch one request after another. Three at once cut a window's wait when requests time out (a
 * denied policy); few processes keep it short when each is a `kubectl exec` round trip or the
 * machine is busy (a curl start costs more CPU than a request to a pod).
 */
export const HTTP_LANES = 3;

/** A body that is only a pod name (one DNS-1123 subdomain): agnhost's answer to /hostname and to a UDP "hostname". */
export const BARE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * The marker line curl's --write-out prints after each request's body: its index in the process,
 * status, exit code, addresses and error message (curl ≥ 7.75 knows `urlnum`, `exitcode` and
 * `errormsg`; the message is last because it has blanks).
 */
const MARK = 'hookpoint-curl';
const WRITE_OUT = `\n${MARK} #%{urlnum} code=%{http_code} exit=%{exitcode} local=%{local_ip}:%{local_port} remote=%{remote_ip}:%{remote_port} error=%{errormsg}\n`;

/** One curl carrying `requests` requests to `to`, one after another, each on a fresh connection. */
export function curlArgv(to: { ip: string; port: number }, opts: SendOptions = {}, requests = 1): string[] {
  if (!Number.isInteger(requests) || requests < 1)
    throw new RangeError(`curlArgv: requests must be ≥ 1, got ${requests}`);
  const maxTime = opts.maxTimeSec ?? 2;
  const host = to.ip.includes(':') ? `[${to.ip}]` : to.ip;
  const path = opts.path ?? '/hostname';
  const url = `http://${host}:${to.port}${path.startsWith('/') ? path : `/${path}`}`;
  return [
    'curl',
    '-sS',
    // Verbose: since curl 7.87 a failed connect says only "Couldn't connect to server", for a
    // refusal and an unreachable host alike; the verbose "connect to … failed: Connection refused"
    // line (stderr) is the only place the reason is left.
    '-v',
    '--noproxy',
    '*',
    '--max-time',
    String(maxTime),
    // The server closes after answering, so each request opens its own connection (new source
    // port, a new conntrack entry and a new service translation), as separate clients would.
    '-H',
    'Connection: close',
    '-w',
    WRITE_OUT,
    ...Array.from({ length: requests }, () => url),
  ];
}

/** curl exit code and stderr → the kind of failure. */
export function classifyCurlError(exitCode: number, stderr: string): RequestError {
  if (exitCode === 28 || /timed? ?out/i.test(stderr)) return 'timeout';
  if (/refused/i.test(stderr)) return 'refused';
  if (/reset by peer|connection reset/i.test(stderr) || exitCode === 56) return 'reset';
  return 'other';
}

/** curl's own complaints in its stderr: the `-v` trace lines (`*`, `>`, `<`, `{`, `}`) left out. Pure. */
export function curlComplaints(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => l.trim() && !/^[*<>{}] ?/.test(l))
    .join('\n');
}

/**
 * Pure: why each failed connect of a verbose curl failed, in order: the reason of the last
 * `* connect to <ip> port <n> … failed: <reason>` (a refusal) or `* Immediate connect fail for
 * <ip>: <reason>` (no route) line before each `* Failed to connect to …` line
 * ("" when the trace had none). One entry per request that ended with curl's exit 7.
 */
export function connectFailures(stderr: string): string[] {
  const out: string[] = [];
  let reason = '';
  for (const line of stderr.split('\n')) {
    const attempt =
      /^\* +connect to \S+ port \d+\b.* failed: (.+)$/.exec(line) ??
      /^\* +Immediate connect fail for \S+: (.+)$/.exec(line);
    if (attempt) reason = attempt[1]!.trim();
    else if (/^\* +Failed to connect to /.test(line)) {
      out.push(reason);
      reason = '';
    }
  }
  return out;
}

/**
 * Pure: one request's outcome from its body and write-out line. `exitCode` and `stderr` are the
 * process's, used only when the line lacks `exit=` and `error=` (a curl older than 7.75).
 * `connectReason` is the verbose trace's reason for a failed connect (connectFailures).
 */
export function parseCurlOutcome(
  seq: number,
  exitCode: number,
  stdout: string,
  stderr: string,
  connectReason = '',
): RequestOutcome {
  const markAt = stdout.lastIndexOf(`${MARK} `);
  const body = (markAt >= 0 ? stdout.slice(0, markAt) : stdout).trim();
  const meta = markAt >= 0 ? stdout.slice(markAt).split('\n')[0]! : '';
  const code = /code=(\d{3})/.exec(meta)?.[1];
  const httpStatus = code && code !== '000' ? Number(code) : null;
  const portText = /local=\S*:(\d+)/.exec(meta)?.[1];
  const localPort = portText && portText !== '0' ? Number(portText) : null;
  const ownExit = /exit=(\d+)/.exec(meta)?.[1];
  const exit = ownExit !== undefined ? Number(ownExit) : exitCode;
  const ownError = / error=(.*)$/.exec(meta)?.[1]?.trim();
  const said = ownError || (curlComplaints(stderr).split('\n').filter(Boolean).pop() ?? '');
  const complaint = connectReason && !said.includes(connectReason) ? `${said} (${connectReason})` : said;
  // The lab's echo says "pod=<name> client=<ip:port>"; agnhost's /hostname is the bare pod name.
  const answeredBy = /(?:^|\s)pod=(\S+)/.exec(body)?.[1] ?? (BARE_NAME.test(body) ? body : null);
  const clientSeen = /(?:^|\s)client=(\S+)/.exec(body)?.[1] ?? null;
  const ok = exit === 0 && httpStatus !== null && httpStatus >= 200 && httpStatus < 400;
  let error: RequestError | null = null;
  if (exit !== 0) error = classifyCurlError(exit, complaint);
  else if (!ok) error = 'other';
  const detail =
    exit !== 0
      ? complaint || `curl exited with ${exit}`
      : ok
        ? body.split('\n')[0]!.slice(0, 200)
        : `HTTP ${httpStatus ?? 'no status'}: ${body.split('\n')[0]!.slice(0, 200)}`;
  return { seq, ok, httpStatus, answeredBy, clientSeen, error, detail, localPort, exitCode: exit };
}

/**
 * Pure: the outcomes of the requests one curl process carried (`seqs`, in the order of its URLs)
 * from its output: each body ends at its write-out line. A request with no line (curl killed or
 * gone before it) is a failure that names the process's end.
 */
export function parseCurlTransfers(
  seqs: readonly number[],
  res: Pick<RunResult, 'exitCode' | 'stdout' | 'stderr'>,
): RequestOutcome[] {
  const lines = [...res.stdout.matchAll(new RegExp(`^${MARK} .*$`, 'gm'))];
  const complaints = curlComplaints(res.stderr);
  const reasons = connectFailures(res.stderr);
  let failedConnects = 0;
  let from = 0;
  return seqs.map((seq, i) => {
    const mark = lines[i];
    if (!mark) {
      const why = tail(complaints) || `curl exited with ${res.exitCode}`;
      return {
        seq,
        ok: false,
        httpStatus: null,
        answeredBy: null,
        clientSeen: null,
        error: res.exitCode === 0 ? 'other' : classifyCurlError(res.exitCode, complaints),
        detail: `curl ended before this request: ${why}`,
        localPort: null,
        exitCode: res.exitCode,
      };
    }
    const end = mark.index + mark[0].length;
    const own = res.stdout.slice(from, end);
    from = end + 1;
    const exit = /exit=(\d+)/.exec(mark[0])?.[1];
    const reason = exit === '7' ? (reasons[failedConnects++] ?? '') : '';
    if (seqs.length === 1) return parseCurlOutcome(seq, res.exitCode, own, res.stderr, reason);
    // Several requests: each line says its own exit and error (a curl without `exit=` is judged by its status).
    return parseCurlOutcome(seq, / code=000 /.test(mark[0]) ? res.exitCode || 1 : 0, own, '', reason);
  });
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
  const maxTimeSec = opts.maxTimeSec ?? 2;
  return sendBatch(backend, from, to, count, {
    argv: (requests) => curlArgv(to, opts, requests),
    requestsPerProcess: 'many',
    // curl's --max-time bounds each request; the exec bound only catches a hung exec, and a
    // `kubectl exec` round trip on a busy API server (or the kind stand-in) takes seconds itself.
    timeoutMs: (requests) => (maxTimeSec * requests + 10) * 1000,
    parse: (seqs, res) => parseCurlTransfers(seqs, res),
    concurrency: opts.concurrency ?? HTTP_LANES,
    noun: 'HTTP requests',
  });
}

/**
 * Requests one process carries at most: its URLs are its arguments, and through `kubectl exec`
 * every argument travels in the exec request's URL, which API servers bound.
 */
export const MAX_REQUESTS_PER_PROCESS = 100;

/**
 * Pure: requests 1..count as runs of consecutive numbers, one process each: one run per lane, as
 * even as they go (10 in 3: 3, 3, 4), unless that exceeds `perProcess`; then runs of `perProcess`.
 */
export function processShares(count: number, lanes: number, perProcess = MAX_REQUESTS_PER_PROCESS): number[][] {
  const n = Math.max(1, Math.min(lanes, count), Math.ceil(count / perProcess));
  return Array.from({ length: n }, (_, k) => {
    const first = Math.floor((k * count) / n);
    const end = Math.floor(((k + 1) * count) / n);
    return Array.from({ length: end - first }, (_, j) => first + j + 1);
  });
}

/**
 * Send `count` requests, `concurrency` processes at a time: one process per request
 * (`requestsPerProcess: 'one'`, e.g. a socat per datagram) or each lane's share in one process
 * (`'many'`, curl with several URLs; more processes when a share would exceed
 * MAX_REQUESTS_PER_PROCESS). Gathers the outcomes, in request order, as traffic evidence; each
 * process's command is listed above the requests it carried.
 */
export async function sendBatch(
  backend: Backend,
  from: ExecTarget,
  to: { ip: string; port: number },
  count: number,
  how: {
    /** The command for a process carrying `requests` requests. */
    argv: (requests: number) => string[];
    requestsPerProcess: 'one' | 'many';
    input?: string;
    timeoutMs: (requests: number) => number;
    /** The outcomes of the requests `seqs` (in order) from their process's result. */
    parse: (seqs: readonly number[], res: RunResult) => RequestOutcome[];
    concurrency?: number;
    noun: string;
  },
): Promise<Evidence<RequestOutcome[]>> {
  const where = describeTarget(from);
  const lanes = Math.max(1, Math.min(how.concurrency ?? 1, count));
  const groups =
    how.requestsPerProcess === 'many' ? processShares(count, lanes) : Array.from({ length: count }, (_, i) => [i + 1]);
  const done: Array<{ outcomes: RequestOutcome[]; res: RunResult }> = new Array(groups.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < groups.length) {
      const g = next++;
      const seqs = groups[g]!;
      const res = await backend.exec(from, how.argv(seqs.length), {
        timeoutMs: how.timeoutMs(seqs.length),
        check: false,
        input: how.input,
      });
      done[g] = { outcomes: how.parse(seqs, res), res };
    }
  };
  await Promise.all(Array.from({ length: Math.min(lanes, groups.length) }, worker));
  const outcomes = done.flatMap((d) => d.outcomes);
  const commands = done.map((d) => commandOf(d.res));
  const raw = done
    .map(({ outcomes: mine, res }) => {
      const lines = [`$ ${commandOf(res)}`];
      for (const o of mine) lines.push(`  ${describeOutcome(o)}`);
      const failed = mine.some((o) => !o.ok);
      if (failed && res.stderr.trim()) lines.push(`  stderr: ${res.stderr.trim().split('\n').join(' | ')}`);
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
