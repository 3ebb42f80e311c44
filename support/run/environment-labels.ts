/**
 * The report's environment: backend, versions, kernel, iptables mode, and the datapath
 * fingerprint read from the cluster (routing mode, kube-proxy replacement, host routing) — read,
 * never assumed.
 */
import os from 'node:os';
import { descriptorOf } from '../backends/descriptors.ts';
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
  return env;
}

export async function environmentOf(ctx: RunContext): Promise<Record<string, string>> {
  const env = baseEnvironment(ctx);
  try {
    const topo = await ctx.backend.topology();
    const node = topo.nodes[0];
    if (node) {
      const status = (await agentStatus(ctx.backend, node.name)).data;
      if (status.routing) env['datapath.routing'] = `${status.routing.network} (host: ${status.routing.host})`;
      if (status.kubeProxyReplacement) env['datapath.kubeProxyReplacement'] = status.kubeProxyReplacement;
    }
  } catch (err) {
    env['datapath.fingerprint'] = `unreadable: ${(err as Error).message.slice(0, 160)}`;
  }
  return env;
}
