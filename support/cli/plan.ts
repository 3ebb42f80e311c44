/**
 * `hookpoint plan --backend kind [paths…]` — print every command a kind run of those features
 * (default features/) would make, in order, copy-pasteable, without running anything: the
 * provisioning (chart, cluster, Cilium, readiness), the run's namespace, probe and the
 * workloads the features' steps declare (their manifests), and the teardown.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { parseCiliumVersion, parseK8sVersion } from '../backends/k8s/cilium-versions.ts';
import { loadValuesFile, mergeValues, parseSetFlags } from '../backends/k8s/helm-value-maps.ts';
import { kubeconfigPathFor } from '../backends/kind/paths.ts';
import {
  type ChartSource,
  type KindWorkloadInput,
  kindProvisionPlan,
  kindWorkloadPlan,
  renderPlan,
  reuseNote,
} from '../backends/kind/plan.ts';
import { planFromKindConfig } from '../backends/lab/topology.ts';
import { findNode } from '../backends/node-lookup.ts';
import type { ClientSpec, EchoSpec, ServiceSpec } from '../backends/types.ts';
import { DEFAULTS, DNS1123, parseImageOverrides } from '../config.ts';
import { UsageError } from '../errors.ts';
import { checkServiceDefinitions, configurationCluster, groupByConfiguration } from '../run/configurations.ts';
import { expandFeaturePaths, planScenarios } from '../run/features.ts';
import { loadVocabulary } from '../run/vocabulary-loader.ts';
import type { NodeRef } from '../scenario/parameter-types.ts';
import { type WorkloadDecl, workloadsOf } from '../scenario/vocabulary.ts';

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
  image?: string[];
  kindLoad?: boolean;
}

/** What the features ask for: their cluster (kind config, values) and the workloads their steps declare. */
export interface FeaturePlan {
  paths: string[];
  /** One of several cluster configurations the features ask for: its cluster is `<cluster>-<id>`. */
  configuration?: { id: string; description: string; index: number; of: number };
  kindConfig?: string;
  values?: Record<string, string>;
  workloads: WorkloadDecl[];
}

/** The run id the plan shows in names (a run draws 6 random hex digits). */
export const PLAN_RUN_ID = '000000';

export interface PlanOutput {
  text: string;
  /** Things worth saying on stderr (a kind config that does not exist yet). */
  warnings: string[];
}

export function buildPlan(opts: PlanOptions, cwd = process.cwd(), features?: FeaturePlan): PlanOutput {
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
  const base = opts.cluster ?? DEFAULTS.cluster;
  const conf = features?.configuration;
  const cluster = conf ? configurationCluster(base, conf.id, conf.of) : base;
  if (!DNS1123.test(base) || base.length > 40)
    throw new UsageError(
      `Invalid --cluster "${base}".`,
      'Use a DNS-1123 name of at most 40 characters: lower-case letters, digits and "-".',
    );
  const warnings: string[] = [];
  const fromFeatures = opts.kindConfig === undefined && features?.kindConfig !== undefined;
  const kindConfig =
    opts.kindConfig ?? (fromFeatures ? `kind-configs/${features!.kindConfig}` : undefined) ?? DEFAULTS.kindConfig;
  if (!existsSync(path.resolve(cwd, kindConfig))) {
    if (opts.kindConfig !== undefined)
      throw new UsageError(
        `The kind config "${kindConfig}" does not exist (looked at ${path.resolve(cwd, kindConfig)}).`,
      );
    warnings.push(`note: the kind config ${kindConfig} does not exist yet; the plan references it anyway.`);
  }
  const featureValues = !opts.values?.length && !opts.set?.length ? features?.values : undefined;
  const files = opts.values?.length ? opts.values : opts.set?.length || featureValues ? [] : [SEED_VALUES_FILE];
  const layers = files.map((f) => loadValuesFile(path.resolve(cwd, f)));
  const values = mergeValues(...layers, featureValues ?? {}, parseSetFlags(opts.set ?? []));
  const images = parseImageOverrides(opts.image ?? []);
  const chart: ChartSource = opts.chart ? { kind: 'local', path: opts.chart } : { kind: 'repo' };
  const plan = kindProvisionPlan({
    cluster,
    k8sVersion: k8s,
    ciliumVersion: cilium,
    kindConfig,
    kubeconfig: kubeconfigPathFor(opts.reports ?? DEFAULTS.reportsDir, cluster),
    values,
    chart,
    images,
    kindLoad: opts.kindLoad,
  });
  const kubeconfig = kubeconfigPathFor(opts.reports ?? DEFAULTS.reportsDir, cluster);
  if (features) {
    const nodes = planFromKindConfig(readFileSync(path.resolve(cwd, kindConfig), 'utf8'), { cluster }).nodes;
    plan.commands.push(
      ...kindWorkloadPlan({
        cluster,
        kubeconfig,
        runId: PLAN_RUN_ID,
        scratchDir: `/tmp/hookpoint-${PLAN_RUN_ID}`,
        images,
        ...workloadSpecs(features.workloads, nodes),
      }),
    );
  }
  plan.commands.push({
    purpose: 'teardown: the cluster this run created (unless --keep or --reuse)',
    argv: ['kind', 'delete', 'cluster', '--name', cluster],
  });
  const header = [
    `# hookpoint plan: kind cluster "${cluster}" (Kubernetes ${k8s}) with Cilium ${cilium}`,
    ...(conf && conf.of > 1
      ? [
          `# configuration ${conf.index} of ${conf.of}: ${conf.id} (${conf.description}); the run provisions each in turn, this one after the one before is torn down.`,
        ]
      : []),
    `# values: ${featureValues ? `the features' "Cilium is installed with" table` : files.length ? files.join(', ') : '(none)'}${opts.set?.length ? ` + --set ${opts.set.join(' ')}` : ''}`,
    ...(features
      ? [
          `# features: ${features.paths.join(', ')} (${features.workloads.length} workload declarations); the run's namespace is hookpoint-<run id>, shown as hookpoint-${PLAN_RUN_ID}.`,
          '# Per-scenario probes (iptables-save, cilium-dbg monitor, tcpdump, bpftool) run inside these objects; the transcript of a run lists each.',
        ]
      : []),
    `# note: ${reuseNote(kubeconfig)}`,
    '# Nothing was run. Paste these into a shell (bash) to provision by hand.',
    '',
  ];
  return { text: `${header.join('\n')}\n${renderPlan(plan)}`, warnings };
}

/** Concrete specs for the declared workloads: node roles resolved on the kind config's nodes, each workload once. */
export function workloadSpecs(
  decls: readonly WorkloadDecl[],
  nodes: ReadonlyArray<{ name: string; role: string }>,
): Pick<KindWorkloadInput, 'echoes' | 'services' | 'clients'> {
  const node = (ref: NodeRef) => {
    const n = findNode(nodes, ref.text);
    if (!n)
      throw new UsageError(
        `The features name node "${ref.text}", which the kind config does not have.`,
        `Known nodes: ${nodes.map((x) => `${x.role} (${x.name})`).join(', ')}.`,
      );
    return n.name;
  };
  const echoes = new Map<string, EchoSpec>();
  const services = new Map<string, ServiceSpec>();
  const clients = new Map<string, ClientSpec>();
  for (const d of decls) {
    if (d.kind === 'echo') {
      const want = d.nodes === 'every' ? nodes.map((n) => n.name) : d.nodes.map(node);
      const have = echoes.get(d.name)?.nodes ?? [];
      echoes.set(d.name, { name: d.name, nodes: [...new Set([...have, ...want])] });
    } else if (d.kind === 'service') {
      const spec: ServiceSpec = {
        name: d.name,
        app: d.app,
        port: d.port,
        type: d.type,
        ...(d.nodePort ? { nodePort: d.nodePort } : {}),
        ...(d.onlyNodes ? { onlyNodes: d.onlyNodes.map(node) } : {}),
        ...(d.targetPort !== undefined ? { targetPort: d.targetPort } : {}),
        ...(d.protocol ? { protocol: d.protocol } : {}),
      };
      // A service declared again differently is replaced by the run (removed, then made anew): both are shown.
      services.set(JSON.stringify(spec), spec);
    } else clients.set(d.name, { name: d.name, node: node(d.node), namespace: d.namespace, labels: d.labels });
  }
  return { echoes: [...echoes.values()], services: [...services.values()], clients: [...clients.values()] };
}

/** The features' cluster request and declared workloads (loads the step definitions to read them); the first configuration's. */
export async function planFeatures(paths: string[], cwd = process.cwd()): Promise<FeaturePlan | undefined> {
  return (await planFeatureGroups(paths, cwd))?.[0];
}

/** One plan input per cluster configuration the features ask for, in the order a run provisions them. */
export async function planFeatureGroups(
  paths: string[],
  cwd = process.cwd(),
  defaultKindConfig: string = DEFAULTS.kindConfig,
): Promise<FeaturePlan[] | undefined> {
  const asked = paths.length ? paths : ['features'];
  if (!paths.length && !existsSync(path.resolve(cwd, 'features'))) return undefined;
  const files = expandFeaturePaths(asked, cwd);
  if (files.length === 0) throw new UsageError(`No .feature files under ${asked.join(', ')}.`);
  const scenarios = planScenarios(files, cwd);
  await loadVocabulary(cwd);
  const groups = groupByConfiguration(scenarios, defaultKindConfig);
  checkServiceDefinitions(groups);
  return groups.map((g, i) => ({
    paths: asked,
    ...(groups.length > 1
      ? { configuration: { id: g.id, description: g.description, index: i + 1, of: groups.length } }
      : {}),
    kindConfig: g.request?.kindConfig,
    values: g.request?.values,
    workloads: workloadsOf(g.scenarios.flatMap((s) => s.steps.map((st) => st.text))),
  }));
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export function register(program: Command): void {
  program
    .command('plan')
    .description(
      'print every command a kind run of the features would make (provisioning, workload manifests, teardown) without running them',
    )
    .argument('[paths...]', 'feature files or folders (default features/)')
    .option('--backend <name>', 'backend whose commands to print (kind)', 'kind')
    .option('--cilium <version>', `Cilium chart version (default ${DEFAULTS.cilium})`)
    .option('--k8s <version>', `Kubernetes version of the kindest/node image (default ${DEFAULTS.k8s})`)
    .option('--kind-config <file>', `kind cluster config (default ${DEFAULTS.kindConfig})`)
    .option('--cluster <name>', `Kind cluster name (default ${DEFAULTS.cluster})`)
    .option('--values <file>', `Cilium Helm values file, repeatable (default ${SEED_VALUES_FILE})`, collect)
    .option('--set <key=value>', 'one Cilium Helm value, repeatable', collect)
    .option('--chart <dir|tgz>', 'a local Cilium chart directory or .tgz instead of the Helm repository')
    .option('--reports <dir>', `reports directory holding the per-run kubeconfig (default ${DEFAULTS.reportsDir})`)
    .option('--image <role=ref,...>', 'images to use (roles node, cilium, operator, probe, echo, client)', collect)
    .option('--kind-load', 'include the kind load docker-image commands')
    .action(async (paths: string[], opts: PlanOptions) => {
      const groups = await planFeatureGroups(paths, process.cwd(), opts.kindConfig ?? DEFAULTS.kindConfig);
      for (const features of groups ?? [undefined]) {
        const out = buildPlan(opts, process.cwd(), features);
        for (const w of out.warnings) process.stderr.write(`hookpoint: ${w}\n`);
        process.stdout.write(out.text);
        if (features?.configuration && features.configuration.index < features.configuration.of)
          process.stdout.write('\n');
      }
    });
}
