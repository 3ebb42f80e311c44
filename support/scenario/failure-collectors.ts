/**
 * Failure collectors: when a scenario fails or breaks, attach what a person would look at next —
 * agent status, the full `iptables-save -c`, `bpftool net show`, routes and neighbours of the
 * involved nodes. Each command's failure is recorded, never thrown: collectors must not mask the
 * scenario's own error.
 */
import type { ExecTarget } from '../backends/types.ts';
import { MediaType } from '../evidence/index.ts';
import type { HookpointWorld } from './world.ts';

const COLLECT: Array<{ probe: string; target: (node: string) => ExecTarget; argv: string[] }> = [
  { probe: 'status', target: (node) => ({ kind: 'agent', node }), argv: ['cilium-dbg', 'status'] },
  { probe: 'iptables-save', target: (node) => ({ kind: 'node', node }), argv: ['iptables-save', '-c'] },
  { probe: 'bpftool-net', target: (node) => ({ kind: 'node', node }), argv: ['bpftool', 'net', 'show'] },
  { probe: 'routes', target: (node) => ({ kind: 'node', node }), argv: ['ip', 'route', 'show', 'table', 'all'] },
  { probe: 'neigh', target: (node) => ({ kind: 'node', node }), argv: ['ip', 'neigh', 'show'] },
];

export async function collectFailureEvidence(world: HookpointWorld, nodes: string[]): Promise<void> {
  const topo = await world.topology(true);
  const targets = nodes.length ? nodes : topo.nodes.map((n) => n.name);
  for (const node of targets) {
    for (const c of COLLECT) {
      let text: string;
      try {
        const res = await world.backend.exec(c.target(node), c.argv, { timeoutMs: 15_000, check: false });
        text = `$ ${c.argv.join(' ')}  (exit ${res.exitCode})\n${res.stdout}${res.stderr ? `\n[stderr]\n${res.stderr}` : ''}`;
      } catch (err) {
        text = `$ ${c.argv.join(' ')}\ncould not run: ${(err as Error).message}`;
      }
      await world.evidence.attach(`failure-${c.probe}`, `node ${node}`, MediaType.text, text);
    }
  }
}
