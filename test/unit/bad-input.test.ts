/**
 * Bad-input corpus: the real CLI as a child process, fed typos, wrong values, half-written
 * features and impossible flags. Every case: the documented exit code, one paragraph naming the
 * input and a fix, no stack trace (unless --debug), nothing left running. Bad feature input is
 * caught before anything is provisioned, so none of these needs root or touches a lab.
 */
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  BACKGROUND,
  cli,
  expectNothingLeft,
  expectParagraph,
  REPO,
  scenario,
  tempDir,
  writeFeature,
} from './helpers/hardening.ts';

const dir = tempDir('bad');
const reports = path.join(dir, 'reports');
const cluster = `hphard-u${process.pid}`;
const kindBad = path.join(REPO, 'kind-configs', `hphard-bad-${process.pid}.yaml`);
after(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(kindBad, { force: true });
});

const OK_STEPS = `When pod "client" sends 3 HTTP requests to service "echo"
Then all 3 requests succeed`;

interface Case {
  name: string;
  /** Feature text (written to a file the args can name as FEATURE) or none. */
  feature?: string;
  args: string[];
  code: number;
  names: Array<string | RegExp>;
  fix: RegExp;
  skip?: string | false;
  cwd?: string;
}

const withBackground = (from: string, to: string, steps = OK_STEPS) => scenario(steps, BACKGROUND.replace(from, to));
// --backend lab: the default is kind where Docker answers; later flags (--backend kind) win.
const run = (...extra: string[]) => [
  'run',
  'FEATURE',
  '--reports',
  reports,
  '--cluster',
  cluster,
  '--backend',
  'lab',
  ...extra,
];

/** A policy step with a one-line (flow style) manifest: scenario() re-indents every line. */
const policyStep = (spec: string) =>
  `Given the network policy is applied:\n"""\n{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {name: bad}, spec: ${spec}}\n"""\n${OK_STEPS}`;

const cases: Case[] = [
  {
    name: 'invalid network policy: the field is named before anything is created',
    feature: scenario(policyStep('{podSelector: {}, ingress: [{ports: [{port: 99999}]}]}')),
    args: run(),
    code: 2,
    names: ['NetworkPolicy "bad"', 'spec.ingress[0].ports[0].port', /\.feature:\d+/],
    fix: /Fix the manifest/,
  },
  {
    name: 'network policy field the lab does not enforce: refused, with what it enforces',
    feature: scenario(policyStep('{podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}}]}]}')),
    args: run(),
    code: 2,
    names: ['spec.ingress[0].from[0].ipBlock', 'which the lab does not enforce'],
    fix: /The lab enforces: podSelector/,
  },
  {
    name: 'undefined step: the closest steps are suggested',
    feature: scenario('When pod "client" sends 3 HTTP requets to service "echo"'),
    args: run(),
    code: 2,
    names: ['Undefined step', 'HTTP requets', /\.feature:\d+/],
    fix: /Closest known steps: "pod "client" sends 10 HTTP requests to service "echo""/,
  },
  {
    name: 'several undefined steps: all listed at once, each with its closest known steps',
    feature: scenario('When pod "client" sends 3 HTTP requets to service "echo"\nThen al 3 requests succeed'),
    args: run(),
    code: 2,
    names: [
      '2 undefined steps',
      /\.feature:\d+: "pod "client" sends 3 HTTP requets/,
      /\.feature:\d+: "al 3 requests succeed" \(closest known steps: "all 10 requests succeed"/,
    ],
    fix: /closest known steps: .*closest known steps: .*hookpoint steps/,
  },
  {
    name: 'a feature without its "Cilium is installed with:" step: the feature, the line and the missing step named',
    feature: scenario(OK_STEPS, BACKGROUND.replace(/ {4}And Cilium is installed with:\n(?: {6}\|.*\n)+/, '')),
    args: run(),
    code: 2,
    names: ['no "Given Cilium is installed with:" step', /case-\d+\.feature: scenario "case" \(line \d+\)/],
    fix: /Add it to the feature's Background[\s\S]*kind config "two-node\.yaml"` before it stays optional/,
  },
  {
    name: 'a Then judging traffic with no When before it: the line and the missing When named',
    feature: scenario('Then all 3 requests succeed'),
    args: run(),
    code: 2,
    names: [
      /case-\d+\.feature:\d+: "all 3 requests succeed" judges the traffic of a When step/,
      'no When step before it',
    ],
    fix: /Put a When step that sends traffic/,
  },
  {
    name: 'a counter check with no When before it',
    feature: scenario(
      'Then the KUBE-SVC counters of service "echo" stay flat on every node\nWhen pod "client" sends 3 HTTP requests to service "echo"',
    ),
    args: run(),
    code: 2,
    names: [/"the KUBE-SVC counters of service "echo" stay flat on every node" judges the traffic/],
    fix: /Put a When step/,
  },
  {
    name: 'status, route, ARP and bpftool steps need no When; the kind config step stays optional',
    feature: scenario(
      `Then cilium status on every node reports routing "Native"
And every node routes the pod CIDR of every other node via that node's IP
And the ARP entry of pod "client" for its gateway resolves to the MAC of its host-side veth
And bpftool on node "control-plane" shows a program at tc ingress of the host veth of pod "client"`,
      BACKGROUND.replace(/ {4}Given a cluster from kind config .*\n/, '').replace('    And Cilium', '    Given Cilium'),
    ),
    args: [...run(), '--dry-run'],
    code: 0,
    names: [],
    fix: /./,
  },
  {
    name: 'unknown pod referenced: named with the closest declared one',
    feature: scenario('When pod "clinet" sends 3 HTTP requests to service "echo"'),
    args: run(),
    code: 2,
    names: ['Unknown pod "clinet"', /\.feature:\d+/],
    fix: /did you mean "client"\?.*Given step/,
  },
  {
    name: 'unknown service referenced',
    feature: scenario('When pod "client" sends 3 HTTP requests to service "ecoh"'),
    args: run(),
    code: 2,
    names: ['Unknown service "ecoh"'],
    fix: /did you mean "echo"/,
  },
  {
    name: 'unknown node referenced: the kind config has no worker9',
    feature: scenario('When node "worker9" sends 3 HTTP requests to service "echo"'),
    args: run(),
    code: 2,
    names: ['Unknown node "worker9"'],
    fix: /did you mean "worker"\?.*control-plane/,
  },
  {
    name: 'unknown node in a capture point',
    feature: scenario(`${OK_STEPS}\nAnd a capture on node "wrker" eth0 sees none of that traffic`),
    args: run(),
    code: 2,
    names: ['Unknown node "wrker"'],
    fix: /did you mean "worker"/,
  },
  {
    name: 'invalid DNS-1123 pod name in a feature',
    feature: withBackground('a client pod "client"', 'a client pod "Client_1"', 'Then all 3 requests succeed'),
    args: run(),
    code: 2,
    names: ['Invalid pod name "Client_1"', 'DNS-1123'],
    fix: /Change the value in the feature file/,
  },
  {
    name: 'invalid DNS-1123 cluster name on the command line',
    feature: scenario(OK_STEPS),
    args: ['run', 'FEATURE', '--reports', reports, '--cluster', 'Lab_One'],
    code: 2,
    names: ['--cluster "Lab_One"', 'DNS-1123'],
    fix: /Fix the flag/,
  },
  {
    name: 'port out of range',
    feature: withBackground('service "echo" port 80', 'service "echo" port 70000'),
    args: run(),
    code: 2,
    names: ['Invalid port 70000', '1 to 65535'],
    fix: /Change the value/,
  },
  {
    name: 'IP out of range in a Helm CIDR',
    feature: withBackground('| 10.0.0.0/8 |', '| 300.0.0.0/8 |'),
    args: run(),
    code: 2,
    names: ['ipv4NativeRoutingCIDR="300.0.0.0/8"'],
    fix: /Fix the row "ipv4NativeRoutingCIDR"/,
  },
  {
    name: 'CIDR prefix out of range',
    feature: withBackground('| 10.0.0.0/8 |', '| 10.0.0.0/33 |'),
    args: run(),
    code: 2,
    names: ['10.0.0.0/33', 'prefix 0–32'],
    fix: /Fix the row/,
  },
  {
    name: 'a count of 0',
    feature: scenario('When pod "client" sends 0 HTTP requests to service "echo"'),
    args: run(),
    code: 2,
    names: ['Invalid count 0', 'at least 1'],
    fix: /Change the value/,
  },
  {
    name: 'a negative count',
    feature: scenario(`${OK_STEPS}\nAnd the KUBE-SVC counters of service "echo" rise by at least -5 on node "worker"`),
    args: run(),
    code: 2,
    names: ['Invalid count -5'],
    fix: /Change the value/,
  },
  {
    name: 'unknown Helm key on the lab: closest key suggested',
    feature: withBackground('| kubeProxyReplacement  |', '| kubeProxyReplacment   |'),
    args: run(),
    code: 2,
    names: ['Unknown Helm key "kubeProxyReplacment"'],
    fix: /did you mean "kubeProxyReplacement"\?.*--backend kind.*tag its scenarios @requires:helm-values so the lab skips them/,
  },
  {
    name: 'Helm value of another datapath mode (kubeProxyReplacement=true)',
    feature: withBackground('| false      |', '| true       |'),
    args: [...run(), '--dry-run'],
    code: 0,
    names: [],
    fix: /./,
    // The type is right, so a dry run accepts it; the lab reproduces this mode (test/lab/kpr.test.ts).
  },
  {
    name: 'wrong Helm value type (kubeProxyReplacement=maybe)',
    feature: withBackground('| false      |', '| maybe      |'),
    args: run(),
    code: 2,
    names: ['kubeProxyReplacement="maybe"', 'true, false'],
    fix: /Fix the row "kubeProxyReplacement"/,
  },
  {
    name: 'missing kind config',
    feature: withBackground('"two-node.yaml"', `"hphard-missing-${process.pid}.yaml"`),
    args: run(),
    code: 2,
    names: [`hphard-missing-${process.pid}.yaml`, 'does not exist'],
    fix: /Name a kind config in kind-configs\/ \(.*two-node\.yaml/,
  },
  {
    name: 'malformed kind config',
    feature: withBackground('"two-node.yaml"', `"${path.basename(kindBad)}"`),
    args: run(),
    code: 2,
    names: [path.basename(kindBad), 'not valid YAML'],
    fix: /Fix .*two-node\.yaml shows the shape/,
  },
  {
    name: 'unknown backend',
    feature: scenario(OK_STEPS),
    args: [...run(), '--backend', 'minikube'],
    code: 2,
    names: ['--backend "minikube"'],
    fix: /Valid choices: lab, kind, existing/,
  },
  {
    name: 'malformed Cilium version',
    feature: scenario(OK_STEPS),
    args: [...run(), '--cilium', 'v1.17'],
    code: 2,
    names: ['--cilium "v1.17"'],
    fix: /like 1\.17\.15/,
  },
  {
    name: 'missing tool: the kind backend without Docker, kind or helm',
    feature: scenario(OK_STEPS),
    args: [...run(), '--backend', 'kind'],
    code: 3,
    names: ['kind backend cannot run'],
    fix: /Fix: .*hookpoint doctor --backend kind/,
    cwd: REPO,
  },
  {
    name: 'reports dir not writable (inside /proc)',
    feature: scenario(OK_STEPS),
    args: ['run', 'FEATURE', '--reports', '/proc/hphard-reports', '--cluster', cluster],
    code: 2,
    names: ['"/proc/hphard-reports"', 'not writable'],
    fix: /Pass --reports DIR/,
  },
  {
    name: 'reports dir below a file',
    feature: scenario(OK_STEPS),
    args: ['run', 'FEATURE', '--reports', path.join(dir, 'a-file', 'reports'), '--cluster', cluster],
    code: 2,
    names: ['not writable', 'ENOTDIR'],
    fix: /Pass --reports DIR/,
  },
  {
    name: 'report output dir not writable (inside /proc)',
    args: [
      'report',
      '--results',
      path.join(REPO, 'test', 'fixtures', 'allure-results-cilium-1.17.0'),
      '--out',
      '/proc/hphard-out',
    ],
    code: 2,
    names: ['"/proc/hphard-out"', 'not writable'],
    fix: /Pass --out DIR/,
  },
  {
    name: 'empty feature file',
    feature: '',
    args: run(),
    code: 2,
    names: ['is empty', /case-\d+\.feature/],
    fix: /Write a Feature/,
  },
  {
    name: 'Gherkin syntax error',
    feature: 'Feature: x\n  Scenario: y\n    Given a client pod "c" on node "worker"\n    """\n    never closed\n',
    args: run(),
    code: 2,
    names: ['Gherkin syntax error', /case-\d+\.feature line \d+/],
    fix: /Fix the feature file/,
  },
  {
    name: 'text before the Feature line',
    feature: 'hello\nFeature: x\n',
    args: run(),
    code: 2,
    names: ["got 'hello'", /line 1/],
    fix: /Fix the feature file/,
  },
  {
    name: 'feature path that does not exist',
    args: ['run', path.join(dir, 'nope', 'missing.feature'), '--reports', reports],
    code: 2,
    names: ['missing.feature', 'does not exist'],
    fix: /Give a \.feature file or a folder/,
  },
  {
    name: 'out-of-range flag: matrix --parallel -3',
    args: ['matrix', '--cilium', '1.17.15', '--parallel', '-3'],
    code: 2,
    names: ['--parallel "-3"', '1 to 16'],
    fix: /For example --parallel 2/,
  },
  {
    name: 'out-of-range flag: run --retry 99',
    feature: scenario(OK_STEPS),
    args: [...run(), '--retry', '99'],
    code: 2,
    names: ['--retry "99"', 'from 0 to 10'],
    fix: /Fix the flag/,
  },
  {
    name: 'out-of-range flag: --shard 5/2',
    feature: scenario(OK_STEPS),
    args: [...run(), '--shard', '5/2'],
    code: 2,
    names: ['--shard "5/2"'],
    fix: /1 ≤ i ≤ n/,
  },
  {
    name: 'conflicting flags: --variant with the kind backend',
    feature: scenario(OK_STEPS),
    args: [...run(), '--backend', 'kind', '--variant', 'no-tc'],
    code: 2,
    names: ['--variant no-tc', '"kind"'],
    fix: /Drop --variant or use --backend lab/,
  },
  {
    name: 'invalid --tags expression',
    feature: scenario(OK_STEPS),
    args: [...run(), '--tags', '@seed and and'],
    code: 2,
    names: ['--tags expression "@seed and and"'],
    fix: /Example: --tags/,
  },
  {
    name: 'unknown flag',
    args: ['run', '--colour'],
    code: 2,
    names: ["'--colour'"],
    fix: /Did you mean --cilium\?[\s\S]*--help/,
  },
  {
    name: 'unknown parse kind',
    args: ['parse', 'iptable', path.join(REPO, 'README.md')],
    code: 2,
    names: ['"iptable"'],
    fix: /Kinds: iptables, .*Example: hookpoint parse/,
  },
  {
    name: '--tags without the @ hints at it',
    feature: scenario(OK_STEPS).replace('  Scenario: case', '  @seed\n  Scenario: case'),
    args: [...run(), '--tags', 'seed'],
    code: 2,
    names: ['No scenario matches --tags "seed"', 'written with their @'],
    fix: /Did you mean --tags "@seed"\?/,
  },
  {
    name: 'garbage given to parse --strict',
    feature: '*nat\n:PREROUTING ACCEPT [0:0]\nthis is not\niptables output at all\nCOMMIT\n',
    args: ['parse', 'iptables', 'FEATURE', '--strict'],
    code: 1,
    names: ['Line 3', '"this is not"'],
    fix: /Without --strict/,
  },
  {
    name: 'parse of a file with no readable line (a README as iptables)',
    feature: '# Hookpoint\n\nHookpoint lets QA engineers state Kubernetes datapath expectations.\n',
    args: ['parse', 'iptables', 'FEATURE'],
    code: 2,
    names: ['Nothing readable as iptables output', 'no iptables chains'],
    fix: /reads iptables-save/,
  },
  {
    name: 'parse of a text file as pcap',
    feature: 'this is text\n',
    args: ['parse', 'pcap', 'FEATURE'],
    code: 2,
    names: ['as a pcap file', 'magic number'],
    fix: /tcpdump -w/,
  },
  {
    name: 'parse of a binary file as monitor output',
    args: ['parse', 'monitor', process.execPath],
    code: 2,
    names: ['binary data', 'not monitor output'],
    fix: /only the pcap and tcpdump kinds read binary/,
  },
  {
    name: 'parse of a file that does not exist',
    args: ['parse', 'monitor', path.join(dir, 'no-such-output.txt')],
    code: 2,
    names: ['no-such-output.txt', 'does not exist'],
    fix: /Give the path of a saved tool output/,
  },
];

/** A cwd whose steps/ holds the real step files plus one more that overlaps a real step. */
function ambiguousProject(): string {
  const root = path.join(dir, 'ambiguous');
  mkdirSync(path.join(root, 'steps'), { recursive: true });
  for (const f of ['support', 'kind-configs', 'node_modules', 'cucumber.js'])
    symlinkSync(path.join(REPO, f), path.join(root, f));
  for (const f of [
    'cluster.ts',
    'counters.ts',
    'network.ts',
    'outcomes.ts',
    'traffic.ts',
    'visibility.ts',
    'workloads.ts',
  ])
    symlinkSync(path.join(REPO, 'steps', f), path.join(root, 'steps', f));
  writeFileSync(
    path.join(root, 'steps', 'zz-overlap.ts'),
    "import { Then } from '@cucumber/cucumber';\nThen('all {int} requests succeed', () => {});\n",
  );
  return root;
}

cases.push({
  name: 'ambiguous step: both definitions named',
  feature: scenario(OK_STEPS),
  args: run(),
  code: 2,
  names: ['Ambiguous step', 'all 3 requests succeed', 'all {int} requests succeed'],
  fix: /Reword the step/,
  cwd: ambiguousProject(),
});

writeFileSync(path.join(dir, 'a-file'), 'not a directory\n');
writeFileSync(kindBad, 'kind: Cluster\nnodes: [\n  - role: worker\n');

describe('bad input: one paragraph, documented exit code, nothing left', () => {
  let n = 0;
  for (const c of cases) {
    test(c.name, { skip: c.skip }, async () => {
      n += 1;
      const file = c.feature === undefined ? undefined : writeFeature(dir, `case-${n}.feature`, c.feature);
      const args = c.args.map((a) => (a === 'FEATURE' ? file! : a));
      const res = await cli(args, { cwd: c.cwd });
      if (c.code === 0) assert.equal(res.exitCode, 0, res.stderr);
      else expectParagraph(res, c.code, c.names, c.fix);
      await expectNothingLeft([dir, cluster], cluster);
    });
  }

  test('--debug adds the stack trace to the same paragraph', async () => {
    const file = writeFeature(
      dir,
      'debug.feature',
      scenario('When pod "client" sends 0 HTTP requests to service "echo"'),
    );
    const res = await cli([...run(), '--debug'].map((a) => (a === 'FEATURE' ? file : a)));
    assert.equal(res.exitCode, 2);
    assert.match(res.stderr, /^hookpoint: Invalid count 0/m);
    assert.match(res.stderr, /^\s+at .+preflight\.ts:\d+/m);
  });

  test('a service defined differently by two features of one cluster: refused, both definitions and lines named', async () => {
    const a = writeFeature(dir, 'svc-a.feature', scenario(OK_STEPS));
    const b = writeFeature(
      dir,
      'svc-b.feature',
      scenario(
        OK_STEPS,
        BACKGROUND.replace('ClusterIP service "echo" port 80', 'NodePort service "echo" port 80 node port 30080'),
      ),
    );
    const res = await cli(run().flatMap((x) => (x === 'FEATURE' ? [a, b] : [x])));
    expectParagraph(
      res,
      2,
      [
        'Service "echo" is defined differently',
        /svc-a\.feature:\d+ \(".*ClusterIP service "echo" port 80"\)/,
        /svc-b\.feature:\d+ \(".*NodePort service "echo"/,
      ],
      /another service name/,
    );
    await expectNothingLeft([dir, cluster], cluster);
  });

  test('features asking for two configurations: accepted, grouped (dry run says how many)', async () => {
    const a = writeFeature(dir, 'conf-a.feature', scenario(OK_STEPS));
    const b = writeFeature(
      dir,
      'conf-b.feature',
      scenario(OK_STEPS, BACKGROUND.replace(/ {6}\| autoDirectNodeRoutes .*\n/, '')),
    );
    const res = await cli([...run(), '--dry-run'].flatMap((x) => (x === 'FEATURE' ? [a, b] : [x])));
    assert.equal(res.exitCode, 0, res.stderr);
    assert.match(res.stdout, /2 scenarios, .* every step defined, 2 cluster configurations/);
  });

  test('the corpus has at least 25 cases', () => {
    assert.ok(cases.length >= 25, `${cases.length} cases`);
  });
});
