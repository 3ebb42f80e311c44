/** The real-world corpus read as status output: facts per file, typed by the parser's result (corpus-harness.ts). */
import assert from 'node:assert/strict';
import { corpusSuite } from './corpus-harness.ts';

corpusSuite('status', {
  'cilium-status-verbose-1.15.0rc1-kpr-native-kind-wcnikind.txt': [
    {
      facts: (s) => {
        assert.equal(s.kubeProxyReplacement, 'True');
        assert.equal(s.routing, null, '1.15 has no Routing line');
        assert.equal(s.hostRouting, 'Legacy');
        assert.equal(s.masquerading!.mode, 'IPTables');
        assert.equal(s.ciliumVersion, '1.15.0-rc.1');
        assert.deepEqual([s.controllers!.healthy, s.controllers!.total, s.controllers!.list.length], [18, 18, 18]);
        assert.equal(s.controllers!.list[0].name, 'cilium-health-ep');
        assert.equal(s.kubeProxyReplacementDetails['Socket LB'], 'Enabled');
        assert.equal(s.ipam, 'IPv4: 2/254 allocated from 10.0.1.0/24');
      },
    },
  ],
  'cilium-dbg-status-1.16.5-native-legacy-tcx-kpr-true-idx3544560782.txt': [
    {
      facts: (s) => {
        assert.deepEqual(s.routing, { network: 'Native', host: 'Legacy', tunnelProtocol: null });
        assert.deepEqual([s.kubeProxyReplacement, s.attachMode, s.deviceMode], ['True', 'TCX', 'veth']);
        assert.equal(s.ciliumVersion, '1.16.5');
        assert.equal(s.fields.KVStore, 'Ok   Disabled');
        assert.equal(s.controllers!.healthy, 130);
      },
    },
  ],
  'cilium-dbg-status-1.17.4-eks-native-legacy-kpr-true-widecolumns-idx34246154250.txt': [
    {
      facts: (s) => {
        assert.equal(s.kubeProxyReplacement, 'True');
        assert.equal(s.kubeProxyReplacementDevices.length, 3);
        assert.equal(s.attachMode, 'Legacy TC');
        assert.equal(s.routing!.host, 'Legacy');
        assert.equal(s.ciliumVersion, '1.17.4');
        assert.deepEqual(s.ipamAllocations, [{ family: 'IPv4', used: 5, total: 13, cidr: null }]);
      },
    },
  ],
  'cilium-dbg-status-1.18.2-gke-native-legacy-kpr-false-idx35517101370.txt': [
    {
      facts: (s) => {
        assert.deepEqual([s.kubeProxyReplacement, s.kubeProxyReplacementDevices], ['False', []]);
        assert.deepEqual([s.routing!.network, s.routing!.host, s.attachMode], ['Native', 'Legacy', 'TCX']);
        assert.equal(s.fields.KVStore, 'Disabled');
        assert.equal(s.ciliumVersion, '1.18.2');
      },
    },
  ],
  'cilium-dbg-status-1.18.6-kind-native-kpr-true-bpfhostrouting-idx60285825367.txt': [
    {
      facts: (s) => {
        assert.deepEqual([s.routing!.network, s.hostRouting], ['Native', 'BPF']);
        assert.deepEqual([s.masquerading!.mode, s.masquerading!.ipv4, s.masquerading!.ipv6], ['BPF', true, false]);
        assert.equal(s.ipamAllocations[0].cidr, '10.244.3.0/24');
      },
    },
  ],
  'cilium-dbg-status-1.19.0-kubeadm-tunnel-kpr-false-idx55353775762.txt': [
    {
      facts: (s) => {
        assert.deepEqual(s.routing, { network: 'Tunnel', host: 'Legacy', tunnelProtocol: 'vxlan' });
        assert.equal(s.kubeProxyReplacement, 'False');
        assert.equal(s.fields.NodeMonitor, 'Disabled');
        assert.equal(s.ciliumVersion, '1.19.0');
      },
    },
  ],
  'cilium-status-1.14.2-eks-chaining-kpr-false-hostrouting-legacy-mdindented-awsia.txt': [
    {
      facts: (s) => {
        assert.equal(s.kubeProxyReplacement, 'False');
        assert.deepEqual(s.kubeProxyReplacementDevices, ['eth0 10.0.21.109 (Direct Routing)', 'eth1 10.0.27.0']);
        assert.equal(s.hostRouting, 'Legacy');
        assert.equal(s.masquerading!.mode, 'Disabled');
        assert.equal(s.fields['CNI Chaining'], 'aws-cni');
        assert.equal(s.ciliumVersion, '1.14.2');
      },
    },
  ],
  'cilium-dbg-service-list-and-kpr-details-1.20.1-minikube-idx71145198530.txt': [
    {
      lines: [[11, 19]], // lines 1–10 are `cilium-dbg service list` and a pod table: not a status
      facts: (s) => {
        assert.equal(s.kubeProxyReplacement, 'True');
        assert.equal(s.kubeProxyReplacementDetails.Devices, 'eth0  192.168.76.3 (Direct Routing)');
        assert.equal(s.kubeProxyReplacementDetails['Socket LB'], 'Enabled');
      },
    },
  ],
  'cilium-cli-status-1.18.6-kind-idx60285825367.txt': [
    {
      facts: (s) => {
        assert.equal(s.format, 'cilium-cli', 'the cluster-wide cilium-cli summary is told apart from the agent status');
        assert.equal(s.kubeProxyReplacement, null);
      },
    },
  ],
  'mixed-cilium-1.20.1-minikube-vxlan-kpr-false-status-iproute-monitor-idx69598493232.txt': [
    {
      lines: [[1, 7]],
      facts: (s) => {
        assert.equal(s.kubeProxyReplacement, 'False', 'trailing spaces after False');
        assert.deepEqual(s.routing, { network: 'Tunnel', host: 'Legacy', tunnelProtocol: 'vxlan' });
        assert.equal(s.ciliumVersion, '1.20.1');
        assert.equal(s.ipam, 'IPv4: 2/254 allocated from 10.244.0.0/24');
      },
    },
  ],
});
