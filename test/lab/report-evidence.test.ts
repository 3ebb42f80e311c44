/**
 * What a reviewer gets from a lab run: every scenario's result carries its evidence, captures are
 * attached as pcap files that `hookpoint parse tcpdump` reads back, a variant's failure lands in
 * the datapath-regression category with a different packet-path picture, and two consecutive
 * reports show a trend of two.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { run } from '../../support/exec/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = [process.execPath, path.join(ROOT, 'bin/hookpoint.js')];
const skip = process.getuid?.() !== 0 && 'needs root (real namespaces)';
const NAME =
  '^(Pod eth0 and the host veth see the ClusterIP, node eth0 sees only the backend|Pod to ClusterIP succeeds and the KUBE-SVC and KUBE-SEP counters stay flat)$';
let tmp = '';

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'hp-report-evidence-'));
});
after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

interface Result {
  name: string;
  status: string;
  steps: Array<{
    name: string;
    status?: string;
    attachments?: Array<{ name: string; source: string; type: string }>;
    steps?: unknown[];
  }>;
}

/** Attachment names under one step (its own and its sub-steps'). */
function namesUnder(step: Result['steps'][number]): string[] {
  return attachmentsOf({ name: '', status: '', steps: [step] }).map((a) => a.name);
}

async function results(dir: string): Promise<Result[]> {
  const out: Result[] = [];
  for (const f of (await readdir(dir)).filter((x) => x.endsWith('-result.json')))
    out.push(JSON.parse(await readFile(path.join(dir, f), 'utf8')));
  return out;
}

function attachmentsOf(r: Result): Array<{ name: string; source: string; type: string }> {
  const all: Array<{ name: string; source: string; type: string }> = [];
  const walk = (steps: Result['steps']) => {
    for (const s of steps) {
      all.push(...(s.attachments ?? []));
      walk((s.steps ?? []) as Result['steps']);
    }
  };
  walk(r.steps);
  return all;
}

async function svgOf(resultsDir: string, scenario: string): Promise<string> {
  for (const f of (await readdir(resultsDir)).filter((x) => x.endsWith('.svg'))) {
    const text = await readFile(path.join(resultsDir, f), 'utf8');
    if (text.includes(`<title>${scenario}`)) return text;
  }
  throw new Error(`no packet-path picture for ${scenario}`);
}

test('passing run: evidence attached, pcaps read back, reports written, trend grows', { skip }, async () => {
  const reports = path.join(tmp, 'pass');
  for (let i = 0; i < 2; i++) {
    const res = await run(
      [...CLI, 'run', '--backend', 'lab', '--cluster', 'hprep', '--reports', reports, '--name', NAME],
      {
        timeoutMs: 240_000,
        check: false,
        cwd: ROOT,
      },
    );
    assert.equal(res.exitCode, 0, res.stdout.slice(-1500) + res.stderr);
  }
  for (const f of ['allure-report/index.html', 'hookpoint-report.html', 'summary.md', 'summary.json', 'junit.xml'])
    assert.ok(existsSync(path.join(reports, f)), `${f} missing`);
  const trend = JSON.parse(
    await readFile(path.join(reports, 'allure-report/widgets/history-trend.json'), 'utf8'),
  ) as unknown[];
  assert.equal(trend.length, 2, 'two consecutive runs show a trend of two');

  const dir = path.join(reports, 'allure-results');
  const rs = await results(dir);
  assert.equal(rs.length, 2);
  for (const r of rs) {
    const names = attachmentsOf(r).map((a) => a.name);
    assert.ok(
      names.some((n) => /^\d\d-iptables-before-node-/.test(n)),
      `${r.name}: counter evidence attached`,
    );
    assert.ok(
      names.some((n) => /^\d\d-traffic-pod-client\.txt$/.test(n)),
      `${r.name}: traffic evidence attached`,
    );
  }
  // Evidence where it was judged: the When keeps the traffic it drove; each Then carries what it
  // judged and a Verdict sub-step with its key figure.
  const flat = rs.find((r) => r.name.startsWith('Pod to ClusterIP'))!;
  const when = flat.steps.find((s) => s.name.startsWith('When '))!;
  assert.ok(
    namesUnder(when).some((n) => /-traffic-pod-client\.txt$/.test(n)),
    'the When shows its traffic',
  );
  assert.ok(!namesUnder(when).some((n) => /-iptables-/.test(n)), 'counter snapshots are not on the When');
  const counters = flat.steps.find((s) => s.name.includes('counters of service'))!;
  assert.ok(
    namesUnder(counters).some((n) => /-iptables-before-node-/.test(n)),
    'the counter step shows the snapshots',
  );
  const verdicts = (counters.steps as Result['steps']).filter((s) => s.name.startsWith('Verdict: '));
  assert.deepEqual(
    verdicts.map((v) => [v.name, v.status]),
    [
      ['Verdict: KUBE-SVC jump 0→0 on 2 nodes', 'passed'],
      ['Verdict: KUBE-SEP DNAT 0→0 on 2 nodes', 'passed'],
    ],
  );
  for (const r of rs)
    for (const then of r.steps.slice(r.steps.findIndex((s) => s.name.startsWith('Then '))))
      assert.ok(
        (then.steps as Result['steps']).some((s) => s.name.startsWith('Verdict: ')),
        `${r.name} / ${then.name}: a verdict`,
      );
  const capture = rs.find((r) => r.name.startsWith('Pod eth0'))!;
  for (const then of capture.steps.filter((s) => s.name.includes('a capture on')))
    assert.ok(
      attachmentsOf({ name: '', status: '', steps: [then] }).some((a) => a.type === 'application/vnd.tcpdump.pcap'),
      `${then.name}: its capture's pcap is on it`,
    );
  const pcaps = attachmentsOf(capture).filter((a) => a.type === 'application/vnd.tcpdump.pcap');
  assert.equal(pcaps.length, 3, 'pod eth0, host veth and node eth0 captures attached as pcap');
  for (const p of pcaps) {
    const parsed = await run([...CLI, 'parse', 'tcpdump', path.join(dir, p.source), '--json'], {
      timeoutMs: 30_000,
      cwd: ROOT,
    });
    const packets = (JSON.parse(parsed.stdout) as { packets: Array<{ dst: { ip: string } | null }> }).packets;
    assert.ok(packets.length > 0, `${p.name} holds packets`);
  }
});

test('a lab variant lands in the datapath-regression category with a different picture', { skip }, async () => {
  const reports = path.join(tmp, 'notc');
  const res = await run(
    [
      ...CLI,
      'run',
      '--backend',
      'lab',
      '--cluster',
      'hprep-notc',
      '--variant',
      'no-tc',
      '--reports',
      reports,
      '--name',
      NAME,
    ],
    { timeoutMs: 240_000, check: false, cwd: ROOT },
  );
  assert.equal(res.exitCode, 1, 'a failed scenario exits 1');
  const summary = JSON.parse(await readFile(path.join(reports, 'summary.json'), 'utf8')) as {
    scenarios: Array<{ name: string; status: string; categoryName?: string; evidence?: string }>;
  };
  const flat = summary.scenarios.find((s) => s.name.startsWith('Pod to ClusterIP'))!;
  assert.equal(flat.status, 'failed');
  assert.match(flat.categoryName ?? '', /datapath regression/i);
  assert.match(flat.evidence ?? '', /rose from 0 to/);
  const name = 'Pod to ClusterIP succeeds and the KUBE-SVC and KUBE-SEP counters stay flat';
  const good = await svgOf(path.join(tmp, 'pass', 'allure-results'), name);
  const bad = await svgOf(path.join(reports, 'allure-results'), name);
  assert.notEqual(good, bad);
  assert.match(bad, /KUBE-SEP-[A-Z0-9]{16} \+\d/);
});
