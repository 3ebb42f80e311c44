/**
 * How command.ts starts a command (run()): through the spawner (spawner.js), a small child process
 * that forks on the run's behalf, so each start costs the spawner's small fork and not the run's
 * (see spawner.js for the figures). `HOOKPOINT_SPAWNER=0` starts them in this process instead, as
 * does a spawner that cannot be started. The caller keeps the process tree, its timers and the
 * transcript; this only starts and reports. Background processes start in the caller's process
 * (command.ts): their pid must be known at once, and there are few of them.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import type { ResultPromise } from 'execa';
import { outcomeOf, startWithExeca } from './execa-start.js';

export interface StartOptions {
  /** execa's own bound (the caller's timer ends the tree first). */
  timeoutMs: number;
  input?: string;
  cwd?: string;
  env?: Record<string, string>;
  /** Ended by cancelAll (run shutdown); cleanup commands are not. */
  cancellable: boolean;
  /** After SIGTERM, how long before SIGKILL. */
  graceMs: number;
}

/** What the caller reads of a finished command (execa's result fields it uses). */
export interface Outcome {
  exitCode?: number;
  signal?: string;
  timedOut: boolean;
  isCanceled: boolean;
  failed: boolean;
  code?: string;
  shortMessage?: string;
  stdout: string;
  stderr: string;
}

export interface Started {
  /** The process id once it runs (undefined before, or when it could not start). */
  readonly pid: number | undefined;
  /** Resolves with the pid once the process runs (undefined when it could not start). */
  readonly started: Promise<number | undefined>;
  readonly done: Promise<Outcome>;
  /** The run shuts down: a cancellable command is ended. */
  cancel(reason: string): void;
}

const SPAWNER = path.join(import.meta.dirname, 'spawner.js');

interface Pending {
  setPid(pid: number | undefined): void;
  finish(o: Outcome): void;
}

let spawner: ChildProcess | undefined;
let spawnerBroken = false;
let nextId = 0;
const pending = new Map<number, Pending>();

function failed(why: string): Outcome {
  return { failed: true, timedOut: false, isCanceled: false, shortMessage: why, stdout: '', stderr: '' };
}

function lost(why: string): void {
  spawner = undefined;
  for (const [id, p] of pending) {
    pending.delete(id);
    p.setPid(undefined);
    p.finish(failed(why));
  }
}

/** Keep the caller alive while the spawner owes it an answer, and only then. */
function holdWhilePending(): void {
  const ch = spawner?.channel as { ref(): void; unref(): void } | undefined;
  if (!ch) return;
  if (pending.size > 0) ch.ref();
  else ch.unref();
}

function theSpawner(): ChildProcess | undefined {
  if (spawnerBroken || process.env.HOOKPOINT_SPAWNER === '0') return undefined;
  if (spawner?.connected) return spawner;
  try {
    const child = fork(SPAWNER, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: [],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    child.on('message', (m: { kind: string; id: number; pid?: number; result?: Outcome }) => {
      const p = pending.get(m.id);
      if (!p) return;
      if (m.kind === 'pid') p.setPid(m.pid);
      else if (m.kind === 'done') {
        pending.delete(m.id);
        holdWhilePending();
        p.setPid(undefined);
        p.finish(m.result!);
      }
    });
    child.on('exit', (code, signal) => {
      if (spawner === child) lost(`the spawner exited (${signal ?? `exit ${code}`})`);
    });
    child.on('error', (err) => {
      spawnerBroken = true;
      if (spawner === child) lost(`the spawner failed: ${err.message}`);
    });
    child.unref();
    spawner = child;
    holdWhilePending();
    return child;
  } catch {
    spawnerBroken = true;
    return undefined;
  }
}

/**
 * Start the spawner now, while this process is still small and busy loading, instead of at the
 * first command: its own start (Node and execa) then overlaps the caller's.
 */
export function prepareSpawner(): void {
  theSpawner();
}

/** Start argv (see StartOptions); the environment and directory are this process's as of now. */
export function startCommand(argv: readonly string[], opts: StartOptions): Started {
  const env = { ...process.env, ...opts.env } as Record<string, string>;
  const cwd = opts.cwd ?? process.cwd();
  const via = theSpawner();
  if (!via) return inProcess(argv, { ...opts, env, cwd });
  const id = ++nextId;
  let pid: number | undefined;
  let resolvePid!: (p: number | undefined) => void;
  const started = new Promise<number | undefined>((r) => {
    resolvePid = r;
  });
  let finish!: (o: Outcome) => void;
  const done = new Promise<Outcome>((r) => {
    finish = r;
  });
  pending.set(id, {
    setPid: (p) => {
      if (p !== undefined) pid = p;
      resolvePid(pid);
    },
    finish,
  });
  holdWhilePending();
  via.send({
    kind: 'run',
    id,
    argv: [...argv],
    opts: {
      timeoutMs: opts.timeoutMs,
      input: opts.input,
      cwd,
      env,
      cancellable: opts.cancellable,
      graceMs: opts.graceMs,
    },
  });
  return {
    get pid() {
      return pid;
    },
    started,
    done,
    cancel: (reason) => {
      if (opts.cancellable && via.connected) via.send({ kind: 'cancel', reason });
    },
  };
}

const inProcessShutdown = new AbortController();

/** The same in this process (HOOKPOINT_SPAWNER=0, or no spawner). */
function inProcess(
  argv: readonly string[],
  opts: StartOptions & { env: Record<string, string>; cwd: string },
): Started {
  let child: ResultPromise | undefined;
  const running = import('execa').then(({ execa }) => {
    child = startWithExeca(execa, argv, opts, opts.cancellable ? inProcessShutdown.signal : undefined);
    // Wrapped: execa's result is itself awaitable, and returning it would wait for the exit.
    return { c: child };
  });
  const done = running.then(async ({ c }) => outcomeOf(await c));
  return {
    get pid() {
      return child?.pid;
    },
    started: running.then(({ c }) => c.pid),
    done,
    cancel: (reason) => {
      if (opts.cancellable && !inProcessShutdown.signal.aborted) inProcessShutdown.abort(reason);
    },
  };
}
