/**
 * Traffic expectations: message wording with larger batches (10+ requests), the hint of an
 * uncontrolled "all fail", all-failed batches under allSucceed, and the exact arithmetic of the
 * "at least N different backends" false-failure chance.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssertionError } from 'chai';
import { InconclusiveError } from '../../support/errors.ts';
import type { CitedEvidence } from '../../support/expectations/evidence-ref.ts';
import {
  expectAllFail,
  expectAllSucceeded,
  expectAnsweredBy,
  falseFailureChance,
  fewestRequestsFor,
  tooFewRequests,
} from '../../support/expectations/traffic.ts';
import { type RequestOutcome, summarize } from '../../support/probes/traffic.ts';
import { okFrom, refused } from './helpers/curl-outcomes.ts';

function ev(data: RequestOutcome[]): CitedEvidence<RequestOutcome[]> {
  return {
    kind: 'traffic',
    where: 'pod client',
    commands: [],
    raw: '',
    data,
    summary: summarize(data, 'pod client', { ip: '10.96.94.95', port: 80 }),
    attachment: '04-traffic-pod-client.txt',
  };
}

test('a batch of 10+ requests is named without its "ok/total" count in failure messages', () => {
  // 10/12 succeeded: both figures have two digits.
  const data = [...Array.from({ length: 10 }, (_, i) => okFrom('echo-a', i + 1)), refused(11), refused(12)];
  assert.throws(
    () => expectAllSucceeded(ev(data), 12),
    (err: unknown) => {
      assert.ok(err instanceof AssertionError);
      const m = (err as Error).message;
      assert.match(m, /\(HTTP requests from pod client to 10\.96\.94\.95:80\):/);
      assert.doesNotMatch(m, /10\/12/);
      return true;
    },
  );
  // 1/10: the total alone has two digits.
  const one = [okFrom('echo-a', 1), ...Array.from({ length: 9 }, (_, i) => refused(i + 2))];
  assert.throws(
    () => expectAllSucceeded(ev(one), 10),
    (err: unknown) => {
      assert.match((err as Error).message, /failed \(HTTP requests from pod client/);
      assert.doesNotMatch((err as Error).message, /1\/10/);
      return true;
    },
  );
});

test('all requests failing without a positive control is inconclusive, counting them and saying what would help', () => {
  assert.throws(
    () => expectAllFail([refused(1), refused(2), refused(3)], 'refused'),
    (err: unknown) => {
      assert.ok(err instanceof InconclusiveError);
      assert.match((err as Error).message, /^All 3 requests failed \(requests\)/);
      assert.match(
        (err as InconclusiveError).hint ?? '',
        /another destination that must answer .*capture or monitor the path/,
      );
      return true;
    },
  );
});

test('allSucceed with every request failed reports that none succeeded', () => {
  assert.throws(
    () => expectAnsweredBy([refused(1), refused(2)], ['echo-a'], { allSucceed: true }),
    (err: unknown) => {
      assert.ok(err instanceof AssertionError);
      assert.match((err as Error).message, /^Expected answers from echo-a, but none of 2 requests succeeded/);
      return true;
    },
  );
});

test('the false-failure chance is exact: pick by pick over the backends', () => {
  // 2 requests over 2 backends: both land on the same one with chance 1/2.
  assert.equal(falseFailureChance(2, 2, 2), 0.5);
  // 3 requests over 3 backends, all 3 seen: 3!/3^3 = 2/9, so fewer than 3 with 7/9.
  assert.ok(Math.abs(falseFailureChance(3, 3, 3) - 7 / 9) < 1e-12);
});

test('with fewer backends than required the false failure is certain, exactly 1', () => {
  assert.equal(falseFailureChance(3, 3, 4), 1);
  assert.equal(fewestRequestsFor(1, 2), Number.POSITIVE_INFINITY);
});

test('a risk met exactly is accepted: the fewest requests stop at the first chance not above it', () => {
  // 2 backends, at least 2: the chance with n requests is 2^(1-n), exact in binary.
  assert.equal(fewestRequestsFor(2, 2, 0.25), 3);
  assert.equal(fewestRequestsFor(2, 2, 0.125), 4);
});

test('too few requests are explained with the counts of requests and backends', () => {
  assert.match(tooFewRequests(4, 2, 2) ?? '', /^with 4 requests over 2 backends, a perfectly balanced datapath/);
});
