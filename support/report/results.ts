/**
 * Reading Allure 2 results (what allure-cucumberjs writes: one `<uuid>-result.json` per scenario
 * attempt, attachments beside them) into typed scenario results, and merging several result
 * directories into one (same content as one run).
 *
 * Retries: attempts of one scenario share a historyId (the parameters are part of it, so the
 * same scenario under two Cilium versions is two scenarios, not a retry). The latest attempt is
 * the scenario's result; the earlier ones are counted as retries, as Allure does.
 */
import { copyFile, mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.ts';

export type ScenarioStatus = 'passed' | 'failed' | 'broken' | 'skipped';
export const STATUSES: readonly ScenarioStatus[] = ['passed', 'failed', 'broken', 'skipped'];

export interface AttachmentRef {
  name: string;
  /** File name inside the results directory. */
  source: string;
  type: string;
}

export interface StepResult {
  name: string;
  status: ScenarioStatus | 'unknown';
  message?: string;
  attachments: AttachmentRef[];
  steps: StepResult[];
  start?: number;
  stop?: number;
}

export interface ScenarioResult {
  uuid: string;
  name: string;
  feature: string;
  fullName: string;
  status: ScenarioStatus;
  /** statusDetails.message as written by the reporter (may carry a stack after the first line). */
  message?: string;
  trace?: string;
  parameters: Record<string, string>;
  labels: Array<{ name: string; value: string }>;
  /** Every attachment of the scenario (own and in its steps, depth first). */
  attachments: AttachmentRef[];
  steps: StepResult[];
  start?: number;
  stop?: number;
  historyId: string;
  /** Earlier attempts of the same scenario in the same results. */
  retries: number;
  /** Directory the result file was read from. */
  dir: string;
  file: string;
}

export const RESULT_SUFFIX = '-result.json';

/** Files in a results directory that describe the run rather than a scenario. */
const RUN_FILES = new Set(['environment.properties', 'executor.json', 'categories.json']);

function normStatus(s: unknown): ScenarioStatus {
  return s === 'passed' || s === 'failed' || s === 'broken' || s === 'skipped' ? s : 'broken';
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function readAttachments(v: unknown): AttachmentRef[] {
  const out: AttachmentRef[] = [];
  for (const a of arr(v)) {
    const o = a as Record<string, unknown>;
    const source = str(o?.source);
    if (!source) continue;
    out.push({ name: str(o.name) ?? source, source, type: str(o.type) ?? 'application/octet-stream' });
  }
  return out;
}

function readSteps(v: unknown): StepResult[] {
  return arr(v).map((s) => {
    const o = (s ?? {}) as Record<string, unknown>;
    const details = (o.statusDetails ?? {}) as Record<string, unknown>;
    return {
      name: str(o.name) ?? '',
      status: o.status === undefined ? 'unknown' : normStatus(o.status),
      message: str(details.message),
      attachments: readAttachments(o.attachments),
      steps: readSteps(o.steps),
      start: num(o.start),
      stop: num(o.stop),
    };
  });
}

function allAttachments(own: AttachmentRef[], steps: StepResult[]): AttachmentRef[] {
  const out = [...own];
  const walk = (ss: StepResult[]) => {
    for (const s of ss) {
      out.push(...s.attachments);
      walk(s.steps);
    }
  };
  walk(steps);
  return out;
}

/** Parse one `*-result.json` text (pure). */
export function parseResult(text: string, file: string, dir = path.dirname(file)): ScenarioResult {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new UsageError(
      `The Allure result ${file} is not valid JSON (${(err as Error).message}).`,
      'It was probably cut off by an interrupted run; delete it or rerun the scenarios.',
    );
  }
  if (!o || typeof o !== 'object' || typeof o.name !== 'string') {
    throw new UsageError(
      `The Allure result ${file} has no scenario name, so it is not an Allure 2 test result.`,
      'Point --results at the directory allure-cucumberjs writes (reports/allure-results by default).',
    );
  }
  const labels = arr(o.labels)
    .map((l) => l as Record<string, unknown>)
    .filter((l) => typeof l?.name === 'string')
    .map((l) => ({ name: String(l.name), value: String(l.value ?? '') }));
  const parameters: Record<string, string> = {};
  for (const p of arr(o.parameters)) {
    const q = p as Record<string, unknown>;
    if (typeof q?.name === 'string') parameters[q.name] = String(q.value ?? '');
  }
  const details = (o.statusDetails ?? {}) as Record<string, unknown>;
  const steps = readSteps(o.steps);
  const own = readAttachments(o.attachments);
  const titlePath = arr(o.titlePath).map(String);
  const feature =
    labels.find((l) => l.name === 'feature')?.value ?? titlePath[titlePath.length - 1] ?? str(o.fullName) ?? '';
  return {
    uuid: str(o.uuid) ?? path.basename(file, RESULT_SUFFIX),
    name: o.name,
    feature,
    fullName: str(o.fullName) ?? o.name,
    status: normStatus(o.status),
    message: str(details.message),
    trace: str(details.trace),
    parameters,
    labels,
    attachments: allAttachments(own, steps),
    steps,
    start: num(o.start),
    stop: num(o.stop),
    historyId: str(o.historyId) ?? str(o.testCaseId) ?? `${str(o.fullName) ?? o.name}|${JSON.stringify(parameters)}`,
    retries: 0,
    dir,
    file,
  };
}

/** Keep the latest attempt per historyId and count the others as its retries (pure). */
export function collapseRetries(all: ScenarioResult[]): ScenarioResult[] {
  const groups = new Map<string, ScenarioResult[]>();
  for (const r of all) {
    const g = groups.get(r.historyId);
    if (g) g.push(r);
    else groups.set(r.historyId, [r]);
  }
  const out: ScenarioResult[] = [];
  for (const g of groups.values()) {
    g.sort((a, b) => (a.stop ?? a.start ?? 0) - (b.stop ?? b.start ?? 0));
    out.push({ ...g[g.length - 1]!, retries: g.length - 1 });
  }
  return sortScenarios(out);
}

/** Stable order for tables: feature, scenario, then parameters. */
export function sortScenarios(rs: ScenarioResult[]): ScenarioResult[] {
  const key = (r: ScenarioResult) => `${r.feature}\u0000${r.name}\u0000${paramText(r.parameters)}`;
  return [...rs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function paramText(p: Record<string, string>): string {
  return Object.keys(p)
    .sort()
    .map((k) => `${k}=${p[k]}`)
    .join(', ');
}

async function assertDir(dir: string): Promise<void> {
  let st: Awaited<ReturnType<typeof stat>>;
  try {
    st = await stat(dir);
  } catch {
    throw new UsageError(
      `The results directory ${dir} does not exist.`,
      'Run the scenarios first (`hookpoint run`), or pass the directory allure-cucumberjs wrote with --results.',
    );
  }
  if (!st.isDirectory()) throw new UsageError(`${dir} is not a directory; --results and --merge take directories.`);
}

/** Every scenario attempt in one results directory, in file order (no retry collapsing). */
export async function readAttempts(dir: string): Promise<ScenarioResult[]> {
  await assertDir(dir);
  const names = (await readdir(dir)).filter((n) => n.endsWith(RESULT_SUFFIX)).sort();
  const out: ScenarioResult[] = [];
  for (const n of names) {
    const file = path.join(dir, n);
    out.push(parseResult(await readFile(file, 'utf8'), file, dir));
  }
  return out;
}

/**
 * Scenario results of one or several results directories (several = as if merged into one).
 * Throws UsageError when there is no result at all.
 */
export async function readResults(dirs: string | string[]): Promise<ScenarioResult[]> {
  const list = Array.isArray(dirs) ? dirs : [dirs];
  if (list.length === 0) throw new UsageError('No results directory was given.');
  const attempts: ScenarioResult[] = [];
  for (const d of list) attempts.push(...(await readAttempts(d)));
  if (attempts.length === 0) {
    throw new UsageError(
      `No scenario results (*${RESULT_SUFFIX}) in ${list.join(', ')}.`,
      'Run the scenarios first (`hookpoint run` writes reports/allure-results), or point --results at the right directory.',
    );
  }
  return collapseRetries(attempts);
}

/** Parse Java-style `environment.properties` (the subset Allure writes and reads). */
export function parseProperties(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.replace(/\\\r?\n[ \t\f]*/g, '').split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.replace(/^[ \t\f]+/, '');
    if (!line || line.startsWith('#') || line.startsWith('!')) continue;
    let i = 0;
    let key = '';
    while (i < line.length) {
      const c = line[i]!;
      if (c === '\\' && i + 1 < line.length) {
        key += line.slice(i, i + 2);
        i += 2;
        continue;
      }
      if (c === '=' || c === ':' || c === ' ' || c === '\t') break;
      key += c;
      i++;
    }
    let rest = line.slice(i).replace(/^[ \t\f]*[=:]?[ \t\f]*/, '');
    rest = rest ?? '';
    out[unescapeProp(key)] = unescapeProp(rest);
  }
  return out;
}

function unescapeProp(s: string): string {
  return s.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, g: string) => {
    if (g.length === 5) return String.fromCharCode(Number.parseInt(g.slice(1), 16));
    return g === 't' ? '\t' : g === 'n' ? '\n' : g === 'r' ? '\r' : g === 'f' ? '\f' : g;
  });
}

/** environment.properties of several results directories; differing values are joined with " | ". */
export async function readEnvironment(dirs: string[]): Promise<Record<string, string>> {
  const merged: Record<string, string[]> = {};
  for (const d of dirs) {
    let text: string;
    try {
      text = await readFile(path.join(d, 'environment.properties'), 'utf8');
    } catch {
      continue;
    }
    for (const [k, v] of Object.entries(parseProperties(text))) {
      const vs = merged[k] ?? [];
      if (!vs.includes(v)) vs.push(v);
      merged[k] = vs;
    }
  }
  return Object.fromEntries(Object.entries(merged).map(([k, vs]) => [k, vs.join(' | ')]));
}

async function sameFile(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([readFile(a), readFile(b)]);
  return x.equals(y);
}

/**
 * Copy the results and attachments of several directories into `into` (created if needed),
 * so `into` holds the same content as one run. Run-level files (environment, executor,
 * categories) and `history/` are left out: the report build writes its own. Returns the
 * number of files copied.
 */
export async function mergeResults(dirs: string[], into: string): Promise<number> {
  await mkdir(into, { recursive: true });
  let copied = 0;
  const origin = new Map<string, string>();
  for (const d of dirs) {
    await assertDir(d);
    for (const ent of await readdir(d, { withFileTypes: true })) {
      if (!ent.isFile() || RUN_FILES.has(ent.name)) continue;
      const from = path.join(d, ent.name);
      const to = path.join(into, ent.name);
      const seen = origin.get(ent.name);
      if (seen !== undefined) {
        if (await sameFile(seen, from)) continue;
        throw new UsageError(
          `Cannot merge ${d}: its file ${ent.name} also exists in ${path.dirname(seen)} with different content.`,
          'Allure names results by UUID, so this means one directory was edited by hand; merge copies, not the same run twice.',
        );
      }
      origin.set(ent.name, from);
      await copyFile(from, to);
      copied++;
    }
  }
  return copied;
}
