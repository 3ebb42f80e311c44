/** bpftool, routes, neighbours and agent status expectations. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssertionError } from 'chai';
import { InconclusiveError } from '../../support/errors.ts';
import { expectHelperCall, expectProgramOn } from '../../support/expectations/bpftool.ts';
import type { CitedEvidence } from '../../support/expectations/evidence-ref.ts';
import {
  expectDefaultGateway,
  expectNeighbourMac,
  expectRouteThroughDevice,
  expectRouteVia,
  expectStatusField,
} from '../../support/expectations/net.ts';
import { parseBpftoolNet, parseBpftoolXlated } from '../../support/parsers/bpftool.ts';
import { parseIpNeigh, parseIpRoute } from '../../support/parsers/ip.ts';
import { parseCiliumStatus } from '../../support/parsers/status.ts';
import { realWorld } from './helpers/real-world.ts';

function cited<T>(kind: string, where: string, data: T, attachment: string): CitedEvidence<T> {
  return { kind, where, commands: [], raw: '', data, summary: '', attachment };
}

/** lab-findings §5d. */
const NET_SHOW = `xdp:

tc:
lxcd2a04d71301a(5) clsact/ingress cil_from_container:[*fsobj] id 337
lxcd2a04d71301a(5) clsact/egress cil_to_container:[*fsobj] id 339
lxc2420d7527a95(6) clsact/ingress cil_from_container:[*fsobj] id 337
lxc2420d7527a95(6) clsact/egress cil_to_container:[*fsobj] id 339

flow_dissector:
`;
const NET_NO_TC = 'xdp:\n\ntc:\n\nflow_dissector:\n';

const XLATED = `; return bpf_redirect(ep->ifindex, 0);   /* egress of target lxc -> pod eth0 */
 519: (61) r1 = *(u32 *)(r9 +0)
 520: (b7) r2 = 0
 521: (85) call bpf_redirect#10289728
 522: (bf) r8 = r0
 523: (85) call bpf_skb_event_output#123
`;
const XLATED_NO_REDIRECT = ` 0: (bf) r6 = r1
 1: (85) call bpf_skb_load_bytes#123
 2: (95) exit
`;

test('program on: the tc ingress program of the client veth is found, with its id', () => {
  const ev = cited('bpftool-net', 'node cp', parseBpftoolNet(NET_SHOW).attachments, '11-bpftool-net-node-cp.txt');
  const a = expectProgramOn(ev, 'lxcd2a04d71301a', 'ingress');
  assert.equal(a.id, 337);
  assert.equal(expectProgramOn(ev, 'lxcd2a04d71301a', 'egress').id, 339);
  // bare parser output works too
  expectProgramOn(parseBpftoolNet(NET_SHOW), 'lxc2420d7527a95', 'egress');
});

test('program on: a detached veth fails naming the interface, the direction and the evidence', () => {
  const detached = cited(
    'bpftool-net',
    'node cp',
    parseBpftoolNet(NET_NO_TC).attachments,
    '11-bpftool-net-node-cp.txt',
  );
  assert.throws(
    () => expectProgramOn(detached, 'lxcd2a04d71301a', 'ingress'),
    (err: unknown) =>
      err instanceof AssertionError &&
      /^Expected bpftool net show on node cp to list a program at tc ingress of lxcd2a04d71301a, but nothing is attached to lxcd2a04d71301a \(no BPF attachment at all\) \(evidence 11-bpftool-net-node-cp\.txt\)\.$/.test(
        err.message,
      ),
  );
  const egressOnly = parseBpftoolNet(NET_SHOW.replace(/lxcd2a04d71301a\(5\) clsact\/ingress.*\n/, ''));
  assert.throws(
    () => expectProgramOn(egressOnly, 'lxcd2a04d71301a', 'ingress'),
    /lxcd2a04d71301a has only tc egress cil_to_container \(id 339\)/,
  );
});

test('program on: real-world bpftool net show (clsact)', (t) => {
  const legacy = realWorld(t, 'bpftool-net-show-legacy-clsact-cilium-1.9-pr14895.txt');
  if (legacy === null) return;
  assert.equal(expectProgramOn(parseBpftoolNet(legacy), 'cilium_host', 'egress').id, 226);
  assert.throws(() => expectProgramOn(parseBpftoolNet(legacy), 'cilium_net', 'egress'), AssertionError);
});

test('program on: real-world bpftool net show (tcx)', (t) => {
  const tcx = realWorld(t, 'bpftool-net-show-prog-show-tcx-1.17.5-native-endpointroutes-idx7258039410.txt');
  if (tcx === null) return;
  assert.equal(expectProgramOn(parseBpftoolNet(tcx), 'lxc016a899bb2f4', 'ingress').id, 1998);
});

test('helper call: bpf_redirect is found; a program without it fails listing what it calls', () => {
  const ev = cited('bpftool-xlated', 'node cp prog 337', parseBpftoolXlated(XLATED), '12-bpftool-xlated.txt');
  expectHelperCall(ev, 'bpf_redirect');
  expectHelperCall(['bpf_redirect'], 'bpf_redirect');
  assert.throws(
    () =>
      expectHelperCall(
        cited('bpftool-xlated', 'node cp prog 9', parseBpftoolXlated(XLATED_NO_REDIRECT), '12-x.txt'),
        'bpf_redirect',
      ),
    (err: unknown) =>
      err instanceof AssertionError &&
      /translated code of node cp prog 9 to call bpf_redirect, but it calls bpf_skb_load_bytes \(evidence 12-x\.txt\)/.test(
        err.message,
      ),
  );
  assert.throws(() => expectHelperCall(parseBpftoolXlated(''), 'bpf_redirect'), InconclusiveError);
});

test('helper call: real-world verifier-log instruction format', (t) => {
  const text = realWorld(t, 'cilium-verifier-log-call-bpf_redirect-insn-format-idx22275592747-partial.txt');
  if (text === null) return;
  expectHelperCall(parseBpftoolXlated(text), 'bpf_redirect');
  assert.throws(() => expectHelperCall(parseBpftoolXlated(text), 'bpf_redirect_peer'), AssertionError);
});

/** The lab's node routes (lab-findings §3), as `ip -j route` prints them. */
const CP_ROUTES = JSON.stringify([
  { dst: '10.96.0.0/12', dev: 'eth0', flags: [] },
  { dst: '10.244.0.0/24', gateway: '10.244.0.26', dev: 'cilium_host', flags: [] },
  { dst: '10.244.0.10', dev: 'lxcd2a04d71301a', scope: 'link', flags: [] },
  { dst: '10.244.1.0/24', gateway: '172.18.0.3', dev: 'eth0', flags: [] },
  { dst: '172.18.0.0/16', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '172.18.0.2', flags: [] },
]);
const POD_ROUTES = JSON.stringify([
  { dst: 'default', gateway: '10.244.0.26', dev: 'eth0', flags: [] },
  { dst: '10.244.0.26', dev: 'eth0', scope: 'link', flags: [] },
]);

test('route via: the worker pod CIDR goes via the worker node IP; a missing native route fails', () => {
  const ev = cited('routes', 'node cilium-kubeproxy-control-plane', parseIpRoute(CP_ROUTES).routes, '13-routes-cp.txt');
  expectRouteVia(ev, '10.244.1.0/24', '172.18.0.3');
  assert.throws(
    () => expectRouteVia(ev, '10.244.1.0/24', '172.18.0.9'),
    (err: unknown) =>
      err instanceof AssertionError &&
      /routes of node cilium-kubeproxy-control-plane to send 10\.244\.1\.0\/24 via 172\.18\.0\.9, but the route for 10\.244\.1\.0\/24 is `10\.244\.1\.0\/24 via 172\.18\.0\.3 dev eth0/.test(
        err.message,
      ) &&
      /evidence 13-routes-cp\.txt/.test(err.message),
  );
  const withoutNative = parseIpRoute(
    JSON.stringify(JSON.parse(CP_ROUTES).filter((r: { dst: string }) => r.dst !== '10.244.1.0/24')),
  ).routes;
  assert.throws(
    () => expectRouteVia(withoutNative, '10.244.1.0/24', '172.18.0.3'),
    /there is no route for 10\.244\.1\.0\/24/,
  );
});

test('default gateway: the pod goes via its node cilium_host address', () => {
  const ev = cited('routes', 'pod client', parseIpRoute(POD_ROUTES).routes, '14-routes-pod-client.txt');
  expectDefaultGateway(ev, '10.244.0.26');
  assert.throws(
    () => expectDefaultGateway(ev, '10.244.0.1'),
    (err: unknown) =>
      err instanceof AssertionError &&
      /default gateway at 10\.244\.0\.1, but the default route is `default via 10\.244\.0\.26 dev eth0/.test(
        err.message,
      ),
  );
  assert.throws(() => expectDefaultGateway(parseIpRoute(CP_ROUTES).routes, '10.244.0.26'), /there is no default route/);
});

test('default gateway: a real pod `ip route` (kind, native routing)', (t) => {
  const text = realWorld(t, 'ip-route-node-and-pod-1.18.6-kind-native-autodirectnoderoutes-idx60285825367.txt');
  if (text === null) return;
  const podPart = text.split('ip route\n')[1]!.split('\n\n')[0]!;
  expectDefaultGateway(parseIpRoute(podPart).routes, '10.244.0.154');
  assert.throws(() => expectDefaultGateway(parseIpRoute(podPart).routes, '10.244.0.1'), AssertionError);
});

test('neighbour MAC: the gateway resolves to the host veth MAC; another MAC fails; no entry is inconclusive', () => {
  const neigh = parseIpNeigh(
    JSON.stringify([{ dst: '10.244.0.26', dev: 'eth0', lladdr: '76:f0:bd:76:76:77', state: ['REACHABLE'] }]),
  ).neighbours;
  const ev = cited('neigh', 'pod client', neigh, '15-neigh-pod-client.txt');
  expectNeighbourMac(ev, '10.244.0.26', '76:F0:BD:76:76:77', 'lxcd2a04d71301a');
  assert.throws(
    () => expectNeighbourMac(ev, '10.244.0.26', '02:00:00:00:00:01', 'lxcd2a04d71301a'),
    (err: unknown) =>
      err instanceof AssertionError &&
      /resolve 10\.244\.0\.26 to 02:00:00:00:00:01 \(lxcd2a04d71301a\), but it resolves to 76:f0:bd:76:76:77 REACHABLE on eth0 \(evidence 15-neigh-pod-client\.txt\)/.test(
        err.message,
      ),
  );
  assert.throws(() => expectNeighbourMac(ev, '10.244.0.1', '76:f0:bd:76:76:77'), InconclusiveError);
});

test('status field: routing and kube-proxy replacement of real agent statuses', (t) => {
  const native = realWorld(t, 'cilium-dbg-status-1.18.2-gke-native-legacy-kpr-false-idx35517101370.txt');
  const tunnel =
    native === null ? null : realWorld(t, 'cilium-dbg-status-1.19.0-kubeadm-tunnel-kpr-false-idx55353775762.txt');
  if (native === null || tunnel === null) return;
  const ev = cited('status', 'node cilium-kubeproxy-worker', parseCiliumStatus(native), '02-status-worker.txt');
  expectStatusField(ev, 'routing.network', 'Native');
  expectStatusField(ev, 'kubeProxyReplacement', 'false');
  expectStatusField(ev, 'KubeProxyReplacement', 'False');
  assert.throws(
    () =>
      expectStatusField(
        cited('status', 'node cp', parseCiliumStatus(tunnel), '02-status-cp.txt'),
        'routing.network',
        'Native',
      ),
    (err: unknown) =>
      err instanceof AssertionError &&
      /Expected the agent status on node cp to report routing\.network "Native", but it reports "Tunnel/.test(
        err.message,
      ) &&
      /evidence 02-status-cp\.txt/.test(err.message),
  );
  assert.throws(() => expectStatusField(ev, 'kubeProxyReplacement', 'True'), AssertionError);
  assert.throws(() => expectStatusField(ev, 'no.such.field', 'x'), InconclusiveError);
  assert.throws(() => expectStatusField(parseCiliumStatus('hello'), 'routing.network', 'Native'), InconclusiveError);
});

test('native routes: a real kind node (1.18.6, autoDirectNodeRoutes) routes each other pod CIDR via that node; a missing one names the routes', (t) => {
  const text = realWorld(t, 'ip-route-node-and-pod-1.18.6-kind-native-autodirectnoderoutes-idx60285825367.txt');
  if (text === null) return;
  const node = parseIpRoute(text.split('# ip route\n')[1]!).routes;
  const ev = cited('routes', 'node kind-control-plane', node, '11-routes-kind-control-plane.txt');
  assert.equal(expectRouteVia(ev, '10.244.1.0/24', '10.89.0.3').dev, 'eth0');
  expectRouteVia(ev, '10.244.3.0/24', '10.89.0.2');
  // What the no-native-route variant shows on the lab, on real output: no route, the routes cited.
  assert.throws(
    () => expectRouteVia(ev, '10.244.2.0/24', '10.89.0.5'),
    (e: unknown) =>
      e instanceof AssertionError &&
      /there is no route for 10\.244\.2\.0\/24 \(routes: .*10\.244\.1\.0\/24 via 10\.89\.0\.3 dev eth0.*evidence 11-routes-kind-control-plane\.txt/.test(
        e.message,
      ),
  );
});

test('tunnel routes: a real VXLAN node (1.20.1) routes the other pod CIDR through cilium_host with mtu 1450, not via a node IP', (t) => {
  const text = realWorld(t, 'mixed-cilium-1.20.1-minikube-vxlan-kpr-false-status-iproute-monitor-idx69598493232.txt');
  if (text === null) return;
  const lines = text.split('\n').filter((l) => /^(default via|\d+\.\d+\.\d+\.\d+(\/\d+)? (via|dev) )/.test(l));
  const routes = parseIpRoute(`${lines.join('\n')}\n`).routes;
  assert.equal(expectRouteThroughDevice(routes, '10.244.0.0/24', 'cilium_host', 1450).mtu, 1450);
  assert.throws(() => expectRouteVia(routes, '10.244.0.0/24', '192.168.76.2'), AssertionError);
});
