/**
 * Expectations over request outcomes (traffic probe). Pure: no I/O.
 */
import { describeOutcome, type RequestError, type RequestOutcome } from '../probes/traffic.ts';
import { citeAll, dataOf, type EvidenceOr, fail, inconclusive, isEvidence, listSome, plural } from './evidence-ref.ts';

function label(outcomes: EvidenceOr<RequestOutcome[]>): string {
  return isEvidence(outcomes) ? outcomes.summary.replace(/ succeeded.*$/, '').replace(/^\d+\/\d+ /, '') : 'requests';
}

/** The key figure of a traffic verdict: "10/10 answered by 2 backends", "0/6 answered; refused ×6". */
export function trafficFigure(outcomes: EvidenceOr<RequestOutcome[]>): string {
  const list = dataOf(outcomes);
  const ok = list.filter((o) => o.ok);
  const by = new Set(ok.map((o) => o.answeredBy).filter(Boolean)).size;
  const errors = new Map<string, number>();
  for (const o of list) if (!o.ok) errors.set(o.error ?? 'other', (errors.get(o.error ?? 'other') ?? 0) + 1);
  const failed = errors.size ? `; ${[...errors].map(([e, n]) => `${e} ×${n}`).join(', ')}` : '';
  return `${ok.length}/${list.length} answered${by ? ` by ${plural(by, 'backend')}` : ''}${failed}`;
}

/** Exactly `n` requests ran and every one of them succeeded. */
export function expectAllSucceeded(outcomes: EvidenceOr<RequestOutcome[]>, n: number): void {
  const list = dataOf(outcomes);
  const ev = citeAll(outcomes);
  if (list.length !== n) {
    fail(`Expected ${plural(n, 'request')} but ${list.length} ran (${label(outcomes)})${ev}.`, {
      expected: n,
      actual: list.length,
    });
  }
  const bad = list.filter((o) => !o.ok);
  if (bad.length) {
    fail(
      `${bad.length} of ${plural(n, 'request')} failed (${label(outcomes)}): ${listSome(bad.map(describeOutcome), 4)}${ev}.`,
      { expected: `${n} succeeded`, actual: `${n - bad.length} succeeded` },
    );
  }
}

/**
 * What shows that a window's failures are about its destination and not a client that could reach
 * nothing at all (a "nothing got through" verdict needs one, house rule 4).
 */
export interface PositiveControl {
  /** The same client's request(s) to another destination in the same window. */
  reached?: EvidenceOr<RequestOutcome[]>;
  /** Evidence naming where the packets stopped (a drop in a trace, the last capture point that saw them). */
  stoppedAt?: string;
  /** Why no control request could be sent (no other destination to try). */
  missing?: string;
}

/**
 * Every request failed, and (unless `how` is 'any') in the stated way: 'refused' (connection
 * refused) or 'timeout'. No requests at all is inconclusive: nothing was tried. Failures count
 * only with a positive control: the same client reached another destination in the window, or
 * the evidence names where the packets stopped; otherwise the verdict is inconclusive.
 */
export function expectAllFail(
  outcomes: EvidenceOr<RequestOutcome[]>,
  how: 'refused' | 'timeout' | 'any',
  control: PositiveControl = {},
): void {
  const list = dataOf(outcomes);
  const ev = citeAll(outcomes);
  if (list.length === 0) inconclusive(`No request ran, so no failure could be observed${ev}.`);
  const succeeded = list.filter((o) => o.ok);
  if (succeeded.length) {
    fail(
      `Expected every request to fail${how === 'any' ? '' : ` (${how})`}, but ${succeeded.length} of ${list.length} succeeded (${label(outcomes)}): ${listSome(succeeded.map(describeOutcome), 4)}${ev}.`,
      { expected: 0, actual: succeeded.length },
    );
  }
  if (how !== 'any') {
    const other = list.filter((o) => o.error !== (how as RequestError));
    if (other.length) {
      fail(
        `Expected every request to fail as ${how === 'refused' ? 'connection refused' : 'a timeout'}, but ${other.length} of ${list.length} failed otherwise (${label(outcomes)}): ${listSome(other.map(describeOutcome), 4)}${ev}.`,
        { expected: how, actual: [...new Set(other.map((o) => o.error))].join(', ') },
      );
    }
  }
  if (control.stoppedAt) return;
  const reached = control.reached ? dataOf(control.reached).filter((o) => o.ok) : [];
  if (reached.length) return;
  const why = control.reached
    ? `its control request to another destination failed too (${listSome(dataOf(control.reached).map(describeOutcome), 2)}${citeAll(control.reached)})`
    : (control.missing ?? 'no control request to another destination was sent');
  inconclusive(
    `All ${plural(list.length, 'request')} failed (${label(outcomes)})${ev}, but nothing shows the client could reach anything in this window: ${why}, and no evidence names where the packets stopped. The failure may be the client's, not the destination's.`,
    'Give the client another destination that must answer (a second echo deployment or replica), or capture or monitor the path so the evidence shows where the packets stopped.',
  );
}

/**
 * Every successful request was answered by one of `pods` (and at least one succeeded). With
 * `every: true`, each pod of the list also answered at least once.
 */
export function expectAnsweredBy(
  outcomes: EvidenceOr<RequestOutcome[]>,
  pods: readonly string[],
  opts: { every?: boolean; allSucceed?: boolean } = {},
): void {
  const list = dataOf(outcomes);
  const ev = citeAll(outcomes);
  const failed = list.filter((o) => !o.ok);
  if (opts.allSucceed && failed.length && failed.length < list.length)
    fail(
      `Expected every request to be answered by ${listSome([...pods])}, but ${failed.length} of ${list.length} failed (${label(outcomes)}): ${listSome(failed.map(describeOutcome), 4)}${ev}.`,
      { expected: `${list.length} answered`, actual: `${list.length - failed.length} answered` },
    );
  const ok = list.filter((o) => o.ok);
  if (ok.length === 0) {
    fail(
      `Expected answers from ${listSome([...pods])}, but none of ${plural(list.length, 'request')} succeeded (${label(outcomes)})${ev}.`,
    );
  }
  const anonymous = ok.filter((o) => o.answeredBy === null);
  if (anonymous.length) {
    inconclusive(
      `${anonymous.length} of ${ok.length} successful responses do not name the pod that answered (no "pod=<name>" in the body: ${anonymous[0]!.detail}), so who answered cannot be judged${ev}.`,
      'The echo server must answer "pod=<name> client=<ip:port>".',
    );
  }
  const strangers = ok.filter((o) => !pods.includes(o.answeredBy!));
  if (strangers.length) {
    fail(
      `Expected every response to come from ${listSome([...pods])}, but ${strangers.length} of ${ok.length} came from elsewhere: ${listSome(strangers.map(describeOutcome), 4)}${ev}.`,
      { expected: [...pods], actual: [...new Set(ok.map((o) => o.answeredBy))] },
    );
  }
  if (opts.every) {
    const silent = pods.filter((p) => !ok.some((o) => o.answeredBy === p));
    if (silent.length) {
      fail(
        `Expected each of ${listSome([...pods])} to answer at least once in ${plural(ok.length, 'successful request')}, but ${listSome(silent)} never did${ev}.`,
        { expected: [...pods], actual: [...new Set(ok.map((o) => o.answeredBy))] },
      );
    }
  }
}

/** The false-failure chance a "at least N different backends" step accepts: 1 in 10,000. */
export const FALSE_FAILURE_RISK = 1e-4;

/**
 * The chance that `requests` picks, each uniformly random among `backends`, reach fewer than
 * `atLeast` different ones: a false failure of "answered by at least N different backends" on a
 * datapath that balances perfectly. Exact: the distribution of distinct backends seen, pick by pick.
 */
export function falseFailureChance(requests: number, backends: number, atLeast: number): number {
  if (backends < atLeast) return 1;
  let dist = [1];
  for (let i = 0; i < requests; i++) {
    const next = new Array<number>(Math.min(dist.length + 1, backends + 1)).fill(0);
    dist.forEach((p, d) => {
      next[d]! += (p * d) / backends;
      if (d < backends) next[d + 1]! += (p * (backends - d)) / backends;
    });
    dist = next;
  }
  return dist.slice(0, atLeast).reduce((a, b) => a + b, 0);
}

/** The fewest requests for which that false failure is no likelier than `risk` (2 backends, at least 2: 15). */
export function fewestRequestsFor(backends: number, atLeast: number, risk = FALSE_FAILURE_RISK): number {
  if (backends < atLeast) return Number.POSITIVE_INFINITY;
  let n = atLeast;
  while (falseFailureChance(n, backends, atLeast) > risk) n++;
  return n;
}

/** Why `requests` cannot judge "at least `atLeast` different of `backends` backends", or undefined when they can. */
export function tooFewRequests(requests: number, backends: number, atLeast: number): string | undefined {
  if (backends < atLeast)
    return `the service has ${plural(backends, 'backend')}, so ${atLeast} different ones can never answer`;
  const need = fewestRequestsFor(backends, atLeast);
  if (requests >= need) return undefined;
  const chance = falseFailureChance(requests, backends, atLeast);
  return `with ${plural(requests, 'request')} over ${plural(backends, 'backend')}, a perfectly balanced datapath still shows fewer than ${atLeast} different backends with a chance of 1 in ${Math.round(1 / chance).toLocaleString('en')} (more than 1 in 10,000); send at least ${need}`;
}

/** Every request succeeded, each answered by one of `pods`, and at least `atLeast` different pods answered. */
export function expectDifferentBackends(
  outcomes: EvidenceOr<RequestOutcome[]>,
  pods: readonly string[],
  atLeast: number,
): void {
  expectAnsweredBy(outcomes, pods, { allSucceed: true });
  const ev = citeAll(outcomes);
  const seen = [...new Set(dataOf(outcomes).flatMap((o) => (o.ok && o.answeredBy ? [o.answeredBy] : [])))];
  if (seen.length < atLeast)
    fail(
      `Expected at least ${atLeast} different backends of ${listSome([...pods])} to answer, but only ${listSome(seen)} did (${label(outcomes)})${ev}.`,
      { expected: `≥ ${atLeast} backends`, actual: seen },
    );
}
