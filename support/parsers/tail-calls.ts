/**
 * A packet's path through tail calls, followed over parsed bpftool data (pure). From the
 * program at a hook, only the slots an IPv4 packet takes are followed: at the hook, the IPv4
 * slot (CILIUM_CALL_IPV4_FROM_LXC at lxc ingress); further down, every slot the code names as
 * a constant; and a slot computed at run time only in the node's policy array, at the
 * destination endpoint's id. So a redirect that sits in another endpoint's program of that
 * array, or in a slot nothing on the path calls, is not on the path.
 *
 * The bpftool probe grows a TailCallClosure with this walk (fetching what `missing` names);
 * the expectation judges the same walk.
 */
import type { XlatedCall, XlatedTailCall } from './bpftool.ts';
import { type ProgramArrayRole, programArrayRole, REDIRECT_HELPERS } from './cilium-programs.ts';

export interface ClosureProgram {
  id: number;
  /** Full name as bpftool shows it (BTF), or null. */
  name: string | null;
  /** Helper call sites of the translated code. */
  callSites: XlatedCall[];
  tailCalls: XlatedTailCall[];
  instructions: number;
  /** Helper calls the dump shows withheld (parsers/bpftool.ts WITHHELD_HELPER); absent: none. */
  withheldCalls?: number;
}

export interface ClosureMap {
  id: number;
  name: string | null;
  type: string;
  /** Filled slots of a program array: slot → program id. */
  slots: Array<{ slot: number; programId: number }>;
  /**
   * Only these slots were read (`map lookup`), the rest is unknown; absent: the whole array was
   * read (`map dump`), so a slot not in `slots` is empty.
   */
  readSlots?: number[];
}

/** What bpftool showed of the programs and program arrays on a packet's path. */
export interface TailCallClosure {
  /** The hook followed: an lxc and a tc direction. */
  interface: string;
  direction: 'ingress' | 'egress';
  /** The program at the hook; null when bpftool lists none there. */
  hook: { interface: string; direction: 'ingress' | 'egress'; programId: number; program: string } | null;
  /** Destination endpoint ids whose slot in the policy array is on the path (from the traffic). */
  destinations: number[];
  programs: ClosureProgram[];
  maps: ClosureMap[];
}

/** One hop: a program, reached from the previous one through `via` (null for the hook's program). */
export interface PathStep {
  programId: number;
  program: string | null;
  via: { mapId: number; map: string | null; role: ProgramArrayRole; slot: number } | null;
}

export interface PathRedirect {
  chain: PathStep[];
  helper: string;
  insn: number | null;
}

/** Calls of any of `helpers` by the programs on the walked path, each with the chain reaching it. */
export function helperCallsOnPath(
  closure: TailCallClosure,
  walk: PathWalk,
  helpers: readonly string[],
): PathRedirect[] {
  const programs = new Map(closure.programs.map((p) => [p.id, p]));
  const seen = new Set<number>();
  const out: PathRedirect[] = [];
  for (const chain of walk.chains)
    chain.forEach((step, i) => {
      if (seen.has(step.programId)) return;
      seen.add(step.programId);
      for (const c of programs.get(step.programId)?.callSites ?? [])
        if (helpers.includes(c.helper)) out.push({ chain: chain.slice(0, i + 1), helper: c.helper, insn: c.insn });
    });
  return out;
}

/** The programs on the walked path whose dump withheld some helper calls, each once. */
export function withheldOnPath(closure: TailCallClosure, walk: PathWalk): ClosureProgram[] {
  const programs = new Map(closure.programs.map((p) => [p.id, p]));
  const ids = new Set(walk.chains.flatMap((chain) => chain.map((s) => s.programId)));
  return [...ids].map((id) => programs.get(id)).filter((p): p is ClosureProgram => !!p && (p.withheldCalls ?? 0) > 0);
}

export interface PathWalk {
  /** Redirect helper calls found on the path, each with the chain that reaches it. */
  redirects: PathRedirect[];
  /** Every chain followed, hook first (to show the path when there is no redirect). */
  chains: PathStep[][];
  /** Why the path stops where it does: empty slots, slots chosen at run time, unread data. */
  stops: string[];
  /** Programs, maps and slots of partly read arrays the walk needs and the closure lacks (the probe fetches them). */
  missing: { programs: number[]; maps: number[]; slots: Array<{ mapId: number; slot: number }> };
}

/** The kernel's limit of chained tail calls (MAX_TAIL_CALL_CNT). */
const MAX_DEPTH = 33;

/** "cil_from_container (id 1998)". */
export function programLabel(p: { programId: number; program: string | null }): string {
  return `${p.program ?? 'program'} (id ${p.programId})`;
}

/** "cil_from_container (id 14) → cilium_calls_01 slot 7 → tail_handle_ipv4 (id 15) → …". */
export function chainText(chain: readonly PathStep[]): string {
  return chain
    .map((s) => (s.via ? `${s.via.map ?? `map ${s.via.mapId}`} slot ${s.via.slot} → ` : '') + programLabel(s))
    .join(' → ');
}

/** Follow the path from the hook's program. `hookSlots`: the slots an IPv4 packet takes at the hook. */
export function walkTailCalls(
  closure: TailCallClosure,
  opts: { hookSlots: readonly number[]; destinations?: readonly number[] },
): PathWalk {
  const programs = new Map(closure.programs.map((p) => [p.id, p]));
  const maps = new Map(closure.maps.map((m) => [m.id, m]));
  const destinations = opts.destinations ?? closure.destinations;
  const walk: PathWalk = { redirects: [], chains: [], stops: [], missing: { programs: [], maps: [], slots: [] } };
  const need = (list: number[], id: number) => {
    if (!list.includes(id)) list.push(id);
  };
  const stop = (text: string) => {
    if (!walk.stops.includes(text)) walk.stops.push(text);
  };

  const visit = (chain: PathStep[]) => {
    const step = chain.at(-1)!;
    const prog = programs.get(step.programId);
    if (!prog) {
      need(walk.missing.programs, step.programId);
      walk.chains.push(chain);
      return;
    }
    step.program = prog.name ?? step.program;
    for (const c of prog.callSites)
      if ((REDIRECT_HELPERS as readonly string[]).includes(c.helper))
        walk.redirects.push({ chain, helper: c.helper, insn: c.insn });
    let next = 0;
    const follow = (mapId: number, map: ClosureMap, slot: number) => {
      const hit = map.slots.find((s) => s.slot === slot);
      const where = `${map.name ?? `map ${mapId}`} slot ${slot}`;
      if (!hit && map.readSlots && !map.readSlots.includes(slot)) {
        if (!walk.missing.slots.some((s) => s.mapId === mapId && s.slot === slot))
          walk.missing.slots.push({ mapId, slot });
        return;
      }
      if (!hit) {
        stop(`${programLabel(step)} tail-calls ${where}, which is empty`);
        return;
      }
      if (chain.length >= MAX_DEPTH || chain.some((s) => s.programId === hit.programId)) return;
      next++;
      visit([
        ...chain,
        {
          programId: hit.programId,
          program: null,
          via: { mapId, map: map.name, role: programArrayRole(map.name), slot },
        },
      ]);
    };
    for (const t of prog.tailCalls) {
      if (t.mapId === null) {
        stop(`${programLabel(step)} has a tail call whose program array the dump does not show`);
        continue;
      }
      const map = maps.get(t.mapId);
      if (!map) {
        need(walk.missing.maps, t.mapId);
        continue;
      }
      if (t.index !== null) {
        // At the hook only the IPv4 slot is this packet's; further down every constant slot is.
        if (chain.length === 1 && !opts.hookSlots.includes(t.index)) continue;
        follow(t.mapId, map, t.index);
      } else if (programArrayRole(map.name) === 'policy') {
        if (destinations.length === 0)
          stop(
            `${programLabel(step)} tail-calls ${map.name} at a slot chosen at run time (the destination endpoint), and no destination endpoint is known`,
          );
        for (const d of destinations) follow(t.mapId, map, d);
      } else {
        stop(
          `${programLabel(step)} tail-calls ${map.name ?? `map ${t.mapId}`} at a slot chosen at run time (not followed)`,
        );
      }
    }
    if (chain.length === 1) {
      const constant = prog.tailCalls.filter((t) => t.index !== null).map((t) => t.index!);
      if (constant.length && !constant.some((i) => opts.hookSlots.includes(i)))
        stop(
          `${programLabel(step)} tail-calls slot ${[...new Set(constant)].join(', ')}, not the IPv4 slot ${opts.hookSlots.join(' or ')}`,
        );
    }
    if (next === 0) walk.chains.push(chain);
  };

  if (closure.hook) visit([{ programId: closure.hook.programId, program: closure.hook.program, via: null }]);
  return walk;
}
