/**
 * Allure categories: why a scenario did not pass. Hookpoint's error taxonomy decides the status
 * (support/errors.ts): an assertion on evidence fails (failed); a tool, provisioning step or
 * probe that could not prove anything breaks (broken). Categories are disjoint, so each
 * non-passing scenario lands in exactly one; the same rules classify scenarios in summary.md.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ScenarioResult, ScenarioStatus } from './results.ts';

export type CategoryId = 'datapath-regression' | 'inconclusive' | 'timeout' | 'infrastructure';

export interface Category {
  id: CategoryId;
  name: string;
  description: string;
  statuses: ScenarioStatus[];
  /** Java regex for Allure (whole-message match); undefined = any message. */
  messageRegex?: string;
  /** The same rule for this module (tested against each other in test/unit/report-categories). */
  matches(message: string): boolean;
}

/** "Error: ", "InconclusiveError: ", "AssertionError [ERR_ASSERTION]: " — what the reporter prefixes. */
const ERROR_PREFIX_JAVA = String.raw`(?:\w*Error(?:\s*\[\w+\])?: )?`;
const ERROR_PREFIX_JS = /^(?:\w*Error(?:\s*\[\w+\])?: )?/;

const isInconclusive = (m: string) => /^Inconclusive/.test(m.replace(ERROR_PREFIX_JS, ''));
const isTimeout = (m: string) => /timed out/i.test(m);

export const CATEGORIES: readonly Category[] = [
  {
    id: 'datapath-regression',
    name: 'Datapath regression',
    description: 'An expectation failed on evidence: the datapath did something other than the scenario states.',
    statuses: ['failed'],
    matches: () => true,
  },
  {
    id: 'inconclusive',
    name: 'Inconclusive evidence',
    description: 'A probe could not prove anything (no positive control, no flows); the datapath was not judged.',
    statuses: ['broken'],
    messageRegex: `(?s)${ERROR_PREFIX_JAVA}Inconclusive.*`,
    matches: isInconclusive,
  },
  {
    id: 'timeout',
    name: 'Timeout',
    description: 'A command or wait ran out of time before the scenario could judge the datapath.',
    statuses: ['broken'],
    messageRegex: `(?s)(?!${ERROR_PREFIX_JAVA}Inconclusive).*(?i:timed out).*`,
    matches: (m) => !isInconclusive(m) && isTimeout(m),
  },
  {
    id: 'infrastructure',
    name: 'Infrastructure',
    description: 'Provisioning or a tool failed (cluster, kubectl, iptables, bpftool); not a verdict on the datapath.',
    statuses: ['broken'],
    messageRegex: `(?s)(?!${ERROR_PREFIX_JAVA}Inconclusive)(?!.*(?i:timed out)).*`,
    matches: (m) => !isInconclusive(m) && !isTimeout(m),
  },
];

/** The category of one scenario, or undefined when it passed or was skipped. */
export function categorize(r: Pick<ScenarioResult, 'status' | 'message'>): Category | undefined {
  return CATEGORIES.find((c) => c.statuses.includes(r.status) && c.matches(r.message ?? ''));
}

/** The Allure 2 `categories.json` document. */
export function categoriesDocument(): Array<Record<string, unknown>> {
  return CATEGORIES.map((c) => ({
    name: c.name,
    description: c.description,
    matchedStatuses: c.statuses,
    ...(c.messageRegex === undefined ? {} : { messageRegex: c.messageRegex }),
  }));
}

/** Write `categories.json` into a results directory; returns its path. */
export async function writeCategories(resultsDir: string): Promise<string> {
  const file = path.join(resultsDir, 'categories.json');
  await writeFile(file, `${JSON.stringify(categoriesDocument(), null, 2)}\n`);
  return file;
}
