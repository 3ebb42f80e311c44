/**
 * The one way a node is looked up by what users write: its full name (`cilium-kubeproxy-worker`),
 * its role (`worker`), or the role under the cluster's name prefix, as Kind names its nodes.
 */
export function findNode<T extends { name: string; role: string }>(
  nodes: readonly T[],
  nameOrRole: string,
  cluster?: string,
): T | undefined {
  return (
    nodes.find((n) => n.name === nameOrRole) ??
    nodes.find((n) => n.role === nameOrRole) ??
    (cluster ? nodes.find((n) => n.name === `${cluster}-${nameOrRole}`) : undefined)
  );
}
