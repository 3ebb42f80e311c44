/**
 * Several cluster configurations in one run: scenarios grouped by the kind config and Helm values
 * their Backgrounds ask for, each group named `<cluster>-<id>` the way matrix names combinations;
 * a service defined differently by two features of one cluster refused, naming both; the report's
 * environment merged. Also the three-line failure the terminal prints.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { UsageError } from '../../support/errors.ts';
import { failureLines, verdictParagraph } from '../../support/report/terminal.ts';
import {
  checkServiceDefinitions,
  configurationCluster,
  configurationId,
  groupByConfiguration,
} from '../../support/run/configurations.ts';
import { planScenarios } from '../../support/run/features.ts';
import { combinationCluster } from '../../support/run/matrix.ts';
import { mergeEnvironments } from '../../support/run/run-suite.ts';
import { loadVocabulary } from '../../support/run/vocabulary-loader.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-configs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
before(async () => {
  await loadVocabulary(ROOT);
});

const SEED_ROWS = `      | routingMode           | native     |
      | kubeProxyReplacement  | false      |
      | autoDirectNodeRoutes  | true       |
      | ipam.mode             | kubernetes |
      | ipv4NativeRoutingCIDR | 10.0.0.0/8 |`;
const GUIDE_ROWS = `      | routingMode          | native |
      | kubeProxyReplacement | false  |`;

function feature(name: string, rows: string, opts: { kindConfig?: boolean; service?: string } = {}): string {
  const file = path.join(dir, `${name}.feature`);
  writeFileSync(
    file,
    `Feature: ${name}
  Background:
${opts.kindConfig === false ? '' : '    Given a cluster from kind config "two-node.yaml"\n'}    And Cilium is installed with:
${rows}
    And an echo deployment "echo" with a replica on every node behind ${opts.service ?? 'NodePort service "echo" port 80 node port 30080'}
    And a client pod "client" on node "control-plane"

  Scenario: one
    When pod "client" sends 3 HTTP requests to service "echo"
    Then all 3 requests succeed

  Scenario: two
    When pod "client" sends 3 HTTP requests to service "echo"
    Then all 3 requests succeed
`,
  );
  return file;
}

test('the seed and the guide ask for two configurations: two groups, in order of first appearance', () => {
  const scenarios = planScenarios([feature('seed', SEED_ROWS), feature('guide', GUIDE_ROWS)], dir);
  const groups = groupByConfiguration(scenarios, 'kind-configs/two-node.yaml');
  assert.equal(groups.length, 2);
  assert.deepEqual(
    groups.map((g) => g.scenarios.map((s) => `${s.uri}:${s.name}`)),
    [
      ['seed.feature:one', 'seed.feature:two'],
      ['guide.feature:one', 'guide.feature:two'],
    ],
  );
  assert.match(groups[0]!.id, /^two-node-[0-9a-f]{6}$/);
  assert.notEqual(groups[0]!.id, groups[1]!.id);
  assert.equal(groups[1]!.description, 'two-node.yaml; routingMode=native, kubeProxyReplacement=false');
});

test('the same configuration written differently is one group: row order and the default kind config do not matter', () => {
  const reordered = SEED_ROWS.split('\n').reverse().join('\n');
  const scenarios = planScenarios(
    [feature('a', SEED_ROWS), feature('b', reordered), feature('c', SEED_ROWS, { kindConfig: false })],
    dir,
  );
  assert.equal(groupByConfiguration(scenarios, 'kind-configs/two-node.yaml').length, 1);
  // Another default kind config makes the feature without its own another configuration.
  assert.equal(groupByConfiguration(scenarios, 'kind-configs/three-node.yaml').length, 2);
  // Stable across runs (a --reuse'd Kind cluster is found by this name).
  const values = { routingMode: 'native', kubeProxyReplacement: 'false' };
  assert.equal(
    configurationId({ values }, 'two-node.yaml'),
    configurationId({ kindConfig: 'two-node.yaml', values }, 'x.yaml'),
  );
});

test('a configuration is its own cluster only when the run has several, named as matrix names combinations', () => {
  assert.equal(configurationCluster('cilium-kubeproxy', 'two-node-abc123', 1), 'cilium-kubeproxy');
  assert.equal(configurationCluster('cilium-kubeproxy', 'two-node-abc123', 2), 'cilium-kubeproxy-two-node-abc123');
  const long = 'a-very-long-cluster-name-for-this-machine';
  assert.equal(configurationCluster(long, 'two-node-abc123', 2), combinationCluster(long, 'two-node-abc123'));
  assert.ok(configurationCluster(long, 'two-node-abc123', 2).length <= 40);
});

test('two features of one cluster defining service "echo" differently: refused, naming both definitions and lines', () => {
  const scenarios = planScenarios(
    [feature('first', SEED_ROWS), feature('second', SEED_ROWS, { service: 'ClusterIP service "echo" port 80' })],
    dir,
  );
  assert.throws(
    () => checkServiceDefinitions(groupByConfiguration(scenarios, 'kind-configs/two-node.yaml')),
    (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.message, /Service "echo" is defined differently by two features/);
      assert.match(
        err.message,
        /first\.feature:10 \(".*NodePort service "echo".*"\) and second\.feature:10 \(".*ClusterIP service "echo" port 80"\)/,
      );
      assert.match(err.hint ?? '', /another service name/);
      return true;
    },
  );
  // The same definition twice, or a different one on another cluster, is fine.
  const same = planScenarios([feature('same1', SEED_ROWS), feature('same2', SEED_ROWS)], dir);
  checkServiceDefinitions(groupByConfiguration(same, 'kind-configs/two-node.yaml'));
  const apart = planScenarios(
    [feature('apart1', SEED_ROWS), feature('apart2', GUIDE_ROWS, { service: 'ClusterIP service "echo" port 80' })],
    dir,
  );
  checkServiceDefinitions(groupByConfiguration(apart, 'kind-configs/two-node.yaml'));
});

test('the environment of several configurations: shared values once, differing values side by side', () => {
  assert.deepEqual(
    mergeEnvironments([
      { backend: 'lab', 'datapath.routing': 'native', 'configuration.a': 'x' },
      { backend: 'lab', 'datapath.routing': 'tunnel', 'configuration.b': 'y' },
    ]),
    { backend: 'lab', 'datapath.routing': 'native | tunnel', 'configuration.a': 'x', 'configuration.b': 'y' },
  );
});

test('a failure on the terminal: three lines — scenario, one-paragraph verdict, where the evidence is', () => {
  const lines = failureLines({
    where: 'features/services/clusterip-at-tc.feature:18',
    scenario: 'Pod to ClusterIP succeeds',
    status: 'failed',
    configuration: 'two-node-abc123',
    message:
      'AssertionError: KUBE-SEP-ABC (default/echo:http) DNAT rose from 0 to 3 packets\n  on node kind-worker (evidence 05-iptables-after-kind-worker.txt).\n    at Context.<anonymous> (steps/counters.ts:60:5)',
    step: 'the KUBE-SEP counters of service "echo" stay flat on every node',
    attachments: ['05-iptables-after-kind-worker.txt', '06-iptables-after-kind-control-plane.txt'],
    report: 'reports/hookpoint-report.html',
  });
  assert.equal(lines.length, 3);
  assert.equal(
    lines[0],
    '✖ FAILED features/services/clusterip-at-tc.feature:18 Pod to ClusterIP succeeds [configuration two-node-abc123]',
  );
  assert.equal(
    lines[1],
    '  KUBE-SEP-ABC (default/echo:http) DNAT rose from 0 to 3 packets on node kind-worker (evidence 05-iptables-after-kind-worker.txt).',
  );
  assert.match(
    lines[2],
    /^ {2}evidence: reports\/hookpoint-report\.html, step ".*"; attachments 05-iptables-after-kind-worker\.txt, 06-/,
  );
  const long = verdictParagraph(`x ${'word '.repeat(400)}`);
  assert.ok(long.length < 760 && long.endsWith('(whole text in the report)'));
});

test('a --configuration file names the configuration: its values applied first, its name the id (one group) or the stem (several)', () => {
  const tunnel = {
    name: 'tunnel',
    file: 'kind-configs/modes/tunnel.yaml',
    values: { routingMode: 'tunnel', tunnelProtocol: 'vxlan', autoDirectNodeRoutes: 'false' },
  };
  const seed = planScenarios([feature('seed', SEED_ROWS)], dir);
  const [one, ...rest] = groupByConfiguration(seed, 'kind-configs/two-node.yaml', tunnel);
  assert.equal(rest.length, 0);
  assert.equal(one!.id, 'tunnel', 'the matrix column and the configuration parameter are the same name');
  assert.equal(one!.request?.values.routingMode, 'tunnel', 'the file overrides the Background row');
  assert.equal(one!.request?.values['ipam.mode'], 'kubernetes', "the Background's other rows stay");
  assert.match(
    one!.description,
    /^tunnel \(kind-configs\/modes\/tunnel\.yaml\) over two-node\.yaml; .*routingMode=tunnel/,
  );
  assert.equal(
    one!.request?.kindConfig,
    'two-node.yaml',
    "the file's kind config is applied where the cluster is built",
  );
  const inline = { ...tunnel, name: 'kpr', kindConfig: { inline: { kind: 'Cluster' } } };
  const [k] = groupByConfiguration(seed, 'kind-configs/two-node.yaml', inline);
  assert.equal(k!.id, 'kpr');
  assert.equal(k!.request?.kindConfig, 'two-node.yaml', 'an inline kind config is never taken for a file name');
  assert.match(k!.description, /^kpr \(kind-configs\/modes\/tunnel\.yaml, its inline kind config\) over /);
  // Without the file the same scenarios are the Background's own configuration.
  assert.notEqual(groupByConfiguration(seed, 'kind-configs/two-node.yaml')[0]!.id, 'tunnel');
  const both = planScenarios([feature('seed', SEED_ROWS), feature('guide', GUIDE_ROWS)], dir);
  const ids = groupByConfiguration(both, 'kind-configs/two-node.yaml', tunnel).map((g) => g.id);
  assert.equal(ids.length, 2);
  for (const id of ids) assert.match(id, /^tunnel-[0-9a-f]{6}$/);
  assert.notEqual(ids[0], ids[1]);
});
