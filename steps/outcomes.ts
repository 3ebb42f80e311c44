/** What the traffic did: all succeeded, all failed in a given way, answered by which backends. */

import { expectAllFail, expectAllSucceeded, expectAnsweredBy, trafficFigure } from '../support/expectations/traffic.ts';
import { requireWindow } from '../support/scenario/assertions.ts';
import { judge } from '../support/scenario/judged.ts';
import { resolveService } from '../support/scenario/resolve.ts';
import { defineStep } from '../support/scenario/vocabulary.ts';
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
    doc: 'Expected failure: "is refused", "times out" or any failure ("fails"); it counts only when the same client reached another echo pod in the window (else inconclusive).',
  },
  async function (this: HookpointWorld, how: 'refused' | 'timeout' | 'any') {
    const { traffic, control, controlMissing } = requireWindow(this);
    const cited = control ? [traffic, control] : [traffic];
    await judge(this, cited, () => expectAllFail(traffic, how, { reached: control, missing: controlMissing }), {
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
