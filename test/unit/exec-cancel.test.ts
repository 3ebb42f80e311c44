import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cancelAll, cancelled, run, spawnBackground } from '../../support/exec/index.ts';

// Own file: cancellation is process-wide and final, as on SIGINT.
test('cancelAll stops running commands and refuses new ones', async () => {
  const bg = spawnBackground(['sleep', '30'], { maxMs: 60_000 });
  const fg = run(['sleep', '30'], { timeoutMs: 60_000, where: 'node cp' });
  setTimeout(() => cancelAll('SIGINT'), 200);
  const started = Date.now();
  await assert.rejects(fg, /cancelled on node cp/);
  await bg.stop();
  assert.equal(bg.running(), false);
  assert.ok(Date.now() - started < 5000);
  assert.equal(cancelled(), true);
  await assert.rejects(run(['true'], { timeoutMs: 1000 }), /shutting down/);
});
