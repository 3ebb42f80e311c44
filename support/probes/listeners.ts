/**
 * Backend liveness: is the echo server of each pod the window's traffic was addressed to still
 * answering on the port the traffic needs? One `ss -H -l -n -t -u` per pod (every listening TCP
 * and bound UDP socket), in the pod's network namespace, in parallel. Three different answers:
 *   - listening: something listens on the port (in the protocol asked);
 *   - not-listening: the pod has listeners, just not that one (a service whose target port the
 *     workload does not serve): the diagnosis names the service's port, target port and the
 *     listeners seen — nothing exited;
 *   - exited: no listener at all: the backend process is gone (killed, crashed) and every
 *     verdict of the window would be about a dead workload, not about the datapath.
 *
 * Unknown is not dead: when `ss` cannot run in the pod (an image without it), the pod is
 * reported as unchecked and nothing is concluded from it.
 */
import type { Backend } from '../backends/types.ts';
import { InfraError } from '../errors.ts';
import type { Evidence } from '../evidence/index.ts';
import { commandOf, tail } from './common.ts';

export type ListenerProtocol = 'TCP' | 'UDP';

export interface ListenerState {
  pod: string;
  port: number;
  protocol: ListenerProtocol;
  state: 'listening' | 'not-listening' | 'exited' | 'unchecked';
  detail: string;
  /** Every listener the pod has, as "tcp 80", "udp 5353" (empty when unchecked). */
  seen: string[];
  /** The service the traffic addressed, when it was one: its port and target port. */
  service?: { name: string; port: number; targetPort: number };
}

export interface ListenerQuery {
  pod: string;
  namespace?: string;
  port: number;
  protocol?: ListenerProtocol;
  service?: { name: string; port: number; targetPort: number };
}

// A `kubectl exec` round trip to a busy API server (or to the kind stand-in on two loaded cores)
// can take seconds; a listener read that times out breaks the scenario, so it gets the bpftool
// reads' bound, not a tighter one.
const TIMEOUT_MS = 15_000;

/** Every listening TCP socket and bound UDP socket of the namespace, numeric, no header. */
export function ssArgv(): string[] {
  return ['ss', '-H', '-l', '-n', '-t', '-u'];
}

/** Pure: `ss -H -l -n -t -u` output → the listeners, as "tcp 80" / "udp 5353" (deduplicated, sorted). */
export function parseListeners(stdout: string): string[] {
  const out = new Set<string>();
  for (const line of stdout.split('\n')) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 5) continue;
    const proto = cols[0]!.toLowerCase();
    if (proto !== 'tcp' && proto !== 'udp') continue;
    const port = /:(\d+)$/.exec(cols[4]!)?.[1];
    if (port) out.add(`${proto} ${port}`);
  }
  return [...out].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

/** Pure: one ss run → the pod's listener state for `port`/`protocol`. */
export function listenerState(q: ListenerQuery, exitCode: number, stdout: string, stderr: string): ListenerState {
  const protocol = q.protocol ?? 'TCP';
  const base = { pod: q.pod, port: q.port, protocol, ...(q.service ? { service: q.service } : {}) };
  if (exitCode !== 0)
    return {
      ...base,
      state: 'unchecked',
      seen: [],
      detail: `ss exited with ${exitCode}${tail(stderr) ? ` — ${tail(stderr)}` : ''}`,
    };
  const seen = parseListeners(stdout);
  const wanted = `${protocol.toLowerCase()} ${q.port}`;
  if (seen.includes(wanted)) return { ...base, state: 'listening', seen, detail: `listens on ${wanted}` };
  if (seen.length)
    return {
      ...base,
      state: 'not-listening',
      seen,
      detail: `nothing listens on ${protocol} port ${q.port}; listeners seen: ${seen.join(', ')}`,
    };
  return {
    ...base,
    state: 'exited',
    seen,
    detail: `no listener at all (nothing listens on ${protocol} port ${q.port})`,
  };
}

export async function checkListeners(
  backend: Backend,
  pods: ReadonlyArray<ListenerQuery>,
): Promise<Evidence<ListenerState[]>> {
  const results = await Promise.all(
    pods.map(async (p) => {
      const res = await backend.exec({ kind: 'pod', pod: p.pod, namespace: p.namespace }, ssArgv(), {
        timeoutMs: TIMEOUT_MS,
        check: false,
      });
      return { res, state: listenerState(p, res.exitCode, res.stdout, res.stderr) };
    }),
  );
  const data = results.map((r) => r.state);
  const missing = data.filter((s) => s.state === 'exited' || s.state === 'not-listening');
  return {
    kind: 'listeners',
    where: 'backend pods',
    commands: results.map((r) => commandOf(r.res)),
    raw: `${data.map((s) => `pod ${s.pod} ${s.protocol} port ${s.port}: ${s.state} (${s.detail})`).join('\n')}\n`,
    data,
    summary: missing.length
      ? `${missing.length} of ${data.length} backend pods have no listener on the port: ${missing.map((s) => `${s.pod}:${s.port}/${s.protocol}`).join(', ')}`
      : `${data.filter((s) => s.state === 'listening').length} of ${data.length} backend pods listening`,
  };
}

/**
 * InfraError naming every pod that does not answer on the window's port: "nothing listening on
 * the target port" (with the service's port, target port and the listeners seen) for a pod
 * whose server runs on other ports, "backend exited" for a pod with no listener at all.
 */
export function expectBackendsAlive(ev: Evidence<ListenerState[]> & { attachment?: string }): void {
  const cite = ev.attachment ? ` (evidence ${ev.attachment})` : '';
  const deaf = ev.data.filter((s) => s.state === 'not-listening');
  if (deaf.length) {
    const svc = deaf.find((s) => s.service)?.service;
    const which = svc
      ? `service "${svc.name}" sends port ${svc.port} to target port ${svc.targetPort}/${deaf[0]!.protocol}`
      : `the traffic went to ${deaf[0]!.protocol} port ${deaf[0]!.port}`;
    throw new InfraError(
      `nothing listening on the target port: ${which}, but ${deaf.map((s) => `pod ${s.pod} listens only on ${s.seen.join(', ')}`).join('; ')}, so the window's traffic reached a workload that does not serve that port and says nothing about the datapath${cite}.`,
      {
        hint: 'Make the service target a port the workload serves (state it: "… port 8080 target port 80 …"), or make the workload listen on the target port.',
      },
    );
  }
  const exited = ev.data.filter((s) => s.state === 'exited');
  if (exited.length === 0) return;
  throw new InfraError(
    `backend exited: the echo server of ${exited.map((s) => `pod ${s.pod} (${s.detail})`).join(', ')} is gone, so the window's traffic went to a dead workload and says nothing about the datapath${cite}.`,
    { hint: 'Find out why the workload exited (its log, the node), restart it, and rerun.' },
  );
}
