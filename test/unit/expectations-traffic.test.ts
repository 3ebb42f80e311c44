import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AssertionError } from 'chai';
import { InconclusiveError } from '../../support/errors.ts';
import type { Evidence } from '../../support/evidence/index.ts';
import type { CitedEvidence } from '../../support/expectations/evidence-ref.ts';
import {
  expectAllFail,
  expectAllSucceeded,
  expectAnsweredBy,
  expectDifferentBackends,
  falseFailureChance,
  fewestRequestsFor,
  tooFewRequests,
} from '../../support/expectations/traffic.ts';
import { parseCurlOutcome, type RequestOutcome } from '../../support/probes/traffic.ts';
import { okFrom, refused, timedOut, writeOut } from './helpers/curl-outcomes.ts';

/** The expected/actual a failed step carries (chai's AssertionError). */
type Judged = { expected?: unknown; actual?: unknown };

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
  const anonymous = parseCurlOutcome(1, 0, `NOW: 2026-12-01 07:00:00.1 +0000 UTC\n${writeOut(1)}`, '');
  assert.throws(() => expectAnsweredBy(ev([anonymous]), ['echo-cp']), InconclusiveError);
  expectAnsweredBy(ev([parseCurlOutcome(1, 0, `echo-cp\n${writeOut(1)}`, '')]), ['echo-cp']);
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

test('different backends: every request answered by the named pods, and at least N of them', () => {
  const both = [okFrom('echo-cp', 1), okFrom('echo-worker', 2), okFrom('echo-cp', 3)];
  expectDifferentBackends(ev(both), ['echo-cp', 'echo-worker'], 2);
  expectDifferentBackends(ev(both), ['echo-cp', 'echo-worker'], 1);
  const one = [okFrom('echo-cp', 1), okFrom('echo-cp', 2)];
  assert.throws(
    () => expectDifferentBackends(ev(one), ['echo-cp', 'echo-worker'], 2),
    (e: unknown) =>
      e instanceof AssertionError &&
      /Expected at least 2 different backends of echo-cp, echo-worker to answer, but only echo-cp did \(.*\).*evidence 04-traffic-pod-client\.txt/.test(
        (e as Error).message,
      ) &&
      (e as Judged).expected === '≥ 2 backends' &&
      JSON.stringify((e as Judged).actual) === '["echo-cp"]',
  );
  // One failed request among answers fails the step, naming it, before the count of backends.
  assert.throws(
    () => expectDifferentBackends(ev([...both, refused(4)]), ['echo-cp', 'echo-worker'], 2),
    (e: unknown) =>
      e instanceof AssertionError &&
      /Expected every request to be answered by echo-cp, echo-worker, but 1 of 4 failed .*#4/.test(
        (e as Error).message,
      ) &&
      (e as Judged).expected === '4 answered' &&
      (e as Judged).actual === '3 answered',
  );
});

test('answered by without allSucceed: a failed request among answers is not this check', () => {
  expectAnsweredBy(ev([okFrom('echo-cp', 1), refused(2)]), ['echo-cp']);
});

describe('the false-failure formula (one owner: support/expectations/traffic.ts)', () => {
  test('2 backends, at least 2: 14 requests fail a balanced service more often than 1 in 10,000, 15 do not', () => {
    assert.equal(falseFailureChance(14, 2, 2), 2 ** -13);
    assert.equal(falseFailureChance(15, 2, 2), 2 ** -14);
    assert.equal(fewestRequestsFor(2, 2), 15);
    assert.match(tooFewRequests(14, 2, 2) ?? '', /1 in 8,192 .*send at least 15/);
    assert.equal(tooFewRequests(15, 2, 2), undefined);
  });

  test('more backends need fewer requests for 2 of them, more for all of them; too few backends never can', () => {
    assert.equal(fewestRequestsFor(3, 2), 10); // 3 · 3^-n ≤ 1e-4 from n = 10
    assert.ok(fewestRequestsFor(3, 3) > fewestRequestsFor(3, 2));
    assert.ok(Math.abs(falseFailureChance(1, 4, 2) - 1) < 1e-12);
    assert.match(tooFewRequests(100, 2, 3) ?? '', /has 2 backends, so 3 different ones can never answer/);
  });
});
