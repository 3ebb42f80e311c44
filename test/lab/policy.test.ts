/**
 * features/policy on the lab: green as written, and each scenario red on evidence — failed, not
 * broken — once the lab's policy enforcement is off (`--variant no-policy`). Runs the real CLI
 * against real labs (root).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { run } from '../../support/exec/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function runPolicy(cluster: string, variant: string | null) {
  const reports = await mkdtemp(path.join(os.tmpdir(), 'hp-policy-'));
  dirs.push(reports);
  const argv = [process.execPath, path.join(ROOT, 'bin/hookpoint.js'), 'run', 'features/policy'];
  argv.push('--backend', 'lab', '--no-report', '--cluster', cluster, '--reports', reports);
  if (variant) argv.push('--variant', variant);
  const res = await run(argv, { timeoutMs: 420_000, check: false, cwd: ROOT });
  assert.ok(
    res.exitCode === 0 || res.exitCode === 1,
    `hookpoint run exited ${res.exitCode}: ${res.stderr || res.stdout}`,
  );
  const out = new Map<string, { status: string; message: string }>();
  const dir = path.join(reports, 'allure-results');
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('-result.json'))) {
    const r = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as {
      name: string;
      status: string;
      statusDetails?: { message?: string };
    };
    out.set(r.name, { status: r.status, message: r.statusDetails?.message ?? '' });
  }
  return out;
}

test('the policy features pass on the lab', { skip: !isRoot && 'needs root (real namespaces)' }, async () => {
  const v = await runPolicy('hppol-base', null);
  assert.ok(v.size >= 9, `ran ${v.size} scenarios`);
  for (const [name, r] of v) assert.equal(r.status, 'passed', `${name}: ${r.message}`);
});

test('no-policy: every policy scenario fails on evidence', { skip: !isRoot && 'needs root' }, async () => {
  const v = await runPolicy('hppol-nopol', 'no-policy');
  assert.ok(v.size >= 9, `ran ${v.size} scenarios`);
  for (const [name, r] of v) {
    assert.equal(r.status, 'failed', `${name} should fail on evidence: ${r.status} ${r.message}`);
    // Each failure names what it saw: a delivered request, the answer, or a missing drop/verdict on a monitor.
    assert.match(r.message, /succeeded|answered by|shows no policy|delivered/, `${name}: ${r.message}`);
  }
});

test('no lab of these runs is left behind', { skip: !isRoot && 'needs root' }, async () => {
  const res = await run(['ip', 'netns', 'list'], { timeoutMs: 5000 });
  assert.doesNotMatch(res.stdout, /hppol-/);
});
