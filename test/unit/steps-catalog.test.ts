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
    // A Then that judges traffic needs a When before it: the examples in Given, When, Then order.
    const order = { Given: 0, When: 1, Then: 2 } as Record<string, number>;
    // The Thens judge the last window: it sends enough requests for "at least 2 different
    // backends" to be judged (preflight refuses fewer than 15 over 2 backends).
    const lastWindow = 'When pod "client" sends 20 HTTP requests to service "echo"';
    const body = [...docs]
      .sort((a, b) => order[a.keyword]! - order[b.keyword]!)
      .flatMap((d, i, all) => [
        ...(d.keyword === 'Then' && all[i - 1]?.keyword !== 'Then' ? [lastWindow] : []),
        d.example,
      ])
      .map((e) => `    ${e.split('\n').join('\n    ')}`)
      .join('\n');
    const file = path.join(dir, 'examples.feature');
    await writeFile(file, `Feature: every example\n  Scenario: all of them\n${body}\n`);
    const dry = await run([...CLI, 'run', '--dry-run', file], { timeoutMs: 60_000, cwd: ROOT, check: false });
    assert.equal(dry.exitCode, 0, dry.stderr || dry.stdout);
    assert.match(dry.stdout, new RegExp(`${docs.length + 1} steps, every step defined`));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the catalogue spells out every parameter: its forms, and its values when it is a fixed set of words', async () => {
  const res = await run([...CLI, 'steps', '--json'], { timeoutMs: 60_000, cwd: ROOT });
  const docs = JSON.parse(res.stdout) as Array<{
    keyword: string;
    expression: string;
    judges?: string;
    parameters: Array<{ name: string; forms: string[]; values?: string[]; doc: string }>;
  }>;
  for (const d of docs) {
    const names = [...d.expression.matchAll(/\{(\w*)\}/g)].map((m) => m[1]);
    assert.deepEqual(
      d.parameters.map((p) => p.name),
      names,
      `${d.expression}: one entry per parameter`,
    );
    for (const p of d.parameters) {
      assert.ok(p.forms.length > 0 && p.doc.length > 10, `{${p.name}} is documented`);
      assert.ok(!p.doc.includes('without documentation'), `{${p.name}} is a registered type`);
    }
    if (d.keyword === 'Then') assert.ok(d.judges === 'window' || d.judges === 'state', d.expression);
  }
  const types = new Map(docs.flatMap((d) => d.parameters.map((p) => [p.name, p] as const)));
  assert.deepEqual(types.get('counters')?.values, ['KUBE-SVC and KUBE-SEP', 'KUBE-SEP', 'KUBE-SVC', 'NodePort']);
  assert.deepEqual(types.get('nodes')?.forms.slice(0, 2), ['every node', 'node "<node>"']);
  assert.ok(types.get('capturePoint')?.forms.includes('the host veth of pod "<pod>"'));
  const text = await run([...CLI, 'steps'], { timeoutMs: 60_000, cwd: ROOT });
  assert.match(
    text.stdout,
    /^\{counters\} .*\n {4}one of \(as written, no quotes\): KUBE-SVC and KUBE-SEP \| KUBE-SEP/m,
  );
  assert.match(text.stdout, /^\{capturePoint\} .*\n {4}written: pod "<pod>" eth0 \|/m);
  // Status, routes, ARP and bpftool read the cluster as it is.
  const status = docs.find((d) => d.expression.startsWith('cilium status on'));
  assert.equal(status?.judges, 'state');
  assert.equal(docs.find((d) => d.expression.startsWith('all {count} request'))?.judges, 'window');
});
