/**
 * bpftool outputs a tail-call walk needs: both `net show` attachment styles (real fixtures),
 * `prog show`, `map show`/`map list`, `map dump` of program arrays and the tail calls of
 * `prog dump xlated` — on real samples (../shared/fixtures/real-world) and on the lab's own
 * output (test/fixtures/lab-bpftool, produced by the lab; see its README).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  parseBpftoolMapDump,
  parseBpftoolMapShow,
  parseBpftoolNet,
  parseBpftoolProgShow,
  parseBpftoolXlated,
  programArraySlots,
} from '../../../support/parsers/bpftool.ts';
import { CILIUM_CALL, IPV4_HOOK_SLOTS, programArrayRole } from '../../../support/parsers/cilium-programs.ts';
import { readRecorded } from '../helpers/bpftool-replay.ts';
import { REAL_WORLD_DIR } from '../helpers/real-world.ts';

const REAL = REAL_WORLD_DIR;
const real = (f: string) => readFileSync(`${REAL}/${f}`, 'utf8');
const LAB = 'test/fixtures/lab-bpftool';
const lab = (f: string) => readFileSync(`${LAB}/${f}`, 'utf8');
/** Lines of a real sample that are the tool's output (no author comments, no prompts). */
const toolLines = (text: string, keep: RegExp) =>
  text
    .split('\n')
    .filter((l) => keep.test(l))
    .join('\n');

describe('bpftool net show: both attachment styles', () => {
  it('tcx (Cilium 1.17.5, kernel 6.8): hook programs with prog_id and link_id', () => {
    const r = parseBpftoolNet(
      toolLines(
        real('bpftool-net-show-prog-show-tcx-1.17.5-native-endpointroutes-idx7258039410.txt'),
        /^(xdp:|tc:|\w+\(\d+\) )/,
      ),
    );
    const lxc = r.attachments.filter((a) => a.interface === 'lxc016a899bb2f4');
    // The sample lists the lxc twice (full listing, then grep): both read the same.
    assert.deepEqual(
      [...new Set(lxc.map((a) => JSON.stringify([a.hook, a.direction, a.program, a.id, a.linkId])))],
      [
        JSON.stringify(['tcx', 'ingress', 'cil_from_container', 1998, 30]),
        JSON.stringify(['tcx', 'egress', 'cil_to_container', 2003, 31]),
      ],
    );
    const host = r.attachments.filter((a) => a.interface === 'cilium_host').map((a) => [a.direction, a.program]);
    assert.deepEqual(host, [
      ['ingress', 'cil_to_host'],
      ['egress', 'cil_from_host'],
    ]);
    assert.deepEqual(r.unknownLines, []);
  });

  it('tcx with VXLAN: an lxc with only its ingress hook', () => {
    const r = parseBpftoolNet(
      real('bpftool-net-show-tcx-vxlan-no-lxc-egress-idx57918766907.txt').replace(/^›.*\n/m, ''),
    );
    const lxc = r.attachments.filter((a) => a.interface?.startsWith('lxc4'));
    assert.deepEqual(
      lxc.map((a) => [a.interface, a.hook, a.direction, a.program, a.id, a.linkId]),
      [['lxc40936866317e', 'tcx', 'ingress', 'cil_from_container', 2503, 63]],
    );
    assert.ok(r.attachments.some((a) => a.interface === 'cilium_vxlan' && a.program === 'cil_from_overlay'));
  });

  it('clsact, old object:[section] names (Cilium 1.9)', () => {
    const r = parseBpftoolNet(
      real('bpftool-net-show-legacy-clsact-cilium-1.9-pr14895.txt').replace(/^bpftool.*\n/m, ''),
    );
    const a = r.attachments.find((x) => x.interface === 'lxc2686a607b303' && x.direction === 'ingress')!;
    assert.deepEqual(
      [a.hook, a.object, a.section, a.id, a.linkId],
      ['tc', 'bpf_lxc.o:[from-container]', 'from-container', 250, null],
    );
  });

  it('clsact as the lab attaches it: a pinned program, `cil_from_container:[*fsobj]`', () => {
    const net = readRecorded(`${LAB}/tail-calls-same-node.txt`).get('bpftool net show')!;
    const r = parseBpftoolNet(net);
    assert.deepEqual(r.unknownLines, []);
    const ingress = r.attachments.find((a) => a.interface === 'lxc1878d68cf0fd' && a.direction === 'ingress')!;
    assert.deepEqual(
      [ingress.hook, ingress.program, ingress.section, ingress.id, ingress.linkId],
      ['tc', 'cil_from_container', '*fsobj', 583, null],
    );
    assert.deepEqual(
      r.attachments.map((a) => a.program),
      ['cil_from_container', 'cil_to_container', 'cil_from_container', 'cil_to_container'],
    );
  });
});

describe('bpftool prog show and map show', () => {
  it('real: the hook program names its program array among its map_ids; map list names cilium_calls_00', () => {
    const text = real('bpftool-net-show-prog-show-tcx-1.17.5-native-endpointroutes-idx7258039410.txt');
    const progs = parseBpftoolProgShow(toolLines(text, /^(\d+: sched_cls|\t)/)).programs;
    assert.deepEqual(
      progs.map((p) => [p.id, p.name, p.mapIds]),
      [
        [1998, 'cil_from_container', [312, 313, 35]],
        [2003, 'cil_to_container', [312, 35, 313]],
      ],
    );
    const maps = parseBpftoolMapShow(text.slice(text.indexOf('c0bpf map list'))).maps;
    const calls = maps.find((m) => m.id === 313)!;
    assert.deepEqual(
      [calls.type, calls.name, calls.keyBytes, calls.valueBytes, calls.maxEntries, calls.ownerProgType],
      ['prog_array', 'cilium_calls_00', 4, 4, 50, 'sched_cls'],
    );
    assert.equal(programArrayRole(calls.name), 'endpoint-calls');
    assert.deepEqual(
      maps.map((m) => [m.id, m.type, m.name]),
      [
        [35, 'percpu_hash', 'cilium_metrics'],
        [312, 'array', '.rodata.config'],
        [313, 'prog_array', 'cilium_calls_00'],
      ],
    );
    assert.equal(maps[1]!.btfId, 662);
  });

  it('lab: map list (text) and map show -j; prog show -f lists the pins', () => {
    const maps = parseBpftoolMapShow(lab('map-list.txt'));
    assert.deepEqual(maps.unknownLines, []);
    assert.deepEqual(
      maps.maps.filter((m) => m.type === 'prog_array').map((m) => [m.name, programArrayRole(m.name), m.maxEntries]),
      [
        ['cilium_call_pol', 'policy', 65536],
        ['cilium_calls_01', 'endpoint-calls', 48],
      ],
    );
    const one = parseBpftoolMapShow(lab('map-show-calls.json')).maps[0]!;
    assert.deepEqual(
      [one.type, one.name, one.maxEntries, one.ownerProgType],
      ['prog_array', 'cilium_calls_01', 48, 'sched_cls'],
    );
    const progs = parseBpftoolProgShow(lab('prog-list.txt'));
    assert.deepEqual(progs.unknownLines, []);
    assert.deepEqual(
      progs.programs.map((p) => p.pinned[0]?.replace(/^.*\/progs\//, '')),
      [
        '01573/cil_from_container',
        '01573/tail_handle_ipv4',
        '01573/cil_lxc_policy',
        '01573/tail_ipv4_policy',
        '01573/cil_to_container',
        '01573/tail_ipv4_to_endpoint',
      ],
    );
    assert.match(
      parseBpftoolProgShow(lab('prog-show-cil_from_container.json')).programs[0]!.pinned[0]!,
      /01573\/cil_from_container$/,
    );
  });

  it('programArrayRole tells the per-endpoint arrays from the node policy array', () => {
    assert.deepEqual(
      [
        'cilium_calls_00',
        'cilium_calls_01',
        'cilium_calls',
        'cilium_call_pol',
        'cilium_calls_hostns',
        'cilium_metrics',
        null,
      ].map(programArrayRole),
      ['endpoint-calls', 'endpoint-calls', 'endpoint-calls', 'policy', 'other', 'other', 'other'],
    );
  });
});

describe('bpftool map dump of a program array', () => {
  it('text: one line per filled slot, "Found N elements"; slots are little-endian u32', () => {
    const out = readRecorded(`${LAB}/tail-calls-same-node.txt`);
    const calls = parseBpftoolMapDump(out.get('bpftool map dump id 394')!);
    assert.equal(calls.found, 3);
    assert.deepEqual(
      [...programArraySlots(calls)],
      [
        [7, 584],
        [11, 586],
        [13, 588],
      ],
    );
    // A lookup prints the slot's line as a dump does; an absent slot is bpftool's "Not found".
    const policy = programArraySlots(parseBpftoolMapDump(out.get('bpftool map lookup id 391 key hex df 0c 00 00')!));
    assert.deepEqual([...policy], [[3295, 562]]);
    const absent = readRecorded(`${LAB}/tail-calls-no-local-redirect.txt`).get(
      'bpftool map lookup id 732 key hex df 0c 00 00',
    )!;
    assert.match(absent, /^key:\ndf 0c 00 00\n\nNot found\n$/);
    assert.deepEqual([...programArraySlots(parseBpftoolMapDump(absent))], []);
  });
  it('-j, and the long-key text form (key: and value: on their own lines)', () => {
    assert.deepEqual(
      [...programArraySlots(parseBpftoolMapDump(lab('map-dump-calls.json')))].map(([s]) => s),
      [7, 11, 13],
    );
    assert.deepEqual([...programArraySlots(parseBpftoolMapDump(lab('map-dump-policy.json')))], [[1573, 46]]);
    const long = parseBpftoolMapDump(
      'key:\n0a f4 00 14 00 00 00 00 00 00 00 00 00 00 00 00\n01 00 00 00\nvalue:\n05 00 00 00\nkey: 01 00 00 00  value: <no entry>\nFound 1 element\n',
    );
    assert.deepEqual(long.entries[0]!.key.length, 20);
    assert.deepEqual(long.entries[0]!.value, [5, 0, 0, 0]);
    assert.deepEqual([long.entries.length, long.found, long.unknownLines], [1, 1, []]);
  });
});

describe('bpftool prog dump xlated: tail calls', () => {
  const out = readRecorded(`${LAB}/tail-calls-same-node.txt`);
  it('the lab hook program: one tail call, constant slot 7 of its cilium_calls, no redirect', () => {
    const x = parseBpftoolXlated(out.get('bpftool prog dump xlated id 583')!);
    assert.deepEqual(x.tailCalls, [{ insn: 14, mapId: 394, index: CILIUM_CALL.IPV4_FROM_LXC }]);
    assert.deepEqual(x.mapIds, [394]);
    assert.ok(!x.calls.includes('bpf_redirect'));
    assert.deepEqual(IPV4_HOOK_SLOTS.ingress, [7]);
  });
  it('tail_handle_ipv4: tail calls into cilium_call_policy at a slot computed at run time', () => {
    const x = parseBpftoolXlated(out.get('bpftool prog dump xlated id 584')!);
    assert.deepEqual(
      x.tailCalls.map((t) => [t.mapId, t.index]),
      [
        [391, null],
        [391, null],
      ],
    );
    assert.deepEqual(parseBpftoolXlated(out.get('bpftool prog dump xlated id 562')!).tailCalls, [
      { insn: 3, mapId: 392, index: CILIUM_CALL.IPV4_TO_LXC_POLICY_ONLY },
    ]);
    const deliver = parseBpftoolXlated(out.get('bpftool prog dump xlated id 563')!);
    assert.deepEqual(deliver.tailCalls, []);
    assert.deepEqual(
      deliver.callSites.filter((c) => c.helper === 'bpf_redirect').map((c) => c.insn),
      [330],
    );
  });
  it('-j: instruction indexes counted (a 64-bit load takes two), same tail calls as the text', () => {
    const x = parseBpftoolXlated(lab('xlated-cil_from_container.json'));
    assert.deepEqual(
      x.tailCalls.map((t) => [t.index, t.mapId]),
      [[7, 15]],
    );
    const text = parseBpftoolXlated(out.get('bpftool prog dump xlated id 583')!);
    assert.equal(x.tailCalls[0]!.insn, text.tailCalls[0]!.insn);
    assert.equal(x.instructions, text.instructions);
    const big = parseBpftoolXlated(lab('xlated-tail_handle_ipv4.json'));
    assert.deepEqual(
      big.tailCalls.map((t) => [t.mapId, t.index]),
      [
        [14, null],
        [14, null],
      ],
    );
    assert.ok(big.calls.includes('bpf_tail_call') && !big.calls.includes('bpf_redirect'));
  });
  it('a jump target between the argument and the call makes the slot unknown; (u32) moves are read', () => {
    const x = parseBpftoolXlated(
      [
        '   0: (18) r2 = map[id:9]',
        '   2: (b7) r3 = 5',
        '   3: (05) goto pc+1',
        '   4: (b7) r3 = 6',
        '   5: (85) call bpf_tail_call#12',
        '   6: (18) r2 = map[id:9]',
        '   8: (b4) (u32) r3 = (u32) 7',
        '   9: (85) call bpf_tail_call#12',
      ].join('\n'),
    );
    assert.deepEqual(
      x.tailCalls.map((t) => [t.mapId, t.index]),
      [
        [null, null],
        [9, 7],
      ],
    );
  });
  it('real samples: map loads are listed; helper names in verifier logs', () => {
    const generic = parseBpftoolXlated(real('bpftool-prog-dump-xlated-generic-socketfilter-format-idx21415374477.txt'));
    assert.deepEqual([generic.mapIds, generic.tailCalls], [[5], []]);
    const log = parseBpftoolXlated(
      real('cilium-verifier-log-call-bpf_redirect-insn-format-idx22275592747-partial.txt'),
    );
    assert.ok(log.calls.includes('bpf_redirect'));
  });
});
