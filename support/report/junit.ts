/**
 * JUnit XML from the results (one writer, so merged runs give one file): one testsuite per
 * feature, one testcase per scenario (latest attempt); failed → <failure>, broken → <error>,
 * skipped → <skipped/>. Parameters join the test name so matrix cells stay distinct in CI. Each
 * testsuite carries the run's environment (backend, configuration, versions) and identity as
 * properties; the steps in system-out list each attachment with its media type.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { categorize } from './categories.ts';
import { escapeXml } from './packet-path-svg.ts';
import { paramText, type ScenarioResult, type StepResult } from './results.ts';
import { RUN_KEYS, type RunIdentity } from './run-identity.ts';
import { firstEvidenceLine } from './summary.ts';

function secs(r: ScenarioResult): string {
  return r.start !== undefined && r.stop !== undefined ? ((r.stop - r.start) / 1000).toFixed(3) : '0.000';
}

function stepLines(steps: StepResult[], depth = 0): string[] {
  const pad = '  '.repeat(depth);
  return steps.flatMap((s) => {
    const files = s.attachments.map((a) => `${a.name} (${a.type})`);
    // Allure wraps each attachment in a status-less step of the same name: list it as the attachment it is.
    if (s.status === 'unknown' && s.steps.length === 0 && s.attachments.length)
      return files.map((f) => `${pad}attachment ${f}`);
    return [
      `${pad}${s.status.padEnd(7)} ${s.name}`,
      ...files.map((f) => `${pad}  attachment ${f}`),
      ...stepLines(s.steps, depth + 1),
    ];
  });
}

export interface JunitContext {
  environment?: Record<string, string>;
  run?: RunIdentity;
}

function suiteProperties(ctx: JunitContext): Array<[string, string]> {
  const props: Array<[string, string]> = Object.entries(ctx.environment ?? {});
  if (ctx.run)
    props.push([RUN_KEYS.id, ctx.run.id], [RUN_KEYS.started, ctx.run.started], [RUN_KEYS.selection, ctx.run.selection]);
  const seen = new Set<string>();
  return props.filter(([k]) => !seen.has(k) && seen.add(k));
}

export function testName(r: ScenarioResult): string {
  const p = paramText(r.parameters);
  return p ? `${r.name} [${p}]` : r.name;
}

/** junit.xml text (pure). */
export function junitXml(results: ScenarioResult[], suiteName = 'hookpoint', ctx: JunitContext = {}): string {
  const props = suiteProperties(ctx);
  const byFeature = new Map<string, ScenarioResult[]>();
  for (const r of results) {
    const g = byFeature.get(r.feature);
    if (g) g.push(r);
    else byFeature.set(r.feature, [r]);
  }
  const count = (rs: ScenarioResult[], s: string) => rs.filter((r) => r.status === s).length;
  const total = (rs: ScenarioResult[]) => rs.reduce((t, r) => t + Number(secs(r)), 0).toFixed(3);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  out.push(
    `<testsuites name="${escapeXml(suiteName)}" tests="${results.length}" failures="${count(results, 'failed')}" errors="${count(results, 'broken')}" skipped="${count(results, 'skipped')}" time="${total(results)}">`,
  );
  for (const [feature, rs] of byFeature) {
    const ts = rs.map((r) => r.start).filter((x) => x !== undefined) as number[];
    const stamp = ts.length ? ` timestamp="${new Date(Math.min(...ts)).toISOString().replace(/\.\d+Z$/, '')}"` : '';
    out.push(
      `  <testsuite name="${escapeXml(feature)}" tests="${rs.length}" failures="${count(rs, 'failed')}" errors="${count(rs, 'broken')}" skipped="${count(rs, 'skipped')}" time="${total(rs)}"${stamp}>`,
    );
    if (props.length) {
      out.push('    <properties>');
      for (const [k, v] of props) out.push(`      <property name="${escapeXml(k)}" value="${escapeXml(v)}"/>`);
      out.push('    </properties>');
    }
    for (const r of rs) {
      out.push(`    <testcase name="${escapeXml(testName(r))}" classname="${escapeXml(feature)}" time="${secs(r)}">`);
      const props = Object.entries(r.parameters);
      if (props.length || r.retries) {
        out.push('      <properties>');
        for (const [k, v] of props) out.push(`        <property name="${escapeXml(k)}" value="${escapeXml(v)}"/>`);
        if (r.retries) out.push(`        <property name="retries" value="${r.retries}"/>`);
        out.push('      </properties>');
      }
      const msg = escapeXml(firstEvidenceLine(r.message) ?? '');
      const body = escapeXml(r.trace ?? r.message ?? '');
      const cat = categorize(r);
      const type = escapeXml(cat?.name ?? r.status);
      if (r.status === 'failed') out.push(`      <failure message="${msg}" type="${type}">${body}</failure>`);
      else if (r.status === 'broken') out.push(`      <error message="${msg}" type="${type}">${body}</error>`);
      else if (r.status === 'skipped') out.push('      <skipped/>');
      const lines = stepLines(r.steps);
      if (lines.length) out.push(`      <system-out>${escapeXml(lines.join('\n'))}</system-out>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

export async function writeJunit(
  reportsDir: string,
  results: ScenarioResult[],
  ctx: JunitContext = {},
): Promise<string> {
  const file = path.join(reportsDir, 'junit.xml');
  await writeFile(file, junitXml(results, 'hookpoint', ctx));
  return file;
}
