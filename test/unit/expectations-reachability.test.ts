/**
 * The policy reachability matrix (support/expectations/reachability.ts), judged on exact text:
 * both matrices side by side, which cells are marked, and the one-paragraph evidence of each
 * wrong cell — the drop that stopped a connection that should pass, or the answer and the
 * delivery trace of one that should have been dropped — matched to the cell's own connection
 * (its addresses, its source ports, the event's kind).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssertionError } from 'chai';
import { InconclusiveError } from '../../support/errors.ts';
import {
  cellEvidence,
  expectReachability,
  type NodeEvents,
  type ReachCell,
  reached,
  renderMatrices,
} from '../../support/expectations/reachability.ts';
import { parseMonitorLine } from '../../support/parsers/monitor.ts';
import type { RequestOutcome } from '../../support/probes/traffic.ts';

function outcome(seq: number, ok: boolean, port: number | null): RequestOutcome {
  return {
    seq,
    ok,
    httpStatus: ok ? 200 : null,
    answeredBy: ok ? 'echo-b' : null,
    clientSeen: ok ? `10.0.0.1:${port}` : null,
    error: ok ? null : 'timeout',
    detail: ok ? 'pod=echo-b' : 'Connection timed out',
    localPort: port,
    exitCode: ok ? 0 : 28,
  };
}

const cell = (over: Partial<ReachCell> & Pick<ReachCell, 'source' | 'destination' | 'expected'>): ReachCell => ({
  from: '10.0.0.1',
  to: ['10.0.1.2'],
  outcomes: [outcome(1, over.expected, 41000)],
  ...over,
});

const drop = (flow: string, tuple: string) =>
  parseMonitorLine(
    `xx drop (Policy denied) flow ${flow} to endpoint 7, ifindex 5, file bpf_lxc.c:979, , identity 400->300: ${tuple} tcp SYN`,
  );
const delivery = (flow: string, tuple: string) =>
  parseMonitorLine(
    `-> endpoint 7 flow ${flow} , identity 400->300 state new ifindex lxc1 orig-ip 10.0.0.1: ${tuple} tcp SYN`,
  );
const on = (node: string, attachment: string, ...events: ReturnType<typeof parseMonitorLine>[]): NodeEvents => ({
  node,
  attachment,
  events,
});

describe('reached', () => {
  it('a cell without requests is unknown; one answered request of several is reached', () => {
    assert.equal(reached(cell({ source: 'a', destination: 'b', expected: true, outcomes: [] })), null);
    assert.equal(
      reached(
        cell({ source: 'a', destination: 'b', expected: true, outcomes: [outcome(1, false, 1), outcome(2, true, 2)] }),
      ),
      true,
    );
    assert.equal(
      reached(cell({ source: 'a', destination: 'b', expected: true, outcomes: [outcome(1, false, 1)] })),
      false,
    );
  });
});

describe('renderMatrices', () => {
  it('expected and observed side by side, columns as wide as their widest cell, wrong cells marked `!`', () => {
    const cells = [
      cell({ source: 'client', destination: 'A', expected: true }),
      cell({ source: 'client', destination: 'backend-long', expected: false }),
      cell({ source: 'intruder', destination: 'A', expected: true, outcomes: [outcome(1, false, 1)] }),
      cell({ source: 'intruder', destination: 'backend-long', expected: false, outcomes: [] }),
    ];
    assert.equal(
      renderMatrices(cells),
      [
        'expected                          observed',
        '|          | A | backend-long |   |          | A  | backend-long |',
        '| client   | ✓ | ✗            |   | client   | ✓  | ✗            |',
        '| intruder | ✓ | ✗            |   | intruder | ✗! | ?            |',
      ].join('\n'),
    );
  });

  it('a pair with no cell is blank in both; a reached cell that should not be is `✓!`', () => {
    const cells = [
      cell({ source: 's1', destination: 'd1', expected: false, outcomes: [outcome(1, true, 1)] }),
      cell({ source: 's2', destination: 'd2', expected: true }),
    ];
    assert.equal(
      renderMatrices(cells),
      [
        'expected           observed',
        '|    | d1 | d2 |   |    | d1 | d2 |',
        '| s1 | ✗  |    |   | s1 | ✓! |    |',
        '| s2 |    | ✓  |   | s2 |    | ✓  |',
      ].join('\n'),
    );
  });
});

describe('cellEvidence: a connection that should pass was not answered', () => {
  const wrong = cell({
    source: 'intruder',
    destination: 'A',
    expected: true,
    from: '10.0.0.9',
    to: ['10.96.0.20', '10.0.1.1'],
    outcomes: [outcome(1, false, 1003), outcome(2, false, 1005)],
  });

  it('names the first drop of its own connection, where it happened, and how many more', () => {
    const mine = drop('0x1', '10.0.0.9:1003 -> 10.0.1.1:80');
    const again = drop('0x5', '10.0.0.9:1005 -> 10.0.1.1:80');
    assert.equal(
      cellEvidence(wrong, [
        on('control-plane', '05-monitor-cp.txt'),
        on('worker', '06-monitor-worker.txt', mine, again),
      ]),
      'intruder → A: expected ✓, observed ✗. Dropped on node worker: "xx drop (Policy denied) flow 0x1 to endpoint 7, ifindex 5, file bpf_lxc.c:979, , identity 400->300: 10.0.0.9:1003 -> 10.0.1.1:80 tcp SYN" (Policy denied, to endpoint 7, ifindex 5, file bpf_lxc.c:979; 06-monitor-worker.txt) and 1 more drop(s). request 1 timeout (Connection timed out); request 2 timeout (Connection timed out).',
    );
  });

  it('ignores drops of other connections: another source, another destination, another port, a trace; says none was seen where', () => {
    const others = on(
      'worker',
      '06-monitor-worker.txt',
      drop('0x2', '10.0.0.8:1003 -> 10.0.1.1:80'),
      drop('0x3', '10.0.0.9:1003 -> 10.0.1.2:80'),
      drop('0x4', '10.0.0.9:2000 -> 10.0.1.1:80'),
      delivery('0x6', '10.0.0.9:1003 -> 10.0.1.1:80'),
    );
    assert.equal(
      cellEvidence(wrong, [on('control-plane', '05-monitor-cp.txt'), others]),
      "intruder → A: expected ✓, observed ✗. request 1 timeout (Connection timed out); request 2 timeout (Connection timed out); no drop event from 10.0.0.9 to 10.96.0.20 or 10.0.1.1 on any node's monitor (05-monitor-cp.txt, 06-monitor-worker.txt).",
    );
  });

  it('a drop of the service address counts; without known source ports any port does; a drop without ports does', () => {
    const toVip = drop('0x7', '10.0.0.9:4444 -> 10.96.0.20:80');
    const noPorts = { ...wrong, outcomes: [{ ...outcome(1, false, null), error: null }] };
    assert.match(cellEvidence(noPorts, [on('w', 'm.txt', toVip)]), /Dropped on node w: "xx drop .*flow 0x7/);
    assert.match(cellEvidence(noPorts, [on('w', 'm.txt', toVip)]), /\. request 1 failed \(Connection timed out\)\.$/);
    const portless = parseMonitorLine(
      'xx drop (Policy denied) flow 0x8 to endpoint 7, ifindex 5, file bpf_lxc.c:979, , identity 400->300: 10.0.0.9 -> 10.0.1.1 EchoRequest',
    );
    assert.match(cellEvidence(wrong, [on('w', 'm.txt', portless)]), /flow 0x8/);
  });

  it('a drop cut before its tuple is no drop of this connection', () => {
    const cut = parseMonitorLine('xx drop (Policy denied) flow 0x1 to endpoint 7, ifindex 5, file bpf_lxc.c:979');
    assert.match(cellEvidence(wrong, [on('w', 'm.txt', cut)]), /; no drop event from 10\.0\.0\.9 to /);
  });

  it('a drop missing endpoint, ifindex or file is cited with what it has', () => {
    const bare = {
      ...drop('0x9', '10.0.0.9:1003 -> 10.0.1.1:80'),
      endpoint: null,
      ifindex: null,
      file: null,
      message: null,
    };
    assert.match(
      cellEvidence(wrong, [on('w', 'm.txt', bare)]),
      /\(drop, to endpoint 0, ifindex \?, file \?; m\.txt\)\. request 1/,
    );
  });
});

describe('cellEvidence: a connection that should have been dropped was answered', () => {
  const wrong = cell({
    source: 'client',
    destination: 'B',
    expected: false,
    outcomes: [outcome(1, false, 1001), outcome(2, true, 1002)],
  });

  it('names the answered request and the trace that saw its packet delivered to the endpoint', () => {
    const toStack = parseMonitorLine(
      '-> stack flow 0x2 , identity 400->300 state new ifindex 0 orig-ip 0.0.0.0: 10.0.0.1:1002 -> 10.0.1.2:80 tcp SYN',
    );
    const delivered = delivery('0x3', '10.0.0.1:1002 -> 10.0.1.2:80');
    assert.equal(
      cellEvidence(wrong, [on('cp', 'a.txt', toStack), on('worker', 'b.txt', delivered)]),
      'client → B: expected ✗, observed ✓. The packet that should have been dropped was delivered: request 2 from port 1002 was answered by echo-b (client seen 10.0.0.1:1002); node worker\'s monitor saw it delivered: "-> endpoint 7 flow 0x3 , identity 400->300 state new ifindex lxc1 orig-ip 10.0.0.1: 10.0.0.1:1002 -> 10.0.1.2:80 tcp SYN" (10.0.0.1:1002 -> 10.0.1.2:80; b.txt).',
    );
  });

  it('an ICMP delivery is cited by its addresses alone', () => {
    const ping = parseMonitorLine(
      '-> endpoint 7 flow 0x4 , identity 400->300 state new ifindex lxc1 orig-ip 10.0.0.1: 10.0.0.1 -> 10.0.1.2 EchoRequest',
    );
    assert.match(
      cellEvidence(wrong, [on('w', 'm.txt', ping)]),
      /EchoRequest" \(10\.0\.0\.1 -> 10\.0\.1\.2; m\.txt\)\.$/,
    );
  });

  it('events without addresses (a drop cut before its tuple, a DEBUG line) are passed over', () => {
    const cut = parseMonitorLine('xx drop (Policy denied) flow 0x1 to endpoint 7, ifindex 5, file bpf_lxc.c:979');
    const debug = parseMonitorLine('CPU 01: MARK 0x0 FROM 7 DEBUG: Conntrack lookup 1/2: nexthdr=6 flags=0');
    assert.equal(cut.src, null);
    assert.match(cellEvidence(wrong, [on('w', 'm.txt', cut, debug)]), /no monitor trace of its delivery was found\.$/);
  });

  it('without a delivery trace of that connection it says so; an answer without names is said plainly', () => {
    const anonymous = { ...wrong, outcomes: [{ ...outcome(1, true, null), answeredBy: null, clientSeen: null }] };
    assert.equal(
      cellEvidence(anonymous, [on('w', 'm.txt', drop('0x1', '10.0.0.1:1002 -> 10.0.1.2:80'))]),
      'client → B: expected ✗, observed ✓. The packet that should have been dropped was delivered: request 1 from port ? was answered by an unnamed server (client seen ?); no monitor trace of its delivery was found.',
    );
  });
});

describe('expectReachability', () => {
  const right = [
    cell({ source: 'client', destination: 'A', expected: true }),
    cell({ source: 'client', destination: 'B', expected: false }),
  ];

  it('passes when every cell is as the table says', () => {
    expectReachability(right, [], 'port 80/TCP');
  });

  it('a cell that sent no request makes the check inconclusive, naming every such cell and the port', () => {
    const cells = [
      ...right,
      cell({ source: 'x', destination: 'A', expected: true, outcomes: [] }),
      cell({ source: 'y', destination: 'B', expected: false, outcomes: [] }),
    ];
    assert.throws(
      () => expectReachability(cells, [], 'port 80/TCP'),
      (e: unknown) =>
        e instanceof InconclusiveError &&
        (e as Error).message ===
          'Inconclusive: x → A, y → B sent no request, so the reachability on port 80/TCP is unknown.',
    );
  });

  it('a wrong cell fails with both matrices, the count, and each wrong cell’s evidence; expected/actual are the matrices', () => {
    const cells = [right[0]!, { ...right[1]!, outcomes: [outcome(1, true, 41000)] }];
    try {
      expectReachability(cells, [], 'port 8080/TCP');
      assert.fail('no failure');
    } catch (e) {
      assert.ok(e instanceof AssertionError);
      const lines = e.message.split('\n');
      assert.equal(lines[0], 'The reachability on port 8080/TCP differs from the table in 1 of 2 cells:');
      assert.deepEqual(lines.slice(1, 4), renderMatrices(cells).split('\n'));
      assert.equal(lines.length, 5);
      assert.match(lines[4]!, /^- client → B: expected ✗, observed ✓\. The packet that should have been dropped/);
      assert.equal(e.actual, renderMatrices(cells));
      assert.equal(
        e.expected,
        renderMatrices([right[0]!, { ...right[1]!, outcomes: [{ ...outcome(1, true, 41000), ok: false }] }]),
      );
      assert.notEqual(e.expected, e.actual);
    }
  });

  it('each wrong cell has its own line of evidence', () => {
    const cells = right.map((c) => ({ ...c, outcomes: [outcome(1, !c.expected, 41000)] }));
    assert.throws(
      () => expectReachability(cells, [], 'port 80/TCP'),
      (e: unknown) => {
        const lines = (e as Error).message.split('\n');
        return (
          /in 2 of 2 cells:$/.test(lines[0]!) &&
          lines.length === 6 &&
          lines[4]!.startsWith('- client → A: expected ✓, observed ✗. ') &&
          lines[5]!.startsWith('- client → B: expected ✗, observed ✓. ')
        );
      },
    );
  });
});
