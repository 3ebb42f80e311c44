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
}

const QUOTED = /"([^"]*)"/;

/** The one grammar of step parameters: cucumber's registry and the arming matcher both read it. */
export const PARAMETER_TYPES: readonly ParameterTypeDef[] = [
  { name: 'pod', regexp: QUOTED, transformer: (s: string) => k8sName('pod', s), useForSnippets: false },
  { name: 'service', regexp: QUOTED, transformer: (s: string) => k8sName('service', s), useForSnippets: false },
  { name: 'deployment', regexp: QUOTED, transformer: (s: string) => k8sName('deployment', s), useForSnippets: false },
  { name: 'node', regexp: QUOTED, transformer: (s: string): NodeRef => ({ text: nodeName(s) }), useForSnippets: false },
  {
    name: 'nodes',
    regexp: /every node|node "([^"]*)"|nodes ((?:"[^"]*", )*"[^"]*" and "[^"]*")/,
    transformer: nodeScope,
  },
  { name: 'count', regexp: /-?\d+/, transformer: count },
  { name: 'port', regexp: /\d+/, transformer: port, useForSnippets: false },
  { name: 'ip', regexp: /\d+\.\d+\.\d+\.\d+/, transformer: ipv4 },
  {
    name: 'counters',
    regexp: /KUBE-SVC and KUBE-SEP|KUBE-SEP|KUBE-SVC|NodePort/,
    transformer: (s: string) => s as CounterSet,
  },
  { name: 'capturePoint', regexp: CAPTURE_POINT_RE, transformer: capturePoint },
  {
    name: 'failure',
    regexp: /is refused|times out|fails/,
    transformer: (s: string) => (s === 'times out' ? 'timeout' : s === 'is refused' ? 'refused' : 'any'),
  },
  {
    name: 'statusField',
    regexp: /routing|host routing|tunnel protocol|kube-proxy replacement|IPAM|masquerading/,
    transformer: (s: string) => s,
  },
  { name: 'direction', regexp: /ingress|egress/, transformer: (s: string) => s as 'ingress' | 'egress' },
];

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
