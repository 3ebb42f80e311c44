/**
 * The datapath mode a lab reproduces, read from the feature's Cilium Helm values: routing
 * (native or VXLAN tunnel) and kube-proxy replacement. One owner for "which mode": provisioning,
 * the agent stand-in's status and the eBPF program's build options all read this, never the
 * values themselves. Modes the lab cannot reproduce yet are refused here with the skip hint.
 */
import { UsageError } from '../../errors.ts';
import { LAB_SKIP_HINT } from './variants.ts';

export interface LabModes {
  /** routingMode: native (the seed) or tunnel (VXLAN between node IPs). */
  routing: 'native' | 'tunnel';
  /** kubeProxyReplacement=true: no kube-proxy chains, services translated by eBPF. */
  kubeProxyReplacement: boolean;
}

export const SEED_MODES: LabModes = { routing: 'native', kubeProxyReplacement: false };

/** Modes this lab build reproduces; the rest are refused before anything is created. */
const REPRODUCED = { tunnel: false, kubeProxyReplacement: true };

/** Read the datapath mode from Helm values (keys as Cilium's chart spells them). */
export function modesFromValues(values: Record<string, string>): LabModes {
  const v = (k: string) => values[k]?.toLowerCase();
  const tunnel = v('routingMode') === 'tunnel' || (v('tunnel') !== undefined && v('tunnel') !== 'disabled');
  const kpr = v('kubeProxyReplacement');
  const modes: LabModes = {
    routing: tunnel ? 'tunnel' : 'native',
    kubeProxyReplacement: kpr !== undefined && kpr !== 'false' && kpr !== 'disabled',
  };
  if (modes.routing === 'tunnel' && !REPRODUCED.tunnel)
    throw new UsageError(
      'The lab reproduces native routing only (routingMode=native); this feature asks for tunnel mode.',
      LAB_SKIP_HINT,
    );
  if (modes.kubeProxyReplacement && !REPRODUCED.kubeProxyReplacement)
    throw new UsageError(
      `The lab reproduces kubeProxyReplacement=false only; this feature asks for kubeProxyReplacement=${values.kubeProxyReplacement}.`,
      LAB_SKIP_HINT,
    );
  return modes;
}
