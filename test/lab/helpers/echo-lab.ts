/** The lab most lab tests and benchmarks start from: two nodes, an echo deployment behind a NodePort. */
import path from 'node:path';
import type { LabBackend } from '../../../support/backends/lab/backend.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');

/**
 * Provisions `lab` from kind-configs/two-node.yaml (with `kpr`: two-node-kpr.yaml and
 * kubeProxyReplacement=true; with `values`: those Helm values on top) and exposes echo on
 * NodePort 30080; returns the node names.
 */
export async function provisionTwoNodeEcho(
  lab: LabBackend,
  opts: { kpr?: boolean; values?: Record<string, string> } = {},
): Promise<string[]> {
  await lab.provision({
    kindConfig: path.join(REPO, opts.kpr ? 'kind-configs/two-node-kpr.yaml' : 'kind-configs/two-node.yaml'),
    ciliumValues: { ...(opts.kpr ? { kubeProxyReplacement: 'true' } : {}), ...(opts.values ?? {}) },
    ciliumVersion: '1.17.15',
    k8sVersion: 'v1.27.3',
  });
  const nodes = lab.labState.plan.nodes.map((n) => n.name);
  await lab.deployEcho({ name: 'echo', nodes });
  await lab.exposeService({ name: 'echo', app: 'echo', port: 80, type: 'NodePort', nodePort: 30080 });
  return nodes;
}
