/** The real-world corpus read as tcpdump output: facts per file, typed by the parser's result (corpus-harness.ts). */
import assert from 'node:assert/strict';
import { type Any, corpusSuite } from './corpus-harness.ts';

corpusSuite('tcpdump', {
  'mixed-cilium-1.20.1-minikube-vxlan-kpr-false-status-iproute-monitor-idx69598493232.txt': [
    {
      lines: [[37, 40]],
      facts: (r) => {
        assert.equal(r.packets.length, 2);
        assert.deepEqual(r.packets[0].dst, { ip: '192.168.76.2', port: 8472 });
        assert.deepEqual(r.packets[0].inner!.dst, { ip: '10.244.0.132', port: null });
        assert.equal(r.packets[1].inner!.info, 'ICMP echo reply, id 29, seq 0, length 64');
      },
    },
  ],
  'tcpdump-pne-eth0-pod-to-clusterip-nativerouting-1.15.0rc1-kind-wcnikind.txt': [
    {
      facts: (r) => {
        assert.equal(r.packets.length, 12);
        assert.deepEqual(
          r.packets.slice(0, 4).map((p: Any) => p.flags),
          ['S', 'S.', '.', 'P.'],
        );
        assert.ok(
          r.packets.every((p: Any) => p.src.ip !== '10.96.94.95' && p.dst.ip !== '10.96.94.95'),
          'the wire shows the backend, never the ClusterIP',
        );
        assert.deepEqual(r.packets[0].dst, { ip: '10.244.1.16', port: 9495 });
        assert.deepEqual([r.packets[0].srcMac, r.packets[0].frameLength], ['02:42:ac:12:00:03', 74]);
        assert.equal(r.packets[9].flags, 'F.');
      },
    },
  ],
  'tcpdump-pne-in-pod-to-nodeport-kubeproxy-1.15.0rc1-kind-wcnikind.txt': [
    {
      lines: [[31, 53]],
      facts: (r) => {
        assert.equal(r.packets.length, 14);
        assert.deepEqual(
          [r.packets[0].protocol, r.packets[0].dst!.ip, r.packets[0].src!.ip],
          ['arp', '10.244.0.50', '10.244.0.160'],
        );
        assert.deepEqual(
          r.packets[2].dst,
          { ip: '172.18.0.5', port: 30495 },
          'the author marker after the port is set aside',
        );
        assert.equal(r.packets[2].flags, 'S');
      },
    },
  ],
  'tcpdump-nne-lxc-ping-crossnode-kubeproxy-native-1.15.0rc1-wcnikind-pcap-rendered.txt': [
    {
      facts: (r) => {
        assert.deepEqual(
          r.packets.map((p: Any) => [p.src.ip, p.dst.ip, p.protocol, p.length, p.frameLength]),
          [
            ['10.0.0.166', '10.0.1.118', 'icmp', 64, 98],
            ['10.0.1.118', '10.0.0.166', 'icmp', 64, 98],
          ],
        );
        assert.equal(r.packets[0].time, '03:14:06.543372');
      },
    },
  ],
  'tcpdump-nne-eth0-node-kubeproxy-native-1.15.0rc1-wcnikind-pcap-rendered.txt': [
    {
      facts: (r) => {
        assert.equal(r.packets.length, 278);
        const icmp = r.packets.filter((p: Any) => p.protocol === 'icmp');
        assert.deepEqual(
          icmp.map((p: Any) => [p.src.ip, p.dst.ip]),
          [
            ['10.0.0.166', '10.0.1.118'],
            ['10.0.1.118', '10.0.0.166'],
          ],
        );
        assert.ok(r.packets.filter((p: Any) => p.src.port === 6443 || p.dst.port === 6443).length > 200);
      },
    },
  ],
  'tcpdump-ni-pod-eth0-syn-to-clusterip-kpr-false-vs-true-cilium-1.20.1-idx71145198530.txt': [
    {
      author: /^(KubeProxyReplacement:|web-cc9cbd757-)/, // the author's labels of the two captures
      facts: (r) => {
        assert.deepEqual(
          r.packets.map((p: Any) => [p.dst.ip, p.dst.port, p.flags]),
          [
            ['10.102.39.104', 80, 'S'],
            ['10.244.1.177', 8080, 'S'],
          ],
        );
      },
    },
  ],
  'mixed-kubeproxy-nativerouting-service-datapath-1.15.0rc1-kind-wcnikind.txt': [
    {
      lines: [[52, 71]],
      facts: (r) => {
        assert.equal(r.packets.length, 12);
        assert.deepEqual(r.packets[1].src, { ip: '10.244.1.16', port: 9495 });
      },
    },
  ],
  'mixed-kubeproxy-vxlan-tc-filter-tcpdump-1.15.0rc1-kind-wcnikind.txt': [
    {
      lines: [
        [17, 21],
        [46, 50],
        [70, 75],
      ],
      facts: (r) => {
        assert.equal(r.packets.length, 6);
        const outer = r.packets.filter((p: Any) => p.inner);
        assert.equal(outer.length, 2);
        assert.deepEqual(outer[0].dst, { ip: '172.18.0.2', port: 8472 });
        assert.deepEqual([outer[0].inner!.srcMac, outer[0].inner!.dst!.ip], ['e2:11:f9:ee:e2:a7', '10.0.2.39']);
      },
    },
  ],
});
