/**
 * House rules that a reviewer should not have to check by hand: only support/exec spawns
 * processes, and steps stay thin (no tool knowledge in steps/).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '../..');

function files(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(path.join(ROOT, dir))) {
    const rel = path.join(dir, e);
    if (e === 'node_modules' || e.startsWith('.')) continue;
    if (statSync(path.join(ROOT, rel)).isDirectory()) files(rel, out);
    else if (/\.(ts|js|mjs)$/.test(e)) out.push(rel);
  }
  return out;
}

const SPAWNS = /from ['"](execa|node:child_process|child_process)['"]|require\(['"](node:)?child_process['"]\)/;

test('only support/exec spawns processes (house rule 2)', () => {
  const offenders = ['support', 'steps', 'bin', 'bench']
    .flatMap((d) => files(d))
    .filter((f) => !f.startsWith('support/exec/') && SPAWNS.test(readFileSync(path.join(ROOT, f), 'utf8')));
  assert.deepEqual(offenders, []);
});

test('the check itself sees an offending import', () => {
  assert.ok(SPAWNS.test("import { execa } from 'execa';"));
  assert.ok(SPAWNS.test("import { spawn } from 'node:child_process';"));
});

test('steps hold no tool knowledge (house rule 1)', () => {
  const TOOL = /execa|child_process|iptables-save|tcpdump -|bpftool (net|prog)|\bip (route|neigh)\b|cilium-dbg/;
  const offenders = files('steps').filter((f) => TOOL.test(readFileSync(path.join(ROOT, f), 'utf8')));
  assert.deepEqual(offenders, []);
});
