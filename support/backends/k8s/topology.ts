/**
 * What the cluster looks like to a scenario: nodes with the roles users write ("worker2"), the
 * cilium_host address of each node from its CiliumNode, the run's pods with their Cilium
 * endpoint, host-side veth and MACs, and the run's services with their endpoints.
 */
import type * as k8s from '@kubernetes/client-node';
import type { NodeInfo, PodInfo, ServiceInfo, Topology } from '../types.ts';
import type { ClusterAccess } from './cluster-access.ts';
import { echoListenersOf, PROBE_NAME, RUN_LABEL } from './workload-manifests.ts';

/** `kind-cilium-kubeproxy-worker2` → "worker2"; other clusters: control-plane, worker, worker2… by name order. */
export function assignRoles(nodes: ReadonlyArray<k8s.V1Node>, cluster: string): Map<string, string> {
  const roles = new Map<string, string>();
  const names = nodes.map((n) => n.metadata?.name ?? '').sort();
  const isCp = (n: k8s.V1Node) =>
    Object.hasOwn(n.metadata?.labels ?? {}, 'node-role.kubernetes.io/control-plane') ||
    Object.hasOwn(n.metadata?.labels ?? {}, 'node-role.kubernetes.io/master');
  if (names.every((n) => n.startsWith(`${cluster}-`))) {
    for (const n of names) roles.set(n, n.slice(cluster.length + 1));
    return roles;
  }
  let cp = 0;
  let w = 0;
  for (const name of names) {
    const node = nodes.find((n) => n.metadata?.name === name)!;
    if (isCp(node)) roles.set(name, ++cp === 1 ? 'control-plane' : `control-plane${cp}`);
    else roles.set(name, ++w === 1 ? 'worker' : `worker${w}`);
  }
  return roles;
}

/**
 * The cilium_host address of a node: the IPv4 `spec.addresses[type=CiliumInternalIP]` of its
 * CiliumNode (cilium.io/v2). Unknown shapes give undefined.
 */
export function ciliumInternalIP(ciliumNode: unknown): string | undefined {
  const addresses = (ciliumNode as { spec?: { addresses?: unknown } } | null)?.spec?.addresses;
  if (!Array.isArray(addresses)) return undefined;
  const ips = addresses
    .filter((a) => (a as { type?: unknown })?.type === 'CiliumInternalIP')
    .map((a) => (a as { ip?: unknown }).ip)
    .filter((ip): ip is string => typeof ip === 'string' && ip.length > 0);
  return ips.find((ip) => /^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) ?? ips[0];
}

/** id, interface-name, mac, host-mac of each endpoint in `endpoint list -o json` (unknown shapes give []). */
export function parseEndpointNetworking(
  json: string,
): Array<{ id: number; interfaceName?: string; mac?: string; hostMac?: string }> {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    return [];
  }
  if (!Array.isArray(doc)) return [];
  return doc.flatMap((e) => {
    const id = (e as { id?: unknown })?.id;
    const net = (e as { status?: { networking?: Record<string, unknown> } })?.status?.networking ?? {};
    if (typeof id !== 'number') return [];
    const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
    return [{ id, interfaceName: str(net['interface-name']), mac: str(net.mac), hostMac: str(net['host-mac']) }];
  });
}

export class ClusterTopology {
  private readonly c: ClusterAccess;
  /** `cilium-dbg endpoint list -o json` on a node's agent (best effort: null when unreadable). */
  private readonly endpointList: (node: string) => Promise<string | null>;
  private roles = new Map<string, string>();

  constructor(c: ClusterAccess, deps: { endpointList: (node: string) => Promise<string | null> }) {
    this.c = c;
    this.endpointList = deps.endpointList;
  }

  /** Full node name for a full name or a role ("worker2"). */
  async nodeName(nameOrRole: string): Promise<string> {
    if (this.roles.size === 0) await this.nodes();
    if (this.roles.has(nameOrRole)) return nameOrRole;
    for (const [name, role] of this.roles) if (role === nameOrRole) return name;
    return nameOrRole;
  }

  async nodes(): Promise<NodeInfo[]> {
    const nodes = await this.c.api().listNodes();
    this.roles = assignRoles(nodes, this.c.opts.cluster);
    const out: NodeInfo[] = [];
    for (const n of nodes) {
      const name = n.metadata!.name!;
      // cilium_host's address lives in the node's CiliumNode (the node annotation is off by default).
      // Best effort: without it (no read access to ciliumnodes) the gateway steps say inconclusive.
      const ciliumHostIP = ciliumInternalIP(
        await this.c
          .api()
          .readCiliumNode(name)
          .catch(() => null),
      );
      out.push({
        name,
        role: this.roles.get(name) ?? name,
        ip: n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '',
        podCIDR: n.spec?.podCIDR ?? '',
        ...(ciliumHostIP ? { ciliumHostIP } : {}),
      });
    }
    return out;
  }

  async serviceInfo(svc: k8s.V1Service): Promise<ServiceInfo> {
    const name = svc.metadata!.name!;
    const port = svc.spec?.ports?.[0];
    const slices = await this.c.api().listEndpointSlices(this.c.namespace, name);
    const backends = slices.flatMap((s) =>
      (s.endpoints ?? [])
        .filter((e) => e.conditions?.ready !== false)
        .map((e) => ({
          pod: e.targetRef?.name ?? '',
          ip: e.addresses[0] ?? '',
          port: s.ports?.[0]?.port ?? Number(port?.targetPort ?? 0),
          node: e.nodeName ?? '',
        })),
    );
    return {
      name,
      namespace: this.c.namespace,
      clusterIP: svc.spec?.clusterIP ?? '',
      port: port?.port ?? 0,
      targetPort: Number(port?.targetPort ?? port?.port ?? 0),
      portName: port?.name ?? '',
      nodePort: port?.nodePort ?? null,
      protocol: (port?.protocol as 'TCP' | 'UDP') ?? 'TCP',
      endpoints: backends,
    };
  }

  /**
   * Nodes always; the run's pods and services once its namespace exists, and its client pods in
   * other namespaces (only the pods this run labelled there).
   */
  async topology(runNamespaceExists: boolean, otherNamespaces: readonly string[] = []): Promise<Topology> {
    const nodes = await this.nodes();
    const pods: PodInfo[] = [];
    const services: ServiceInfo[] = [];
    if (runNamespaceExists) {
      const api = this.c.api();
      const listed = [
        ...(await api.listPods(this.c.namespace)).map((p) => ({ p, ns: this.c.namespace })),
        ...(
          await Promise.all(
            otherNamespaces.map(async (ns) =>
              (await api.listPods(ns, { labelSelector: `${RUN_LABEL}=${this.c.runId}` })).map((p) => ({ p, ns })),
            ),
          )
        ).flat(),
      ];
      for (const { p, ns } of listed) {
        if (p.metadata?.labels?.app === PROBE_NAME) continue;
        const name = p.metadata!.name!;
        pods.push({
          name,
          namespace: ns,
          node: p.spec?.nodeName ?? '',
          ip: p.status?.podIP ?? '',
          app: p.metadata?.labels?.app,
          endpointId: await api.ciliumEndpointId(ns, name),
          ...(p.metadata?.labels?.app ? { listeners: echoListenersOf(p) } : {}),
        });
      }
      await this.addEndpointDetails(pods);
      for (const s of await api.listServices(this.c.namespace)) services.push(await this.serviceInfo(s));
    }
    return { cluster: this.c.opts.cluster, nodes, pods, services };
  }

  /**
   * Host-side veth and MACs from the agent's endpoint list (`cilium-dbg endpoint list -o json`,
   * status.networking), one call per node; best effort — a pod without them keeps what it has.
   */
  private async addEndpointDetails(pods: PodInfo[]): Promise<void> {
    const byNode = new Map<string, PodInfo[]>();
    for (const p of pods)
      if (p.node && p.endpointId !== undefined) byNode.set(p.node, [...(byNode.get(p.node) ?? []), p]);
    for (const [node, list] of byNode) {
      const json = await this.endpointList(node);
      if (json === null) continue;
      for (const d of parseEndpointNetworking(json)) {
        const p = list.find((x) => x.endpointId === d.id);
        if (!p) continue;
        p.hostVeth = d.interfaceName ?? p.hostVeth;
        p.mac = d.mac ?? p.mac;
        p.hostVethMac = d.hostMac ?? p.hostVethMac;
      }
    }
  }
}
