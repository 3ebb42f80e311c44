/**
 * The commands and names the kind and existing backends share, as pure argv builders: kubectl
 * with the run's kubeconfig, a command in a node's Cilium agent container, the installed Helm
 * release's values; where Cilium lives; and the timeout of every external call.
 */
import { agentCli, type SemVer } from './cilium-versions.ts';

export const CILIUM_RELEASE = 'cilium';
export const CILIUM_NAMESPACE = 'kube-system';
export const CILIUM_DAEMONSET = 'cilium';
export const CILIUM_AGENT_CONTAINER = 'cilium-agent';
export const CILIUM_AGENT_SELECTOR = 'k8s-app=cilium';

/** Timeouts (ms) of every external call the kind/existing backends make. */
export const TIMEOUTS = {
  kindCreate: 10 * 60_000,
  kindDelete: 3 * 60_000,
  kindQuery: 30_000,
  kindLoad: 5 * 60_000,
  helmRepo: 2 * 60_000,
  helmShowValues: 2 * 60_000,
  helmInstall: 10 * 60_000,
  helmQuery: 60_000,
  ciliumReady: 5 * 60_000,
  nodesReady: 5 * 60_000,
  workloadReady: 3 * 60_000,
  apiCall: 15_000,
  /** Every agent imported a network policy and regenerated its endpoints. */
  policyApplied: 60_000,
  nodeExec: 60_000,
  agentExec: 60_000,
  collector: 30_000,
  dockerInfo: 5_000,
  /** After SIGINT in its container, how long a window process may take to exit before the local kill. */
  windowStopGrace: 2_000,
} as const;

export function kubectlArgv(kubeconfig: string, context: string | undefined, ...rest: string[]): string[] {
  return ['kubectl', '--kubeconfig', kubeconfig, ...(context ? ['--context', context] : []), ...rest];
}

export function helmGetValuesArgv(kubeconfig: string, context?: string): string[] {
  return [
    'helm',
    'get',
    'values',
    CILIUM_RELEASE,
    '--namespace',
    CILIUM_NAMESPACE,
    '--output',
    'json',
    '--kubeconfig',
    kubeconfig,
    ...(context ? ['--kube-context', context] : []),
  ];
}

/**
 * Restart the agents: `helm upgrade` changes the cilium-config ConfigMap but not the DaemonSet's
 * pod template unless the chart's `rollOutCiliumPods` is set (default false), so the running
 * agents keep the old configuration until their pods are recreated. `kubectl rollout restart`
 * stamps the template (`kubectl.kubernetes.io/restartedAt`), which bumps the generation and
 * makes the DaemonSet controller replace every pod.
 */
export function rolloutRestartArgv(kubeconfig: string, context?: string): string[] {
  return kubectlArgv(
    kubeconfig,
    context,
    '--namespace',
    CILIUM_NAMESPACE,
    'rollout',
    'restart',
    `daemonset/${CILIUM_DAEMONSET}`,
  );
}

/** `cilium status` (or `cilium-dbg status`) on the agent of one node, through kubectl exec. */
export function agentExecArgv(o: {
  kubeconfig: string;
  context?: string;
  pod: string;
  version: SemVer;
  argv: readonly string[];
}): string[] {
  const argv = [...o.argv];
  if (argv[0] === 'cilium' || argv[0] === 'cilium-dbg') argv[0] = agentCli(o.version);
  return kubectlArgv(
    o.kubeconfig,
    o.context,
    '--namespace',
    CILIUM_NAMESPACE,
    'exec',
    o.pod,
    '--container',
    CILIUM_AGENT_CONTAINER,
    '--',
    ...argv,
  );
}
