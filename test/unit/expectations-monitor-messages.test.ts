/**
 * The overlay and policy verdicts over monitor output, word for word: message, expected/actual
 * pair, hint. Lines as Cilium prints them (`-> overlay`, `xx drop (Policy denied)`,
 * `Policy verdict log`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CitedEvidence } from '../../support/expectations/evidence-ref.ts';
import { expectPolicyDrop, expectPolicyVerdict, expectToOverlay } from '../../support/expectations/monitor.ts';
import { type MonitorEvent, parseMonitor } from '../../support/parsers/monitor.ts';
import { thrown } from './helpers/thrown.ts';

const CLIENT = '10.244.1.87';
const overlay = (sp: number) =>
  `-> overlay flow 0x1 , identity 41467->20391 state new ifindex cilium_vxlan orig-ip 0.0.0.0: ${CLIENT}:${sp} -> 10.244.0.132:80 tcp SYN`;
const stack = (sp: number, src = CLIENT) =>
  `-> stack flow 0x2 , identity 41467->20391 state new ifindex 0 orig-ip 0.0.0.0: ${src}:${sp} -> 10.244.0.132:80 tcp SYN`;
const toEndpoint = (sp: number) =>
  `-> endpoint 1573 flow 0x3 , identity 20391->41467 state reply ifindex lxc1 orig-ip 10.244.0.132: 10.244.0.132:80 -> ${CLIENT}:${sp} tcp SYN, ACK`;

function ev(lines: string[], attachment = '06-monitor-cp.txt'): CitedEvidence<MonitorEvent[]> {
  const text = `${lines.join('\n')}\n`;
  return {
    kind: 'monitor',
    where: 'node cp',
    commands: [],
    raw: text,
    data: parseMonitor(text).events,
    summary: 'm',
    attachment,
  };
}
const EV = ' (evidence 06-monitor-cp.txt)';
const HINT =
  'The monitor must be armed before the traffic and read until after it; rerun the command from the transcript by hand.';

test('overlay: the client traffic sent to the overlay is returned; otherwise the failure lists where it went', () => {
  assert.deepEqual(
    expectToOverlay(ev([stack(1), overlay(2), toEndpoint(2)]), CLIENT).map((e) => e.src?.port),
    [2],
  );
  const lines = [stack(1), stack(2), stack(3), stack(4), toEndpoint(9)];
  assert.deepEqual(
    thrown(() => expectToOverlay(ev(lines), CLIENT)),
    {
      kind: 'AssertionError',
      message: `Expected cilium monitor on node cp to show traffic from ${CLIENT} sent to the overlay (\`-> overlay … ifindex cilium_vxlan\`), but none of its 4 events from the client goes there: \`${lines[0]}\`, \`${lines[1]}\`, \`${lines[2]}\` … and 1 more${EV}.`,
      expected: '-> overlay',
      actual: ['to-stack'],
    },
  );
});

test('overlay: no trace at all, or none from the client, is inconclusive with its hint', () => {
  assert.deepEqual(
    thrown(() => expectToOverlay([], CLIENT)),
    {
      kind: 'inconclusive',
      message:
        'cilium monitor printed no trace event during the window (0 lines read), so it cannot show whether the traffic left through the overlay.',
      hint: HINT,
    },
  );
  assert.deepEqual(
    thrown(() => expectToOverlay(ev([stack(1, '10.244.1.99'), toEndpoint(1)]), CLIENT)),
    {
      kind: 'inconclusive',
      message: `cilium monitor on node cp saw no traffic from ${CLIENT} (2 trace events)${EV}, so it cannot show where that traffic left the node.`,
      hint: 'The monitor must run on the node of the client pod.',
    },
  );
});

const A = '10.244.0.10';
const B = '10.244.1.30';
const drop = (reason: string, ep: number, src = A, dst = B) =>
  `xx drop (${reason}) flow 0x9 to endpoint ${ep}, ifindex 5, file bpf_lxc.c:1215, identity 41467->20391: ${src}:40001 -> ${dst}:80 tcp SYN`;
const verdict = (action: string, src = A, dst = B) =>
  `Policy verdict log: flow 0x0 local EP ID 388, remote ID 41467, proto 6, ingress, action ${action}, match L3-Only, ${src}:40001 -> ${dst}:80 tcp SYN`;

test('policy drop: at the destination endpoint or at the source (endpoint 0); other reasons, flows, or none, named', () => {
  const claim = { srcIp: A, dstIp: B, dstEndpoint: 388 };
  assert.equal(expectPolicyDrop(ev([drop('Policy denied', 388)]), claim).endpoint, 388);
  assert.equal(expectPolicyDrop(ev([drop('Policy denied', 0)]), claim).endpoint, 0);
  assert.equal(expectPolicyDrop(ev([drop('Policy denied', 12)]), { srcIp: A, dstIp: B }).endpoint, 12);
  const wrong = [drop('Policy denied', 12), drop('Invalid source ip', 388)];
  assert.deepEqual(
    thrown(() => expectPolicyDrop(ev(wrong), claim)),
    {
      kind: 'AssertionError',
      message: `cilium monitor on node cp shows no policy denied drop from ${A} to ${B}; drops of that flow had other reasons or endpoints: \`${wrong[0]}\`, \`${wrong[1]}\`${EV}.`,
      expected: 'xx drop (Policy denied)',
      actual: wrong.join('\n'),
    },
  );
  const other = drop('Policy denied', 388, A, '10.244.1.31');
  assert.equal(
    thrown(() => expectPolicyDrop(ev([other]), claim)).message,
    `cilium monitor on node cp shows no policy denied drop from ${A} to ${B}; it dropped other flows: \`${other}\`${EV}.`,
  );
  const passed = stack(1, A).replace('10.244.0.132', B);
  assert.deepEqual(
    thrown(() => expectPolicyDrop(ev([passed]), claim)),
    {
      kind: 'AssertionError',
      message: `cilium monitor on node cp shows no policy denied drop from ${A} to ${B}; the flow passed instead: \`${passed}\`${EV}.`,
      expected: 'xx drop (Policy denied)',
      actual: 'none',
    },
  );
  assert.equal(
    thrown(() => expectPolicyDrop(ev([stack(1)]), claim)).message,
    `cilium monitor on node cp shows no policy denied drop from ${A} to ${B}; it printed no event of that flow at all${EV}.`,
  );
  assert.deepEqual(
    thrown(() => expectPolicyDrop([], claim)),
    {
      kind: 'inconclusive',
      message:
        'cilium monitor printed no trace, drop or policy verdict during the window (0 lines read), so it cannot show a policy drop.',
      hint: HINT,
    },
  );
});

test('policy verdict: the action of that flow; other actions or no verdict named', () => {
  const claim = { srcIp: A, dstIp: B };
  assert.equal(expectPolicyVerdict(ev([verdict('deny'), verdict('allow')]), claim, 'allow').verdict?.action, 'allow');
  const denied = [verdict('deny'), verdict('audit')];
  assert.deepEqual(
    thrown(() => expectPolicyVerdict(ev(denied), claim, 'allow')),
    {
      kind: 'AssertionError',
      message: `cilium monitor on node cp shows no policy verdict "allow" for ${A} -> ${B}; its verdicts were: \`${denied[0]}\`, \`${denied[1]}\`${EV}.`,
      expected: 'action allow',
      actual: denied.join('\n'),
    },
  );
  assert.deepEqual(
    thrown(() => expectPolicyVerdict(ev([verdict('allow', A, '10.244.1.31')]), claim, 'deny')),
    {
      kind: 'AssertionError',
      message: `cilium monitor on node cp shows no policy verdict "deny" for ${A} -> ${B}; it logged no verdict for that flow${EV}.`,
      expected: 'action deny',
      actual: 'none',
    },
  );
  assert.equal(thrown(() => expectPolicyVerdict(ev(['level=info msg="x"']), claim, 'deny')).kind, 'inconclusive');
});
