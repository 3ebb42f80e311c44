/**
 * The cluster configurations a run's features ask for: each scenario's Background names a kind
 * config (optional: the run's --kind-config otherwise) and Cilium's Helm values. Scenarios that
 * ask for the same configuration form one group, provisioned once; a run with several groups
 * provisions them in turn, each as its own cluster `<cluster>-<configuration id>` (named the way
 * `hookpoint matrix` names its combinations). Also refused here, before anything is created: two
 * features of one configuration defining the same service name differently.
 *
 * The one owner of "which configuration a scenario ran in": the group's id is the scenario's
 * `configuration` parameter in Allure, the summary and JUnit. Under `--configuration name=file`
 * (one column of `matrix --configs`) the file's values and kind config are applied first, and
 * the id is the file's name (`tunnel`; `tunnel-<hash>` per group when the Backgrounds differ).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { applyConfiguration, type Configuration as ConfigurationFile } from '../configuration-file.ts';
import { UsageError } from '../errors.ts';
import { type WorkloadDecl, workloadsOf } from '../scenario/vocabulary.ts';
import type { PlannedScenario } from './features.ts';
import { combinationCluster } from './matrix.ts';

/** The cluster words of a Background: the kind config file (when named) and the Helm values. */
export interface ClusterRequest {
  kindConfig?: string;
  values: Record<string, string>;
}

export interface Configuration {
  /** DNS-1123 id, stable for the same kind config and values: "two-node-3f9a1c". */
  id: string;
  /** The kind config the group's Backgrounds name, if they name one. */
  request?: ClusterRequest;
  /** In words, for the report: "two-node.yaml; routingMode=native, kubeProxyReplacement=false". */
  description: string;
  /** The group's scenarios, in the run's order. */
  scenarios: PlannedScenario[];
}

export const KIND_CONFIG_STEP = /^a cluster from kind config "([^"]*)"$/;
export const CILIUM_STEP = 'Cilium is installed with:';

/** The cluster a scenario's steps ask for, or undefined when it has no `Cilium is installed with:` step. */
export function requestOf(sc: PlannedScenario): ClusterRequest | undefined {
  let kindConfig: string | undefined;
  for (const step of sc.steps) {
    const m = KIND_CONFIG_STEP.exec(step.text);
    if (m) kindConfig = m[1];
    if (step.text === CILIUM_STEP && step.table)
      return {
        ...(kindConfig !== undefined ? { kindConfig } : {}),
        values: Object.fromEntries(step.table.map((r) => [r[0]!.trim(), (r[1] ?? '').trim()])),
      };
  }
  return undefined;
}

/** The kind config file name a request resolves to (the run's --kind-config when the feature names none). */
function kindConfigFile(request: ClusterRequest | undefined, defaultKindConfig: string): string {
  return path.basename(request?.kindConfig ?? defaultKindConfig);
}

function valuesText(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

/** Same kind config file and same values (order aside) → same id; the id is short and DNS-1123 (pure). */
export function configurationId(request: ClusterRequest | undefined, defaultKindConfig: string): string {
  const file = kindConfigFile(request, defaultKindConfig);
  const key = JSON.stringify([file, Object.entries(request?.values ?? {}).sort(([a], [b]) => a.localeCompare(b))]);
  const stem =
    file
      .replace(/\.ya?ml$/, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 16)
      .replace(/-+$/, '') || 'kind';
  return `${stem}-${createHash('sha256').update(key).digest('hex').slice(0, 6)}`;
}

/**
 * A scenario's request with a configuration file's values over the Background's rows (pure). The
 * kind config stays the Background's here: the file's own (a path or inline) is applied where the
 * cluster is built (scenario/cluster-setup.ts), and the group's description names it.
 */
export function withConfigurationFile(
  request: ClusterRequest | undefined,
  file: ConfigurationFile | undefined,
): ClusterRequest | undefined {
  if (!file || !request) return request;
  return { ...request, values: applyConfiguration(request.values, file) };
}

function fileKindConfigText(file: ConfigurationFile): string {
  const kc = file.kindConfig;
  return !kc ? '' : 'path' in kc ? `, kind config ${kc.path}` : ', its inline kind config';
}

/**
 * Scenarios grouped by the configuration they ask for, groups in order of first appearance (pure).
 * With a configuration file the groups are named after it (see the module comment).
 */
export function groupByConfiguration(
  scenarios: PlannedScenario[],
  defaultKindConfig: string,
  file?: ConfigurationFile,
): Configuration[] {
  const groups = new Map<string, Configuration>();
  for (const sc of scenarios) {
    const request = withConfigurationFile(requestOf(sc), file);
    const id = configurationId(request, defaultKindConfig);
    let g = groups.get(id);
    if (!g) {
      const values = request ? valuesText(request.values) : '';
      g = {
        id,
        ...(request ? { request } : {}),
        description: `${kindConfigFile(request, defaultKindConfig)}${values ? `; ${values}` : ''}`,
        scenarios: [],
      };
      groups.set(id, g);
    }
    g.scenarios.push(sc);
  }
  const out = [...groups.values()];
  if (!file) return out;
  return out.map((g) => ({
    ...g,
    id: out.length === 1 ? file.name : `${file.name}-${g.id.slice(g.id.lastIndexOf('-') + 1)}`,
    description: `${file.name} (${file.file}${fileKindConfigText(file)}) over ${g.description}`,
  }));
}

/** The cluster (or lab) name of a configuration: the run's own when it has one, else `<cluster>-<id>` as matrix names them. */
export function configurationCluster(base: string, id: string, groups: number): string {
  return groups > 1 ? combinationCluster(base, id) : base;
}

/** The services a step declares; a step whose values are invalid declares none here (preflight names it). */
function servicesOf(text: string): Array<Extract<WorkloadDecl, { kind: 'service' }>> {
  try {
    return workloadsOf([text]).filter((w): w is Extract<WorkloadDecl, { kind: 'service' }> => w.kind === 'service');
  } catch {
    return [];
  }
}

/**
 * Two features of one configuration (one cluster) defining the same service name differently:
 * refused, naming both definitions and their lines. Within one feature a later definition
 * replaces the earlier one, as the run does.
 */
export function checkServiceDefinitions(groups: readonly Configuration[]): void {
  for (const g of groups) {
    const first = new Map<string, { spec: string; uri: string; line: number; text: string }>();
    for (const sc of g.scenarios) {
      for (const step of sc.steps) {
        for (const d of servicesOf(step.text)) {
          const spec = JSON.stringify(d);
          const seen = first.get(d.name);
          if (!seen || seen.uri === sc.uri) {
            first.set(d.name, { spec, uri: sc.uri, line: step.line, text: step.text });
            continue;
          }
          if (seen.spec !== spec)
            throw new UsageError(
              `Service "${d.name}" is defined differently by two features that share a cluster: ${seen.uri}:${seen.line} ("${seen.text}") and ${sc.uri}:${step.line} ("${step.text}").`,
              'Give one of them another service name, or define it the same way in both.',
            );
        }
      }
    }
  }
}
