/**
 * The vocabulary beyond the seed on the lab, from a feature written only from the catalogue
 * (test/fixtures/vocabulary/every-sentence.feature): UDP, ICMP to a pod and a node, node → pod,
 * services with their own target port (ClusterIP, NodePort, ClusterIP UDP), answers from a named
 * replica, at least 2 different backends, a failure judged against its positive control, a scope
 * over a list of nodes — every scenario passes. The same traffic with each outcome inverted
 * (every-sentence-inverted.feature) fails scenario by scenario, on evidence: failed, never broken,
 * each verdict naming its attachment.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { run } from '../../support/exec/index.ts';
import { allureResults, labDown } from './helpers/lab-cli.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = [process.execPath, path.join(ROOT, 'bin/hookpoint.js')];
const FIXTURES = path.join(ROOT, 'test/fixtures/vocabulary');
const skip = process.getuid?.() !== 0 && 'needs root (real namespaces)';
const cluster = `hpvocab-${process.pid % 100000}`;
let tmp = '';

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hp-vocabulary-'));
});
after(async () => {
  await labDown(cluster);
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function hookpointRun(feature: string, reports: string) {
  return run([...CLI, 'run', path.join(FIXTURES, feature), '--reports', reports, '--cluster', cluster], {
    timeoutMs: 600_000,
    cwd: ROOT,
    check: false,
    where: 'test',
  });
}

describe('every sentence beyond the seed, on the lab', { skip, concurrency: 1 }, () => {
  test('the feature written from the catalogue passes, scenario by scenario', async () => {
    const reports = path.join(tmp, 'pass');
    const res = await hookpointRun('every-sentence.feature', reports);
    const results = allureResults(reports);
    const notPassed = results.filter((r) => r.status !== 'passed').map((r) => `${r.name}: ${r.status} ${r.message}`);
    assert.deepEqual(notPassed, [], res.stdout.slice(-3000));
    assert.equal(results.length, 7);
    assert.equal(res.exitCode, 0, res.stderr);
  });

  test('each outcome inverted fails on evidence: failed (not broken), the verdict naming its attachment', async () => {
    const reports = path.join(tmp, 'inverted');
    const res = await hookpointRun('every-sentence-inverted.feature', reports);
    assert.equal(res.exitCode, 1, res.stderr);
    const results = allureResults(reports);
    assert.equal(results.length, 9);
    for (const r of results) {
      assert.equal(r.status, 'failed', `${r.name}: ${r.status} ${r.message}`);
      assert.match(r.message, /evidence \S+\.txt/, `${r.name} names no evidence: ${r.message}`);
    }
    const by = (name: RegExp) => results.find((r) => name.test(r.name))?.message ?? '';
    assert.match(by(/^UDP datagrams/), /5 of 5 succeeded \(UDP datagrams from pod client/);
    assert.match(by(/^ICMP echo requests to the worker/), /ok reply answered by echo-\S+ from 10\.244\./);
    assert.match(by(/^Load balancing/), /only echo-\S+ did/);
    assert.match(by(/^Counters/), /rose by 0/);
  });
});
