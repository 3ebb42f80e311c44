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
  return scope.all ? topo.nodes : (scope.nodes ?? [scope.node]).map((n) => resolveNode(topo, n));
}

/** A named object of the topology, or a UsageError listing the names that exist. */
function byName<T extends { name: string }>(list: readonly T[], name: string, what: 'pod' | 'service'): T {
  const found = list.find((x) => x.name === name);
  if (!found)
    throw new UsageError(
      `Unknown ${what} "${name}".`,
      `Known ${what}s: ${list.map((x) => x.name).join(', ') || 'none'}; create it with a Given step first.`,
    );
  return found;
}

export function resolvePod(topo: Topology, name: string): PodInfo {
  return byName(topo.pods, name, 'pod');
}

export function resolveService(topo: Topology, name: string): ServiceInfo {
  return byName(topo.services, name, 'service');
}

/** Short node label for messages: its role when it has one. */
export function nodeLabel(node: NodeInfo): string {
  return node.role ? `${node.role} (${node.name})` : node.name;
}
