/**
 * How a Then step's verdict is written into the results, and read back by the summary and the
 * diff: a sub-step named `Verdict: <key figure>` whose status is the verdict's (passed, failed,
 * broken), with the full verdict text attached. One owner for the name, so writer and readers agree.
 */
import { getStatusFromError } from 'allure-js-commons/sdk';

export const VERDICT_STEP_PREFIX = 'Verdict: ';

export function verdictStepName(line: string): string {
  return `${VERDICT_STEP_PREFIX}${line.replace(/\s+/g, ' ').trim().slice(0, 300)}`;
}

/** The key figure of a verdict sub-step, or undefined for any other step name. */
export function verdictLine(stepName: string): string | undefined {
  return stepName.startsWith(VERDICT_STEP_PREFIX) ? stepName.slice(VERDICT_STEP_PREFIX.length) : undefined;
}

export type ReportStatus = 'passed' | 'failed' | 'broken' | 'skipped';

/**
 * The status Allure gives a step or scenario that ended with `error` (none = passed): an
 * assertion is "failed", anything else "broken". Allure's own rule, so a picture or a verdict
 * titled with it says what the Allure report says.
 */
export function reportStatusOf(error: unknown): ReportStatus {
  if (error === undefined) return 'passed';
  return getStatusFromError(error as Error) === 'failed' ? 'failed' : 'broken';
}
