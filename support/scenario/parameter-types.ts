/**
 * Typed, validated step parameters. Names are DNS-1123, counts positive, ports in range; a bad
 * value fails the step with one paragraph naming the value and the fix.
 */
import { defineParameterType } from '@cucumber/cucumber';
import { ParameterType, ParameterTypeRegistry } from '@cucumber/cucumber-expressions';
import { DNS1123 } from '../config.ts';
import { UsageError } from '../errors.ts';

export function k8sName(kind: string, value: string): string {
  if (!DNS1123.test(value) || value.length > 63)
    throw new UsageError(
      `Invalid ${kind} name "${value}": Kubernetes names are DNS-1123 labels (lower-case letters, digits and "-", at most 63 characters, starting and ending with a letter or digit).`,
    );
  return value;
}

/** A node as users write it: by role (control-plane, worker, worker2) or by full name. */
export interface NodeRef {
  text: string;
}
/** `every node`, `node "X"`, or `nodes "A" and "B"` / `nodes "A", "B" and "C"` (`node` is the first, `nodes` all). */
export type NodeScope = { all: true } | { all: false; node: NodeRef; nodes: NodeRef[] };

/** The scope's words → the scope: every node, one node, or a list of nodes (each named once). */
export function nodeScope(single?: string, list?: string): NodeScope {
  if (single === undefined && list === undefined) return { all: true };
  const names = single !== undefined ? [single] : [...list!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) throw new UsageError(`Node "${twice}" is named twice in the list of nodes.`);
  const nodes = names.map((n) => ({ text: nodeName(n) }));
  return { all: false, node: nodes[0]!, nodes };
}

export type CounterSet = 'KUBE-SVC' | 'KUBE-SEP' | 'KUBE-SVC and KUBE-SEP' | 'NodePort';

export type CapturePointRef =
  | { kind: 'pod-eth0'; pod: string }
  | { kind: 'host-veth'; pod: string }
  | { kind: 'node-eth0'; node: NodeRef }
  | { kind: 'cilium-host'; node: NodeRef };

export function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`Invalid count ${value}: a count must be a whole number of at least 1.`);
  if (n > 10_000) throw new UsageError(`Invalid count ${value}: at most 10000 per step keeps a run bounded.`);
  return n;
}

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new UsageError(`Invalid port ${value}: a port is a whole number from 1 to 65535.`);
  return n;
}

export function ipv4(value: string): string {
  const parts = value.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255))
    throw new UsageError(`Invalid IPv4 address "${value}": four numbers from 0 to 255 separated by dots.`);
  return value;
}

const CAPTURE_POINT_RE = /pod "([^"]*)" eth0|the host veth of pod "([^"]*)"|node "([^"]*)" (eth0|cilium_host)/;

export function capturePoint(podEth0?: string, vethPod?: string, node?: string, iface?: string): CapturePointRef {
  if (podEth0 !== undefined) return { kind: 'pod-eth0', pod: k8sName('pod', podEth0) };
  if (vethPod !== undefined) return { kind: 'host-veth', pod: k8sName('pod', vethPod) };
  return { kind: iface === 'cilium_host' ? 'cilium-host' : 'node-eth0', node: { text: nodeName(node ?? '') } };
}

function nodeName(value: string): string {
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(value))
    throw new UsageError(
      `Invalid node name "${value}": give a role (control-plane, worker, worker2) or the node's full name.`,
    );
  return value;
}

interface ParameterTypeDef {
  name: string;
  regexp: RegExp;
  // biome-ignore lint/suspicious/noExplicitAny: cucumber hands each capture group as a string or undefined.
  transformer: (...groups: any[]) => unknown;
  useForSnippets?: boolean;
  /** What the value means, for `hookpoint steps`. */
  doc?: string;
  /** How it is written, one form per alternative (`node "<node>"`); read from the regexp when absent. */
  forms?: readonly string[];
}

const QUOTED = /"([^"]*)"/;

/** The one grammar of step parameters: cucumber's registry and the arming matcher both read it. */
export const PARAMETER_TYPES: readonly ParameterTypeDef[] = [
  {
    name: 'pod',
    regexp: QUOTED,
    transformer: (s: string) => k8sName('pod', s),
    useForSnippets: false,
    forms: ['"<pod>"'],
    doc: 'A pod a Given step of the scenario created (a client pod, or a replica of an echo deployment): a DNS-1123 name.',
  },
  {
    name: 'service',
    regexp: QUOTED,
    transformer: (s: string) => k8sName('service', s),
    useForSnippets: false,
    forms: ['"<service>"'],
    doc: 'A service a Given step of the scenario created: a DNS-1123 name.',
  },
  {
    name: 'deployment',
    regexp: QUOTED,
    transformer: (s: string) => k8sName('deployment', s),
    useForSnippets: false,
    forms: ['"<deployment>"'],
    doc: 'An echo deployment a Given step created: a DNS-1123 name.',
  },
  {
    name: 'node',
    regexp: QUOTED,
    transformer: (s: string): NodeRef => ({ text: nodeName(s) }),
    useForSnippets: false,
    forms: ['"<node>"'],
    doc: 'A node of the kind config, by role (control-plane, worker, worker2, …) or by full name.',
  },
  {
    name: 'nodes',
    regexp: /every node|node "([^"]*)"|nodes ((?:"[^"]*", )*"[^"]*" and "[^"]*")/,
    transformer: nodeScope,
    forms: ['every node', 'node "<node>"', 'nodes "<node>" and "<node>"', 'nodes "<node>", "<node>" and "<node>"'],
    doc: 'Where a check applies: every node of the cluster, one node, or a list of nodes (role or full name).',
  },
  {
    name: 'count',
    regexp: /-?\d+/,
    transformer: count,
    forms: ['<number>'],
    doc: 'A whole number from 1 to 10000.',
  },
  {
    name: 'port',
    regexp: /\d+/,
    transformer: port,
    useForSnippets: false,
    forms: ['<number>'],
    doc: 'A TCP/UDP port from 1 to 65535.',
  },
  {
    name: 'ip',
    regexp: /\d+\.\d+\.\d+\.\d+/,
    transformer: ipv4,
    forms: ['<a.b.c.d>'],
    doc: 'An IPv4 address: four numbers from 0 to 255.',
  },
  {
    name: 'counters',
    regexp: /KUBE-SVC and KUBE-SEP|KUBE-SEP|KUBE-SVC|NodePort/,
    transformer: (s: string) => s as CounterSet,
    doc: "Which of the service's kube-proxy rules are counted: the KUBE-SERVICES→KUBE-SVC jump, the KUBE-SEP DNAT rules, both, or the KUBE-NODEPORTS jump.",
  },
  {
    name: 'capturePoint',
    regexp: CAPTURE_POINT_RE,
    transformer: capturePoint,
    forms: ['pod "<pod>" eth0', 'the host veth of pod "<pod>"', 'node "<node>" eth0', 'node "<node>" cilium_host'],
    doc: "Where tcpdump listens: the pod's own interface (before tc), its lxc veth in the node, the node's uplink (after tc and routing), or the node's cilium_host.",
  },
  {
    name: 'failure',
    regexp: /is refused|times out|fails/,
    transformer: (s: string) => (s === 'times out' ? 'timeout' : s === 'is refused' ? 'refused' : 'any'),
    doc: 'How every request is expected to fail: a reset or ICMP refusal, no answer in time, or any failure.',
  },
  {
    name: 'statusField',
    regexp: /routing|host routing|tunnel protocol|kube-proxy replacement|IPAM|masquerading/,
    transformer: (s: string) => s,
    doc: 'A field of the agent status.',
  },
  {
    name: 'direction',
    regexp: /ingress|egress/,
    transformer: (s: string) => s as 'ingress' | 'egress',
    doc: 'The tc hook of an interface.',
  },
];

/** A parameter type as `hookpoint steps` shows it. */
export interface ParameterTypeDoc {
  name: string;
  /** How it is written, one form per alternative. */
  forms: string[];
  /** The whole list of values, when the type is a fixed set of words. */
  values?: string[];
  doc: string;
}

/** Cucumber's own types the steps use. */
const BUILT_IN: readonly ParameterTypeDoc[] = [
  { name: 'string', forms: ['"<text>"'], doc: 'Any text in double quotes.' },
  { name: 'int', forms: ['<number>'], doc: 'A whole number.' },
  { name: 'word', forms: ['<word>'], doc: 'One word without spaces.' },
  { name: 'float', forms: ['<number>'], doc: 'A number.' },
];

/** Top-level alternatives of a regexp source (pure). */
function alternatives(source: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      cur += c + (source[i + 1] ?? '');
      i++;
      continue;
    }
    if (c === '(' || c === '[') depth++;
    if (c === ')' || c === ']') depth--;
    if (c === '|' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  return [...out, cur];
}

const LITERAL = /^[\w .,:'/-]+$/;

/** The forms of a parameter type read from its regexp: literals as written, a quoted capture as "<name>" (pure). */
export function formsOf(regexp: RegExp, name: string): string[] {
  return alternatives(regexp.source).map((alt) =>
    alt
      .replace(/"\(\[\^"\]\*\)"/g, `"<${name}>"`)
      .replace(/\\d\+/g, '<number>')
      .replace(/\\(.)/g, '$1'),
  );
}

/**
 * Every parameter type, generated from the one grammar (PARAMETER_TYPES) plus cucumber's own:
 * its forms, its values when it is a fixed set of words, what it means. A type added to
 * PARAMETER_TYPES shows up here without more work.
 */
export function parameterTypeDocs(): ParameterTypeDoc[] {
  const ours = PARAMETER_TYPES.map((t): ParameterTypeDoc => {
    const forms = [...(t.forms ?? formsOf(t.regexp, t.name))];
    const literal = alternatives(t.regexp.source).every((a) => LITERAL.test(a));
    return {
      name: t.name,
      forms,
      ...(literal ? { values: alternatives(t.regexp.source) } : {}),
      doc: t.doc ?? `Written as ${forms.join(' or ')}.`,
    };
  });
  return [...ours, ...BUILT_IN.filter((b) => !ours.some((o) => o.name === b.name))];
}

export function registerParameterTypes(): void {
  for (const t of PARAMETER_TYPES) defineParameterType(t);
}

/** The same parameter types in a standalone registry, for matching step text outside a step run. */
export function parameterTypeRegistry(): ParameterTypeRegistry {
  const registry = new ParameterTypeRegistry();
  for (const t of PARAMETER_TYPES)
    registry.defineParameterType(
      new ParameterType(t.name, t.regexp, null, t.transformer, t.useForSnippets ?? true, false),
    );
  return registry;
}
