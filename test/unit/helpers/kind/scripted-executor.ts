/**
 * Test support: an Executor that replays scripted outputs instead of spawning anything, with
 * the runner's semantics (non-zero exit → InfraError unless check:false; timeout → InfraError)
 * and a log of every call for assertions. Rules match when their tokens appear in the argv in
 * order; the most recently added matching rule wins; an unscripted command fails the test.
 * Like the real images, a node has no bpftool or tcpdump: a command that asks a node container
 * (`docker exec <node> …`, or the host's binaries through `nsenter -t 1 -m …`) for a tool the
 * node image lacks is refused (recorded in `refused`) and fails the test.
 */

import type { Executor, SpawnOptions } from '../../../../support/backends/k8s/executor.ts';
import { InfraError } from '../../../../support/errors.ts';
import type { BackgroundProcess, CommandRecord, RunOptions, RunResult } from '../../../../support/exec/index.ts';
import { formatArgv } from '../../../../support/exec/index.ts';

export interface ScriptedReply {
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Behave like a command that hit its timeout. */
  timedOut?: boolean;
  /** Resolve after this many ms (real time). */
  delayMs?: number;
}

export type ScriptedHandler = (
  argv: string[],
  opts: RunOptions | SpawnOptions,
) => ScriptedReply | Promise<ScriptedReply>;

interface Rule {
  tokens: string[];
  reply: ScriptedHandler;
  times: number;
}

export interface ScriptedCall {
  argv: string[];
  opts: RunOptions | (SpawnOptions & { timeoutMs: number });
  background: boolean;
}

function isSubsequence(tokens: readonly string[], argv: readonly string[]): boolean {
  let i = 0;
  for (const a of argv) if (i < tokens.length && a === tokens[i]) i++;
  return i === tokens.length;
}

/**
 * Tools the kindest/node image does not ship (kind's images/base/Dockerfile; see
 * ../shared/notes/real-cilium-facts.md) — stated here on its own, not read from the code under test.
 */
export const NODE_IMAGE_LACKS: ReadonlySet<string> = new Set(['bpftool', 'tcpdump', 'cilium', 'cilium-dbg']);

/** The tool a command runs inside a node's own filesystem (kind node container, or the host via nsenter -m), if any. */
export function nodeContainerTool(argv: readonly string[]): string | undefined {
  if (argv[0] === 'docker' && argv[1] === 'exec') {
    const rest = argv.slice(2).filter((a) => a !== '-i');
    return unwrapped(rest.slice(1));
  }
  const ns = argv.indexOf('nsenter');
  if (ns >= 0 && argv.slice(ns).includes('-m')) return unwrapped(argv.slice(argv.lastIndexOf('--') + 1));
  return undefined;
}

/** The tool under `env NAME=VALUE … timeout [-s SIG] SECS` (how window processes are bounded). */
function unwrapped(cmd: readonly string[]): string | undefined {
  let i = 0;
  if (cmd[i] === 'env') for (i++; cmd[i]?.includes('='); i++);
  if (cmd[i] === 'timeout') {
    i++;
    if (cmd[i] === '-s') i += 2;
    i++;
  }
  return cmd[i];
}

export class ScriptedExecutor implements Executor {
  readonly calls: ScriptedCall[] = [];
  /** Commands refused because they asked a node container for a tool its image lacks. */
  readonly refused: string[] = [];
  private readonly rules: Rule[] = [];
  private seq = 0;

  /** Script a reply for argv containing these tokens in order (times: how often; default unlimited). */
  on(tokens: readonly string[], reply: ScriptedReply | ScriptedHandler, opts: { times?: number } = {}): this {
    const handler: ScriptedHandler = typeof reply === 'function' ? reply : () => reply;
    this.rules.push({ tokens: [...tokens], reply: handler, times: opts.times ?? Number.POSITIVE_INFINITY });
    return this;
  }

  /** Calls whose argv contains these tokens in order. */
  matching(tokens: readonly string[]): ScriptedCall[] {
    return this.calls.filter((c) => isSubsequence(tokens, c.argv));
  }

  private pick(argv: string[]): Rule {
    const tool = nodeContainerTool(argv);
    if (tool !== undefined && NODE_IMAGE_LACKS.has(tool)) {
      this.refused.push(formatArgv(argv));
      throw new Error(
        `ScriptedExecutor: ${tool} asked of a node container, whose image has no ${tool}: ${formatArgv(argv)}`,
      );
    }
    for (let i = this.rules.length - 1; i >= 0; i--) {
      const r = this.rules[i]!;
      if (r.times > 0 && isSubsequence(r.tokens, argv)) {
        r.times--;
        return r;
      }
    }
    throw new Error(`ScriptedExecutor: unscripted command: ${formatArgv(argv)}`);
  }

  private record(argv: string[], where: string, reply: ScriptedReply, background: boolean): CommandRecord {
    return {
      seq: ++this.seq,
      where,
      argv,
      exitCode: reply.timedOut ? null : (reply.exitCode ?? 0),
      signal: reply.timedOut ? 'SIGTERM' : null,
      timedOut: Boolean(reply.timedOut),
      durationMs: reply.delayMs ?? 0,
      startedAt: new Date().toISOString(),
      stdout: reply.stdout ?? '',
      stderr: reply.stderr ?? '',
      background,
    };
  }

  async run(argv: readonly string[], opts: RunOptions): Promise<RunResult> {
    if (!(opts.timeoutMs > 0)) throw new Error(`ScriptedExecutor: no timeout given for ${formatArgv(argv)}`);
    const a = [...argv];
    this.calls.push({ argv: a, opts, background: false });
    const reply = await this.pick(a).reply(a, opts);
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    const where = opts.where ?? 'host';
    const record = this.record(a, where, reply, false);
    const cmd = formatArgv(a);
    if (reply.timedOut) throw new InfraError(`Command timed out after ${opts.timeoutMs} ms on ${where}: ${cmd}.`);
    const code = reply.exitCode ?? 0;
    const stdout = reply.stdout ?? '';
    const stderr = reply.stderr ?? '';
    if (opts.check !== false && code !== 0) {
      const tail = (stderr || stdout).trim().split('\n').slice(-3).join(' | ');
      throw new InfraError(`Command failed with exit code ${code} on ${where}: ${cmd}${tail ? ` — ${tail}` : ''}.`);
    }
    return { argv: a, exitCode: code, stdout, stderr, durationMs: record.durationMs, record };
  }

  spawn(argv: readonly string[], opts: SpawnOptions): BackgroundProcess {
    if (!(opts.maxMs > 0)) throw new Error(`ScriptedExecutor: no maxMs given for ${formatArgv(argv)}`);
    const a = [...argv];
    this.calls.push({ argv: a, opts: { ...opts, timeoutMs: opts.maxMs }, background: true });
    const rule = this.pick(a);
    let reply: ScriptedReply = {};
    let alive = true;
    const ready = Promise.resolve(rule.reply(a, opts)).then((r) => {
      reply = r;
    });
    const where = opts.where ?? 'host';
    let resolveExit: (code: number | null) => void = () => {};
    const exited = new Promise<number | null>((r) => {
      resolveExit = r;
    });
    const stopNow = async (): Promise<RunResult> => {
      await ready;
      alive = false;
      resolveExit(reply.exitCode ?? 0);
      const record = this.record(a, where, reply, true);
      return {
        argv: a,
        exitCode: reply.exitCode ?? 0,
        stdout: reply.stdout ?? '',
        stderr: reply.stderr ?? '',
        durationMs: 0,
        record,
      };
    };
    let stopped: Promise<RunResult> | undefined;
    return {
      pid: undefined,
      output: () => reply.stdout ?? '',
      running: () => alive,
      exited,
      async waitFor(re: RegExp, timeoutMs: number) {
        await ready;
        if (!re.test((reply.stdout ?? '') + (reply.stderr ?? '')))
          throw new InfraError(
            `Timed out after ${timeoutMs} ms waiting for ${formatArgv(a)} on ${where} to print ${re}.`,
          );
      },
      stop: () => {
        stopped ??= stopNow();
        return stopped;
      },
    };
  }
}
