/** Traffic: HTTP requests from a pod or a node to a service (ClusterIP or NodePort) or a pod. Each opens an observation window. */

import { UsageError } from '../support/errors.ts';
import type { NodeRef } from '../support/scenario/parameter-types.ts';
import { resolveNode, resolveService } from '../support/scenario/resolve.ts';
import { defineStep } from '../support/scenario/vocabulary.ts';
import { observe } from '../support/scenario/window.ts';
import type { HookpointWorld } from '../support/scenario/world.ts';

defineStep(
  'When',
  'pod {pod} sends {count} HTTP request(s) to service {service}',
  {
    example: 'When pod "client" sends 10 HTTP requests to service "echo"',
    doc: 'Requests to the ClusterIP of a service, each on a fresh connection.',
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

defineStep(
  'When',
  'pod {pod} sends {count} HTTP request(s) to the {deployment} replica on node {node}',
  {
    example: 'When pod "client" sends 4 HTTP requests to the "echo" replica on node "worker"',
    doc: 'Requests straight to a pod IP (port 80), no service involved.',
  },
  async function (this: HookpointWorld, pod: string, count: number, app: string, node: NodeRef) {
    const topo = await this.topology(true);
    const n = resolveNode(topo, node);
    const dst = topo.pods.find((p) => p.app === app && p.node === n.name);
    if (!dst)
      throw new UsageError(
        `No replica of "${app}" on node ${n.name}.`,
        `Declare one: Given an echo deployment "${app}" with a replica on node "${n.role}".`,
      );
    // The port the echo listens on: as a service backend it is known, else the echo default.
    const port = topo.services.flatMap((s) => s.endpoints).find((b) => b.pod === dst.name)?.port ?? 80;
    await observe(this, { from: { kind: 'pod', pod }, to: { ip: dst.ip, port }, count, via: 'pod-ip' });
  },
);
