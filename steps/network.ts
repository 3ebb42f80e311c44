/** Routes, ARP and the agent's status: the static facts of native routing. */

import { InconclusiveError } from '../support/errors.ts';
import {
  expectDefaultGateway,
  expectNeighbourMac,
  expectRouteThroughDevice,
  expectRouteVia,
  expectStatusField,
  STATUS_FIELD_OF_WORDS,
} from '../support/expectations/net.ts';
import { neighbours, routes } from '../support/probes/net.ts';
import { agentStatus } from '../support/probes/status.ts';
import { judge } from '../support/scenario/judged.ts';
import type { NodeRef, NodeScope } from '../support/scenario/parameter-types.ts';
import { resolveNode, resolveNodes, resolvePod } from '../support/scenario/resolve.ts';
import { defineStep } from '../support/scenario/vocabulary.ts';
import type { HookpointWorld } from '../support/scenario/world.ts';

defineStep(
  'Then',
  'cilium status on {nodes} reports {statusField} {string}',
  {
    example: 'Then cilium status on every node reports routing "Native"',
    doc: 'A field of the agent status: routing, host routing, kube-proxy replacement, IPAM, masquerading.',
    state: true,
  },
  async function (this: HookpointWorld, scope: NodeScope, field: string, value: string) {
    const nodes = resolveNodes(await this.topology(), scope);
    // One status read per node and scenario (several status steps judge the same evidence); the
    // nodes not read yet are read side by side, then cited in node order.
    const unread = nodes.filter((n) => !this.statusByNode.has(n.name));
    const read = await Promise.all(unread.map((n) => agentStatus(this.backend, n.name)));
    for (const [i, n] of unread.entries()) this.statusByNode.set(n.name, await this.cite(read[i]!));
    for (const node of nodes) {
      this.involvedNodes.add(node.name);
      const status = this.statusByNode.get(node.name)!;
      await judge(this, [status], () => expectStatusField(status, STATUS_FIELD_OF_WORDS[field]!, value), {
        figure: () => `${field} "${value}" on node ${node.name}`,
      });
    }
  },
);

async function checkRoute(world: HookpointWorld, from: string, to: string): Promise<void> {
  const topo = await world.topology();
  const a = resolveNode(topo, from);
  const b = resolveNode(topo, to);
  world.involvedNodes.add(a.name);
  const ev = await world.cite(await routes(world.backend, { kind: 'node', node: a.name }));
  await judge(world, [ev], () => expectRouteVia(ev, b.podCIDR, b.ip), { point: 'routing' });
}

defineStep(
  'Then',
  "node {node} routes the pod CIDR of node {node} via that node's IP",
  {
    example: 'Then node "control-plane" routes the pod CIDR of node "worker" via that node\'s IP',
    doc: 'Native routing (autoDirectNodeRoutes): a kernel route <pod CIDR> via <node IP>.',
    state: true,
  },
  async function (this: HookpointWorld, from: NodeRef, to: NodeRef) {
    await checkRoute(this, from.text, to.text);
  },
);

defineStep(
  'Then',
  "every node routes the pod CIDR of every other node via that node's IP",
  {
    example: "Then every node routes the pod CIDR of every other node via that node's IP",
    doc: 'The full mesh of native routes.',
    state: true,
  },
  async function (this: HookpointWorld) {
    const topo = await this.topology();
    for (const a of topo.nodes)
      for (const b of topo.nodes) if (a.name !== b.name) await checkRoute(this, a.name, b.name);
  },
);

defineStep(
  'Then',
  'every node routes the pod CIDR of every other node through cilium_host with mtu {int}',
  {
    example: 'Then every node routes the pod CIDR of every other node through cilium_host with mtu 1450',
    doc: "Tunnel mode: other nodes' pod CIDRs go to cilium_host (the programs encapsulate), with room for the tunnel's headers.",
    state: true,
  },
  async function (this: HookpointWorld, mtu: number) {
    const topo = await this.topology();
    for (const a of topo.nodes) {
      this.involvedNodes.add(a.name);
      const ev = await this.cite(await routes(this.backend, { kind: 'node', node: a.name }));
      for (const b of topo.nodes)
        if (a.name !== b.name)
          await judge(this, [ev], () => expectRouteThroughDevice(ev, b.podCIDR, 'cilium_host', mtu), {
            point: 'routing',
          });
    }
  },
);

defineStep(
  'Then',
  'the default gateway of pod {pod} is the cilium_host address of its node',
  {
    example: 'Then the default gateway of pod "client" is the cilium_host address of its node',
    doc: "The pod's default route points at its node's cilium_host IP.",
    state: true,
  },
  async function (this: HookpointWorld, pod: string) {
    const topo = await this.topology();
    const p = resolvePod(topo, pod);
    const node = resolveNode(topo, p.node);
    this.involvedNodes.add(node.name);
    if (!node.ciliumHostIP)
      throw new InconclusiveError(
        `Inconclusive: the backend does not report the cilium_host address of node ${node.name}.`,
      );
    const ev = await this.cite(await routes(this.backend, { kind: 'pod', pod: p.name, namespace: p.namespace }));
    const gateway = node.ciliumHostIP;
    await judge(this, [ev], () => expectDefaultGateway(ev, gateway), { point: 'routing' });
  },
);

defineStep(
  'Then',
  'the ARP entry of pod {pod} for its gateway resolves to the MAC of its host-side veth',
  {
    example: 'Then the ARP entry of pod "client" for its gateway resolves to the MAC of its host-side veth',
    doc: "The gateway looks like cilium_host, but ARP answers with the lxc veth's MAC: the pod enters the host through its veth.",
    state: true,
  },
  async function (this: HookpointWorld, pod: string) {
    const topo = await this.topology();
    const p = resolvePod(topo, pod);
    const node = resolveNode(topo, p.node);
    this.involvedNodes.add(node.name);
    if (!node.ciliumHostIP || !p.hostVethMac)
      throw new InconclusiveError(
        `Inconclusive: the backend does not report the gateway or the host veth MAC of pod ${p.name}.`,
      );
    const ev = await this.cite(await neighbours(this.backend, { kind: 'pod', pod: p.name, namespace: p.namespace }));
    const [gateway, mac] = [node.ciliumHostIP, p.hostVethMac];
    await judge(this, [ev], () => expectNeighbourMac(ev, gateway, mac, p.hostVeth));
  },
);
