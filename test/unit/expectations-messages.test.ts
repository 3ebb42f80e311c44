/**
 * The failure paragraphs of the traffic verdicts, word for word, with the expected/actual pair
 * Allure shows and the hint: what a person reads when a scenario fails is part of the verdict
 * (every failure names its evidence), so a changed word is a changed contract.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InconclusiveError } from '../../support/errors.ts';
import type { CitedEvidence } from '../../support/expectations/evidence-ref.ts';
import {
  expectAllFail,
  expectAllSucceeded,
  expectAnsweredBy,
  trafficFigure,
} from '../../support/expectations/traffic.ts';
import type { RequestError, RequestOutcome } from '../../support/probes/traffic.ts';

function o(seq: number, by: string | null, error: RequestError | null = null): RequestOutcome {
  const ok = error === null;
  return {
    seq,
    ok,
    httpStatus: ok ? 200 : null,
    answeredBy: ok ? by : null,
    clientSeen: ok ? '10.244.0.10:40001' : null,
    error,
    detail: ok ? `pod=${by} client=10.244.0.10:40001` : 'curl: (7) Failed to connect',
    localPort: 40000 + seq,
    exitCode: ok ? 0 : 7,
  };
}

function ev(data: RequestOutcome[]): CitedEvidence<RequestOutcome[]> {
  return {
    kind: 'traffic',
    where: 'pod client',
    commands: [],
    raw: '',
    data,
    summary: `${data.filter((d) => d.ok).length}/${data.length} requests to echo 10.96.94.95:80 succeeded`,
    attachment: '09-traffic-pod-client.txt',
  };
}

interface Thrown {
  kind: string;
  message: string;
  expected?: unknown;
  actual?: unknown;
  hint?: string;
}

function thrown(f: () => unknown): Thrown {
  try {
    f();
  } catch (err) {
    const e = err as Error & { expected?: unknown; actual?: unknown; hint?: string };
    const out: Thrown = { kind: err instanceof InconclusiveError ? 'inconclusive' : e.name, message: e.message };
    if (e.expected !== undefined) out.expected = e.expected;
    if (e.actual !== undefined) out.actual = e.actual;
    if (e.hint !== undefined) out.hint = e.hint;
    return out;
  }
  return assert.fail('expected the verdict to throw');
}

const EV = ' (evidence 09-traffic-pod-client.txt)';
const LABEL = '(requests to echo 10.96.94.95:80)';
const OK1 = '#1 ok HTTP 200 answered by echo-a (saw client 10.244.0.10:40001) from port 40001';

test('all succeeded: too few requests, and failed requests, each named', () => {
  assert.deepEqual(
    thrown(() => expectAllSucceeded(ev([o(1, 'a'), o(2, 'a')]), 3)),
    { kind: 'AssertionError', message: `Expected 3 requests but 2 ran ${LABEL}${EV}.`, expected: 3, actual: 2 },
  );
  assert.deepEqual(
    thrown(() => expectAllSucceeded([o(1, 'a')], 2)),
    {
      kind: 'AssertionError',
      message: 'Expected 2 requests but 1 ran (requests).',
      expected: 2,
      actual: 1,
    },
  );
  assert.deepEqual(
    thrown(() => expectAllSucceeded(ev([o(1, 'echo-a'), o(2, null, 'refused'), o(3, null, 'timeout')]), 3)),
    {
      kind: 'AssertionError',
      message: `2 of 3 requests failed ${LABEL}: #2 refused: curl: (7) Failed to connect, #3 timeout: curl: (7) Failed to connect${EV}.`,
      expected: '3 succeeded',
      actual: '1 succeeded',
    },
  );
  expectAllSucceeded(ev([o(1, 'a'), o(2, 'b')]), 2);
});

test('all fail: nothing ran is inconclusive; a success or another failure kind fails', () => {
  assert.deepEqual(
    thrown(() => expectAllFail(ev([]), 'any')),
    {
      kind: 'inconclusive',
      message: `No request ran, so no failure could be observed${EV}.`,
    },
  );
  assert.deepEqual(
    thrown(() => expectAllFail(ev([o(1, 'echo-a'), o(2, null, 'timeout')]), 'any')),
    {
      kind: 'AssertionError',
      message: `Expected every request to fail, but 1 of 2 succeeded ${LABEL}: ${OK1}${EV}.`,
      expected: 0,
      actual: 1,
    },
  );
  assert.deepEqual(
    thrown(() => expectAllFail(ev([o(1, 'echo-a')]), 'refused')),
    {
      kind: 'AssertionError',
      message: `Expected every request to fail (refused), but 1 of 1 succeeded ${LABEL}: ${OK1}${EV}.`,
      expected: 0,
      actual: 1,
    },
  );
  assert.deepEqual(
    thrown(() => expectAllFail(ev([o(1, null, 'timeout'), o(2, null, 'refused')]), 'refused')),
    {
      kind: 'AssertionError',
      message: `Expected every request to fail as connection refused, but 1 of 2 failed otherwise ${LABEL}: #1 timeout: curl: (7) Failed to connect${EV}.`,
      expected: 'refused',
      actual: 'timeout',
    },
  );
  assert.deepEqual(
    thrown(() => expectAllFail(ev([o(1, null, 'refused'), o(2, null, 'reset')]), 'timeout')),
    {
      kind: 'AssertionError',
      message: `Expected every request to fail as a timeout, but 2 of 2 failed otherwise ${LABEL}: #1 refused: curl: (7) Failed to connect, #2 reset: curl: (7) Failed to connect${EV}.`,
      expected: 'timeout',
      actual: 'refused, reset',
    },
  );
  expectAllFail(ev([o(1, null, 'refused'), o(2, null, 'timeout')]), 'any');
  expectAllFail(ev([o(1, null, 'refused')]), 'refused');
  expectAllFail(ev([o(1, null, 'timeout')]), 'timeout');
});

test('answered by: no success, an anonymous answer, a stranger, a silent pod', () => {
  assert.deepEqual(
    thrown(() => expectAnsweredBy(ev([o(1, null, 'timeout')]), ['echo-a', 'echo-b'])),
    {
      kind: 'AssertionError',
      message: `Expected answers from echo-a, echo-b, but none of 1 request succeeded ${LABEL}${EV}.`,
    },
  );
  assert.deepEqual(
    thrown(() => expectAnsweredBy(ev([o(1, null), o(2, 'echo-a')]), ['echo-a'])),
    {
      kind: 'inconclusive',
      message: `1 of 2 successful responses do not name the pod that answered (no "pod=<name>" in the body: pod=null client=10.244.0.10:40001), so who answered cannot be judged${EV}.`,
      hint: 'The echo server must answer "pod=<name> client=<ip:port>".',
    },
  );
  assert.deepEqual(
    thrown(() => expectAnsweredBy(ev([o(1, 'echo-a'), o(2, 'other')]), ['echo-a', 'echo-b'])),
    {
      kind: 'AssertionError',
      message: `Expected every response to come from echo-a, echo-b, but 1 of 2 came from elsewhere: #2 ok HTTP 200 answered by other (saw client 10.244.0.10:40001) from port 40002${EV}.`,
      expected: ['echo-a', 'echo-b'],
      actual: ['echo-a', 'other'],
    },
  );
  assert.deepEqual(
    thrown(() => expectAnsweredBy(ev([o(1, 'echo-a'), o(2, 'echo-a')]), ['echo-a', 'echo-b'], { every: true })),
    {
      kind: 'AssertionError',
      message: `Expected each of echo-a, echo-b to answer at least once in 2 successful requests, but echo-b never did${EV}.`,
      expected: ['echo-a', 'echo-b'],
      actual: ['echo-a'],
    },
  );
  expectAnsweredBy(ev([o(1, 'echo-a'), o(2, 'echo-a')]), ['echo-a', 'echo-b']);
  expectAnsweredBy(ev([o(1, 'echo-a'), o(2, 'echo-b')]), ['echo-a', 'echo-b'], { every: true });
});

test('traffic figure: answered, by how many backends, and the failures by kind', () => {
  const unknownFailure = { ...o(5, null, 'refused'), error: null };
  assert.equal(
    trafficFigure(ev([o(1, 'echo-a'), o(2, 'echo-b'), o(3, null, 'refused'), o(4, null, 'refused'), unknownFailure])),
    '2/5 answered by 2 backends; refused ×2, other ×1',
  );
  assert.equal(trafficFigure([o(1, 'echo-a')]), '1/1 answered by 1 backend');
  assert.equal(trafficFigure([o(1, null)]), '1/1 answered');
  assert.equal(trafficFigure([]), '0/0 answered');
});
