/** The real-world corpus read as monitor output: facts per file, typed by the parser's result (corpus-harness.ts). */
import assert from 'node:assert/strict';
import { type Any, corpusSuite, ofType } from './corpus-harness.ts';

corpusSuite('monitor', {
  'cilium-monitor-v-t-trace-socklb-1.18.6-kind-native-idx60285825367.txt': [
    {
      facts: (r) => {
        const sock = ofType(r, 'trace-sock');
        assert.equal(sock.length, 6);
        assert.deepEqual(sock[0].dst, { ip: '10.96.211.254', port: 80 });
        assert.equal(sock[0].observationPoint, 'pre-xlate-fwd');
        assert.deepEqual(sock[1].dst, { ip: '10.244.2.148', port: 80 });
        assert.equal(sock[1].observationPoint, 'post-xlate-fwd');
        const toEp = r.events.filter((e: Any) => e.observationPoint === 'to-endpoint');
        assert.equal(toEp.length, 3);
        assert.ok(toEp.every((e: Any) => e.endpoint === 2927 && e.origIp === '10.244.2.148'));
        assert.equal(toEp[0].interface, 'lxc61f83227c4ba');
        assert.equal(toEp[0].flags, 'SYN, ACK');
        const net = r.events.filter((e: Any) => e.observationPoint === 'to-network');
        assert.equal(net.length, 5);
        assert.ok(net.every((e: Any) => e.origIp === '0.0.0.0' && e.ifindex === 'eth0'));
        assert.deepEqual(net[0].identities, { src: 22196, dst: 60386 });
        assert.equal(net[0].flowId, '0xd67215a2');
      },
    },
  ],
  'cilium-dbg-monitor-related-to-dns-proxy-orig-ip-clusterip-cilium-docs-rst-idx4273197192.txt': [
    {
      facts: (r) => {
        const reply = r.events.find((e: Any) => e.type === 'trace' && e.src?.port === 53);
        assert.equal(reply!.endpoint, 3459);
        assert.equal(reply!.origIp, '10.60.1.115', 'reply from the ClusterIP carries the backend as orig-ip');
        assert.deepEqual(reply!.src, { ip: '10.63.240.10', port: 53 });
        assert.equal(reply!.flowId, '0xe6866e21', 'flow id without the comma of the older format');
        assert.equal(ofType(r, 'l7').length, 2);
        assert.equal(ofType(r, 'l7')[0].srcEndpoint, 3459);
        const pv = ofType(r, 'policy-verdict')[0];
        assert.equal(pv.verdict.direction, 'egress');
        assert.equal(pv.srcEndpoint, 3459);
        assert.equal(r.events.filter((e: Any) => e.type === 'trace' && e.observationPoint === null).length, 5);
        assert.equal(r.events.filter((e: Any) => e.observationPoint === 'to-stack').length, 5);
      },
    },
  ],
  'cilium-monitor-network-flow-enp3s0-unknown-identity-idx18022035911.txt': [
    {
      facts: (r) => {
        const t = ofType(r, 'trace');
        assert.equal(t.length, 4);
        assert.deepEqual(
          [t[0].endpoint, t[0].origIp, t[0].identities],
          [734, '10.0.4.122', { src: 72931, dst: 71695 }],
        );
        assert.equal(t[1].state, 'reply');
        assert.deepEqual(t[2].identities, { src: 'unknown', dst: 'unknown' });
        assert.equal(t[2].observationPoint, 'to-network');
        assert.equal(t[2].interface, 'enp3s0');
        assert.deepEqual(t[3].dst, { ip: '10.0.99.1', port: 53 });
      },
    },
  ],
  'cilium-monitor-trace-policyverdict-drop-host-as-world-korean-blog-idx18039083204.txt': [
    {
      facts: (r) => {
        const pv = ofType(r, 'policy-verdict')[0];
        assert.deepEqual([pv.verdict.remoteIdentity, pv.verdict.action, pv.endpoint], ['world', 'deny', 211]);
        const drop = ofType(r, 'drop')[0];
        assert.deepEqual([drop.message, drop.endpoint, drop.identities.src], ['Policy denied', 211, 'world']);
        const [toEp, toStack] = ofType(r, 'trace');
        assert.deepEqual([toEp.endpoint, toEp.ifindex, toEp.origIp], [1562, 0, '172.26.50.201']);
        assert.deepEqual(
          [toStack.observationPoint, toStack.identities.dst, toStack.flags],
          ['to-stack', 'host', 'SYN, ACK'],
        );
      },
    },
  ],
  'cilium-monitor-to-overlay-line-pr17370.txt': [
    {
      facts: (r) => {
        const e = r.events[0];
        assert.deepEqual(
          [e.observationPoint, e.ifindex, e.origIp, e.protocol, e.flags],
          ['to-overlay', 'cilium_vxlan', '0.0.0.0', 'icmp', 'EchoRequest'],
        );
        assert.deepEqual(e.identities, { src: 19929, dst: 'unknown' });
      },
    },
  ],
  'cilium-monitor-vv-trace-verbose-1.14or1.16-guu13-k8s-install.txt': [
    {
      facts: (r) => {
        const layers = ofType(r, 'layer');
        assert.deepEqual(
          layers.map((l: Any) => l.layer.name),
          ['Ethernet', 'IPv4', 'TCP'],
        );
        assert.equal(layers[1].layer.fields.SrcIP, '172.200.0.112');
        assert.equal(layers[2].layer.fields.DstPort, '10250');
        const t = ofType(r, 'trace')[0];
        assert.deepEqual(
          [t.observationPoint, t.srcEndpoint, t.cpu, t.state, t.origIp],
          ['to-stack', 3006, 1, 'established', '0.0.0.0'],
        );
        assert.deepEqual(t.identities, { src: 52663, dst: 'host' });
      },
    },
  ],
  'cilium-monitor-v-verbose-layers-cilium-1.11-issue18437-partial.txt': [
    {
      facts: (r) => {
        const t = ofType(r, 'trace')[0];
        assert.deepEqual(
          [t.observationPoint, t.srcEndpoint, t.endpoint, t.interface, t.origIp],
          ['to-endpoint', 2046, 2046, 'lxc_health', 'fd04::11'],
        );
        assert.equal(ofType(r, 'layer').length, 4);
      },
    },
  ],
  'cilium-monitor-debug-lines-CT-revnat-cilium-1.12-issue22107-partial.txt': [
    {
      facts: (r) => {
        const d = ofType(r, 'debug');
        assert.equal(d.length, 9);
        assert.ok(d.every((e: Any) => e.srcEndpoint === 565 && e.cpu === 0));
        assert.ok(d.some((e: Any) => e.message === 'Performing reverse NAT, address=10.96.18.67 port=80'));
        assert.deepEqual(d[0].src, { ip: '10.244.1.81', port: 80 });
      },
    },
  ],
  'cilium-monitor-policy-verdict-cilium-docs-policy-creation-and-host-firewall.txt': [
    {
      author: /^\s*\.\.\.\s*$/,
      facts: (r) => {
        const pv = ofType(r, 'policy-verdict');
        assert.equal(pv.length, 5);
        assert.deepEqual(
          pv.map((e: Any) => e.verdict.action),
          ['audit', 'allow', 'allow', 'audit', 'deny'],
        );
        assert.deepEqual(pv[0].src, { ip: '10.0.0.112', port: 54134 });
        assert.deepEqual([pv[1].protocol, pv[1].flags, pv[1].src.port], ['icmp', 'EchoRequest', null]);
        assert.equal(pv[1].verdict.match, 'L3-Only');
        assert.equal(pv[4].dst.port, 21);
      },
    },
  ],
  'cilium-monitor-drop-file-id-vs-filename-format-change-pr24143.txt': [
    {
      facts: (r) => {
        const d = ofType(r, 'drop');
        assert.deepEqual(
          d.map((e: Any) => e.file),
          ['101:80', '2:1167', 'bpf_lxc.c:734', 'lib/icmp6.h:413', 'bpf_lxc.c:734'],
        );
        assert.deepEqual(
          d.map((e: Any) => e.ifindex),
          [12, 14, 8, 8, 10],
        );
        assert.equal(d[2].message, 'Invalid source ip');
      },
    },
  ],
  'cilium-monitor-drop-stale-unroutable-kind-older-format-idx43227103883.txt': [
    {
      facts: (r) => {
        const d = ofType(r, 'drop');
        assert.equal(d.length, 4);
        assert.ok(d.every((e: Any) => e.message === 'Stale or unroutable IP' && e.protocol === 'udp'));
        assert.deepEqual(d[0].identities, { src: 10977, dst: 'unknown' });
        assert.deepEqual(d[0].dst, { ip: '10.242.1.170', port: 53 });
        assert.equal(d[0].flowId, '0x29e44ff');
      },
    },
  ],
  'mixed-cilium-1.20.1-minikube-vxlan-kpr-false-status-iproute-monitor-idx69598493232.txt': [
    {
      lines: [[41, 42]],
      facts: (r) => {
        const [over, ep] = r.events;
        assert.deepEqual(
          [over.observationPoint, over.ifindex, over.flags],
          ['to-overlay', 'cilium_vxlan', 'EchoRequest'],
        );
        assert.deepEqual([ep.endpoint, ep.origIp, ep.protocol, ep.flags], [1478, '10.244.0.132', 'icmp', 'EchoReply']);
      },
    },
  ],
});
