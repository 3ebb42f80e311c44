/** Small helpers shared by the probes: place names and the commands an Evidence cites. */
import type { ExecTarget } from '../backends/types.ts';
import type { Evidence } from '../evidence/index.ts';
import { formatArgv, type RunResult } from '../exec/index.ts';

/** "pod client", "node cilium-kubeproxy-worker", "agent on node cilium-kubeproxy-worker", "host". */
export function describeTarget(target: ExecTarget): string {
  switch (target.kind) {
    case 'host':
      return 'host';
    case 'node':
      return `node ${target.node}`;
    case 'pod':
      return target.namespace && target.namespace !== 'default'
        ? `pod ${target.namespace}/${target.pod}`
        : `pod ${target.pod}`;
    case 'agent':
      return `agent on node ${target.node}`;
  }
}

/**
 * The command as the transcript recorded it (what really ran, backend wrapping included, so it
 * can be rerun by hand), falling back to the argv the probe asked for.
 */
export function commandOf(res: Pick<RunResult, 'argv'> & { record?: { argv: readonly string[] } }): string {
  return formatArgv(res.record?.argv ?? res.argv);
}

/** Last non-empty lines of a tool's complaint, for one-paragraph errors. */
export function tail(text: string, lines = 3): string {
  return text.trim().split('\n').filter(Boolean).slice(-lines).join(' | ').replace(/\.+$/, '');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Evidence of one command whose whole output is the raw text (the usual probe result). */
export function commandEvidence<T>(
  kind: string,
  where: string,
  res: Pick<RunResult, 'argv' | 'stdout'> & { record?: { argv: readonly string[] } },
  data: T,
  summary: string,
): Evidence<T> {
  return { kind, where, commands: [commandOf(res)], raw: res.stdout, data, summary };
}
