/**
 * Command plans of the kind backend as pure argv builders: nothing here runs anything. The
 * backend runs these argv arrays through its executor; `hookpoint plan` prints them.
 */

import { stringify } from 'yaml';
import type { ImageOverrides } from '../../config.ts';
import { formatArgv, registerSecretValues } from '../../exec/index.ts';
import { parseCiliumVersion, parseK8sVersion, type SemVer, translateValues } from '../k8s/cilium-versions.ts';
import {
  CILIUM_DAEMONSET,
  CILIUM_NAMESPACE,
  CILIUM_RELEASE,
  kubectlArgv,
  rolloutRestartArgv,
  TIMEOUTS,
} from '../k8s/kubectl-commands.ts';
import {
  clientNamespaceLabels,
  clientPod,
  DEFAULT_ECHO_PORT,
  echoDeployments,
  namespaceLabels,
  probeDaemonSet,
  runNamespace,
  serviceManifest,
  workloadImages,
} from '../k8s/workload-manifests.ts';
import type { ClientSpec, EchoSpec, ServiceSpec } from '../types.ts';
import { pinnedNodeImage } from './node-images.ts';

export const CILIUM_REPO = { name: 'cilium', url: 'https://helm.cilium.io' } as const;
export const KIND_NODE_IMAGE = 'kindest/node';
export const API_SERVER_PORT = '6443';

/** Where the chart comes from: the Cilium Helm repo, or a local chart directory / .tgz (offline runners). */
export type ChartSource = { kind: 'repo' } | { kind: 'local'; path: string };

export function chartRef(chart: ChartSource): string {
  return chart.kind === 'repo' ? `${CILIUM_REPO.name}/cilium` : chart.path;
}

/**
 * The node image: --image node=… if given, else the image pinned by digest for that Kubernetes
 * version (node-images.ts), else the bare tag (stated in the plan and progress as not pinned).
 */
export function kindNodeImage(k8sVersion: string, override?: string): string {
  if (override) return override;
  return pinnedNodeImage(k8sVersion)?.image ?? `${KIND_NODE_IMAGE}:${parseK8sVersion(k8sVersion)}`;
}

/**
 * Cilium chart values for --image cilium=… / operator=…: the chart's `image.override` and
 * `operator.image.override` replace the whole reference (repository, tag and digest).
 */
export function imageValues(images: ImageOverrides = {}): Record<string, string> {
  return {
    ...(images.cilium ? { 'image.override': images.cilium } : {}),
    ...(images.operator ? { 'operator.image.override': images.operator } : {}),
  };
}

/**
 * The images `--kind-load` offers to the nodes: the workload images (pinned or overridden) and
 * the Cilium images when overridden (the chart's own references carry digests, which `kind load`
 * cannot satisfy by tag). The node image is not loaded: it is the node.
 */
export function loadableImages(images: ImageOverrides = {}): string[] {
  const w = workloadImages(images);
  return [...new Set([w.probe, w.echo, w.client, images.cilium, images.operator].filter((x): x is string => !!x))];
}

/** Is this image in the local Docker? (exit 0: yes; kind load only loads local images). */
export function dockerImagePresentArgv(image: string): string[] {
  return ['docker', 'image', 'inspect', '--format', '{{.Id}}', image];
}

/** `kind load docker-image`: copy a local image into every node of the cluster (no registry pull). */
export function kindLoadArgv(image: string, cluster: string): string[] {
  return ['kind', 'load', 'docker-image', image, '--name', cluster];
}

/**
 * The container engine's own name and version (`docker version`'s Server section): a Docker
 * Engine, Docker Desktop, or a stand-in, stated in every run's report so no run is mistaken for another.
 */
export function dockerServerArgv(): string[] {
  return ['docker', 'version', '--format', '{{.Server.Platform.Name}} {{.Server.Version}}'];
}

export function kindVersionArgv(): string[] {
  return ['kind', 'version'];
}

/** `kind create cluster` writing its kubeconfig to a per-run file (the user's context is untouched). */
export function kindCreateArgv(o: {
  cluster: string;
  k8sVersion: string;
  kindConfig: string;
  kubeconfig: string;
  nodeImage?: string;
}) {
  return [
    'kind',
    'create',
    'cluster',
    '--name',
    o.cluster,
    '--image',
    kindNodeImage(o.k8sVersion, o.nodeImage),
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
  /** Text fed on stdin (a manifest), printed as a here-document. */
  stdin?: string;
}

export interface KindPlanInput {
  cluster: string;
  k8sVersion: string;
  ciliumVersion: string;
  kindConfig: string;
  kubeconfig: string;
  values: Readonly<Record<string, string>>;
  chart: ChartSource;
  images?: ImageOverrides;
  kindLoad?: boolean;
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
  const installed = installValues(v, input.cluster, input.values);
  const notes = installed.notes;
  const values = { ...installed.values, ...imageValues(input.images) };
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
    argv: kindCreateArgv({ ...input, nodeImage: input.images?.node }),
  });
  if (input.kindLoad)
    for (const image of loadableImages(input.images))
      commands.push({
        purpose: `--kind-load: ${image} into the nodes, when \`${formatArgv(dockerImagePresentArgv(image))}\` finds it locally`,
        argv: kindLoadArgv(image, input.cluster),
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

/** What a --reuse run adds after a values change (stated in the plan's header). */
export function reuseNote(kubeconfig: string): string {
  return `on a reused cluster (--reuse) whose Cilium values differ, the run upgrades and then restarts the agents (rollOutCiliumPods defaults to false): ${formatArgv(rolloutRestartArgv(kubeconfig))}`;
}

export interface KindWorkloadInput {
  cluster: string;
  kubeconfig: string;
  runId: string;
  scratchDir: string;
  images?: ImageOverrides;
  echoes: EchoSpec[];
  services: ServiceSpec[];
  clients: ClientSpec[];
}

const manifest = (obj: unknown) => stringify(obj, { lineWidth: 0, aliasDuplicateObjects: false });

/**
 * The run's objects, in the order the run makes them: its namespace (with the Pod Security
 * label), the probe DaemonSet, the echo deployments, services and client pods of the features;
 * then the namespace's removal at teardown. The run creates them through the API; the plan
 * shows the same objects as `kubectl apply` so they can be made by hand.
 */
export function kindWorkloadPlan(input: KindWorkloadInput): PlannedCommand[] {
  const ns = runNamespace(input.runId);
  const apply = (what: string, obj: unknown, inNs = ns): PlannedCommand => ({
    purpose: what,
    argv: kubectlArgv(input.kubeconfig, undefined, '--namespace', inNs, 'apply', '-f', '-'),
    stdin: manifest(obj),
  });
  const commands: PlannedCommand[] = [
    {
      purpose: `the run's namespace ${ns} (privileged Pod Security: the probe uses the host's PID and network namespaces)`,
      argv: kubectlArgv(input.kubeconfig, undefined, 'apply', '-f', '-'),
      stdin: manifest({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: ns, labels: namespaceLabels(input.runId) },
      }),
    },
    apply(
      'the probe on every node (tcpdump, nsenter), made on the first capture or node command',
      probeDaemonSet(input.runId, input.scratchDir, input.images),
    ),
  ];
  const ports = new Map<string, number>();
  for (const e of input.echoes) {
    const port = e.port ?? DEFAULT_ECHO_PORT;
    ports.set(e.name, port);
    // The echo answers on every target port its services name, as the run makes it.
    const listeners = input.services
      .filter((svc) => svc.app === e.name)
      .map((svc) => ({ port: svc.targetPort ?? port, protocol: svc.protocol ?? 'TCP' }));
    for (const d of echoDeployments({ ...e, listeners }, input.cluster, input.runId, input.images))
      commands.push(apply(`echo deployment ${d.metadata?.name} (one replica of "${e.name}" pinned to its node)`, d));
  }
  for (const svc of input.services)
    commands.push(
      apply(`${svc.type} service "${svc.name}"`, serviceManifest(svc, ports.get(svc.app) ?? DEFAULT_ECHO_PORT)),
    );
  const others = [
    ...new Set(input.clients.map((c) => c.namespace).filter((n): n is string => !!n && n !== 'default' && n !== ns)),
  ];
  for (const other of others)
    commands.push({
      purpose: `namespace ${other} for client pods, when missing (removed with the scenario's last client there if the run made it)`,
      argv: kubectlArgv(input.kubeconfig, undefined, 'apply', '-f', '-'),
      stdin: manifest({
        apiVersion: 'v1',
        kind: 'Namespace',
        metadata: { name: other, labels: clientNamespaceLabels(input.runId) },
      }),
    });
  for (const c of input.clients) {
    const inNs = c.namespace && c.namespace !== 'default' ? c.namespace : ns;
    commands.push(
      apply(`client pod "${c.name}"${inNs === ns ? '' : ` in ${inNs}`}`, clientPod(c, input.runId, input.images), inNs),
    );
  }
  commands.push({
    purpose: `teardown: the run's namespace with everything in it`,
    argv: kubectlArgv(input.kubeconfig, undefined, 'delete', 'namespace', ns, '--wait=false'),
  });
  return commands;
}

/** The plan as copy-pasteable shell text: a comment line per command, long commands wrapped with "\". */
export function renderPlan(plan: KindPlan): string {
  const lines: string[] = [];
  for (const n of plan.notes) lines.push(`# note: ${n}`);
  if (plan.notes.length) lines.push('');
  plan.commands.forEach((c, i) => {
    lines.push(`# ${i + 1}. ${c.purpose}`);
    if (c.stdin !== undefined) lines.push(`${wrapCommand(c.argv)} <<'EOF'`, c.stdin.trimEnd(), 'EOF');
    else lines.push(wrapCommand(c.argv));
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
