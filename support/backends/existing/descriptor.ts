/** The existing backend described (BackendDescriptor): a cluster reached through a kubeconfig, never changed. */
import { K8S_DESCRIPTOR_PARTS } from '../k8s/descriptor.ts';
import type { BackendDescriptor } from '../types.ts';

export const EXISTING_DESCRIPTOR: BackendDescriptor = {
  ...K8S_DESCRIPTOR_PARTS,
  name: 'existing',
  label: 'existing',
  // The same machine checks as kind today (see issue 23 for what existing really needs).
  doctor: [
    { check: 'node', required: true },
    { check: 'java', required: false },
    { check: 'docker', required: true },
    { check: 'kind', required: true },
    { check: 'helm', required: true },
    { check: 'kubectl', required: true },
  ],
  keptClusterHint: (cluster) => `hookpoint down --backend existing --cluster ${cluster}`,
};
