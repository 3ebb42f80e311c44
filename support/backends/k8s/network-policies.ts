/**
 * Network policies on a real cluster: the manifest created through the API in the run's
 * namespace (a policy written for "default" lands where the run's workloads live), then, on
 * every node's agent, wait until the agent holds a rule of that policy (`cilium-dbg policy get
 * -o json` lists it, with the repository's revision; support/policy/agent-repository.ts reads it)
 * and every endpoint was regenerated for that revision (`cilium-dbg policy wait N`). Removal
 * deletes it the same way.
 */
import { InfraError } from '../../errors.ts';
import type { RunResult } from '../../exec/index.ts';
import { holdsPolicy, parsePolicyGetJson } from '../../policy/agent-repository.ts';
import type { NetworkPolicyDoc } from '../../policy/manifest.ts';
import type { KubeApi } from './kube-api.ts';

/** Where each kind lives in the API. */
export const POLICY_RESOURCES = {
  NetworkPolicy: { group: 'networking.k8s.io', version: 'v1', plural: 'networkpolicies' },
  CiliumNetworkPolicy: { group: 'cilium.io', version: 'v2', plural: 'ciliumnetworkpolicies' },
} as const;

/** The namespace a policy applies in: the run's own for "default" (where its workloads live). */
export function policyNamespace(doc: NetworkPolicyDoc, runNamespace: string): string {
  return doc.namespace === 'default' ? runNamespace : doc.namespace;
}

/** The object created through the API (the manifest with its namespace set). */
export function policyBody(doc: NetworkPolicyDoc, namespace: string): Record<string, unknown> {
  const meta = (doc.manifest.metadata ?? {}) as Record<string, unknown>;
  return { ...doc.manifest, metadata: { ...meta, namespace } };
}

export interface PolicyAgents {
  nodes(): Promise<string[]>;
  /** Run a `cilium-dbg` command on a node's agent (`cilium` is rewritten per version). */
  agent(node: string, argv: readonly string[]): Promise<RunResult>;
  sleep(ms: number): Promise<void>;
}

/**
 * Wait on every agent until the policy is (listed: true) or is no longer (false) among its
 * rules, then `policy wait <revision>` there.
 */
export async function waitForAgents(
  agents: PolicyAgents,
  doc: NetworkPolicyDoc,
  namespace: string,
  listed: boolean,
  opts: { timeoutMs: number; pollMs: number },
): Promise<void> {
  const nodes = await agents.nodes();
  await Promise.all(
    nodes.map(async (node) => {
      const deadline = Date.now() + opts.timeoutMs;
      let last = '';
      for (;;) {
        const res = await agents.agent(node, ['cilium', 'policy', 'get', '-o', 'json']);
        last = res.exitCode === 0 ? res.stdout : res.stderr || res.stdout;
        const repo = res.exitCode === 0 ? parsePolicyGetJson(res.stdout) : null;
        const revision = repo?.revision;
        if (repo && revision !== undefined && holdsPolicy(repo, doc.name, namespace) === listed) {
          const wait = await agents.agent(node, ['cilium', 'policy', 'wait', String(revision)]);
          if (wait.exitCode !== 0)
            throw new InfraError(
              `The Cilium agent on node ${node} did not apply policy revision ${revision} (${doc.kind} "${doc.name}"): ${(wait.stderr || wait.stdout).trim()}.`,
            );
          return;
        }
        if (Date.now() > deadline)
          throw new InfraError(
            `The Cilium agent on node ${node} did not ${listed ? 'import' : 'remove'} ${doc.kind} "${namespace}/${doc.name}" within ${opts.timeoutMs} ms.`,
            {
              hint: `\`cilium-dbg policy get -o json\` on that node's agent shows its rules (last output ended: ${last.trim().split('\n').slice(-1)[0] ?? ''}).`,
            },
          );
        await agents.sleep(opts.pollMs);
      }
    }),
  );
}

export async function createPolicy(api: KubeApi, doc: NetworkPolicyDoc, namespace: string): Promise<void> {
  const r = POLICY_RESOURCES[doc.kind];
  await api.call(`creating ${doc.kind} ${namespace}/${doc.name}`, (o) =>
    api.custom.createNamespacedCustomObject({ ...r, namespace, body: policyBody(doc, namespace) }, o),
  );
}

export async function deletePolicy(api: KubeApi, doc: NetworkPolicyDoc, namespace: string): Promise<void> {
  const r = POLICY_RESOURCES[doc.kind];
  await api.readOrNull(`deleting ${doc.kind} ${namespace}/${doc.name}`, (o) =>
    api.custom.deleteNamespacedCustomObject({ ...r, namespace, name: doc.name }, o),
  );
}
