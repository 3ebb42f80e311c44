/**
 * The review summary: `summary.md` (paste into a change review or a GitHub job summary) and
 * `summary.json` (the same, for machines). Its first line names the backend truthfully (the lab is
 * a kernel reproduction; its Cilium version is a label); then the run it describes. One row per
 * scenario (latest attempt): its status, category, what its Then steps checked with their key
 * figures (passed rows too), and for each failure the first evidence line; plus a scenario ×
 * Cilium version table when the results carry more than one `cilium` parameter value. The
 * Markdown stays under GitHub's 65,536-character limit, truncating rows with a pointer to the
 * full report.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findDescriptor } from '../backends/descriptors.ts';
import { CONFIGURATION_PARAMETER as CONFIG_PARAMETER } from '../configuration-file.ts';
import { plural } from '../expectations/evidence-ref.ts';
import { type CategoryId, categorize } from './categories.ts';
import { paramText, type ScenarioResult, type ScenarioStatus, type StepResult } from './results.ts';
import type { RunIdentity } from './run-identity.ts';
import { verdictLine } from './verdict.ts';

export interface SummaryScenario {
  feature: string;
  name: string;
  status: ScenarioStatus;
  parameters: Record<string, string>;
  category?: CategoryId;
  categoryName?: string;
  /** First line of the failure message, without the error-class prefix. */
  evidence?: string;
  /** The step that did not pass. */
  failedStep?: string;
  /** Attachment names of the failed step (or of the scenario when no step failed). */
  attachments: string[];
  retries: number;
  durationMs?: number;
  /** What the scenario's Then steps checked: their verdicts' key figures, in step order. */
  checked: string[];
}

export interface MatrixRow {
  feature: string;
  name: string;
  /** Parameters other than `cilium` (e.g. backend), as "k=v, …". */
  variant: string;
  cells: Record<string, ScenarioStatus | null>;
  /**
   * Present when the versions disagree (status or first evidence line): per version, the first
   * evidence line of a failure, or the status ("passed", "skipped") — what differs, at a glance.
   */
  differs?: Record<string, string>;
}

export interface Summary {
  generatedAt: string;
  /** The first line: which backend produced the results, truthfully. */
  headline: string;
  run?: RunIdentity;
  /** The run was interrupted: these are its partial results. */
  interrupted?: boolean;
  counts: Record<ScenarioStatus, number> & { total: number; retries: number };
  categories: Partial<Record<CategoryId, number>>;
  scenarios: SummaryScenario[];
  /** The cluster configurations the run provisioned: id → kind config and Helm values (the `configuration` parameter). */
  configurations?: Record<string, string>;
  /** Present when the results carry more than one `cilium` value. */
  /**
   * The scenario × column table of a matrix: columns are Cilium versions, or configurations
   * (`matrix --configs`, with the version appended when there are several).
   */
  matrix?: { parameter: 'cilium' | 'configuration'; versions: string[]; rows: MatrixRow[]; note?: string };
}

/** Said wherever lab results make a version table: the lab's Cilium version is a label, not a datapath. */
export const LAB_LABEL_NOTE =
  'On the lab backend the Cilium version is only a label: the lab reproduces one datapath, so this table proves the matrix mechanics, not differences between Cilium versions.';

const ERROR_PREFIX = /^(?:\w*Error(?:\s*\[\w+\])?: )/;

/** The first non-empty line of a failure message, without "Error: "-style prefixes (pure). */
export function firstEvidenceLine(message: string | undefined): string | undefined {
  if (!message) return undefined;
  const line = message
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l.length > 0);
  return line?.replace(ERROR_PREFIX, '');
}

function failedStep(steps: StepResult[]): StepResult | undefined {
  for (const s of steps) {
    if (s.status === 'failed' || s.status === 'broken') return failedStep(s.steps) ?? s;
  }
  return undefined;
}

function stepAttachments(s: StepResult): string[] {
  return [...s.attachments.map((a) => a.name), ...s.steps.flatMap(stepAttachments)];
}

function verdictLines(steps: StepResult[]): string[] {
  return steps.flatMap((s) => {
    const line = verdictLine(s.name);
    return line !== undefined ? [line] : verdictLines(s.steps);
  });
}

/** Strip the lab's "(label only: …)" note from a version value. */
function bareVersion(v: string | undefined): string | undefined {
  return v?.replace(/\s*\(.*\)\s*$/, '').trim() || undefined;
}

/** The first line of the summary: the backend, and on the lab that it is a kernel reproduction, not Cilium. */
export function headlineOf(environment: Record<string, string>, results: readonly ScenarioResult[]): string {
  const backends = [
    ...new Set([environment.backend, ...results.map((r) => r.parameters.backend)].filter((b): b is string => !!b)),
  ];
  const versions = [
    ...new Set(
      [bareVersion(environment['cilium.version'] ?? environment.cilium), ...results.map((r) => r.parameters.cilium)]
        .flatMap((v) => (v ? v.split(' | ') : []))
        .filter(Boolean),
    ),
  ].sort(versionOrder);
  const cilium = versions.length ? `Cilium ${versions.join(', ')}` : 'Cilium (version not recorded)';
  // A backend whose Cilium version is only a label reproduces the datapath (the lab): said first.
  const lab = backends.some((b) => findDescriptor(b.split(/[\s(]/)[0])?.ciliumVersionIsLabel);
  if (lab)
    return `# Hookpoint report: lab backend, a kernel reproduction of the datapath (network namespaces and Hookpoint's own eBPF programs), not Cilium; ${cilium} is only a label`;
  if (backends.length === 0) return `# Hookpoint report: backend not recorded, ${cilium}`;
  return `# Hookpoint report: ${backends.join(', ')} backend, ${cilium}`;
}

function versionOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The environment key naming one cluster configuration of the run: `configuration.<id>` = its description. */
export const CONFIGURATION_PREFIX = 'configuration.';

/** id → description of the run's cluster configurations, from the environment (pure). */
export function configurationsOf(environment: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment)
      .filter(([k]) => k.startsWith(CONFIGURATION_PREFIX))
      .map(([k, v]) => [k.slice(CONFIGURATION_PREFIX.length), v]),
  );
}

/** Build the summary from scenario results (pure). */
export function summarize(
  results: ScenarioResult[],
  now = new Date(),
  ctx: { environment?: Record<string, string>; run?: RunIdentity; interrupted?: boolean } = {},
): Summary {
  const counts = { total: 0, passed: 0, failed: 0, broken: 0, skipped: 0, retries: 0 };
  const categories: Partial<Record<CategoryId, number>> = {};
  const scenarios: SummaryScenario[] = results.map((r) => {
    counts.total++;
    counts[r.status]++;
    counts.retries += r.retries;
    const cat = categorize(r);
    if (cat) categories[cat.id] = (categories[cat.id] ?? 0) + 1;
    const bad = r.status === 'failed' || r.status === 'broken';
    const step = bad ? failedStep(r.steps) : undefined;
    return {
      feature: r.feature,
      name: r.name,
      status: r.status,
      parameters: r.parameters,
      ...(cat ? { category: cat.id, categoryName: cat.name } : {}),
      ...(bad ? { evidence: firstEvidenceLine(r.message) ?? firstEvidenceLine(step?.message) ?? '(no message)' } : {}),
      ...(step ? { failedStep: step.name } : {}),
      attachments: step ? stepAttachments(step) : r.attachments.map((a) => a.name),
      retries: r.retries,
      ...(r.start !== undefined && r.stop !== undefined ? { durationMs: r.stop - r.start } : {}),
      checked: verdictLines(r.steps),
    };
  });
  const summary: Summary = {
    generatedAt: now.toISOString(),
    headline: headlineOf(ctx.environment ?? {}, results),
    ...(ctx.run ? { run: ctx.run } : {}),
    ...(ctx.interrupted ? { interrupted: true } : {}),
    counts,
    categories,
    scenarios,
  };
  const provisioned = configurationsOf(ctx.environment ?? {});
  if (Object.keys(provisioned).length) summary.configurations = provisioned;
  const ciliums = [...new Set(results.map((r) => r.parameters.cilium).filter((v) => v !== undefined))].sort(
    versionOrder,
  );
  // Configuration columns only where a scenario ran in several configurations (matrix --configs):
  // a run that groups its scenarios by their Backgrounds runs each in one.
  const ranIn = new Map<string, Set<string>>();
  for (const r of results) {
    const c = r.parameters[CONFIG_PARAMETER];
    const key = `${r.feature}\u0000${r.name}`;
    if (c !== undefined) ranIn.set(key, (ranIn.get(key) ?? new Set()).add(c));
  }
  const configurations = [...ranIn.values()].some((s) => s.size > 1)
    ? [...new Set(results.map((r) => r.parameters[CONFIG_PARAMETER]).filter((v) => v !== undefined))]
    : [];
  const columnOf = (p: Record<string, string>): string | undefined =>
    configurations.length === 0
      ? p.cilium
      : p[CONFIG_PARAMETER] === undefined
        ? undefined
        : ciliums.length > 1 && p.cilium !== undefined
          ? `${p[CONFIG_PARAMETER]} · ${p.cilium}`
          : p[CONFIG_PARAMETER];
  const versions =
    configurations.length === 0
      ? ciliums
      : [...new Set(results.map((r) => columnOf(r.parameters)).filter((v): v is string => v !== undefined))];
  if (versions.length > 1 || configurations.length > 0) {
    const rows = new Map<string, MatrixRow>();
    const seen = new Map<MatrixRow, Record<string, string>>();
    for (const [i, r] of results.entries()) {
      const { cilium: _c, [CONFIG_PARAMETER]: _k, ...rest } = r.parameters;
      const cilium = columnOf(r.parameters);
      const variant = paramText(rest);
      const key = `${r.feature}\u0000${r.name}\u0000${variant}`;
      let row = rows.get(key);
      if (!row) {
        row = { feature: r.feature, name: r.name, variant, cells: Object.fromEntries(versions.map((v) => [v, null])) };
        rows.set(key, row);
      }
      if (cilium !== undefined) {
        row.cells[cilium] = r.status;
        const texts = seen.get(row) ?? {};
        texts[cilium] = scenarios[i]!.evidence ?? r.status;
        seen.set(row, texts);
      }
    }
    for (const [row, texts] of seen) if (new Set(Object.values(texts)).size > 1) row.differs = texts;
    const lab = results.some((r) => findDescriptor(r.parameters.backend)?.ciliumVersionIsLabel);
    summary.matrix = {
      parameter: configurations.length ? 'configuration' : 'cilium',
      versions,
      rows: [...rows.values()],
      ...(lab && ciliums.length > 1 ? { note: LAB_LABEL_NOTE } : {}),
    };
  }
  return summary;
}

/** Text safe in a GitHub-flavoured Markdown table cell: no HTML, no table breaks, no emphasis. */
export function mdCell(text: string): string {
  return text
    .replace(/\r?\n/g, ' ')
    .replace(/[\\`*_[\]|]/g, (c) => `\\${c}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

const STATUS_MD: Record<ScenarioStatus, string> = {
  passed: '✅ passed',
  failed: '❌ **failed**',
  broken: '⚠️ broken',
  skipped: '⏭️ skipped',
};

const CELL_MD: Record<ScenarioStatus, string> = {
  passed: 'pass',
  failed: '**fail**',
  broken: 'broken',
  skipped: 'skipped',
};

/** GitHub's limit for a job summary and a comment body; summary.md stays below it. */
export const MARKDOWN_LIMIT = 65_536;
const FULL_REPORT = 'hookpoint-report.html (single file) or summary.json';

/** summary.md text (pure), ending in a newline and shorter than MARKDOWN_LIMIT. */
export function summaryMarkdown(s: Summary): string {
  let rows = s.scenarios.length;
  for (;;) {
    const text = renderMarkdown(s, rows);
    if (text.length < MARKDOWN_LIMIT || rows === 0)
      return text.length < MARKDOWN_LIMIT
        ? text
        : `${text.slice(0, MARKDOWN_LIMIT - 200)}\n\n… truncated; the full report: ${FULL_REPORT}\n`;
    rows = Math.floor(rows * Math.min(0.9, (MARKDOWN_LIMIT - 2000) / text.length));
  }
}

function renderMarkdown(s: Summary, maxRows: number): string {
  const c = s.counts;
  const out: string[] = [];
  out.push(s.headline, '');
  if (s.run)
    out.push(
      `Run \`${mdCell(s.run.id)}\` · started ${mdCell(s.run.started || 'unknown')} · selection: ${mdCell(s.run.selection)}`,
      '',
    );
  const configs = Object.entries(s.configurations ?? {});
  if (configs.length > 1)
    out.push(
      `Cluster configurations (the \`configuration\` parameter): ${configs.map(([id, d]) => `\`${mdCell(id)}\` ${mdCell(d)}`).join(' · ')}`,
      '',
    );
  if (s.interrupted) out.push('> ⚠️ **Interrupted** (Ctrl-C): these are the partial results of the run.', '');
  out.push(
    `**${plural(c.total, 'scenario')}: ${c.passed} passed, ${c.failed} failed, ${c.broken} broken, ${c.skipped} skipped**` +
      (c.retries ? ` (${c.retries} retried attempt${c.retries === 1 ? '' : 's'})` : ''),
    '',
  );
  const cats = Object.entries(s.categories);
  if (cats.length) {
    const names: Record<string, string> = Object.fromEntries(
      s.scenarios.filter((x) => x.category).map((x) => [x.category, x.categoryName]),
    );
    out.push(`Categories: ${cats.map(([id, n]) => `${names[id] ?? id} ${n}`).join(', ')}`, '');
  }
  const showParams = s.scenarios.some((x) => Object.keys(x.parameters).length > 0);
  out.push(
    `| Feature | Scenario |${showParams ? ' Parameters |' : ''} Status | Category | First evidence line | What was checked |`,
    `|---|---|${showParams ? '---|' : ''}---|---|---|---|`,
  );
  for (const x of s.scenarios.slice(0, maxRows)) {
    const retried = x.retries ? ` (${x.retries} retr${x.retries === 1 ? 'y' : 'ies'})` : '';
    out.push(
      `| ${mdCell(x.feature)} | ${mdCell(x.name)} |${showParams ? ` ${mdCell(paramText(x.parameters))} |` : ''} ${STATUS_MD[x.status]}${retried} | ${mdCell(x.categoryName ?? '')} | ${mdCell(x.evidence ?? '')} | ${mdCell(x.checked.join('; ') || '—')} |`,
    );
  }
  if (maxRows < s.scenarios.length)
    out.push('', `… ${s.scenarios.length - maxRows} more scenarios truncated to fit; the full report: ${FULL_REPORT}.`);
  out.push('');
  const failures = s.scenarios.slice(0, maxRows).filter((x) => x.status === 'failed' || x.status === 'broken');
  if (failures.length) {
    out.push('### Failures', '');
    for (const x of failures) {
      const params = Object.keys(x.parameters).length ? ` [${mdCell(paramText(x.parameters))}]` : '';
      out.push(`- **${mdCell(x.name)}**${params} — ${mdCell(x.categoryName ?? x.status)}`);
      if (x.failedStep) out.push(`  - step: ${mdCell(x.failedStep)}`);
      out.push(`  - evidence: ${mdCell(x.evidence ?? '')}`);
      if (x.attachments.length) out.push(`  - attachments: ${x.attachments.map(mdCell).join(', ')}`);
    }
    out.push('');
  }
  if (s.matrix) {
    const m = s.matrix;
    const showVariant = m.rows.some((r) => r.variant);
    const showDiffers = m.rows.some((r) => r.differs);
    out.push(`### Scenario × ${m.parameter === 'configuration' ? 'configuration' : 'Cilium version'}`, '');
    if (m.note) out.push(`> ${mdCell(m.note)}`, '');
    out.push(
      `| Feature | Scenario |${showVariant ? ' Variant |' : ''} ${m.versions.map(mdCell).join(' | ')} |${showDiffers ? ' Evidence that differs |' : ''}`,
      `|---|---|${showVariant ? '---|' : ''}${m.versions.map(() => '---|').join('')}${showDiffers ? '---|' : ''}`,
    );
    for (const r of m.rows) {
      const cells = m.versions.map((v) => (r.cells[v] ? CELL_MD[r.cells[v]!] : '—'));
      const differs = r.differs
        ? ` ${m.versions
            .filter((v) => r.differs![v] !== undefined)
            .map((v) => `${mdCell(v)}: ${mdCell(r.differs![v]!)}`)
            .join(' · ')} |`
        : showDiffers
          ? '  |'
          : '';
      out.push(
        `| ${mdCell(r.feature)} | ${mdCell(r.name)} |${showVariant ? ` ${mdCell(r.variant)} |` : ''} ${cells.join(' | ')} |${differs}`,
      );
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** Write summary.md and summary.json into reportsDir; returns their paths. */
export async function writeSummary(reportsDir: string, s: Summary): Promise<{ markdown: string; json: string }> {
  const markdown = path.join(reportsDir, 'summary.md');
  const json = path.join(reportsDir, 'summary.json');
  await writeFile(markdown, summaryMarkdown(s));
  await writeFile(json, `${JSON.stringify(s, null, 2)}\n`);
  return { markdown, json };
}
