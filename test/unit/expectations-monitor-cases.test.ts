/**
 * Monitor verdicts case by case, on lines of the shape the lab's agent and Cilium print: which
 * events make a connection (all four of its addresses and ports), which replies are a reverse
 * NAT of this service, which forward events are cited, and the paragraphs a person reads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CitedEvidence } from '../../support/expectations/evidence-ref.ts';
import { expectNoTranslation, expectSameNodeDelivery, expectTranslation } from '../../support/expectations/monitor.ts';
import { type MonitorEvent, parseMonitor } from '../../support/parsers/monitor.ts';
import { thrown } from './helpers/thrown.ts';

const CLAIM = {
  endpoint: 1573,
  clientIp: '10.244.0.10',
  clusterIP: '10.96.94.95',
  port: 80,
  backends: ['10.244.0.20', '10.244.1.30'],
};
const LOCAL = [{ ip: '10.244.0.20', endpoint: 2103 }];
const EV = ' (evidence 06-monitor-cp.txt)';

const stack = (sp: number, dst: string, dp = 80) =>
  `-> stack flow 0x1 , identity 41467->20391 state new ifindex 0 orig-ip 0.0.0.0: 10.244.0.10:${sp} -> ${dst}:${dp} tcp SYN`;
const deliver = (sp: number, dst: string) =>
  `-> endpoint 2103 flow 0x2 , identity 41467->20391 state new ifindex lxc2420d7527a95 orig-ip 10.244.0.10: 10.244.0.10:${sp} -> ${dst}:80 tcp SYN`;
const reply = (cp: number, orig: string, to = '10.244.0.10') =>
  `-> endpoint 1573 flow 0x3 , identity 20391->41467 state reply ifindex lxcd2a04d71301a orig-ip ${orig}: 10.96.94.95:80 -> ${to}:${cp} tcp SYN, ACK`;

function ev(...lines: string[]): CitedEvidence<MonitorEvent[]> {
  const text = `${lines.join('\n')}\n`;
  const data = parseMonitor(text).events;
  assert.deepEqual(
    data.filter((e) => e.type !== 'trace' && e.type !== 'info').map((e) => e.raw),
    [],
    'test input must be lines real Cilium and the lab print',
  );
  return {
    kind: 'monitor',
    where: 'node cp',
    commands: [],
    raw: text,
    data,
    summary: 'm',
    attachment: '06-monitor-cp.txt',
  };
}

const q = (line: string) => `\`${line}\``;

test('same-node delivery: a -> stack event of another connection (source port, destination, port) does not count', () => {
  for (const other of [stack(40009, '10.244.0.20'), stack(40003, '10.244.0.20', 8080), stack(40003, '10.244.1.30')]) {
    const proof = expectSameNodeDelivery(ev(other, deliver(40003, '10.244.0.20')), {
      clientIp: CLAIM.clientIp,
      backends: LOCAL,
    });
    assert.deepEqual(
      proof.map((e) => e.raw),
      [deliver(40003, '10.244.0.20')],
      other,
    );
  }
});

test('same-node delivery: the failure cites every delivery and every -> stack event of those connections', () => {
  const s3 = stack(40003, '10.244.0.20');
  const s4 = stack(40004, '10.244.0.20');
  assert.deepEqual(
    thrown(() =>
      expectSameNodeDelivery(
        ev(s3, deliver(40003, '10.244.0.20'), deliver(40004, '10.244.0.20'), s4, stack(40005, '10.244.1.30')),
        {
          clientIp: CLAIM.clientIp,
          backends: LOCAL,
        },
      ),
    ),
    {
      kind: 'AssertionError',
      message: `Expected cilium monitor on node cp to show traffic from 10.244.0.10 delivered to the endpoint of 10.244.0.20 without passing through the stack, but every delivery of it (${q(deliver(40003, '10.244.0.20'))}, ${q(deliver(40004, '10.244.0.20'))}) follows a \`-> stack\` event of the same connection (${q(s3)}, ${q(s4)}): it went through the node's stack${EV}.`,
      expected: 'no -> stack event before the -> endpoint delivery',
      actual: '2 -> stack events',
    },
  );
  const four = [40003, 40004, 40005, 40006].map((p) => stack(p, '10.244.1.30'));
  assert.deepEqual(
    thrown(() =>
      expectSameNodeDelivery(ev(...four), {
        clientIp: CLAIM.clientIp,
        backends: [{ ip: '10.244.0.20' }, { ip: '10.244.0.21' }],
      }),
    ),
    {
      kind: 'AssertionError',
      message: `Expected cilium monitor on node cp to show traffic from 10.244.0.10 delivered to the endpoint of a backend (10.244.0.20, 10.244.0.21) without passing through the stack, but no \`-> endpoint\` event delivers the client's traffic to a backend (10.244.0.20, 10.244.0.21) (events of the client: ${four.slice(0, 3).map(q).join(', ')} … and 1 more)${EV}.`,
      expected: 'a -> endpoint event to a backend',
      actual: '4 other client events',
    },
  );
  assert.deepEqual(
    thrown(() =>
      expectSameNodeDelivery(ev(reply(40001, '10.244.1.30', '10.244.0.99')), {
        clientIp: CLAIM.clientIp,
        backends: LOCAL,
      }),
    ),
    {
      kind: 'AssertionError',
      message: `Expected cilium monitor on node cp to show traffic from 10.244.0.10 delivered to the endpoint of 10.244.0.20 without passing through the stack, but no \`-> endpoint\` event delivers the client's traffic to 10.244.0.20 (none of its 1 trace event comes from 10.244.0.10)${EV}.`,
      expected: 'a -> endpoint event to a backend',
      actual: 'no event',
    },
  );
});

test('translation: only the forward events of the reverse-NATed connection are cited with the reply', () => {
  const proof = expectTranslation(
    ev(
      stack(40001, '10.244.1.30'),
      stack(40002, '10.244.1.30'),
      stack(40001, '10.96.94.95'),
      reply(40001, '10.244.1.30'),
    ),
    CLAIM,
  );
  assert.deepEqual(
    proof.map((e) => e.raw),
    [stack(40001, '10.244.1.30'), reply(40001, '10.244.1.30')],
  );
  // A reply without ports (ICMP) still counts.
  const icmp =
    '-> endpoint 1573 flow 0x3 , identity 20391->41467 state reply ifindex lxcd2a04d71301a orig-ip 10.244.1.30: 10.96.94.95 -> 10.244.0.10 icmp EchoReply';
  assert.equal(expectTranslation(ev(icmp), CLAIM).length, 1);
});

test('translation: a reply at -> stack, to another client, or with orig-ip 0.0.0.0 is no reverse NAT of the client', () => {
  const expected = '10.244.0.10 (endpoint 1573) → 10.96.94.95:80 translated to a backend (10.244.0.20, 10.244.1.30)';
  const atStack = reply(40001, '10.244.1.30').replace('-> endpoint 1573', '-> stack');
  assert.deepEqual(
    thrown(() => expectTranslation(ev(atStack), CLAIM)),
    {
      kind: 'AssertionError',
      message: `Expected cilium monitor on node cp to show ${expected}, but no reply to the client is reverse-NATed from 10.96.94.95; events of the client: ${q(atStack)}${EV}.`,
      expected,
      actual: '1 client events, 0 reverse-NATed replies from a backend',
    },
  );
  assert.deepEqual(
    thrown(() => expectTranslation(ev(reply(40001, '10.244.1.30', '10.244.0.99')), CLAIM)),
    {
      kind: 'AssertionError',
      message: `Expected cilium monitor on node cp to show ${expected}, but none of its 1 trace event comes from or goes to 10.244.0.10 (endpoint 1573)${EV}.`,
      expected,
      actual: '0 client events, 0 reverse-NATed replies from a backend',
    },
  );
  assert.match(
    thrown(() => expectTranslation(ev(reply(40001, '0.0.0.0')), CLAIM)).message,
    /no reply to the client is reverse-NATed from 10\.96\.94\.95; events of the client: `-> endpoint 1573 .*orig-ip 0\.0\.0\.0:/,
  );
  assert.match(
    thrown(() => expectTranslation(ev(stack(40001, '10.244.1.30')), CLAIM)).message,
    /; events of the client: `-> stack flow 0x1 /,
  );
});

test('translation: replies reverse-NATed from addresses that are no backend are listed once each', () => {
  const replies = [
    reply(40001, '10.9.9.1'),
    reply(40002, '10.9.9.2'),
    reply(40003, '10.9.9.1'),
    reply(40004, '10.9.9.3'),
  ];
  assert.deepEqual(
    thrown(() => expectTranslation(ev(...replies), { ...CLAIM, endpoint: null })),
    {
      kind: 'AssertionError',
      message: `cilium monitor on node cp shows replies to 10.244.0.10 reverse-NATed from 10.96.94.95:80 whose orig-ip is 10.9.9.1, 10.9.9.2, 10.9.9.3, which is not a backend (10.244.0.20, 10.244.1.30): ${replies.slice(0, 3).map(q).join(', ')} … and 1 more${EV}.`,
      expected: ['10.244.0.20', '10.244.1.30'],
      actual: ['10.9.9.1', '10.9.9.2', '10.9.9.3'],
    },
  );
});

test('no translation: the failure and the two inconclusive cases, word for word', () => {
  assert.deepEqual(
    thrown(() => expectNoTranslation(ev(stack(40001, '10.244.1.30'), reply(40001, '10.244.1.30')), CLAIM)),
    {
      kind: 'AssertionError',
      message: `Expected no translation of 10.244.0.10 → 10.96.94.95:80, but cilium monitor on node cp shows 1 reply reverse-NATed from the ClusterIP (orig-ip 10.244.1.30): ${q(reply(40001, '10.244.1.30'))}${EV}.`,
      expected: 0,
      actual: 1,
    },
  );
  assert.deepEqual(
    thrown(() => expectNoTranslation(ev(reply(40001, '10.244.1.30', '10.244.0.99')), CLAIM)),
    {
      kind: 'inconclusive',
      message: `cilium monitor on node cp saw none of the traffic of 10.244.0.10 (1 trace event, none from or to the client)${EV}, so the absence of a translation proves nothing.`,
      hint: 'A "no translation" verdict needs the monitor to see the client traffic in the same window.',
    },
  );
  assert.deepEqual(
    thrown(() => expectNoTranslation(ev('Listening for events on 2 CPUs with 64x4096 of shared memory'), CLAIM)),
    {
      kind: 'inconclusive',
      message: `cilium monitor on node cp printed no trace event during the window (1 line read)${EV}, so it cannot show whether traffic was translated.`,
      hint: 'The monitor must be armed before the traffic and read until after it; rerun the command from the transcript by hand.',
    },
  );
  // The client seen only as a destination is still "seen".
  expectNoTranslation(ev(reply(40001, '10.96.94.95')), CLAIM);
});
