/** iptables counter deltas of a service's kube-proxy rules over the last traffic window. */

import { MediaType } from '../support/evidence/index.ts';
import {
  type CounterVerdict,
  expectCountersFlat,
  expectCountersRise,
  type WhichCounters,
} from '../support/expectations/counters.ts';
import { requireWindow } from '../support/scenario/assertions.ts';
import type { CounterSet, NodeScope } from '../support/scenario/parameter-types.ts';
import { resolveNodes, resolveService } from '../support/scenario/resolve.ts';
import { defineStep } from '../support/scenario/vocabulary.ts';
import type { HookpointWorld } from '../support/scenario/world.ts';

const WHICH: Record<CounterSet, WhichCounters[]> = {
  'KUBE-SVC': ['svc'],
  'KUBE-SEP': ['sep'],
  'KUBE-SVC and KUBE-SEP': ['svc', 'sep'],
  NodePort: ['nodeport'],
};

async function counterWindow(world: HookpointWorld, service: string, scope: NodeScope) {
  const w = requireWindow(world);
  // The snapshots could not be read: broken (never passed), with the reason.
  if (w.countersError) throw w.countersError;
  const topo = await world.topology();
  const svc = resolveService(topo, service);
  const nodes = resolveNodes(topo, scope).map((n) => n.name);
  return {
    before: w.before,
    after: w.after,
    traffic: w.traffic,
    nodes,
    service: { namespace: svc.namespace, name: svc.name, portName: svc.portName },
  };
}

async function attachVerdict(world: HookpointWorld, service: string, verdict: () => CounterVerdict): Promise<void> {
  // A passing verdict attaches its delta table; a failing one carries the deltas in its message.
  const v = verdict();
  await world.evidence.attach('counter-delta', `service ${service}`, MediaType.text, v.text);
}

defineStep(
  'Then',
  'the {counters} counters of service {service} stay flat on {nodes}',
  {
    example: 'Then the KUBE-SVC and KUBE-SEP counters of service "echo" stay flat on every node',
    doc: "No packet counted by the service's kube-proxy rules (KUBE-SERVICES→KUBE-SVC jump, KUBE-SEP DNAT, NodePort jump) during the window; needs successful traffic as positive control.",
  },
  async function (this: HookpointWorld, set: CounterSet, service: string, scope: NodeScope) {
    const w = await counterWindow(this, service, scope);
    for (const which of WHICH[set]) await attachVerdict(this, service, () => expectCountersFlat({ ...w, which }));
  },
);

defineStep(
  'Then',
  'the {counters} counters of service {service} rise by at least {count} on {nodes}',
  {
    example: 'Then the KUBE-SEP counters of service "echo" rise by at least 6 on node "worker"',
    doc: "The service's rules counted at least N new connections on each node named (nat counters count the first packet of a connection).",
  },
  async function (this: HookpointWorld, set: CounterSet, service: string, atLeast: number, scope: NodeScope) {
    const w = await counterWindow(this, service, scope);
    for (const which of WHICH[set])
      await attachVerdict(this, service, () => expectCountersRise({ ...w, which, atLeast }));
  },
);
