/**
 * bpftool output read whole: every field of attachments, programs and maps compared at once, for
 * the real `net show` of Cilium 1.9 (clsact, object:[section] names) and 1.17.5 (tcx, prog_id and
 * link_id), the real `prog show` / `map list` of the same node, and the `-j` and older shapes
 * (xdp modes, tc filter lines, `-<ifname>` suffixed names, pin paths, map-list lines in a
 * prog listing).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type BpfAttachment,
  type BpfMap,
  type BpfProgram,
  parseBpftoolMapDump,
  parseBpftoolMapShow,
  parseBpftoolNet,
  parseBpftoolProgShow,
  parseBpftoolXlated,
  programArraySlots,
} from '../../../support/parsers/bpftool.ts';
import { realWorld } from '../helpers/real-world.ts';

function att(a: Partial<BpfAttachment> & Pick<BpfAttachment, 'hook' | 'program' | 'raw'>): BpfAttachment {
  return {
    interface: null,
    ifindex: null,
    direction: null,
    object: null,
    section: null,
    id: null,
    linkId: null,
    mode: null,
    ...a,
  };
}

describe('bpftool net show read whole', () => {
  it('Cilium 1.9 clsact: object:[section] names, ids (real-world)', (t) => {
    const text = realWorld(t, 'bpftool-net-show-legacy-clsact-cilium-1.9-pr14895.txt');
    if (text === null) return;
    const lines = text.split('\n');
    const d = parseBpftoolNet(lines.slice(0, 8).join('\n'));
    assert.deepEqual(d, {
      attachments: [
        att({
          interface: 'eth0',
          ifindex: 2,
          hook: 'tc',
          direction: 'ingress',
          program: 'bpf_network.o',
          object: 'bpf_network.o:[from-network]',
          section: 'from-network',
          id: 221,
          raw: lines[4]!,
        }),
        att({
          interface: 'cilium_net',
          ifindex: 4,
          hook: 'tc',
          direction: 'ingress',
          program: 'bpf_host_cilium_net.o',
          object: 'bpf_host_cilium_net.o:[to-host]',
          section: 'to-host',
          id: 230,
          raw: lines[5]!,
        }),
        att({
          interface: 'cilium_host',
          ifindex: 5,
          hook: 'tc',
          direction: 'ingress',
          program: 'bpf_host.o',
          object: 'bpf_host.o:[to-host]',
          section: 'to-host',
          id: 222,
          raw: lines[6]!,
        }),
        att({
          interface: 'cilium_host',
          ifindex: 5,
          hook: 'tc',
          direction: 'egress',
          program: 'bpf_host.o',
          object: 'bpf_host.o:[from-host]',
          section: 'from-host',
          id: 226,
          raw: lines[7]!,
        }),
      ],
      unknownLines: [{ line: 1, text: 'bpftool net show' }],
    });
  });

  it('Cilium 1.17.5 tcx: prog_id and link_id; then prog show and map list of the same node (real-world)', (t) => {
    const text = realWorld(t, 'bpftool-net-show-prog-show-tcx-1.17.5-native-endpointroutes-idx7258039410.txt');
    if (text === null) return;
    const lines = text.split('\n');
    const start = lines.indexOf('tc:');
    const net = parseBpftoolNet(lines.slice(start - 1, start + 3).join('\n'));
    assert.deepEqual(net.attachments, [
      att({
        interface: 'eth0',
        ifindex: 2,
        hook: 'tcx',
        direction: 'ingress',
        program: 'cil_from_netdev',
        id: 1975,
        linkId: 16,
        raw: lines[start + 1]!,
      }),
      att({
        interface: 'eth0',
        ifindex: 2,
        hook: 'tcx',
        direction: 'egress',
        program: 'cil_to_netdev',
        id: 1973,
        linkId: 17,
        raw: lines[start + 2]!,
      }),
    ]);
    const p = lines.findIndex((l) => l.startsWith('1998: sched_cls'));
    const prog = parseBpftoolProgShow(lines.slice(p, p + 4).join('\n'));
    assert.deepEqual(prog, {
      programs: [
        {
          id: 1998,
          type: 'sched_cls',
          name: 'cil_from_container',
          tag: '41989045bb171bee',
          gpl: true,
          loadedAt: '2025-07-19T16:42:31+0000',
          uid: 0,
          xlatedBytes: 752,
          jitedBytes: 784,
          memlockBytes: 4096,
          mapIds: [312, 313, 35],
          btfId: 667,
          pinned: [],
        },
      ],
      unknownLines: [],
    });
    const m = lines.findIndex((l) => l.startsWith('35: percpu_hash'));
    const maps = parseBpftoolMapShow(lines.slice(m - 1, m + 2).join('\n'));
    const metrics: BpfMap = {
      id: 35,
      type: 'percpu_hash',
      name: 'cilium_metrics',
      flags: 1,
      keyBytes: 8,
      valueBytes: 16,
      maxEntries: 1024,
      memlockBytes: 19024,
      btfId: null,
      ownerProgType: null,
    };
    assert.deepEqual(maps, { maps: [metrics], unknownLines: [] });
    // The same map line in a prog listing is not a program.
    assert.deepEqual(parseBpftoolProgShow(lines.slice(m, m + 2).join('\n')), {
      programs: [],
      unknownLines: [
        { line: 1, text: lines[m] },
        { line: 2, text: lines[m + 1] },
      ],
    });
  });

  it('text shapes: xdp modes, netkit, a `-<ifname>` suffix, tc filter lines and headers, lines outside a section', () => {
    const lines = [
      'eth9(9) clsact/ingress orphan id 1',
      'xdp:',
      'eth0(2) driver id 123',
      'eth1(3) generic cil_xdp_entry prog_id 12',
      'tc:',
      'lxc1(5) ingress from-container-lxc1 id 7',
      'lxc1(5) egress bpf_lxc.o:[to-container id 8',
      'lxc1(5) clsact/other x id y',
      'filter protocol all pref 1 bpf chain 0',
      'filter protocol all pref 1 bpf chain 0 handle 0x1 bpf_lxc.o:[from-container] direct-action not_in_hw id 42 tag abc',
      'netkit:',
      'nk0(6) netkit/primary cil_netkit id 9',
      'flow_dissector:',
      'lo(1) flow_dissector fd id 3',
      'junk',
    ];
    const d = parseBpftoolNet(`${lines.join('\r\n')}\r\n`);
    assert.deepEqual(d.attachments, [
      att({ interface: 'eth0', ifindex: 2, hook: 'xdp', program: '', id: 123, mode: 'driver', raw: lines[2]! }),
      att({
        interface: 'eth1',
        ifindex: 3,
        hook: 'xdp',
        program: 'cil_xdp_entry',
        id: 12,
        mode: 'generic',
        raw: lines[3]!,
      }),
      att({
        interface: 'lxc1',
        ifindex: 5,
        hook: 'tc',
        direction: 'ingress',
        program: 'from-container',
        id: 7,
        raw: lines[5]!,
      }),
      att({
        interface: 'lxc1',
        ifindex: 5,
        hook: 'tc',
        direction: 'egress',
        program: 'bpf_lxc.o:[to-container',
        id: 8,
        raw: lines[6]!,
      }),
      att({ interface: 'lxc1', ifindex: 5, hook: 'tc', program: 'x', raw: lines[7]! }),
      att({
        hook: 'tc',
        program: 'bpf_lxc.o',
        object: 'bpf_lxc.o:[from-container]',
        section: 'from-container',
        id: 42,
        raw: lines[9]!,
      }),
      att({ interface: 'nk0', ifindex: 6, hook: 'other', program: 'cil_netkit', id: 9, raw: lines[11]! }),
      att({ interface: 'lo', ifindex: 1, hook: 'flow_dissector', program: 'fd', id: 3, raw: lines[13]! }),
    ]);
    assert.deepEqual(d.unknownLines, [
      { line: 1, text: lines[0] },
      { line: 15, text: lines[14] },
    ]);
  });

  it('-j: sections, devname, kind, prog_id or id, link_id, mode, tc names with the ifname suffix', () => {
    const json = [
      {
        xdp: [{ devname: 'eth0', ifindex: 2, mode: 'driver', id: 123 }],
        tc: [
          { devname: 'lxc1', ifindex: 5, kind: 'tcx/ingress', name: 'cil_from_container', prog_id: 7, link_id: 3 },
          { devname: 'lxc1', ifindex: 5, kind: 'clsact/egress', name: 'cil_to_container-lxc1', id: 8 },
          { devname: 'lxc1', kind: 'clsact/egress', name: 'bpf_lxc.o:[to-container]', prog_id: 'x' },
        ],
        flow_dissector: [{ id: 3 }],
        netfilter: [{ name: 'nf', prog_id: 4 }],
        notes: 'not a list',
      },
      null,
    ];
    const d = parseBpftoolNet(JSON.stringify(json));
    const raw = (e: unknown) => JSON.stringify(e);
    assert.deepEqual(d, {
      attachments: [
        att({
          interface: 'eth0',
          ifindex: 2,
          hook: 'xdp',
          program: '',
          id: 123,
          mode: 'driver',
          raw: raw(json[0]!.xdp[0]),
        }),
        att({
          interface: 'lxc1',
          ifindex: 5,
          hook: 'tcx',
          direction: 'ingress',
          program: 'cil_from_container',
          id: 7,
          linkId: 3,
          raw: raw(json[0]!.tc[0]),
        }),
        att({
          interface: 'lxc1',
          ifindex: 5,
          hook: 'tc',
          direction: 'egress',
          program: 'cil_to_container',
          id: 8,
          raw: raw(json[0]!.tc[1]),
        }),
        att({
          interface: 'lxc1',
          hook: 'tc',
          direction: 'egress',
          program: 'bpf_lxc.o',
          object: 'bpf_lxc.o:[to-container]',
          section: 'to-container',
          raw: raw(json[0]!.tc[2]),
        }),
        att({ hook: 'flow_dissector', program: '', id: 3, raw: raw(json[0]!.flow_dissector[0]) }),
        att({ hook: 'netfilter', program: 'nf', id: 4, raw: raw(json[0]!.netfilter[0]) }),
      ],
      unknownLines: [],
    });
    // A single object (not a list) reads the same; broken JSON falls back to the text reader.
    assert.deepEqual(parseBpftoolNet(JSON.stringify(json[0])).attachments, d.attachments);
    assert.deepEqual(parseBpftoolNet('[{"tc": [').unknownLines, [{ line: 1, text: '[{"tc": [' }]);
  });
});

describe('bpftool prog show / map show read whole', () => {
  it('prog show text: pin paths, no tag, no gpl, a continuation without a program, -j with every field', () => {
    const text = [
      '    orphan continuation',
      '42: xdp  name x  tag ab12',
      '\tloaded_at 2025-07-19T16:42:31+0000  uid 0',
      '\tpinned /sys/fs/bpf/tc/globals/x',
      '\tpinned /sys/fs/bpf/y',
      '43: sched_cls  gpl',
      '\tmap_ids 5',
      'garbage',
    ].join('\n');
    const base: Omit<BpfProgram, 'id' | 'type'> = {
      name: null,
      tag: null,
      gpl: false,
      loadedAt: null,
      uid: null,
      xlatedBytes: null,
      jitedBytes: null,
      memlockBytes: null,
      mapIds: [],
      btfId: null,
      pinned: [],
    };
    assert.deepEqual(parseBpftoolProgShow(text), {
      programs: [
        {
          ...base,
          id: 42,
          type: 'xdp',
          name: 'x',
          tag: 'ab12',
          loadedAt: '2025-07-19T16:42:31+0000',
          uid: 0,
          pinned: ['/sys/fs/bpf/tc/globals/x', '/sys/fs/bpf/y'],
        },
        { ...base, id: 43, type: 'sched_cls', gpl: true, mapIds: [5] },
      ],
      unknownLines: [
        { line: 1, text: '    orphan continuation' },
        { line: 8, text: 'garbage' },
      ],
    });
    const json = {
      id: 7,
      type: 'sched_cls',
      name: 'cil_from_container',
      tag: 'ab',
      gpl_compatible: true,
      loaded_at: 1700000000,
      uid: 0,
      bytes_xlated: 752,
      bytes_jited: 784,
      bytes_memlock: 4096,
      map_ids: [312, 35],
      btf_id: 667,
      pinned: ['/sys/fs/bpf/p'],
    };
    assert.deepEqual(parseBpftoolProgShow(JSON.stringify([json, { id: 8 }])).programs, [
      {
        id: 7,
        type: 'sched_cls',
        name: 'cil_from_container',
        tag: 'ab',
        gpl: true,
        loadedAt: '1700000000',
        uid: 0,
        xlatedBytes: 752,
        jitedBytes: 784,
        memlockBytes: 4096,
        mapIds: [312, 35],
        btfId: 667,
        pinned: ['/sys/fs/bpf/p'],
      },
      { ...base, id: 8, type: '' },
    ]);
  });

  it('map show text and -j: a program array with its owner type, comments skipped, a prog line is not a map', () => {
    const text = [
      '# the program arrays',
      '313: prog_array  name cilium_calls_01  flags 0x0',
      '\tkey 4B  value 4B  max_entries 33  memlock 560B',
      '\towner_prog_type sched_cls  owner jited',
      '\tbtf_id 12',
      '1998: sched_cls  name cil_from_container  tag 41989045bb171bee  gpl flags 0x0',
      '\tkey 9B',
    ].join('\n');
    const calls: BpfMap = {
      id: 313,
      type: 'prog_array',
      name: 'cilium_calls_01',
      flags: 0,
      keyBytes: 4,
      valueBytes: 4,
      maxEntries: 33,
      memlockBytes: 560,
      btfId: 12,
      ownerProgType: 'sched_cls',
    };
    assert.deepEqual(parseBpftoolMapShow(text), {
      maps: [calls],
      unknownLines: [
        { line: 6, text: '1998: sched_cls  name cil_from_container  tag 41989045bb171bee  gpl flags 0x0' },
        { line: 7, text: '\tkey 9B' },
      ],
    });
    const json = {
      id: 313,
      type: 'prog_array',
      name: 'cilium_calls_01',
      flags: 0,
      bytes_key: 4,
      bytes_value: 4,
      max_entries: 33,
      bytes_memlock: 560,
      btf_id: 12,
      owner_prog_type: 'sched_cls',
    };
    assert.deepEqual(parseBpftoolMapShow(JSON.stringify(json)), { maps: [calls], unknownLines: [] });
    assert.deepEqual(parseBpftoolMapShow(JSON.stringify([{ id: 1 }])).maps, [
      {
        id: 1,
        type: '',
        name: null,
        flags: null,
        keyBytes: null,
        valueBytes: null,
        maxEntries: null,
        memlockBytes: null,
        btfId: null,
        ownerProgType: null,
      },
    ]);
  });
});

describe('bpftool prog dump xlated read whole', () => {
  it('text: helper and tail calls, the array and slot of each tail call, where a jump or a call cuts the scan', () => {
    const lines = [
      'int cil_from_container(struct __ctx_buff * ctx):',
      '; return bpf_redirect(ep->ifindex, 0);',
      '   0: (bf) r6 = r1',
      '   1: (18) r2 = map[id:313]',
      '   3: (b7) r3 = 7',
      '   4: (85) call bpf_tail_call#12',
      '   5: (15) if r0 == 0x0 goto pc+3',
      '   6: (18) r2 = map[id:314]',
      '   8: (bf) r3 = r7',
      '   9: (85) call bpf_tail_call#12',
      '  10: (85) call pc+5',
      '  11: (85) call bpf_redirect#23 // to the peer',
      '  12: (b4) w3 = 11',
      '  13: (85) call bpf_tail_call#12',
      '  14: (95) exit',
      '...',
      'garbage',
    ];
    assert.deepEqual(parseBpftoolXlated(lines.join('\r\n')), {
      calls: ['bpf_tail_call', 'bpf_redirect'],
      callSites: [
        { insn: 4, helper: 'bpf_tail_call' },
        { insn: 9, helper: 'bpf_tail_call' },
        { insn: 11, helper: 'bpf_redirect' },
        { insn: 13, helper: 'bpf_tail_call' },
      ],
      tailCalls: [
        { insn: 4, mapId: 313, index: 7 },
        { insn: 9, mapId: null, index: null },
        { insn: 13, mapId: null, index: 11 },
      ],
      mapIds: [313, 314],
      instructions: 13,
      withheldCalls: [],
      unknownLines: [{ line: 17, text: 'garbage' }],
    });
  });

  it('older (u32) moves, hex slots, a computed slot, a map not in r2', () => {
    const d = parseBpftoolXlated(
      [
        ' 0: (18) r2 = map[id:5]',
        ' 2: (b4) (u32) r3 = (u32) 0x1f',
        ' 3: (85) call bpf_tail_call#12',
        ' 4: (18) r1 = map[id:6]',
        ' 6: (07) r3 += 1',
        ' 7: (bf) r2 = r9',
        ' 8: (85) call bpf_tail_call#12',
        ' 9: (85) call unknown#195896080',
      ].join('\n'),
    );
    assert.deepEqual(
      [d.tailCalls, d.mapIds, d.calls],
      [
        [
          { insn: 3, mapId: 5, index: 31 },
          { insn: 8, mapId: null, index: null },
        ],
        [5, 6],
        ['bpf_tail_call', 'unknown'],
      ],
    );
  });

  it('-j: instruction indexes counted (a 64-bit load takes two), a call without opcode, entries without disasm', () => {
    const json = [
      { disasm: '(18) r2 = map[id:5]' },
      { disasm: '(b7) r3 = 2' },
      { disasm: '(85) call bpf_tail_call#12' },
      { disasm: 'call bpf_redirect#23' },
      { nodisasm: 1 },
      { disasm: '(95) exit' },
    ];
    assert.deepEqual(parseBpftoolXlated(JSON.stringify(json)), {
      calls: ['bpf_tail_call', 'bpf_redirect'],
      callSites: [
        { insn: 3, helper: 'bpf_tail_call' },
        { insn: null, helper: 'bpf_redirect' },
      ],
      tailCalls: [{ insn: 3, mapId: 5, index: 2 }],
      mapIds: [5],
      instructions: 5,
      withheldCalls: [],
      unknownLines: [],
    });
    assert.equal(parseBpftoolXlated('[not json').unknownLines.length, 1);
  });
});

describe('bpftool map dump read whole', () => {
  it('one-line and multi-line entries, empty slots, the element count, stray lines; the slots of a program array', () => {
    const lines = [
      'key: 07 00 00 00  value: 0f 00 00 00',
      'key: 0b 00 00 00  value: <no entry>',
      'key: zz  value: 01',
      'key:',
      '00 01 00 00',
      'value:',
      '0x02 0x03',
      '04 00',
      'Found 3 elements',
      'stray',
    ];
    const d = parseBpftoolMapDump(lines.join('\r\n'));
    assert.deepEqual(d, {
      entries: [
        { key: [7, 0, 0, 0], value: [15, 0, 0, 0] },
        { key: [0, 1, 0, 0], value: [2, 3, 4, 0] },
      ],
      found: 3,
      unknownLines: [
        { line: 3, text: 'key: zz  value: 01' },
        { line: 10, text: 'stray' },
      ],
    });
    assert.deepEqual(
      [...programArraySlots(d)],
      [
        [7, 15],
        [256, 262914],
      ],
    );
    assert.deepEqual(parseBpftoolMapDump('key:\n01\nFound 1 element\n'), { entries: [], found: 1, unknownLines: [] });
  });

  it('-j: byte lists in 0x or bare hex; entries without a value are left out; slots need 4-byte keys', () => {
    const d = parseBpftoolMapDump(
      JSON.stringify([
        { key: ['0x07', '0x00', '0x00', '0x00'], value: ['0x0F', '0', '0', '0'] },
        { key: ['0x01'] },
        { key: ['0x02', '0x00'], value: ['0x01', '0x00', '0x00', '0x80'] },
      ]),
    );
    assert.deepEqual(d, {
      entries: [
        { key: [7, 0, 0, 0], value: [15, 0, 0, 0] },
        { key: [2, 0], value: [1, 0, 0, 128] },
      ],
      found: null,
      unknownLines: [],
    });
    assert.deepEqual([...programArraySlots(d)], [[7, 15]]);
  });
});
