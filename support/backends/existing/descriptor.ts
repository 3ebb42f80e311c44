/** The existing backend described (BackendDescriptor): a cluster reached through a kubeconfig, never changed. */
import { K8S_DESCRIPTOR_PARTS } from '../k8s/descriptor.ts';
import type { BackendDescriptor } from '../types.ts';

export const EXISTING_DESCRIPTOR: BackendDescriptor = {
  ...K8S_DESCRIPTOR_PARTS,
  name: 'existing',
  label: 'existing',
  // The cluster exists: no Docker, no kind. Without helm the installed release's values go unchecked.
  doctor: [
    { check: 'node', required: true },
    { check: 'java', required: false, withoutIt: 'the Allure site is not rendered' },
    { check: 'kubectl', required: true },
    { check: 'kubeconfig', required: true },
    { check: 'helm', required: false, withoutIt: "without helm the installed release's values are not checked" },
  ],
  keptClusterHint: (cluster) => `hookpoint down --backend existing --cluster ${cluster}`,
  // Real Cilium enforces every field of a valid policy.
  refusesPolicy: () => null,
};
