/** What the policy evidence steps read: a replica by deployment and node, a node's monitor events of the scenario. */
import type { PodInfo, Topology } from '../backends/types.ts';
import { InconclusiveError, UsageError } from '../errors.ts';
import type { CitedEvidence } from '../expectations/evidence-ref.ts';
import type { MonitorEvent } from '../parsers/index.ts';
import type { NodeRef } from './parameter-types.ts';
import { resolveNode } from './resolve.ts';
import type { HookpointWorld } from './world.ts';

export function replicaOf(topo: Topology, app: string, node: NodeRef): PodInfo {
  const n = resolveNode(topo, node);
  const pod = topo.pods.find((p) => p.app === app && p.node === n.name);
  if (!pod)
    throw new UsageError(
      `No replica of "${app}" on node ${n.name}.`,
      `Declare one: Given an echo deployment "${app}" with a replica on node "${n.role}".`,
    );
  return pod;
}

/** The node's monitor events of the last traffic window, else of the reachability matrix's window. */
export function policyEvents(world: HookpointWorld, topo: Topology, node: NodeRef): CitedEvidence<MonitorEvent[]> {
  const name = resolveNode(topo, node).name;
  const fromWindow = world.window?.monitors.get(name);
  if (fromWindow) return fromWindow;
  const fromMatrix = world.reachability?.evidence.get(name);
  if (fromMatrix) return fromMatrix;
  throw new InconclusiveError(
    `Inconclusive: no monitor ran on node ${name} during a traffic window of this scenario.`,
    {
      hint: 'Send traffic with a When step (the step arms the monitor) or check the reachability matrix first.',
    },
  );
}
