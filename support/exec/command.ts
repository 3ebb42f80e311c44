/**
 * THE ONLY way Hookpoint runs processes (house rule 2; enforced by biome's noRestrictedImports:
 * only support/exec may spawn, and the start itself is spawner-client.ts's). argv arrays only —
 * never a shell string built from user text —, a timeout on every call, cancellation on
 * SIGINT/SIGTERM, and every call recorded in the active transcript.
 */
import { execa } from 'execa';
import { InfraError } from '../errors.ts';
import { type Outcome, startCommand } from './spawner-client.ts';
import { activeTranscript, type CommandRecord, formatArgv } from './transcript.ts';
import { processTree, signalAll } from './tree.ts';

export interface RunOptions {
  /** Milliseconds; required so no call can hang a run. */
  timeoutMs: number;
  /** Label for the transcript: "host", "node cilium-kubeproxy-worker", "pod client". */
  where?: string;
  input?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Throw InfraError on a non-zero exit (default true). */
  check?: boolean;
  /** Do not record stdout (large dumps already attached elsewhere); the command itself is still recorded. */
  quietStdout?: boolean;
  /**
   * A cleanup command (teardown, unmount, kill): it still runs after SIGINT/SIGTERM started the
   * shutdown, and is not cancelled by it — only its own timeout bounds it.
   */
  cleanup?: boolean;
}

export interface RunResult {
  argv: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
  record: CommandRecord;
}

const shutdown = new AbortController();
/** What runs now: commands (through the spawner) and background processes (started here). */
const live = new Set<{ readonly pid?: number; cancel?(reason: string): void }>();

/** Abort every running command (called from the SIGINT/SIGTERM handler). */
export function cancelAll(reason = 'interrupted'): void {
  if (!shutdown.signal.aborted) shutdown.abort(reason);
  // The whole tree: a wrapper's children would otherwise outlive it and hold its pipes open.
  for (const p of live) {
    p.cancel?.(reason);
    if (p.pid) signalAll(processTree(p.pid), 'SIGTERM');
  }
}

export function cancelled(): boolean {
  return shutdown.signal.aborted;
}

function validateArgv(argv: readonly string[]): void {
  if (argv.length === 0 || !argv[0]) throw new InfraError('internal: an empty command was passed to the runner.');
  for (const a of argv) {
    if (typeof a !== 'string')
      throw new InfraError(
        `internal: a non-string argument was passed to the runner in ${formatArgv(argv.map(String))}.`,
      );
    if (a.includes('\0')) throw new InfraError(`internal: an argument with a NUL byte was passed to the runner.`);
  }
}

export async function run(argv: readonly string[], opts: RunOptions): Promise<RunResult> {
  validateArgv(argv);
  if (!(opts.timeoutMs > 0)) throw new InfraError(`internal: no timeout given for ${formatArgv(argv)}.`);
  const where = opts.where ?? 'host';
  if (shutdown.signal.aborted && !opts.cleanup)
    throw new InfraError(`Not started: ${formatArgv(argv)} (run is shutting down).`);
  const started = Date.now();
  const child = startCommand(argv, {
    // Backstop only: the timer below ends the command and its children at timeoutMs.
    timeoutMs: opts.timeoutMs + 1000,
    input: opts.input,
    cwd: opts.cwd,
    env: opts.env,
    cancellable: !opts.cleanup,
    graceMs: 2000,
  });
  if (!opts.cleanup) live.add(child);
  // At the timeout, end the command with its descendants (snapshot first: orphans get reparented).
  let hung = false;
  const hang = setTimeout(async () => {
    hung = true;
    const pid = await child.started;
    const tree = pid ? processTree(pid) : [];
    signalAll(tree, 'SIGTERM');
    setTimeout(() => signalAll(tree, 'SIGKILL'), 2000).unref();
  }, opts.timeoutMs);
  let res: Outcome;
  try {
    res = await child.done;
  } finally {
    clearTimeout(hang);
    live.delete(child);
  }
  const timedOut = Boolean(res.timedOut) || hung;
  const durationMs = Date.now() - started;
  const stdout = String(res.stdout ?? '');
  const stderr = String(res.stderr ?? '');
  const record = activeTranscript().add({
    where,
    argv,
    exitCode: res.exitCode ?? null,
    signal: res.signal ?? null,
    timedOut,
    durationMs,
    startedAt: new Date(started).toISOString(),
    stdout: opts.quietStdout ? `(${stdout.length} characters, attached separately)` : stdout,
    stderr,
    background: false,
    input: opts.input,
  });
  const cmd = formatArgv(argv);
  if (timedOut) {
    throw new InfraError(`Command timed out after ${opts.timeoutMs} ms on ${where}: ${cmd}.`, {
      hint: 'The tool hung; rerun it by hand from the transcript to see where it stops.',
    });
  }
  if (res.isCanceled) throw new InfraError(`Command cancelled on ${where} (run interrupted): ${cmd}.`);
  const code = res.exitCode ?? -1;
  if (res.failed && res.exitCode === undefined) {
    const why =
      (res as { code?: string }).code === 'ENOENT' ? `${argv[0]} is not installed or not on PATH` : res.shortMessage;
    throw new InfraError(`Could not run ${cmd} on ${where}: ${why}.`, {
      hint: 'Run `hookpoint doctor` to see what is missing.',
    });
  }
  if (opts.check !== false && code !== 0) {
    const tail = (stderr || stdout).trim().split('\n').slice(-3).join(' | ');
    throw new InfraError(`Command failed with exit code ${code} on ${where}: ${cmd}${tail ? ` — ${tail}` : ''}.`);
  }
  return { argv: [...argv], exitCode: code, stdout, stderr, durationMs, record };
}

export interface BackgroundProcess {
  readonly pid: number | undefined;
  /** Output so far (stdout). */
  output(): string;
  /** Resolves once the process has printed text matching re (or rejects at the timeout). */
  waitFor(re: RegExp, timeoutMs: number): Promise<void>;
  /** True while running. */
  running(): boolean;
  /** Stop (SIGTERM, then SIGKILL after 2 s) and record into the transcript. */
  stop(): Promise<RunResult>;
  /** Resolves when the process exits on its own. */
  exited: Promise<number | null>;
}

/**
 * Start a long-running process (capture, monitor reader, echo server). It is bounded by a
 * timeout too (maxMs) and killed on SIGINT/SIGTERM. Started in this process, not through the
 * spawner: its pid is known as soon as this returns, and there are few of them.
 */
export function spawnBackground(
  argv: readonly string[],
  opts: {
    maxMs: number;
    where?: string;
    cwd?: string;
    env?: Record<string, string>;
    detached?: boolean;
    /**
     * After SIGTERM (stop, timeout or shutdown), how long the process may take to clean up before
     * SIGKILL (default 2 s). Child `hookpoint` runs get minutes: they tear down clusters.
     */
    graceMs?: number;
  },
): BackgroundProcess {
  validateArgv(argv);
  const where = opts.where ?? 'host';
  const started = Date.now();
  const child = execa(argv[0]!, argv.slice(1), {
    timeout: opts.maxMs,
    reject: false,
    cwd: opts.cwd,
    env: opts.env,
    cancelSignal: shutdown.signal,
    buffer: true,
    stripFinalNewline: false,
    forceKillAfterDelay: opts.graceMs ?? 2000,
    detached: opts.detached,
  });
  live.add(child);
  let out = '';
  let err = '';
  let alive = true;
  const waiters: Array<() => void> = [];
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of waiters.splice(0)) w();
  });
  const settled = child.then((r) => {
    alive = false;
    live.delete(child);
    for (const w of waiters.splice(0)) w();
    return r;
  });
  let result: Promise<RunResult> | undefined;
  const finish = async (): Promise<RunResult> => {
    const r = await settled;
    const record = activeTranscript().add({
      where,
      argv,
      exitCode: r.exitCode ?? null,
      signal: r.signal ?? null,
      timedOut: Boolean(r.timedOut),
      durationMs: Date.now() - started,
      startedAt: new Date(started).toISOString(),
      stdout: out,
      stderr: err,
      background: true,
    });
    return {
      argv: [...argv],
      exitCode: r.exitCode ?? -1,
      stdout: out,
      stderr: err,
      durationMs: record.durationMs,
      record,
    };
  };
  return {
    pid: child.pid,
    output: () => out,
    running: () => alive,
    exited: settled.then((r) => r.exitCode ?? null),
    async waitFor(re: RegExp, timeoutMs: number): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!re.test(out + err)) {
        if (!alive)
          throw new InfraError(
            `${formatArgv(argv)} on ${where} exited before printing ${re}: ${(err || out).trim().slice(-300)}`,
          );
        const left = deadline - Date.now();
        if (left <= 0)
          throw new InfraError(
            `Timed out after ${timeoutMs} ms waiting for ${formatArgv(argv)} on ${where} to print ${re}.`,
          );
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.min(left, 100));
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    stop(): Promise<RunResult> {
      if (!result) {
        if (alive) child.kill('SIGTERM');
        result = finish();
      }
      return result;
    },
  };
}
