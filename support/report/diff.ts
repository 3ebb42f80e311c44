/**
 * Before/after for change reviews (`hookpoint diff`): two runs' results side by side — the suite
 * before and after a Cilium upgrade or a Helm values change. It lists the scenarios whose status
 * changed and, per scenario, the evidence that changed: each Then step's verdict (its key figure:
 * counter deltas, capture destinations, monitor event kinds, status fields, redirect chain). Counts
 * that differ from run to run without meaning (packets, events, program ids, absolute counter
 * values) are compared as what they say — a counter "0→0" is flat, "6→12" is rising — and so are
 * addresses (each run provisions its own: pod, service and MAC addresses are compared as such), so
 * an unaffected scenario shows nothing. Compare runs of the same cluster name: node names are kept.
 */
import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.ts';
import { escapeXml } from './packet-path-svg.ts';
import { paramText, readResults, type ScenarioResult, type ScenarioStatus, type StepResult } from './results.ts';
import { mdCell } from './summary.ts';
import { verdictLine } from './verdict.ts';

export interface StepEvidence {
  step: string;
  status: string;
  /** The verdict's key figure (or the failure's first line). */
  line: string;
}

export interface EvidenceChange {
  step: string;
  before?: string;
  after?: string;
  /** For counter verdicts: how the counters moved, before → after ("flat" → "rising"). */
  counters?: { before?: Trend; after?: Trend };
}

export interface ScenarioDiff {
  feature: string;
  name: string;
  parameters: string;
  before?: ScenarioStatus;
  after?: ScenarioStatus;
  evidence: EvidenceChange[];
}

export interface RunDiff {
  baseline: string;
  current: string;
  scenarios: ScenarioDiff[];
  /** A scenario went from passed to failed or broken. */
  worse: boolean;
}

type Trend = 'flat' | 'rising';

/** How a counter verdict says the counters moved, or undefined when the line is not about counters. */
export function counterTrend(line: string): Trend | undefined {
  if (/\brose (from|by)\b/.test(line)) return 'rising';
  if (/\bstayed at\b/.test(line)) return 'flat';
  const moves = [...line.matchAll(/(\d+)→(\d+)/g)].map((m) => Number(m[2]) - Number(m[1]));
  if (moves.length === 0) return undefined;
  return moves.some((d) => d > 0) ? 'rising' : 'flat';
}

/** The verdict line as compared: counter moves as flat/rising, other counts as '#'. */
export function comparable(line: string): string {
  return (
    line
      .replace(/\b(?:[0-9a-f]{2}:){5}[0-9a-f]{2}\b/gi, '<mac>')
      .replace(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g, '<ip>')
      .replace(/(\d+)→(\d+)/g, (_m, a: string, b: string) => (Number(b) > Number(a) ? 'rising' : 'flat'))
      .replace(/\b(\d+)\/(\1) answered/g, 'all answered')
      .replace(/\b(?<![.\d])\d+(?![.\d])(?!\/)/g, '#')
      // "1 backend" and "2 backends" are the same figure once the count is gone (a random pick may hit one).
      .replace(/# ([a-z-]+?)s\b/g, '# $1')
      .replace(/\b[a-z0-9]+(?:-[a-z0-9]+)*-[a-z0-9]{5,10}-[a-z0-9]{5}\b/g, '<pod>')
  );
}

/** Equal as compared; a clipped line ("…") equals a line it is the start of. */
function same(a: string, b: string): boolean {
  const [x, y] = [a, b].map((l) => comparable(l).replace(/[\s,;…]+$/, ''));
  if (x === y) return true;
  const [short, long] = x!.length <= y!.length ? [x!, y!] : [y!, x!];
  return (a.endsWith('…') || b.endsWith('…')) && long.startsWith(short.slice(0, -3));
}

function verdicts(steps: StepResult[], parent = ''): StepEvidence[] {
  const out: StepEvidence[] = [];
  for (const s of steps) {
    const line = verdictLine(s.name);
    if (line !== undefined) out.push({ step: parent, status: s.status, line });
    else out.push(...verdicts(s.steps, s.name));
  }
  return out;
}

/** A reports directory (with allure-results/) or a results directory. */
export async function resultsDirOf(dir: string, which: string): Promise<string> {
  const abs = path.resolve(dir);
  let names: string[];
  try {
    if (!(await stat(abs)).isDirectory()) throw new Error('not a directory');
    names = await readdir(abs);
  } catch {
    throw new UsageError(
      `The ${which} "${dir}" is not a directory.`,
      'Pass a reports directory (with allure-results/) or an allure-results directory, e.g. `hookpoint diff runs/before runs/after`.',
    );
  }
  if (names.some((n) => n.endsWith('-result.json'))) return abs;
  if (names.includes('allure-results')) return path.join(abs, 'allure-results');
  throw new UsageError(
    `The ${which} "${dir}" holds no scenario results (no *-result.json and no allure-results/).`,
    'Pass the reports directory of a `hookpoint run` (or its allure-results/).',
  );
}

/** Parameters that are one value across a whole run but differ between the runs (the Cilium version of an upgrade): not part of a scenario's identity. */
function runWideParameters(a: ScenarioResult[], b: ScenarioResult[]): Set<string> {
  const constant = (rs: ScenarioResult[]) => {
    const vals = new Map<string, Set<string>>();
    for (const r of rs)
      for (const [k, v] of Object.entries(r.parameters)) vals.set(k, (vals.get(k) ?? new Set()).add(v));
    return vals;
  };
  const va = constant(a);
  const vb = constant(b);
  const out = new Set<string>();
  for (const k of new Set([...va.keys(), ...vb.keys()])) {
    const x = va.get(k);
    const y = vb.get(k);
    if (!x || !y || (x.size === 1 && y.size === 1 && [...x][0] !== [...y][0])) out.add(k);
  }
  return out;
}

/** Compare two runs' scenario results (pure). */
export function diffResults(
  base: ScenarioResult[],
  cur: ScenarioResult[],
  names = { baseline: 'baseline', current: 'current' },
): RunDiff {
  const drop = runWideParameters(base, cur);
  const keyOf = (r: ScenarioResult) => {
    const p = Object.fromEntries(Object.entries(r.parameters).filter(([k]) => !drop.has(k)));
    return { key: `${r.feature}\u0000${r.name}\u0000${paramText(p)}`, params: paramText(p) };
  };
  const index = (rs: ScenarioResult[]) => new Map(rs.map((r) => [keyOf(r).key, r]));
  const a = index(base);
  const b = index(cur);
  const scenarios: ScenarioDiff[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key);
    const y = b.get(key);
    const r = (y ?? x)!;
    const ex = x ? verdicts(x.steps) : [];
    const ey = y ? verdicts(y.steps) : [];
    const evidence: EvidenceChange[] = [];
    for (const step of [...new Set([...ex, ...ey].map((e) => e.step))]) {
      const bx = ex.filter((e) => e.step === step);
      const by = ey.filter((e) => e.step === step);
      for (let i = 0; i < Math.max(bx.length, by.length); i++) {
        const before = bx[i]?.line;
        const after = by[i]?.line;
        if (before !== undefined && after !== undefined && same(before, after)) continue;
        const tb = before !== undefined ? counterTrend(before) : undefined;
        const ta = after !== undefined ? counterTrend(after) : undefined;
        evidence.push({ step, before, after, ...(tb || ta ? { counters: { before: tb, after: ta } } : {}) });
      }
    }
    if (x?.status === y?.status && evidence.length === 0) continue;
    scenarios.push({
      feature: r.feature,
      name: r.name,
      parameters: keyOf(r).params,
      before: x?.status,
      after: y?.status,
      evidence,
    });
  }
  const worse = scenarios.some((s) => s.before === 'passed' && (s.after === 'failed' || s.after === 'broken'));
  return { ...names, scenarios, worse };
}

const ICON: Record<string, string> = {
  passed: '✅ passed',
  failed: '❌ failed',
  broken: '⚠️ broken',
  skipped: '⏭️ skipped',
};

/** The diff as Markdown (pure), ending in a newline. */
export function diffMarkdown(d: RunDiff): string {
  const out: string[] = [`# Hookpoint diff: ${mdCell(d.baseline)} → ${mdCell(d.current)}`, ''];
  if (d.scenarios.length === 0) {
    out.push('No scenario changed status or evidence.');
    return `${out.join('\n')}\n`;
  }
  const moved = d.scenarios.filter((s) => s.before !== s.after);
  out.push(
    `${moved.length} scenario${moved.length === 1 ? '' : 's'} changed status; ${d.scenarios.filter((s) => s.evidence.length).length} changed evidence${d.worse ? ' — **a scenario got worse**' : ''}.`,
    '',
  );
  out.push('| Feature | Scenario | Before | After |', '|---|---|---|---|');
  for (const s of d.scenarios)
    out.push(
      `| ${mdCell(s.feature)} | ${mdCell(s.name)}${s.parameters ? ` [${mdCell(s.parameters)}]` : ''} | ${s.before ? ICON[s.before] : '(absent)'} | ${s.after ? ICON[s.after] : '(absent)'} |`,
    );
  out.push('');
  for (const s of d.scenarios.filter((x) => x.evidence.length)) {
    out.push(`## ${mdCell(s.name)}`, '');
    for (const e of s.evidence) {
      const trend = e.counters ? ` — counters ${e.counters.before ?? '?'} → ${e.counters.after ?? '?'}` : '';
      out.push(`- ${mdCell(e.step)}${trend}`);
      out.push(`  - before: ${mdCell(e.before ?? '(not checked)')}`);
      out.push(`  - after: ${mdCell(e.after ?? '(not checked)')}`);
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}

/** The same diff as a standalone HTML page (pure; all text escaped). */
export function diffHtml(d: RunDiff): string {
  const rows = d.scenarios
    .map(
      (s) =>
        `<tr class="${s.before === 'passed' && (s.after === 'failed' || s.after === 'broken') ? 'worse' : ''}"><td>${escapeXml(s.feature)}</td><td>${escapeXml(s.name)}${s.parameters ? ` [${escapeXml(s.parameters)}]` : ''}</td><td>${escapeXml(s.before ?? '(absent)')}</td><td>${escapeXml(s.after ?? '(absent)')}</td><td><ul>${s.evidence
          .map(
            (e) =>
              `<li><b>${escapeXml(e.step)}</b>${e.counters ? ` — counters ${escapeXml(e.counters.before ?? '?')} → ${escapeXml(e.counters.after ?? '?')}` : ''}<br>before: ${escapeXml(e.before ?? '(not checked)')}<br>after: ${escapeXml(e.after ?? '(not checked)')}</li>`,
          )
          .join('')}</ul></td></tr>`,
    )
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Hookpoint diff</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.4em;vertical-align:top}tr.worse td{background:#ffebee}</style>
</head><body>
<h1>Hookpoint diff: ${escapeXml(d.baseline)} → ${escapeXml(d.current)}</h1>
${d.scenarios.length === 0 ? '<p>No scenario changed status or evidence.</p>' : `<table><tr><th>Feature</th><th>Scenario</th><th>Before</th><th>After</th><th>Evidence that changed</th></tr>\n${rows}\n</table>`}
</body></html>
`;
}

export async function diffRuns(
  baseline: string,
  current: string,
  outDir: string,
): Promise<{ diff: RunDiff; markdown: string; html: string }> {
  const [a, b] = [await resultsDirOf(baseline, 'baseline'), await resultsDirOf(current, 'current run')];
  const diff = diffResults(await readResults(a), await readResults(b), { baseline, current });
  const html = path.join(path.resolve(outDir), 'diff.html');
  await writeFile(html, diffHtml(diff));
  return { diff, markdown: diffMarkdown(diff), html };
}
