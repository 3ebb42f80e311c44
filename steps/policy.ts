/** Network policy: policies from manifests, pods in namespaces with labels, the reachability matrix, drops and verdicts. */

import type { DataTable } from '@cucumber/cucumber';
import { UsageError } from '../support/errors.ts';
import { expectPolicyDrop, expectPolicyVerdict } from '../support/expectations/monitor.ts';
import { expectReachability } from '../support/expectations/reachability.ts';
import { parsePolicyManifest } from '../support/policy/manifest.ts';
import { ensureClient } from '../support/scenario/background-workloads.ts';
import { judge } from '../support/scenario/judged.ts';
import type { NodeRef } from '../support/scenario/parameter-types.ts';
import { policyEvents, replicaOf } from '../support/scenario/policy.ts';
import { probeMatrix } from '../support/scenario/reachability.ts';
import { resolvePod } from '../support/scenario/resolve.ts';
import { defineStep } from '../support/scenario/vocabulary.ts';
import type { HookpointWorld } from '../support/scenario/world.ts';

defineStep(
  'When',
  'the network policy is applied:',
  {
    example:
      'When the network policy is applied:\n  """\n  apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n  metadata: {name: deny-all}\n  spec: {podSelector: {}, policyTypes: [Ingress]}\n  """',
    doc: 'Apply a NetworkPolicy or CiliumNetworkPolicy (the YAML doc string) and wait until every node enforces it; it is removed when the scenario ends.',
    checkDocString: (text, backend) => {
      const refused = backend.refusesPolicy(parsePolicyManifest(text));
      if (refused) throw refused;
    },
  },
  async function (this: HookpointWorld, manifest: string) {
    const policy = parsePolicyManifest(manifest);
    await this.backend.applyNetworkPolicy(policy);
    this.policies.push(policy);
  },
);

/** `app=intruder,tier=web` → labels. */
function labelsOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^([A-Za-z0-9][-A-Za-z0-9_./]*)=([-A-Za-z0-9_.]*)$/.exec(part);
    if (!m)
      throw new UsageError(
        `The label "${part}" is not key=value with a Kubernetes label key and value.`,
        'Write labels as "app=intruder" or "app=web,tier=front".',
      );
    out[m[1]!] = m[2]!;
  }
  return out;
}

defineStep(
  'Given',
  'a client pod {pod} in namespace {string} on node {node} with labels {string}',
  {
    example: 'Given a client pod "intruder" in namespace "other" on node "worker" with labels "app=intruder"',
    doc: 'A client pod in a namespace, with the labels policies select it by.',
    workloads: (pod: string, namespace: string, node: NodeRef, labels: string) => [
      { kind: 'client', name: pod, node, namespace, labels: labelsOf(labels) },
    ],
  },
  async function (this: HookpointWorld, pod: string, namespace: string, node: NodeRef, labels: string) {
    await ensureClient(this, pod, node, { namespace, labels: labelsOf(labels) });
  },
);

defineStep(
  'Then',
  'the reachability on port {port}\\/{word} is:',
  {
    example:
      'Then the reachability on port 80/TCP is:\n  |        | "echo" replica on node "worker" |\n  | client | ✓                               |\n  | intruder | ✗                             |',
    doc: "Every source (first column) tries every destination (first row) in one window; ✓ reaches, ✗ does not. A failure shows both matrices and each wrong cell's evidence.",
    timeoutMs: 180_000,
  },
  async function (this: HookpointWorld, port: number, protocol: string, table: DataTable) {
    if (protocol !== 'TCP')
      throw new UsageError(`The reachability matrix sends HTTP requests, so the protocol is TCP, not "${protocol}".`);
    const { cells, monitors } = await probeMatrix(this, table.raw(), port);
    await judge(this, [], () => expectReachability(cells, monitors, `port ${port}/${protocol}`), {
      point: 'backend veth',
    });
  },
);

defineStep(
  'Then',
  'cilium monitor on node {node} shows a policy denied drop from pod {pod} to the replica of {deployment} on node {node}',
  {
    example:
      'Then cilium monitor on node "worker" shows a policy denied drop from pod "intruder" to the replica of "echo" on node "worker"',
    doc: "The node's monitor printed `xx drop (Policy denied)` for a packet of that pod to that replica.",
    arms: (node: NodeRef) => ({ monitors: [node] }),
  },
  async function (this: HookpointWorld, node: NodeRef, pod: string, app: string, replicaNode: NodeRef) {
    const topo = await this.topology();
    const src = resolvePod(topo, pod);
    const dst = replicaOf(topo, app, replicaNode);
    const events = policyEvents(this, topo, node);
    await judge(
      this,
      [events],
      () => expectPolicyDrop(events, { srcIp: src.ip, dstIp: dst.ip, dstEndpoint: dst.endpointId }),
      { point: 'backend veth' },
    );
  },
);

defineStep(
  'Then',
  'cilium monitor on node {node} shows a policy verdict {word} from pod {pod} to the replica of {deployment} on node {node}',
  {
    example:
      'Then cilium monitor on node "worker" shows a policy verdict deny from pod "intruder" to the replica of "echo" on node "worker"',
    doc: "The node's monitor printed `Policy verdict log: … action allow|deny` for that connection.",
    arms: (node: NodeRef) => ({ monitors: [node] }),
  },
  async function (this: HookpointWorld, node: NodeRef, action: string, pod: string, app: string, replicaNode: NodeRef) {
    if (action !== 'allow' && action !== 'deny')
      throw new UsageError(`A policy verdict is "allow" or "deny", not "${action}".`);
    const topo = await this.topology();
    const src = resolvePod(topo, pod);
    const dst = replicaOf(topo, app, replicaNode);
    const events = policyEvents(this, topo, node);
    await judge(this, [events], () => expectPolicyVerdict(events, { srcIp: src.ip, dstIp: dst.ip }, action), {
      point: 'backend veth',
    });
  },
);
