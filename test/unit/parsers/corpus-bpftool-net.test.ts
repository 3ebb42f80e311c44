/** The real-world corpus read as bpftool-net output: facts per file, typed by the parser's result (corpus-harness.ts). */
import assert from 'node:assert/strict';
import { type Any, corpusSuite } from './corpus-harness.ts';

corpusSuite('bpftool-net', {
  'bpftool-net-show-legacy-clsact-cilium-1.9-pr14895.txt': [
    {
      author: /^bpftool net show$/,
      facts: (r) => {
        assert.equal(r.attachments.length, 12);
        const h = r.attachments.find((a: Any) => a.interface === 'lxc_health' && a.direction === 'ingress');
        assert.deepEqual(
          [h!.hook, h!.program, h!.object, h!.section, h!.id, h!.ifindex],
          ['tc', 'bpf_lxc.o', 'bpf_lxc.o:[from-container]', 'from-container', 242, 7],
        );
        assert.equal(r.attachments.filter((a: Any) => a.section === 'to-container').length, 4);
      },
    },
  ],
  'bpftool-net-show-prog-show-tcx-1.17.5-native-endpointroutes-idx7258039410.txt': [
    {
      lines: [[1, 16]],
      facts: (r) => {
        assert.equal(r.attachments.length, 11);
        assert.ok(r.attachments.every((a: Any) => a.hook === 'tcx'));
        const lxc = r.attachments.filter((a: Any) => a.interface === 'lxc016a899bb2f4');
        assert.deepEqual(
          lxc.map((a: Any) => [a.direction, a.program, a.id, a.linkId]),
          [
            ['ingress', 'cil_from_container', 1998, 30],
            ['egress', 'cil_to_container', 2003, 31],
          ],
        );
      },
    },
  ],
  'bpftool-net-show-tcx-vxlan-no-lxc-egress-idx57918766907.txt': [
    {
      facts: (r) => {
        assert.equal(r.attachments.length, 12);
        const lxc = r.attachments.filter((a: Any) => a.interface.startsWith('lxc'));
        assert.equal(lxc.length, 5);
        assert.ok(
          lxc.every((a: Any) => a.direction === 'ingress' && a.program === 'cil_from_container'),
          'no to-container',
        );
        assert.ok(r.attachments.some((a: Any) => a.interface === 'cilium_vxlan' && a.program === 'cil_from_overlay'));
      },
    },
  ],
  'tc-filter-show-lxc-ingress-legacy-kind-issue17468-partial.txt': [
    {
      facts: (r) => {
        assert.deepEqual(
          r.attachments.map((a: Any) => [a.interface, a.program, a.section, a.id]),
          [
            [null, 'bpf_lxc.o', 'from-container', 15843],
            ['cilium_net', 'bpf_host_cilium_net.o', 'to-host', 15871],
          ],
        );
      },
    },
  ],
  'mixed-kubeproxy-vxlan-tc-filter-tcpdump-1.15.0rc1-kind-wcnikind.txt': [
    {
      lines: [[39, 41]],
      facts: (r) => {
        assert.deepEqual(
          r.attachments.map((a: Any) => [a.program, a.id]),
          [['cil_from_container-lxcd92d2fc9309d', 2832]],
        );
      },
    },
  ],
});
