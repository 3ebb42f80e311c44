/**
 * The seed suite fails as designed on a broken datapath: each lab variant must turn exactly the
 * scenarios that depend on it red — failed on evidence — while the unmutated lab is green.
 * Runs the real CLI as a child process against real labs (root).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { run } from '../../support/exec/index.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const isRoot = process.getuid?.() === 0;
const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

interface Verdict {
  status: string;
  message: string;
}

async function runSuite(cluster: string, variant: string | null, name: string): Promise<Map<string, Verdict>> {
  const reports = await mkdtemp(path.join(os.tmpdir(), 'hp-variant-'));
  dirs.push(reports);
  const argv = [
    process.execPath,
    path.join(ROOT, 'bin/hookpoint.js'),
    'run',
    '--backend',
    'lab',
    '--no-report',
    '--cluster',
    cluster,
    '--reports',
    reports,
    '--name',
    name,
  ];
  if (variant) argv.push('--variant', variant);
  const res = await run(argv, { timeoutMs: 180_000, check: false, cwd: ROOT });
  assert.ok(
    res.exitCode === 0 || res.exitCode === 1,
    `hookpoint run exited ${res.exitCode}: ${res.stderr || res.stdout}`,
  );
  const out = new Map<string, Verdict>();
  const resultsDir = path.join(reports, 'allure-results');
  for (const f of (await readdir(resultsDir)).filter((x) => x.endsWith('-result.json'))) {
    const r = JSON.parse(await readFile(path.join(resultsDir, f), 'utf8')) as {
      name: string;
      status: string;
      statusDetails?: { message?: string };
    };
    out.set(r.name, { status: r.status, message: r.statusDetails?.message ?? '' });
  }
  return out;
}

const CLUSTERIP_FLAT = 'Pod to ClusterIP succeeds and the KUBE-SVC and KUBE-SEP counters stay flat';
const _MONITOR = 'cilium monitor shows the ClusterIP translated to a backend';
const POD_TO_POD = 'Pod to pod across nodes succeeds over native routes';
const STATUS = 'Cilium status reports native routing and kube-proxy replacement false';
const ROUTES = "Other nodes' pod CIDRs are routed via their node IPs";
const REDIRECT = 'Same-node backend delivered by bpf_redirect';
const NODEPORT = "NodePort from a node succeeds and kube-proxy's counters rise";
const pick = (...names: string[]) => `^(${names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')})$`;

test('the unmutated lab passes the scenarios the variants break', {
  skip: !isRoot && 'needs root (real namespaces)',
}, async () => {
  const v = await runSuite('hpvar-base', null, pick(CLUSTERIP_FLAT, POD_TO_POD, STATUS, REDIRECT, NODEPORT));
  for (const n of [CLUSTERIP_FLAT, POD_TO_POD, STATUS, REDIRECT, NODEPORT])
    assert.equal(v.get(n)?.status, 'passed', `${n}: ${v.get(n)?.message}`);
});

test('no-tc: pod → ClusterIP counters rise, so the stay-flat scenario fails naming the rule', {
  skip: !isRoot && 'needs root',
}, async () => {
  const v = await runSuite('hpvar-notc', 'no-tc', pick(CLUSTERIP_FLAT, NODEPORT));
  assert.equal(v.get(CLUSTERIP_FLAT)?.status, 'failed');
  assert.match(v.get(CLUSTERIP_FLAT)!.message, /KUBE-(SVC|SEP)-[A-Z0-9]{16}.*rose from 0 to \d+ packets? on node/);
  assert.equal(v.get(NODEPORT)?.status, 'passed', 'NodePort does not depend on tc');
});

test('no-native-route: pod to pod and the route check fail on `ip route` evidence; the status still says Native, as Cilium does', {
  skip: !isRoot && 'needs root',
}, async () => {
  const v = await runSuite('hpvar-noroute', 'no-native-route', pick(POD_TO_POD, ROUTES, STATUS, NODEPORT));
  assert.equal(v.get(POD_TO_POD)?.status, 'failed', v.get(POD_TO_POD)?.message);
  assert.equal(v.get(ROUTES)?.status, 'failed', v.get(ROUTES)?.message);
  assert.match(v.get(ROUTES)!.message, /there is no route for 10\.244\.\d+\.0\/24 .*evidence/);
  // Cilium prints routingMode as configured (native): a broken route never turns the status into another value.
  assert.equal(v.get(STATUS)?.status, 'passed', v.get(STATUS)?.message);
});

test('no-local-redirect: the same-node scenario fails on bpftool evidence — the delivery slot is empty', {
  skip: !isRoot && 'needs root',
}, async () => {
  const v = await runSuite('hpvar-noredir', 'no-local-redirect', pick(REDIRECT, CLUSTERIP_FLAT));
  assert.equal(v.get(REDIRECT)?.status, 'failed', v.get(REDIRECT)?.message);
  assert.match(v.get(REDIRECT)!.message, /redirect/i);
  // The tail-call walk: hook → slot 7 → tail_handle_ipv4 → the backend's cilium_call_policy slot, empty.
  assert.match(
    v.get(REDIRECT)!.message,
    /cil_from_container \(id \d+\) → cilium_calls_\d+ slot 7 → tail_handle_ipv4 .*cilium_call_pol slot \d+, which is empty.*bpftool-tail-calls/,
  );
  assert.equal(v.get(CLUSTERIP_FLAT)?.status, 'passed', 'translation still happens at tc');
});

test('no lab of these runs is left behind', { skip: !isRoot && 'needs root' }, async () => {
  const res = await run(['ip', 'netns', 'list'], { timeoutMs: 5000 });
  assert.doesNotMatch(res.stdout, /hpvar-/);
});
