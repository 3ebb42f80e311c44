/**
 * Failure collectors: when a scenario fails or breaks, attach what a person would look at next —
 * the commands the backend's descriptor lists for every involved node (agent status, the full
 * `iptables-save -c`, `bpftool net show` where the backend has bpftool, routes and neighbours),
 * then the backend's own collectors (kind/existing: agent log tails, events, pod descriptions).
 * Each failure is recorded, never thrown: collectors must not mask the scenario's own error.
 */
import { descriptorOf } from '../backends/descriptors.ts';
import type { ExecTarget } from '../backends/types.ts';
import { MediaType } from '../evidence/index.ts';
import type { HookpointWorld } from './world.ts';

export async function collectFailureEvidence(world: HookpointWorld, nodes: string[]): Promise<void> {
  const backend = world.backend;
  const { nodeCollectors } = descriptorOf(backend.name);
  let targets: string[];
  try {
    const topo = await world.topology(true);
    targets = nodes.length ? nodes : topo.nodes.map((n) => n.name);
  } catch (err) {
    targets = [];
    await world.evidence.attach(
      'failure-collectors',
      'cluster',
      MediaType.text,
      `The nodes could not be listed, so no node was examined: ${(err as Error).message}`,
    );
  }
  for (const node of targets) {
    for (const c of nodeCollectors) {
      const target: ExecTarget = { kind: c.target, node };
      let text: string;
      try {
        const res = await backend.exec(target, c.argv, { timeoutMs: 15_000, check: false });
        text = `$ ${c.argv.join(' ')}  (exit ${res.exitCode})\n${res.stdout}${res.stderr ? `\n[stderr]\n${res.stderr}` : ''}`;
      } catch (err) {
        text = `$ ${c.argv.join(' ')}\ncould not run: ${(err as Error).message}`;
      }
      await world.evidence.attach(`failure-${c.name}`, `node ${node}`, MediaType.text, text);
    }
  }
  if (backend.collectEvidence) {
    let own: Awaited<ReturnType<NonNullable<typeof backend.collectEvidence>>>;
    try {
      own = await backend.collectEvidence(nodes);
    } catch (err) {
      own = [];
      await world.evidence.attach(
        'failure-collectors',
        backend.name,
        MediaType.text,
        `The ${backend.name} backend's collectors could not run: ${(err as Error).message}`,
      );
    }
    for (const ev of own)
      await world.evidence.attach(
        `failure-${ev.kind}`,
        ev.where,
        MediaType.text,
        `# ${ev.summary}\n${ev.commands.map((c) => `# $ ${c}`).join('\n')}\n\n${ev.raw}`,
      );
  }
}
