/**
 * Monitor lines read whole: every field of the event compared at once (type, observation point,
 * endpoints, orig-ip, addresses, protocol and flags, flow id, identities, ifindex and interface,
 * state, message, drop file, CPU, verdict, layer), for real lines of each kind: drops with a file
 * id and a file name, policy verdicts with ports and with ICMP, a socket-LB trace, `-> endpoint`
 * with orig-ip, `-> stack`, the verbose header, a DEBUG line, a layer dump, the agent's log line.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type MonitorEvent, parseMonitor, parseMonitorLine } from '../../../support/parsers/monitor.ts';
import { NO_FIELDS } from '../helpers/monitor-events.ts';

const NONE = NO_FIELDS;

function ev(e: Partial<MonitorEvent> & Pick<MonitorEvent, 'type' | 'raw'>): MonitorEvent {
  return { ...NONE, ...e };
}

/** Lines as the real corpus holds them (see the file names in the test titles' sources). */
const CASES: Array<[string, Omit<MonitorEvent, 'raw'> | Partial<MonitorEvent>]> = [
  // cilium-monitor-drop-file-id-vs-filename-format-change-pr24143.txt
  [
    '    xx drop (Invalid packet) flow 0x0 to endpoint 0, ifindex 12, file 101:80, ...',
    { type: 'drop', endpoint: 0, flowId: '0x0', ifindex: 12, message: 'Invalid packet', file: '101:80' },
  ],
  [
    '    xx drop (Invalid source ip) flow 0x0 to endpoint 0, ifindex 8, file bpf_lxc.c:734, ...',
    { type: 'drop', endpoint: 0, flowId: '0x0', ifindex: 8, message: 'Invalid source ip', file: 'bpf_lxc.c:734' },
  ],
  // cilium-monitor-policy-verdict-cilium-docs-policy-creation-and-host-firewall.txt
  [
    '    Policy verdict log: flow 0x0 local EP ID 1687, remote ID 6, proto 6, ingress, action allow, match L3-Only, 192.168.60.12:37278 -> 192.168.60.11:2379 tcp SYN',
    {
      type: 'policy-verdict',
      endpoint: 1687,
      src: { ip: '192.168.60.12', port: 37278 },
      dst: { ip: '192.168.60.11', port: 2379 },
      protocol: 'tcp',
      flags: 'SYN',
      flowId: '0x0',
      message: 'allow',
      verdict: { direction: 'ingress', action: 'allow', match: 'L3-Only', remoteIdentity: 6, proto: 6 },
    },
  ],
  [
    '    Policy verdict log: flow 0x0 local EP ID 1687, remote ID 6, proto 1, ingress, action allow, match L3-Only, 192.168.60.12 -> 192.168.60.11 EchoRequest',
    {
      type: 'policy-verdict',
      endpoint: 1687,
      src: { ip: '192.168.60.12', port: null },
      dst: { ip: '192.168.60.11', port: null },
      protocol: 'icmp',
      flags: 'EchoRequest',
      flowId: '0x0',
      message: 'allow',
      verdict: { direction: 'ingress', action: 'allow', match: 'L3-Only', remoteIdentity: 6, proto: 1 },
    },
  ],
  // cilium-monitor-v-t-trace-socklb-1.18.6-kind-native-idx60285825367.txt
  [
    'CPU 03: [pre-xlate-fwd] cgroup_id: 16761 sock_cookie: 72480, dst [10.96.211.254]:80 tcp',
    {
      type: 'trace-sock',
      observationPoint: 'pre-xlate-fwd',
      dst: { ip: '10.96.211.254', port: 80 },
      protocol: 'tcp',
      message: 'cgroup_id: 16761 sock_cookie: 72480, dst [10.96.211.254]:80 tcp',
      cpu: 3,
    },
  ],
  [
    '-> endpoint 2927 flow 0x8e37b814 , identity 60386->22196 state reply ifindex lxc61f83227c4ba orig-ip 10.244.2.148: 10.244.2.148:80 -> 10.244.1.56:56944 tcp SYN, ACK',
    {
      type: 'trace',
      observationPoint: 'to-endpoint',
      endpoint: 2927,
      origIp: '10.244.2.148',
      src: { ip: '10.244.2.148', port: 80 },
      dst: { ip: '10.244.1.56', port: 56944 },
      protocol: 'tcp',
      flags: 'SYN, ACK',
      flowId: '0x8e37b814',
      identities: { src: 60386, dst: 22196 },
      ifindex: 'lxc61f83227c4ba',
      interface: 'lxc61f83227c4ba',
      state: 'reply',
    },
  ],
  // cilium-monitor-vv-trace-verbose-1.14or1.16-guu13-k8s-install.txt
  [
    'CPU 01: MARK 0xade976e2 FROM 3006 to-stack: 104 bytes (104 captured), state established, , identity 52663->host, orig-ip 0.0.0.0',
    {
      type: 'trace',
      observationPoint: 'to-stack',
      srcEndpoint: 3006,
      origIp: '0.0.0.0',
      identities: { src: 52663, dst: 'host' },
      state: 'established',
      cpu: 1,
    },
  ],
  [
    'TCP\t{Contents=[..32..] Payload=[..38..] SrcPort=39670 DstPort=10250 Seq=3030219 FIN=false}',
    {
      type: 'layer',
      protocol: 'tcp',
      layer: {
        name: 'TCP',
        fields: {
          Contents: '[..32..]',
          Payload: '[..38..]',
          SrcPort: '39670',
          DstPort: '10250',
          Seq: '3030219',
          FIN: 'false',
        },
      },
    },
  ],
  [
    'level=info msg="Initializing dissection cache..." subsys=monitor',
    { type: 'info', message: 'level=info msg="Initializing dissection cache..." subsys=monitor' },
  ],
  // cilium-monitor-debug-lines-CT-revnat-cilium-1.12-issue22107-partial.txt
  [
    'CPU 00: MARK 0xf9d30080 FROM 565 DEBUG: Conntrack lookup 1/2: src=10.244.1.81:80 dst=169.254.42.1:42290',
    {
      type: 'debug',
      srcEndpoint: 565,
      src: { ip: '10.244.1.81', port: 80 },
      dst: { ip: '169.254.42.1', port: 42290 },
      message: 'Conntrack lookup 1/2: src=10.244.1.81:80 dst=169.254.42.1:42290',
      cpu: 0,
    },
  ],
  // cilium-dbg-monitor-related-to-dns-proxy-orig-ip-clusterip-cilium-docs-rst-idx4273197192.txt
  [
    '    -> stack flow 0x614e9723 identity 323->16777217 state new ifindex 0 orig-ip 0.0.0.0: 10.60.0.182:41510 -> 104.198.14.52:80 tcp SYN',
    {
      type: 'trace',
      observationPoint: 'to-stack',
      origIp: '0.0.0.0',
      src: { ip: '10.60.0.182', port: 41510 },
      dst: { ip: '104.198.14.52', port: 80 },
      protocol: 'tcp',
      flags: 'SYN',
      flowId: '0x614e9723',
      identities: { src: 323, dst: 16777217 },
      ifindex: 0,
      state: 'new',
    },
  ],
];

describe('monitor lines read whole', () => {
  for (const [line, want] of CASES) {
    it(line.trim().slice(0, 60), () => {
      assert.deepEqual(parseMonitorLine(line), ev({ ...(want as MonitorEvent), raw: line }));
    });
  }

  it('a stream numbers its events by line', () => {
    const text = CASES.map(([l]) => l).join('\n');
    assert.deepEqual(
      parseMonitor(text).events.map((e) => [e.line, e.type]),
      CASES.map(([, w], i) => [i + 1, (w as MonitorEvent).type]),
    );
  });
});
