/**
 * `hookpoint matrix`: the suite once per combination of Cilium (and Kubernetes) versions. Each
 * combination is one child `hookpoint run` process with its own cluster (or lab) name and its own
 * results directory `<reports>/matrix/<combination>/`, up to N at once; at the end every
 * combination's results are merged into ONE report in `<reports>/` with the versions as
 * parameters and the scenario × version table in summary.md. Everything is validated before
 * anything runs.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { descriptorOf } from '../backends/descriptors.ts';
import { CILIUM_VERSION, type Config, DEFAULTS, DNS1123, K8S_VERSION, loadConfig, type RawOptions } from '../config.ts';
import { type ConfigurationRef, parseConfigurationList } from '../configuration-file.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { cancelled, formatArgv, spawnBackground } from '../exec/index.ts';
import { compatibilityLine } from './environment-labels.ts';

/** One combination runs a whole suite, provisioning included (Kind + Helm + Cilium): generous. */
export const COMBINATION_TIMEOUT_MS = 3 * 60 * 60 * 1000;
export const MAX_PARALLEL = 16;
/** Kind cluster and lab names: DNS-1123, at most 40 characters (support/config.ts). */
const MAX_CLUSTER = 40;
const BIN = path.resolve(import.meta.dirname, '..', '..', 'bin', 'hookpoint.js');

export interface MatrixRaw extends RawOptions {
  /** Comma-separated versions (the run's single-version flags, as lists). */
  cilium?: string;
  k8s?: string;
  parallel?: string | number;
  /** `--configs name=file,…`: one combination per configuration (configuration-file.ts). */
  configs?: string;
}

export interface Combination {
  /**
   * DNS-1123 id: "c1-16-15", or "c1-16-15-k1-27-3" when several Kubernetes versions are given;
   * with --configs the configuration's name first ("tunnel", "tunnel-c1-16-15").
   */
  id: string;
  cilium: string;
  /** Set with --configs: the configuration this combination runs under. */
  configuration?: ConfigurationRef;
  /** Only set when --k8s was given. */
  k8s?: string;
  /** The child's cluster / lab name: `<cluster>-<id>`, at most 40 characters. */
  cluster: string;
  /** The child's --reports directory: `<reports>/matrix/<id>`. */
  dir: string;
  /** Where the child's allure-cucumberjs writes: `<dir>/allure-results`. */
  resultsDir: string;
  /** The child's validated configuration (what it will run with). */
  config: Config;
}

export interface MatrixPlan {
  backend: Config['backend'];
  parallel: number;
  reportsDir: string;
  combinations: Combination[];
  /** Feature paths given to matrix, passed to every child. */
  paths: string[];
  raw: MatrixRaw;
}

/** A comma-separated version list, each checked against `re`; malformed or repeated → UsageError (pure). */
export function parseVersions(flag: '--cilium' | '--k8s', text: string | undefined, re: RegExp): string[] {
  const example = flag === '--cilium' ? '--cilium 1.16.15,1.17.15,1.18.6' : '--k8s v1.27.3,v1.29.2';
  if (text === undefined || text.trim() === '')
    throw new UsageError(`hookpoint matrix needs ${flag} with at least one version.`, `For example ${example}.`);
  const items = text.split(',').map((v) => v.trim());
  const bad = items.filter((v) => !re.test(v));
  if (bad.length)
    throw new UsageError(
      `Invalid ${flag} "${text}": ${bad.map((v) => (v === '' ? 'an empty entry' : `"${v}"`)).join(', ')} ${bad.length === 1 ? 'is not a version' : 'are not versions'}.`,
      `Give comma-separated versions without spaces, e.g. ${example}.`,
    );
  const twice = items.filter((v, i) => items.indexOf(v) !== i);
  if (twice.length)
    throw new UsageError(`Invalid ${flag} "${text}": ${twice.join(', ')} is listed twice.`, 'List each version once.');
  return items;
}

/** --parallel: a whole number from 1 to 16 (pure). */
export function parseParallel(v: string | number | undefined): number {
  if (v === undefined) return 1;
  const n = typeof v === 'number' ? v : /^\s*-?\d+\s*$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PARALLEL)
    throw new UsageError(
      `Invalid --parallel "${v}": it must be a whole number from 1 to ${MAX_PARALLEL} (how many combinations run at once).`,
      'For example --parallel 2.',
    );
  return n;
}

const slug = (v: string) =>
  v
    .toLowerCase()
    .replace(/^v/, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

/** "1.16.15" → "c1-16-15"; with a Kubernetes version "c1-16-15-k1-27-3" (pure). */
export function combinationId(cilium: string, k8s?: string): string {
  return `c${slug(cilium)}${k8s ? `-k${slug(k8s)}` : ''}`;
}

/** `<base>-<id>` as a DNS-1123 name of at most 40 characters; the base is shortened, the id kept (pure). */
export function combinationCluster(base: string, id: string): string {
  const full = `${base}-${id}`;
  if (full.length <= MAX_CLUSTER) return full;
  const suffix = id.length <= MAX_CLUSTER - 4 ? id : `m${createHash('sha256').update(id).digest('hex').slice(0, 10)}`;
  const room = MAX_CLUSTER - suffix.length - 1;
  const head = base.slice(0, room).replace(/-+$/, '');
  return head ? `${head}-${suffix}` : suffix;
}

/**
 * Validate everything and lay out the combinations, before anything runs (pure apart from
 * reading `env`). Every child configuration goes through the run's own validation.
 */
export function planMatrix(raw: MatrixRaw, paths: string[] = [], env: NodeJS.ProcessEnv = process.env): MatrixPlan {
  const configs = raw.configs === undefined ? [undefined] : parseConfigurationList(raw.configs);
  // With --configs the configurations are the matrix; one Cilium version (the default) will do.
  const ciliums = parseVersions(
    '--cilium',
    raw.cilium ?? env.HOOKPOINT_CILIUM ?? (raw.configs !== undefined ? DEFAULTS.cilium : undefined),
    CILIUM_VERSION,
  );
  const k8sText = raw.k8s ?? env.HOOKPOINT_K8S;
  const k8ss = k8sText === undefined ? [undefined] : parseVersions('--k8s', k8sText, K8S_VERSION);
  const parallel = parseParallel(raw.parallel);
  const base = raw.cluster ?? env.HOOKPOINT_CLUSTER ?? DEFAULTS.cluster;
  if (!DNS1123.test(base))
    throw new UsageError(
      `Invalid --cluster "${base}": expected a DNS-1123 name (lower-case letters, digits and "-", starting and ending with a letter or digit).`,
      `Each combination appends its id, e.g. "${DEFAULTS.cluster}-c1-17-15".`,
    );
  const reportsDir = path.resolve(raw.reports ?? env.HOOKPOINT_REPORTS ?? DEFAULTS.reportsDir);
  const combinations: Combination[] = [];
  for (const configuration of configs) {
    for (const cilium of ciliums) {
      for (const k8s of k8ss) {
        const versions = combinationId(cilium, k8ss.length > 1 ? k8s : undefined);
        const id = configuration
          ? ciliums.length > 1 || k8ss.length > 1
            ? `${configuration.name}-${versions}`
            : configuration.name
          : versions;
        const cluster = combinationCluster(base, id);
        const dir = path.join(reportsDir, 'matrix', id);
        const config = loadConfig(
          {
            ...raw,
            cilium,
            k8s,
            cluster,
            reports: dir,
            parallel: undefined,
            ...(configuration ? { configuration: `${configuration.name}=${configuration.file}` } : {}),
          },
          env,
        );
        combinations.push({
          id,
          cilium,
          ...(configuration ? { configuration } : {}),
          ...(k8s ? { k8s } : {}),
          cluster,
          dir,
          resultsDir: path.join(dir, 'allure-results'),
          config,
        });
      }
    }
  }
  const backend = combinations[0]!.config.backend;
  if (backend === 'existing' && parallel > 1 && combinations.length > 1)
    throw new UsageError(
      `--parallel ${parallel} cannot be used with --backend existing: every combination runs on the one cluster of the kubeconfig.`,
      'Drop --parallel so the combinations run one after the other.',
    );
  return { backend, parallel, reportsDir, combinations, paths, raw };
}

/** The run flags a matrix passes through unchanged to every child (long flag → option key). */
const FORWARDED: ReadonlyArray<[string, keyof MatrixRaw]> = [
  ['--kind-config', 'kindConfig'],
  ['--values', 'values'],
  ['--keep', 'keep'],
  ['--iptables', 'iptables'],
  ['--node-reads', 'nodeReads'],
  ['--variant', 'variant'],
  ['--tags', 'tags'],
  ['--name', 'name'],
  ['--shard', 'shard'],
  ['--retry', 'retry'],
  ['--kubeconfig', 'kubeconfig'],
  ['--context', 'context'],
  ['--image', 'image'],
];

/** The child `hookpoint run` argv of one combination (pure): its versions, cluster, reports dir, --no-report. */
export function childArgv(
  plan: MatrixPlan,
  c: Combination,
  entry: readonly string[] = [process.execPath, BIN],
): string[] {
  const argv = [...entry, ...(plan.raw.debug ? ['--debug'] : []), 'run'];
  argv.push('--backend', plan.backend, '--cilium', c.cilium);
  if (c.k8s) argv.push('--k8s', c.k8s);
  if (c.configuration) argv.push('--configuration', `${c.configuration.name}=${c.configuration.file}`);
  argv.push('--cluster', c.cluster, '--reports', c.dir, '--no-report');
  for (const [flag, key] of FORWARDED) {
    const v = plan.raw[key];
    if (v === undefined || v === false) continue;
    argv.push(flag, Array.isArray(v) ? v.join(',') : String(v));
  }
  if (plan.raw.reuse) argv.push('--reuse');
  if (plan.raw.kindLoad) argv.push('--kind-load');
  if (plan.paths.length) argv.push('--', ...plan.paths);
  return argv;
}

/** The merged report's environment: the backend, every version of the matrix, and — on the lab — that the version is a label. */
export function matrixEnvironment(plan: MatrixPlan): Record<string, string> {
  const uniq = (xs: Array<string | undefined>) => [...new Set(xs.filter((x): x is string => x !== undefined))];
  const ciliums = uniq(plan.combinations.map((c) => c.cilium)).join(', ');
  const described = descriptorOf(plan.backend);
  const { 'cilium.version': ciliumLabel, ...labels } = described.environment({
    cilium: ciliums,
    variants: plan.combinations[0]!.config.variants,
  });
  const env: Record<string, string> = {
    backend: described.label,
    'cilium.version': ciliumLabel ?? ciliums,
    'kubernetes.version': uniq(plan.combinations.map((c) => c.config.k8s)).join(', '),
    'matrix.combinations': plan.combinations.map((c) => c.id).join(', '),
    kernel: os.release(),
    'node.version': process.version,
  };
  if (plan.combinations[0]!.config.iptables) env['iptables.mode'] = plan.combinations[0]!.config.iptables;
  const untested = plan.combinations
    .map((c) => compatibilityLine(c.config))
    .filter((l): l is string => !!l?.startsWith('untested'));
  if (untested.length) env.compatibility = [...new Set(untested)].join(' ');
  Object.assign(env, labels);
  return env;
}

export interface CombinationOutcome {
  combination: Combination;
  /** The child's exit code; null when it was killed (timeout, interrupt). */
  exitCode: number | null;
  timedOut: boolean;
  durationMs: number;
  /** Scenario results the child wrote. */
  results: number;
  /** The child's last stderr line when it did not exit 0 (its one-paragraph error). */
  error?: string;
}

/** The matrix's exit code from its combinations' (pure): 0 all passed; the shared code when all failures agree; else 1. */
export function matrixExitCode(codes: Array<number | null>): number {
  if (codes.includes(ExitCode.interrupted)) return ExitCode.interrupted;
  const bad = [...new Set(codes.filter((c) => c !== 0).map((c) => c ?? ExitCode.scenarioFailed))];
  if (bad.length === 0) return ExitCode.ok;
  return bad.length === 1 ? bad[0]! : ExitCode.scenarioFailed;
}

async function countResults(dir: string): Promise<number> {
  try {
    return (await readdir(dir)).filter((n) => n.endsWith('-result.json')).length;
  } catch {
    return 0;
  }
}

/** Lines of a child's stdout worth showing as progress. */
const PROGRESS_LINE = /^(hookpoint: |\d+ scenarios? \()/;

async function runCombination(
  plan: MatrixPlan,
  c: Combination,
  log: (l: string) => void,
  entry: readonly string[] | undefined,
  timeoutMs: number,
): Promise<CombinationOutcome> {
  // Stale results of an earlier matrix must never be merged into this one.
  await rm(c.dir, { recursive: true, force: true });
  await mkdir(c.dir, { recursive: true });
  const argv = childArgv(plan, c, entry);
  const tag = `[${c.id}]`;
  log(
    `${tag} started: ${c.configuration ? `configuration ${c.configuration.name} (${c.configuration.file}), ` : ''}Cilium ${c.cilium}${c.k8s ? `, Kubernetes ${c.k8s}` : ''} on ${plan.backend} "${c.cluster}"`,
  );
  const started = Date.now();
  const child = spawnBackground(argv, { maxMs: timeoutMs, where: `matrix ${c.id}`, graceMs: 300_000 });
  let shown = 0;
  const pump = () => {
    const text = child.output();
    const end = text.lastIndexOf('\n');
    if (end < shown) return;
    for (const line of text.slice(shown, end).split('\n')) {
      const l = line.trim();
      if (PROGRESS_LINE.test(l)) log(`${tag} ${l.replace(/^hookpoint: /, '')}`);
    }
    shown = end + 1;
  };
  const timer = setInterval(pump, 500);
  try {
    await child.exited;
  } finally {
    clearInterval(timer);
  }
  pump();
  const res = await child.stop();
  const durationMs = Date.now() - started;
  await writeFile(
    path.join(c.dir, 'hookpoint-run.log'),
    `$ ${formatArgv(argv)}\n# exit ${res.record.exitCode ?? res.record.signal}${res.record.timedOut ? ' (timed out)' : ''} after ${(durationMs / 1000).toFixed(1)} s\n\n${res.stdout}\n[stderr]\n${res.stderr}`,
  );
  const exitCode = res.record.exitCode;
  const errLine = res.stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();
  const outcome: CombinationOutcome = {
    combination: c,
    exitCode,
    timedOut: res.record.timedOut,
    durationMs,
    results: await countResults(c.resultsDir),
    ...(exitCode !== 0 && errLine ? { error: errLine } : {}),
  };
  const verdict =
    exitCode === 0
      ? 'passed'
      : res.record.timedOut
        ? `timed out after ${timeoutMs / 1000} s`
        : exitCode === null
          ? `killed (${res.record.signal})`
          : `FAILED (exit ${exitCode})`;
  log(
    `${tag} ${verdict} in ${(durationMs / 1000).toFixed(1)} s — ${outcome.results} scenario results${outcome.error ? ` — ${outcome.error}` : ''}`,
  );
  return outcome;
}

export interface MatrixRequest {
  plan: MatrixPlan;
  log?: (line: string) => void;
  /** [node, bin/hookpoint.js] by default. */
  entry?: readonly string[];
  timeoutMs?: number;
  /** Render the Allure site and single file (default true). */
  allure?: boolean;
}

export interface MatrixOutcome {
  exitCode: number;
  outcomes: CombinationOutcome[];
  /** Results directories merged into the report. */
  merged: string[];
}

/** Run every combination (up to plan.parallel at once), then merge their results into one report. */
export async function runMatrix(req: MatrixRequest): Promise<MatrixOutcome> {
  const { plan } = req;
  const log = req.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const timeoutMs = req.timeoutMs ?? COMBINATION_TIMEOUT_MS;
  const n = plan.combinations.length;
  log(
    `hookpoint matrix: ${n} combination${n === 1 ? '' : 's'} on ${plan.backend}, up to ${Math.min(plan.parallel, n)} at once: ${plan.combinations.map((c) => c.id).join(', ')}`,
  );
  if (descriptorOf(plan.backend).ciliumVersionIsLabel && new Set(plan.combinations.map((c) => c.cilium)).size > 1)
    log(
      'hookpoint matrix: on the lab the Cilium version is only a label (one datapath); the matrix proves the mechanics.',
    );
  for (const c of plan.combinations) {
    const compat = compatibilityLine(c.config);
    if (compat?.startsWith('untested')) log(`hookpoint matrix: warning: ${c.id}: ${compat}`);
  }
  const queue = [...plan.combinations];
  const outcomes = new Map<Combination, CombinationOutcome>();
  const worker = async () => {
    for (let c = queue.shift(); c && !cancelled(); c = queue.shift())
      outcomes.set(c, await runCombination(plan, c, log, req.entry, timeoutMs));
  };
  await Promise.all(Array.from({ length: Math.min(plan.parallel, n) }, worker));
  const done = plan.combinations.flatMap((c) => outcomes.get(c) ?? []);
  const codes = plan.combinations.map((c) => outcomes.get(c)?.exitCode ?? ExitCode.interrupted);
  const exitCode = matrixExitCode(codes);
  const merged = done.filter((o) => o.results > 0).map((o) => o.combination.resultsDir);
  if (cancelled()) {
    log('hookpoint matrix: interrupted; no merged report.');
    return { exitCode: ExitCode.interrupted, outcomes: done, merged: [] };
  }
  if (merged.length === 0) {
    log('hookpoint matrix: no combination wrote scenario results, so there is no report; see the errors above.');
    return { exitCode: exitCode || ExitCode.scenarioFailed, outcomes: done, merged };
  }
  const { buildReports } = await import('../report/index.ts');
  const built = await buildReports({
    resultsDirs: merged,
    reportsDir: plan.reportsDir,
    environment: matrixEnvironment(plan),
    allure: req.allure,
  });
  const t = built.summary.counts;
  log(
    `hookpoint matrix: ${t.total} scenario results from ${merged.length} of ${n} combinations — ${t.passed} passed, ${t.failed} failed, ${t.broken} broken, ${t.skipped} skipped`,
  );
  const m = built.summary.matrix;
  if (m) {
    if (m.note) log(`  ${m.note}`);
    for (const r of m.rows) {
      const cells = m.versions.map((v) => `${v} ${r.cells[v] ?? '—'}`).join(', ');
      log(`  ${r.name}: ${cells}${r.differs ? '  (differs)' : ''}`);
    }
  }
  for (const f of built.files) {
    const rel = path.relative(process.cwd(), f);
    log(`  ${rel && !rel.startsWith('..') ? rel : f}`);
  }
  return { exitCode, outcomes: done, merged };
}
