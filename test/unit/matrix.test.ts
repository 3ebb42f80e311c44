/**
 * `hookpoint matrix`: argument validation, combination naming, the child argv (parsed back by the
 * real `run` command), the exit code, and the orchestration end to end with a stand-in child:
 * this very file, started with HOOKPOINT_MATRIX_FAKE set, plays `hookpoint run` — it writes
 * Allure results for its --cilium into its --reports, prints progress lines and exits like the
 * real run (0 passed, 1 a scenario failed, 3 environment error with no results).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const FAKE = process.env.HOOKPOINT_MATRIX_FAKE;
if (FAKE) await fakeRun(FAKE, process.argv.slice(2));

/** The stand-in for `hookpoint run` (only runs in the child). */
async function fakeRun(stateDir: string, argv: string[]): Promise<never> {
  const flag = (f: string) => argv[argv.indexOf(f) + 1]!;
  const cilium = flag('--cilium');
  const reports = flag('--reports');
  writeFileSync(path.join(stateDir, `argv-${cilium}.json`), JSON.stringify(argv));
  appendFileSync(path.join(stateDir, 'timeline.jsonl'), `${JSON.stringify({ cilium, at: Date.now(), ev: 'start' })}\n`);
  const say = (stream: NodeJS.WriteStream, text: string) => new Promise((r) => stream.write(text, r));
  await say(process.stdout, `hookpoint: provisioning fake ${flag('--cluster')} …\n.....\n`);
  await new Promise((r) => setTimeout(r, 400));
  appendFileSync(path.join(stateDir, 'timeline.jsonl'), `${JSON.stringify({ cilium, at: Date.now(), ev: 'end' })}\n`);
  if (cilium === '9.9.9') {
    await say(process.stderr, 'hookpoint: The lab backend cannot run on this machine: bpftool (missing).\n');
    process.exit(3);
  }
  const results = path.join(reports, 'allure-results');
  mkdirSync(results, { recursive: true });
  const failing = cilium === '1.18.6';
  const write = (name: string, status: string, message?: string) => {
    const uuid = randomUUID();
    const doc = {
      uuid,
      historyId: `${name}|${cilium}`,
      name,
      fullName: `features/x.feature#${name}`,
      status,
      statusDetails: message ? { message } : {},
      parameters: [
        { name: 'backend', value: 'lab' },
        { name: 'cilium', value: cilium },
      ],
      labels: [{ name: 'feature', value: 'Service translation' }],
      steps: [],
      attachments: [],
      start: 1,
      stop: 2,
    };
    writeFileSync(path.join(results, `${uuid}-result.json`), JSON.stringify(doc));
  };
  write('ClusterIP is translated', 'passed');
  write(
    'KUBE-SEP counters stay flat',
    failing ? 'failed' : 'passed',
    failing ? 'AssertionError: KUBE-SEP-ABC rose from 0 to 3 packets on node worker\n    at x (y.ts:1:1)' : undefined,
  );
  await say(process.stdout, `\n2 scenarios (${failing ? '1 failed, 1 passed' : '2 passed'})\n`);
  process.exit(failing ? 1 : 0);
}

const { test, after } = await import('node:test');
const { Command } = await import('commander');
const { register: registerRun } = await import('../../support/cli/run.ts');
const { loadConfig } = await import('../../support/config.ts');
const { UsageError } = await import('../../support/errors.ts');
const m = await import('../../support/run/matrix.ts');

const tmps: string[] = [];
after(async () => {
  for (const d of tmps) await rm(d, { recursive: true, force: true });
});
const tmp = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hookpoint-matrix-'));
  tmps.push(d);
  return d;
};

test('versions: comma-separated lists, malformed or repeated entries are usage errors', () => {
  assert.deepEqual(m.parseVersions('--cilium', '1.16.15,1.17.15,1.18.6', /^\d+\.\d+\.\d+$/), [
    '1.16.15',
    '1.17.15',
    '1.18.6',
  ]);
  const plan = (cilium: string, k8s?: string) => m.planMatrix({ cilium, k8s }, [], {});
  assert.equal(plan('1.18.0-rc.1').combinations[0]!.cilium, '1.18.0-rc.1');
  for (const bad of ['1.16', '1.16.15,', ',1.17.15', 'v1.17.15', '1.17.x', '1.16.15;1.17.15', ''])
    assert.throws(() => plan(bad), UsageError, `--cilium "${bad}"`);
  assert.throws(() => plan('1.16,1.17.15'), /Invalid --cilium "1\.16,1\.17\.15": "1\.16" is not a version/);
  assert.throws(() => plan('1.17.15,1.17.15'), /1\.17\.15 is listed twice/);
  assert.throws(() => m.planMatrix({}, [], {}), /needs --cilium/);
  assert.throws(() => plan('1.17.15', '1.27.3'), /Invalid --k8s "1\.27\.3"/);
  assert.equal(plan('1.17.15', 'v1.27.3,v1.29.2').combinations.length, 2);
});

test('--parallel: a whole number from 1 to 16', () => {
  assert.equal(m.parseParallel(undefined), 1);
  assert.equal(m.parseParallel('4'), 4);
  for (const bad of ['-3', '0', '17', '1.5', 'two', ''])
    assert.throws(() => m.parseParallel(bad), /Invalid --parallel .*whole number from 1 to 16/, bad);
  assert.throws(() => m.planMatrix({ cilium: '1.17.15', parallel: '-3' }, [], {}), UsageError);
  assert.throws(
    () => m.planMatrix({ cilium: '1.16.15,1.17.15', parallel: '2', backend: 'existing', kubeconfig: 'k' }, [], {}),
    /--parallel 2 cannot be used with --backend existing/,
  );
});

test('combination names: ids from the versions, cluster names DNS-1123, at most 40 characters, distinct', () => {
  assert.equal(m.combinationId('1.16.15'), 'c1-16-15');
  assert.equal(m.combinationId('1.18.0-rc.1'), 'c1-18-0-rc-1');
  assert.equal(m.combinationId('1.17.15', 'v1.27.3'), 'c1-17-15-k1-27-3');
  assert.equal(m.combinationCluster('cilium-kubeproxy', 'c1-16-15'), 'cilium-kubeproxy-c1-16-15');
  const dns = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const bases = ['cilium-kubeproxy', 'a'.repeat(40), `${'b'.repeat(30)}-x`, 'x'];
  const ids = ['c1-16-15', 'c1-18-0-rc-1-k1-29-2', `c${'9-'.repeat(30)}9`];
  for (const base of bases) {
    const names = ids.map((id) => m.combinationCluster(base, id));
    for (const n of names) {
      assert.ok(n.length <= 40, `${n} is ${n.length} characters`);
      assert.match(n, dns);
    }
    assert.equal(new Set(names).size, names.length, `distinct names for base ${base}`);
  }
  // Every combination of a plan passes the run's own name validation.
  const plan = m.planMatrix({ cilium: '1.16.15,1.18.0-rc.1', k8s: 'v1.27.3,v1.29.2', cluster: 'a'.repeat(40) }, [], {});
  assert.deepEqual(
    plan.combinations.map((c) => c.id),
    ['c1-16-15-k1-27-3', 'c1-16-15-k1-29-2', 'c1-18-0-rc-1-k1-27-3', 'c1-18-0-rc-1-k1-29-2'],
  );
  assert.equal(new Set(plan.combinations.map((c) => c.cluster)).size, 4);
  for (const c of plan.combinations) assert.equal(c.config.cluster, c.cluster);
});

test('plan: one results directory per combination under <reports>/matrix/, one k8s version stays out of the id', () => {
  const plan = m.planMatrix({ cilium: '1.16.15,1.17.15,1.18.6', k8s: 'v1.29.2', reports: '/r' }, [], {});
  assert.deepEqual(
    plan.combinations.map((c) => [c.id, c.dir, c.resultsDir, c.config.k8s]),
    [
      ['c1-16-15', '/r/matrix/c1-16-15', '/r/matrix/c1-16-15/allure-results', 'v1.29.2'],
      ['c1-17-15', '/r/matrix/c1-17-15', '/r/matrix/c1-17-15/allure-results', 'v1.29.2'],
      ['c1-18-6', '/r/matrix/c1-18-6', '/r/matrix/c1-18-6/allure-results', 'v1.29.2'],
    ],
  );
  assert.equal(plan.reportsDir, '/r');
  // The run's validation applies before anything runs.
  assert.throws(() => m.planMatrix({ cilium: '1.17.15', backend: 'docker' }, [], {}), /Invalid --backend "docker"/);
  assert.throws(() => m.planMatrix({ cilium: '1.17.15', cluster: 'Bad_Name' }, [], {}), /Invalid --cluster "Bad_Name"/);
  assert.throws(
    () => m.planMatrix({ cilium: '1.17.15', backend: 'kind', variant: 'no-tc' }, [], {}),
    /only applies to the lab backend/,
  );
});

/** Parse a child argv with the real `hookpoint run` command; returns its options and paths. */
async function parseRun(argv: string[]): Promise<{ opts: Record<string, unknown>; paths: string[] }> {
  const program = new Command('hookpoint').option('--debug').exitOverride();
  registerRun(program);
  let got: { opts: Record<string, unknown>; paths: string[] } | undefined;
  const run = program.commands[0]!.exitOverride();
  run.action((paths: string[], opts: Record<string, unknown>) => {
    got = { opts, paths };
  });
  await program.parseAsync(argv, { from: 'user' });
  return got!;
}

test('child argv: the run of one combination, its own cluster and results, --no-report, run flags passed through', async () => {
  const plan = m.planMatrix(
    {
      cilium: '1.16.15,1.17.15',
      backend: 'lab',
      tags: '@native-routing and not @flaky',
      variant: 'no-tc',
      retry: '2',
      reports: '/r',
      debug: true,
    },
    ['features/validation'],
    {},
  );
  const c = plan.combinations[0]!;
  const argv = m.childArgv(plan, c, ['node', 'bin/hookpoint.js']);
  assert.deepEqual(argv, [
    'node',
    'bin/hookpoint.js',
    '--debug',
    'run',
    '--backend',
    'lab',
    '--cilium',
    '1.16.15',
    '--cluster',
    'cilium-kubeproxy-c1-16-15',
    '--reports',
    '/r/matrix/c1-16-15',
    '--no-report',
    '--variant',
    'no-tc',
    '--tags',
    '@native-routing and not @flaky',
    '--retry',
    '2',
    '--',
    'features/validation',
  ]);
  // The real run command accepts it and ends up with exactly the combination's configuration.
  const { opts, paths } = await parseRun(argv.slice(2));
  assert.deepEqual(paths, ['features/validation']);
  assert.equal(opts.report, false);
  assert.deepEqual(loadConfig(opts as never, {}), { ...c.config, debug: false });
  // Default entry: this Node and the project's bin.
  const [node, bin] = m.childArgv(plan, c);
  assert.equal(node, process.execPath);
  assert.equal(bin, path.resolve(import.meta.dirname, '..', '..', 'bin', 'hookpoint.js'));
  // --k8s only when given; --reuse and --shard are passed through.
  const p2 = m.planMatrix({ cilium: '1.17.15', k8s: 'v1.29.2', reuse: true, shard: '2/3' }, [], {});
  const a2 = m.childArgv(p2, p2.combinations[0]!, ['n', 'b']);
  assert.deepEqual(a2.slice(a2.indexOf('--k8s'), a2.indexOf('--k8s') + 2), ['--k8s', 'v1.29.2']);
  assert.ok(a2.includes('--reuse') && a2.includes('2/3'));
  assert.ok(!m.childArgv(plan, plan.combinations[1]!, ['n', 'b']).includes('--k8s'));
});

test('exit code: 0 when every combination passed, the shared code when failures agree, else 1', () => {
  assert.equal(m.matrixExitCode([0, 0]), 0);
  assert.equal(m.matrixExitCode([0, 1]), 1);
  assert.equal(m.matrixExitCode([3, 3]), 3);
  assert.equal(m.matrixExitCode([0, 3, 1]), 1);
  assert.equal(m.matrixExitCode([0, null]), 1);
  assert.equal(m.matrixExitCode([1, 130]), 130);
});

test('environment of the merged report: every version, and on the lab that the version is a label', () => {
  const lab = m.matrixEnvironment(m.planMatrix({ cilium: '1.16.15,1.17.15' }, [], {}));
  assert.equal(lab['cilium.version'], '1.16.15, 1.17.15 (label only: the lab reproduces one datapath)');
  assert.equal(lab['matrix.combinations'], 'c1-16-15, c1-17-15');
  const kind = m.matrixEnvironment(m.planMatrix({ cilium: '1.16.15,1.17.15', backend: 'kind' }, [], {}));
  assert.equal(kind['cilium.version'], '1.16.15, 1.17.15');
});

async function fakeMatrix(cilium: string, parallel: number, reports: string) {
  const state = await tmp();
  const lines: string[] = [];
  const plan = m.planMatrix({ cilium, parallel: String(parallel), reports }, [], {});
  process.env.HOOKPOINT_MATRIX_FAKE = state;
  try {
    const out = await m.runMatrix({
      plan,
      log: (l) => lines.push(l),
      entry: [process.execPath, import.meta.filename],
      timeoutMs: 60_000,
      allure: false,
    });
    return { out, lines, state, plan };
  } finally {
    delete process.env.HOOKPOINT_MATRIX_FAKE;
  }
}

test('runMatrix: up to N children at once, progress per combination, one merged summary with the differing evidence', async () => {
  const reports = await tmp();
  // Results of an earlier matrix in a combination directory must not leak into this one.
  const stale = path.join(reports, 'matrix', 'c9-9-9', 'allure-results');
  mkdirSync(stale, { recursive: true });
  writeFileSync(
    path.join(stale, 'stale-result.json'),
    JSON.stringify({ uuid: 'stale', name: 'old', status: 'passed', parameters: [{ name: 'cilium', value: '0.0.1' }] }),
  );
  const { out, lines, state } = await fakeMatrix('1.16.15,1.18.6,9.9.9', 2, reports);

  assert.equal(out.exitCode, 1, 'a failed scenario (1) and an environment error (3): 1');
  assert.deepEqual(
    out.outcomes.map((o) => [o.combination.id, o.exitCode, o.results]),
    [
      ['c1-16-15', 0, 2],
      ['c1-18-6', 1, 2],
      ['c9-9-9', 3, 0],
    ],
  );
  assert.deepEqual(
    out.merged,
    ['c1-16-15', 'c1-18-6'].map((id) => path.join(reports, 'matrix', id, 'allure-results')),
  );

  // At most 2 at once, and 2 really did overlap.
  const events = (await readFile(path.join(state, 'timeline.jsonl'), 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { at: number; ev: string });
  events.sort((a, b) => a.at - b.at || (a.ev === 'end' ? -1 : 1));
  let live = 0;
  let peak = 0;
  for (const e of events) {
    live += e.ev === 'start' ? 1 : -1;
    peak = Math.max(peak, live);
  }
  assert.equal(peak, 2);

  // Each child got its own cluster and results directory, and --no-report.
  const argv = JSON.parse(await readFile(path.join(state, 'argv-1.18.6.json'), 'utf8')) as string[];
  assert.equal(argv[argv.indexOf('--cluster') + 1], 'cilium-kubeproxy-c1-18-6');
  assert.equal(argv[argv.indexOf('--reports') + 1], path.join(reports, 'matrix', 'c1-18-6'));
  assert.ok(argv.includes('--no-report'));

  // Progress per combination, prefixed with its id; the failing one names its error.
  const text = lines.join('\n');
  assert.match(text, /^\[c1-16-15\] started: Cilium 1\.16\.15 on lab "cilium-kubeproxy-c1-16-15"$/m);
  assert.match(text, /^\[c1-18-6\] provisioning fake cilium-kubeproxy-c1-18-6 …$/m);
  assert.match(text, /^\[c1-18-6\] 2 scenarios \(1 failed, 1 passed\)$/m);
  assert.match(text, /^\[c1-16-15\] passed in [\d.]+ s — 2 scenario results$/m);
  assert.match(text, /^\[c9-9-9\] FAILED \(exit 3\) .*— hookpoint: The lab backend cannot run on this machine/m);
  assert.ok(!/^\[\w[-\w]*\] \.{5}$/m.test(text), 'cucumber progress dots are not forwarded');
  assert.match(text, /4 scenario results from 2 of 3 combinations — 3 passed, 1 failed/);
  // The child's whole output is kept next to its results.
  assert.match(await readFile(path.join(reports, 'matrix', 'c9-9-9', 'hookpoint-run.log'), 'utf8'), /# exit 3/);

  // One merged summary: two versions, the table, the evidence that differs, the lab note.
  const summary = JSON.parse(await readFile(path.join(reports, 'summary.json'), 'utf8'));
  assert.equal(summary.counts.total, 4);
  assert.deepEqual(summary.matrix.versions, ['1.16.15', '1.18.6']);
  const flat = summary.matrix.rows.find((r: { name: string }) => r.name === 'KUBE-SEP counters stay flat');
  assert.deepEqual(flat.cells, { '1.16.15': 'passed', '1.18.6': 'failed' });
  assert.deepEqual(flat.differs, {
    '1.16.15': 'passed',
    '1.18.6': 'KUBE-SEP-ABC rose from 0 to 3 packets on node worker',
  });
  const same = summary.matrix.rows.find((r: { name: string }) => r.name === 'ClusterIP is translated');
  assert.equal(same.differs, undefined);
  assert.match(summary.matrix.note, /only a label/);
  const md = await readFile(path.join(reports, 'summary.md'), 'utf8');
  assert.match(md, /### Scenario × Cilium version\n\n> On the lab backend the Cilium version is only a label/);
  assert.match(md, /\| 1\.16\.15 \| 1\.18\.6 \| Evidence that differs \|/);
  assert.match(
    md,
    /\| KUBE-SEP counters stay flat \| backend=lab \| pass \| \*\*fail\*\* \| 1\.16\.15: passed · 1\.18\.6: KUBE-SEP-ABC rose from 0 to 3 packets on node worker \|/,
  );
  assert.ok(!md.includes('0.0.1'), 'stale results were not merged');
});

test('runMatrix: every combination passed → exit 0; none wrote results → non-zero and no report', async () => {
  const ok = await fakeMatrix('1.16.15,1.17.15', 1, await tmp());
  assert.equal(ok.out.exitCode, 0);
  assert.equal(ok.out.merged.length, 2);
  const reports = await tmp();
  const none = await fakeMatrix('9.9.9', 1, reports);
  assert.equal(none.out.exitCode, 3);
  assert.deepEqual(none.out.merged, []);
  assert.match(none.lines.join('\n'), /no combination wrote scenario results/);
  await assert.rejects(readFile(path.join(reports, 'summary.md')));
});
