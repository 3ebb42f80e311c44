/**
 * The lab's cluster layout from a kind config: nodes by role with Kind's names
 * (`<cluster>-control-plane`, `<cluster>-worker`, `<cluster>-worker2`…), node addresses on the
 * "kind" docker network (172.18.0.2…, gateway 172.18.0.1), one /24 pod CIDR per node from
 * `networking.podSubnet` (Kind's default 10.244.0.0/16) and the service range from
 * `networking.serviceSubnet` (Kind's default 10.96.0.0/16). Pure: text in, plan out.
 */
import { parse } from 'yaml';
import { UsageError } from '../../errors.ts';
import { DEFAULT_CLUSTER, stableNumber, validateCluster } from './names.ts';

export const KIND_DEFAULT_POD_SUBNET = '10.244.0.0/16';
export const KIND_DEFAULT_SERVICE_SUBNET = '10.96.0.0/16';
/** Docker's first user network, as Kind gets it on a fresh machine. */
export const KIND_NETWORK = { subnet: '172.18.0.0/16', gateway: '172.18.0.1', firstHost: 2 } as const;

export interface LabNodePlan {
  /** Kind name: `<cluster>-control-plane`, `<cluster>-worker2`. */
  name: string;
  /** Role as users write it: control-plane, control-plane2, worker, worker2. */
  role: string;
  /** Kind's node role: control-plane or worker. */
  kindRole: 'control-plane' | 'worker';
  ip: string;
  podCIDR: string;
  /** The pods' gateway, on cilium_host. */
  ciliumHostIP: string;
}

export interface LabTopologyPlan {
  cluster: string;
  nodes: LabNodePlan[];
  podSubnet: string;
  serviceSubnet: string;
  network: { subnet: string; gateway: string };
  /** `networking.kubeProxyMode: none`: no kube-proxy on the nodes (absent: iptables, kind's default). */
  kubeProxyMode?: 'none';
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.');
  if (parts.length !== 4) throw new UsageError(`${JSON.stringify(ip)} is not an IPv4 address.`);
  let n = 0;
  for (const p of parts) {
    const v = Number(p);
    if (!/^\d{1,3}$/.test(p) || v > 255) throw new UsageError(`${JSON.stringify(ip)} is not an IPv4 address.`);
    n = n * 256 + v;
  }
  return n;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export interface Cidr {
  base: number;
  bits: number;
  size: number;
}

export function parseCidr(text: string, what: string): Cidr {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(String(text).trim());
  if (!m) throw new UsageError(`The ${what} ${JSON.stringify(text)} is not an IPv4 CIDR such as 10.244.0.0/16.`);
  const bits = Number(m[2]);
  if (bits > 32) throw new UsageError(`The ${what} ${JSON.stringify(text)} has a prefix longer than 32.`);
  const size = 2 ** (32 - bits);
  const addr = ipToInt(m[1]!);
  if (addr % size !== 0)
    throw new UsageError(
      `The ${what} ${JSON.stringify(text)} has host bits set; did you mean ${intToIp(addr - (addr % size))}/${bits}?`,
    );
  return { base: addr, bits, size };
}

export function cidrContains(cidr: Cidr, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= cidr.base && n < cidr.base + cidr.size;
}

function roleNames(kindRole: 'control-plane' | 'worker', index: number): string {
  return index === 0 ? kindRole : `${kindRole}${index + 1}`;
}

/**
 * Plan a lab from kind config text. `cluster` (the --cluster flag) wins over the config's
 * `name`, which wins over the default `cilium-kubeproxy` — Kind's own precedence.
 */
export function planFromKindConfig(text: string, opts: { cluster?: string; source?: string } = {}): LabTopologyPlan {
  const source = opts.source ?? 'the kind config';
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UsageError(`${source} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc))
    throw new UsageError(`${source} is not a kind config (expected a mapping with "kind: Cluster").`);
  const cfg = doc as Record<string, unknown>;
  if (cfg.kind !== undefined && cfg.kind !== 'Cluster')
    throw new UsageError(`${source} has kind ${JSON.stringify(cfg.kind)}; a kind config has "kind: Cluster".`);
  const cluster = validateCluster(
    opts.cluster ?? (typeof cfg.name === 'string' && cfg.name ? cfg.name : DEFAULT_CLUSTER),
  );
  const net = (cfg.networking ?? {}) as Record<string, unknown>;
  if (typeof net !== 'object' || Array.isArray(net)) throw new UsageError(`${source}: "networking" must be a mapping.`);
  if (net.ipFamily !== undefined && net.ipFamily !== 'ipv4')
    throw new UsageError(
      `${source} asks for ipFamily ${JSON.stringify(net.ipFamily)}; the lab reproduces IPv4 clusters only.`,
    );
  if (net.kubeProxyMode !== undefined && net.kubeProxyMode !== 'iptables' && net.kubeProxyMode !== 'none')
    throw new UsageError(
      `${source} asks for kubeProxyMode ${JSON.stringify(net.kubeProxyMode)}; the lab reproduces kube-proxy in iptables mode, or none (kube-proxy replacement).`,
    );
  const podSubnet = String(net.podSubnet ?? KIND_DEFAULT_POD_SUBNET);
  const serviceSubnet = String(net.serviceSubnet ?? KIND_DEFAULT_SERVICE_SUBNET);
  const pods = parseCidr(podSubnet, 'podSubnet');
  const services = parseCidr(serviceSubnet, 'serviceSubnet');
  if (pods.bits > 24)
    throw new UsageError(`${source}: podSubnet ${podSubnet} is smaller than one /24 per node (Kind's node mask).`);
  if (services.bits > 28) throw new UsageError(`${source}: serviceSubnet ${serviceSubnet} is too small.`);
  if (rangesOverlap(pods, services))
    throw new UsageError(`${source}: podSubnet ${podSubnet} and serviceSubnet ${serviceSubnet} overlap.`);

  const rawNodes = cfg.nodes ?? [{ role: 'control-plane' }];
  if (!Array.isArray(rawNodes) || rawNodes.length === 0)
    throw new UsageError(`${source}: "nodes" must be a non-empty list of {role: control-plane|worker}.`);
  const roles = rawNodes.map((n, i) => {
    const role = (n as { role?: unknown } | null)?.role ?? 'control-plane';
    if (role !== 'control-plane' && role !== 'worker')
      throw new UsageError(
        `${source}: node ${i + 1} has role ${JSON.stringify(role)}; Kind knows control-plane and worker.`,
      );
    return role as 'control-plane' | 'worker';
  });
  if (!roles.includes('control-plane')) throw new UsageError(`${source} has no control-plane node.`);
  const maxNodes = Math.min(pods.size / 256, 250);
  if (roles.length > maxNodes)
    throw new UsageError(`${source} has ${roles.length} nodes; the lab supports at most ${maxNodes}.`);

  // Control-plane nodes first, then workers: the order Kind's node names and pod CIDRs follow.
  const ordered = [
    ...roles.filter((r) => r === 'control-plane').map((r, i) => ({ kindRole: r, role: roleNames(r, i) })),
    ...roles.filter((r) => r === 'worker').map((r, i) => ({ kindRole: r, role: roleNames(r, i) })),
  ];
  const netBase = ipToInt('172.18.0.0');
  const nodes: LabNodePlan[] = ordered.map((n, i) => {
    const cidrBase = pods.base + i * 256;
    // Cilium picks the router (cilium_host) address from the node's pool; a stable pick keeps transcripts comparable.
    const hostOffset = 2 + stableNumber(`${cluster}/${n.role}/cilium_host`, 250);
    return {
      name: `${cluster}-${n.role}`,
      role: n.role,
      kindRole: n.kindRole,
      ip: intToIp(netBase + KIND_NETWORK.firstHost + i),
      podCIDR: `${intToIp(cidrBase)}/24`,
      ciliumHostIP: intToIp(cidrBase + hostOffset),
    };
  });
  return {
    cluster,
    nodes,
    podSubnet,
    serviceSubnet,
    network: { subnet: KIND_NETWORK.subnet, gateway: KIND_NETWORK.gateway },
    ...(net.kubeProxyMode === 'none' ? { kubeProxyMode: 'none' as const } : {}),
  };
}

function rangesOverlap(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + b.size && b.base < a.base + a.size;
}

export { findNode } from '../node-lookup.ts';
