import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBpftoolNet, parseBpftoolProgShow, parseBpftoolXlated } from '../../../support/parsers/bpftool.ts';

describe('parseBpftoolNet', () => {
  it('reads tcx attachments with prog and link ids', () => {
    const r = parseBpftoolNet(
      'xdp:\ntc:\neth0(2) tcx/ingress cil_from_netdev prog_id 1975 link_id 16\nlxc016a899bb2f4(15) tcx/egress cil_to_container prog_id 2003 link_id 31\n\nflow_dissector:\n\nnetfilter:\n',
    );
    assert.deepEqual(r.unknownLines, []);
    assert.deepEqual(
      r.attachments.map((a) => [a.interface, a.ifindex, a.hook, a.direction, a.program, a.object, a.id, a.linkId]),
      [
        ['eth0', 2, 'tcx', 'ingress', 'cil_from_netdev', null, 1975, 16],
        ['lxc016a899bb2f4', 15, 'tcx', 'egress', 'cil_to_container', null, 2003, 31],
      ],
    );
  });

  it('reads legacy clsact attachments: program without the :[section] suffix, object and section kept', () => {
    const r = parseBpftoolNet('tc:\nlxc_health(7) clsact/ingress bpf_lxc.o:[from-container] id 242\n');
    const a = r.attachments[0]!;
    assert.deepEqual(
      [a.hook, a.direction, a.program, a.object, a.section, a.id],
      ['tc', 'ingress', 'bpf_lxc.o', 'bpf_lxc.o:[from-container]', 'from-container', 242],
    );
  });

  it('strips the -<ifname> suffix of 1.13–1.15 tc program names and reads xdp modes', () => {
    const r = parseBpftoolNet(
      'xdp:\neth0(2) driver id 77\ntc:\nlxcd92d2fc9309d(9) clsact/ingress cil_from_container-lxcd92d2fc9309d id 2832\n',
    );
    assert.deepEqual([r.attachments[0]!.hook, r.attachments[0]!.mode, r.attachments[0]!.id], ['xdp', 'driver', 77]);
    assert.equal(r.attachments[1]!.program, 'cil_from_container');
  });

  it('reads bpftool -j net show JSON', () => {
    const json = JSON.stringify([
      {
        xdp: [],
        tc: [
          { devname: 'eth0', ifindex: 2, kind: 'tcx/ingress', name: 'cil_from_netdev', prog_id: 1975, link_id: 16 },
          { devname: 'lxc1', ifindex: 9, kind: 'clsact/egress', name: 'bpf_lxc.o:[to-container]', id: 238 },
        ],
        flow_dissector: [],
      },
    ]);
    const r = parseBpftoolNet(json);
    assert.deepEqual(
      r.attachments.map((a) => [a.interface, a.hook, a.direction, a.program, a.id, a.linkId]),
      [
        ['eth0', 'tcx', 'ingress', 'cil_from_netdev', 1975, 16],
        ['lxc1', 'tc', 'egress', 'bpf_lxc.o', 238, null],
      ],
    );
  });

  it('accepts tc filter bpf lines and lists other lines as unknown', () => {
    const r = parseBpftoolNet(
      'filter protocol all pref 1 bpf chain 0 \nfilter protocol all pref 1 bpf chain 0 handle 0x1 cil_from_container-lxcd92d2fc9309d direct-action not_in_hw id 2832 tag 2fab8c42fde16273 jited\nsomething else\neth0(2) tcx/ingress x prog_id 1\n',
    );
    assert.deepEqual(
      r.attachments.map((a) => [a.interface, a.program, a.id]),
      [[null, 'cil_from_container-lxcd92d2fc9309d', 2832]],
    );
    assert.deepEqual(
      r.unknownLines.map((u) => u.line),
      [3, 4],
      'an attachment line outside any section is not trusted',
    );
  });

  it('survives broken JSON by reading it as text', () => {
    const r = parseBpftoolNet('[{"tc": [');
    assert.equal(r.attachments.length, 0);
    assert.equal(r.unknownLines.length, 1);
  });
});

describe('parseBpftoolProgShow', () => {
  it('reads the header and TAB-indented continuation lines, and not map list lines', () => {
    const r = parseBpftoolProgShow(
      '1998: sched_cls  name cil_from_container  tag 41989045bb171bee  gpl\n\tloaded_at 2025-07-19T16:42:31+0000  uid 0\n\txlated 752B  jited 784B  memlock 4096B  map_ids 312,313,35\n\tbtf_id 667\n35: percpu_hash  name cilium_metrics  flags 0x1\n\tkey 8B  value 16B  max_entries 1024  memlock 19024B\n',
    );
    assert.equal(r.programs.length, 1);
    assert.deepEqual(r.programs[0], {
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
    });
    assert.equal(r.unknownLines.length, 2);
  });
  it('reads -j JSON', () => {
    const r = parseBpftoolProgShow(
      '{"id":7,"type":"sched_cls","name":"from_container","tag":"ab","gpl_compatible":true,"bytes_xlated":10,"map_ids":[1,2]}',
    );
    assert.deepEqual(
      [r.programs[0]!.id, r.programs[0]!.name, r.programs[0]!.gpl, r.programs[0]!.mapIds],
      [7, 'from_container', true, [1, 2]],
    );
  });
});

describe('parseBpftoolXlated', () => {
  it('collects helper calls without #ids, once each in first-call order, with call sites', () => {
    const r = parseBpftoolXlated(
      [
        'int from_container(struct __sk_buff * skb):',
        '; return bpf_redirect(ep->ifindex, 0);',
        ' 519: (61) r1 = *(u32 *)(r9 +0)',
        ' 520: (b7) r2 = 0',
        ' 521: (85) call bpf_redirect#10289728',
        ' 522: (85) call bpf_redirect_neigh#152',
        ' 523: (85) call pc+12',
        ' 524: (85) call bpf_redirect#10289728',
        ' 525: (95) exit',
        '...',
      ].join('\n'),
    );
    assert.deepEqual(r.calls, ['bpf_redirect', 'bpf_redirect_neigh']);
    assert.deepEqual(
      r.callSites.map((c) => c.insn),
      [521, 522, 524],
    );
    assert.equal(r.instructions, 7);
    assert.deepEqual(r.unknownLines, []);
  });
  it('finds calls quoted inside verifier log lines and ignores // comments', () => {
    const r = parseBpftoolXlated(
      'level=warning msg="2179: (85) call bpf_redirect_peer#155" subsys=datapath-loader\n   8: (71) r1 = *(u8 *)(r6 +192)\t\t// note\n',
    );
    assert.deepEqual(r.calls, ['bpf_redirect_peer']);
    assert.equal(r.instructions, 2);
  });
  it('reads -j JSON and lists stray lines as unknown', () => {
    assert.deepEqual(parseBpftoolXlated('[{"disasm":"call bpf_redirect#23"},{"disasm":"exit"}]').calls, [
      'bpf_redirect',
    ]);
    const r = parseBpftoolXlated('no instructions here\n');
    assert.deepEqual(r.calls, []);
    assert.equal(r.unknownLines.length, 1);
  });
});
