/**
 * Names of the lab: validation of user-given names (DNS-1123 labels, as Kubernetes and Kind
 * require) and the run prefix every namespace, pid file and mount of a lab carries.
 *
 * Network namespaces: `hp.<cluster>.<kind node name>` for nodes, `hp.<cluster>.pod.<pod>` for
 * pods and `hp.<cluster>.kind` for the "kind" docker network. A dot never occurs in a
 * DNS-1123 label, so the prefix `hp.<cluster>.` belongs to exactly one lab and nothing without
 * it is ever touched. Interfaces keep their real names (eth0, cilium_host, lxc…) inside.
 */
import { createHash } from 'node:crypto';
import { UsageError } from '../../errors.ts';

export const DEFAULT_CLUSTER = 'cilium-kubeproxy';
/** Where lab run directories live unless told (`--state-root`, $HOOKPOINT_LAB_STATE). */
export const DEFAULT_STATE_ROOT = '/run/hookpoint/lab';

/** Where run directories live unless told: $HOOKPOINT_LAB_STATE, else /run/hookpoint/lab. */
export function stateRootDefault(): string {
  return process.env.HOOKPOINT_LAB_STATE || DEFAULT_STATE_ROOT;
}
/** Netns names are file names under /run/netns; keep the whole name well below NAME_MAX. */
const MAX_CLUSTER = 40;
const MAX_NAME = 63;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function isDnsLabel(name: string, max = MAX_NAME): boolean {
  return name.length > 0 && name.length <= max && LABEL.test(name);
}

/** A DNS-1123 label (lower case letters, digits, '-'; starts and ends alphanumeric), or a UsageError. */
export function validateName(what: string, name: string, max = MAX_NAME): string {
  if (typeof name !== 'string' || !isDnsLabel(name, max)) {
    throw new UsageError(
      `The ${what} name ${JSON.stringify(name)} is not valid: it must be a DNS-1123 label of at most ${max} characters ` +
        '(lower-case letters, digits and "-", starting and ending with a letter or digit).',
      `For example "${what === 'cluster' ? 'hpt-lab1' : 'echo'}".`,
    );
  }
  return name;
}

export function validateCluster(name: string): string {
  return validateName('cluster', name, MAX_CLUSTER);
}

/** Prefix of every network namespace of a lab. */
export function runPrefix(cluster: string): string {
  return `hp.${validateCluster(cluster)}.`;
}

export function nodeNetns(cluster: string, nodeName: string): string {
  return `${runPrefix(cluster)}${validateName('node', nodeName)}`;
}

export function podNetns(cluster: string, pod: string): string {
  return `${runPrefix(cluster)}pod.${validateName('pod', pod)}`;
}

/** The namespace holding the "kind" docker network bridge. */
export function networkNetns(cluster: string): string {
  return `${runPrefix(cluster)}kind`;
}

/** True when a namespace name belongs to this lab (the only names teardown will delete). */
export function ownsNetns(cluster: string, netns: string): boolean {
  const p = runPrefix(cluster);
  return netns.startsWith(p) && netns.length > p.length && !netns.includes('/');
}

export function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Host-side veth name the way Cilium names it: `lxc` + 12 hex characters (15 = IFNAMSIZ - 1). */
export function lxcName(cluster: string, pod: string): string {
  return `lxc${sha256(`${cluster}/${pod}`).toString('hex').slice(0, 12)}`;
}

/** A stable, locally administered unicast MAC for an interface of the lab. */
export function labMac(cluster: string, what: string): string {
  const h = sha256(`${cluster}/mac/${what}`);
  const bytes = [0x0a, h[0]!, h[1]!, h[2]!, h[3]!, h[4]!];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** A stable number in [0, modulo) from a text (allocation seeds: addresses, endpoint ids). */
export function stableNumber(text: string, modulo: number): number {
  return sha256(text).readUInt32BE(0) % modulo;
}

const POD_SUFFIX = 'bcdfghjklmnpqrstvwxz2456789';

/** Kubernetes-style generated suffix (the alphabet ReplicaSets use), stable for a seed. */
export function podSuffix(seed: string, length: number): string {
  const h = sha256(seed);
  let out = '';
  for (let i = 0; i < length; i++) out += POD_SUFFIX[h[i]! % POD_SUFFIX.length];
  return out;
}
