/** The kind backend described (BackendDescriptor): a Kind cluster this run creates or reuses. */
import { K8S_DESCRIPTOR_PARTS } from '../k8s/descriptor.ts';
import type { BackendDescriptor } from '../types.ts';

export const KIND_DESCRIPTOR: BackendDescriptor = {
  ...K8S_DESCRIPTOR_PARTS,
  name: 'kind',
  label: 'kind',
  doctor: [
    { check: 'node', required: true },
    { check: 'java', required: false },
    { check: 'docker', required: true },
    { check: 'kind', required: true },
    { check: 'helm', required: true },
    { check: 'kubectl', required: true },
  ],
  keptClusterHint: (cluster) => `hookpoint down --backend kind --cluster ${cluster}`,
  // Real Cilium enforces every field of a valid policy.
  refusesPolicy: () => null,
};
