/** The lab backend: a real-kernel reproduction of the seed's Kind + Cilium (native routing, KPR=false) cluster. */
import type { Config } from '../../config.ts';
import { LabBackend } from './backend.ts';

export { LabBackend, type LabBackendOptions } from './backend.ts';
export { DEFAULT_STATE_ROOT, listLabs, RunDir } from './ledger.ts';
export { DEFAULT_CLUSTER } from './names.ts';
export type { LabState } from './state.ts';
export { LAB_VARIANTS, type LabVariant, parseVariants } from './variants.ts';

/** The lab backend for a run's config: its cluster name, iptables backend, variants and keep policy. */
export function createLabBackend(config: Config): LabBackend {
  return new LabBackend({
    cluster: config.cluster,
    iptables: config.iptables,
    variants: config.variants,
    keep: config.keep === 'always',
    keepOnFailure: config.keep === 'on-failure',
  });
}
