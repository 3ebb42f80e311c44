/** kind/existing policy path against recorded shapes of `cilium-dbg policy get` / `policy wait`, with scripted agents. */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { policyBody, policyNamespace, waitForAgents } from '../../../support/backends/k8s/network-policies.ts';
import type { RunResult } from '../../../support/exec/index.ts';
import { parsePolicyManifest } from '../../../support/policy/manifest.ts';
import { runCleanups, SEED, setup } from '../helpers/kind/kind-cluster-world.ts';

const doc = parsePolicyManifest(
  'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny-all}\nspec: {podSelector: {}, policyTypes: [Ingress]}',
);

/**
 * `cilium-dbg policy get -o json`: the api/v1 Policy model indented by two spaces, its `policy`
 * the rules as a JSON string (labels as key/value/source), `revision` a number (cilium/cilium
 * cilium-dbg/cmd/policy_get.go, api/v1/models/policy.go).
 */
function policyGet(revision: number, names: string[]): string {
  const rules = names.map((n) => ({
    endpointSelector: { matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'hookpoint-abc123' } },
    ingress: [{}],
    labels: [
      { key: 'io.cilium.k8s.policy.derived-from', value: 'NetworkPolicy', source: 'k8s' },
      { key: 'io.cilium.k8s.policy.name', value: n, source: 'k8s' },
      { key: 'io.cilium.k8s.policy.namespace', value: 'hookpoint-abc123', source: 'k8s' },
    ],
  }));
  return `${JSON.stringify({ policy: JSON.stringify(rules, null, 2), revision }, null, 2)}\n`;
}

function result(stdout: string, exitCode = 0): RunResult {
  return { argv: [], exitCode, stdout, stderr: '', durationMs: 1 } as unknown as RunResult;
}

const WORKER = 'worker'.split(',');

describe('kind/existing network policy path', () => {
  it('a policy for "default" lands in the run namespace', () => {
    assert.equal(policyNamespace(doc, 'hookpoint-abc123'), 'hookpoint-abc123');
    assert.deepEqual(
      (policyBody(doc, 'hookpoint-abc123').metadata as { namespace: string }).namespace,
      'hookpoint-abc123',
    );
  });

  it('waits on every agent until the policy is listed, then policy wait <that revision>', async () => {
    const calls: Array<{ node: string; argv: string }> = [];
    const script = new Map<string, string[]>([
      ['worker', [policyGet(4, []), policyGet(5, ['deny-all'])]],
      ['control-plane', [policyGet(5, ['deny-all'])]],
    ]);
    await waitForAgents(
      {
        nodes: async () => [...script.keys()].sort(),
        agent: async (node, argv) => {
          calls.push({ node, argv: argv.join(' ') });
          if (argv[2] === 'wait') return result('');
          return result(script.get(node)!.shift() ?? policyGet(5, ['deny-all']));
        },
        sleep: async () => {},
      },
      doc,
      'hookpoint-abc123',
      true,
      { timeoutMs: 5000, pollMs: 1 },
    );
    assert.deepEqual(
      calls.filter((c) => c.node === 'worker').map((c) => c.argv),
      ['cilium policy get -o json', 'cilium policy get -o json', 'cilium policy wait 5'],
    );
    assert.ok(calls.some((c) => c.node === 'control-plane' && c.argv === 'cilium policy wait 5'));
  });

  it('an agent that never imports it is an error naming the node', async () => {
    await assert.rejects(
      waitForAgents(
        { nodes: async () => WORKER, agent: async () => result(policyGet(3, [])), sleep: async () => {} },
        doc,
        'hookpoint-abc123',
        true,
        { timeoutMs: 0, pollMs: 1 },
      ),
      /agent on node worker did not import NetworkPolicy "hookpoint-abc123\/deny-all"/,
    );
  });
});

describe('kind backend policy path (scripted executor + fake API server)', () => {
  afterEach(runCleanups);

  it('creates the policy through the API in the run namespace, waits on every agent, and deletes it', async (t) => {
    const w = await setup(t);
    if (!w) return;
    await w.backend.provision(SEED);
    const ns = w.backend.namespace;
    let listed: string[] = [];
    let revision = 7;
    w.api.onCreate('networkpolicies', (o) => {
      listed = [String(o.metadata?.name)];
      revision++;
    });
    w.exec
      .on(['cilium-dbg', 'policy', 'get'], () => ({
        stdout: policyGet(revision, listed).replaceAll('hookpoint-abc123', ns),
      }))
      .on(['cilium-dbg', 'policy', 'wait'], { stdout: '' });
    await w.backend.applyNetworkPolicy(doc);
    const created = w.api.get('apis/networking.k8s.io/v1', 'networkpolicies', 'deny-all', ns);
    assert.ok(created, `NetworkPolicy deny-all in ${ns}`);
    assert.deepEqual((created as { spec: unknown }).spec, { podSelector: {}, policyTypes: ['Ingress'] });
    const waits = w.exec.matching(['cilium-dbg', 'policy', 'wait']).map((c) => c.argv.at(-1));
    assert.deepEqual(waits, ['8', '8'], 'policy wait <revision> on both agents');

    listed = [];
    revision++;
    await w.backend.removeNetworkPolicy(doc);
    assert.equal(w.api.get('apis/networking.k8s.io/v1', 'networkpolicies', 'deny-all', ns), undefined);
    assert.deepEqual(
      w.exec.matching(['cilium-dbg', 'policy', 'wait']).map((c) => c.argv.at(-1)),
      ['8', '8', '9', '9'],
    );
  });
});

describe('kind backend: a client pod in another namespace (fake API server)', () => {
  afterEach(runCleanups);

  it('creates the missing namespace, puts the pod there with its labels, lists it, and removes the namespace with it', async (t) => {
    const w = await setup(t);
    if (!w) return;
    await w.backend.provision(SEED);
    const intruder = await w.backend.runClient({
      name: 'intruder',
      node: 'worker',
      namespace: 'other',
      labels: { app: 'intruder' },
    });
    assert.equal(intruder.namespace, 'other');
    const ns = w.api.get('api/v1', 'namespaces', 'other');
    assert.ok(ns, 'namespace "other" created');
    assert.equal(ns.metadata.labels['app.kubernetes.io/managed-by'], 'hookpoint');
    assert.equal(ns.metadata.labels['pod-security.kubernetes.io/enforce'], undefined, 'not privileged');
    const pod = w.api.get('api/v1', 'pods', 'intruder', 'other');
    assert.equal(pod?.metadata.labels.app, 'intruder');
    assert.equal(w.api.get('api/v1', 'pods', 'intruder', w.backend.namespace), undefined);
    const listed = (await w.backend.topology()).pods.find((p) => p.name === 'intruder');
    assert.equal(listed?.namespace, 'other', 'the topology lists it in its namespace');

    await w.backend.removeWorkload('client', 'intruder');
    assert.equal(w.api.get('api/v1', 'pods', 'intruder', 'other'), undefined);
    assert.equal(w.api.get('api/v1', 'namespaces', 'other'), undefined, 'the namespace it created is removed');
    assert.equal(
      (await w.backend.topology()).pods.find((p) => p.name === 'intruder'),
      undefined,
    );
  });

  it('an existing namespace is used and left in place; "default" is the run namespace', async (t) => {
    const w = await setup(t);
    if (!w) return;
    await w.backend.provision(SEED);
    w.api.put('api/v1', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
    await w.backend.runClient({ name: 'c1', node: 'worker', namespace: 'team-a', labels: { app: 'c1' } });
    const home = await w.backend.runClient({ name: 'c2', node: 'worker', namespace: 'default' });
    assert.equal(home.namespace, w.backend.namespace);
    await w.backend.removeWorkload('client', 'c1');
    assert.ok(w.api.get('api/v1', 'namespaces', 'team-a'), 'not ours: kept');
    await assert.rejects(
      w.backend.runClient({ name: 'c3', node: 'worker', namespace: 'Not_A_Name' }),
      /DNS-1123 label/,
    );
  });
});

describe('kind plan: a client pod in another namespace', () => {
  it('shows the namespace (not privileged) and the pod applied there', async () => {
    const { kindWorkloadPlan } = await import('../../../support/backends/kind/plan.ts');
    const plan = kindWorkloadPlan({
      cluster: 'kind',
      kubeconfig: '/tmp/kc',
      runId: 'run1',
      scratchDir: '/tmp/s',
      echoes: [],
      services: [],
      clients: [
        { name: 'client', node: 'kind-worker', namespace: 'default' },
        { name: 'intruder', node: 'kind-worker', namespace: 'other', labels: { app: 'intruder' } },
      ],
    });
    const ns = plan.find((c) => /namespace other for client pods/.test(c.purpose))!;
    assert.match(ns.stdin!, /name: other/);
    assert.doesNotMatch(ns.stdin!, /pod-security/);
    const intruder = plan.find((c) => /client pod "intruder" in other/.test(c.purpose))!;
    assert.deepEqual(
      intruder.argv.slice(intruder.argv.indexOf('--namespace'), intruder.argv.indexOf('--namespace') + 2),
      ['--namespace', 'other'],
    );
    assert.match(intruder.stdin!, /app: intruder/);
    const client = plan.find((c) => c.purpose === 'client pod "client"')!;
    assert.ok(client.argv.includes('hookpoint-run1'));
  });
});
