/** Types of execa-start.js (plain JavaScript, shared with the spawner). */
import type { execa as Execa, ResultPromise } from 'execa';
import type { Outcome } from './spawner-client.ts';

export interface ExecaStart {
  timeoutMs: number;
  input?: string;
  cwd: string;
  env: Record<string, string>;
  graceMs: number;
}
export function startWithExeca(
  execa: typeof Execa,
  argv: readonly string[],
  opts: ExecaStart,
  cancelSignal: AbortSignal | undefined,
): ResultPromise;
export function outcomeOf(r: unknown): Outcome;
