/**
 * `buildReports`: every review artifact from allure-results, in one call (used by
 * `hookpoint report` and at the end of `hookpoint run`). summary.md, summary.json and junit.xml
 * are written first, from the results alone; the Allure site and the single-file HTML follow
 * (they need Java). Several results directories are merged into a temporary staging copy, so
 * the inputs are never modified and nothing is left behind.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeCategories } from './categories.ts';
import { executorDocument, writeEnvironment, writeExecutor } from './environment-properties.ts';
import { writeJunit } from './junit.ts';
import { renderAllure, trendLength } from './render.ts';
import { mergeResults, readEnvironment, readResults, type ScenarioResult } from './results.ts';
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
export { firstEvidenceLine, type Summary, summarize, summaryMarkdown, writeSummary } from './summary.ts';

export interface BuildReportsOptions {
  /** allure-results directories; several are merged as if one run. */
  resultsDirs: string[];
  /** Where the artifacts go (reports/). */
  reportsDir: string;
  /** environment.properties content; default: merged from the inputs' environment.properties. */
  environment?: Record<string, string>;
  /** Carry the previous allure-report/history into the new report (default true). */
  history?: boolean;
  /** Render the Allure site and single file (default true; false = summary and JUnit only). */
  allure?: boolean;
  timeoutMs?: number;
}

export interface BuiltReports {
  summary: Summary;
  results: ScenarioResult[];
  /** Paths written: summary.md, summary.json, junit.xml, then allure-report/ and hookpoint-report.html. */
  files: string[];
  site?: string;
  singleFile?: string;
  markdown: string;
  json: string;
  junit: string;
  /** Builds in the new report's trend (previous ones + this one); 0 without Allure. */
  trend: number;
}

export async function buildReports(opts: BuildReportsOptions): Promise<BuiltReports> {
  const dirs = opts.resultsDirs.map((d) => path.resolve(d));
  const reportsDir = path.resolve(opts.reportsDir);
  const results = await readResults(dirs);
  await mkdir(reportsDir, { recursive: true });
  const summary = summarize(results);
  const { markdown, json } = await writeSummary(reportsDir, summary);
  const junit = await writeJunit(reportsDir, results);
  const built: BuiltReports = { summary, results, files: [markdown, json, junit], markdown, json, junit, trend: 0 };
  if (opts.allure === false) return built;

  const staging = await mkdtemp(path.join(os.tmpdir(), 'hookpoint-results-'));
  try {
    await mergeResults(dirs, staging);
    const env = opts.environment ?? (await readEnvironment(dirs));
    if (Object.keys(env).length) await writeEnvironment(staging, env);
    await writeCategories(staging);
    const site = path.join(reportsDir, 'allure-report');
    const previous = opts.history === false ? 0 : await trendLength(site);
    await writeExecutor(staging, executorDocument(previous + 1));
    const r = await renderAllure({
      resultsDir: staging,
      reportsDir,
      history: opts.history,
      timeoutMs: opts.timeoutMs,
    });
    built.site = r.site;
    built.singleFile = r.singleFile;
    built.trend = await trendLength(r.site);
    built.files.push(r.site, r.singleFile);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return built;
}
