/**
 * Evidence where it was judged: a Then step hands the evidence it reads and its verdict to
 * `judge`, which shows that evidence on the step (the traffic window holds it back until then),
 * runs the verdict, and records it — passing or failing — as a `Verdict: <key figure>` sub-step
 * with the verdict text attached. The packet-path picture reads the judgements to tell expected
 * absences (neutral) from contradicted expectations (red).
 */
import * as allure from 'allure-js-commons';
import { MediaType } from '../evidence/index.ts';
import type { CitedEvidence } from '../expectations/evidence-ref.ts';
import { reportStatusOf, verdictStepName } from '../report/verdict.ts';
import type { HookpointWorld } from './world.ts';

/** A hook point of the packet-path picture (HOOK_POINTS), or another point a step is about. */
export type JudgedPoint = string;

export interface Judgement {
  /** The hook point the verdict is about, when it is about one. */
  point?: JudgedPoint;
  /** The expectation held (the step passed). */
  held: boolean;
  line: string;
}

export interface JudgeOptions<R> {
  /** The hook point the step judges (drawn red in the picture when the expectation is contradicted). */
  point?: JudgedPoint;
  /** The verdict's key figure when it passed ("10/10 answered by 2 backends"); default: the summary of the last evidence judged. */
  figure?: (result: R) => string;
  /** More text for the attached verdict (a counter table). */
  details?: (result: R) => string;
}

type Judged = CitedEvidence<unknown> | undefined;

function firstLine(text: string): string {
  return (
    text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .find(Boolean) ?? ''
  );
}

function clip(text: string, max = 140): string {
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/** Show the judged evidence on the current step, run the verdict, and record it either way. */
export async function judge<R>(
  world: HookpointWorld,
  evidence: readonly Judged[],
  verdict: () => R | Promise<R>,
  opts: JudgeOptions<R> = {},
): Promise<R> {
  const shown = evidence.filter((e): e is CitedEvidence<unknown> => e !== undefined);
  for (const e of shown) if (e.attachment) await world.evidence.show(e.attachment);
  let result: R | undefined;
  let error: unknown;
  try {
    result = await verdict();
  } catch (err) {
    error = err;
  }
  const status = reportStatusOf(error);
  const line =
    error !== undefined
      ? firstLine((error as Error).message ?? String(error))
      : (opts.figure?.(result as R) ?? clip(shown[shown.length - 1]?.summary ?? 'passed'));
  const text =
    error !== undefined
      ? `${status}: ${(error as Error).message ?? String(error)}\n`
      : `passed: ${line}\n${opts.details ? `\n${opts.details(result as R)}` : ''}`;
  world.judgements.push({ point: opts.point, held: error === undefined, line });
  try {
    await allure.step(verdictStepName(line), async () => {
      await world.evidence.attach('verdict', opts.point ?? 'step', MediaType.text, text);
      if (error !== undefined) throw error;
    });
  } catch {
    // The step's own error is rethrown below, with its original stack.
  }
  if (error !== undefined) throw error;
  return result as R;
}
