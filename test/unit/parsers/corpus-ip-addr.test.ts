/** The real-world corpus read as ip-addr output: facts per file, typed by the parser's result (corpus-harness.ts). */
import assert from 'node:assert/strict';
import { type Any, corpusSuite } from './corpus-harness.ts';

corpusSuite('ip-addr', {
  'mixed-cilium-1.20.1-minikube-vxlan-kpr-false-status-iproute-monitor-idx69598493232.txt': [
    {
      lines: [[12, 13]],
      facts: (r) => {
        assert.deepEqual([r.interfaces[0].name, r.interfaces[0].link], ['eth0', 'if12']);
        assert.equal(r.interfaces[0].addresses[0].local, '10.244.1.87');
      },
    },
  ],
  'mixed-kubeproxy-vxlan-tc-filter-tcpdump-1.15.0rc1-kind-wcnikind.txt': [
    {
      lines: [[25, 36]],
      facts: (r) => {
        assert.deepEqual(
          r.interfaces.map((i: Any) => [i.ifindex, i.name, i.link]),
          [
            [1, 'lo', null],
            [13, 'eth0', 'if14'],
          ],
        );
        assert.equal(r.interfaces[1].addresses[0].local, '10.0.0.178');
      },
    },
  ],
  'ip-route-node-and-pod-1.18.6-kind-native-autodirectnoderoutes-idx60285825367.txt': [
    {
      lines: [
        [1, 13],
        [17, 25],
      ],
      facts: (r) => {
        const podEth0 = r.interfaces[1];
        assert.deepEqual(
          [podEth0.name, podEth0.link, podEth0.addresses[0].local, podEth0.addresses[0].prefixlen],
          ['eth0', 'if12', '10.244.0.66', 32],
        );
        assert.equal(r.interfaces.filter((i: Any) => i.name.startsWith('lxc')).length, 4);
        assert.equal(r.interfaces.find((i: Any) => i.name === 'cilium_host')!.link, 'cilium_net');
      },
    },
  ],
});
