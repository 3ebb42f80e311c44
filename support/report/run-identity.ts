/**
 * Which run a report describes. `hookpoint run` names every run (id, start time, selection) in
 * the results' environment.properties; every output rendered from those results repeats it, so
 * outputs side by side in reports/ can be checked to come from one run. Results without it (an
 * old directory, a plain cucumber-js run) get an identity derived from the results themselves.
 * Also: which runs are comparable (same backend, configuration and selection), so a trend only
 * ever joins those.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ScenarioResult } from './results.ts';

export const RUN_KEYS = { id: 'run.id', started: 'run.started', selection: 'run.selection' } as const;

export interface RunIdentity {
  id: string;
  /** ISO time the run started. */
  started: string;
  /** What was selected: paths, tags, name, shard, and the scenario count. */
  selection: string;
}

/** A fresh run id: sortable by time, unique on the machine ("20261201T043012Z-3f9a"). */
export function newRunId(now = new Date()): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${randomBytes(2).toString('hex')}`;
}

function hash(text: string, n = 12): string {
  return createHash('sha256').update(text).digest('hex').slice(0, n);
}

export function runIdentityOf(env: Record<string, string>, results: readonly ScenarioResult[]): RunIdentity {
  const starts = results.map((r) => r.start).filter((x): x is number => x !== undefined);
  const started = env[RUN_KEYS.started] ?? (starts.length ? new Date(Math.min(...starts)).toISOString() : '');
  const features = new Set(results.map((r) => r.feature)).size;
  return {
    id: env[RUN_KEYS.id] ?? `results-${hash(results.map((r) => `${r.uuid}`).join(','), 10)}`,
    started,
    selection:
      env[RUN_KEYS.selection] ??
      `${results.length} scenario${results.length === 1 ? '' : 's'} from ${features} feature${features === 1 ? '' : 's'}`,
  };
}

/** The configuration keys of the environment that make two runs comparable. */
const CONFIG_KEYS = ['backend', 'cilium', 'cilium.version', 'lab.variants', 'iptables.mode', 'kubernetes.version'];

/**
 * Two runs share a trend only when this key is equal: same backend and configuration (from the
 * environment) and the same scenarios (with their parameters).
 */
export function comparableKey(env: Record<string, string>, results: readonly ScenarioResult[]): string {
  const config = CONFIG_KEYS.map((k) => `${k}=${env[k] ?? ''}`);
  const scenarios = [...new Set(results.map((r) => r.historyId))].sort();
  return hash(JSON.stringify([config, scenarios]));
}
