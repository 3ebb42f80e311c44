/**
 * `buildReports`: every review artifact from allure-results, in one call (used by
 * `hookpoint report` and at the end of `hookpoint run`). summary.md, summary.json and junit.xml
 * are written first, from the results alone; the Allure site and the single-file HTML follow
 * (they need Java). Several results directories are merged into a temporary staging copy, so
 * the inputs are never modified and nothing is left behind.
 */
import { cp, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { EnvironmentError } from '../errors.ts';
import { arrangeResults } from './arrange.ts';
import { writeCategories } from './categories.ts';
import { executorDocument, writeEnvironment, writeExecutor } from './environment-properties.ts';
import { writeJunit } from './junit.ts';
import { exists, renderAllure, trendLength } from './render.ts';
import { mergeResults, readEnvironment, readResults, type ScenarioResult } from './results.ts';
import { comparableKey, RUN_KEYS, type RunIdentity, runIdentityOf } from './run-identity.ts';
import { type Summary, summarize, writeSummary } from './summary.ts';

export { CATEGORIES, type Category, type CategoryId, categorize, writeCategories } from './categories.ts';
export {
  ENVIRONMENT_KEYS,
  executorDocument,
  formatProperties,
  writeEnvironment,
  writeExecutor,
} from './environment-properties.ts';
export { junitXml, writeJunit } from './junit.ts';
export { HOOK_POINTS, type Hop, type HopVerdict, type PacketPath, packetPathSvg } from './packet-path-svg.ts';
export { allureLauncher, carryHistory, findJava, renderAllure, trendLength } from './render.ts';
export {
  mergeResults,
  parseProperties,
  parseResult,
  readEnvironment,
  readResults,
  type ScenarioResult,
  type ScenarioStatus,
  type StepResult,
} from './results.ts';
export { comparableKey, newRunId, RUN_KEYS, type RunIdentity, runIdentityOf } from './run-identity.ts';
export { firstEvidenceLine, type Summary, summarize, summaryMarkdown, writeSummary } from './summary.ts';

export interface BuildReportsOptions {
  /** allure-results directories; several are merged as if one run. */
  resultsDirs: string[];
  /** Where the artifacts go (reports/). */
  reportsDir: string;
  /** environment.properties content; default: merged from the inputs' environment.properties. */
  environment?: Record<string, string>;
  /** Carry the history of the previous comparable report into the new one (default true). */
  history?: boolean;
  /** Render the Allure site and single file (default true; false = summary and JUnit only). */
  allure?: boolean;
  timeoutMs?: number;
  /** The run was interrupted: the outputs are rendered from its partial results, and say so. */
  interrupted?: boolean;
}

export interface BuiltReports {
  summary: Summary;
  results: ScenarioResult[];
  run: RunIdentity;
  /** Paths written: summary.md, summary.json, junit.xml, then allure-report/ and hookpoint-report.html. */
  files: string[];
  site?: string;
  singleFile?: string;
  markdown: string;
  json: string;
  junit: string;
  /** Builds in the new report's trend (previous comparable ones + this one); 0 without Allure. */
  trend: number;
}

/** The outputs one report consists of; each is replaced (or removed) together with the others. */
export const REPORT_OUTPUTS = ['summary.md', 'summary.json', 'junit.xml', 'allure-report', 'hookpoint-report.html'];
/** Per comparable-run key, the Allure history a new report continues (never mixed across keys). */
export const HISTORY_STORE = '.hookpoint-history';

/**
 * Render every output into a build directory beside the outputs, then move them into place
 * together: an interrupted or failed render replaces nothing, and what is in reportsDir always
 * comes from one set of results. Without Java, summary and JUnit are installed and the stale
 * Allure outputs removed (they would describe an earlier run), then the EnvironmentError is thrown.
 */
export async function buildReports(opts: BuildReportsOptions): Promise<BuiltReports> {
  const dirs = opts.resultsDirs.map((d) => path.resolve(d));
  const reportsDir = path.resolve(opts.reportsDir);
  await mkdir(reportsDir, { recursive: true });
  const staging = await mkdtemp(path.join(os.tmpdir(), 'hookpoint-results-'));
  const build = await mkdtemp(path.join(reportsDir, '.hookpoint-build-'));
  try {
    await mergeResults(dirs, staging);
    await arrangeResults(staging);
    const results = await readResults(staging);
    const env = opts.environment ?? (await readEnvironment(dirs));
    const run = runIdentityOf(env, results);
    const summary = summarize(results, new Date(), { environment: env, run, interrupted: opts.interrupted });
    await writeSummary(build, summary);
    await writeJunit(build, results, { environment: env, run });
    const names = ['summary.md', 'summary.json', 'junit.xml'];
    const built: BuiltReports = {
      summary,
      results,
      run,
      files: [],
      markdown: path.join(reportsDir, 'summary.md'),
      json: path.join(reportsDir, 'summary.json'),
      junit: path.join(reportsDir, 'junit.xml'),
      trend: 0,
    };
    let javaMissing: unknown;
    if (opts.allure !== false) {
      const key = comparableKey(env, results);
      const store = path.join(reportsDir, HISTORY_STORE, key);
      const carry = opts.history !== false && (await exists(path.join(store, 'history')));
      const previous = carry ? await trendLength(store) : 0;
      await writeEnvironment(staging, {
        ...env,
        [RUN_KEYS.id]: run.id,
        [RUN_KEYS.started]: run.started,
        [RUN_KEYS.selection]: run.selection,
      });
      await writeCategories(staging);
      await writeExecutor(
        staging,
        executorDocument(previous + 1, { buildName: `hookpoint run ${run.id} (#${previous + 1})` }),
      );
      try {
        await renderAllure({
          resultsDir: staging,
          reportsDir: build,
          historyFrom: carry ? store : undefined,
          timeoutMs: opts.timeoutMs,
          cleanup: opts.interrupted,
        });
        names.push('allure-report', 'hookpoint-report.html');
        built.trend = await trendLength(path.join(build, 'allure-report'));
        await rm(store, { recursive: true, force: true });
        await mkdir(store, { recursive: true });
        await cp(path.join(build, 'allure-report', 'history'), path.join(store, 'history'), { recursive: true });
      } catch (err) {
        if (!(err instanceof EnvironmentError)) throw err;
        javaMissing = err;
      }
    }
    // Install: every output of this build replaces its predecessor; outputs it lacks are removed.
    for (const n of REPORT_OUTPUTS) {
      const target = path.join(reportsDir, n);
      await rm(target, { recursive: true, force: true });
      if (names.includes(n)) {
        await rename(path.join(build, n), target);
        built.files.push(target);
      }
    }
    if (names.includes('allure-report')) {
      built.site = path.join(reportsDir, 'allure-report');
      built.singleFile = path.join(reportsDir, 'hookpoint-report.html');
    }
    if (javaMissing) throw javaMissing;
    return built;
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(build, { recursive: true, force: true });
  }
}

/** Outputs of a run besides the report itself: the raw results, cucumber's messages, transcripts. */
const RUN_OUTPUTS = ['allure-results', 'cucumber-messages.ndjson', 'allure-reporter.out', 'transcripts'];

/**
 * A run that stopped before any scenario ran leaves no output that could pass for current: the
 * previous run's outputs are removed, and summary.md / summary.json say which run stopped and why.
 * The comparable-run history is kept (it belongs to earlier runs, not to this one).
 */
export async function retireOutputs(
  reportsDir: string,
  run: RunIdentity,
  stop: { exitCode: number; reason: string },
): Promise<void> {
  const dir = path.resolve(reportsDir);
  for (const n of [...REPORT_OUTPUTS, ...RUN_OUTPUTS]) await rm(path.join(dir, n), { recursive: true, force: true });
  const headline = `# Hookpoint report: run ${run.id} stopped before any scenario ran (exit ${stop.exitCode})`;
  await writeFile(
    path.join(dir, 'summary.md'),
    `${headline}\n\nRun \`${run.id}\` · started ${run.started} · selection: ${run.selection}\n\nNo scenario ran, so there are no results. ${stop.reason.replace(/\s+/g, ' ').trim()}\n`,
  );
  await writeFile(
    path.join(dir, 'summary.json'),
    `${JSON.stringify({ headline, run, stopped: stop, counts: { total: 0 }, scenarios: [] }, null, 2)}\n`,
  );
}
