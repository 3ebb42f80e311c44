/**
 * The run: validated config, the backend, and the cluster it provisioned. `hookpoint run` sets it
 * before cucumber starts; a plain `cucumber-js` run builds it lazily from the environment.
 */
import type { Backend, ClusterSpec } from '../backends/types.ts';
import { type Config, loadConfig } from '../config.ts';
import { UsageError } from '../errors.ts';

export interface RunContext {
  config: Config;
  backend: Backend;
  /** The cluster spec provisioned so far (fingerprint), if any. */
  provisioned?: string;
  /** The run's id (`hookpoint run` names each run; outputs repeat it). */
  runId?: string;
  /** The cluster configuration this context runs (support/run/configurations.ts); the report names it. */
  configuration?: { id: string; description: string };
}

let current: RunContext | undefined;

export function setRunContext(ctx: RunContext | undefined): void {
  current = ctx;
}

export async function createBackend(config: Config): Promise<Backend> {
  switch (config.backend) {
    case 'lab': {
      const { createLabBackend } = await import('../backends/lab/index.ts');
      return createLabBackend(config);
    }
    case 'kind': {
      const { createKindBackend } = await import('../backends/kind/index.ts');
      return createKindBackend(config);
    }
    case 'existing': {
      const { createExistingBackend } = await import('../backends/existing/index.ts');
      return createExistingBackend(config);
    }
  }
}

export async function runContext(): Promise<RunContext> {
  if (!current) {
    const config = loadConfig({});
    current = { config, backend: await createBackend(config) };
  }
  return current;
}

export function specFingerprint(spec: ClusterSpec): string {
  const values = Object.entries(spec.ciliumValues)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${spec.kindConfig}|${spec.ciliumVersion}|${spec.k8sVersion}|${values}`;
}

/** Provision once per run and spec; a second, different spec in the same run is refused. */
export async function ensureProvisioned(ctx: RunContext, spec: ClusterSpec): Promise<void> {
  const fp = specFingerprint(spec);
  if (ctx.provisioned === fp) return;
  if (ctx.provisioned)
    throw new UsageError(
      'Two different clusters were asked for in one run (different kind config or Cilium values in the Backgrounds).',
      'Run those features separately (`hookpoint run features/a features/b` in two runs) or give them the same Background.',
    );
  await ctx.backend.provision(spec);
  ctx.provisioned = fp;
}
