/**
 * Commands start through the spawner (support/exec/spawner.js), a small child of this process:
 * the command's parent is the spawner, its environment and directory are still this process's
 * at the time of the call, a spawner that died is replaced, and HOOKPOINT_SPAWNER=0 starts
 * commands here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { test } from 'node:test';
import { run, spawnBackground } from '../../support/exec/index.ts';

const ppidOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
};

test("a command's parent is the spawner, a child of this process", async () => {
  const res = await run(['sh', '-c', 'echo $PPID'], { timeoutMs: 10_000 });
  const parent = Number(res.stdout.trim());
  assert.notEqual(parent, process.pid);
  assert.equal(ppidOf(parent), process.pid);
});

test('the environment and directory are those of this process when the command is called', async () => {
  process.env.HOOKPOINT_SPAWNER_TEST = 'set after the spawner started';
  try {
    const res = await run(['sh', '-c', 'echo "$HOOKPOINT_SPAWNER_TEST|$EXTRA|$(pwd)"'], {
      timeoutMs: 10_000,
      env: { EXTRA: 'given' },
      cwd: os.tmpdir(),
    });
    assert.equal(res.stdout.trim(), `set after the spawner started|given|${os.tmpdir()}`);
  } finally {
    delete process.env.HOOKPOINT_SPAWNER_TEST;
  }
  const gone = await run(['sh', '-c', 'echo "[$HOOKPOINT_SPAWNER_TEST]"'], { timeoutMs: 10_000 });
  assert.equal(gone.stdout.trim(), '[]', 'a variable removed here is not passed');
});

test('a background process streams its output and stops; input reaches a command', async () => {
  const bg = spawnBackground(['sh', '-c', 'echo first; sleep 30'], { maxMs: 60_000 });
  await bg.waitFor(/first/, 10_000);
  assert.ok(bg.pid && bg.pid > 0);
  const res = await bg.stop();
  assert.equal(res.stdout, 'first\n');
  assert.equal(res.record.background, true);
  const cat = await run(['cat'], { timeoutMs: 10_000, input: 'to stdin' });
  assert.equal(cat.stdout, 'to stdin');
});

test('a spawner that died is replaced by the next command', async () => {
  const first = Number((await run(['sh', '-c', 'echo $PPID'], { timeoutMs: 10_000 })).stdout.trim());
  process.kill(first, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 200));
  const res = await run(['sh', '-c', 'echo $PPID'], { timeoutMs: 10_000 });
  const second = Number(res.stdout.trim());
  assert.notEqual(second, first);
  assert.equal(ppidOf(second), process.pid);
});

test('HOOKPOINT_SPAWNER=0: the command is a child of this process', async () => {
  process.env.HOOKPOINT_SPAWNER = '0';
  try {
    const res = await run(['sh', '-c', 'echo $PPID'], { timeoutMs: 10_000 });
    assert.equal(Number(res.stdout.trim()), process.pid);
  } finally {
    delete process.env.HOOKPOINT_SPAWNER;
  }
});
