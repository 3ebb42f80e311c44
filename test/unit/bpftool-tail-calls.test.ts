/**
 * Following a packet's tail calls: the bpftool probe (replaying bpftool output the lab
 * produced, test/fixtures/lab-bpftool) and the expectation that a redirect helper is on the
 * path — and only on the path: a redirect in another endpoint's slot of the policy array, or in
 * a slot nothing on the path calls, does not count.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AssertionError } from 'chai';
import { InconclusiveError, InfraError } from '../../support/errors.ts';
import { describeHelperCall, expectHelperOnPath } from '../../support/expectations/bpftool.ts';
import type { TailCallClosure } from '../../support/parsers/tail-calls.ts';
import { walkTailCalls } from '../../support/parsers/tail-calls.ts';
import { bpftoolTailCalls } from '../../support/probes/bpftool.ts';
import { readRecorded, replayBackend } from './helpers/bpftool-replay.ts';

const SAME_NODE = 'test/fixtures/lab-bpftool/tail-calls-same-node.txt';
const NO_LOCAL_REDIRECT = 'test/fixtures/lab-bpftool/tail-calls-no-local-redirect.txt';
const NODE = 'hpebpf-control-plane';
const CLIENT_LXC = 'lxc1878d68cf0fd';
/** Endpoint ids in the recorded lab: the echo backend (its slot is on the path) and the client. */
const BACKEND_EP = 3295;
const CLIENT_EP = 1938;

/**
 * The recorded outputs plus `bpftool map show` of the node (what the read-ahead lists): the
 * recorded `map show id` blocks one after another, which is how bpftool lists those maps.
 */
function withNodeMaps(out: Map<string, string>): Map<string, string> {
  const shows = [...out].filter(([cmd]) => /^bpftool map show id \d+$/.test(cmd)).map(([, text]) => text);
  return new Map([...out, ['bpftool map show', shows.join('')]]);
}

/** As on a node: a translated dump takes a while (kallsyms), everything else a moment. */
const nodeTimes = (argv: readonly string[]) => (argv.includes('xlated') ? 40 : 2);

async function recordedClosure(destinations: number[] = [BACKEND_EP], outputs = withNodeMaps(readRecorded(SAME_NODE))) {
  const { backend, calls } = replayBackend(outputs, nodeTimes);
  const ev = await bpftoolTailCalls(backend, NODE, { ifname: CLIENT_LXC, direction: 'ingress', destinations });
  return { ev, calls };
}

const clone = (c: TailCallClosure): TailCallClosure => JSON.parse(JSON.stringify(c));
const failsWith = (re: RegExp) => (e: unknown) => e instanceof AssertionError && re.test(e.message);

/** The walk's reads, in the order the evidence lists them. */
const WALK = [
  'net show',
  'prog show id 583',
  'prog dump xlated id 583',
  'map show id 394',
  'map dump id 394',
  'prog show id 584',
  'prog dump xlated id 584',
  'map show id 391',
  'map lookup id 391 key hex df 0c 00 00',
  'prog show id 562',
  'prog dump xlated id 562',
  'map show id 392',
  'map dump id 392',
  'prog show id 563',
  'prog dump xlated id 563',
];
const bare = (command: string) => command.replace(/^.*?bpftool /, '');

describe('bpftoolTailCalls (probe)', () => {
  it('reads the hook, then only the programs and arrays on the path, through the node exec target', async () => {
    const { ev, calls } = await recordedClosure();
    assert.deepEqual(calls[0]!.target, { kind: 'node', node: NODE });
    assert.deepEqual(ev.commands.map(bare), WALK);
    // Each command runs once; besides the walk's, only the read-ahead's listing of the node's maps.
    const run = calls.map((c) => c.argv.slice(1).join(' '));
    assert.equal(new Set(run).size, run.length, `a command ran twice: ${run.join('; ')}`);
    assert.deepEqual([...run].sort(), [...WALK, 'map show'].sort());
    // The policy array is read at the destination's slot only (little-endian 3295), never dumped.
    assert.ok(!run.includes('map dump id 391'));
    assert.equal(ev.kind, 'bpftool-tail-calls');
    assert.equal(ev.where, `node ${NODE} ${CLIENT_LXC}`);
    assert.match(ev.raw, /^\$ bpftool prog dump xlated id 563\n[^$]*call bpf_redirect#/m);
    assert.equal(
      ev.summary,
      `tail calls from tc ingress of ${CLIENT_LXC} on node ${NODE}: cil_from_container (id 583) → cilium_calls_01 slot 7 → tail_handle_ipv4 (id 584) → cilium_call_pol slot 3295 → cil_lxc_policy (id 562) → cilium_calls_03 slot 11 → tail_ipv4_policy (id 563): call bpf_redirect at insn 330`,
    );
    // The client's own delivery program (slot 1938 of the policy array) is not read.
    assert.ok(!ev.data.programs.some((p) => p.id === 585));
    assert.deepEqual(ev.data.hook, {
      interface: CLIENT_LXC,
      direction: 'ingress',
      programId: 583,
      program: 'cil_from_container',
    });
  });

  it('reads ahead: the dumps of the IPv4 slot’s and the destination’s programs start before the walk has read the arrays that name them', async () => {
    const { ev, calls } = await recordedClosure();
    const at = (cmd: string) => calls.findIndex((c) => c.argv.slice(1).join(' ') === cmd);
    assert.ok(at('prog dump xlated id 584') < at('map show id 394'), 'tail_handle_ipv4 (slot 7) is dumped ahead');
    assert.ok(
      at('prog dump xlated id 562') < at('map show id 391'),
      'the destination’s policy program is dumped ahead',
    );
    // The last program is reached through a slot the read-ahead does not guess: the walk reads it.
    assert.ok(at('prog dump xlated id 563') > at('map dump id 392'));
    // Without the node's map listing there is no read-ahead, and the evidence is the same.
    const plain = await recordedClosure([BACKEND_EP], readRecorded(SAME_NODE));
    assert.deepEqual(plain.ev.commands, ev.commands);
    assert.equal(plain.ev.raw, ev.raw);
    assert.deepEqual(plain.ev.data, ev.data);
    assert.ok(
      plain.calls.findIndex((c) => c.argv.join(' ') === 'bpftool prog dump xlated id 584') >
        plain.calls.findIndex((c) => c.argv.join(' ') === 'bpftool map dump id 394'),
    );
  });

  it('a read ahead that fails is reported by the walk that needs it, as one InfraError, never as an unhandled rejection', async () => {
    // The client's own slot (1938) holds program 585, whose reads were not recorded: the read-ahead
    // starts its dump, which fails, and the walk then needs it for the second destination.
    const out = withNodeMaps(readRecorded(SAME_NODE));
    out.set('bpftool map lookup id 391 key hex 92 07 00 00', 'key: 92 07 00 00  value: 49 02 00 00\n');
    const { backend, calls } = replayBackend(out, nodeTimes);
    await assert.rejects(
      bpftoolTailCalls(backend, NODE, {
        ifname: CLIENT_LXC,
        direction: 'ingress',
        destinations: [BACKEND_EP, CLIENT_EP],
      }),
      (e: unknown) => e instanceof InfraError && /`bpftool prog (show|dump xlated) id 585`/.test(e.message),
    );
    assert.ok(
      calls.some((c) => c.argv.join(' ') === 'bpftool prog dump xlated id 585'),
      'the dump was read ahead',
    );
  });

  it('no program at the hook: nothing else is read', async () => {
    const { backend, calls } = replayBackend(readRecorded(SAME_NODE));
    const ev = await bpftoolTailCalls(backend, NODE, { ifname: 'lxcnothere', direction: 'ingress', destinations: [] });
    assert.equal(calls.length, 1);
    assert.equal(ev.data.hook, null);
    assert.match(ev.summary, /nothing attached/);
  });

  it('a bpftool that fails is an InfraError naming the node and the command', async () => {
    const out = readRecorded(SAME_NODE);
    out.delete('bpftool map dump id 392');
    await assert.rejects(
      bpftoolTailCalls(replayBackend(withNodeMaps(out)).backend, NODE, {
        ifname: CLIENT_LXC,
        direction: 'ingress',
        destinations: [BACKEND_EP],
      }),
      (e: unknown) =>
        e instanceof InfraError && /on node hpebpf-control-plane: `bpftool map dump id 392`/.test(e.message),
    );
  });
});

describe('expectHelperOnPath', () => {
  it('same-node delivery: the chain names the hook program, each slot and the redirect instruction', async () => {
    const { ev } = await recordedClosure();
    const hits = expectHelperOnPath(ev, 'bpf_redirect');
    assert.deepEqual(hits.map(describeHelperCall), [
      'cil_from_container (id 583) → cilium_calls_01 slot 7 → tail_handle_ipv4 (id 584) → cilium_call_pol slot 3295 → cil_lxc_policy (id 562) → cilium_calls_03 slot 11 → tail_ipv4_policy (id 563): call bpf_redirect at insn 330',
    ]);
  });

  it('lab under no-local-redirect: the destination’s slot of cilium_call_policy is empty, so the check fails', async () => {
    const { backend } = replayBackend(readRecorded(NO_LOCAL_REDIRECT));
    const ev = await bpftoolTailCalls(backend, NODE, {
      ifname: CLIENT_LXC,
      direction: 'ingress',
      destinations: [BACKEND_EP],
    });
    // The client's own cilium_calls still holds its delivery program at slot 11 (it redirects),
    // but nothing on this packet's path tail-calls that slot.
    assert.ok(ev.data.maps.some((m) => m.name === 'cilium_calls_01' && m.slots.some((x) => x.slot === 11)));
    assert.deepEqual(ev.data.maps.find((m) => m.name === 'cilium_call_pol')!.slots, []);
    assert.match(ev.summary, /tail_handle_ipv4 \(id 1039\): no redirect helper on the path$/);
    assert.throws(
      () => expectHelperOnPath(ev, 'bpf_redirect'),
      failsWith(
        /^Expected the path of an IPv4 packet from tc ingress of lxc1878d68cf0fd to endpoint 3295 to reach a call of bpf_redirect, .*: cil_from_container \(id 1038\) → cilium_calls_01 slot 7 → tail_handle_ipv4 \(id 1039\); tail_handle_ipv4 \(id 1039\) tail-calls cilium_call_pol slot 3295, which is empty \(evidence: bpftool-tail-calls node hpebpf-control-plane lxc1878d68cf0fd\)\.$/,
      ),
    );
  });

  it('TRAP: a redirect only in another endpoint’s slot of cilium_call_policy does not count', async () => {
    const { ev } = await recordedClosure();
    const c = clone(ev.data);
    // The closure also holds the client's own delivery chain, as the lab has it: slot 1938 of
    // cilium_call_policy → its cil_lxc_policy (585) → its cilium_calls (394) slot 11 →
    // tail_ipv4_policy (586), which redirects (copies of the backend's 562 and 563).
    const policyEntry = clone({ ...ev.data, programs: [c.programs.find((p) => p.id === 562)!] }).programs[0]!;
    const deliver = clone({ ...ev.data, programs: [c.programs.find((p) => p.id === 563)!] }).programs[0]!;
    c.programs.push(
      { ...policyEntry, id: 585, tailCalls: [{ insn: 3, mapId: 394, index: 11 }] },
      { ...deliver, id: 586 },
    );
    assert.ok(c.maps.find((m) => m.id === 394)!.slots.some((s) => s.slot === 11 && s.programId === 586));
    const policy = c.maps.find((m) => m.name === 'cilium_call_pol')!;
    // The probe read only the destination's slot; the lab's array holds the client's too.
    assert.deepEqual(policy.readSlots, [BACKEND_EP]);
    policy.slots.push({ slot: CLIENT_EP, programId: 585 });
    policy.readSlots!.push(CLIENT_EP);
    const viaOther = walkTailCalls(c, { hookSlots: [7], destinations: [CLIENT_EP] });
    assert.ok(viaOther.redirects.length > 0, 'following the other endpoint’s slot would find a redirect');
    // The destination's slot is empty: no redirect on this packet's path.
    policy.slots = policy.slots.filter((s) => s.slot !== BACKEND_EP);
    assert.throws(
      () => expectHelperOnPath(c, 'bpf_redirect'),
      failsWith(
        /to endpoint 3295 .*no program on it calls one: .*tail_handle_ipv4 \(id 584\).*cilium_call_pol slot 3295, which is empty/,
      ),
    );
  });

  it('TRAP: a redirect in a slot of the endpoint’s own array that nothing on the path calls does not count', async () => {
    const { ev } = await recordedClosure();
    const c = clone(ev.data);
    // The hook's program tail-calls slot 7; give slot 13 (never called from the hook) the redirect.
    const calls = c.maps.find((m) => m.id === 394)!;
    const deliver = c.programs.find((p) => p.id === 563)!;
    calls.slots.push({ slot: 13, programId: 563 });
    const policy = c.maps.find((m) => m.name === 'cilium_call_pol')!;
    policy.slots = [];
    assert.ok(deliver.callSites.some((s) => s.helper === 'bpf_redirect'));
    assert.throws(() => expectHelperOnPath(c, 'bpf_redirect'), failsWith(/which is empty/));
  });

  it('a hook that does not tail-call the IPv4 slot fails, naming the slots it does call', async () => {
    const { ev } = await recordedClosure();
    const c = clone(ev.data);
    c.programs.find((p) => p.id === 583)!.tailCalls[0]!.index = 6;
    assert.throws(() => expectHelperOnPath(c, 'bpf_redirect'), failsWith(/tail-calls slot 6, not the IPv4 slot 7/));
  });

  it('the redirect family stands for bpf_redirect; another helper is matched exactly', async () => {
    const { ev } = await recordedClosure();
    const c = clone(ev.data);
    for (const s of c.programs.find((p) => p.id === 563)!.callSites)
      if (s.helper === 'bpf_redirect') s.helper = 'bpf_redirect_peer';
    assert.equal(expectHelperOnPath(c, 'bpf_redirect')[0]!.helper, 'bpf_redirect_peer');
    assert.throws(() => expectHelperOnPath(c, 'bpf_redirect_neigh'), AssertionError);
    assert.equal(expectHelperOnPath(c, 'bpf_redirect_peer').length, 1);
  });

  it('no program at the hook fails; an empty dump or an unread program is inconclusive', async () => {
    const { ev } = await recordedClosure();
    assert.throws(
      () => expectHelperOnPath({ ...clone(ev.data), hook: null }, 'bpf_redirect'),
      failsWith(/bpftool lists no program there/),
    );
    const empty = clone(ev.data);
    empty.programs.find((p) => p.id === 583)!.instructions = 0;
    assert.throws(() => expectHelperOnPath(empty, 'bpf_redirect'), InconclusiveError);
    const unread = clone(ev.data);
    unread.programs = unread.programs.filter((p) => p.id !== 562);
    assert.throws(
      () => expectHelperOnPath(unread, 'bpf_redirect'),
      (e: unknown) => e instanceof InconclusiveError && /program 562/.test((e as Error).message),
    );
  });

  it('no known destination: the run-time slot of the policy array cannot be followed, and the check says so', async () => {
    const { ev } = await recordedClosure([]);
    assert.throws(() => expectHelperOnPath(ev, 'bpf_redirect'), failsWith(/no destination endpoint is known/));
  });
});
