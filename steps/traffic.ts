/** Traffic: HTTP requests from a pod or a node to a service (ClusterIP or NodePort) or a pod. Each opens an observation window. */

import { UsageError } from '../support/errors.ts';
import type { NodeRef } from '../support/scenario/parameter-types.ts';
import { resolveNode, resolveService } from '../support/scenario/resolve.ts';
import { defineRefusal, defineStep } from '../support/scenario/vocabulary.ts';
import { observe } from '../support/scenario/window.ts';
import type { HookpointWorld } from '../support/scenario/world.ts';

defineStep(
  'When',
  'pod {pod} sends {count} HTTP request(s) to service {service}',
  {
    example: 'When pod "client" sends 10 HTTP requests to service "echo"',
    doc: 'Requests to the ClusterIP of a service, each on a fresh connection.',
    sends: (_pod: string, count: number, service: string) => ({ count, service }),
  },
  async function (this: HookpointWorld, pod: string, count: number, service: string) {
    const svc = resolveService(await this.topology(true), service);
    await observe(this, {
      from: { kind: 'pod', pod },
      to: { ip: svc.clusterIP, port: svc.port },
      count,
      service: svc,
      via: 'clusterip',
    });
  },
);

defineStep(
  'When',
  'node {node} sends {count} HTTP request(s) to service {service}',
  {
    example: 'When node "control-plane" sends 6 HTTP requests to service "echo"',
    doc: 'Requests from the node itself to a ClusterIP (in this mode kube-proxy handles them).',
    sends: (_node: NodeRef, count: number, service: string) => ({ count, service }),
  },
  async function (this: HookpointWorld, node: NodeRef, count: number, service: string) {
    const topo = await this.topology(true);
    const svc = resolveService(topo, service);
    await observe(this, {
      from: { kind: 'node', node: resolveNode(topo, node) },
      to: { ip: svc.clusterIP, port: svc.port },
      count,
      service: svc,
      via: 'clusterip',
    });
  },
);

async function nodePortTarget(world: HookpointWorld, service: string, node: NodeRef) {
  const topo = await world.topology(true);
  const svc = resolveService(topo, service);
  if (svc.nodePort === null)
    throw new UsageError(
      `Service "${service}" has no NodePort.`,
      'Declare it as a NodePort service in the Background.',
    );
  return { svc, target: resolveNode(topo, node), topo };
}

defineStep(
  'When',
  'pod {pod} sends {count} HTTP request(s) to the NodePort of service {service} on node {node}',
  {
    example: 'When pod "client" sends 6 HTTP requests to the NodePort of service "echo" on node "worker"',
    doc: 'Requests to <node IP>:<node port>.',
    sends: (_pod: string, count: number, service: string) => ({ count, service }),
  },
  async function (this: HookpointWorld, pod: string, count: number, service: string, node: NodeRef) {
    const { svc, target } = await nodePortTarget(this, service, node);
    await observe(this, {
      from: { kind: 'pod', pod },
      to: { ip: target.ip, port: svc.nodePort! },
      count,
      service: svc,
      via: 'nodeport',
    });
  },
);

defineStep(
  'When',
  'node {node} sends {count} HTTP request(s) to the NodePort of service {service} on node {node}',
  {
    example:
      'When node "control-plane" sends 6 HTTP requests to the NodePort of service "echo" on node "control-plane"',
    doc: 'Requests from a node to <node IP>:<node port>.',
    sends: (_node: NodeRef, count: number, service: string) => ({ count, service }),
  },
  async function (this: HookpointWorld, from: NodeRef, count: number, service: string, node: NodeRef) {
    const { svc, target, topo } = await nodePortTarget(this, service, node);
    await observe(this, {
      from: { kind: 'node', node: resolveNode(topo, from) },
      to: { ip: target.ip, port: svc.nodePort! },
      count,
      service: svc,
      via: 'nodeport',
    });
  },
);

/** The replica of an echo deployment on a node, and the port it answers HTTP on. */
async function replicaTarget(world: HookpointWorld, app: string, node: NodeRef) {
  const topo = await world.topology(true);
  const n = resolveNode(topo, node);
  const dst = topo.pods.find((p) => p.app === app && p.node === n.name);
  if (!dst)
    throw new UsageError(
      `No replica of "${app}" on node ${n.name}.`,
      `Declare one: Given an echo deployment "${app}" with a replica on node "${n.role}".`,
    );
  const port = dst.listeners?.find((l) => l.protocol === 'TCP')?.port ?? 80;
  return { topo, dst, port };
}

defineStep(
  'When',
  'pod {pod} sends {count} HTTP request(s) to the {deployment} replica on node {node}',
  {
    example: 'When pod "client" sends 4 HTTP requests to the "echo" replica on node "worker"',
    doc: 'Requests straight to a pod IP (on the port its echo answers HTTP on), no service involved.',
    sends: (_pod: string, count: number) => ({ count }),
  },
  async function (this: HookpointWorld, pod: string, count: number, app: string, node: NodeRef) {
    const { dst, port } = await replicaTarget(this, app, node);
    await observe(this, { from: { kind: 'pod', pod }, to: { ip: dst.ip, port }, count, via: 'pod-ip' });
  },
);

defineStep(
  'When',
  'node {node} sends {count} HTTP request(s) to the {deployment} replica on node {node}',
  {
    example: 'When node "worker" sends 3 HTTP requests to the "echo" replica on node "control-plane"',
    doc: "Requests from a node's own network namespace straight to a pod IP (node → pod), no service involved.",
    sends: (_node: NodeRef, count: number) => ({ count }),
  },
  async function (this: HookpointWorld, from: NodeRef, count: number, app: string, node: NodeRef) {
    const { topo, dst, port } = await replicaTarget(this, app, node);
    await observe(this, {
      from: { kind: 'node', node: resolveNode(topo, from) },
      to: { ip: dst.ip, port },
      count,
      via: 'pod-ip',
    });
  },
);

defineStep(
  'When',
  'pod {pod} sends {count} UDP datagram(s) to service {service}',
  {
    example: 'When pod "client" sends 5 UDP datagrams to service "dns"',
    doc: 'Datagrams to the ClusterIP of a UDP service, each from a fresh socket; each waits 1 s for the reply that names the pod.',
    sends: (_pod: string, count: number, service: string) => ({ count, service }),
  },
  async function (this: HookpointWorld, pod: string, count: number, service: string) {
    const svc = resolveService(await this.topology(true), service);
    if (svc.protocol !== 'UDP')
      throw new UsageError(
        `Service "${service}" serves ${svc.protocol}, so UDP datagrams to it test nothing.`,
        `Declare a UDP service: And a ClusterIP UDP service "${service}" port 53 target port 5353 backed by the replicas of "echo".`,
      );
    await observe(this, {
      from: { kind: 'pod', pod },
      to: { ip: svc.clusterIP, port: svc.port },
      count,
      service: svc,
      via: 'clusterip',
      protocol: 'udp',
    });
  },
);

defineStep(
  'When',
  'pod {pod} sends {count} ICMP echo request(s) to the {deployment} replica on node {node}',
  {
    example: 'When pod "client" sends 4 ICMP echo requests to the "echo" replica on node "worker"',
    doc: 'Pings to a pod IP; each reply is named after the pod it came from.',
    sends: (_pod: string, count: number) => ({ count }),
  },
  async function (this: HookpointWorld, pod: string, count: number, app: string, node: NodeRef) {
    const { dst } = await replicaTarget(this, app, node);
    await observe(this, {
      from: { kind: 'pod', pod },
      to: { ip: dst.ip, port: 0 },
      count,
      via: 'pod-ip',
      protocol: 'icmp',
    });
  },
);

defineStep(
  'When',
  'pod {pod} sends {count} ICMP echo request(s) to node {node}',
  {
    example: 'When pod "client" sends 3 ICMP echo requests to node "worker"',
    doc: "Pings to a node's address; each reply is named after the node it came from.",
    sends: (_pod: string, count: number) => ({ count }),
  },
  async function (this: HookpointWorld, pod: string, count: number, node: NodeRef) {
    const target = resolveNode(await this.topology(true), node);
    await observe(this, {
      from: { kind: 'pod', pod },
      to: { ip: target.ip, port: 0 },
      count,
      via: 'node-ip',
      protocol: 'icmp',
    });
  },
);

/** ClusterIPs are virtual: no interface holds them, so nothing answers a ping to one. */
const ICMP_TO_SERVICE = (service: string) =>
  `a ClusterIP is a virtual address that only translates the service's ports, so nothing answers ICMP echo requests to service "${service}"; ping one of its replicas ("… ICMP echo requests to the "echo" replica on node "worker"") or a node instead`;

// Refused before provisioning (exit 2), not a step of the catalog.
defineRefusal('When', 'pod {pod} sends {count} ICMP echo request(s) to service {service}', (_pod, _count, service) =>
  ICMP_TO_SERVICE(service),
);
