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
const REPRODUCED = { tunnel: true, kubeProxyReplacement: true };

/** The tunnel protocols the lab builds (tunnelProtocol; Cilium's default is vxlan). */
const TUNNEL_PROTOCOLS = ['vxlan'];

/** Read the datapath mode from Helm values (keys as Cilium's chart spells them). */
export function modesFromValues(values: Record<string, string>): LabModes {
  const v = (k: string) => values[k]?.toLowerCase();
  const tunnel = v('routingMode') === 'tunnel' || (v('tunnel') !== undefined && v('tunnel') !== 'disabled');
  const kpr = v('kubeProxyReplacement');
  const modes: LabModes = {
    routing: tunnel ? 'tunnel' : 'native',
    kubeProxyReplacement: kpr !== undefined && kpr !== 'false' && kpr !== 'disabled',
  };
  if (modes.routing === 'tunnel' && v('autoDirectNodeRoutes') === 'true')
    throw new UsageError(
      "The Cilium values ask for routingMode=tunnel together with autoDirectNodeRoutes=true; Cilium's agent refuses that combination (direct node routes are a native-routing feature: in tunnel mode every other node's pod CIDR goes through the tunnel), and so does the lab.",
      'Set autoDirectNodeRoutes to false for tunnel mode, or routingMode to native.',
    );
  const protocol = v('tunnelProtocol') || (v('tunnel') && v('tunnel') !== 'disabled' ? v('tunnel') : undefined);
  if (modes.routing === 'tunnel' && protocol && !TUNNEL_PROTOCOLS.includes(protocol))
    throw new UsageError(
      `The lab reproduces tunnel mode with VXLAN only; this feature asks for tunnelProtocol=${protocol}.`,
      LAB_SKIP_HINT,
    );
  if (modes.routing === 'tunnel' && !REPRODUCED.tunnel)
    throw new UsageError(
      'The lab reproduces native routing only (routingMode=native); this feature asks for tunnel mode.',
      LAB_SKIP_HINT,
    );
  if (modes.routing === 'tunnel' && modes.kubeProxyReplacement)
    throw new UsageError(
      'The lab reproduces tunnel mode and kube-proxy replacement each on its own, not together; this feature asks for routingMode=tunnel with kubeProxyReplacement=true.',
      LAB_SKIP_HINT,
    );
  if (modes.kubeProxyReplacement && !REPRODUCED.kubeProxyReplacement)
    throw new UsageError(
      `The lab reproduces kubeProxyReplacement=false only; this feature asks for kubeProxyReplacement=${values.kubeProxyReplacement}.`,
      LAB_SKIP_HINT,
    );
  return modes;
}
