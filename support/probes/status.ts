/**
 * The Cilium agent's status on a node (`cilium-dbg status` on the agent target; the lab serves
 * a status derived from its real state). `cilium-dbg status` exits non-zero when a component is
 * unhealthy but still prints the status: that is evidence, not an error. Output that is not an
 * agent status at all is an InfraError.
 */
import type { Backend } from '../backends/types.ts';
import { InfraError } from '../errors.ts';
import type { Evidence } from '../evidence/index.ts';
import { type CiliumStatus, parseCiliumStatus } from '../parsers/status.ts';
import { commandEvidence, commandOf, tail } from './common.ts';

export async function agentStatus(backend: Backend, node: string): Promise<Evidence<CiliumStatus>> {
  const res = await backend.exec({ kind: 'agent', node }, ['cilium-dbg', 'status'], {
    timeoutMs: 20_000,
    check: false,
  });
  const status = parseCiliumStatus(res.stdout);
  if (status.format !== 'agent') {
    throw new InfraError(
      `Could not read the agent status on node ${node}: \`${commandOf(res)}\` exited with ${res.exitCode} and printed no agent status${tail(res.stderr || res.stdout) ? ` — ${tail(res.stderr || res.stdout)}` : ''}.`,
      { hint: 'Check that the Cilium agent runs on that node (`hookpoint doctor`).' },
    );
  }
  const parts = [
    status.ciliumVersion ? `Cilium ${status.ciliumVersion}` : null,
    status.routing
      ? `routing ${status.routing.network}${status.routing.host ? `, host ${status.routing.host}` : ''}`
      : null,
    status.kubeProxyReplacement ? `KubeProxyReplacement ${status.kubeProxyReplacement}` : null,
    res.exitCode !== 0 ? `exit ${res.exitCode} (unhealthy component)` : null,
  ].filter(Boolean);
  return commandEvidence(
    'status',
    `node ${node}`,
    res,
    status,
    `agent status on node ${node}: ${parts.join('; ') || 'no datapath fields'}`,
  );
}
