/**
 * `hookpoint run`: plan the scenarios, prove every step is defined (closest steps suggested),
 * check the machine, provision once, run cucumber in-process, tear down, render the reports.
 */
import { appendFile, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type IRunConfiguration,
  type ISupportCodeLibrary,
  loadConfiguration,
  loadSupport,
  runCucumber,
} from '@cucumber/cucumber/api';
import parseTagExpression from '@cucumber/tag-expressions';
import { descriptorOf } from '../backends/descriptors.ts';
import { type Capability, requiredCapabilities } from '../backends/types.ts';
import type { Config } from '../config.ts';
import { loadConfiguration as loadConfigurationFile } from '../configuration-file.ts';
import { EnvironmentError, ExitCode, exitCodeOf, HookpointError, UsageError } from '../errors.ts';
import { installMissing, missingPackages, RUN_PURPOSES } from '../exec/host-tools.ts';
import { cancelled } from '../exec/index.ts';
import { plural } from '../expectations/evidence-ref.ts';
import { ResultsWriter } from '../report/results-writer.ts';
import { newRunId, RUN_KEYS, type RunIdentity } from '../report/run-identity.ts';
import { CONFIGURATION_PREFIX } from '../report/summary.ts';
import { TERMINAL_OPTIONS } from '../report/terminal.ts';
import { clusterSpec } from '../scenario/cluster-setup.ts';
import { catalog, closestSteps, type StepDoc } from '../scenario/vocabulary.ts';
import {
  type ClusterRequest,
  type Configuration,
  checkServiceDefinitions,
  configurationCluster,
  groupByConfiguration,
  requestOf,
} from './configurations.ts';
import { createBackend, ensureProvisioned, type RunContext, setRunContext } from './context.ts';
import { baseEnvironment, compatibilityLine, environmentOf } from './environment-labels.ts';
import { expandFeaturePaths, type PlannedScenario, planScenarios } from './features.ts';
import { checkReportsDir, checkScenarioInputs, checkScenarioShape } from './preflight.ts';
import { backendChecks, blocking } from './prerequisites.ts';

export interface RunRequest {
  config: Config;
  paths: string[];
  list?: boolean;
  dryRun?: boolean;
  /** Render reports at the end (default true). */
  report?: boolean;
  log?: (line: string) => void;
}

/** `i/n`: every n-th scenario starting at the i-th (1-based), after tags and name — deterministic across machines. */
export function shardOf(scenarios: PlannedScenario[], shard: string | undefined): PlannedScenario[] {
  if (!shard) return scenarios;
  const m = /^(\d+)\/(\d+)$/.exec(shard);
  const [i, n] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  if (!m || n < 1 || i < 1 || i > n)
    throw new UsageError(`Invalid --shard "${shard}".`, 'Write it as i/n with 1 ≤ i ≤ n, e.g. --shard 2/4.');
  return scenarios.filter((_, k) => k % n === i - 1);
}

/** Scenario locations for cucumber, so it runs exactly the selection made here (file:line:line). */
export function locations(scenarios: PlannedScenario[]): string[] {
  const byFile = new Map<string, number[]>();
  for (const s of scenarios) byFile.set(s.uri, [...(byFile.get(s.uri) ?? []), s.line]);
  return [...byFile].map(([uri, lines]) => `${uri}:${lines.join(':')}`);
}

export function selectScenarios(all: PlannedScenario[], tags?: string, name?: string): PlannedScenario[] {
  let out = all;
  if (tags) {
    let expr: ReturnType<typeof parseTagExpression>;
    try {
      expr = parseTagExpression(tags);
    } catch (err) {
      throw new UsageError(
        `Invalid --tags expression "${tags}": ${(err as Error).message}.`,
        'Example: --tags "@seed and not @flaky".',
      );
    }
    out = out.filter((s) => expr.evaluate(s.tags));
    // `--tags seed` is a valid expression that matches nothing: tags are written with their @.
    const bare = tags.split(/[\s()]+/).filter((w) => /^[\w:.-]+$/.test(w) && !/^(and|or|not)$/.test(w));
    if (out.length === 0 && bare.length)
      throw new UsageError(
        `No scenario matches --tags "${tags}": tags are written with their @ (${bare.map((w) => `"${w}"`).join(', ')} has none).`,
        `Did you mean --tags "${tags.replace(/(^|[\s(])([\w:.-]+)/g, (m, pre, w) => (/^(and|or|not)$/.test(w) ? m : `${pre}@${w}`))}"?`,
      );
  }
  if (name) {
    let re: RegExp;
    try {
      re = new RegExp(name);
    } catch {
      throw new UsageError(`Invalid --name regular expression "${name}".`);
    }
    out = out.filter((s) => re.test(s.name));
  }
  return out;
}

interface Matcher {
  pattern: string;
  matches(text: string): boolean;
}

/**
 * Undefined and ambiguous steps fail before anything is provisioned: every one of the run at once
 * (a Background step once, not per scenario), each with the closest known steps.
 */
export function checkSteps(scenarios: PlannedScenario[], defs: Matcher[], docs: readonly StepDoc[]): void {
  const undefinedSteps = new Map<string, { text: string; close: string }>();
  const ambiguous = new Map<string, string>();
  for (const sc of scenarios) {
    for (const step of sc.steps) {
      const where = `${sc.uri}:${step.line}`;
      if (undefinedSteps.has(where) || ambiguous.has(where)) continue;
      const hits = defs.filter((d) => d.matches(step.text));
      if (hits.length === 0) {
        const close = closestSteps(step.text, docs)
          .map((d) => `"${d.example.split('\n')[0]!.replace(/^(Given|When|Then) /, '')}"`)
          .join(', ');
        undefinedSteps.set(where, { text: step.text, close });
      } else if (hits.length > 1)
        ambiguous.set(where, `${where}: "${step.text}" matches ${hits.map((h) => `"${h.pattern}"`).join(' and ')}`);
    }
  }
  const all = [...undefinedSteps];
  if (all.length === 1) {
    const [where, u] = all[0]!;
    throw new UsageError(
      `Undefined step at ${where}: "${u.text}".`,
      `Closest known steps: ${u.close}. \`hookpoint steps\` lists them all.`,
    );
  }
  if (all.length > 1)
    throw new UsageError(
      `${all.length} undefined steps: ${all.map(([where, u]) => `at ${where}: "${u.text}" (closest known steps: ${u.close})`).join('; ')}.`,
      '`hookpoint steps` lists them all.',
    );
  if (ambiguous.size) {
    const list = [...ambiguous.values()];
    throw new UsageError(
      list.length === 1 ? `Ambiguous step at ${list[0]}.` : `${list.length} ambiguous steps: ${list.join('; ')}.`,
      'Reword the step so only one definition matches.',
    );
  }
}

/**
 * The cluster the Backgrounds of these scenarios ask for (the first that states one); several
 * configurations are grouped by groupByConfiguration, each provisioned in turn.
 */
export function clusterRequestOf(scenarios: PlannedScenario[]): ClusterRequest | undefined {
  for (const sc of scenarios) {
    const request = requestOf(sc);
    if (request) return request;
  }
  return undefined;
}

function hasCapabilities(caps: ReadonlySet<Capability>, sc: PlannedScenario): boolean {
  return requiredCapabilities(sc.tags).every((c) => caps.has(c as Capability));
}

/**
 * The scenarios the backend will run: those whose `@requires:` capabilities it has (the others are
 * skipped with the reason by the Before hook). Asked of a throwaway backend, built only when a
 * scenario requires something; a backend that cannot be built here says why later.
 */
async function runnableOn(config: Config, scenarios: PlannedScenario[]): Promise<PlannedScenario[]> {
  if (!scenarios.some((s) => requiredCapabilities(s.tags).length > 0)) return scenarios;
  let caps: ReadonlySet<Capability>;
  try {
    caps = (await createBackend(config)).capabilities();
  } catch {
    return scenarios;
  }
  return scenarios.filter((s) => hasCapabilities(caps, s));
}

async function ensurePrerequisites(config: Config, log: (l: string) => void): Promise<void> {
  // The lab's tools and the report's Java, installed with apt when root (one list: support/exec/host-tools.ts).
  if (descriptorOf(config.backend).installsPrerequisitesAsRoot) {
    try {
      await installMissing(RUN_PURPOSES, log);
    } catch (err) {
      const missing = missingPackages(RUN_PURPOSES);
      throw new EnvironmentError(
        `The lab's prerequisites (${missing.join(' ')}) could not be installed with apt: ${(err as Error).message}`,
        `Install them by hand (\`apt-get install -y ${missing.join(' ')}\`); \`hookpoint doctor\` shows every check.`,
      );
    }
  }
  const missing = blocking(
    await backendChecks(config.backend, { kubeconfig: config.kubeconfig, context: config.context }),
    config.backend,
  );
  if (missing.length) {
    const fixes = [...new Set(missing.map((c) => c.install?.replace(/\.+$/, '')).filter(Boolean))].join('; ');
    throw new EnvironmentError(
      `The ${config.backend} backend cannot run on this machine: ${missing.map((c) => `${c.name} (${c.detail})`).join(', ')}.`,
      fixes ? `Fix: ${fixes}. \`hookpoint doctor --backend ${config.backend}\` shows every check.` : undefined,
    );
  }
}

interface RunState {
  run?: RunIdentity;
  reportsDir?: string;
  scenariosStarted: boolean;
}

export async function runFeatures(req: RunRequest): Promise<number> {
  const state: RunState = { scenariosStarted: false };
  try {
    return await runFeaturesIn(req, state);
  } catch (err) {
    // Until the first scenario runs, a stop leaves nothing in reportsDir that could pass for current.
    if (state.run && state.reportsDir && !state.scenariosStarted && !req.dryRun && writable(state.reportsDir)) {
      const { retireOutputs } = await import('../report/index.ts');
      const reason = err instanceof HookpointError ? err.paragraph() : (err as Error).message;
      await retireOutputs(state.reportsDir, state.run, { exitCode: exitCodeOf(err), reason }).catch(() => undefined);
    }
    throw err;
  }
}

async function runFeaturesIn(req: RunRequest, state: RunState): Promise<number> {
  const log = req.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const { config } = req;
  const files = expandFeaturePaths(req.paths.length ? req.paths : ['features']);
  if (files.length === 0) throw new UsageError(`No .feature files under ${req.paths.join(', ') || 'features'}.`);
  const scenarios = shardOf(selectScenarios(planScenarios(files), config.tags, config.name), config.shard);
  if (req.list) {
    for (const s of scenarios) log(`${s.uri}:${s.line}\t${s.name}\t${s.tags.join(' ')}`);
    log(plural(scenarios.length, 'scenario'));
    return ExitCode.ok;
  }
  if (scenarios.length === 0) throw new UsageError('No scenario matches the given paths, --tags and --name.');

  const reportsDir = path.resolve(config.reportsDir);
  const resultsDir = path.join(reportsDir, 'allure-results');
  const started = new Date();
  const runId: RunIdentity = {
    id: newRunId(started),
    started: started.toISOString(),
    selection: selectionText(req.paths, config, scenarios.length),
  };
  state.run = runId;
  state.reportsDir = reportsDir;
  // cucumber.js holds the shared settings (also used by a plain `cucumber-js`); the selection is ours.
  const { default: base } = (await import(pathToFileURL(path.resolve('cucumber.js')).href)) as {
    default: Record<string, unknown>;
  };
  const { runConfiguration } = await loadConfiguration({
    file: false,
    provided: {
      ...base,
      paths: locations(scenarios),
      retry: config.retry,
      retryTagFilter: config.retry > 0 ? '@flaky' : '',
      dryRun: Boolean(req.dryRun),
      format: [
        TERMINAL_FORMATTER,
        `message:${path.join(reportsDir, 'cucumber-messages.ndjson')}`,
        ['allure-cucumberjs/reporter', path.join(reportsDir, 'allure-reporter.out')],
      ],
      formatOptions: {
        ...(base.formatOptions as object),
        resultsDir,
        // Handed to allure-cucumberjs, whose options pass it on to its runtime in place of the default writer.
        writer: new ResultsWriter(resultsDir) as unknown as string,
        [TERMINAL_OPTIONS.report]: path.relative(process.cwd(), path.join(reportsDir, 'hookpoint-report.html')),
      },
    },
  });
  const support = await loadSupport(runConfiguration);
  // The library's step definitions are not in cucumber's public types, but are its documented runtime shape.
  const library = support as unknown as {
    stepDefinitions: Array<{
      pattern: unknown;
      matchesStepName(text: string): boolean;
      expression: {
        match(text: string): Array<{ getParameterType(): { name?: string }; getValue(w: unknown): unknown }> | null;
      };
    }>;
  };
  const defs = library.stepDefinitions.map((d) => ({
    pattern: String(d.pattern),
    matches: (t: string) => d.matchesStepName(t),
    args: (t: string) =>
      (d.expression.match(t) ?? []).map((a) => ({
        type: a.getParameterType().name ?? '',
        value: () => a.getValue(null),
      })),
  }));
  checkSteps(scenarios, defs, catalog);
  const groups = groupByConfiguration(
    scenarios,
    config.kindConfig,
    config.configuration ? loadConfigurationFile(config.configuration) : undefined,
  );
  // Scenarios the backend will skip (`@requires:` a capability it lacks) do not shape its cluster.
  const runnable = new Set(await runnableOn(config, scenarios));
  for (const g of groups)
    checkScenarioInputs(
      g.scenarios,
      defs,
      catalog,
      config,
      g.scenarios.some((s) => runnable.has(s)) ? g.request : undefined,
    );
  checkServiceDefinitions(groups);
  checkScenarioShape(scenarios, defs, catalog);
  if (req.dryRun) {
    log(
      `dry run: ${plural(scenarios.length, 'scenario')}, ${plural(
        scenarios.reduce((n, s) => n + s.steps.length, 0),
        'step',
      )}, every step defined${groups.length > 1 ? `, ${groups.length} cluster configurations` : ''}`,
    );
    return ExitCode.ok;
  }

  checkReportsDir(reportsDir);
  const compat = compatibilityLine(config);
  if (compat) log(`hookpoint: ${compat.startsWith('untested') ? 'warning: ' : 'note: '}${compat}`);
  await ensurePrerequisites(config, log);
  await rm(resultsDir, { recursive: true, force: true });
  // Transcripts are per scenario: an earlier run's would stay beside this run's.
  await rm(path.join(reportsDir, 'transcripts'), { recursive: true, force: true });
  for (const f of APPENDED_OUTPUTS) await rm(path.join(reportsDir, f), { force: true });
  process.env.HOOKPOINT_RUN_OWNER = 'hookpoint';
  if (groups.length > 1)
    log(
      `hookpoint: ${groups.length} cluster configurations, provisioned in turn: ${groups
        .map((g) => `${g.id} (${plural(g.scenarios.length, 'scenario')}; ${g.description})`)
        .join(', ')}`,
    );
  let success = true;
  const environments: Array<Record<string, string>> = [];
  let failure: unknown;
  let lastCtx: RunContext | undefined;
  // The last configuration's teardown runs while the reports render (neither reads what the other writes).
  let teardown: Promise<unknown> | undefined;
  for (const g of groups) {
    if (cancelled()) break;
    const last = g === groups[groups.length - 1];
    const outcome = await runGroup(g, groups.length, { config, runId, runnable, runConfiguration, support, log }, last);
    teardown = outcome.teardown;
    lastCtx = outcome.ctx ?? lastCtx;
    if (outcome.started) state.scenariosStarted = true;
    success &&= outcome.success;
    if (outcome.environment) environments.push(outcome.environment);
    if (outcome.failure !== undefined) {
      failure = outcome.failure;
      break;
    }
  }
  try {
    // A later configuration that could not be provisioned must not leave the earlier ones unreported.
    if (failure !== undefined && !state.scenariosStarted) throw await afterTeardown(failure, teardown, log);
    // After Ctrl-C the scenarios stopped early: every output is rendered from those partial results.
    const interrupted = cancelled();
    const environment = {
      ...(environments.length ? mergeEnvironments(environments) : lastCtx ? baseEnvironment(lastCtx) : {}),
      ...runEnvironment(runId),
    };
    if (req.report !== false) {
      // The environment travels with the results, so a later `hookpoint report --merge` shows it too.
      const { writeEnvironment } = await import('../report/index.ts');
      await writeEnvironment(resultsDir, environment).catch(() => undefined);
      const rendering = renderRunReports(
        reportsDir,
        resultsDir,
        environment,
        log,
        interrupted || failure !== undefined,
      );
      const renderError = await rendering.then(
        () => undefined,
        (err: unknown) => ({ err }),
      );
      failure = await afterTeardown(failure, teardown, log);
      if (renderError) throw renderError.err;
    } else {
      if (environments.length) {
        const { writeEnvironment } = await import('../report/index.ts');
        await writeEnvironment(resultsDir, environment);
      }
      failure = await afterTeardown(failure, teardown, log);
    }
    if (failure !== undefined) throw failure;
    return success ? ExitCode.ok : ExitCode.scenarioFailed;
  } finally {
    // Whatever ends the run here, the last teardown ends first: no cluster state may outlive it.
    await teardown;
  }
}

/** Replaces cucumber's `progress`: three lines per failure, attachments left in the report. */
const TERMINAL_FORMATTER = path.resolve(import.meta.dirname, '..', 'report', 'terminal.ts');

/** Cucumber's own outputs: one file per run, so each configuration's part is appended to it. */
const APPENDED_OUTPUTS = ['cucumber-messages.ndjson', 'allure-reporter.out'];

interface ConfigurationRun {
  config: Config;
  runId: RunIdentity;
  runnable: ReadonlySet<PlannedScenario>;
  runConfiguration: IRunConfiguration;
  support: ISupportCodeLibrary;
  log: (l: string) => void;
}

interface ConfigurationOutcome {
  ctx?: RunContext;
  started: boolean;
  success: boolean;
  /** The teardown still running (runGroup's `overlap`): resolves to its error, if any. */
  teardown?: Promise<unknown>;
  environment?: Record<string, string>;
  failure?: unknown;
}

/**
 * One configuration: its own backend and cluster (`<cluster>-<id>` when the run has several),
 * provisioned, its scenarios run by cucumber, torn down whatever happened (keep policy aside).
 */
async function runGroup(
  g: Configuration,
  count: number,
  run: ConfigurationRun,
  overlap = false,
): Promise<ConfigurationOutcome> {
  const { log } = run;
  const config: Config = { ...run.config, cluster: configurationCluster(run.config.cluster, g.id, count) };
  const backend = await createBackend(config);
  const ctx: RunContext = {
    config,
    backend,
    runId: run.runId.id,
    configuration: { id: g.id, description: g.description },
  };
  setRunContext(ctx);
  const out: ConfigurationOutcome = { ctx, started: false, success: false };
  const tag = count > 1 ? `[${g.id}] ` : '';
  const reportsDir = path.resolve(config.reportsDir);
  try {
    const runnable = g.scenarios.filter((s) => run.runnable.has(s) && hasCapabilities(backend.capabilities(), s));
    const request = clusterRequestOf(runnable);
    if (request) {
      log(`hookpoint: ${tag}provisioning ${backend.describe()} from ${request.kindConfig ?? config.kindConfig} …`);
      const started = Date.now();
      await ensureProvisioned(ctx, clusterSpec(ctx, request.kindConfig, request.values));
      log(`hookpoint: ${tag}cluster ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    out.started = true;
    // The report's environment (the agents' own status) is read while the scenarios run: it
    // describes the configuration just provisioned, and the run does not wait for it afterwards.
    const environment = environmentOf(ctx);
    environment.catch(() => undefined);
    const rc = run.runConfiguration;
    const result = await runCucumber({
      ...rc,
      sources: { ...rc.sources, paths: locations(g.scenarios) },
      formats: count > 1 ? partFormats(rc.formats, g.id) : rc.formats,
      support: run.support,
    });
    out.success = result.success;
    out.environment = await environment;
    out.environment[`${CONFIGURATION_PREFIX}${g.id}`] = `${g.description} (cluster ${config.cluster})`;
  } catch (err) {
    out.failure = err;
  } finally {
    if (count > 1) await appendParts(reportsDir, g.id);
    // One owner of the keep policy per backend: tell it the outcome, then always let it tear down.
    if (!out.success) backend.noteFailure?.();
    const kept = config.keep === 'always' || (config.keep === 'on-failure' && !out.success);
    const teardown = backend.teardown().then(
      () => {
        if (kept)
          log(
            `hookpoint: ${tag}kept the cluster (--keep ${config.keep}); remove it with \`${descriptorOf(config.backend).keptClusterHint(config.cluster)}\`.`,
          );
        return undefined;
      },
      (err: unknown) => err,
    );
    const settled = teardown.finally(() => setRunContext(undefined));
    if (overlap) out.teardown = settled;
    else out.failure = await afterTeardown(out.failure, settled, log);
  }
  return out;
}

/**
 * The run's failure once a teardown (resolving to its error, if any) has ended: a teardown error
 * becomes the failure when there is none, and is only logged when there is one (it must not hide it).
 */
export async function afterTeardown(
  failure: unknown,
  teardown: Promise<unknown> | undefined,
  log: (l: string) => void,
): Promise<unknown> {
  const err = await teardown;
  if (err === undefined) return failure;
  if (failure === undefined) return err;
  log(`hookpoint: teardown also failed: ${(err as Error).message}`);
  return failure;
}

/** Formats of one configuration: the file outputs go to `<file>.<id>` and are appended once it ends. */
function partFormats(formats: IRunConfiguration['formats'], id: string): IRunConfiguration['formats'] {
  const part = (target: string) => (APPENDED_OUTPUTS.includes(path.basename(target)) ? `${target}.${id}` : target);
  return {
    ...formats,
    options: { ...formats.options, [TERMINAL_OPTIONS.configuration]: id },
    files: Object.fromEntries(Object.entries(formats.files).map(([target, f]) => [part(target), f])),
  };
}

async function appendParts(reportsDir: string, id: string): Promise<void> {
  for (const f of APPENDED_OUTPUTS) {
    const part = path.join(reportsDir, `${f}.${id}`);
    try {
      await appendFile(path.join(reportsDir, f), await readFile(part));
      await rm(part, { force: true });
    } catch {}
  }
}

/** One environment for the report: a value every configuration shares once, differing values joined with " | ". */
export function mergeEnvironments(envs: ReadonlyArray<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const env of envs)
    for (const [k, v] of Object.entries(env)) {
      const have = out[k]?.split(' | ') ?? [];
      if (!have.includes(v)) out[k] = [...have, v].join(' | ');
    }
  return out;
}

function runEnvironment(run: RunIdentity): Record<string, string> {
  return { [RUN_KEYS.id]: run.id, [RUN_KEYS.started]: run.started, [RUN_KEYS.selection]: run.selection };
}

/** The selection in words: paths, tags, name, shard and the scenario count. */
function selectionText(paths: string[], config: Config, n: number): string {
  const parts = [paths.length ? paths.join(' ') : 'features'];
  if (config.tags) parts.push(`--tags "${config.tags}"`);
  if (config.name) parts.push(`--name "${config.name}"`);
  if (config.shard) parts.push(`--shard ${config.shard}`);
  if (config.variants.length) parts.push(`--variant ${config.variants.join(',')}`);
  return `${parts.join(' ')} (${n} scenario${n === 1 ? '' : 's'})`;
}

function writable(dir: string): boolean {
  try {
    checkReportsDir(dir);
    return true;
  } catch {
    return false;
  }
}

async function renderRunReports(
  reportsDir: string,
  resultsDir: string,
  environment: Record<string, string>,
  log: (l: string) => void,
  interrupted = false,
): Promise<void> {
  const { buildReports } = await import('../report/index.ts');
  let built: Awaited<ReturnType<typeof buildReports>>;
  try {
    built = await buildReports({ resultsDirs: [resultsDir], reportsDir, environment, interrupted });
  } catch (err) {
    if (cancelled() && !(err instanceof EnvironmentError)) {
      // Interrupted while Allure rendered: nothing of that render was installed. The quick outputs
      // (no Java) still come from this run's results, and the older Allure outputs go.
      const none = await buildReports({
        resultsDirs: [resultsDir],
        reportsDir,
        environment,
        interrupted: true,
        allure: false,
      }).catch(() => undefined);
      if (!none) {
        // Interrupted before any scenario finished: no results, so no output may look current.
        const { retireOutputs, runIdentityOf } = await import('../report/index.ts');
        await retireOutputs(reportsDir, runIdentityOf(environment, []), {
          exitCode: 130,
          reason: 'The run was interrupted before any scenario finished.',
        }).catch(() => undefined);
        return;
      }
      log(
        `hookpoint: interrupted while rendering the Allure report; summary.md, summary.json and junit.xml are written; render it with \`hookpoint report --results ${path.relative(process.cwd(), resultsDir) || resultsDir}\`.`,
      );
      return;
    }
    // The verdict is the scenarios'; a report that cannot be rendered (no Java) is a warning.
    if (!(err instanceof EnvironmentError)) throw err;
    log(
      `hookpoint: warning: ${err.paragraph()} summary.md, summary.json and junit.xml are written; rerun \`hookpoint report\` once fixed.`,
    );
    return;
  }
  const t = built.summary.counts;
  log(
    `hookpoint: ${plural(t.total, 'scenario')} — ${t.passed} passed, ${t.failed} failed, ${t.broken} broken, ${t.skipped} skipped`,
  );
  for (const f of built.files) log(`  ${path.relative(process.cwd(), f) || f}`);
}
