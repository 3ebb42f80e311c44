/**
 * Workloads as the Background states them. They are run-scoped and idempotent: a Background runs
 * before every scenario, but the echo servers, services and clients it names are created once and
 * reused while their spec is unchanged (removed at teardown) — cheap on the lab, essential on Kind.
 */
import type { ServiceInfo } from '../backends/types.ts';
import { UsageError } from '../errors.ts';
import type { NodeRef } from './parameter-types.ts';
import { resolveNode } from './resolve.ts';
import type { ServiceRequest } from './vocabulary.ts';
import type { HookpointWorld } from './world.ts';

export async function ensureEcho(world: HookpointWorld, name: string, nodes: NodeRef[] | 'every'): Promise<void> {
  const topo = await world.topology(true);
  const wanted = nodes === 'every' ? topo.nodes.map((n) => n.name) : nodes.map((n) => resolveNode(topo, n).name);
  const have = topo.pods.filter((p) => p.app === name).map((p) => p.node);
  const missing = wanted.filter((n) => !have.includes(n));
  if (missing.length === 0) return;
  await world.backend.deployEcho({ name, nodes: [...new Set([...have, ...wanted])] });
  world.invalidateTopology();
}

export async function ensureService(world: HookpointWorld, spec: ServiceRequest): Promise<ServiceInfo> {
  const topo = await world.topology(true);
  if (!topo.pods.some((p) => p.app === spec.app))
    throw new UsageError(
      `Service "${spec.name}" selects echo deployment "${spec.app}", which does not exist yet.`,
      'Declare the echo deployment first.',
    );
  const onlyNodes = spec.onlyNodes?.map((n) => resolveNode(topo, n).name);
  const existing = topo.services.find((s) => s.name === spec.name);
  if (existing) {
    const sameNodes = !onlyNodes || existing.endpoints.every((b) => onlyNodes.includes(b.node));
    if (existing.port === spec.port && (spec.nodePort ?? null) === existing.nodePort && sameNodes) return existing;
    await world.backend.removeWorkload('service', spec.name);
  }
  const svc = await world.backend.exposeService({
    name: spec.name,
    app: spec.app,
    port: spec.port,
    type: spec.type,
    nodePort: spec.nodePort,
    onlyNodes,
  });
  world.invalidateTopology();
  return svc;
}

export async function ensureClient(
  world: HookpointWorld,
  name: string,
  node: NodeRef,
  opts: { namespace?: string; labels?: Record<string, string> } = {},
): Promise<void> {
  const topo = await world.topology(true);
  const n = resolveNode(topo, node);
  const existing = topo.pods.find((p) => p.name === name);
  const same =
    existing?.node === n.name &&
    existing.namespace === (opts.namespace ?? 'default') &&
    // A backend that reports labels: they must be the step's (else run=<name>, what `kubectl run` sets).
    (!existing.labels || JSON.stringify(existing.labels) === JSON.stringify(opts.labels ?? { run: name }));
  if (same) return;
  if (existing) await world.backend.removeWorkload('client', name);
  await world.backend.runClient({ name, node: n.name, ...opts });
  world.invalidateTopology();
}
