import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attachmentName, EvidenceRecorder, MediaType, slug } from '../../support/evidence/index.ts';

test('attachments are named <nn>-<probe>-<where>.<ext>', () => {
  assert.equal(
    attachmentName(3, 'iptables', 'node cilium-kubeproxy-worker', MediaType.text),
    '03-iptables-node-cilium-kubeproxy-worker.txt',
  );
  assert.equal(attachmentName(12, 'capture', 'pod client eth0', MediaType.pcap), '12-capture-pod-client-eth0.pcap');
  assert.equal(slug('../../etc/passwd; rm'), '..-..-etc-passwd-rm');
});

test('the recorder numbers attachments in order and hands them to the sink', async () => {
  const seen: string[] = [];
  const rec = new EvidenceRecorder((a) => {
    seen.push(`${a.name} ${a.media}`);
  });
  await rec.attach('iptables', 'node worker', MediaType.text, 'x');
  await rec.attachEvidence({
    kind: 'monitor',
    where: 'node cp',
    commands: ['cilium-dbg monitor'],
    raw: 'line',
    data: [],
    summary: '1 event',
  });
  assert.deepEqual(seen, ['01-iptables-node-worker.txt text/plain', '02-monitor-node-cp.txt text/plain']);
  assert.match(String(rec.attached[1]!.body), /# 1 event\n# where: node cp\n# \$ cilium-dbg monitor\n\nline/);
});
