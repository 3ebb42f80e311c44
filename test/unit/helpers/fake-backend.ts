/** A fake Backend for probe tests: exec answers from recorded text, no processes are spawned. */
import type { Backend, ExecOptions, ExecTarget } from '../../../support/backends/types.ts';
import type { RunResult } from '../../../support/exec/index.ts';

export interface Call {
  target: ExecTarget;
  argv: string[];
  opts?: ExecOptions;
}
export type Reply = { exitCode?: number; stdout?: string; stderr?: string } | Error;

/** What the transcript records for a call: where it ran and the full argv. */
export type Wrap = (target: ExecTarget, argv: string[]) => { where: string; argv: string[] };

/** The lab's wrapping: `ip netns exec <node or pod> …`. */
export const netnsWrap: Wrap = (target, argv) => {
  const where = target.kind === 'node' ? target.node : target.kind === 'pod' ? target.pod : 'host';
  return { where, argv: ['ip', 'netns', 'exec', where, ...argv] };
};

/** A Backend whose exec answers from `reply` (an Error is thrown); spawn is not used by probes. */
export function fakeBackend(reply: (c: Call) => Reply, wrap: Wrap = netnsWrap): { backend: Backend; calls: Call[] } {
  const calls: Call[] = [];
  const backend = {
    name: 'lab',
    describe: () => 'fake',
    capabilities: () => new Set(),
    async exec(target: ExecTarget, argv: readonly string[], opts?: ExecOptions): Promise<RunResult> {
      const call = { target, argv: [...argv], opts };
      calls.push(call);
      const r = reply(call);
      if (r instanceof Error) throw r;
      const recorded = wrap(target, [...argv]);
      return {
        argv: [...argv],
        exitCode: r.exitCode ?? 0,
        stdout: r.stdout ?? '',
        stderr: r.stderr ?? '',
        durationMs: 1,
        record: {
          seq: calls.length,
          where: recorded.where,
          argv: recorded.argv,
          exitCode: r.exitCode ?? 0,
          signal: null,
          timedOut: false,
          durationMs: 1,
          startedAt: new Date(0).toISOString(),
          stdout: '',
          stderr: '',
          background: false,
        },
      };
    },
    spawn() {
      throw new Error('spawn not expected');
    },
    scratchDir: () => '/tmp',
  } as unknown as Backend;
  return { backend, calls };
}
