/**
 * ICMP traffic probe: echo requests from a pod or a node to an address, one `ping` process for
 * the batch (-c N, 0.2 s apart, each waiting at most -W seconds), every reply line parsed. A
 * sequence number with no reply is a timeout; "Destination … Unreachable" or "Packet filtered"
 * lines are a refusal. The reply's source address is kept: the window maps it to a pod or node.
 */
import type { Backend, ExecTarget } from '../backends/types.ts';
import type { Evidence } from '../evidence/index.ts';
import { commandOf, describeTarget } from './common.ts';
import { describeOutcome, type RequestOutcome, summarize } from './traffic.ts';

const WAIT_SEC = 1;

export function pingArgv(ip: string, count: number): string[] {
  return ['ping', '-n', '-c', String(count), '-i', '0.2', '-W', String(WAIT_SEC), ip];
}

/** Pure: ping's output → one outcome per echo request. */
export function parsePingOutcomes(count: number, exitCode: number, stdout: string, stderr: string): RequestOutcome[] {
  const replies = new Map<number, { from: string; line: string }>();
  const refusals = new Map<number, string>();
  for (const line of stdout.split('\n')) {
    const seq = Number(/icmp_seq=(\d+)/.exec(line)?.[1]);
    if (!seq) continue;
    const reply = /bytes from ([0-9.]+):/.exec(line);
    if (reply) replies.set(seq, { from: reply[1]!, line: line.trim() });
    else if (/Unreachable|filtered|Prohibited/i.test(line)) refusals.set(seq, line.trim());
  }
  const complaint = stderr.trim().split('\n').filter(Boolean).pop() ?? '';
  return Array.from({ length: count }, (_, i): RequestOutcome => {
    const seq = i + 1;
    const reply = replies.get(seq);
    const base = { seq, httpStatus: null, clientSeen: null, localPort: null, exitCode, answeredBy: null };
    if (reply) return { ...base, ok: true, error: null, detail: reply.line, replyFrom: reply.from };
    const refused = refusals.get(seq);
    if (refused) return { ...base, ok: false, error: 'refused', detail: refused };
    return {
      ...base,
      ok: false,
      error: exitCode === 1 || exitCode === 0 ? 'timeout' : 'other',
      detail: exitCode > 1 ? complaint || `ping exited with ${exitCode}` : `no echo reply within ${WAIT_SEC} s`,
    };
  });
}

/** Send `count` ICMP echo requests. Never throws for a lost or refused request. */
export async function sendPings(
  backend: Backend,
  from: ExecTarget,
  to: { ip: string },
  count: number,
): Promise<Evidence<RequestOutcome[]>> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`sendPings: count must be ≥ 1, got ${count}`);
  const where = describeTarget(from);
  const res = await backend.exec(from, pingArgv(to.ip, count), {
    timeoutMs: (count * 0.2 + WAIT_SEC + 5) * 1000,
    check: false,
  });
  const outcomes = parsePingOutcomes(count, res.exitCode, res.stdout, res.stderr);
  const raw = `${outcomes.map(describeOutcome).join('\n')}\n  $ ${commandOf(res)}\n${res.stdout}${res.stderr ? `stderr: ${res.stderr}` : ''}`;
  return {
    kind: 'traffic',
    where,
    commands: [commandOf(res)],
    raw,
    data: outcomes,
    summary: summarize(outcomes, where, to, 'ICMP echo requests'),
  };
}
