/**
 * The executor the kind and existing backends run every external command through. It defaults
 * to support/exec (the only place that spawns processes); orchestration tests inject a scripted
 * one that replays recorded outputs.
 */
import { type BackgroundProcess, type RunOptions, type RunResult, run, spawnBackground } from '../../exec/index.ts';

export interface SpawnOptions {
  maxMs: number;
  where?: string;
}

export interface Executor {
  run(argv: readonly string[], opts: RunOptions): Promise<RunResult>;
  spawn(argv: readonly string[], opts: SpawnOptions): BackgroundProcess;
}

export const defaultExecutor: Executor = {
  run: (argv, opts) => run(argv, opts),
  spawn: (argv, opts) => spawnBackground(argv, opts),
};
