/** What the traffic did: all succeeded, all failed in a given way, answered by which backends. */

import { UsageError } from '../support/errors.ts';
import {
  expectAllFail,
  expectAllSucceeded,
  expectAnsweredBy,
  expectDifferentBackends,
  tooFewRequests,
  trafficFigure,
} from '../support/expectations/traffic.ts';
import { requireWindow } from '../support/scenario/assertions.ts';
import { declaredBackendCount } from '../support/scenario/background-workloads.ts';
import { judge } from '../support/scenario/judged.ts';
import type { NodeRef } from '../support/scenario/parameter-types.ts';
import { resolveNode, resolveService } from '../support/scenario/resolve.ts';
import { defineStep, type ScenarioPlan } from '../support/scenario/vocabulary.ts';
import { whereStopped } from '../support/scenario/window.ts';
import type { HookpointWorld } from '../support/scenario/world.ts';

defineStep(
  'Then',
  'all {count} request(s) succeed',
  { example: 'Then all 10 requests succeed', doc: 'Every request of the last traffic step got an HTTP answer.' },
  async function (this: HookpointWorld, n: number) {
    const { traffic } = requireWindow(this);
    await judge(this, [traffic], () => expectAllSucceeded(traffic, n), {
      point: 'backend veth',
      figure: () => trafficFigure(traffic),
    });
  },
);

defineStep(
  'Then',
  'every request {failure}',
  {
    example: 'Then every request fails',
    doc: 'Expected failure: "is refused", "times out" or any failure ("fails"); it counts only when the same client reached another echo pod in the window, or a monitor the scenario reads shows where its packets were dropped (else inconclusive).',
  },
  async function (this: HookpointWorld, how: 'refused' | 'timeout' | 'any') {
    const w = requireWindow(this);
    const { traffic, control, controlMissing } = w;
    const stopped = whereStopped(w);
    const cited = [traffic, control, stopped?.evidence].filter((e) => e !== undefined);
    const positive = { reached: control, missing: controlMissing, stoppedAt: stopped?.text };
    await judge(this, cited, () => expectAllFail(traffic, how, positive), {
      point: 'backend veth',
      figure: () => trafficFigure(traffic),
    });
  },
);

defineStep(
  'Then',
  'every request is answered by a backend of service {service}',
  {
    example: 'Then every request is answered by a backend of service "echo"',
    doc: 'Each answer names an echo pod behind the service.',
  },
  async function (this: HookpointWorld, service: string) {
    const svc = resolveService(await this.topology(), service);
    const { traffic } = requireWindow(this);
    const pods = svc.endpoints.map((b) => b.pod);
    await judge(this, [traffic], () => expectAnsweredBy(traffic, pods), {
      point: 'backend veth',
      figure: () => trafficFigure(traffic),
    });
  },
);

defineStep(
  'Then',
  'every request is answered by the {deployment} replica on node {node}',
  {
    example: 'Then every request is answered by the "echo" replica on node "worker"',
    doc: 'Every request of the last traffic step succeeded and each answer came from that one pod (HTTP and UDP answers name it; ICMP replies by their source address).',
  },
  async function (this: HookpointWorld, app: string, node: NodeRef) {
    const topo = await this.topology();
    const n = resolveNode(topo, node);
    const replica = topo.pods.find((p) => p.app === app && p.node === n.name);
    if (!replica)
      throw new UsageError(
        `No replica of "${app}" on node ${n.name}.`,
        `Declare one: Given an echo deployment "${app}" with a replica on node "${n.role}".`,
      );
    const { traffic } = requireWindow(this);
    await judge(this, [traffic], () => expectAnsweredBy(traffic, [replica.name], { allSucceed: true }), {
      point: 'backend veth',
      figure: () => trafficFigure(traffic),
    });
  },
);

defineStep(
  'Then',
  'the requests are answered by at least {count} different backends of service {service}',
  {
    example: 'Then the requests are answered by at least 2 different backends of service "echo"',
    doc: 'Load balancing: every request answered, by at least that many different backends. Refused before provisioning (exit 2) when so few requests would fail a perfectly balanced service more often than 1 in 10,000 (2 backends: at least 15 requests).',
    refuse: (atLeast: number, service: string, plan: ScenarioPlan) => {
      const backends = declaredBackendCount(plan, service) ?? atLeast;
      if (!plan.lastTraffic) return undefined;
      return tooFewRequests(plan.lastTraffic.count, backends, atLeast);
    },
  },
  async function (this: HookpointWorld, atLeast: number, service: string) {
    const svc = resolveService(await this.topology(), service);
    const { traffic, spec } = requireWindow(this);
    const pods = svc.endpoints.map((b) => b.pod);
    const why = tooFewRequests(spec.count, pods.length, atLeast);
    if (why)
      throw new UsageError(`Cannot judge "at least ${atLeast} different backends of service ${service}": ${why}.`);
    await judge(this, [traffic], () => expectDifferentBackends(traffic, pods, atLeast), {
      point: 'backend veth',
      figure: () => trafficFigure(traffic),
    });
  },
);
