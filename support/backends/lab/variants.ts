/**
 * Lab variants: datapath mutations that prove a scenario can fail (no-tc, no-native-route,
 * no-local-redirect, no-encap: tunnel mode without its tunnel — no cilium_vxlan, nothing
 * encapsulated, the other nodes' pod CIDRs routed natively via their node IPs). One place reads them — from the CLI, from a feature's Cilium values — so
 * provisioning and the lab's capabilities agree on what a run asked for; native routes can also
 * be switched while the lab runs.
 */

import { LAB_VARIANTS } from '../../config.ts';
import { UsageError } from '../../errors.ts';
import { requiresTag } from '../types.ts';
import type { LabModes } from './modes.ts';
import { nodeNetns } from './names.ts';
import { ipBatch, nativeRouteLines } from './netns.ts';
import type { LabSession } from './state.ts';

/** How a feature whose Cilium values the lab cannot reproduce still runs elsewhere and is skipped here. */
export const LAB_SKIP_HINT = `Run it with --backend kind, or tag its scenarios ${requiresTag('helm-values')} so the lab skips them (the lab lacks that capability).`;

export { LAB_VARIANTS };
export type LabVariant = (typeof LAB_VARIANTS)[number];

export function parseVariants(input: readonly string[] | string | undefined): LabVariant[] {
  const list = (typeof input === 'string' ? input.split(',') : (input ?? [])).map((v) => v.trim()).filter(Boolean);
  for (const v of list)
    if (!(LAB_VARIANTS as readonly string[]).includes(v))
      throw new UsageError(
        `Unknown lab variant "${v}".`,
        `Valid variants: ${LAB_VARIANTS.join(', ')} (comma-separated).`,
      );
  return [...new Set(list as LabVariant[])].sort();
}

/**
 * Variants implied by Cilium values (the datapath mode itself is read by modes.ts): native routing
 * without autoDirectNodeRoutes has no routes between the nodes' pod CIDRs. In tunnel mode
 * autoDirectNodeRoutes is false by definition and the tunnel carries that traffic.
 */
export function variantsFromValues(values: Record<string, string>, modes: LabModes): LabVariant[] {
  return modes.routing === 'native' && values.autoDirectNodeRoutes?.toLowerCase() === 'false'
    ? ['no-native-route']
    : [];
}

/** Tunnel mode as built: routingMode=tunnel, unless variant no-encap breaks it into native routes. */
export function encapsulates(modes: LabModes | undefined, variants: readonly string[]): boolean {
  return modes?.routing === 'tunnel' && !variants.includes('no-encap');
}

/** Remove (or restore) the native routes of every node at run time: variant no-native-route on a live lab. */
export async function setNativeRoutes(lab: LabSession, on: boolean): Promise<void> {
  const s = lab.labState;
  await Promise.all(
    s.plan.nodes.map((n) =>
      ipBatch(
        lab.runDir,
        `native-routes-${on ? 'add' : 'del'}-${n.role}`,
        nativeRouteLines(s.plan, n).map((l) =>
          on ? l.replace(/^route add/, 'route replace') : l.replace(/^route add/, 'route del'),
        ),
        { netns: nodeNetns(s.cluster, n.name), where: `node ${n.name}`, force: true },
      ),
    ),
  );
}
