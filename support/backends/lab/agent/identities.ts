/**
 * Security identities and endpoint ids as the lab's agent stand-in reports them, the way Cilium
 * numbers them: reserved identities for the host, other nodes and the outside world (printed by
 * name), and one cluster identity (≥ 256) per distinct label set of the pods, the same number on
 * every node. Pure: built from the lab's state, no I/O.
 */
import { createHash } from 'node:crypto';

/** Cilium's reserved identities (pkg/identity), printed by name by `cilium-dbg monitor`. */
export const RESERVED_IDENTITIES = {
  unknown: 0,
  host: 1,
  world: 2,
  unmanaged: 3,
  health: 4,
  init: 5,
  'remote-node': 6,
  'kube-apiserver': 7,
  ingress: 8,
} as const;

export type ReservedIdentity = keyof typeof RESERVED_IDENTITIES;

/** Cluster identities are numbered from here up to MAX (Cilium's "Global Identity Range"). */
export const MIN_CLUSTER_IDENTITY = 256;
export const MAX_CLUSTER_IDENTITY = 65535;

const RESERVED_NAMES = new Map<number, string>(Object.entries(RESERVED_IDENTITIES).map(([k, v]) => [v, k]));

/** How `cilium-dbg monitor` prints an identity: a reserved one by name, a cluster one as its number. */
export function identityText(id: number): string {
  return RESERVED_NAMES.get(id) ?? String(id);
}

export interface IdentityPod {
  name: string;
  namespace: string;
  node: string;
  ip: string;
  endpointId: number;
  hostVeth: string;
  kind: 'echo' | 'client';
  app?: string;
  labels?: Record<string, string>;
}

export interface IdentityNode {
  name: string;
  ip: string;
  ciliumHostIP: string;
}

/**
 * A pod's own labels, as policies select them: an echo pod carries app=<deployment>, a client
 * pod the labels its step gave, else run=<name> (what `kubectl run` sets).
 */
export function podLabelMap(p: IdentityPod): Record<string, string> {
  if (p.kind === 'echo') return { app: p.app ?? p.name };
  return p.labels && Object.keys(p.labels).length ? { ...p.labels } : { run: p.name };
}

/** The labels Cilium derives a pod's identity from (k8s: source prefix, namespace label). */
export function podLabels(p: IdentityPod): string[] {
  const own = Object.entries(podLabelMap(p)).map(([k, v]) => `k8s:${k}=${v}`);
  return [
    ...own,
    'k8s:io.cilium.k8s.policy.cluster=default',
    'k8s:io.cilium.k8s.policy.serviceaccount=default',
    `k8s:io.kubernetes.pod.namespace=${p.namespace}`,
  ].sort();
}

function slotOf(key: string): number {
  const span = MAX_CLUSTER_IDENTITY - MIN_CLUSTER_IDENTITY + 1;
  return createHash('sha256').update(key).digest().readUInt32BE(0) % span;
}

/**
 * One identity per label set: a stable pick in 256..65535 per set (sorted first, so every node
 * allocates the same numbers), the next free one on a collision.
 */
export function allocateIdentities(labelSets: readonly string[][]): Map<string, number> {
  const keys = [...new Set(labelSets.map((l) => [...l].sort().join(',')))].sort();
  const taken = new Set<number>();
  const out = new Map<string, number>();
  const span = MAX_CLUSTER_IDENTITY - MIN_CLUSTER_IDENTITY + 1;
  for (const key of keys) {
    let slot = slotOf(key);
    while (taken.has(MIN_CLUSTER_IDENTITY + slot)) slot = (slot + 1) % span;
    taken.add(MIN_CLUSTER_IDENTITY + slot);
    out.set(key, MIN_CLUSTER_IDENTITY + slot);
  }
  return out;
}

export interface EndpointInfo {
  id: number;
  identity: number;
  pod: string;
  node: string;
  ip: string;
  hostVeth: string;
}

/** What the agent of one node knows: its endpoints, and the identity of any address (its ipcache). */
export interface AgentView {
  node: string;
  /** Endpoint of a pod address (any node's pod, with its node). */
  endpointOf(ip: string): EndpointInfo | undefined;
  /** Security identity of an address, as this node's ipcache resolves it. */
  identityOf(ip: string): number;
}

/** Build the view of `node` from the lab's pods and nodes (pure). */
export function agentView(node: string, nodes: readonly IdentityNode[], pods: readonly IdentityPod[]): AgentView {
  const ids = allocateIdentities(pods.map(podLabels));
  const byIp = new Map<string, EndpointInfo>();
  for (const p of pods)
    byIp.set(p.ip, {
      id: p.endpointId,
      identity: ids.get(podLabels(p).join(','))!,
      pod: p.name,
      node: p.node,
      ip: p.ip,
      hostVeth: p.hostVeth,
    });
  const self = nodes.find((n) => n.name === node);
  const local = new Set(self ? [self.ip, self.ciliumHostIP] : []);
  const remote = new Set(nodes.filter((n) => n.name !== node).flatMap((n) => [n.ip, n.ciliumHostIP]));
  return {
    node,
    endpointOf: (ip) => byIp.get(ip),
    identityOf(ip) {
      const ep = byIp.get(ip);
      if (ep) return ep.identity;
      if (local.has(ip)) return RESERVED_IDENTITIES.host;
      if (remote.has(ip)) return RESERVED_IDENTITIES['remote-node'];
      if (ip === '0.0.0.0') return RESERVED_IDENTITIES.unknown;
      return RESERVED_IDENTITIES.world;
    },
  };
}

/** The security identity of each pod, by pod name (the numbers every node's ipcache holds). */
export function podIdentities(pods: readonly IdentityPod[]): Map<string, number> {
  const ids = allocateIdentities(pods.map(podLabels));
  return new Map(pods.map((p) => [p.name, ids.get(podLabels(p).join(','))!]));
}

/** What a node's ipcache holds: every pod's identity, its own addresses as host, other nodes as remote-node. */
export function ipcacheOf(
  node: string,
  nodes: readonly IdentityNode[],
  pods: readonly IdentityPod[],
): Array<{ ip: string; identity: number }> {
  const ids = podIdentities(pods);
  const out = pods.map((p) => ({ ip: p.ip, identity: ids.get(p.name)! }));
  for (const n of nodes) {
    const identity = n.name === node ? RESERVED_IDENTITIES.host : RESERVED_IDENTITIES['remote-node'];
    for (const ip of new Set([n.ip, n.ciliumHostIP])) out.push({ ip, identity });
  }
  return out;
}
