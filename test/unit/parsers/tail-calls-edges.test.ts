/**
 * The tail-call walk (support/parsers/tail-calls.ts) at its edges: the kernel's depth limit, a
 * loop of tail calls, a program or a program array the dump lacks, programs and arrays bpftool
 * shows without a name, the slots a hook takes for IPv4 only, and the run-time slot of an array
 * that is not the policy array. Programs are built from `bpftool prog dump xlated` text and
 * program arrays from `bpftool map dump` text, as the bpftool probe builds them.
 * bpftool-tail-calls.test.ts covers the recorded lab paths.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBpftoolMapDump, parseBpftoolXlated, programArraySlots } from '../../../support/parsers/bpftool.ts';
import { IPV4_HOOK_SLOTS } from '../../../support/parsers/cilium-programs.ts';
import {
  type ClosureMap,
  type ClosureProgram,
  chainText,
  helperCallsOnPath,
  type TailCallClosure,
  walkTailCalls,
} from '../../../support/parsers/tail-calls.ts';

/** What the code does, in order: a tail call at a constant slot or a run-time one, or a helper call. */
type Op = { tail: number; slot: number | 'r7' } | { call: string };

/** `bpftool prog dump xlated` text of `ops` (a map load takes two instructions). */
function xlated(ops: Op[]): string {
  const out: string[] = [];
  let n = 0;
  const at = (k: number) => String(k).padStart(4);
  for (const op of ops) {
    if ('call' in op) {
      out.push(`${at(n)}: (b7) r2 = 0`, `${at(n + 1)}: (85) call ${op.call}#23`);
      n += 2;
      continue;
    }
    out.push(`${at(n)}: (bf) r1 = r6`, `${at(n + 1)}: (18) r2 = map[id:${op.tail}]`);
    out.push(op.slot === 'r7' ? `${at(n + 3)}: (bf) r3 = r7` : `${at(n + 3)}: (b7) r3 = ${op.slot}`);
    out.push(`${at(n + 4)}: (85) call bpf_tail_call#12`);
    n += 5;
  }
  out.push(`${at(n)}: (b7) r0 = 0`, `${at(n + 1)}: (95) exit`);
  return out.join('\n');
}

/** A program as the probe records it: the name `prog show` gives (or none) and its translated code. */
function program(id: number, name: string | null, code: Op[] | string): ClosureProgram {
  const x = parseBpftoolXlated(typeof code === 'string' ? code : xlated(code));
  return { id, name, callSites: x.callSites, tailCalls: x.tailCalls, instructions: x.instructions };
}

/** A program array from its `bpftool map dump` text (keys and values little-endian u32). */
function programArray(id: number, name: string | null, slots: Array<[number, number]>): ClosureMap {
  const le = (v: number) =>
    [v & 255, (v >> 8) & 255, (v >> 16) & 255, v >>> 24].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  const dump = [...slots.map(([s, p]) => `key: ${le(s)}  value: ${le(p)}`), `Found ${slots.length} elements`];
  const read = programArraySlots(parseBpftoolMapDump(dump.join('\n')));
  return { id, name, type: 'prog_array', slots: [...read].map(([slot, programId]) => ({ slot, programId })) };
}

function closure(
  hook: { programId: number; program: string },
  programs: ClosureProgram[],
  maps: ClosureMap[],
  direction: 'ingress' | 'egress' = 'ingress',
  destinations: number[] = [],
): TailCallClosure {
  const ifname = 'lxc1878d68cf0fd';
  return {
    interface: ifname,
    direction,
    hook: { interface: ifname, direction, ...hook },
    destinations,
    programs,
    maps,
  };
}

const HOOK = { programId: 583, program: 'cil_from_container' };
const CALLS = 394;
const IPV4 = { hookSlots: IPV4_HOOK_SLOTS.ingress };

describe('walkTailCalls: depth and loops', () => {
  it('a chain stops at the kernel’s limit of 33 programs', () => {
    // Slot s of cilium_calls holds program 1000 + s, which tail-calls slot s + 1, up to slot 47.
    const steps = Array.from({ length: 41 }, (_, k) => 7 + k);
    const c = closure(
      HOOK,
      [
        program(583, 'cil_from_container', [{ tail: CALLS, slot: 7 }]),
        ...steps.map((s) => program(1000 + s, `tail_${s}`, [{ tail: CALLS, slot: s + 1 }])),
      ],
      [
        programArray(
          CALLS,
          'cilium_calls_01',
          steps.map((s) => [s, 1000 + s]),
        ),
      ],
    );
    const walk = walkTailCalls(c, IPV4);
    assert.deepEqual(
      walk.chains.map((chain) => chain.map((s) => s.programId)),
      [[583, ...steps.slice(0, 32).map((s) => 1000 + s)]],
    );
    assert.deepEqual(walk.stops, []);
  });

  it('a program reached again is not followed a second time', () => {
    // tail_handle_ipv4 (584) → slot 11 → tail_ipv4_policy (585) → slot 7 → 584 again.
    const c = closure(
      HOOK,
      [
        program(583, 'cil_from_container', [{ tail: CALLS, slot: 7 }]),
        program(584, 'tail_handle_ipv4', [{ tail: CALLS, slot: 11 }]),
        program(585, 'tail_ipv4_policy', [{ tail: CALLS, slot: 7 }]),
      ],
      [
        programArray(CALLS, 'cilium_calls_01', [
          [7, 584],
          [11, 585],
        ]),
      ],
    );
    const walk = walkTailCalls(c, IPV4);
    assert.deepEqual(
      walk.chains.map((chain) => chainText(chain)),
      [
        'cil_from_container (id 583) → cilium_calls_01 slot 7 → tail_handle_ipv4 (id 584) → cilium_calls_01 slot 11 → tail_ipv4_policy (id 585)',
      ],
    );
    assert.deepEqual(walk.stops, []);
  });
});

describe('walkTailCalls: what the dump lacks', () => {
  it('a program not yet read ends its chain there and is asked for; a helper before it keeps its own chain', () => {
    const c = closure(
      HOOK,
      [program(583, 'cil_from_container', [{ call: 'bpf_skb_event_output' }, { tail: CALLS, slot: 7 }])],
      [programArray(CALLS, 'cilium_calls_01', [[7, 584]])],
    );
    const walk = walkTailCalls(c, IPV4);
    assert.deepEqual(walk.missing, { programs: [584], maps: [], slots: [] });
    assert.deepEqual(
      walk.chains.map((chain) => chainText(chain)),
      ['cil_from_container (id 583) → cilium_calls_01 slot 7 → program (id 584)'],
    );
    // The event output is the hook program's: its chain is the hook alone, not the path beyond.
    assert.deepEqual(
      helperCallsOnPath(c, walk, ['bpf_skb_event_output']).map((h) => [chainText(h.chain), h.helper, h.insn]),
      [['cil_from_container (id 583)', 'bpf_skb_event_output', 1]],
    );
  });

  it('an array read slot by slot: a slot not read is asked for, a slot read and empty is a stop', () => {
    const policy = { ...programArray(391, 'cilium_call_pol', [[3295, 562]]), readSlots: [3295] };
    const c = closure(
      HOOK,
      [
        program(583, 'cil_from_container', [{ tail: CALLS, slot: 7 }]),
        program(584, 'tail_handle_ipv4', [{ tail: 391, slot: 'r7' }]),
        program(562, 'cil_lxc_policy', [{ call: 'bpf_redirect' }]),
      ],
      [programArray(CALLS, 'cilium_calls_01', [[7, 584]]), policy],
    );
    const toBackend = walkTailCalls(c, { ...IPV4, destinations: [3295] });
    assert.deepEqual(toBackend.missing, { programs: [], maps: [], slots: [] });
    assert.equal(toBackend.redirects.length, 1);
    // Slot 1938 was not looked up: unknown, so the walk asks for it rather than calling it empty.
    const toClient = walkTailCalls(c, { ...IPV4, destinations: [1938] });
    assert.deepEqual(toClient.missing, { programs: [], maps: [], slots: [{ mapId: 391, slot: 1938 }] });
    assert.deepEqual(toClient.stops, []);
    // Looked up and not found: empty.
    policy.readSlots.push(1938);
    assert.deepEqual(walkTailCalls(c, { ...IPV4, destinations: [1938] }).stops, [
      'tail_handle_ipv4 (id 584) tail-calls cilium_call_pol slot 1938, which is empty',
    ]);
  });

  it('a tail call whose program array the code does not show is a stop, not a map to fetch', () => {
    // A jump lands between the map load and the call: the array in r2 is not known.
    const code = [
      '   0: (18) r2 = map[id:394]',
      '   2: (b7) r3 = 7',
      '   3: (05) goto pc+1',
      '   4: (b7) r3 = 6',
      '   5: (85) call bpf_tail_call#12',
      '   6: (95) exit',
    ].join('\n');
    const walk = walkTailCalls(closure(HOOK, [program(583, 'cil_from_container', code)], []), IPV4);
    assert.deepEqual(walk.missing, { programs: [], maps: [], slots: [] });
    assert.deepEqual(walk.stops, [
      'cil_from_container (id 583) has a tail call whose program array the dump does not show',
    ]);
  });

  it('a program and an array bpftool shows without a name are named by their ids', () => {
    // Older loaders create unnamed maps and programs (`394: prog_array  flags 0x0`).
    const c = closure(
      HOOK,
      [
        program(583, 'cil_from_container', [{ tail: CALLS, slot: 7 }]),
        program(584, null, [
          { tail: CALLS, slot: 13 },
          { tail: CALLS, slot: 'r7' },
        ]),
      ],
      [programArray(CALLS, null, [[7, 584]])],
      'ingress',
      [3295],
    );
    const walk = walkTailCalls(c, IPV4);
    assert.deepEqual(
      walk.chains.map((chain) => chainText(chain)),
      ['cil_from_container (id 583) → map 394 slot 7 → program (id 584)'],
    );
    // A run-time slot is followed only in the policy array, even with a destination known.
    assert.deepEqual(walk.stops, [
      'program (id 584) tail-calls map 394 slot 13, which is empty',
      'program (id 584) tail-calls map 394 at a slot chosen at run time (not followed)',
    ]);
  });
});

describe('walkTailCalls: the slots a hook takes for IPv4', () => {
  it('a dual-stack hook: only the IPv4 slot is followed, the IPv6 one is not this packet’s', () => {
    const c = closure(
      HOOK,
      [
        program(583, 'cil_from_container', [
          { tail: CALLS, slot: 7 },
          { tail: CALLS, slot: 10 },
        ]),
        program(584, 'tail_handle_ipv4', []),
        program(590, 'tail_handle_ipv6', [{ call: 'bpf_redirect' }]),
      ],
      [
        programArray(CALLS, 'cilium_calls_01', [
          [7, 584],
          [10, 590],
        ]),
      ],
    );
    const walk = walkTailCalls(c, IPV4);
    assert.deepEqual(
      walk.chains.map((chain) => chainText(chain)),
      ['cil_from_container (id 583) → cilium_calls_01 slot 7 → tail_handle_ipv4 (id 584)'],
    );
    assert.deepEqual([walk.redirects, walk.stops], [[], []]);
  });

  it('an egress hook with neither IPv4 slot: the stop lists its slots once each and both IPv4 slots', () => {
    const c = closure(
      { programId: 587, program: 'cil_to_container' },
      [
        program(587, 'cil_to_container', [
          { tail: CALLS, slot: 30 },
          { tail: CALLS, slot: 30 },
          { tail: CALLS, slot: 31 },
          { tail: 395, slot: 'r7' },
        ]),
      ],
      [programArray(CALLS, 'cilium_calls_01', [[30, 600]]), programArray(395, 'cilium_calls_hostns', [])],
      'egress',
    );
    const walk = walkTailCalls(c, { hookSlots: IPV4_HOOK_SLOTS.egress });
    assert.deepEqual(walk.stops, [
      'cil_to_container (id 587) tail-calls cilium_calls_hostns at a slot chosen at run time (not followed)',
      'cil_to_container (id 587) tail-calls slot 30, 31, not the IPv4 slot 28 or 13',
    ]);
    assert.deepEqual(
      walk.chains.map((chain) => chainText(chain)),
      ['cil_to_container (id 587)'],
    );
  });

  it('a hook whose only tail call is at a run-time slot names no constant slot', () => {
    const c = closure(
      HOOK,
      [program(583, 'cil_from_container', [{ tail: 395, slot: 'r7' }])],
      [programArray(395, 'cilium_calls_hostns', [])],
    );
    assert.deepEqual(walkTailCalls(c, IPV4).stops, [
      'cil_from_container (id 583) tail-calls cilium_calls_hostns at a slot chosen at run time (not followed)',
    ]);
  });
});
