/**
 * The existing backend: the kind backend without lifecycle. Any kubeconfig (and context); nodes
 * reached through the privileged probe DaemonSet (hostNetwork, hostPID, `nsenter -t 1` into the
 * host); the same probes and features. It never installs or reconfigures Cilium: provision()
 * takes the lock, reads the installed Cilium (version from the agent image, values from the Helm
 * release when there is one), refuses values that contradict the feature, and waits for readiness.
 */

import type { Config, ImageOverrides } from '../../config.ts';
import { InfraError, UsageError } from '../../errors.ts';
import type { IptablesMode } from '../../kube-proxy/mode.ts';
import { parseCiliumVersion, translateValues } from '../k8s/cilium-versions.ts';
import { ClusterBackend, type ClusterBackendDeps } from '../k8s/cluster-backend.ts';
import { CILIUM_DAEMONSET, CILIUM_NAMESPACE } from '../k8s/kubectl-commands.ts';
import { testedCombination } from '../k8s/tested-versions.ts';
import type { ClusterSpec } from '../types.ts';

export interface ExistingBackendOptions {
  kubeconfig: string;
  context?: string;
  iptables?: IptablesMode;
  /** --image overrides of the run's workloads (probe, echo, client). */
  images?: ImageOverrides;
}

/** Values the feature asks for that the installed release sets differently. */
export function contradictions(
  wanted: Readonly<Record<string, string>>,
  installed: Readonly<Record<string, string>>,
): Array<{ key: string; wanted: string; installed: string }> {
  return Object.entries(wanted)
    .filter(([k, v]) => Object.hasOwn(installed, k) && installed[k] !== v)
    .map(([key, v]) => ({ key, wanted: v, installed: installed[key]! }));
}

export class ExistingBackend extends ClusterBackend {
  private provisioned: string | undefined;

  constructor(o: ExistingBackendOptions, deps: ClusterBackendDeps = {}) {
    super(
      {
        name: 'existing',
        cluster: o.context ?? 'current-context',
        kubeconfig: o.kubeconfig,
        context: o.context,
        iptables: o.iptables,
        nodeAccess: 'probe',
        images: o.images,
      },
      deps,
    );
  }

  override describe(): string {
    return `existing cluster (${this.opts.context ? `context ${this.opts.context}` : this.opts.kubeconfig}) + Cilium ${this.version?.text ?? '(unknown)'}`;
  }

  override async provision(spec: ClusterSpec): Promise<void> {
    const asked = parseCiliumVersion(spec.ciliumVersion);
    const key = `${asked.text}|${JSON.stringify(spec.ciliumValues)}`;
    if (this.provisioned === key) return;
    await this.takeLock();
    const have = await this.installedCilium();
    if (!have.version)
      throw new InfraError(
        `No Cilium found on the existing cluster: DaemonSet ${CILIUM_NAMESPACE}/${CILIUM_DAEMONSET} is missing or its image has no version tag.`,
        { hint: 'The existing backend never installs Cilium; install it first, or use --backend kind.' },
      );
    if (have.version !== asked.text)
      this.progress(
        `note: the cluster runs Cilium ${have.version}; --cilium ${asked.text} is ignored on the existing backend`,
      );
    this.useVersion(have.version);
    await this.noteUntestedCombination(have.version);
    const wanted = translateValues(this.version!, spec.ciliumValues).values;
    if (have.values) {
      const bad = contradictions(wanted, have.values);
      if (bad.length)
        throw new UsageError(
          `The existing cluster's Cilium is configured differently from what the feature needs: ${bad
            .map((b) => `${b.key}=${b.installed} (feature: ${b.wanted})`)
            .join(', ')}.`,
          'The existing backend never reconfigures a cluster; run this feature on a cluster configured that way, or on --backend kind.',
        );
      const unknown = Object.keys(wanted).filter((k) => !Object.hasOwn(have.values!, k));
      if (unknown.length)
        this.progress(`note: the Helm release does not set ${unknown.join(', ')}; the chart defaults apply there`);
    } else {
      this.progress(
        `note: the Cilium values check is skipped: ${have.valuesUnreadable ?? 'no Helm release "cilium" readable'}; the feature's Cilium values were not compared with the cluster's`,
      );
    }
    try {
      await this.waitForCilium();
      await this.checkAgents();
    } catch (err) {
      throw await this.broken('Cilium is not ready on the existing cluster', err);
    }
    this.provisioned = key;
  }

  /** The cluster's own Cilium and kubelet versions against Cilium's e2e-tested list: a warning, never a refusal. */
  private async noteUntestedCombination(cilium: string): Promise<void> {
    const kubelets = new Set(
      (
        await this.api()
          .listNodes()
          .catch(() => [])
      )
        .map((n) => n.status?.nodeInfo?.kubeletVersion)
        .filter((v): v is string => !!v && /^v\d+\.\d+\.\d+/.test(v))
        .map((v) => v.match(/^v\d+\.\d+\.\d+/)![0]),
    );
    for (const k of kubelets) {
      const c = testedCombination(cilium, k);
      if (c.verdict === 'untested') this.progress(`warning: ${c.message}`);
    }
  }
}

/** Build the existing backend from the run's validated Config (needs --kubeconfig; --context optional). */
export function createExistingBackend(config: Config, deps: ClusterBackendDeps = {}): ExistingBackend {
  if (!config.kubeconfig)
    throw new UsageError('The existing backend needs a kubeconfig.', 'Pass --kubeconfig FILE (or set KUBECONFIG).');
  return new ExistingBackend(
    { kubeconfig: config.kubeconfig, context: config.context, iptables: config.iptables, images: config.images },
    deps,
  );
}
