/**
 * Expectations over bpftool evidence: a program attached at a hook of an interface, and a
 * helper called by a program's translated code. Pure: no I/O.
 */
import type { BpfAttachment, BpftoolXlated } from '../parsers/bpftool.ts';
import { citeAll, dataOf, type EvidenceOr, fail, inconclusive, isEvidence, listSome } from './evidence-ref.ts';

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
  fail(
    `Expected the translated code${where} to call ${helper}, but it calls ${calls.length ? listSome(calls, 8) : 'no helper at all'}${ev}.`,
    { expected: helper, actual: calls },
  );
}
