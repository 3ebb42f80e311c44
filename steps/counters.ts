/** iptables counter deltas of a service's kube-proxy rules over the last traffic window. */

import {
  type CounterVerdict,
  counterFigure,
  expectCountersFlat,
  expectCountersRise,
  type WhichCounters,
} from '../support/expectations/counters.ts';
import { requireWindow } from '../support/scenario/assertions.ts';
import { judge } from '../support/scenario/judged.ts';
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

/** The counter table and its key figure go on the step, with the snapshots and traffic it judged. */
async function judgeCounters(
  world: HookpointWorld,
  w: Awaited<ReturnType<typeof counterWindow>>,
  verdict: () => CounterVerdict,
): Promise<void> {
  const snapshots = w.nodes.flatMap((n) => [w.before.get(n), w.after.get(n)]);
  await judge(world, [...snapshots, w.traffic], verdict, {
    point: 'iptables nat',
    figure: (v) => counterFigure(v.rows),
    details: (v) => v.text,
  });
}

defineStep(
  'Then',
  'the {counters} counters of service {service} stay flat on {nodes}',
  {
    example: 'Then the KUBE-SVC and KUBE-SEP counters of service "echo" stay flat on every node',
    doc: "No packet counted by the service's kube-proxy rules (KUBE-SERVICES→KUBE-SVC jump, KUBE-SEP DNAT, NodePort jump) during the window; needs successful traffic as positive control.",
    arms: () => ({ counters: true }),
  },
  async function (this: HookpointWorld, set: CounterSet, service: string, scope: NodeScope) {
    const w = await counterWindow(this, service, scope);
    for (const which of WHICH[set]) await judgeCounters(this, w, () => expectCountersFlat({ ...w, which }));
  },
);

defineStep(
  'Then',
  'the {counters} counters of service {service} rise by at least {count} on {nodes}',
  {
    example: 'Then the KUBE-SEP counters of service "echo" rise by at least 6 on node "worker"',
    doc: "The service's rules counted at least N new connections on each node named (nat counters count the first packet of a connection).",
    arms: () => ({ counters: true }),
  },
  async function (this: HookpointWorld, set: CounterSet, service: string, atLeast: number, scope: NodeScope) {
    const w = await counterWindow(this, service, scope);
    for (const which of WHICH[set]) await judgeCounters(this, w, () => expectCountersRise({ ...w, which, atLeast }));
  },
);
