/** The lab's ledger and lock (files only, no root): nothing outside the lab's prefix is ever recorded or acted on. */
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { processAlive, processStart, RunDir } from '../../support/backends/lab/ledger.ts';
import { UsageError } from '../../support/errors.ts';

const root = mkdtempSync(path.join(tmpdir(), 'hpt-ledger-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('ledger', () => {
  it('records the lab’s own namespaces and paths, and refuses anything else', () => {
    const rd = new RunDir(root, 'hpt-a');
    rd.record({ kind: 'netns', name: 'hp.hpt-a.hpt-a-worker' });
    rd.record({ kind: 'pidfile', path: rd.file('echo-x.pid') });
    assert.throws(() => rd.record({ kind: 'netns', name: 'hp.hpt-ab.x' }), /not a namespace of lab hpt-a/);
    assert.throws(() => rd.record({ kind: 'netns', name: 'other' }), /not a namespace/);
    assert.throws(() => rd.record({ kind: 'mount', path: '/sys/fs/bpf' }), /outside/);
    assert.throws(() => rd.record({ kind: 'file', path: rd.file('../hpt-b/state.json') }), /outside/);
    assert.deepEqual(
      rd.entries().map((e) => e.kind),
      ['netns', 'pidfile'],
    );
  });

  it('ignores a torn line and a foreign entry written into the file by hand', () => {
    const rd = new RunDir(root, 'hpt-b');
    rd.record({ kind: 'netns', name: 'hp.hpt-b.kind' });
    appendFileSync(rd.ledgerFile, `${JSON.stringify({ kind: 'netns', name: 'cni-1234' })}\n{"kind":"netns","na`);
    assert.deepEqual(rd.entries(), [{ kind: 'netns', name: 'hp.hpt-b.kind' }]);
  });

  it('refuses a run directory for a name that is not a DNS-1123 label', () => {
    assert.throws(() => new RunDir(root, '../etc'), UsageError);
    assert.throws(() => new RunDir(root, 'x;touch p'), UsageError);
  });
});

describe('lock', () => {
  it('is re-entrant for its holder and names a live other holder', async () => {
    const rd = new RunDir(root, 'hpt-c');
    await rd.acquireLock('test');
    await rd.acquireLock('test again');
    // Pretend pid 1 (alive) holds it.
    writeFileSync(rd.lockFile, JSON.stringify({ pid: 1, start: processStart(1), command: 'init', at: 'now' }));
    await assert.rejects(
      rd.acquireLock('test'),
      (e: unknown) => e instanceof UsageError && /in use by process 1 \(init/.test(e.message),
    );
  });

  it('takes over a lock whose process is gone (or whose pid was reused)', async () => {
    const rd = new RunDir(root, 'hpt-d');
    rd.ensure();
    writeFileSync(rd.lockFile, JSON.stringify({ pid: 1, start: 'not-its-start-time', command: 'old', at: 'then' }));
    await rd.acquireLock('test');
    assert.equal(rd.lockHolder()?.pid, process.pid);
    rd.releaseLock();
    assert.equal(rd.lockHolder(), null);
  });

  it('tells a live process from a dead one', () => {
    assert.ok(processAlive(process.pid));
    assert.ok(processAlive(process.pid, processStart(process.pid)!));
    assert.ok(!processAlive(process.pid, 'other'));
    assert.ok(!processAlive(2 ** 22 + 1));
  });
});
