/**
 * bpftool edge shapes, one behaviour per test: how each reader tells JSON from text, what is an
 * attachment, program, map or entry line and what is not, the shapes of real tc, xlated and map
 * dump output the whole-output tests do not show (tc qdisc kinds, multi-digit prefs and counts,
 * keys longer than eight bytes, error values), and how a tail call's r2/r3 are found.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseBpftoolMapDump,
  parseBpftoolMapShow,
  parseBpftoolNet,
  parseBpftoolProgShow,
  parseBpftoolXlated,
  u32le,
} from '../../../support/parsers/bpftool.ts';
import { realWorld } from '../helpers/real-world.ts';

const TCX_NODE = 'bpftool-net-show-prog-show-tcx-1.17.5-native-endpointroutes-idx7258039410.txt';

/** What `bpftool -j` prints when a command fails (common.c `p_err`). */
const JSON_ERROR = '{"error":"can\'t get prog by id (4242): No such file or directory"}';

describe('bpftool net show: edges', () => {
  it('a tc program without a name: bpftool prints none, so the program is empty, not the next word', () => {
    // net.c prints the name only when the program has one; the id follows the kind directly.
    const d = parseBpftoolNet('tc:\neth0(2) tcx/ingress prog_id 5 link_id 6\neth0(2) clsact/egress id 7\n');
    assert.deepEqual(
      d.attachments.map((a) => [a.hook, a.direction, a.program, a.id]),
      [
        ['tcx', 'ingress', '', 5],
        ['tc', 'egress', '', 7],
      ],
    );
  });

  it('tc section: every qdisc kind is a tc hook, not only clsact (root, a classful qdisc)', () => {
    // show_dev_tc_bpf_classic lists filters under each qdisc/class kind and under "root".
    const d = parseBpftoolNet('tc:\neth0(2) root cls_main id 5\neth0(2) htb shaper id 6\n');
    assert.deepEqual(
      d.attachments.map((a) => [a.hook, a.direction, a.program, a.id]),
      [
        ['tc', null, 'cls_main', 5],
        ['tc', null, 'shaper', 6],
      ],
    );
    assert.deepEqual(d.unknownLines, []);
  });

  it('columns separated by several blanks read as with one', () => {
    const d = parseBpftoolNet(
      [
        'tc:',
        'eth0(2)  clsact/ingress  cil_from_netdev  id  42',
        'filter protocol all pref 1 bpf chain 0 handle 0x1 cil_from_container  direct-action not_in_hw id 43',
      ].join('\n'),
    );
    assert.deepEqual(
      d.attachments.map((a) => [a.interface, a.hook, a.direction, a.program, a.id]),
      [
        ['eth0', 'tc', 'ingress', 'cil_from_netdev', 42],
        [null, 'tc', null, 'cil_from_container', 43],
      ],
    );
    assert.deepEqual(d.unknownLines, []);
  });

  it('-j after leading blank lines is still JSON; `null` (bpftool -j help, some errors) is no empty listing', () => {
    const json = JSON.stringify([
      { tc: [{ devname: 'eth0', ifindex: 2, kind: 'tcx/ingress', name: 'x', prog_id: 7 }] },
    ]);
    const d = parseBpftoolNet(`\n  \n${json}\n`);
    assert.deepEqual(
      d.attachments.map((a) => [a.interface, a.hook, a.id]),
      [['eth0', 'tcx', 7]],
    );
    assert.deepEqual(d.unknownLines, []);
    assert.deepEqual(parseBpftoolNet('null\n'), { attachments: [], unknownLines: [{ line: 1, text: 'null' }] });
  });

  it('an attachment, tc filter or tc header line must start the line (a quoted or prefixed copy is unknown)', () => {
    const lines = [
      'tc:',
      '> eth0(2) clsact/ingress x id 1',
      '> filter protocol all pref 1 bpf chain 0 handle 0x1 y direct-action not_in_hw id 3',
      '> filter protocol all pref 1 bpf chain 0',
    ];
    const d = parseBpftoolNet(lines.join('\n'));
    assert.deepEqual(d.attachments, []);
    assert.deepEqual(
      d.unknownLines.map((u) => u.text),
      lines.slice(1),
    );
  });

  it('a section header is a line of its own: a line that mentions one opens no section', () => {
    for (const head of ['# tc:', 'tc: none', 'xdp: off']) {
      const text = `${head}\neth0(2) driver id 1\n`;
      assert.deepEqual(
        parseBpftoolNet(text),
        {
          attachments: [],
          unknownLines: [
            { line: 1, text: head },
            { line: 2, text: 'eth0(2) driver id 1' },
          ],
        },
        head,
      );
    }
  });

  it('indented lines and lines of blanks (output pasted with indentation)', () => {
    const d = parseBpftoolNet('  tc:\n    eth0(2) clsact/ingress x id 1\n   \n');
    assert.deepEqual(
      d.attachments.map((a) => [a.interface, a.hook, a.program, a.id, a.raw]),
      [['eth0', 'tc', 'x', 1, '    eth0(2) clsact/ingress x id 1']],
    );
    assert.deepEqual(d.unknownLines, []);
  });

  it('xdp: a `prog_id` right after the mode is no program name', () => {
    const d = parseBpftoolNet('xdp:\neth0(2) generic prog_id 12\n');
    assert.deepEqual(
      d.attachments.map((a) => [a.hook, a.mode, a.program, a.id]),
      [['xdp', 'generic', '', 12]],
    );
  });

  it('a program whose name is a number: the name is neither its id nor a link id', () => {
    const [a] = parseBpftoolNet('tc:\nlxc1(5) clsact/ingress 1234 id 7\n').attachments;
    assert.deepEqual([a!.program, a!.id, a!.linkId], ['1234', 7, null]);
  });

  it('an id that is not a whole number (a garbled line) is no id', () => {
    const d = parseBpftoolNet('tc:\neth0(2) clsact/ingress x id 12abc\neth0(2) clsact/egress y id abc12\n');
    assert.deepEqual(
      d.attachments.map((a) => [a.program, a.id]),
      [
        ['x', null],
        ['y', null],
      ],
    );
  });

  it('tc filter headers: multi-digit pref (the default 49152), no chain (older tc), chain ≥ 10; a bpf filter without direct-action is unknown', () => {
    const filter =
      'filter protocol all pref 49152 bpf chain 0 handle 0x1 prog.o:[classifier] not_in_hw id 12 tag 0123456789abcdef jited';
    const d = parseBpftoolNet(
      [
        'filter protocol all pref 49152 bpf chain 0',
        'filter protocol ip pref 1 bpf',
        'filter protocol all pref 1 bpf chain 10',
        filter,
      ].join('\n'),
    );
    assert.deepEqual(d, { attachments: [], unknownLines: [{ line: 4, text: filter }] });
  });
});

describe('bpftool prog show: edges', () => {
  it('the whole 1.17.5 sample: only the two program listings are programs (real-world)', (t) => {
    const text = realWorld(t, TCX_NODE);
    if (text === null) return;
    const lines = text.split('\n');
    const d = parseBpftoolProgShow(text);
    assert.deepEqual(
      d.programs.map((p) => [p.id, p.name, p.uid, p.mapIds, p.btfId]),
      [
        [1998, 'cil_from_container', 0, [312, 313, 35], 667],
        [2003, 'cil_to_container', 0, [312, 35, 313], 672],
      ],
    );
    const unknown = d.unknownLines.map((u) => u.text);
    // A prompt line after a program is no continuation; `grep -e 35: …` holds no program header.
    assert.ok(unknown.includes('c0bpf prog show id 2003'));
    assert.ok(unknown.includes('c0bpf map list | grep -e 35: -e 312: -e 313: -A2'));
    assert.equal(d.unknownLines.length, lines.filter((l) => l.trim()).length - 8);
  });

  it('a uid of several digits', () => {
    const d = parseBpftoolProgShow(
      '7: sched_cls  name x  tag ab  gpl\n\tloaded_at 2025-07-19T16:42:31+0000  uid 1000\n',
    );
    assert.equal(d.programs[0]!.uid, 1000);
  });

  it('CRLF lines and lines of blanks read as plain lines', () => {
    const text = '  \r\n7: sched_cls  name x  tag ab  gpl\r\n\tpinned /sys/fs/bpf/x\r\n';
    const d = parseBpftoolProgShow(text);
    assert.deepEqual(
      d.programs.map((p) => [p.id, p.name, p.tag, p.pinned]),
      [[7, 'x', 'ab', ['/sys/fs/bpf/x']]],
    );
    assert.deepEqual(d.unknownLines, []);
  });

  it('-j after leading blanks is JSON, with no unknown lines; a bare number is text', () => {
    const d = parseBpftoolProgShow(`\n${JSON.stringify([{ id: 7, type: 'xdp' }])}`);
    assert.deepEqual(
      d.programs.map((p) => [p.id, p.type]),
      [[7, 'xdp']],
    );
    assert.deepEqual(d.unknownLines, []);
    assert.deepEqual(parseBpftoolProgShow('3\n'), { programs: [], unknownLines: [{ line: 1, text: '3' }] });
  });

  it('a map named `tag` in a prog listing is still a map line', () => {
    assert.deepEqual(parseBpftoolProgShow('35: hash  name tag  flags 0x0\n'), {
      programs: [],
      unknownLines: [{ line: 1, text: '35: hash  name tag  flags 0x0' }],
    });
  });
});

describe('bpftool map show: edges', () => {
  it('the whole 1.17.5 sample: flags above 0xf, btf ids, owner type (real-world)', (t) => {
    const text = realWorld(t, TCX_NODE);
    if (text === null) return;
    const d = parseBpftoolMapShow(text);
    assert.deepEqual(
      d.maps.map((m) => [m.id, m.type, m.name, m.flags, m.keyBytes, m.btfId, m.ownerProgType]),
      [
        [35, 'percpu_hash', 'cilium_metrics', 1, 8, null, null],
        [312, 'array', '.rodata.config', 0x480, 4, 662, null],
        [313, 'prog_array', 'cilium_calls_00', 0, 4, null, 'sched_cls'],
      ],
    );
  });

  it('a map without a name, a key of 10 bytes or more, CRLF lines, lines of blanks', () => {
    const text = '   \r\n  # maps\r\n9: hash  flags 0x0\r\n\tkey 40B  value 24B  max_entries 512000  memlock 4096B\r\n';
    assert.deepEqual(parseBpftoolMapShow(text), {
      maps: [
        {
          id: 9,
          type: 'hash',
          name: null,
          flags: 0,
          keyBytes: 40,
          valueBytes: 24,
          maxEntries: 512000,
          memlockBytes: 4096,
          btfId: null,
          ownerProgType: null,
        },
      ],
      unknownLines: [],
    });
  });

  it('-j after leading blanks is JSON; a bare number is text', () => {
    const d = parseBpftoolMapShow(`\n${JSON.stringify([{ id: 313, type: 'prog_array' }])}`);
    assert.deepEqual(
      d.maps.map((m) => [m.id, m.type]),
      [[313, 'prog_array']],
    );
    assert.deepEqual(parseBpftoolMapShow('3\n'), { maps: [], unknownLines: [{ line: 1, text: '3' }] });
  });
});

/** `bpftool prog dump xlated` text of the given instructions. */
const xlated = (...insns: string[]) => parseBpftoolXlated(insns.join('\n'));

describe('bpftool prog dump xlated: edges', () => {
  it('a bpftool -j error object is an unknown line, not an empty dump; -j after leading blanks is JSON', () => {
    assert.deepEqual(parseBpftoolXlated(JSON_ERROR).unknownLines, [{ line: 1, text: JSON_ERROR }]);
    const d = parseBpftoolXlated(`\n${JSON.stringify([{ disasm: '(85) call bpf_redirect#23' }])}`);
    assert.deepEqual([d.callSites, d.unknownLines], [[{ insn: 0, helper: 'bpf_redirect' }], []]);
  });

  it('-j disasm text is read whatever blanks surround it', () => {
    const d = parseBpftoolXlated(
      JSON.stringify([
        { disasm: ' (18) r2 = map[id:5] ' },
        { disasm: ' (b7) r3 = 1 ' },
        { disasm: ' (85) call bpf_tail_call#12 ' },
        { disasm: '  call bpf_redirect#23 ' },
      ]),
    );
    assert.deepEqual(
      [d.callSites, d.tailCalls, d.instructions],
      [
        [
          { insn: 3, helper: 'bpf_tail_call' },
          { insn: null, helper: 'bpf_redirect' },
        ],
        [{ insn: 3, mapId: 5, index: 1 }],
        4,
      ],
    );
  });

  it('source lines that do not end in `;`, a function returning a pointer, lines of blanks are no unknown lines', () => {
    const d = xlated(
      'struct iphdr * get_ip(struct __sk_buff * skb):',
      '; if (!ip)',
      '   0: (b7) r0 = 0',
      '   ',
      '   1: (95) exit',
    );
    assert.deepEqual([d.instructions, d.unknownLines], [2, []]);
  });

  it('a kfunc call the disassembler could not name (`call kernel-function#N`) is no helper call', () => {
    const d = xlated('   0: (85) call kernel-function#75388', '   1: (85) call bpf_redirect#23');
    assert.deepEqual([d.calls, d.instructions], [['bpf_redirect'], 2]);
  });

  it('tail call: the slot set before the array is found too', () => {
    const d = xlated(' 0: (b7) r3 = 7', ' 1: (18) r2 = map[id:5]', ' 3: (85) call bpf_tail_call#12');
    assert.deepEqual(d.tailCalls, [{ insn: 3, mapId: 5, index: 7 }]);
  });

  it('tail call: a slot never set before the call (from an argument) is null, the array still read', () => {
    const d = xlated(' 0: (18) r2 = map[id:5]', ' 2: (85) call bpf_tail_call#12');
    assert.deepEqual(d.tailCalls, [{ insn: 2, mapId: 5, index: null }]);
  });

  it('tail call: the last value loaded before the call counts (r2 and r3 reloaded)', () => {
    assert.deepEqual(
      xlated(' 0: (b7) r3 = 1', ' 1: (18) r2 = map[id:5]', ' 3: (18) r2 = map[id:6]', ' 5: (85) call bpf_tail_call#12')
        .tailCalls,
      [{ insn: 5, mapId: 6, index: 1 }],
    );
    assert.deepEqual(
      xlated(' 0: (18) r2 = map[id:5]', ' 2: (b7) r3 = 1', ' 3: (b7) r3 = 7', ' 4: (85) call bpf_tail_call#12')
        .tailCalls,
      [{ insn: 4, mapId: 5, index: 7 }],
    );
  });

  it('tail call: a helper call in between clobbers r2 and r3', () => {
    const d = xlated(
      ' 0: (18) r2 = map[id:5]',
      ' 2: (b7) r3 = 1',
      ' 3: (85) call bpf_get_smp_processor_id#8',
      ' 4: (85) call bpf_tail_call#12',
    );
    assert.deepEqual(d.tailCalls, [{ insn: 4, mapId: null, index: null }]);
  });

  it('tail call: a compare of r3 sets nothing, a compound assignment makes the slot computed', () => {
    assert.deepEqual(
      xlated(
        ' 0: (b7) r3 = 7',
        ' 1: (18) r2 = map[id:5]',
        ' 3: (35) if r3 >= 0x21 goto pc+1',
        ' 4: (85) call bpf_tail_call#12',
        ' 5: (95) exit',
      ).tailCalls,
      [{ insn: 4, mapId: 5, index: 7 }],
    );
    assert.deepEqual(
      xlated(' 0: (18) r2 = map[id:5]', ' 2: (b7) r3 = 7', ' 3: (07) r3 += 1', ' 4: (85) call bpf_tail_call#12')
        .tailCalls,
      [{ insn: 4, mapId: 5, index: null }],
    );
  });

  it('tail call: a map value address in r2 is no program array', () => {
    const d = xlated(' 0: (18) r2 = map[id:313][0]+8', ' 2: (b7) r3 = 1', ' 3: (85) call bpf_tail_call#12');
    assert.deepEqual([d.tailCalls, d.mapIds], [[{ insn: 3, mapId: null, index: 1 }], [313]]);
  });

  it('tail call: a jump of ten or more instructions that lands between the loads cuts the scan', () => {
    const filler = [5, 6, 7, 8, 9, 10].map((i) => `  ${i}: (b7) r4 = 0`);
    const d = xlated(
      '  0: (bf) r6 = r1',
      '  1: (61) r7 = *(u32 *)(r6 +0)',
      '  2: (15) if r7 == 0x0 goto pc+10',
      '  3: (b7) r0 = 2',
      '  4: (95) exit',
      ...filler,
      ' 11: (18) r2 = map[id:5]',
      ' 13: (b7) r3 = 1',
      ' 14: (85) call bpf_tail_call#12',
    );
    // Insn 13 is also reached from insn 2, where r2 may hold something else.
    assert.deepEqual(d.tailCalls, [{ insn: 14, mapId: null, index: 1 }]);
  });
});

describe('bpftool map dump: edges', () => {
  it('a key longer than eight bytes: bpftool puts two blanks after the eighth byte', () => {
    const d = parseBpftoolMapDump('key: 0a 00 00 01 00 00 00 00  01 00 00 00  value: 0f 00 00 00\nFound 1 element\n');
    assert.deepEqual(d, {
      entries: [{ key: [10, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0], value: [15, 0, 0, 0] }],
      found: 1,
      unknownLines: [],
    });
  });

  it('a lookup error as the value is unknown, on one line or after `value:`', () => {
    const one = 'key: 07 00 00 00  value: Invalid argument';
    assert.deepEqual(parseBpftoolMapDump(`${one}\n`), {
      entries: [],
      found: null,
      unknownLines: [{ line: 1, text: one }],
    });
    const multi = [
      'key:',
      '00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f',
      '10 11 12 13',
      'value:',
      'Operation not supported',
    ];
    assert.deepEqual(parseBpftoolMapDump(multi.join('\n')), {
      entries: [],
      found: null,
      unknownLines: [{ line: 5, text: 'Operation not supported' }],
    });
  });

  it('multi-line entries one after another, the last one without a Found line (output cut short)', () => {
    const key = (b: string) => ['key:', '00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00', `00 00 00 ${b}`];
    const d = parseBpftoolMapDump(
      [...key('01'), 'value:', '0a 00 00 00', ...key('02'), 'value:', '0b 00 00 00'].join('\n'),
    );
    const zeros = Array<number>(19).fill(0);
    assert.deepEqual(d.entries, [
      { key: [...zeros, 1], value: [10, 0, 0, 0] },
      { key: [...zeros, 2], value: [11, 0, 0, 0] },
    ]);
    assert.deepEqual([d.found, d.unknownLines], [null, []]);
  });

  it('entries keep the order of the text when a one-line entry follows a multi-line one', () => {
    const d = parseBpftoolMapDump(
      ['key:', '01 00 00 00', 'value:', '0a 00 00 00', 'key: 02 00 00 00  value: 0b 00 00 00'].join('\n'),
    );
    assert.deepEqual(d.entries, [
      { key: [1, 0, 0, 0], value: [10, 0, 0, 0] },
      { key: [2, 0, 0, 0], value: [11, 0, 0, 0] },
    ]);
  });

  it('a count of ten or more elements', () => {
    assert.deepEqual(parseBpftoolMapDump('Found 12 elements\n'), { entries: [], found: 12, unknownLines: [] });
  });

  it('only whole byte tokens: a line with no key bytes, a stray token or a run of digits is unknown', () => {
    const lines = [
      'key:  value: 0f 00 00 00',
      'key: 07 zz 00 00  value: 0f 00 00 00',
      'key: 07 00 00 00  value: 0f00 00 00 00',
    ];
    assert.deepEqual(parseBpftoolMapDump(lines.join('\n')), {
      entries: [],
      found: null,
      unknownLines: lines.map((text, i) => ({ line: i + 1, text })),
    });
  });

  it('-j after leading blanks is JSON; lines of blanks in text are skipped', () => {
    const d = parseBpftoolMapDump(
      `\n${JSON.stringify([{ key: ['0x01', '0x00', '0x00', '0x00'], value: ['0x0a', '0', '0', '0'] }])}`,
    );
    assert.deepEqual(d, { entries: [{ key: [1, 0, 0, 0], value: [10, 0, 0, 0] }], found: null, unknownLines: [] });
    assert.deepEqual(parseBpftoolMapDump('   \nFound 0 elements\n'), { entries: [], found: 0, unknownLines: [] });
  });

  it('u32le reads all four bytes little-endian', () => {
    assert.equal(u32le([0x78, 0x56, 0x34, 0x12]), 0x12345678);
    assert.equal(u32le([0xff, 0xff, 0xff, 0xff]), 0xffffffff);
  });
});

// bpftool -j prints a failure as one object where the data would be (`bpftool -j prog show id 7`
// for a program that is gone); an empty listing read from it would pass a "not attached" check.
describe('bpftool -j error objects', () => {
  const error = '{"error":"can\'t get prog by id (7): No such file or directory"}';
  it('prog show, map show and net show read nothing from it and keep it as an unknown line', () => {
    const unknown = [{ line: 1, text: error }];
    assert.deepEqual(parseBpftoolProgShow(`${error}\n`), { programs: [], unknownLines: unknown });
    assert.deepEqual(parseBpftoolMapShow(`  ${error}`), { maps: [], unknownLines: unknown });
    assert.deepEqual(parseBpftoolNet(error), { attachments: [], unknownLines: unknown });
  });
  it('an object with an `error` that is not a message is data (a program listed alone)', () => {
    const one = parseBpftoolProgShow('{"id":7,"type":"sched_cls","name":"cil_from_container","error":0}');
    assert.deepEqual([one.programs.map((p) => [p.id, p.name]), one.unknownLines], [[[7, 'cil_from_container']], []]);
  });
});
