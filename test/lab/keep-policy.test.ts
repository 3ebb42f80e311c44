/**
 * `--keep on-failure`: a failed run leaves its lab for inspection (the janitor must not remove it
 * once the run exits), a passing run removes it; `hookpoint lab down` removes a kept one.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { run } from '../../support/exec/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = [process.execPath, path.join(ROOT, 'bin/hookpoint.js')];
const skip = process.getuid?.() !== 0 && 'needs root (real namespaces)';
const FLAT = '^Pod to ClusterIP succeeds and the KUBE-SVC and KUBE-SEP counters stay flat$';
const dirs: string[] = [];

after(async () => {
  for (const c of ['hpkeep-fail', 'hpkeep-pass'])
    await run([...CLI, 'lab', 'down', '--cluster', c], { timeoutMs: 60_000, check: false, cwd: ROOT });
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function namespacesOf(cluster: string): Promise<string[]> {
  const res = await run(['ip', 'netns', 'list'], { timeoutMs: 5000 });
  return res.stdout.split('\n').filter((l) => l.startsWith(`hp.${cluster}.`));
}

async function runOnce(cluster: string, variant: string[]): Promise<number> {
  const reports = await mkdtemp(path.join(os.tmpdir(), 'hp-keep-'));
  dirs.push(reports);
  const res = await run(
    [
      ...CLI,
      'run',
      '--backend',
      'lab',
      '--cluster',
      cluster,
      '--keep',
      'on-failure',
      ...variant,
      '--no-report',
      '--reports',
      reports,
      '--name',
      FLAT,
    ],
    { timeoutMs: 180_000, check: false, cwd: ROOT },
  );
  return res.exitCode;
}

test('a failed run keeps its lab; a passing run removes it', { skip }, async () => {
  assert.equal(await runOnce('hpkeep-fail', ['--variant', 'no-tc']), 1);
  await new Promise((r) => setTimeout(r, 1500)); // the janitor polls its owner; give it time to act wrongly
  assert.ok((await namespacesOf('hpkeep-fail')).length > 0, 'the failed run’s lab is kept');

  assert.equal(await runOnce('hpkeep-pass', []), 0);
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(await namespacesOf('hpkeep-pass'), []);

  const down = await run([...CLI, 'lab', 'down', '--cluster', 'hpkeep-fail'], {
    timeoutMs: 60_000,
    check: false,
    cwd: ROOT,
  });
  assert.equal(down.exitCode, 0, down.stderr);
  assert.deepEqual(await namespacesOf('hpkeep-fail'), []);
});
