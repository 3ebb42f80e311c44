/**
 * The lab's eBPF datapath on each node, as handles built from the model (none under variant
 * no-tc). Pods and services reach the datapath only through here, so what it is told about
 * endpoints and services is derived in one place.
 */
import { resolvePolicies } from '../../policy/resolve.ts';
import { ipcacheOf, podIdentities, podLabelMap } from './agent/identities.ts';
import { type DatapathService, NodeDatapath } from './datapath/index.ts';
import type { RunDir } from './ledger.ts';
import { nodeNetns } from './names.ts';
import type { LabPod } from './pod-netns.ts';
import type { LabState } from './state.ts';
import type { LabNodePlan } from './topology.ts';

export class NodeDatapaths {
  private byNode = new Map<string, NodeDatapath>();

  /** Handles for every node of the model; none when the lab runs without the tc datapath. */
  reset(state: LabState, rd: RunDir | undefined): void {
    this.byNode = new Map();
    if (!state.datapath || !rd) return;
    for (const n of state.plan.nodes)
      this.byNode.set(
        n.name,
        new NodeDatapath({
          node: n.name,
          netns: nodeNetns(state.cluster, n.name),
          bpffs: rd.file(`bpffs/${n.role}`),
          objectPath: state.datapath.objectPath,
          options: {
            localRedirect: !state.variants.includes('no-local-redirect'),
            policy: !state.variants.includes('no-policy'),
          },
        }),
      );
  }

  clear(): void {
    this.byNode.clear();
  }

  /** The datapath of a node by its full name (undefined under variant no-tc). */
  get(node: string): NodeDatapath | undefined {
    return this.byNode.get(node);
  }

  all(): NodeDatapath[] {
    return [...this.byNode.values()];
  }

  /**
   * A NodeDatapath to read a node's real state with (tc attachments, maps, flags) — the live one,
   * or, under variant no-tc, one that was never loaded and so reports what is attached.
   */
  reader(cluster: string, node: LabNodePlan, rd: RunDir): NodeDatapath {
    return (
      this.byNode.get(node.name) ??
      new NodeDatapath({
        node: node.name,
        netns: nodeNetns(cluster, node.name),
        bpffs: rd.file(`bpffs/${node.role}`),
        objectPath: '',
        options: { localRedirect: false },
      })
    );
  }

  /** New pods on a node: attach the program to their host veths, then refresh the node's endpoints. */
  async attachPods(node: string, added: readonly LabPod[], allPods: readonly LabPod[]): Promise<void> {
    const dp = this.byNode.get(node);
    if (!dp) return;
    await dp.attachAll(
      added.filter((p) => p.node === node).map((p) => ({ ifname: p.hostVeth, endpointId: p.endpointId })),
    );
    await this.syncEndpoints(node, allPods);
  }

  /** The node's lxc_endpoints map from its pods (ifindexes read from the node). */
  async syncEndpoints(node: string, allPods: readonly LabPod[]): Promise<void> {
    const dp = this.byNode.get(node);
    if (!dp) return;
    const names = await dp.interfaceNames(true);
    const byName = new Map([...names].map(([idx, n]) => [n, idx]));
    const eps = allPods
      .filter((p) => p.node === node && byName.has(p.hostVeth))
      .map((p) => ({
        ip: p.ip,
        ifindex: byName.get(p.hostVeth)!,
        endpointId: p.endpointId,
        podMac: p.mac,
        lxcMac: p.hostVethMac,
      }));
    await dp.setEndpoints(eps);
  }

  /**
   * Network policy on every loaded node: the ipcache (every pod's identity, nodes as host or
   * remote-node) and the policy map of each local endpoint, from the policies applied now.
   * flushConnections: a changed policy decides every new packet afresh.
   */
  async syncPolicy(state: LabState, flushConnections = false): Promise<void> {
    const pods = state.pods;
    const ids = podIdentities(pods);
    const resolved = resolvePolicies(
      state.policies ?? [],
      pods.map((p) => ({
        name: p.name,
        namespace: p.namespace,
        labels: podLabelMap(p),
        endpointId: p.endpointId,
        identity: ids.get(p.name)!,
      })),
    );
    await Promise.all(
      this.all().map(async (dp) => {
        if (!dp.loaded()) return;
        await dp.setIpcache(ipcacheOf(dp.node, state.plan.nodes, pods));
        for (const p of pods.filter((x) => x.node === dp.node))
          await dp.setPolicy(p.endpointId, resolved.get(p.endpointId) ?? { enforced: [], entries: [] });
        if (flushConnections) await dp.flushPolicyConnections();
      }),
    );
  }

  /** The service map of every loaded node's datapath. */
  async setServices(services: DatapathService[]): Promise<void> {
    await Promise.all(this.all().map((dp) => (dp.loaded() ? dp.setServices(services) : null)));
  }
}
