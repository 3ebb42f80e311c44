/**
 * `hookpoint plan --backend kind [--cilium V] [--kind-config F] [--k8s vX]` — print every
 * provisioning command of the kind backend, in order, copy-pasteable, without running anything.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parseCiliumVersion, parseK8sVersion } from '../backends/k8s/cilium-versions.ts';
import { loadValuesFile, mergeValues, parseSetFlags } from '../backends/k8s/helm-value-maps.ts';
import { kubeconfigPathFor } from '../backends/kind/paths.ts';
import { type ChartSource, kindProvisionPlan, renderPlan } from '../backends/kind/plan.ts';
import { DEFAULTS, DNS1123 } from '../config.ts';
import { UsageError } from '../errors.ts';

export const SEED_VALUES_FILE = 'kind-configs/values/seed-native-routing.yaml';

export interface PlanOptions {
  backend?: string;
  cilium?: string;
  k8s?: string;
  kindConfig?: string;
  cluster?: string;
  values?: string[];
  set?: string[];
  chart?: string;
  reports?: string;
}

export interface PlanOutput {
  text: string;
  /** Things worth saying on stderr (a kind config that does not exist yet). */
  warnings: string[];
}

export function buildPlan(opts: PlanOptions, cwd = process.cwd()): PlanOutput {
  const backend = opts.backend ?? 'kind';
  if (backend !== 'kind') {
    const why =
      backend === 'existing'
        ? 'the existing backend provisions nothing (it uses the cluster your kubeconfig points at)'
        : backend === 'lab'
          ? 'the lab backend builds its namespaces itself (see `hookpoint lab --help`)'
          : `"${backend}" is not a backend (valid: lab, kind, existing)`;
    throw new UsageError(`\`hookpoint plan\` prints the kind backend's commands only: ${why}.`, 'Use --backend kind.');
  }
  const cilium = parseCiliumVersion(opts.cilium ?? DEFAULTS.cilium).text;
  const k8s = parseK8sVersion(opts.k8s ?? DEFAULTS.k8s);
  const cluster = opts.cluster ?? DEFAULTS.cluster;
  if (!DNS1123.test(cluster) || cluster.length > 40)
    throw new UsageError(
      `Invalid --cluster "${cluster}".`,
      'Use a DNS-1123 name of at most 40 characters: lower-case letters, digits and "-".',
    );
  const warnings: string[] = [];
  const kindConfig = opts.kindConfig ?? DEFAULTS.kindConfig;
  if (!existsSync(path.resolve(cwd, kindConfig))) {
    if (opts.kindConfig !== undefined)
      throw new UsageError(
        `The kind config "${kindConfig}" does not exist (looked at ${path.resolve(cwd, kindConfig)}).`,
      );
    warnings.push(`note: the kind config ${kindConfig} does not exist yet; the plan references it anyway.`);
  }
  const files = opts.values?.length ? opts.values : opts.set?.length ? [] : [SEED_VALUES_FILE];
  const layers = files.map((f) => loadValuesFile(path.resolve(cwd, f)));
  const values = mergeValues(...layers, parseSetFlags(opts.set ?? []));
  const chart: ChartSource = opts.chart ? { kind: 'local', path: opts.chart } : { kind: 'repo' };
  const plan = kindProvisionPlan({
    cluster,
    k8sVersion: k8s,
    ciliumVersion: cilium,
    kindConfig,
    kubeconfig: kubeconfigPathFor(opts.reports ?? DEFAULTS.reportsDir, cluster),
    values,
    chart,
  });
  const header = [
    `# hookpoint plan: kind cluster "${cluster}" (Kubernetes ${k8s}) with Cilium ${cilium}`,
    `# values: ${files.length ? files.join(', ') : '(none)'}${opts.set?.length ? ` + --set ${opts.set.join(' ')}` : ''}`,
    '# Nothing was run. Paste these into a shell (bash) to provision by hand.',
    '',
  ];
  return { text: `${header.join('\n')}\n${renderPlan(plan)}`, warnings };
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  program
    .command('plan')
    .description('print the provisioning commands without running them')
    .option('--backend <name>', 'backend whose commands to print (kind)', 'kind')
    .option('--cilium <version>', `Cilium chart version (default ${DEFAULTS.cilium})`)
    .option('--k8s <version>', `Kubernetes version of the kindest/node image (default ${DEFAULTS.k8s})`)
    .option('--kind-config <file>', `kind cluster config (default ${DEFAULTS.kindConfig})`)
    .option('--cluster <name>', `Kind cluster name (default ${DEFAULTS.cluster})`)
    .option('--values <file>', `Cilium Helm values file, repeatable (default ${SEED_VALUES_FILE})`, collect)
    .option('--set <key=value>', 'one Cilium Helm value, repeatable', collect)
    .option('--chart <dir|tgz>', 'a local Cilium chart directory or .tgz instead of the Helm repository')
    .option('--reports <dir>', `reports directory holding the per-run kubeconfig (default ${DEFAULTS.reportsDir})`)
    .action((opts: PlanOptions) => {
      const out = buildPlan(opts);
      for (const w of out.warnings) process.stderr.write(`hookpoint: ${w}\n`);
      process.stdout.write(out.text);
    });
}
