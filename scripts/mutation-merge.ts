/**
 * Merges Stryker reports of separate runs (one source file each, docs/mutation-testing.md) into
 * one mutation-testing-report JSON, so the whole scope can be measured in parts on a small
 * machine and scored at once: `npm run test:mutation-score -- --incremental` with the merged file
 * as its incremental file reruns only what changed since the parts ran.
 *
 *   node scripts/mutation-merge.ts <out.json> <part.json>…
 *
 * Test ids are numbers local to each run; they are renumbered by test name (a tap-runner test is
 * its file), so `coveredBy`/`killedBy` keep pointing at the same tests. A source file in several
 * parts keeps the last part's mutants; a test file keeps the last part's source.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Mutant {
  coveredBy?: string[];
  killedBy?: string[];
  status: string;
  [k: string]: unknown;
}
interface Report {
  files: Record<string, { mutants: Mutant[]; [k: string]: unknown }>;
  testFiles?: Record<string, { tests: Array<{ id: string; name: string }>; [k: string]: unknown }>;
  [k: string]: unknown;
}

export function mergeReports(parts: readonly Report[]): Report {
  if (parts.length === 0) throw new Error('mutation-merge: no reports given');
  const ids = new Map<string, string>();
  const idOf = (name: string) => {
    const known = ids.get(name);
    if (known !== undefined) return known;
    const id = String(ids.size);
    ids.set(name, id);
    return id;
  };
  const merged: Report = { ...parts.at(-1)!, files: {}, testFiles: {} };
  for (const part of parts) {
    const names = new Map<string, string>();
    for (const [file, tf] of Object.entries(part.testFiles ?? {})) {
      for (const t of tf.tests) names.set(t.id, t.name);
      merged.testFiles![file] = { ...tf, tests: tf.tests.map((t) => ({ ...t, id: idOf(t.name) })) };
    }
    const renumber = (list: string[] | undefined) =>
      list?.map((id) => {
        const name = names.get(id);
        if (name === undefined) throw new Error(`mutation-merge: a mutant names test ${id}, which its report lacks`);
        return idOf(name);
      });
    for (const [file, f] of Object.entries(part.files))
      merged.files[file] = {
        ...f,
        mutants: f.mutants.map((m) => ({
          ...m,
          ...(m.coveredBy ? { coveredBy: renumber(m.coveredBy) } : {}),
          ...(m.killedBy ? { killedBy: renumber(m.killedBy) } : {}),
        })),
      };
  }
  return merged;
}

/** Killed + timed out over all scored mutants (Stryker's "total" score: no-coverage counts against). */
export function score(report: Report): { detected: number; scored: number; percent: number } {
  let detected = 0;
  let scored = 0;
  for (const f of Object.values(report.files))
    for (const m of f.mutants) {
      if (m.status === 'Killed' || m.status === 'Timeout') detected++;
      if (['Killed', 'Timeout', 'Survived', 'NoCoverage'].includes(m.status)) scored++;
    }
  return { detected, scored, percent: scored ? (100 * detected) / scored : 0 };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [out, ...inputs] = process.argv.slice(2);
  if (!out || inputs.length === 0) {
    process.stderr.write('usage: node scripts/mutation-merge.ts <out.json> <part.json>…\n');
    process.exit(2);
  }
  const merged = mergeReports(inputs.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Report));
  writeFileSync(out, JSON.stringify(merged));
  const s = score(merged);
  process.stdout.write(
    `${Object.keys(merged.files).length} files, ${s.detected} of ${s.scored} scored mutants detected: ${s.percent.toFixed(2)} %\n`,
  );
}
