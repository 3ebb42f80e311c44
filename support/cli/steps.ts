import type { Command } from 'commander';

/** The vocabulary, generated from the step definitions themselves (support/vocabulary.ts). */
export function register(program: Command): void {
  program
    .command('steps')
    .description('print every step with its parameters and one example')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      const { loadVocabulary } = await import('../run/vocabulary-loader.ts');
      const docs = await loadVocabulary();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(docs, null, 2)}\n`);
        return;
      }
      for (const d of docs) {
        const params = [...d.expression.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
        process.stdout.write(`${d.keyword} ${d.expression}\n    ${d.doc}\n`);
        if (params.length) process.stdout.write(`    parameters: ${params.join(', ')}\n`);
        process.stdout.write(`    e.g. ${d.example.replace(/\n/g, '\n         ')}\n\n`);
      }
      process.stdout.write(`${docs.length} steps\n`);
    });
}
