/**
 * The stand-in's network policy controller: NetworkPolicy (networking.k8s.io/v1) and
 * CiliumNetworkPolicy (cilium.io/v2) objects created through its API server are read as the
 * manifests users write (support/policy/manifest.ts) and handed to the lab, whose datapath
 * enforces them; deleting one (or its namespace) removes it. One thing at a time, through the
 * API server's work queue.
 */
import type { NetworkPolicyDoc } from '../../support/policy/manifest.ts';
import { parsePolicyManifest } from '../../support/policy/manifest.ts';
import type { FakeApiServer } from '../unit/helpers/kind/fake-apiserver.ts';

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are free-form JSON here
type Obj = Record<string, any>;

export const POLICY_RESOURCES = ['networkpolicies', 'ciliumnetworkpolicies'] as const;

/** What the controller needs of the lab (LabBackend provides it). */
export interface PolicyLab {
  applyNetworkPolicy(doc: NetworkPolicyDoc): Promise<void>;
  removeNetworkPolicy(doc: NetworkPolicyDoc): Promise<void>;
}

export interface PolicyController {
  /** Remove every policy of a namespace (the namespace was deleted); call inside the work queue. */
  removeNamespace(ns: string): Promise<void>;
  /** The policies the lab holds now, by kind/namespace/name. */
  applied(): string[];
}

const keyOf = (o: Obj) => `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`;

export function policyController(
  api: FakeApiServer,
  lab: PolicyLab,
  work: (what: string, fn: () => Promise<void>) => Promise<void>,
  log: (line: string) => void,
): PolicyController {
  const held = new Map<string, NetworkPolicyDoc>();

  async function remove(key: string): Promise<void> {
    const doc = held.get(key);
    if (!doc) return;
    held.delete(key);
    await lab.removeNetworkPolicy(doc);
  }

  for (const resource of POLICY_RESOURCES) {
    api.onCreate(resource, (o) => {
      let doc: NetworkPolicyDoc;
      try {
        // The stored object (its namespace and uid set), read as the manifest a user would write.
        doc = parsePolicyManifest(JSON.stringify(o));
      } catch (err) {
        log(`policy ${keyOf(o)} not imported: ${(err as Error).message}`);
        return;
      }
      const key = keyOf(o);
      void work(`policy ${key}`, async () => {
        await lab.applyNetworkPolicy(doc);
        held.set(key, doc);
      }).catch(() => {});
    });
    api.onDelete(resource, (o) => void work(`policy removal ${keyOf(o)}`, () => remove(keyOf(o))).catch(() => {}));
  }

  return {
    async removeNamespace(ns: string) {
      for (const key of [...held.keys()].filter((k) => k.split('/')[1] === ns)) await remove(key);
    },
    applied: () => [...held.keys()],
  };
}
