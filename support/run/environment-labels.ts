/**
 * The report's environment: backend, versions, kernel, iptables mode, and the datapath
 * fingerprint read from the agents' own status after provisioning (Cilium version, routing mode,
 * kube-proxy replacement, host routing, attach mode) — read, never assumed.
 */
import os from 'node:os';
import { descriptorOf } from '../backends/descriptors.ts';
import { testedCombination } from '../backends/k8s/tested-versions.ts';
import { agentStatus } from '../probes/status.ts';
import type { RunContext } from './context.ts';

export function baseEnvironment(ctx: RunContext): Record<string, string> {
  const { config, backend } = ctx;
  const env: Record<string, string> = {
    backend: backend.describe(),
    'cilium.version': config.cilium,
    'kubernetes.version': config.k8s,
    kernel: os.release(),
    'node.version': process.version,
  };
  Object.assign(env, descriptorOf(config.backend).environment({ cilium: config.cilium, variants: config.variants }));
  if (config.iptables) env['iptables.mode'] = config.iptables;
  const compat = compatibilityLine(config);
  if (compat) env.compatibility = compat;
  return env;
}

/**
 * On kind, where the run picks both versions: "untested combination: …" when Cilium is not
 * e2e-tested on that Kubernetes (a warning, never a refusal), or a note when no list is recorded.
 */
export function compatibilityLine(config: { backend: string; cilium: string; k8s: string }): string | undefined {
  if (config.backend !== 'kind') return undefined;
  const c = testedCombination(config.cilium, config.k8s);
  return c.verdict === 'tested' ? undefined : c.message;
}

export async function environmentOf(ctx: RunContext): Promise<Record<string, string>> {
  const env = baseEnvironment(ctx);
  try {
    const topo = await ctx.backend.topology();
    const node = topo.nodes[0];
    if (node) {
      const status = (await agentStatus(ctx.backend, node.name)).data;
      // What the agent itself runs (after a --reuse restart too), not what was asked for.
      if (status.ciliumVersion && !descriptorOf(ctx.config.backend).ciliumVersionIsLabel)
        env['cilium.version'] = status.ciliumVersion;
      if (status.attachMode) env['datapath.attachMode'] = status.attachMode;
      if (status.routing) env['datapath.routing'] = `${status.routing.network} (host: ${status.routing.host})`;
      if (status.kubeProxyReplacement) env['datapath.kubeProxyReplacement'] = status.kubeProxyReplacement;
    }
  } catch (err) {
    env['datapath.fingerprint'] = `unreadable: ${(err as Error).message.slice(0, 160)}`;
  }
  return env;
}
