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
  opts: { every?: boolean } = {},
): void {
  const list = dataOf(outcomes);
  const ev = citeAll(outcomes);
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
