/**
 * Command plans of the kind backend as pure argv builders: nothing here runs anything. The
 * backend runs these argv arrays through its executor; `hookpoint plan` prints them.
 */
import { formatArgv, registerSecretValues } from '../../exec/index.ts';
import { parseCiliumVersion, parseK8sVersion, type SemVer, translateValues } from '../k8s/cilium-versions.ts';
import { CILIUM_DAEMONSET, CILIUM_NAMESPACE, CILIUM_RELEASE, kubectlArgv, TIMEOUTS } from '../k8s/kubectl-commands.ts';

export const CILIUM_REPO = { name: 'cilium', url: 'https://helm.cilium.io' } as const;
export const KIND_NODE_IMAGE = 'kindest/node';
export const API_SERVER_PORT = '6443';

/** Where the chart comes from: the Cilium Helm repo, or a local chart directory / .tgz (offline runners). */
export type ChartSource = { kind: 'repo' } | { kind: 'local'; path: string };

export function chartRef(chart: ChartSource): string {
  return chart.kind === 'repo' ? `${CILIUM_REPO.name}/cilium` : chart.path;
}

export function kindNodeImage(k8sVersion: string): string {
  return `${KIND_NODE_IMAGE}:${parseK8sVersion(k8sVersion)}`;
}

/** `kind create cluster` writing its kubeconfig to a per-run file (the user's context is untouched). */
export function kindCreateArgv(o: { cluster: string; k8sVersion: string; kindConfig: string; kubeconfig: string }) {
  return [
    'kind',
    'create',
    'cluster',
    '--name',
    o.cluster,
    '--image',
    kindNodeImage(o.k8sVersion),
    '--config',
    o.kindConfig,
    '--kubeconfig',
    o.kubeconfig,
  ];
}

export function kindDeleteArgv(cluster: string, kubeconfig?: string): string[] {
  return ['kind', 'delete', 'cluster', '--name', cluster, ...(kubeconfig ? ['--kubeconfig', kubeconfig] : [])];
}

export function kindGetClustersArgv(): string[] {
  return ['kind', 'get', 'clusters'];
}

export function kindGetNodesArgv(cluster: string): string[] {
  return ['kind', 'get', 'nodes', '--name', cluster];
}

/** Write the kubeconfig of an existing (reused) cluster to the per-run file. */
export function kindExportKubeconfigArgv(cluster: string, kubeconfig: string): string[] {
  return ['kind', 'export', 'kubeconfig', '--name', cluster, '--kubeconfig', kubeconfig];
}

export function helmRepoAddArgv(): string[] {
  return ['helm', 'repo', 'add', CILIUM_REPO.name, CILIUM_REPO.url, '--force-update'];
}

export function helmRepoUpdateArgv(): string[] {
  return ['helm', 'repo', 'update', CILIUM_REPO.name];
}

export function helmShowValuesArgv(chart: ChartSource, version: string): string[] {
  return chart.kind === 'repo'
    ? ['helm', 'show', 'values', chartRef(chart), '--version', version]
    : ['helm', 'show', 'values', chartRef(chart)];
}

/** --set arguments in the given key order. */
export function setFlags(values: Readonly<Record<string, string>>): string[] {
  registerSecretValues(values);
  return Object.entries(values).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
}

export function helmUpgradeInstallArgv(o: {
  chart: ChartSource;
  version: string;
  kubeconfig: string;
  values: Readonly<Record<string, string>>;
  context?: string;
}): string[] {
  return [
    'helm',
    'upgrade',
    '--install',
    CILIUM_RELEASE,
    chartRef(o.chart),
    ...(o.chart.kind === 'repo' ? ['--version', o.version] : []),
    '--namespace',
    CILIUM_NAMESPACE,
    '--kubeconfig',
    o.kubeconfig,
    ...(o.context ? ['--kube-context', o.context] : []),
    ...setFlags(o.values),
  ];
}

/** Values the kind backend always sets: the API server as seen from the Kind network. */
export function kindApiServerValues(cluster: string): Record<string, string> {
  return { k8sServiceHost: `${cluster}-control-plane`, k8sServicePort: API_SERVER_PORT };
}

/** The values actually installed for version v: translated by the version table, plus the API server. */
export function installValues(
  v: SemVer,
  cluster: string,
  values: Readonly<Record<string, string>>,
): { values: Record<string, string>; notes: string[] } {
  const t = translateValues(v, values);
  return { values: { ...t.values, ...kindApiServerValues(cluster) }, notes: t.notes };
}

export interface PlannedCommand {
  /** What the command is for, printed as a comment above it. */
  purpose: string;
  argv: string[];
}

export interface KindPlanInput {
  cluster: string;
  k8sVersion: string;
  ciliumVersion: string;
  kindConfig: string;
  kubeconfig: string;
  values: Readonly<Record<string, string>>;
  chart: ChartSource;
}

export interface KindPlan {
  commands: PlannedCommand[];
  notes: string[];
  values: Record<string, string>;
}

/**
 * Every provisioning command of the kind backend, in the order it runs them: chart source, the
 * chart's own values (key check), the cluster, Cilium, readiness.
 */
export function kindProvisionPlan(input: KindPlanInput): KindPlan {
  const v = parseCiliumVersion(input.ciliumVersion);
  const { values, notes } = installValues(v, input.cluster, input.values);
  const commands: PlannedCommand[] = [];
  if (input.chart.kind === 'repo') {
    commands.push({ purpose: 'Cilium Helm repository', argv: helmRepoAddArgv() });
    commands.push({ purpose: 'refresh the chart index', argv: helmRepoUpdateArgv() });
  }
  commands.push({
    purpose: `the chart's own values (Hookpoint checks the --set keys against them before provisioning)`,
    argv: helmShowValuesArgv(input.chart, v.text),
  });
  commands.push({
    purpose: `Kind cluster with its kubeconfig in a per-run file (your current context is not changed)`,
    argv: kindCreateArgv(input),
  });
  commands.push({
    purpose: `Cilium ${v.text}`,
    argv: helmUpgradeInstallArgv({ chart: input.chart, version: v.text, kubeconfig: input.kubeconfig, values }),
  });
  commands.push({
    purpose: 'wait for the Cilium agents (Hookpoint polls the API for the same condition, with progress)',
    argv: kubectlArgv(
      input.kubeconfig,
      undefined,
      '--namespace',
      CILIUM_NAMESPACE,
      'rollout',
      'status',
      `daemonset/${CILIUM_DAEMONSET}`,
      `--timeout=${TIMEOUTS.ciliumReady / 1000}s`,
    ),
  });
  commands.push({
    purpose: 'wait for every node to be Ready',
    argv: kubectlArgv(
      input.kubeconfig,
      undefined,
      'wait',
      '--for=condition=Ready',
      'nodes',
      '--all',
      `--timeout=${TIMEOUTS.nodesReady / 1000}s`,
    ),
  });
  return { commands, notes, values };
}

/** The plan as copy-pasteable shell text: a comment line per command, long commands wrapped with "\". */
export function renderPlan(plan: KindPlan): string {
  const lines: string[] = [];
  for (const n of plan.notes) lines.push(`# note: ${n}`);
  if (plan.notes.length) lines.push('');
  plan.commands.forEach((c, i) => {
    lines.push(`# ${i + 1}. ${c.purpose}`);
    lines.push(wrapCommand(c.argv));
  });
  return `${lines.join('\n')}\n`;
}

/** One command; each `--set` on its own continuation line when there are several. */
export function wrapCommand(argv: readonly string[]): string {
  const firstSet = argv.indexOf('--set');
  if (firstSet < 0 || argv.filter((a) => a === '--set').length < 2) return formatArgv(argv);
  const parts = [formatArgv(argv.slice(0, firstSet))];
  for (let i = firstSet; i < argv.length; i += 2) parts.push(`  ${formatArgv(argv.slice(i, i + 2))}`);
  return parts.join(' \\\n');
}
