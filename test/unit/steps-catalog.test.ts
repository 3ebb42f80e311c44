/**
 * `hookpoint steps` is generated from the step definitions, and every example it prints is itself
 * a valid step: a feature made of all the examples passes `hookpoint run --dry-run`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { run } from '../../support/exec/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = [process.execPath, path.join(ROOT, 'bin/hookpoint.js')];

test('every printed example is a defined step (dry run)', async () => {
  const res = await run([...CLI, 'steps', '--json'], { timeoutMs: 60_000, cwd: ROOT });
  const docs = JSON.parse(res.stdout) as Array<{ keyword: string; expression: string; example: string; doc: string }>;
  assert.ok(docs.length >= 25, `expected the whole vocabulary, got ${docs.length} steps`);
  for (const d of docs) {
    assert.ok(d.doc.length > 10, `${d.expression} has documentation`);
    assert.ok(d.example.startsWith(d.keyword), `${d.expression}: example starts with ${d.keyword}`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hp-steps-'));
  try {
    const body = docs.map((d) => `    ${d.example.split('\n').join('\n    ')}`).join('\n');
    const file = path.join(dir, 'examples.feature');
    await writeFile(file, `Feature: every example\n  Scenario: all of them\n${body}\n`);
    const dry = await run([...CLI, 'run', '--dry-run', file], { timeoutMs: 60_000, cwd: ROOT, check: false });
    assert.equal(dry.exitCode, 0, dry.stderr || dry.stdout);
    assert.match(dry.stdout, new RegExp(`${docs.length} steps, every step defined`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
