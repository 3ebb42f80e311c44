import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssertionError } from 'chai';
import { InconclusiveError } from '../../support/errors.ts';
import type { Evidence } from '../../support/evidence/index.ts';
import type { CitedEvidence } from '../../support/expectations/evidence-ref.ts';
import { expectAllFail, expectAllSucceeded, expectAnsweredBy } from '../../support/expectations/traffic.ts';
import { parseCurlOutcome, type RequestOutcome } from '../../support/probes/traffic.ts';

const W = '\nhookpoint-curl code=200 local=10.244.0.10:40001 remote=10.96.94.95:80\n';
const okFrom = (pod: string, n: number) =>
  parseCurlOutcome(n, 0, `pod=${pod} client=10.244.0.10:${40000 + n} host=10.96.94.95\n${W}`, '');
const refused = (n: number) =>
  parseCurlOutcome(
    n,
    7,
    '\nhookpoint-curl code=000 local=:0 remote=:0\n',
    'curl: (7) Failed to connect to 10.96.94.95 port 80 after 0 ms: Connection refused\n',
  );
const timedOut = (n: number) =>
  parseCurlOutcome(
    n,
    28,
    '\nhookpoint-curl code=000 local=10.244.0.10:40100 remote=:0\n',
    'curl: (28) Connection timed out after 2001 milliseconds\n',
  );

function ev(data: RequestOutcome[]): CitedEvidence<RequestOutcome[]> {
  const ok = data.filter((o) => o.ok).length;
  return {
    kind: 'traffic',
    where: 'pod client',
    commands: [],
    raw: '',
    data,
    summary: `${ok}/${data.length} HTTP requests from pod client to 10.96.94.95:80 succeeded`,
    attachment: '04-traffic-pod-client.txt',
  };
}

test('curl outcomes are read from the write-out line and the echo body', () => {
  const o = okFrom('echo-worker', 1);
  assert.deepEqual(
    { ok: o.ok, status: o.httpStatus, by: o.answeredBy, seen: o.clientSeen, port: o.localPort, error: o.error },
    { ok: true, status: 200, by: 'echo-worker', seen: '10.244.0.10:40001', port: 40001, error: null },
  );
  assert.equal(refused(2).error, 'refused');
  assert.equal(refused(2).httpStatus, null);
  assert.equal(timedOut(3).error, 'timeout');
  assert.equal(timedOut(3).localPort, 40100);
  assert.equal(parseCurlOutcome(4, 56, '', 'curl: (56) Recv failure: Connection reset by peer').error, 'reset');
  assert.equal(
    parseCurlOutcome(5, 7, '', 'curl: (7) Failed to connect to 10.1.1.1 port 80: No route to host').error,
    'other',
  );
  const http500 = parseCurlOutcome(
    6,
    0,
    'oops\n\nhookpoint-curl code=500 local=10.244.0.10:1 remote=10.96.94.95:80\n',
    '',
  );
  assert.equal(http500.ok, false);
  assert.equal(http500.error, 'other');
  assert.match(http500.detail, /HTTP 500/);
});

test('all succeeded: passes on 10 good answers, fails naming the failed requests and the evidence', () => {
  const good = Array.from({ length: 10 }, (_, i) => okFrom(i % 2 ? 'echo-cp' : 'echo-worker', i + 1));
  expectAllSucceeded(ev(good), 10);
  expectAllSucceeded(good, 10);
  const bad = [...good.slice(0, 8), timedOut(9), refused(10)];
  assert.throws(
    () => expectAllSucceeded(ev(bad), 10),
    (err: unknown) => {
      assert.ok(err instanceof AssertionError);
      const m = (err as Error).message;
      assert.match(m, /2 of 10 requests failed/);
      assert.match(m, /#9 timeout: curl: \(28\) Connection timed out/);
      assert.match(m, /#10 refused/);
      assert.match(m, /evidence 04-traffic-pod-client\.txt/);
      return true;
    },
  );
  assert.throws(() => expectAllSucceeded(ev(good.slice(0, 9)), 10), /Expected 10 requests but 9 ran/);
});

test('all fail: refused / timeout / any, and the counter-evidence of a success', () => {
  const r = Array.from({ length: 3 }, (_, i) => refused(i + 1));
  const reached = { reached: [okFrom('echo-cp', 1)] };
  expectAllFail(ev(r), 'refused', reached);
  expectAllFail(ev(r), 'any', reached);
  assert.throws(
    () => expectAllFail(ev(r), 'timeout', reached),
    (e: unknown) =>
      e instanceof AssertionError &&
      /fail as a timeout, but 3 of 3 failed otherwise.*#1 refused/.test((e as Error).message),
  );
  const t = [timedOut(1), timedOut(2)];
  expectAllFail(t, 'timeout', { stoppedAt: 'a DROP on node worker (evidence 05-monitor.txt)' });
  assert.throws(
    () => expectAllFail(ev([refused(1), okFrom('echo-cp', 2)]), 'refused'),
    (e: unknown) =>
      e instanceof AssertionError &&
      /1 of 2 succeeded.*#2 ok HTTP 200 answered by echo-cp.*evidence 04-traffic/.test((e as Error).message),
  );
  assert.throws(() => expectAllFail(ev([]), 'any'), InconclusiveError);
});

test('all fail needs a positive control: none, or a control that failed too, is inconclusive', () => {
  const r = [refused(1), refused(2)];
  assert.throws(
    () => expectAllFail(ev(r), 'refused'),
    (e: unknown) =>
      e instanceof InconclusiveError &&
      /no control request.*no evidence names where the packets stopped/.test(String(e)),
  );
  assert.throws(
    () => expectAllFail(ev(r), 'any', { missing: 'the client has no other destination' }),
    (e: unknown) => e instanceof InconclusiveError && /the client has no other destination/.test(String(e)),
  );
  assert.throws(
    () => expectAllFail(ev(r), 'any', { reached: [timedOut(1)] }),
    (e: unknown) =>
      e instanceof InconclusiveError && /control request to another destination failed too/.test(String(e)),
  );
  expectAllFail(ev(r), 'any', { reached: [timedOut(1), okFrom('echo-worker', 2)] });
});

test('answered by: only the named pods answer; every: each of them answered', () => {
  const mixed = [okFrom('echo-cp', 1), okFrom('echo-worker', 2), okFrom('echo-cp', 3)];
  expectAnsweredBy(ev(mixed), ['echo-cp', 'echo-worker'], { every: true });
  assert.throws(
    () => expectAnsweredBy(ev(mixed), ['echo-cp']),
    (e: unknown) =>
      e instanceof AssertionError &&
      /1 of 3 came from elsewhere: #2 ok HTTP 200 answered by echo-worker.*evidence 04-traffic/.test(
        (e as Error).message,
      ),
  );
  assert.throws(
    () => expectAnsweredBy(ev([okFrom('echo-cp', 1)]), ['echo-cp', 'echo-worker'], { every: true }),
    (e: unknown) => e instanceof AssertionError && /echo-worker never did/.test((e as Error).message),
  );
  assert.throws(() => expectAnsweredBy(ev([refused(1)]), ['echo-cp']), AssertionError);
  // agnhost's "/" answers a timestamp, naming no pod; its "/hostname" answers the bare pod name.
  const anonymous = parseCurlOutcome(1, 0, `NOW: 2026-12-01 07:00:00.1 +0000 UTC\n${W}`, '');
  assert.throws(() => expectAnsweredBy(ev([anonymous]), ['echo-cp']), InconclusiveError);
  expectAnsweredBy(ev([parseCurlOutcome(1, 0, `echo-cp\n${W}`, '')]), ['echo-cp']);
});

test('bare outcome lists are judged too (no evidence name in the message)', () => {
  const data: RequestOutcome[] = [refused(1)];
  assert.throws(
    () => expectAllSucceeded(data, 1),
    (e: unknown) => e instanceof AssertionError && !/evidence/.test((e as Error).message),
  );
  const evidence: Evidence<RequestOutcome[]> = ev(data);
  assert.throws(() => expectAllSucceeded(evidence, 1), /evidence 04-traffic-pod-client\.txt/);
});
