/**
 * A BackgroundProcess whose command is only known after an async lookup (the Cilium pod of a
 * node, the PID of a pod): Backend.spawn() is synchronous, so it returns this at once and the
 * real process starts when the lookup resolves.
 */
import { InfraError } from '../../errors.ts';
import type { BackgroundProcess, RunResult } from '../../exec/index.ts';

export function deferredProcess(start: Promise<BackgroundProcess>, label: string): BackgroundProcess {
  let proc: BackgroundProcess | undefined;
  let failure: unknown;
  const ready = start.then(
    (p) => {
      proc = p;
      return p;
    },
    (err) => {
      failure = err;
      throw err;
    },
  );
  ready.catch(() => {});
  const failed = (): RunResult => {
    const msg = failure instanceof Error ? failure.message : String(failure);
    return {
      argv: [label],
      exitCode: -1,
      stdout: '',
      stderr: msg,
      durationMs: 0,
      record: {
        seq: 0,
        where: label,
        argv: [label],
        exitCode: null,
        signal: null,
        timedOut: false,
        durationMs: 0,
        startedAt: new Date().toISOString(),
        stdout: '',
        stderr: msg,
        background: true,
      },
    };
  };
  return {
    get pid() {
      return proc?.pid;
    },
    output: () => proc?.output() ?? '',
    running: () => (proc ? proc.running() : failure === undefined),
    exited: ready.then(
      (p) => p.exited,
      () => -1,
    ),
    async waitFor(re: RegExp, timeoutMs: number): Promise<void> {
      const t0 = Date.now();
      let p: BackgroundProcess;
      try {
        p = await ready;
      } catch (err) {
        throw err instanceof InfraError ? err : new InfraError(`Could not start ${label}: ${(err as Error).message}`);
      }
      await p.waitFor(re, Math.max(1, timeoutMs - (Date.now() - t0)));
    },
    async stop(): Promise<RunResult> {
      try {
        return await (await ready).stop();
      } catch {
        return failed();
      }
    },
  };
}
