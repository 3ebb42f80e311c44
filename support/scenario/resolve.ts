/** Names in feature text → the cluster's objects; an unknown name lists what exists. */
import { findNode } from '../backends/node-lookup.ts';
import type { NodeInfo, PodInfo, ServiceInfo, Topology } from '../backends/types.ts';
import { UsageError } from '../errors.ts';
import type { NodeRef, NodeScope } from './parameter-types.ts';

export function resolveNode(topo: Topology, ref: NodeRef | string): NodeInfo {
  const text = typeof ref === 'string' ? ref : ref.text;
  const node = findNode(topo.nodes, text, topo.cluster);
  if (!node)
    throw new UsageError(
      `Unknown node "${text}" in cluster ${topo.cluster}.`,
      `Known nodes: ${topo.nodes.map((n) => `${n.role} (${n.name})`).join(', ')}.`,
    );
  return node;
}

export function resolveNodes(topo: Topology, scope: NodeScope): NodeInfo[] {
  return scope.all ? topo.nodes : [resolveNode(topo, scope.node)];
}

export function resolvePod(topo: Topology, name: string): PodInfo {
  const pod = topo.pods.find((p) => p.name === name);
  if (!pod)
    throw new UsageError(
      `Unknown pod "${name}".`,
      `Known pods: ${topo.pods.map((p) => p.name).join(', ') || 'none'}; create it with a Given step first.`,
    );
  return pod;
}

export function resolveService(topo: Topology, name: string): ServiceInfo {
  const svc = topo.services.find((s) => s.name === name);
  if (!svc)
    throw new UsageError(
      `Unknown service "${name}".`,
      `Known services: ${topo.services.map((s) => s.name).join(', ') || 'none'}; create it with a Given step first.`,
    );
  return svc;
}

/** Short node label for messages: its role when it has one. */
export function nodeLabel(node: NodeInfo): string {
  return node.role ? `${node.role} (${node.name})` : node.name;
}
