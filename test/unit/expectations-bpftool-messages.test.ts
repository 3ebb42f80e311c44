/**
 * The bpftool verdicts' failures word for word (message, expected/actual pair, hint), and the
 * edges they draw: which hooks count as "tc", what a program that calls nothing says, a path whose
 * programs or maps the evidence lacks, each destination's path judged on its own.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  describeHelperCall,
  expectHelperCall,
  expectHelperOnPath,
  expectProgramOn,
} from '../../support/expectations/bpftool.ts';
import type { CitedEvidence } from '../../support/expectations/evidence-ref.ts';
import type { BpfAttachment } from '../../support/parsers/bpftool.ts';
import { parseBpftoolXlated } from '../../support/parsers/bpftool.ts';
import type { TailCallClosure } from '../../support/parsers/tail-calls.ts';
import { bpftoolTailCalls } from '../../support/probes/bpftool.ts';
import { readRecorded, replayBackend } from './helpers/bpftool-replay.ts';
import { thrown } from './helpers/thrown.ts';

function att(a: Partial<BpfAttachment> & Pick<BpfAttachment, 'interface' | 'hook' | 'program'>): BpfAttachment {
  return {
    ifindex: null,
    direction: null,
    object: null,
    section: null,
    id: null,
    linkId: null,
    mode: null,
    raw: '',
    ...a,
  };
}

function cited<T>(where: string, data: T, attachment?: string): CitedEvidence<T> {
  return {
    kind: 'bpftool-net',
    where,
    commands: [],
    raw: '',
    data,
    summary: '',
    ...(attachment ? { attachment } : {}),
  };
}

const LXC = 'lxcd2a04d71301a';

test('program on: tc and tcx count, in the asked direction; xdp and other interfaces do not', () => {
  const list = [
    att({ interface: LXC, hook: 'xdp', program: 'cil_xdp_entry', id: 3, mode: 'driver' }),
    att({ interface: 'eth0', hook: 'tc', direction: 'ingress', program: 'cil_from_netdev', id: 4 }),
    att({ interface: LXC, hook: 'tcx', direction: 'egress', program: 'cil_to_container', id: 339 }),
    att({ interface: LXC, hook: 'tc', direction: 'ingress', program: 'cil_from_container', id: 337 }),
  ];
  assert.equal(expectProgramOn(list, LXC, 'ingress').id, 337);
  assert.equal(expectProgramOn({ attachments: list }, LXC, 'egress').id, 339);
  assert.deepEqual(
    thrown(() => expectProgramOn(cited('node cp', list.slice(0, 3), '11-bpftool-net.txt'), LXC, 'ingress')),
    {
      kind: 'AssertionError',
      message: `Expected bpftool net show on node cp to list a program at tc ingress of ${LXC}, but ${LXC} has only xdp cil_xdp_entry (id 3), tcx egress cil_to_container (id 339) (evidence 11-bpftool-net.txt).`,
      expected: `tc ingress on ${LXC}`,
      actual: ['xdp cil_xdp_entry (id 3)', 'tcx egress cil_to_container (id 339)'],
    },
  );
  // A program without an id is described without one.
  assert.deepEqual(
    thrown(() =>
      expectProgramOn([att({ interface: LXC, hook: 'other', direction: 'ingress', program: 'x' })], LXC, 'ingress'),
    ).actual,
    ['other ingress x'],
  );
});

test('program on: nothing on the interface names the interfaces that have programs, once each', () => {
  const list = [
    att({ interface: 'eth0', hook: 'tc', direction: 'ingress', program: 'a', id: 1 }),
    att({ interface: 'eth0', hook: 'tc', direction: 'egress', program: 'b', id: 2 }),
    att({ interface: null, hook: 'flow_dissector', program: 'c', id: 5 }),
    att({ interface: 'cilium_host', hook: 'tc', direction: 'ingress', program: 'd', id: 6 }),
  ];
  assert.deepEqual(
    thrown(() => expectProgramOn(list, LXC, 'egress')),
    {
      kind: 'AssertionError',
      message: `Expected bpftool net show to list a program at tc egress of ${LXC}, but nothing is attached to ${LXC} (interfaces with programs: eth0, ?, cilium_host).`,
      expected: `tc egress on ${LXC}`,
      actual: [],
    },
  );
});

const XLATED_NONE = ' 0: (bf) r6 = r1\n 1: (95) exit\n';

test('helper call: an empty dump is inconclusive with the hint; no helper at all, or many, are named', () => {
  assert.deepEqual(
    thrown(() =>
      expectHelperCall({ ...cited('node cp prog 9', parseBpftoolXlated('')), kind: 'bpftool-xlated' }, 'bpf_redirect'),
    ),
    {
      kind: 'inconclusive',
      message:
        'The dump of node cp prog 9 holds no translated instruction (evidence: bpftool-xlated node cp prog 9), so whether it calls bpf_redirect cannot be judged.',
      hint: 'Check the program id and that bpftool can read it (root, same kernel).',
    },
  );
  assert.deepEqual(
    thrown(() => expectHelperCall(parseBpftoolXlated(XLATED_NONE), 'bpf_redirect')),
    {
      kind: 'AssertionError',
      message: 'Expected the translated code to call bpf_redirect, but it calls no helper at all.',
      expected: 'bpf_redirect',
      actual: [],
    },
  );
  // A bare list of helper names is never "no instruction": empty means it calls none.
  assert.equal(thrown(() => expectHelperCall([], 'bpf_redirect')).kind, 'AssertionError');
  const nine = Array.from({ length: 9 }, (_, i) => `bpf_h${i}`);
  assert.equal(
    thrown(() => expectHelperCall(nine, 'bpf_redirect')).message,
    'Expected the translated code to call bpf_redirect, but it calls bpf_h0, bpf_h1, bpf_h2, bpf_h3, bpf_h4, bpf_h5, bpf_h6, bpf_h7 … and 1 more.',
  );
});

const SAME_NODE = 'test/fixtures/lab-bpftool/tail-calls-same-node.txt';
const NODE = 'hpebpf-control-plane';
const CLIENT_LXC = 'lxc1878d68cf0fd';
const EV = `(evidence: bpftool-tail-calls node ${NODE} ${CLIENT_LXC})`;
const HOOK = `tc ingress of ${CLIENT_LXC}`;
const PATH_TO_POLICY = 'cil_from_container (id 583) → cilium_calls_01 slot 7 → tail_handle_ipv4 (id 584)';
const clone = (c: TailCallClosure): TailCallClosure => JSON.parse(JSON.stringify(c));

async function closure(destinations: number[]) {
  const { backend } = replayBackend(readRecorded(SAME_NODE));
  return bpftoolTailCalls(backend, NODE, { ifname: CLIENT_LXC, direction: 'ingress', destinations });
}

test('helper on path: no program at the hook fails with the pair; an unread hook program is inconclusive', async () => {
  const ev = await closure([3295]);
  assert.deepEqual(
    thrown(() => expectHelperOnPath({ ...ev, data: { ...clone(ev.data), hook: null } }, 'bpf_redirect')),
    {
      kind: 'AssertionError',
      message: `Expected a program at ${HOOK} whose tail calls reach bpf_redirect, but bpftool lists no program there ${EV}.`,
      expected: `a program at ${HOOK}`,
      actual: 'none',
    },
  );
  const unread = clone(ev.data);
  unread.programs = unread.programs.filter((p) => p.id !== 583);
  assert.deepEqual(
    thrown(() => expectHelperOnPath(unread, 'bpf_redirect')),
    {
      kind: 'inconclusive',
      message: `The dump of cil_from_container (id 583) at ${HOOK} holds no translated instruction, so its tail calls cannot be followed.`,
      hint: 'Check that bpftool can read the program (root, same kernel).',
    },
  );
});

test('helper on path: a program or a map the path needs and the evidence lacks is named', async () => {
  const ev = await closure([3295]);
  const noProgram = clone(ev.data);
  noProgram.programs = noProgram.programs.filter((p) => p.id !== 563);
  assert.deepEqual(
    thrown(() => expectHelperOnPath({ ...ev, data: noProgram }, 'bpf_redirect')),
    {
      kind: 'inconclusive',
      message: `The path of an IPv4 packet from ${HOOK} to endpoint 3295 leads to program 563, which the evidence does not hold ${EV}.`,
    },
  );
  const noMap = clone(ev.data);
  noMap.maps = noMap.maps.filter((m) => m.id !== 391);
  assert.equal(
    thrown(() => expectHelperOnPath(noMap, 'bpf_redirect')).message,
    `The path of an IPv4 packet from ${HOOK} to endpoint 3295 leads to map 391, which the evidence does not hold.`,
  );
});

test('helper on path: each destination is judged on its own; a helper other than bpf_redirect is matched alone', async () => {
  const ev = await closure([3295]);
  // tail_handle_ipv4 (584) tail-calls the policy array from two sites (insn 317 and 512): one chain each.
  const chain = `${PATH_TO_POLICY} → cilium_call_pol slot 3295 → cil_lxc_policy (id 562) → cilium_calls_03 slot 11 → tail_ipv4_policy (id 563)`;
  assert.deepEqual(
    thrown(() => expectHelperOnPath(ev, 'bpf_fib_lookup')),
    {
      kind: 'AssertionError',
      message: `Expected the path of an IPv4 packet from ${HOOK} to endpoint 3295 to reach a call of bpf_fib_lookup, but no program on it calls one: ${chain}; ${chain} ${EV}.`,
      expected: 'bpf_fib_lookup on the tail-call path',
      actual: [chain, chain],
    },
  );
  // Two destinations: the backend's path redirects; the client's own slot (1938) of the policy
  // array was not read (the probe looks up only the slots the walk needs), so that path cannot be judged.
  const two = clone(ev.data);
  two.destinations = [3295, 1938];
  assert.deepEqual(
    thrown(() => expectHelperOnPath(two, 'bpf_redirect')),
    {
      kind: 'inconclusive',
      message: `The path of an IPv4 packet from ${HOOK} to endpoint 1938 leads to slot 1938 of map 391, which the evidence does not hold.`,
    },
  );
  // The same destination twice: both paths redirect, one hit each.
  const twice = clone(ev.data);
  twice.destinations = [3295, 3295];
  assert.deepEqual(
    expectHelperOnPath(twice, 'bpf_redirect').map((h) => [h.helper, h.insn]),
    [
      ['bpf_redirect', 330],
      ['bpf_redirect', 330],
    ],
  );
});

test('describeHelperCall: the chain, the helper, and the instruction when known', async () => {
  const ev = await closure([3295]);
  const [hit] = expectHelperOnPath(ev, 'bpf_redirect');
  assert.equal(
    describeHelperCall({ ...hit!, insn: null }),
    `${PATH_TO_POLICY} → cilium_call_pol slot 3295 → cil_lxc_policy (id 562) → cilium_calls_03 slot 11 → tail_ipv4_policy (id 563): call bpf_redirect`,
  );
});

test('helper on path: without a known destination, two missing programs, two empty slots — each named', async () => {
  const none = await closure([]);
  assert.equal(
    thrown(() => expectHelperOnPath(none, 'bpf_redirect')).message,
    `Expected the path of an IPv4 packet from ${HOOK} to reach a call of bpf_redirect, bpf_redirect_peer, bpf_redirect_neigh, but no program on it calls one: cil_from_container (id 583) → cilium_calls_01 slot 7 → tail_handle_ipv4 (id 584); tail_handle_ipv4 (id 584) tail-calls cilium_call_pol at a slot chosen at run time (the destination endpoint), and no destination endpoint is known ${EV}.`,
  );
  // At egress the hook program takes two slots (28, 13): give both to programs the probe did not read.
  const ev = await closure([3295]);
  const egress = clone(ev.data);
  egress.direction = 'egress';
  egress.programs.find((p) => p.id === 583)!.tailCalls = [
    { insn: 14, mapId: 394, index: 28 },
    { insn: 20, mapId: 394, index: 13 },
  ];
  const calls = egress.maps.find((m) => m.id === 394)!;
  calls.slots.push({ slot: 28, programId: 590 });
  assert.equal(
    thrown(() => expectHelperOnPath(egress, 'bpf_redirect')).message,
    `The path of an IPv4 packet from tc egress of ${CLIENT_LXC} to endpoint 3295 leads to program 590, program 588, which the evidence does not hold.`,
  );
  // Both slots empty: both stops are named.
  calls.slots = calls.slots.filter((s) => s.slot !== 13 && s.slot !== 28);
  assert.equal(
    thrown(() => expectHelperOnPath(egress, 'bpf_redirect')).message,
    `Expected the path of an IPv4 packet from tc egress of ${CLIENT_LXC} to endpoint 3295 to reach a call of bpf_redirect, bpf_redirect_peer, bpf_redirect_neigh, but no program on it calls one: cil_from_container (id 583); cil_from_container (id 583) tail-calls cilium_calls_01 slot 28, which is empty; cil_from_container (id 583) tail-calls cilium_calls_01 slot 13, which is empty.`,
  );
});
