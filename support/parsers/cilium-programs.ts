/**
 * Cilium's program layout at the lxc hook, as public facts (cilium/cilium bpf/bpf_lxc.c,
 * bpf/lib/common.h or bpf/lib/tailcall.h): hook program names, the tail-call slots of an
 * endpoint's `cilium_calls` program array, and the names of the program arrays as the kernel
 * lists them (map names are cut to 15 characters: `cilium_calls_01573` is listed as
 * `cilium_calls_01`, `cilium_call_policy` as `cilium_call_pol`). The lab's datapath uses the
 * same names and numbers; the bpftool probe follows tail calls with them.
 */

/** Programs attached at the host veth (lxc) of an endpoint. */
export const LXC_HOOK_PROGRAMS = { ingress: 'cil_from_container', egress: 'cil_to_container' } as const;

/** Programs on cilium_host (not attached by the lab, which routes host traffic with the kernel). */
export const HOST_HOOK_PROGRAMS = { ingress: 'cil_to_host', egress: 'cil_from_host' } as const;

/** Slots of an endpoint's `cilium_calls` program array (numbers stable since Cilium 1.x). */
export const CILIUM_CALL = {
  IPV4_FROM_LXC: 7,
  IPV6_FROM_LXC: 10,
  IPV4_TO_LXC_POLICY_ONLY: 11,
  IPV4_TO_ENDPOINT: 13,
  IPV4_CT_INGRESS: 28,
} as const;

/**
 * The slots a hook program tail-calls for an IPv4 packet: from the container (lxc ingress),
 * into the container (lxc egress: the connection-tracking step in Cilium ≥ 1.13, the
 * to-endpoint step before).
 */
export const IPV4_HOOK_SLOTS: Record<'ingress' | 'egress', readonly number[]> = {
  ingress: [CILIUM_CALL.IPV4_FROM_LXC],
  egress: [CILIUM_CALL.IPV4_CT_INGRESS, CILIUM_CALL.IPV4_TO_ENDPOINT],
};

/** Kind of program array, from the name the kernel lists it under. */
export type ProgramArrayRole = 'endpoint-calls' | 'policy' | 'other';

/**
 * `cilium_calls_<id>` (one per endpoint: constant slots), `cilium_call_policy` (one per node:
 * slot = endpoint id, every local endpoint's policy/delivery program), anything else.
 */
export function programArrayRole(name: string | null | undefined): ProgramArrayRole {
  if (!name) return 'other';
  if (name.startsWith('cilium_call_pol')) return 'policy';
  if (/^cilium_calls(_\d*)?$/.test(name)) return 'endpoint-calls';
  return 'other';
}

/** Helpers that hand a packet to another interface without the stack. */
export const REDIRECT_HELPERS = ['bpf_redirect', 'bpf_redirect_peer', 'bpf_redirect_neigh'] as const;
