/** Workloads: echo deployments pinned to nodes, ClusterIP/NodePort services, client pods. */
import { UsageError } from '../support/errors.ts';
import { ensureClient, ensureEcho, ensureService } from '../support/scenario/background-workloads.ts';
import type { NodeRef } from '../support/scenario/parameter-types.ts';
import { defineStep } from '../support/scenario/vocabulary.ts';
import type { HookpointWorld } from '../support/scenario/world.ts';

defineStep(
  'Given',
  'an echo deployment {deployment} with a replica on every node behind ClusterIP service {service} port {port}',
  {
    example: 'Given an echo deployment "echo" with a replica on every node behind ClusterIP service "echo" port 80',
    doc: 'Echo servers (they answer with their pod name and the client address they saw), one per node, behind a ClusterIP service.',
    workloads: (app: string, service: string, port: number) => [
      { kind: 'echo', name: app, nodes: 'every' },
      { kind: 'service', name: service, app, port, type: 'ClusterIP' },
    ],
  },
  async function (this: HookpointWorld, app: string, service: string, port: number) {
    await ensureEcho(this, app, 'every');
    await ensureService(this, { name: service, app, port, type: 'ClusterIP' });
  },
);

defineStep(
  'Given',
  'an echo deployment {deployment} with a replica on every node behind NodePort service {service} port {port} node port {port}',
  {
    example:
      'Given an echo deployment "echo" with a replica on every node behind NodePort service "echo" port 80 node port 30080',
    doc: 'As above, behind a NodePort service (which also has a ClusterIP).',
    workloads: (app: string, service: string, port: number, nodePort: number) => [
      { kind: 'echo', name: app, nodes: 'every' },
      { kind: 'service', name: service, app, port, type: 'NodePort', nodePort },
    ],
  },
  async function (this: HookpointWorld, app: string, service: string, port: number, nodePort: number) {
    if (nodePort < 30000 || nodePort > 32767)
      throw new UsageError(`Invalid node port ${nodePort}: Kubernetes' default NodePort range is 30000-32767.`);
    await ensureEcho(this, app, 'every');
    await ensureService(this, { name: service, app, port, type: 'NodePort', nodePort });
  },
);

defineStep(
  'Given',
  'an echo deployment {deployment} with a replica on node {node}',
  {
    example: 'Given an echo deployment "echo" with a replica on node "worker"',
    doc: 'One echo replica pinned to a node (by role or full name).',
    workloads: (app: string, node: NodeRef) => [{ kind: 'echo', name: app, nodes: [node] }],
  },
  async function (this: HookpointWorld, app: string, node: NodeRef) {
    await ensureEcho(this, app, [node]);
  },
);

defineStep(
  'Given',
  'a ClusterIP service {service} port {port} backed only by the replica of {deployment} on node {node}',
  {
    example:
      'Given a ClusterIP service "echo-local" port 80 backed only by the replica of "echo" on node "control-plane"',
    doc: 'A service whose only backend is on one node: same-node delivery is then deterministic, never left to random choice.',
    workloads: (service: string, port: number, app: string, node: NodeRef) => [
      { kind: 'echo', name: app, nodes: [node] },
      { kind: 'service', name: service, app, port, type: 'ClusterIP', onlyNodes: [node] },
    ],
  },
  async function (this: HookpointWorld, service: string, port: number, app: string, node: NodeRef) {
    await ensureEcho(this, app, [node]);
    await ensureService(this, { name: service, app, port, type: 'ClusterIP', onlyNodes: [node] });
  },
);

defineStep(
  'Given',
  'a client pod {pod} on node {node}',
  {
    example: 'Given a client pod "client" on node "control-plane"',
    doc: 'A pod that sends the traffic, pinned to a node.',
    workloads: (pod: string, node: NodeRef) => [{ kind: 'client', name: pod, node }],
  },
  async function (this: HookpointWorld, pod: string, node: NodeRef) {
    await ensureClient(this, pod, node);
  },
);

/** A service over every replica of an echo deployment, with its own target port (and protocol). */
async function serviceOverReplicas(
  world: HookpointWorld,
  spec: { name: string; app: string; port: number; targetPort: number; protocol: 'TCP' | 'UDP' } & (
    | { type: 'ClusterIP' }
    | { type: 'NodePort'; nodePort: number }
  ),
): Promise<void> {
  const topo = await world.topology(true);
  if (!topo.pods.some((p) => p.app === spec.app))
    throw new UsageError(
      `Service "${spec.name}" is backed by the replicas of "${spec.app}", but no echo deployment "${spec.app}" exists yet.`,
      `Declare it first: Given an echo deployment "${spec.app}" with a replica on node "worker".`,
    );
  await ensureService(world, spec);
}

defineStep(
  'Given',
  'a ClusterIP service {service} port {port} target port {port} backed by the replicas of {deployment}',
  {
    example: 'Given a ClusterIP service "web" port 8080 target port 80 backed by the replicas of "echo"',
    doc: "A TCP service whose port differs from the pods' port: the echo replicas answer on the target port.",
    workloads: (service: string, port: number, targetPort: number, app: string) => [
      { kind: 'service', name: service, app, port, targetPort, type: 'ClusterIP' },
    ],
  },
  async function (this: HookpointWorld, service: string, port: number, targetPort: number, app: string) {
    await serviceOverReplicas(this, { name: service, app, port, targetPort, protocol: 'TCP', type: 'ClusterIP' });
  },
);

defineStep(
  'Given',
  'a NodePort service {service} port {port} target port {port} node port {port} backed by the replicas of {deployment}',
  {
    example:
      'Given a NodePort service "web-np" port 8080 target port 80 node port 30081 backed by the replicas of "echo"',
    doc: 'As above, as a NodePort service (which also has a ClusterIP).',
    workloads: (service: string, port: number, targetPort: number, nodePort: number, app: string) => [
      { kind: 'service', name: service, app, port, targetPort, type: 'NodePort', nodePort },
    ],
  },
  async function (
    this: HookpointWorld,
    service: string,
    port: number,
    targetPort: number,
    nodePort: number,
    app: string,
  ) {
    if (nodePort < 30000 || nodePort > 32767)
      throw new UsageError(`Invalid node port ${nodePort}: Kubernetes' default NodePort range is 30000-32767.`);
    await serviceOverReplicas(this, {
      name: service,
      app,
      port,
      targetPort,
      protocol: 'TCP',
      type: 'NodePort',
      nodePort,
    });
  },
);

defineStep(
  'Given',
  'a ClusterIP UDP service {service} port {port} target port {port} backed by the replicas of {deployment}',
  {
    example: 'Given a ClusterIP UDP service "dns" port 53 target port 5353 backed by the replicas of "echo"',
    doc: 'A UDP service: the echo replicas answer every datagram on the target port with their pod name.',
    workloads: (service: string, port: number, targetPort: number, app: string) => [
      { kind: 'service', name: service, app, port, targetPort, protocol: 'UDP', type: 'ClusterIP' },
    ],
  },
  async function (this: HookpointWorld, service: string, port: number, targetPort: number, app: string) {
    await serviceOverReplicas(this, { name: service, app, port, targetPort, protocol: 'UDP', type: 'ClusterIP' });
  },
);
