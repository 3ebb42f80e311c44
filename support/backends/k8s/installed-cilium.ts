/**
 * The Cilium installed on the cluster: its version (from the agent DaemonSet's image), its Helm
 * release values, and whether it is ready (DaemonSet fully ready and updated, nodes Ready).
 */
import type * as k8s from '@kubernetes/client-node';
import type { ClusterAccess } from './cluster-access.ts';
import { flattenValues } from './helm-value-maps.ts';
import {
  CILIUM_AGENT_CONTAINER,
  CILIUM_DAEMONSET,
  CILIUM_NAMESPACE,
  CILIUM_RELEASE,
  helmGetValuesArgv,
  rolloutRestartArgv,
} from './kubectl-commands.ts';
import { waitUntil } from './readiness.ts';

/** The version in a Cilium image reference: quay.io/cilium/cilium:v1.17.15@sha256:… → "1.17.15". */
export function imageVersion(image: string | undefined): string | undefined {
  const m = /:v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)(?:@|$)/.exec(image ?? '');
  return m?.[1];
}

/** The image of the cilium-agent container of the Cilium DaemonSet (its first container otherwise). */
export function agentImageOf(ds: k8s.V1DaemonSet | null | undefined): string | undefined {
  const containers = ds?.spec?.template.spec?.containers;
  return (containers?.find((x) => x.name === CILIUM_AGENT_CONTAINER) ?? containers?.[0])?.image;
}

export interface InstalledCilium {
  version?: string;
  values?: Record<string, string>;
  /** Why the release values could not be read (no helm on this machine, no release, no RBAC). */
  valuesUnreadable?: string;
}

/**
 * Installed Cilium: version from the agent DaemonSet image, values from the Helm release (if
 * any). `helm get values` needs the helm binary here and get/list on Secrets in Cilium's
 * namespace (Helm 3 stores releases as Secrets); without either the values are unknown, and
 * the reason says so — it never throws for that.
 */
export async function installedCilium(c: ClusterAccess): Promise<InstalledCilium> {
  const ds = await c.api().readDaemonSet(CILIUM_NAMESPACE, CILIUM_DAEMONSET);
  if (!ds) return {};
  const version = imageVersion(agentImageOf(ds));
  let res: Awaited<ReturnType<typeof c.exec.run>>;
  try {
    res = await c.exec.run(helmGetValuesArgv(c.opts.kubeconfig, c.opts.context), {
      timeoutMs: c.t.helmQuery,
      where: 'host',
      check: false,
    });
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return {
      version,
      valuesUnreadable: /not installed or not on PATH/.test(msg) ? 'helm is not installed on this machine' : msg,
    };
  }
  if (res.exitCode !== 0) {
    const why = (res.stderr || res.stdout).trim().split('\n').pop() ?? '';
    return {
      version,
      valuesUnreadable: `\`helm get values ${CILIUM_RELEASE}\` failed: ${why || `exit ${res.exitCode}`}`,
    };
  }
  try {
    return { version, values: flattenValues(JSON.parse(res.stdout || '{}')) };
  } catch {
    return { version, valuesUnreadable: '`helm get values` printed no JSON' };
  }
}

/** The cilium DaemonSet fully ready and updated, then every node Ready (bounded, with progress). */
export async function waitForCilium(c: ClusterAccess): Promise<void> {
  const api = c.api();
  await waitUntil(
    `Cilium DaemonSet ${CILIUM_NAMESPACE}/${CILIUM_DAEMONSET}`,
    async () => {
      const ds = await api.readDaemonSet(CILIUM_NAMESPACE, CILIUM_DAEMONSET);
      if (!ds) return { done: false, state: 'not created yet' };
      const st = ds.status;
      const desired = st?.desiredNumberScheduled ?? 0;
      const ready = st?.numberReady ?? 0;
      const updated = st?.updatedNumberScheduled ?? 0;
      const current = (st?.observedGeneration ?? 0) >= (ds.metadata?.generation ?? 0);
      return {
        done: desired > 0 && ready === desired && updated === desired && current,
        state: `${ready}/${desired} agents ready, ${updated} updated`,
      };
    },
    {
      timeoutMs: c.t.ciliumReady,
      intervalMs: c.pollMs,
      deps: c.waitDeps,
      hint: 'The agent logs and pod descriptions are attached; `kubectl -n kube-system describe ds cilium` shows more.',
    },
  );
  await waitUntil(
    'nodes Ready',
    async () => {
      const nodes = await api.listNodes();
      const ready = nodes.filter((n) => n.status?.conditions?.some((x) => x.type === 'Ready' && x.status === 'True'));
      return {
        done: nodes.length > 0 && ready.length === nodes.length,
        state: `${ready.length}/${nodes.length} nodes Ready`,
      };
    },
    { timeoutMs: c.t.nodesReady, intervalMs: c.pollMs, deps: c.waitDeps },
  );
}

/**
 * Recreate every agent pod so the agents load the configuration just installed, and return the
 * DaemonSet generation the restart produced; waitForCilium() then waits until the controller has
 * observed that generation and every new pod is updated and ready.
 */
export async function restartAgents(c: ClusterAccess): Promise<number> {
  await c.exec.run(rolloutRestartArgv(c.opts.kubeconfig, c.opts.context), { timeoutMs: c.t.apiCall, where: 'host' });
  const ds = await c.api().readDaemonSet(CILIUM_NAMESPACE, CILIUM_DAEMONSET);
  return ds?.metadata?.generation ?? 0;
}
