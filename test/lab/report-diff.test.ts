/**
 * `hookpoint diff` on real lab runs (root): the seed suite on the normal lab against the same
 * suite with `--variant no-tc`. The diff lists the pod → ClusterIP scenario with its counters gone
 * from flat to rising and exits 1 (it got worse); scenarios that do not depend on tc (NodePort,
 * native routing, node → ClusterIP) are not listed. Both runs use the same cluster name, as the
 * suite before and after a change on one cluster would.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { cli, tempDir } from '../unit/helpers/hardening.ts';

const skip = process.getuid?.() !== 0 && 'the lab needs root';
const dir = tempDir('diff-lab');
after(() => rmSync(dir, { recursive: true, force: true }));

const CLUSTERIP_FLAT = 'Pod to ClusterIP succeeds and the KUBE-SVC and KUBE-SEP counters stay flat';
const UNAFFECTED = [
  "NodePort from a node succeeds and kube-proxy's counters rise",
  "NodePort from a pod succeeds and kube-proxy's counters rise on the target node",
  'Node to ClusterIP goes through kube-proxy in this mode',
  'Cilium status reports native routing and kube-proxy replacement false',
  'Pod to pod across nodes succeeds over native routes',
];
const mdName = (n: string) => n.replace(/[\\`*_[\]|]/g, (c) => `\\${c}`).replace(/'/g, "'");

test('normal lab vs --variant no-tc: the ClusterIP scenario with counters flat → rising, nothing for the rest', {
  skip,
}, async () => {
  const runSuite = async (name: string, variant?: string) => {
    const reports = path.join(dir, name);
    const res = await cli(
      [
        'run',
        '--backend',
        'lab',
        '--cluster',
        'hpdiff',
        '--tags',
        '@seed',
        '--reports',
        reports,
        '--no-report',
        ...(variant ? ['--variant', variant] : []),
      ],
      { timeoutMs: 300_000 },
    );
    assert.ok(res.exitCode === 0 || res.exitCode === 1, `${name}: exit ${res.exitCode}\n${res.stderr}`);
    return reports;
  };
  const base = await runSuite('base');
  const notc = await runSuite('notc', 'no-tc');
  const out = path.join(dir, 'out');
  const res = await cli(['diff', base, notc, '--out', out]);
  assert.equal(res.exitCode, 1, `a scenario got worse: exit 1\n${res.stdout}\n${res.stderr}`);
  const md = res.stdout;
  const section = md.slice(md.indexOf(`## ${mdName(CLUSTERIP_FLAT)}`));
  assert.ok(md.includes(`## ${mdName(CLUSTERIP_FLAT)}`), md);
  assert.match(section.split('\n## ')[0]!, /counters flat → rising/, md);
  assert.match(
    md,
    new RegExp(`${mdName(CLUSTERIP_FLAT).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*✅ passed \\| ❌ failed`),
  );
  for (const n of UNAFFECTED) assert.ok(!md.includes(mdName(n)), `unaffected scenario listed: ${n}\n${md}`);
  assert.ok(existsSync(path.join(out, 'diff.html')));
});
