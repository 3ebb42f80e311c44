/**
 * The guide runs: every Gherkin example of features/README.md, and every step it quotes inline,
 * runs on the lab in one `hookpoint run` together with the seed's features. The guide's
 * Background asks for other Helm values than the seed's, so the run provisions two cluster
 * configurations in turn and the report names each scenario's one (Allure parameter, summary,
 * junit); nothing of either lab is left afterwards.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { spawnBackground } from '../../support/exec/index.ts';
import { BIN, cli, REPO, scenario, tempDir, writeFeature } from '../unit/helpers/hardening.ts';

const skip = process.getuid?.() !== 0 && 'the lab needs root';
const dir = tempDir('guide-lab');
const cluster = `hpguide${process.pid % 10000}`;
const reports = path.join(dir, 'reports');
const clusters = new Set<string>();
after(async () => {
  for (const c of clusters) await cli(['lab', 'down', '--cluster', c], { timeoutMs: 60_000 });
  rmSync(dir, { recursive: true, force: true });
});

const README = readFileSync(path.join(REPO, 'features', 'README.md'), 'utf8');

/** The ```gherkin blocks of the guide. */
function gherkinBlocks(md: string): string[] {
  return [...md.matchAll(/```gherkin\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Steps the guide quotes inline (`Given …`), outside its Gherkin blocks. */
function inlineSteps(md: string): string[] {
  const prose = md.replace(/```[\s\S]*?```/g, '');
  return [...prose.matchAll(/`((?:Given|When|Then|And) [^`]+)`/g)].map((m) => m[1]!);
}

function netnsOf(prefix: string): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(`hp.${prefix}`));
  } catch {
    return [];
  }
}

test('every example of features/README.md runs on the lab beside the seed: two configurations, both reported', {
  skip,
  timeout: 600_000,
}, async () => {
  // Whole features run as written; fragments (a few steps to add to a Background) are not features.
  const blocks = gherkinBlocks(README).filter((b) => /^Feature:/m.test(b));
  assert.ok(blocks.length >= 1, 'the guide has a Gherkin example');
  const files = blocks.map((b, i) => writeFeature(dir, `guide-${i + 1}.feature`, b));
  // The inline steps, in a scenario on the guide's own Background (its first block's).
  const inline = inlineSteps(README);
  assert.ok(inline.length >= 1, 'the guide quotes steps inline');
  const background = /^[\s\S]*?(?=\n {2}Scenario:)/
    .exec(blocks[0]!)![0]
    .replace(/^Feature: .*/m, 'Feature: inline steps');
  const givens = inline.filter((s) => /^(Given|And) /.test(s)).map((s) => s.replace(/^Given /, 'And '));
  const service = /service "([^"]+)"/.exec(givens[0] ?? '')?.[1] ?? 'echo';
  files.push(
    writeFeature(
      dir,
      'guide-inline.feature',
      `${background}
  Scenario: the steps the guide quotes inline
    Given a client pod "probe" on node "worker"
    ${givens.join('\n    ')}
    When pod "probe" sends 4 HTTP requests to service "${service}"
    Then all 4 requests succeed
`,
    ),
  );
  // The seed's features (features/modes and features/policy add configurations of their own).
  const seedFolders = ['pod-gateway', 'services', 'validation', 'visibility'].map((d) => path.join('features', d));
  const res = await cli(
    ['run', ...seedFolders, ...files, '--backend', 'lab', '--cluster', cluster, '--reports', reports],
    {
      timeoutMs: 540_000,
      cwd: REPO,
    },
  );
  assert.equal(res.exitCode, 0, res.stdout.slice(-3000) + res.stderr);
  const summary = JSON.parse(readFileSync(path.join(reports, 'summary.json'), 'utf8')) as {
    configurations?: Record<string, string>;
    scenarios: Array<{ feature: string; name: string; status: string; parameters: Record<string, string> }>;
  };
  for (const id of Object.keys(summary.configurations ?? {})) clusters.add(`${cluster}-${id}`);
  assert.equal(res.exitCode, 0, res.stdout.slice(-3000) + res.stderr);
  // Two configurations provisioned, in turn.
  const provisioned = res.stdout.match(/^hookpoint: \[[a-z0-9-]+\] cluster ready/gm) ?? [];
  assert.equal(provisioned.length, 2, res.stdout);
  assert.match(res.stdout, /hookpoint: 2 cluster configurations, provisioned in turn: /);
  const ids = Object.keys(summary.configurations ?? {});
  assert.equal(ids.length, 2, JSON.stringify(summary.configurations));
  // Each scenario names its configuration; the guide's and the seed's differ.
  const configOf = (feature: RegExp) =>
    new Set(summary.scenarios.filter((s) => feature.test(s.feature)).map((s) => s.parameters.configuration));
  const guide = configOf(/guide's values|inline steps/);
  const seed = configOf(/^(?!.*(guide's values|inline steps))/);
  assert.equal(guide.size, 1, `the guide's scenarios share one configuration: ${[...guide]}`);
  assert.equal(seed.size, 1, `the seed's scenarios share one configuration: ${[...seed]}`);
  assert.notDeepEqual([...guide], [...seed]);
  assert.ok(
    summary.scenarios.every((s) => ids.includes(s.parameters.configuration!)),
    'every scenario names a configuration',
  );
  assert.match(summary.configurations![[...guide][0]!]!, /routingMode=native, kubeProxyReplacement=false \(cluster /);
  assert.ok(summary.scenarios.filter((s) => /guide's values|inline steps/.test(s.feature)).length >= 3);
  assert.ok(summary.scenarios.every((s) => s.status === 'passed' || s.status === 'skipped'));
  const md = readFileSync(path.join(reports, 'summary.md'), 'utf8');
  assert.match(md, /Cluster configurations \(the `configuration` parameter\): /);
  const junit = readFileSync(path.join(reports, 'junit.xml'), 'utf8');
  for (const id of ids) {
    assert.match(junit, new RegExp(`<property name="configuration" value="${id}"/>`));
    assert.match(junit, new RegExp(`<property name="configuration\\.${id}" value="`));
  }
  // One report: cucumber's messages of both configurations are in the one file, no part left.
  const runs = readFileSync(path.join(reports, 'cucumber-messages.ndjson'), 'utf8').match(/"testRunStarted"/g) ?? [];
  assert.equal(runs.length, 2);
  assert.deepEqual(
    readdirSync(reports).filter((f) => /\.ndjson\.|\.out\./.test(f)),
    [],
  );
  // Nothing of either lab is left.
  assert.deepEqual(netnsOf(cluster), []);
});

test('Ctrl-C in the first configuration: the next is never provisioned, nothing is left, the report says interrupted', {
  skip,
  timeout: 300_000,
}, async () => {
  const out = path.join(dir, 'interrupted');
  const long = writeFeature(
    dir,
    'long.feature',
    scenario('When pod "client" sends 3000 HTTP requests to service "echo"\nThen all 3000 requests succeed'),
  );
  const other = writeFeature(
    dir,
    'other.feature',
    scenario(
      'When pod "client" sends 3 HTTP requests to service "echo"\nThen all 3 requests succeed',
      gherkinBlocks(README)[0]!
        .replace(/\n {2}Scenario:[\s\S]*$/, '\n')
        .replace(/^Feature: .*/m, 'Feature: other'),
    ),
  );
  const c = `${cluster}i`;
  const child = spawnBackground(
    [process.execPath, BIN, 'run', long, other, '--backend', 'lab', '--cluster', c, '--reports', out],
    { maxMs: 240_000, cwd: REPO, where: 'test' },
  );
  try {
    const deadline = Date.now() + 120_000;
    while (!/cluster ready/.test(child.output())) {
      assert.ok(Date.now() < deadline, `never provisioned:\n${child.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 3000));
    process.kill(child.pid!, 'SIGINT');
    assert.equal(await child.exited, 130, child.output());
  } finally {
    if (child.running()) await child.stop();
  }
  const text = child.output();
  assert.equal(
    (text.match(/cluster ready/g) ?? []).length,
    1,
    `only the first configuration was provisioned:\n${text}`,
  );
  const summary = JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')) as {
    interrupted?: boolean;
    configurations?: Record<string, string>;
  };
  for (const id of Object.keys(summary.configurations ?? {})) clusters.add(`${c}-${id}`);
  assert.equal(summary.interrupted, true);
  assert.deepEqual(netnsOf(c), []);
});
