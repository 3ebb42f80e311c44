import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { UsageError } from '../../support/errors.ts';
import { formatProperties } from '../../support/report/environment-properties.ts';
import { mergeResults, parseProperties, readResults, type ScenarioResult } from '../../support/report/results.ts';

const FIX = path.join(import.meta.dirname, '..', 'fixtures');
const A = path.join(FIX, 'allure-results-cilium-1.16.5');
const B = path.join(FIX, 'allure-results-cilium-1.17.0');
const tmps: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hookpoint-test-'));
  tmps.push(d);
  return d;
}
after(async () => {
  for (const d of tmps) await rm(d, { recursive: true, force: true });
});

const byName = (rs: ScenarioResult[], name: string, cilium?: string) =>
  rs.find((r) => r.name.startsWith(name) && (cilium === undefined || r.parameters.cilium === cilium))!;

test('one results dir: one scenario per historyId, latest attempt wins, earlier ones are retries', async () => {
  const rs = await readResults(A);
  assert.equal(rs.length, 7);
  const flaky = byName(rs, 'Flaky pod startup');
  assert.equal(flaky.status, 'passed');
  assert.equal(flaky.retries, 1);
  const cip = byName(rs, 'ClusterIP traffic');
  assert.equal(cip.status, 'passed');
  assert.equal(cip.retries, 0);
  assert.equal(cip.feature, 'Service translation through kube-proxy iptables');
  assert.deepEqual(cip.parameters, { backend: 'kind', cilium: '1.16.5' });
  assert.deepEqual(
    cip.attachments.map((a) => a.name),
    ['01-kubectl-host.txt', '02-traffic-pod-client.txt', '03-iptables-node-cilium-worker.txt'],
  );
  assert.ok(cip.labels.some((l) => l.name === 'tag' && l.value === '@story:clusterip'));
  assert.equal(byName(rs, 'Socket LB').status, 'skipped');
  assert.equal(byName(rs, 'Hubble').status, 'broken');
  assert.match(byName(rs, 'Hubble').message ?? '', /Inconclusive: hubble relay/);
});

test('the lab variant (1.17.0) fails ClusterIP on evidence, with the counter attachment in the failed step', async () => {
  const cip = byName(await readResults(B), 'ClusterIP traffic');
  assert.equal(cip.status, 'failed');
  assert.match(cip.message ?? '', /KUBE-SEP-7IQZ3XW stayed at 0 packets/);
  const failed = cip.steps.find((s) => s.status === 'failed')!;
  assert.equal(failed.name, 'Then KUBE-SEP counters rise on node worker');
  assert.deepEqual(
    failed.steps.flatMap((s) => s.attachments.map((a) => a.name)),
    ['03-iptables-node-cilium-worker.txt'],
  );
});

test('merge: copying two runs into one dir gives the same scenarios and statuses as reading both', async () => {
  const into = await tmp();
  const copied = await mergeResults([A, B], into);
  const files = await readdir(into);
  assert.equal(copied, files.length);
  assert.equal(files.length, (await readdir(A)).length + (await readdir(B)).length);
  const key = (rs: ScenarioResult[]) =>
    rs.map((r) => `${r.feature}|${r.name}|${r.parameters.cilium}|${r.status}|${r.retries}|${r.attachments.length}`);
  const merged = await readResults(into);
  assert.equal(merged.length, 14);
  assert.deepEqual(key(merged), key(await readResults([A, B])));
  // Every attachment a result references was copied beside it.
  for (const r of merged) for (const a of r.attachments) assert.ok(files.includes(a.source), a.source);
});

test('merge: the same dir twice is not counted twice; a clashing file is refused', async () => {
  const into = await tmp();
  await mergeResults([A, A], into);
  assert.equal((await readResults(into)).length, 7);
  const bad = await tmp();
  const one = (await readdir(A)).find((n) => n.endsWith('-result.json'))!;
  await writeFile(path.join(bad, one), '{"name":"edited"}');
  await assert.rejects(
    mergeResults([A, bad], await tmp()),
    (e: unknown) => e instanceof UsageError && e.message.includes(one),
  );
});

test('bad input is one clear UsageError: missing dir, no results, broken JSON', async () => {
  await assert.rejects(readResults('/nonexistent/allure-results'), (e: unknown) => {
    return e instanceof UsageError && /does not exist/.test(e.message) && !e.message.includes('\n');
  });
  const empty = await tmp();
  await assert.rejects(
    readResults(empty),
    (e: unknown) => e instanceof UsageError && /No scenario results/.test(e.message),
  );
  const broken = await tmp();
  await mkdir(broken, { recursive: true });
  await writeFile(path.join(broken, 'x-result.json'), '{"name": "cut off');
  await assert.rejects(
    readResults(broken),
    (e: unknown) => e instanceof UsageError && e.message.includes('x-result.json'),
  );
});

test('environment.properties round-trips, including spaces, separators and non-ASCII', () => {
  const env = {
    backend: 'kind',
    cilium: '1.17.0',
    'datapath fingerprint': 'routing=tunnel; kpr=false: host-routing=legacy',
    kernel: '6.1.0-27-amd64 #1 SMP Debian',
    note: 'naïve → ok\\path',
  };
  const text = formatProperties(env);
  assert.match(text, /^backend=kind\ncilium=1\.17\.0\n/);
  assert.ok(text.includes('datapath\\ fingerprint='));
  assert.deepEqual(parseProperties(text), env);
});
