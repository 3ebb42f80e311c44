/**
 * Expectations over bpftool evidence: a program attached at a hook of an interface, a helper
 * called by a program's translated code, and a helper called on a packet's tail-call path.
 * Pure: no I/O.
 */
import { type BpfAttachment, type BpftoolXlated, WITHHELD_HELPER } from '../parsers/bpftool.ts';
import { IPV4_HOOK_SLOTS, REDIRECT_HELPERS } from '../parsers/cilium-programs.ts';
import {
  chainText,
  helperCallsOnPath,
  type PathRedirect,
  programLabel,
  type TailCallClosure,
  walkTailCalls,
  withheldOnPath,
} from '../parsers/tail-calls.ts';
import { citeAll, dataOf, type EvidenceOr, fail, inconclusive, isEvidence, listSome } from './evidence-ref.ts';

/** What a person can change so that bpftool shows the helpers a dump withheld. */
const WITHHELD_HINT =
  "Let bpftool see kernel addresses: add SYSLOG to the chart's securityContext.capabilities.ciliumAgent, or set kernel.perf_event_paranoid to 1 on the nodes.";

/** "… shows 3 helper calls as `call bpf_unspec#0`: the kernel withholds …" */
function withheldText(count: number): string {
  return `${count} helper call${count === 1 ? '' : 's'} as \`call ${WITHHELD_HELPER}#0\`: the kernel withholds helper addresses from a bpftool without CAP_SYSLOG (the cilium-agent container's default) unless kernel.perf_event_paranoid is 1 or less`;
}

function describe(a: BpfAttachment): string {
  return `${a.hook}${a.direction ? ` ${a.direction}` : ''} ${a.program}${a.id !== null ? ` (id ${a.id})` : ''}`;
}

function attachmentsOf(v: EvidenceOr<BpfAttachment[] | { attachments: BpfAttachment[] }>): BpfAttachment[] {
  const d = dataOf(v);
  return Array.isArray(d) ? d : d.attachments;
}

/**
 * A BPF program is attached at tc (clsact or tcx) `direction` of `ifname`. Returns the
 * attachment (its `id` leads to bpftoolXlated).
 */
export function expectProgramOn(
  attachments: EvidenceOr<BpfAttachment[] | { attachments: BpfAttachment[] }>,
  ifname: string,
  direction: 'ingress' | 'egress',
): BpfAttachment {
  const list = attachmentsOf(attachments);
  const ev = citeAll(attachments);
  const where = isEvidence(attachments) ? ` on ${attachments.where}` : '';
  const onIf = list.filter((a) => a.interface === ifname);
  const hit = onIf.find((a) => (a.hook === 'tc' || a.hook === 'tcx') && a.direction === direction);
  if (hit) return hit;
  const found = onIf.length
    ? `${ifname} has only ${listSome(onIf.map(describe))}`
    : `nothing is attached to ${ifname}${list.length ? ` (interfaces with programs: ${listSome([...new Set(list.map((a) => a.interface ?? '?'))])})` : ' (no BPF attachment at all)'}`;
  fail(`Expected bpftool net show${where} to list a program at tc ${direction} of ${ifname}, but ${found}${ev}.`, {
    expected: `tc ${direction} on ${ifname}`,
    actual: onIf.map(describe),
  });
}

/** The program's translated code calls `helper` (e.g. bpf_redirect). */
export function expectHelperCall(xlated: EvidenceOr<BpftoolXlated | string[]>, helper: string): void {
  const d = dataOf(xlated);
  const calls = Array.isArray(d) ? d : d.calls;
  const ev = citeAll(xlated);
  const where = isEvidence(xlated) ? ` of ${xlated.where}` : '';
  if (!Array.isArray(d) && d.instructions === 0) {
    inconclusive(
      `The dump${where} holds no translated instruction${ev}, so whether it calls ${helper} cannot be judged.`,
      'Check the program id and that bpftool can read it (root, same kernel).',
    );
  }
  if (calls.includes(helper)) return;
  const withheld = Array.isArray(d) ? 0 : (d.withheldCalls?.length ?? 0);
  if (withheld > 0)
    inconclusive(
      `The translated code${where} calls ${calls.length ? listSome(calls, 8) : 'no named helper'} and shows ${withheldText(withheld)}, so whether it calls ${helper} cannot be judged${ev}.`,
      WITHHELD_HINT,
    );
  fail(
    `Expected the translated code${where} to call ${helper}, but it calls ${calls.length ? listSome(calls, 8) : 'no helper at all'}${ev}.`,
    { expected: helper, actual: calls },
  );
}

/**
 * The path an IPv4 packet takes from the program at the closure's hook — through the tail
 * calls of support/parsers/tail-calls.ts, to each destination endpoint's slot of the policy
 * array — reaches a call of `helper`. `bpf_redirect` stands for the redirect family
 * (`bpf_redirect`, `bpf_redirect_peer`, `bpf_redirect_neigh`); another helper is matched
 * exactly. A call in a program off the path (another endpoint's slot, a slot nothing on the
 * path calls) does not count. Returns the calls found, one chain each.
 */
export function expectHelperOnPath(closure: EvidenceOr<TailCallClosure>, helper: string): PathRedirect[] {
  const c = dataOf(closure);
  const ev = citeAll(closure);
  const hookName = `tc ${c.direction} of ${c.interface}`;
  if (!c.hook) {
    fail(
      `Expected a program at ${hookName} whose tail calls reach ${helper}, but bpftool lists no program there${ev}.`,
      {
        expected: `a program at ${hookName}`,
        actual: 'none',
      },
    );
  }
  const hook = c.programs.find((p) => p.id === c.hook!.programId);
  if (!hook || hook.instructions === 0)
    inconclusive(
      `The dump of ${programLabel({ programId: c.hook.programId, program: c.hook.program })} at ${hookName} holds no translated instruction${ev}, so its tail calls cannot be followed.`,
      'Check that bpftool can read the program (root, same kernel).',
    );
  const helpers: readonly string[] = helper === 'bpf_redirect' ? REDIRECT_HELPERS : [helper];
  const hookSlots = IPV4_HOOK_SLOTS[c.direction];
  const found: PathRedirect[] = [];
  // Each destination on its own: the packet reaches one of them, so each path must redirect.
  for (const destinations of c.destinations.length ? c.destinations.map((d) => [d]) : [[]]) {
    const walk = walkTailCalls(c, { hookSlots, destinations });
    const to = destinations.length ? ` to endpoint ${destinations[0]}` : '';
    if (walk.missing.programs.length || walk.missing.maps.length || walk.missing.slots.length)
      inconclusive(
        `The path of an IPv4 packet from ${hookName}${to} leads to ${[
          ...walk.missing.programs.map((id) => `program ${id}`),
          ...walk.missing.maps.map((id) => `map ${id}`),
          ...walk.missing.slots.map((s) => `slot ${s.slot} of map ${s.mapId}`),
        ].join(', ')}, which the evidence does not hold${ev}.`,
      );
    const hits = helperCallsOnPath(c, walk, helpers);
    if (hits.length === 0) {
      const path = walk.chains.map(chainText).join('; ');
      const withheld = withheldOnPath(c, walk);
      if (withheld.length)
        inconclusive(
          `No program on the path of an IPv4 packet from ${hookName}${to} shows a call of ${listSome([...helpers])}, but the dump of ${listSome(
            withheld.map((p) => programLabel({ programId: p.id, program: p.name })),
          )} shows ${withheldText(withheld.reduce((n, p) => n + (p.withheldCalls ?? 0), 0))}, so whether the path reaches one cannot be judged: ${path}${ev}.`,
          WITHHELD_HINT,
        );
      const stops = walk.stops.length ? `; ${walk.stops.join('; ')}` : '';
      fail(
        `Expected the path of an IPv4 packet from ${hookName}${to} to reach a call of ${listSome([...helpers])}, but no program on it calls one: ${path}${stops}${ev}.`,
        { expected: `${helper} on the tail-call path`, actual: walk.chains.map(chainText) },
      );
    }
    found.push(...hits);
  }
  return found;
}

/** "cil_from_container (id 14) → cilium_calls_01 slot 7 → … → tail_ipv4_policy (id 47): call bpf_redirect at insn 330". */
export function describeHelperCall(hit: PathRedirect): string {
  return `${chainText(hit.chain)}: call ${hit.helper}${hit.insn !== null ? ` at insn ${hit.insn}` : ''}`;
}
