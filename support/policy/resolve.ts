/**
 * From policies and the cluster's pods to what each endpoint's policy map holds, the way Cilium
 * computes it: a policy selects pods of its namespace; a direction is enforced for a pod once a
 * policy selecting it enforces that direction (else everything passes); each rule allows peers
 * by security identity (0 = any) on ports (0 = any). Pure.
 */
import { type LabelSelector, NAMESPACE_NAME_LABEL, type NetworkPolicyDoc, type PolicyRule } from './manifest.ts';

/** A pod as policies see it. */
export interface PolicyPod {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  endpointId: number;
  /** Its security identity (one per label set). */
  identity: number;
}

export interface PolicyEntry {
  identity: number;
  port: number;
  /** 6 TCP, 17 UDP, 0 any. */
  proto: number;
  direction: 'ingress' | 'egress';
}

/** What one endpoint's policy map holds: the directions enforced and what they allow. */
export interface EndpointPolicy {
  enforced: Array<'ingress' | 'egress'>;
  entries: PolicyEntry[];
}

/** Cilium's reserved identity of the local host, always allowed in (its health checks and probes). */
export const HOST_IDENTITY = 1;

export function selects(sel: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels)) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions) {
    const has = Object.hasOwn(labels, e.key);
    const v = labels[e.key];
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
    if (e.operator === 'In' && !(has && e.values.includes(v!))) return false;
    if (e.operator === 'NotIn' && has && e.values.includes(v!)) return false;
  }
  return true;
}

/** The labels of a namespace as policies select it (the lab's namespaces carry only their name). */
export function namespaceLabels(ns: string): Record<string, string> {
  return { [NAMESPACE_NAME_LABEL]: ns };
}

function peerIdentities(rule: PolicyRule, policy: NetworkPolicyDoc, pods: readonly PolicyPod[]): number[] | 'any' {
  if (rule.peers === 'any') return 'any';
  const ids = new Set<number>();
  for (const peer of rule.peers)
    for (const p of pods) {
      const nsOk =
        peer.namespaces.kind === 'policy'
          ? p.namespace === policy.namespace
          : selects(peer.namespaces.selector, namespaceLabels(p.namespace));
      if (nsOk && selects(peer.pods, p.labels)) ids.add(p.identity);
    }
  return [...ids].sort((a, b) => a - b);
}

const PROTO = { TCP: 6, UDP: 17 } as const;

function ruleEntries(
  rule: PolicyRule,
  policy: NetworkPolicyDoc,
  pods: readonly PolicyPod[],
  direction: 'ingress' | 'egress',
): PolicyEntry[] {
  const ids = peerIdentities(rule, policy, pods);
  const idList = ids === 'any' ? [0] : ids;
  const ports =
    rule.ports === 'any'
      ? [{ port: 0, proto: 0 }]
      : rule.ports.flatMap((p) =>
          p.protocol === null
            ? [
                { port: p.port, proto: PROTO.TCP },
                { port: p.port, proto: PROTO.UDP },
              ]
            : [{ port: p.port, proto: PROTO[p.protocol] }],
        );
  return idList.flatMap((identity) => ports.map((p) => ({ identity, ...p, direction })));
}

/** Each pod's policy (keyed by endpoint id); a pod no policy selects is not in the result. */
export function resolvePolicies(
  policies: readonly NetworkPolicyDoc[],
  pods: readonly PolicyPod[],
): Map<number, EndpointPolicy> {
  const out = new Map<number, EndpointPolicy>();
  for (const pod of pods) {
    const entries = new Map<string, PolicyEntry>();
    const enforced: EndpointPolicy['enforced'] = [];
    const add = (e: PolicyEntry) => entries.set(`${e.direction}/${e.identity}/${e.port}/${e.proto}`, e);
    for (const direction of ['ingress', 'egress'] as const) {
      const selecting = policies.filter(
        (p) => p[direction] !== null && p.namespace === pod.namespace && selects(p.selector, pod.labels),
      );
      if (selecting.length === 0) continue;
      enforced.push(direction);
      if (direction === 'ingress') add({ identity: HOST_IDENTITY, port: 0, proto: 0, direction });
      for (const policy of selecting)
        for (const rule of policy[direction]!) for (const e of ruleEntries(rule, policy, pods, direction)) add(e);
    }
    if (enforced.length) out.set(pod.endpointId, { enforced, entries: [...entries.values()] });
  }
  return out;
}
