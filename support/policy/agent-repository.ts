/**
 * A Cilium agent's policy repository as `cilium-dbg policy get -o json` prints it, both ways.
 * Pure.
 *
 * Shape (cilium/cilium: cilium-dbg/cmd/policy_get.go prints the api/v1 `Policy` model through
 * pkg/command's JSON output, indented by two spaces): an object with `policy`, the rules as a
 * JSON *string* (the agent marshals its rules itself), and `revision`, the repository's
 * revision, raised at every import and deletion. Each rule carries the labels Cilium derives
 * from the Kubernetes object it came from (`io.cilium.k8s.policy.derived-from`, `.name`,
 * `.namespace`, `.uid`, source `k8s`). `cilium-dbg policy wait <revision>` then blocks until
 * every endpoint of that agent enforces that revision (exit 0), else fails (exit 1).
 */
import type { LabelSelector, NetworkPolicyDoc, PolicyPeer, PolicyRule } from './manifest.ts';

export interface RepositoryRule {
  /** The rule's labels, key → value (Cilium's label source dropped). */
  labels: Record<string, string>;
}

export interface PolicyRepository {
  revision: number;
  rules: RepositoryRule[];
}

/** Labels Cilium puts on every rule it derives from a Kubernetes policy object. */
export const DERIVED_FROM = 'io.cilium.k8s.policy.derived-from';
export const POLICY_NAME = 'io.cilium.k8s.policy.name';
export const POLICY_NAMESPACE = 'io.cilium.k8s.policy.namespace';
export const POLICY_UID = 'io.cilium.k8s.policy.uid';

/**
 * Read `cilium-dbg policy get -o json`. Null when the text is not that shape (another command's
 * output, an error text, a revision that is not a positive integer).
 */
export function parsePolicyGetJson(text: string): PolicyRepository | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return null;
  const { policy, revision } = doc as { policy?: unknown; revision?: unknown };
  if (typeof revision !== 'number' || !Number.isInteger(revision) || revision < 1) return null;
  // `policy` is omitted when empty (omitempty in the model), "null" for a nil rule list.
  if (policy !== undefined && typeof policy !== 'string') return null;
  let rules: unknown = [];
  if (policy) {
    try {
      rules = JSON.parse(policy);
    } catch {
      return null;
    }
  }
  if (rules === null) rules = [];
  if (!Array.isArray(rules)) return null;
  return {
    revision,
    rules: rules.map((r) => {
      const labels: Record<string, string> = {};
      const list = (r as { labels?: unknown })?.labels;
      if (Array.isArray(list))
        for (const l of list) {
          const { key, value } = (l ?? {}) as { key?: unknown; value?: unknown };
          if (typeof key === 'string') labels[key] = typeof value === 'string' ? value : '';
        }
      return { labels };
    }),
  };
}

/** Whether the repository holds a rule derived from this policy object (by name and namespace). */
export function holdsPolicy(repo: PolicyRepository, name: string, namespace: string): boolean {
  return repo.rules.some((r) => r.labels[POLICY_NAME] === name && r.labels[POLICY_NAMESPACE] === namespace);
}

// --- writing the shape (the lab's agent stand-in) ---------------------------------------------

type Json = Record<string, unknown>;

/** A selector as Cilium holds it: keys with their source (`k8s:`), the pod's namespace pinned. */
function endpointSelector(sel: LabelSelector, namespace: string | null): Json {
  const matchLabels: Record<string, string> = {};
  for (const [k, v] of Object.entries(sel.matchLabels)) matchLabels[`k8s:${k}`] = v;
  if (namespace !== null) matchLabels['k8s:io.kubernetes.pod.namespace'] = namespace;
  const out: Json = { matchLabels };
  if (sel.matchExpressions.length)
    out.matchExpressions = sel.matchExpressions.map((e) => ({
      key: `k8s:${e.key}`,
      operator: e.operator,
      ...(e.values.length ? { values: e.values } : {}),
    }));
  return out;
}

function peerSelector(peer: PolicyPeer, namespace: string): Json {
  if (peer.namespaces.kind === 'policy') return endpointSelector(peer.pods, namespace);
  const sel = endpointSelector(peer.pods, null);
  const ns = peer.namespaces.selector;
  for (const [k, v] of Object.entries(ns.matchLabels))
    (sel.matchLabels as Record<string, string>)[`k8s:io.cilium.k8s.namespace.labels.${k}`] = v;
  return sel;
}

function ruleBody(rule: PolicyRule, direction: 'ingress' | 'egress', namespace: string): Json {
  const out: Json = {};
  const peersKey = direction === 'ingress' ? 'fromEndpoints' : 'toEndpoints';
  out[peersKey] = rule.peers === 'any' ? [{}] : rule.peers.map((p) => peerSelector(p, namespace));
  if (rule.ports !== 'any')
    out.toPorts = [{ ports: rule.ports.map((p) => ({ port: String(p.port), protocol: p.protocol ?? 'ANY' })) }];
  return out;
}

/**
 * The rule Cilium derives from a policy object, as its repository lists it: the endpoint
 * selector, one entry per ingress/egress rule (an enforced direction without rules lists
 * none), default deny per enforced direction, and the derived-from labels.
 */
export function repositoryRule(doc: NetworkPolicyDoc, uid: string): Json {
  const rule: Json = { endpointSelector: endpointSelector(doc.selector, doc.namespace) };
  if (doc.ingress) rule.ingress = doc.ingress.map((r) => ruleBody(r, 'ingress', doc.namespace));
  if (doc.egress) rule.egress = doc.egress.map((r) => ruleBody(r, 'egress', doc.namespace));
  rule.enableDefaultDeny = { ingress: doc.ingress !== null, egress: doc.egress !== null };
  rule.labels = [
    { key: DERIVED_FROM, value: doc.kind, source: 'k8s' },
    { key: POLICY_NAME, value: doc.name, source: 'k8s' },
    { key: POLICY_NAMESPACE, value: doc.namespace, source: 'k8s' },
    { key: POLICY_UID, value: uid, source: 'k8s' },
  ];
  return rule;
}

/** `cilium-dbg policy get -o json` for these policies at this revision. */
export function formatPolicyGetJson(docs: readonly NetworkPolicyDoc[], revision: number): string {
  const rules = docs.map((d) => repositoryRule(d, policyUid(d)));
  return JSON.stringify({ policy: JSON.stringify(rules, null, 2), revision }, null, 2);
}

/** `cilium-dbg policy get` without -o: the rules, then `Revision: N`. */
export function formatPolicyGetText(docs: readonly NetworkPolicyDoc[], revision: number): string {
  const rules = docs.map((d) => repositoryRule(d, policyUid(d)));
  return `${JSON.stringify(rules, null, 2)}\nRevision: ${revision}`;
}

/** A stable uid for a policy object the lab holds (the API server's uid is not known there). */
function policyUid(d: NetworkPolicyDoc): string {
  const uid = (d.manifest.metadata as { uid?: unknown } | undefined)?.uid;
  if (typeof uid === 'string') return uid;
  let h = 0;
  for (const c of `${d.kind}/${d.namespace}/${d.name}`) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const hex = h.toString(16).padStart(8, '0');
  return `${hex}-0000-4000-8000-${hex}${hex.slice(0, 4)}`;
}
