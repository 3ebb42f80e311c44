/**
 * Network policies as users write them: a Kubernetes `NetworkPolicy` (networking.k8s.io/v1) or a
 * `CiliumNetworkPolicy` (cilium.io/v2) in YAML, read into one model — who is selected, which
 * directions are enforced, and the peers and ports each rule allows. Pure. A manifest that is
 * not a valid policy gets one paragraph naming the field; fields a backend does not enforce are
 * listed by policyFields() so a backend can refuse them (labUnenforced()).
 */
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../errors.ts';

export type PolicyKind = 'NetworkPolicy' | 'CiliumNetworkPolicy';

export interface LabelSelector {
  matchLabels: Record<string, string>;
  matchExpressions: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values: string[] }>;
}

/** Which namespaces a peer's pods may live in. */
export type NamespaceScope = { kind: 'policy' } | { kind: 'selector'; selector: LabelSelector };

export interface PolicyPeer {
  pods: LabelSelector;
  namespaces: NamespaceScope;
}

export interface PolicyPort {
  port: number;
  /** null: TCP and UDP (CiliumNetworkPolicy's ANY). */
  protocol: 'TCP' | 'UDP' | null;
}

export interface PolicyRule {
  /** 'any': every source/destination (inside and outside the cluster). */
  peers: PolicyPeer[] | 'any';
  ports: PolicyPort[] | 'any';
}

export interface NetworkPolicyDoc {
  kind: PolicyKind;
  name: string;
  namespace: string;
  /** Pods of `namespace` the policy applies to. */
  selector: LabelSelector;
  /** null: the policy does not enforce this direction. */
  ingress: PolicyRule[] | null;
  egress: PolicyRule[] | null;
  /** Fields present that some backends do not enforce (paths like spec.egress[0].toFQDNs). */
  unenforcedFields: string[];
  /** The manifest as parsed (what kind and existing apply through the API). */
  manifest: Record<string, unknown>;
}

/** What the lab enforces, as printed when it refuses a field. */
export const LAB_ENFORCED_FIELDS = [
  'podSelector / endpointSelector (matchLabels, matchExpressions)',
  'policyTypes',
  'ingress[].from[] / fromEndpoints (podSelector, namespaceSelector)',
  'egress[].to[] / toEndpoints (podSelector, namespaceSelector)',
  'ports[] / toPorts[].ports[] (port number, protocol TCP, UDP or ANY)',
] as const;

/** Policy fields real Cilium enforces and the lab does not (kind and existing apply them as written). */
const NOT_IN_LAB = [
  'ipBlock',
  'toFQDNs',
  'toEntities',
  'fromEntities',
  'toCIDR',
  'fromCIDR',
  'toCIDRSet',
  'fromCIDRSet',
  'toServices',
  'toGroups',
  'fromRequires',
  'toRequires',
  'ingressDeny',
  'egressDeny',
  'rules',
  'icmps',
  'authentication',
  'endPort',
  'originatingTLS',
  'terminatingTLS',
  'serverNames',
  'listener',
  'nodeSelector',
  'fromNodes',
  'toNodes',
  'specs',
] as const;

const DNS_1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

class Reader {
  readonly what: string;
  readonly unenforced: string[];

  constructor(what: string, unenforced: string[]) {
    this.what = what;
    this.unenforced = unenforced;
  }

  fail(field: string, problem: string): never {
    throw new UsageError(
      `${this.what}: ${field} ${problem}.`,
      'Fix the manifest in the feature file (https://kubernetes.io/docs/concepts/services-networking/network-policies/, https://docs.cilium.io/en/stable/security/policy/).',
    );
  }

  object(v: unknown, field: string): Record<string, unknown> {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) this.fail(field, 'must be a mapping');
    return v as Record<string, unknown>;
  }

  list(v: unknown, field: string): unknown[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(field, 'must be a list');
    return v;
  }

  /** Fields the backend may not enforce are noted; anything else unknown is an error. */
  keys(o: Record<string, unknown>, field: string, allowed: readonly string[]): void {
    for (const k of Object.keys(o)) {
      if (allowed.includes(k)) continue;
      if ((NOT_IN_LAB as readonly string[]).includes(k)) this.unenforced.push(`${field}.${k}`);
      else this.fail(`${field}.${k}`, `is not a field of ${field} (known: ${[...allowed].join(', ')})`);
    }
  }

  selector(v: unknown, field: string, cilium: boolean): LabelSelector {
    if (v === undefined || v === null) return { matchLabels: {}, matchExpressions: [] };
    const o = this.object(v, field);
    this.keys(o, field, ['matchLabels', 'matchExpressions']);
    const matchLabels: Record<string, string> = {};
    const labels = o.matchLabels === undefined ? {} : this.object(o.matchLabels, `${field}.matchLabels`);
    for (const [k, val] of Object.entries(labels)) {
      if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean')
        this.fail(`${field}.matchLabels.${k}`, 'must be a string');
      matchLabels[cilium ? k.replace(/^(k8s|any):/, '') : k] = String(val);
    }
    const matchExpressions = this.list(o.matchExpressions, `${field}.matchExpressions`).map((e, i) => {
      const f = `${field}.matchExpressions[${i}]`;
      const x = this.object(e, f);
      this.keys(x, f, ['key', 'operator', 'values']);
      if (typeof x.key !== 'string' || !x.key) this.fail(`${f}.key`, 'must be a label key');
      const op = x.operator;
      if (op !== 'In' && op !== 'NotIn' && op !== 'Exists' && op !== 'DoesNotExist')
        this.fail(`${f}.operator`, `must be In, NotIn, Exists or DoesNotExist, not "${String(op)}"`);
      const operator: LabelSelector['matchExpressions'][number]['operator'] = op;
      const values = this.list(x.values, `${f}.values`).map(String);
      if ((op === 'In' || op === 'NotIn') && values.length === 0)
        this.fail(`${f}.values`, `must not be empty for ${op}`);
      return { key: cilium ? x.key.replace(/^(k8s|any):/, '') : x.key, operator, values };
    });
    return { matchLabels, matchExpressions };
  }

  port(v: unknown, field: string, cilium: boolean): PolicyPort[] {
    const o = this.object(v, field);
    this.keys(o, field, ['port', 'protocol']);
    const raw = o.port;
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
    if (raw === undefined) this.fail(`${field}.port`, 'is required (a port number)');
    if (!Number.isInteger(n) || n < 1 || n > 65535)
      this.fail(`${field}.port`, `must be a port number 1-65535 (named ports are not supported), not "${String(raw)}"`);
    const proto = o.protocol === undefined ? 'TCP' : String(o.protocol).toUpperCase();
    if (proto === 'ANY' && cilium) return [{ port: n, protocol: null }];
    if (proto !== 'TCP' && proto !== 'UDP')
      this.fail(`${field}.protocol`, `must be TCP or UDP${cilium ? ' or ANY' : ''}, not "${String(o.protocol)}"`);
    return [{ port: n, protocol: proto }];
  }
}

/** A policy's YAML → the model; one paragraph naming the field when it is not a valid policy. */
export function parsePolicyManifest(text: string): NetworkPolicyDoc {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new UsageError(
      `The network policy is not valid YAML: ${(err as Error).message.split('\n')[0]}.`,
      'Write the manifest as a YAML doc string (""" … """) under the step.',
    );
  }
  const top = new Reader('The network policy', []);
  const doc = top.object(raw, 'the manifest');
  if (doc.kind !== 'NetworkPolicy' && doc.kind !== 'CiliumNetworkPolicy')
    top.fail('kind', `must be NetworkPolicy or CiliumNetworkPolicy, not "${String(doc.kind)}"`);
  const kind: PolicyKind = doc.kind === 'NetworkPolicy' ? 'NetworkPolicy' : 'CiliumNetworkPolicy';
  const wantApi = kind === 'NetworkPolicy' ? 'networking.k8s.io/v1' : 'cilium.io/v2';
  if (doc.apiVersion !== wantApi)
    top.fail('apiVersion', `of a ${kind} must be ${wantApi}, not "${String(doc.apiVersion)}"`);
  const meta = top.object(doc.metadata, 'metadata');
  const name = typeof meta.name === 'string' ? meta.name : '';
  if (!DNS_1123.test(name) || name.length > 253)
    top.fail('metadata.name', 'must be a DNS-1123 name (lower case letters, digits, "-")');
  const namespace = meta.namespace === undefined ? 'default' : typeof meta.namespace === 'string' ? meta.namespace : '';
  if (!DNS_1123.test(namespace) || namespace.length > 63) top.fail('metadata.namespace', 'must be a DNS-1123 label');
  const r = new Reader(`${kind} "${name}"`, []);
  const spec = r.object(doc.spec, 'spec');
  const base = { kind, name, namespace, unenforcedFields: r.unenforced, manifest: doc } as const;
  return kind === 'NetworkPolicy' ? { ...base, ...k8sSpec(r, spec) } : { ...base, ...ciliumSpec(r, spec) };
}

function k8sPeers(r: Reader, list: unknown, field: string): PolicyPeer[] | 'any' {
  const items = r.list(list, field);
  if (items.length === 0) return 'any';
  return items.map((p, i) => {
    const f = `${field}[${i}]`;
    const o = r.object(p, f);
    r.keys(o, f, ['podSelector', 'namespaceSelector']);
    if (o.podSelector === undefined && o.namespaceSelector === undefined && !('ipBlock' in o))
      r.fail(f, 'needs a podSelector, a namespaceSelector or both');
    return {
      pods: r.selector(o.podSelector, `${f}.podSelector`, false),
      namespaces:
        o.namespaceSelector === undefined
          ? { kind: 'policy' as const }
          : { kind: 'selector' as const, selector: r.selector(o.namespaceSelector, `${f}.namespaceSelector`, false) },
    };
  });
}

function k8sRules(r: Reader, list: unknown, field: string, peerKey: 'from' | 'to'): PolicyRule[] {
  return r.list(list, field).map((rule, i) => {
    const f = `${field}[${i}]`;
    const o = r.object(rule, f);
    r.keys(o, f, [peerKey, 'ports']);
    const ports = r.list(o.ports, `${f}.ports`).flatMap((p, j) => r.port(p, `${f}.ports[${j}]`, false));
    return { peers: k8sPeers(r, o[peerKey], `${f}.${peerKey}`), ports: ports.length ? ports : 'any' };
  });
}

function k8sSpec(r: Reader, spec: Record<string, unknown>) {
  r.keys(spec, 'spec', ['podSelector', 'policyTypes', 'ingress', 'egress']);
  if (spec.podSelector === undefined) r.fail('spec.podSelector', 'is required ({} selects every pod of the namespace)');
  const selector = r.selector(spec.podSelector, 'spec.podSelector', false);
  const types = spec.policyTypes === undefined ? undefined : r.list(spec.policyTypes, 'spec.policyTypes');
  for (const [i, t] of (types ?? []).entries())
    if (t !== 'Ingress' && t !== 'Egress')
      r.fail(`spec.policyTypes[${i}]`, `must be Ingress or Egress, not "${String(t)}"`);
  // Kubernetes' defaults: Ingress always, Egress when the policy has egress rules.
  const hasIngress = types ? types.includes('Ingress') : true;
  const hasEgress = types ? types.includes('Egress') : spec.egress !== undefined;
  const ingress = k8sRules(r, spec.ingress, 'spec.ingress', 'from');
  const egress = k8sRules(r, spec.egress, 'spec.egress', 'to');
  return { selector, ingress: hasIngress ? ingress : null, egress: hasEgress ? egress : null };
}

const NS_LABEL = 'io.kubernetes.pod.namespace';

/** A Cilium endpoint selector as a peer: the namespace label scopes it, else the policy's namespace. */
function ciliumPeer(sel: LabelSelector): PolicyPeer {
  const ns = sel.matchLabels[NS_LABEL];
  const nsExpr = sel.matchExpressions.filter((e) => e.key === NS_LABEL);
  if (ns === undefined && nsExpr.length === 0) return { pods: sel, namespaces: { kind: 'policy' } };
  const pods: LabelSelector = {
    matchLabels: Object.fromEntries(Object.entries(sel.matchLabels).filter(([k]) => k !== NS_LABEL)),
    matchExpressions: sel.matchExpressions.filter((e) => e.key !== NS_LABEL),
  };
  const nsSel: LabelSelector = {
    matchLabels: ns === undefined ? {} : { [NAMESPACE_NAME_LABEL]: ns },
    matchExpressions: nsExpr.map((e) => ({ ...e, key: NAMESPACE_NAME_LABEL })),
  };
  return { pods, namespaces: { kind: 'selector', selector: nsSel } };
}

/** The label every namespace carries with its own name. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

function ciliumRules(r: Reader, list: unknown, field: string, peerKey: 'fromEndpoints' | 'toEndpoints'): PolicyRule[] {
  return r.list(list, field).map((rule, i) => {
    const f = `${field}[${i}]`;
    const o = r.object(rule, f);
    r.keys(o, f, [peerKey, 'toPorts']);
    const peers = r
      .list(o[peerKey], `${f}.${peerKey}`)
      .map((s, j) => ciliumPeer(r.selector(s, `${f}.${peerKey}[${j}]`, true)));
    const ports = r.list(o.toPorts, `${f}.toPorts`).flatMap((tp, j) => {
      const pf = `${f}.toPorts[${j}]`;
      const po = r.object(tp, pf);
      r.keys(po, pf, ['ports']);
      return r.list(po.ports, `${pf}.ports`).flatMap((p, k) => r.port(p, `${pf}.ports[${k}]`, true));
    });
    // A rule with only ports allows them from anywhere; with neither, Cilium allows nothing.
    const hasPeers = o[peerKey] !== undefined;
    return {
      peers: hasPeers ? peers : ports.length ? 'any' : [],
      ports: ports.length ? ports : 'any',
    };
  });
}

function ciliumSpec(r: Reader, spec: Record<string, unknown>) {
  r.keys(spec, 'spec', ['endpointSelector', 'ingress', 'egress', 'description', 'labels', 'enableDefaultDeny']);
  if (spec.endpointSelector === undefined)
    r.fail('spec.endpointSelector', 'is required ({} selects every endpoint of the namespace)');
  const selector = r.selector(spec.endpointSelector, 'spec.endpointSelector', true);
  // A section present (even empty) puts that direction in default deny, as Cilium does.
  const ingress = spec.ingress === undefined ? null : ciliumRules(r, spec.ingress, 'spec.ingress', 'fromEndpoints');
  const egress = spec.egress === undefined ? null : ciliumRules(r, spec.egress, 'spec.egress', 'toEndpoints');
  return { selector, ingress, egress };
}

/** The lab refuses a policy with fields it does not enforce, naming them and what it does enforce. */
export function labUnenforced(doc: NetworkPolicyDoc): UsageError | null {
  if (doc.unenforcedFields.length === 0) return null;
  return new UsageError(
    `${doc.kind} "${doc.name}" uses ${doc.unenforcedFields.join(', ')}, which the lab does not enforce.`,
    `The lab enforces: ${LAB_ENFORCED_FIELDS.join('; ')}. Run this policy with --backend kind or existing (real Cilium enforces it).`,
  );
}
