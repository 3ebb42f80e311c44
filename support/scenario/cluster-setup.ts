/** Turns the Background's cluster words into one provisioning per run. */
import path from 'node:path';
import type { ClusterSpec } from '../backends/types.ts';
import { resolveExisting } from '../config.ts';
import { applyConfiguration, configurationKindConfigFile, loadConfiguration } from '../configuration-file.ts';
import { UsageError } from '../errors.ts';
import { ensureProvisioned, type RunContext } from '../run/context.ts';
import type { HookpointWorld } from './world.ts';

export function kindConfigPath(file: string | undefined, fallback: string): string {
  const f = file ?? fallback;
  if (f.includes('..') || path.isAbsolute(f))
    throw new UsageError(`Kind config "${f}" must be a file name inside kind-configs/.`);
  return resolveExisting(f.startsWith('kind-configs/') ? f : path.join('kind-configs', f), 'kind config');
}

export function clusterSpec(
  ctx: RunContext,
  kindConfig: string | undefined,
  values: Record<string, string>,
): ClusterSpec {
  const { config } = ctx;
  for (const [k, v] of Object.entries(values)) {
    if (!/^[A-Za-z][A-Za-z0-9_.[\]-]*$/.test(k))
      throw new UsageError(`Invalid Helm value key "${k}".`, 'Keys look like routingMode or ipam.mode.');
    if (v === '') throw new UsageError(`Helm value "${k}" has no value in the table.`);
  }
  // A configuration (`--configuration`, one column of `matrix --configs`) overrides the rows with
  // the same key, and its kind config replaces the Background's.
  const configuration = config.configuration ? loadConfiguration(config.configuration) : undefined;
  const configured = configuration ? configurationKindConfigFile(configuration) : undefined;
  return {
    kindConfig: configured ?? kindConfigPath(kindConfig, config.kindConfig.replace(/^kind-configs\//, '')),
    ciliumValues: applyConfiguration(values, configuration),
    ciliumVersion: config.cilium,
    k8sVersion: config.k8s,
  };
}

export async function ensureClusterFor(
  world: HookpointWorld,
  kindConfig: string | undefined,
  values: Record<string, string>,
): Promise<void> {
  await ensureProvisioned(world.ctx, clusterSpec(world.ctx, kindConfig, values));
  world.invalidateTopology();
}
