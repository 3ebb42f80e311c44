import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { Command } from 'commander';
import { register } from '../../support/cli/report.ts';
import { UsageError } from '../../support/errors.ts';
import { findJava } from '../../support/report/render.ts';

const FIX = path.join(import.meta.dirname, '..', 'fixtures');
const A = path.join(FIX, 'allure-results-cilium-1.16.5');
const B = path.join(FIX, 'allure-results-cilium-1.17.0');
const tmps: string[] = [];
after(async () => {
  for (const d of tmps) await rm(d, { recursive: true, force: true });
});

let noJava = '';
try {
  await findJava();
} catch (e) {
  noJava = (e as Error).message;
}
const skip = noJava && process.env.CI !== 'true' ? noJava : false;

/** Run `hookpoint report …` through commander with this module only; returns stdout. */
async function report(args: string[]): Promise<string> {
  const program = new Command('hookpoint').exitOverride();
  const chunks: string[] = [];
  register(program, (t) => chunks.push(t));
  for (const c of program.commands) c.exitOverride().configureOutput({ writeOut: () => {}, writeErr: () => {} });
  await program.parseAsync(['report', ...args], { from: 'user' });
  return chunks.join('');
}

test('hookpoint report --merge: prints where each artifact is and one count line', { skip }, async () => {
  const out = await mkdtemp(path.join(os.tmpdir(), 'hookpoint-test-'));
  tmps.push(out);
  const text = await report(['--merge', A, B, '--out', out]);
  const rel = path.relative(process.cwd(), out);
  assert.match(text, new RegExp(`Allure site: +${rel}/allure-report/ \\(trend: 1 run\\)`));
  assert.match(text, new RegExp(`Single file: +${rel}/hookpoint-report\\.html`));
  assert.match(text, new RegExp(`Review summary: +${rel}/summary\\.md`));
  assert.match(text, new RegExp(`JUnit XML: +${rel}/junit\\.xml`));
  assert.match(
    text,
    /^14 scenarios: 5 passed, 1 failed, 6 broken, 2 skipped, 9 retried attempts \(from 2 results directories\)$/m,
  );
  assert.deepEqual((await readdir(out)).sort(), [
    '.hookpoint-history',
    'allure-report',
    'hookpoint-report.html',
    'junit.xml',
    'summary.json',
    'summary.md',
  ]);
  // A failed scenario does not make the command fail (it returned); the same selection again trends,
  // a different selection (B alone) starts its own trend.
  assert.match(await report(['--merge', A, B, '--out', out]), /trend: 2 runs/);
  assert.match(await report(['--results', B, '--out', out]), /trend: 1 run\)/);
  assert.match(await report(['--results', B, '--out', out, '--no-history']), /trend: 1 run\)/);
});

test('hookpoint report on a missing directory is a UsageError; --help says failed scenarios exit 0', async () => {
  await assert.rejects(report(['--results', '/nonexistent/allure-results']), UsageError);
  const program = new Command('hookpoint');
  register(program);
  const help = program.commands.find((c) => c.name() === 'report')!.helpInformation();
  assert.match(help, /--merge <dirs\.\.\.>/);
  let after = '';
  const cmd = program.commands.find((c) => c.name() === 'report')!;
  cmd.configureOutput({ writeOut: (s) => (after += s) });
  cmd.outputHelp();
  assert.match(after, /Exit status: 0 when the reports were written, even if scenarios failed/);
});
