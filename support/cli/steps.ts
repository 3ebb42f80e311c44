import type { Command } from 'commander';
import { type ParameterTypeDoc, parameterTypeDocs } from '../scenario/parameter-types.ts';
import type { StepDoc } from '../scenario/vocabulary.ts';

/** A step as `hookpoint steps --json` gives it: the catalog entry plus its parameters' grammar. */
export interface StepEntry extends StepDoc {
  parameters: ParameterTypeDoc[];
}

/** The catalog with each step's parameter types spelled out (pure apart from the registered types). */
export function stepEntries(docs: readonly StepDoc[], types = parameterTypeDocs()): StepEntry[] {
  const byName = new Map(types.map((t) => [t.name, t]));
  return docs.map((d) => ({
    ...d,
    parameters: [...d.expression.matchAll(/\{(\w*)\}/g)].map(
      (m) => byName.get(m[1]!) ?? { name: m[1]!, forms: [`{${m[1]}}`], doc: 'A parameter type without documentation.' },
    ),
  }));
}

function formsText(t: ParameterTypeDoc): string {
  return (t.values ?? t.forms).join(' | ');
}

/** The catalog as text: every step with its documentation, parameters and example, then every parameter type. */
export function renderSteps(entries: readonly StepEntry[], types = parameterTypeDocs()): string {
  const out: string[] = [];
  for (const d of entries) {
    out.push(`${d.keyword} ${d.expression}`, `    ${d.doc}`);
    if (d.keyword === 'Then')
      out.push(
        d.judges === 'state'
          ? '    reads the cluster as it is: needs no When before it'
          : '    judges the traffic of the last When step: a When must come before it',
      );
    for (const p of d.parameters) out.push(`    {${p.name}}: ${formsText(p)}`);
    out.push(`    e.g. ${d.example.replace(/\n/g, '\n         ')}`, '');
  }
  const used = new Set(entries.flatMap((e) => e.parameters.map((p) => p.name)));
  out.push('Parameter types', '');
  for (const t of types.filter((x) => used.has(x.name))) {
    out.push(`{${t.name}}  ${t.doc}`);
    out.push(
      t.values ? `    one of (as written, no quotes): ${t.values.join(' | ')}` : `    written: ${t.forms.join(' | ')}`,
    );
    out.push('');
  }
  out.push(`${entries.length} steps, ${used.size} parameter types`);
  return `${out.join('\n')}\n`;
}

/** The vocabulary, generated from the step definitions and parameter types themselves. */
export function register(program: Command): void {
  program
    .command('steps')
    .description('print every step with its parameters (their grammar and values) and one example')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { loadVocabulary } = await import('../run/vocabulary-loader.ts');
      const entries = stepEntries(await loadVocabulary());
      process.stdout.write(opts.json ? `${JSON.stringify(entries, null, 2)}\n` : renderSteps(entries));
    });
}
