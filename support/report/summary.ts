/**
 * The review summary: `summary.md` (paste into a change review) and `summary.json` (the same,
 * for machines). One row per scenario (latest attempt), its status, category and — for each
 * failure — the first evidence line; plus a scenario × Cilium version table when the results
 * carry more than one `cilium` parameter value.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findDescriptor } from '../backends/descriptors.ts';
import { plural } from '../expectations/evidence-ref.ts';
import { type CategoryId, categorize } from './categories.ts';
import { paramText, type ScenarioResult, type ScenarioStatus, type StepResult } from './results.ts';

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
  counts: Record<ScenarioStatus, number> & { total: number; retries: number };
  categories: Partial<Record<CategoryId, number>>;
  scenarios: SummaryScenario[];
  /** Present when the results carry more than one `cilium` value. */
  matrix?: { parameter: 'cilium'; versions: string[]; rows: MatrixRow[]; note?: string };
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

function versionOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Build the summary from scenario results (pure). */
export function summarize(results: ScenarioResult[], now = new Date()): Summary {
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
    };
  });
  const summary: Summary = { generatedAt: now.toISOString(), counts, categories, scenarios };
  const versions = [...new Set(results.map((r) => r.parameters.cilium).filter((v) => v !== undefined))].sort(
    versionOrder,
  );
  if (versions.length > 1) {
    const rows = new Map<string, MatrixRow>();
    const seen = new Map<MatrixRow, Record<string, string>>();
    for (const [i, r] of results.entries()) {
      const { cilium, ...rest } = r.parameters;
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
      parameter: 'cilium',
      versions,
      rows: [...rows.values()],
      ...(lab ? { note: LAB_LABEL_NOTE } : {}),
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

/** summary.md text (pure). */
export function summaryMarkdown(s: Summary): string {
  const c = s.counts;
  const out: string[] = [];
  out.push('## Hookpoint datapath report', '');
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
    `| Feature | Scenario |${showParams ? ' Parameters |' : ''} Status | Category | First evidence line |`,
    `|---|---|${showParams ? '---|' : ''}---|---|---|`,
  );
  for (const x of s.scenarios) {
    const retried = x.retries ? ` (${x.retries} retr${x.retries === 1 ? 'y' : 'ies'})` : '';
    out.push(
      `| ${mdCell(x.feature)} | ${mdCell(x.name)} |${showParams ? ` ${mdCell(paramText(x.parameters))} |` : ''} ${STATUS_MD[x.status]}${retried} | ${mdCell(x.categoryName ?? '')} | ${mdCell(x.evidence ?? '')} |`,
    );
  }
  out.push('');
  const failures = s.scenarios.filter((x) => x.status === 'failed' || x.status === 'broken');
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
    out.push('### Scenario × Cilium version', '');
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
  return out.join('\n');
}

/** Write summary.md and summary.json into reportsDir; returns their paths. */
export async function writeSummary(reportsDir: string, s: Summary): Promise<{ markdown: string; json: string }> {
  const markdown = path.join(reportsDir, 'summary.md');
  const json = path.join(reportsDir, 'summary.json');
  await writeFile(markdown, summaryMarkdown(s));
  await writeFile(json, `${JSON.stringify(s, null, 2)}\n`);
  return { markdown, json };
}
