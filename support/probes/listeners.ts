/**
 * Backend liveness: is the echo server of each pod the window's traffic was addressed to still
 * listening on its port? One `ss -H -t -l -n sport = :PORT` per pod, in the pod's network
 * namespace, in parallel. A pod with no listener has lost its backend process (killed, crashed)
 * and every verdict of that window would be about a dead workload, not about the datapath.
 *
 * Unknown is not dead: when `ss` cannot run in the pod (an image without it), the pod is
 * reported as unchecked and nothing is concluded from it.
 */
import type { Backend } from '../backends/types.ts';
import { InfraError } from '../errors.ts';
import type { Evidence } from '../evidence/index.ts';
import { commandOf, tail } from './common.ts';

export interface ListenerState {
  pod: string;
  port: number;
  state: 'listening' | 'exited' | 'unchecked';
  detail: string;
}

const TIMEOUT_MS = 5000;

export function ssArgv(port: number): string[] {
  return ['ss', '-H', '-t', '-l', '-n', 'sport', '=', `:${port}`];
}

/** Pure: one ss run → the pod's listener state. */
export function listenerState(
  pod: string,
  port: number,
  exitCode: number,
  stdout: string,
  stderr: string,
): ListenerState {
  if (exitCode !== 0)
    return {
      pod,
      port,
      state: 'unchecked',
      detail: `ss exited with ${exitCode}${tail(stderr) ? ` — ${tail(stderr)}` : ''}`,
    };
  const lines = stdout.split('\n').filter((l) => /\bLISTEN\b/.test(l));
  return lines.length
    ? { pod, port, state: 'listening', detail: lines[0]!.trim().replace(/\s+/g, ' ') }
    : { pod, port, state: 'exited', detail: `nothing listens on TCP port ${port}` };
}

export async function checkListeners(
  backend: Backend,
  pods: ReadonlyArray<{ pod: string; namespace?: string; port: number }>,
): Promise<Evidence<ListenerState[]>> {
  const results = await Promise.all(
    pods.map(async (p) => {
      const res = await backend.exec({ kind: 'pod', pod: p.pod, namespace: p.namespace }, ssArgv(p.port), {
        timeoutMs: TIMEOUT_MS,
        check: false,
      });
      return { res, state: listenerState(p.pod, p.port, res.exitCode, res.stdout, res.stderr) };
    }),
  );
  const data = results.map((r) => r.state);
  const exited = data.filter((s) => s.state === 'exited');
  return {
    kind: 'listeners',
    where: 'backend pods',
    commands: results.map((r) => commandOf(r.res)),
    raw: `${data.map((s) => `pod ${s.pod} port ${s.port}: ${s.state} (${s.detail})`).join('\n')}\n`,
    data,
    summary: exited.length
      ? `${exited.length} of ${data.length} backend pods have no listener: ${exited.map((s) => `${s.pod}:${s.port}`).join(', ')}`
      : `${data.filter((s) => s.state === 'listening').length} of ${data.length} backend pods listening`,
  };
}

/** InfraError "backend exited" naming every pod whose server is gone, and the evidence. */
export function expectBackendsAlive(ev: Evidence<ListenerState[]> & { attachment?: string }): void {
  const exited = ev.data.filter((s) => s.state === 'exited');
  if (exited.length === 0) return;
  const cite = ev.attachment ? ` (evidence ${ev.attachment})` : '';
  throw new InfraError(
    `backend exited: the echo server of ${exited.map((s) => `pod ${s.pod} (${s.detail})`).join(', ')} is gone, so the window's traffic went to a dead workload and says nothing about the datapath${cite}.`,
    { hint: 'Find out why the workload exited (its log, the node), restart it, and rerun.' },
  );
}
