/**
 * Replays a recorded bpftool tail-call evidence file (`$ <command>` then its output, as the
 * probe writes it) as a fake Backend: each bpftool command gets the output recorded for it.
 */
import { readFileSync } from 'node:fs';
import type { Backend, ExecOptions, ExecTarget } from '../../../support/backends/types.ts';
import type { RunResult } from '../../../support/exec/index.ts';

/** command (without the `ip netns exec <ns>`, `nsenter --net=… --` or `setpriv … --` before bpftool) → recorded output. */
export function recordedOutputs(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const block of text.split(/^\$ /m).slice(1)) {
    const nl = block.indexOf('\n');
    const command = block
      .slice(0, nl)
      .replace(/^ip netns exec \S+ /, '')
      .replace(/^nsenter --net=\S+ -- /, '')
      .replace(/^setpriv \S+ -- /, '')
      .trim();
    out.set(command, `${block.slice(nl + 1).trimEnd()}\n`);
  }
  return out;
}

export function readRecorded(path: string): Map<string, string> {
  return recordedOutputs(readFileSync(path, 'utf8'));
}

/**
 * A Backend whose exec answers from `outputs`; unknown commands fail like bpftool does.
 * `delayMs` gives a command its running time (translated dumps are the slow ones on a node).
 */
export function replayBackend(outputs: Map<string, string>, delayMs?: (argv: readonly string[]) => number) {
  const calls: Array<{ target: ExecTarget; argv: string[] }> = [];
  const backend = {
    name: 'lab',
    async exec(target: ExecTarget, argv: readonly string[], _opts?: ExecOptions): Promise<RunResult> {
      calls.push({ target, argv: [...argv] });
      const wait = delayMs?.(argv) ?? 0;
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const stdout = outputs.get(argv.join(' '));
      return {
        argv: [...argv],
        exitCode: stdout === undefined ? 255 : 0,
        stdout: stdout ?? '',
        stderr: stdout === undefined ? `Error: not recorded: ${argv.join(' ')}` : '',
        durationMs: 1,
      } as RunResult;
    },
  } as unknown as Backend;
  return { backend, calls };
}
