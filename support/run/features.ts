/**
 * Reads feature files before cucumber starts: the scenarios that will run (for --list), each
 * scenario's step texts (to arm probes and to check every step is defined), and the cluster the
 * Background asks for — so provisioning happens once, before the first scenario.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { generateMessages } from '@cucumber/gherkin';
import { IdGenerator, SourceMediaType } from '@cucumber/messages';
import { UsageError } from '../errors.ts';

export interface PlannedStep {
  text: string;
  /** The table rows under the step, if any. */
  table: string[][] | null;
  /** The doc string under the step, if any. */
  docString: string | null;
  line: number;
}

export interface PlannedScenario {
  name: string;
  uri: string;
  line: number;
  tags: string[];
  steps: PlannedStep[];
}

export function expandFeaturePaths(paths: string[], root = process.cwd()): string[] {
  const out: string[] = [];
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSorted(p)) walk(path.join(p, e));
    } else if (p.endsWith('.feature')) out.push(p);
  };
  for (const given of paths) {
    const abs = path.resolve(root, given.replace(/:\d+$/, ''));
    try {
      statSync(abs);
    } catch {
      throw new UsageError(
        `The feature path "${given}" does not exist.`,
        'Give a .feature file or a folder of them (default: features/).',
      );
    }
    walk(abs);
  }
  return out;
}

function readdirSorted(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** Parse features into scenarios; Gherkin syntax errors become one usage paragraph. */
export function planScenarios(files: string[], root = process.cwd()): PlannedScenario[] {
  const out: PlannedScenario[] = [];
  for (const file of files) {
    const uri = path.relative(root, file);
    const text = readFileSync(file, 'utf8');
    if (!text.trim())
      throw new UsageError(
        `The feature file ${uri} is empty.`,
        'Write a Feature with at least one Scenario, or remove the file.',
      );
    const envelopes = generateMessages(text, uri, SourceMediaType.TEXT_X_CUCUMBER_GHERKIN_PLAIN, {
      includeSource: false,
      includeGherkinDocument: true,
      includePickles: true,
      newId: IdGenerator.incrementing(),
    });
    const lines = new Map<string, number>();
    for (const env of envelopes) {
      if (env.parseError) {
        const loc = env.parseError.source.location;
        throw new UsageError(
          `Gherkin syntax error in ${uri}${loc ? ` line ${loc.line}` : ''}: ${env.parseError.message.replace(/^\(\d+:\d+\): /, '')}.`,
          'Fix the feature file; `hookpoint steps` lists the vocabulary.',
        );
      }
      const doc = env.gherkinDocument;
      if (doc?.feature) {
        for (const child of doc.feature.children) {
          const sc = child.scenario;
          if (sc) lines.set(sc.id, sc.location.line);
          for (const step of [...(child.background?.steps ?? []), ...(sc?.steps ?? [])])
            lines.set(step.id, step.location.line);
          for (const ex of sc?.examples ?? []) for (const row of ex.tableBody) lines.set(row.id, row.location.line);
          for (const rc of child.rule?.children ?? []) {
            if (rc.scenario) lines.set(rc.scenario.id, rc.scenario.location.line);
            for (const step of [...(rc.background?.steps ?? []), ...(rc.scenario?.steps ?? [])])
              lines.set(step.id, step.location.line);
          }
        }
      }
      const p = env.pickle;
      if (p) {
        out.push({
          name: p.name,
          uri,
          line: lines.get(p.astNodeIds.at(-1)!) ?? lines.get(p.astNodeIds[0]!) ?? 0,
          tags: p.tags.map((t) => t.name),
          steps: p.steps.map((s) => ({
            text: s.text,
            table: s.argument?.dataTable ? s.argument.dataTable.rows.map((r) => r.cells.map((c) => c.value)) : null,
            docString: s.argument?.docString?.content ?? null,
            line: lines.get(s.astNodeIds[0]!) ?? 0,
          })),
        });
      }
    }
  }
  return out;
}
