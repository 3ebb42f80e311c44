/**
 * The results writer handed to allure-cucumberjs: the files the library's own writer would put in
 * the results directory, whole (no temporary file left), readable by the report's reader.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { Status, type TestResult, type TestResultContainer } from 'allure-js-commons';
import { readEnvironment, readResults } from '../../support/report/results.ts';
import { ResultsWriter } from '../../support/report/results-writer.ts';

test('results writer: results, containers, attachments, categories and environment land whole under their own names', async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'hp-results-writer-'));
  try {
    const dir = path.join(tmp, 'allure-results');
    const w = new ResultsWriter(dir);
    const result = {
      uuid: 'r1',
      name: 'Pod to ClusterIP succeeds',
      fullName: 'features/services/clusterip.feature:10',
      status: 'passed',
      stage: 'finished',
      start: 1,
      stop: 2,
      labels: [],
      links: [],
      parameters: [],
      attachments: [{ name: 'evidence', source: 'a1-attachment.txt', type: 'text/plain' }],
      steps: [],
    } as unknown as TestResult;
    w.writeResult(result);
    w.writeGroup({ uuid: 'g1', children: ['r1'], befores: [], afters: [] } as unknown as TestResultContainer);
    w.writeAttachment('a1-attachment.txt', Buffer.from('KUBE-SEP 0→0\n'));
    const from = path.join(tmp, 'capture.pcap');
    await writeFile(from, Buffer.from([0xd4, 0xc3, 0xb2, 0xa1]));
    w.writeAttachmentFromPath('a2-attachment.pcap', from);
    w.writeCategoriesDefinitions([{ name: 'Infrastructure', matchedStatuses: [Status.BROKEN] }]);
    w.writeEnvironmentInfo({ backend: 'lab', cilium: '1.17.15' });

    assert.deepEqual((await readdir(dir)).sort(), [
      'a1-attachment.txt',
      'a2-attachment.pcap',
      'categories.json',
      'environment.properties',
      'g1-container.json',
      'r1-result.json',
    ]);
    assert.equal(await readFile(path.join(dir, 'a1-attachment.txt'), 'utf8'), 'KUBE-SEP 0→0\n');
    assert.deepEqual([...(await readFile(path.join(dir, 'a2-attachment.pcap')))], [0xd4, 0xc3, 0xb2, 0xa1]);
    assert.deepEqual(JSON.parse(await readFile(path.join(dir, 'categories.json'), 'utf8')), [
      { name: 'Infrastructure', matchedStatuses: ['broken'] },
    ]);
    const [read] = await readResults(dir);
    assert.equal(read?.name, 'Pod to ClusterIP succeeds');
    assert.equal(read?.status, 'passed');
    assert.deepEqual(await readEnvironment([dir]), { backend: 'lab', cilium: '1.17.15' });
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('results writer: a write that fails leaves no temporary file behind', async () => {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'hp-results-writer-'));
  try {
    const w = new ResultsWriter(tmp);
    assert.throws(() => w.writeAttachmentFromPath('x-attachment.txt', path.join(tmp, 'no-such-file')), /ENOENT/);
    assert.deepEqual(await readdir(tmp), []);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
