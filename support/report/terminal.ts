/**
 * What a run prints on the terminal: a character per step while it runs, then each failure in
 * three lines — the scenario, its one-paragraph verdict (which names its evidence), and where the
 * evidence is (the report and the attachment names). Attachments stay in the report: a failure
 * must not scroll its cause away under four iptables-save dumps. `hookpoint run` uses this
 * formatter in place of cucumber's `progress`.
 */
import path from 'node:path';
import { Formatter, formatterHelpers, type IFormatterOptions, Status } from '@cucumber/cucumber';
import type * as messages from '@cucumber/messages';

/** Longest verdict printed; the report has the whole text. */
const MAX_VERDICT = 700;
/** Attachment names printed per failure. */
const MAX_ATTACHMENTS = 6;

export interface TerminalFailure {
  /** "features/x.feature:12" */
  where: string;
  scenario: string;
  status: 'failed' | 'broken';
  /** The cluster configuration id, when the run has several. */
  configuration?: string;
  /** The error's message (its stack, if any, is dropped). */
  message: string;
  /** The failed step's text. */
  step?: string;
  attachments: string[];
  /** The report file a reader opens (reports/hookpoint-report.html). */
  report: string;
}

/** The failure's message as one paragraph: no stack frames, whitespace collapsed, long text cut (pure). */
export function verdictParagraph(message: string): string {
  const body = message
    .split(/\r?\n/)
    .filter((l) => !/^\s+at\s/.test(l))
    .join(' ')
    .replace(/^(?:\w*Error(?:\s*\[\w+\])?: )/, '')
    .replace(/\s+/g, ' ')
    .trim();
  return body.length > MAX_VERDICT ? `${body.slice(0, MAX_VERDICT - 1)}… (whole text in the report)` : body;
}

/** The three lines of one failure (pure). */
export function failureLines(f: TerminalFailure): [string, string, string] {
  const shown = f.attachments.slice(0, MAX_ATTACHMENTS);
  const more = f.attachments.length - shown.length;
  const attachments = shown.length ? `; attachments ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}` : '';
  return [
    `✖ ${f.status === 'failed' ? 'FAILED' : 'BROKEN'} ${f.where} ${f.scenario}${f.configuration ? ` [configuration ${f.configuration}]` : ''}`,
    `  ${verdictParagraph(f.message) || '(no message)'}`,
    `  evidence: ${f.report}${f.step ? `, step "${f.step}"` : ''}${attachments}`,
  ];
}

const CHARACTER: Partial<Record<messages.TestStepResultStatus, string>> = {
  [Status.AMBIGUOUS]: 'A',
  [Status.FAILED]: 'F',
  [Status.PASSED]: '.',
  [Status.PENDING]: 'P',
  [Status.SKIPPED]: '-',
  [Status.UNDEFINED]: 'U',
};

/** formatOptions keys `hookpoint run` passes: the report a reader opens and the configuration id. */
export const TERMINAL_OPTIONS = { report: 'hookpointReport', configuration: 'hookpointConfiguration' } as const;

export default class TerminalFormatter extends Formatter {
  static readonly documentation = "Hookpoint's progress: a character per step, three lines per failure.";
  private started?: messages.Timestamp;
  private readonly failures: TerminalFailure[] = [];

  constructor(options: IFormatterOptions) {
    super(options);
    const report = String(options.parsedArgvOptions[TERMINAL_OPTIONS.report] ?? 'reports/hookpoint-report.html');
    const configuration = options.parsedArgvOptions[TERMINAL_OPTIONS.configuration] as string | undefined;
    options.eventBroadcaster.on('envelope', (e: messages.Envelope) => {
      if (e.testRunStarted) this.started = e.testRunStarted.timestamp;
      else if (e.testStepFinished) {
        const status = e.testStepFinished.testStepResult.status;
        this.log(this.colorFns.forStatus(status)(CHARACTER[status] ?? '?'));
      } else if (e.testCaseFinished && !e.testCaseFinished.willBeRetried) {
        const f = this.failureOf(e.testCaseFinished.testCaseStartedId, report, configuration);
        if (f) this.failures.push(f);
      } else if (e.testRunFinished) this.finish(e.testRunFinished.timestamp);
    });
  }

  private failureOf(startedId: string, report: string, configuration: string | undefined): TerminalFailure | undefined {
    const attempt = this.eventDataCollector.getTestCaseAttempt(startedId);
    const worst = attempt.worstTestStepResult.status;
    if (worst === Status.PASSED || worst === Status.SKIPPED) return undefined;
    const bad = attempt.testCase.testSteps.find((s) => {
      const st = attempt.stepResults[s.id]?.status;
      return st !== undefined && st !== Status.PASSED && st !== Status.SKIPPED;
    });
    const result = bad ? attempt.stepResults[bad.id] : attempt.worstTestStepResult;
    const pickleStep = bad?.pickleStepId ? attempt.pickle.steps.find((p) => p.id === bad.pickleStepId) : undefined;
    const attachments = bad ? (attempt.stepAttachments[bad.id] ?? []) : [];
    const line = attempt.gherkinDocument.feature
      ? lineOf(attempt.gherkinDocument.feature, attempt.pickle.astNodeIds)
      : undefined;
    // An assertion is a datapath verdict ("failed"); anything else broke (Allure's rule, report/verdict.ts).
    const failed = result?.exception?.type === 'AssertionError';
    return {
      where: `${path.relative(this.cwd, attempt.pickle.uri) || attempt.pickle.uri}${line ? `:${line}` : ''}`,
      scenario: attempt.pickle.name,
      status: failed ? 'failed' : 'broken',
      ...(configuration ? { configuration } : {}),
      message:
        result?.exception?.message ??
        result?.message ??
        (worst === Status.UNDEFINED ? 'A step is undefined.' : `The scenario ended ${worst.toLowerCase()}.`),
      ...(pickleStep ? { step: pickleStep.text } : {}),
      attachments: attachments.map((a) => a.fileName).filter((n): n is string => !!n),
      report,
    };
  }

  private finish(stopped: messages.Timestamp): void {
    this.log('\n\n');
    for (const f of this.failures) this.log(`${failureLines(f).join('\n')}\n\n`);
    this.log(
      formatterHelpers.formatSummary({
        colorFns: this.colorFns,
        testCaseAttempts: this.eventDataCollector.getTestCaseAttempts(),
        testRunDuration: durationBetween(this.started ?? stopped, stopped),
      }),
    );
  }
}

function lineOf(feature: messages.Feature, ids: readonly string[]): number | undefined {
  const scenarios = feature.children.flatMap((c) => [
    ...(c.scenario ? [c.scenario] : []),
    ...(c.rule?.children.flatMap((r) => (r.scenario ? [r.scenario] : [])) ?? []),
  ]);
  for (const sc of scenarios) {
    if (!ids.includes(sc.id)) continue;
    for (const ex of sc.examples) for (const row of ex.tableBody) if (ids.includes(row.id)) return row.location.line;
    return sc.location.line;
  }
  return undefined;
}

function durationBetween(a: messages.Timestamp, b: messages.Timestamp): messages.Duration {
  const ns = Math.max(0, (b.seconds - a.seconds) * 1e9 + (b.nanos - a.nanos));
  return { seconds: Math.floor(ns / 1e9), nanos: ns % 1e9 };
}
