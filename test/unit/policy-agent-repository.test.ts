/**
 * The agent's policy repository, both ways: reading `cilium-dbg policy get -o json` (the shape of
 * cilium/cilium's api/v1 Policy model as cilium-dbg/cmd/policy_get.go prints it: `policy` the
 * rules as a JSON string, `revision` a number, indented by two spaces), and the lab's agent
 * stand-in answering `policy get` / `policy wait` in that shape.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type AgentLab, runAgent } from '../../support/backends/lab/agent/agent.ts';
import type { LabPod } from '../../support/backends/lab/pod-netns.ts';
import type { LabNodePlan } from '../../support/backends/lab/topology.ts';
import { InfraError } from '../../support/errors.ts';
import {
  formatPolicyGetJson,
  holdsPolicy,
  parsePolicyGetJson,
  repositoryRule,
} from '../../support/policy/agent-repository.ts';
import { parsePolicyManifest } from '../../support/policy/manifest.ts';

const doc = parsePolicyManifest(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: echo-from-client, namespace: hookpoint-abc}
spec:
  podSelector: {matchLabels: {app: echo}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: client}}}]
      ports: [{port: 80, protocol: TCP}]
`);

/** A rule as Cilium's agent lists it for a NetworkPolicy (labels with key, value, source). */
const agentRule = (name: string, ns: string) => ({
  endpointSelector: { matchLabels: { 'k8s:app': 'echo', 'k8s:io.kubernetes.pod.namespace': ns } },
  ingress: [{ fromEndpoints: [{ matchLabels: { 'k8s:app': 'client', 'k8s:io.kubernetes.pod.namespace': ns } }] }],
  labels: [
    { key: 'io.cilium.k8s.policy.derived-from', value: 'NetworkPolicy', source: 'k8s' },
    { key: 'io.cilium.k8s.policy.name', value: name, source: 'k8s' },
    { key: 'io.cilium.k8s.policy.namespace', value: ns, source: 'k8s' },
    { key: 'io.cilium.k8s.policy.uid', value: '3b1f0c2e-8d51-4a57-9b0e-2f6f1c7d9a10', source: 'k8s' },
  ],
});
const shape = (rules: unknown, revision: number) =>
  `${JSON.stringify({ policy: JSON.stringify(rules, null, 2), revision }, null, 2)}\n`;

describe('parsePolicyGetJson', () => {
  it('reads the revision and each rule’s labels from the rules string', () => {
    const repo = parsePolicyGetJson(shape([agentRule('echo-from-client', 'hookpoint-abc')], 17))!;
    assert.equal(repo.revision, 17);
    assert.equal(repo.rules.length, 1);
    assert.equal(repo.rules[0]!.labels['io.cilium.k8s.policy.derived-from'], 'NetworkPolicy');
    assert.equal(holdsPolicy(repo, 'echo-from-client', 'hookpoint-abc'), true);
    assert.equal(holdsPolicy(repo, 'echo-from-client', 'default'), false, 'same name, other namespace');
    assert.equal(holdsPolicy(repo, 'echo-from-clien', 'hookpoint-abc'), false);
  });

  it('an empty repository: the policy string omitted (omitempty) or "null"', () => {
    assert.deepEqual(parsePolicyGetJson('{\n  "revision": 3\n}'), { revision: 3, rules: [] });
    assert.deepEqual(parsePolicyGetJson(shape(null, 4)), { revision: 4, rules: [] });
  });

  it('refuses what is not that shape: the text form, a missing or odd revision, rules that are not a list', () => {
    assert.equal(parsePolicyGetJson(`[]\nRevision: 5\n`), null, 'the text form (no -o json)');
    assert.equal(parsePolicyGetJson('{"policy": "[]"}'), null, 'no revision');
    assert.equal(parsePolicyGetJson('{"policy": "[]", "revision": "5"}'), null);
    assert.equal(parsePolicyGetJson('{"policy": "[]", "revision": 0}'), null);
    assert.equal(parsePolicyGetJson('{"policy": "{}", "revision": 5}'), null);
    assert.equal(parsePolicyGetJson('{"policy": "[", "revision": 5}'), null);
    assert.equal(parsePolicyGetJson('Error: Cannot get policy: connection refused'), null);
  });

  it("the lab's rule reads back as the policy it came from", () => {
    const repo = parsePolicyGetJson(formatPolicyGetJson([doc], 9))!;
    assert.equal(repo.revision, 9);
    assert.equal(holdsPolicy(repo, 'echo-from-client', 'hookpoint-abc'), true);
    const rule = repositoryRule(doc, 'u');
    assert.deepEqual(rule.endpointSelector, {
      matchLabels: { 'k8s:app': 'echo', 'k8s:io.kubernetes.pod.namespace': 'hookpoint-abc' },
    });
    assert.deepEqual(rule.ingress, [
      {
        fromEndpoints: [{ matchLabels: { 'k8s:app': 'client', 'k8s:io.kubernetes.pod.namespace': 'hookpoint-abc' } }],
        toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }],
      },
    ]);
    assert.equal(rule.egress, undefined, 'egress not enforced: no egress rules');
  });
});

describe("the lab's agent answers policy get and policy wait", () => {
  const node = { name: 'kind-x-worker', role: 'worker' } as unknown as LabNodePlan;
  const pod = { name: 'echo-1', namespace: 'hookpoint-abc', node: node.name, endpointId: 7, kind: 'echo' } as LabPod;
  const lab = (state: { revision: number; realized: number }, later?: { realized: number }): AgentLab => {
    const labState = {
      cluster: 'x',
      plan: { nodes: [node] },
      pods: [pod],
      modes: {} as AgentLab['labState']['modes'],
      policies: [doc],
      policyRevision: state.revision,
      policyRealized: state.realized,
    };
    return {
      labState,
      node: () => node,
      datapath: () => undefined,
      datapathReader: () => {
        throw new Error('unused');
      },
      attach: () => {
        if (later) labState.policyRealized = later.realized;
      },
    };
  };
  const io = () => {
    const out: string[] = [];
    return { out, io: { out: (l: string) => out.push(l), err: () => {} } };
  };

  it('policy get -o json: the real shape, with the revision of the repository', async () => {
    const a = io();
    await runAgent(lab({ revision: 6, realized: 5 }), 'worker', ['cilium-dbg', 'policy', 'get', '-o', 'json'], a.io);
    const text = a.out.join('\n');
    assert.match(text, /^\{\n {2}"policy": "\[\\n/);
    const repo = parsePolicyGetJson(text)!;
    assert.equal(repo.revision, 6);
    assert.equal(holdsPolicy(repo, 'echo-from-client', 'hookpoint-abc'), true);
    const t = io();
    await runAgent(lab({ revision: 6, realized: 6 }), 'worker', ['cilium-dbg', 'policy', 'get'], t.io);
    assert.match(t.out.join('\n'), /\nRevision: 6$/);
  });

  it('policy wait: returns at once for a realized revision, waits for a later one, fails after --max-wait-time', async () => {
    const a = io();
    await runAgent(lab({ revision: 6, realized: 6 }), 'worker', ['cilium-dbg', 'policy', 'wait', '6'], a.io);
    assert.deepEqual(a.out, [], 'silent when ready');
    const b = io();
    await runAgent(
      lab({ revision: 7, realized: 6 }, { realized: 7 }),
      'worker',
      ['cilium-dbg', 'policy', 'wait', '7'],
      b.io,
    );
    assert.match(b.out[0]!, /^\rWaiting for endpoints to run policy revision 7: 0\/1/);
    await assert.rejects(
      runAgent(lab({ revision: 8, realized: 6 }), 'worker', ['policy', 'wait', '8', '--max-wait-time', '0'], io().io),
      (e: unknown) => e instanceof InfraError && /^1 endpoints still not ready after/.test(e.message),
    );
    await assert.rejects(
      runAgent(lab({ revision: 1, realized: 1 }), 'worker', ['policy', 'wait', 'x'], io().io),
      /invalid revision 'x'/,
    );
  });
});
