/**
 * UDP traffic probe: datagrams from a pod or a node to an address, one `socat` process per
 * datagram (a fresh socket, so its own source port and its own line in the transcript). Each
 * sends `hostname` and waits for one reply: the lab's echo answers `pod=<name> client=<ip:port>`,
 * the kind/existing echo (agnhost serve-hostname) the bare pod name. An ICMP port unreachable
 * comes back as "Connection refused"; no reply within the wait is a timeout.
 */
import type { Backend, ExecTarget } from '../backends/types.ts';
import type { Evidence } from '../evidence/index.ts';
import { BARE_NAME, classifyCurlError, type RequestOutcome, sendBatch } from './traffic.ts';

/** What the client sends: agnhost's UDP servers answer it with the pod name; the lab's echo answers anything. */
export const DATAGRAM_PAYLOAD = 'hostname\n';

/** How long socat waits for the reply after sending (seconds): also the bound of a lost datagram. */
const WAIT_SEC = 1;

export function socatUdpArgv(to: { ip: string; port: number }, waitSec = WAIT_SEC): string[] {
  return ['socat', '-t', String(waitSec), '-T', String(waitSec), '-', `UDP4:${to.ip}:${to.port}`];
}

/** Pure: one socat run → the datagram's outcome. */
export function parseDatagramOutcome(seq: number, exitCode: number, stdout: string, stderr: string): RequestOutcome {
  const body = stdout.trim().split('\n')[0]?.trim() ?? '';
  const complaint = stderr.trim().split('\n').filter(Boolean).pop() ?? '';
  const base = { seq, httpStatus: null, localPort: null, exitCode };
  if (body) {
    const tagged = /(?:^|\s)pod=(\S+)/.exec(body)?.[1];
    // agnhost answers with the bare hostname (the pod name).
    const bare = BARE_NAME.test(body) ? body : null;
    return {
      ...base,
      ok: true,
      answeredBy: tagged ?? bare,
      clientSeen: /(?:^|\s)client=(\S+)/.exec(body)?.[1] ?? null,
      error: null,
      detail: body.slice(0, 200),
    };
  }
  const error = exitCode !== 0 ? classifyCurlError(exitCode, stderr) : 'timeout';
  return {
    ...base,
    ok: false,
    answeredBy: null,
    clientSeen: null,
    error,
    detail: complaint || (exitCode === 0 ? `no reply within ${WAIT_SEC} s` : `socat exited with ${exitCode}`),
  };
}

/** Send `count` datagrams, one fresh socket each. Never throws for a lost or refused datagram. */
export async function sendDatagrams(
  backend: Backend,
  from: ExecTarget,
  to: { ip: string; port: number },
  count: number,
): Promise<Evidence<RequestOutcome[]>> {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`sendDatagrams: count must be ≥ 1, got ${count}`);
  return sendBatch(backend, from, to, count, {
    argv: () => socatUdpArgv(to),
    requestsPerProcess: 'one',
    input: DATAGRAM_PAYLOAD,
    timeoutMs: () => (WAIT_SEC * 2 + 3) * 1000,
    parse: ([seq], res) => [parseDatagramOutcome(seq!, res.exitCode, res.stdout, res.stderr)],
    noun: 'UDP datagrams',
  });
}
