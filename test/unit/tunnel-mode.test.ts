/**
 * Tunnel mode and configuration files, without a kernel: the mode read from values (and the
 * refusal of autoDirectNodeRoutes), the object's compile options, the node plan, status routing,
 * VXLAN in pcaps, the capture/monitor/route verdicts on encapsulated traffic, the monitor's
 * `-> overlay` line, configuration files, `matrix --configs` and the scenario × configuration table.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { AssertionError } from 'chai';
import { agentView } from '../../support/backends/lab/agent/identities.ts';
import { formatRecord } from '../../support/backends/lab/agent/monitor-format.ts';
import { clangArgs, OBS, programHash, type TraceRecord } from '../../support/backends/lab/datapath/index.ts';
import { modesFromValues } from '../../support/backends/lab/modes.ts';
import { nodePlan } from '../../support/backends/lab/netns.ts';
import { planFromKindConfig } from '../../support/backends/lab/topology.ts';
import { encapsulates, variantsFromValues } from '../../support/backends/lab/variants.ts';
import {
  applyConfiguration,
  CONFIGURATION_PARAMETER,
  loadConfiguration,
  parseConfiguration,
  parseConfigurationList,
} from '../../support/configuration-file.ts';
import { UsageError } from '../../support/errors.ts';
import { expectEncapsulated, expectOnlyDestinations } from '../../support/expectations/capture.ts';
import { expectToOverlay } from '../../support/expectations/monitor.ts';
import { expectRouteThroughDevice } from '../../support/expectations/net.ts';
import { parseIpRoute } from '../../support/parsers/ip.ts';
import { parseMonitor } from '../../support/parsers/monitor.ts';
import { readPcap } from '../../support/parsers/pcap.ts';
import { parseTcpdump } from '../../support/parsers/tcpdump.ts';
import type { ScenarioResult } from '../../support/report/results.ts';
import { summarize } from '../../support/report/summary.ts';
import { childArgv, planMatrix } from '../../support/run/matrix.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const REAL = path.join(ROOT, '../shared/fixtures/real-world');
const TUNNEL = { routingMode: 'tunnel', tunnelProtocol: 'vxlan', autoDirectNodeRoutes: 'false' };
const usage = (re: RegExp) => (e: unknown) => e instanceof UsageError && e.exitCode === 2 && re.test(e.paragraph());

test('modes: tunnel is reproduced; tunnel with autoDirectNodeRoutes and non-VXLAN tunnels are refused', () => {
  assert.deepEqual(modesFromValues(TUNNEL), { routing: 'tunnel', kubeProxyReplacement: false });
  assert.deepEqual(modesFromValues({ tunnel: 'vxlan' }).routing, 'tunnel');
  assert.throws(() => modesFromValues({ ...TUNNEL, autoDirectNodeRoutes: 'true' }), usage(/agent refuses/));
  assert.throws(() => modesFromValues({ ...TUNNEL, tunnelProtocol: 'geneve' }), usage(/VXLAN only/));
  // autoDirectNodeRoutes=false means no native routes only in native routing.
  assert.deepEqual(variantsFromValues(TUNNEL, modesFromValues(TUNNEL)), []);
  const native = { routingMode: 'native', autoDirectNodeRoutes: 'false' };
  assert.deepEqual(variantsFromValues(native, modesFromValues(native)), ['no-native-route']);
  assert.equal(encapsulates(modesFromValues(TUNNEL), []), true);
  assert.equal(encapsulates(modesFromValues(TUNNEL), ['no-encap']), false);
});

test('the eBPF object of tunnel mode is built with -DLAB_TUNNEL and cached apart from the seed object', () => {
  assert.ok(clangArgs({ tunnel: true }).includes('-DLAB_TUNNEL'));
  assert.ok(!clangArgs().includes('-DLAB_TUNNEL'));
  assert.notEqual(programHash('src', clangArgs()), programHash('src', clangArgs({ tunnel: true })));
  const source = readFileSync(path.join(ROOT, 'support/backends/lab/datapath/lab_lb.c'), 'utf8');
  assert.match(source, /#ifdef LAB_TUNNEL[\s\S]*bpf_skb_set_tunnel_key[\s\S]*cil_from_overlay[\s\S]*#endif/);
});

test('node plan: tunnel mode has cilium_vxlan (external, port 8472, no learning) and routes via cilium_host mtu 1450', () => {
  const plan = planFromKindConfig(readFileSync(path.join(ROOT, 'kind-configs/two-node.yaml'), 'utf8'));
  const [cp, worker] = plan.nodes;
  const lines = nodePlan(plan, cp!, { nativeRoutes: false, tunnel: true });
  assert.ok(lines.some((l) => /^link add cilium_vxlan .*type vxlan external dstport 8472 nolearning$/.test(l)));
  assert.ok(
    lines.includes(
      `route add ${worker!.podCIDR} via ${cp!.ciliumHostIP} dev cilium_host src ${cp!.ciliumHostIP} mtu 1450`,
    ),
  );
  assert.ok(!lines.some((l) => l.includes(`via ${worker!.ip}`)), 'never via the node IP');
  const native = nodePlan(plan, cp!, { nativeRoutes: true });
  assert.ok(native.includes(`route add ${worker!.podCIDR} via ${worker!.ip} dev eth0`));
  assert.ok(!native.some((l) => l.includes('cilium_vxlan')));
});

test('ip -j route: the mtu among the metrics; the route verdict names a route via the node IP', () => {
  const json = JSON.stringify([
    { dst: '10.244.1.0/24', gateway: '10.244.0.236', dev: 'cilium_host', flags: [], metrics: [{ mtu: 1450 }] },
  ]);
  const routes = parseIpRoute(json).routes;
  assert.equal(routes[0]!.mtu, 1450);
  assert.equal(expectRouteThroughDevice(routes, '10.244.1.0/24', 'cilium_host', 1450).dev, 'cilium_host');
  const native = parseIpRoute(JSON.stringify([{ dst: '10.244.1.0/24', gateway: '172.18.0.3', dev: 'eth0' }])).routes;
  assert.throws(
    () => expectRouteThroughDevice(native, '10.244.1.0/24', 'cilium_host', 1450),
    (e: unknown) => e instanceof AssertionError && /10\.244\.1\.0\/24 via 172\.18\.0\.3 dev eth0/.test(e.message),
  );
});

/** Ethernet/IPv4/UDP to `port`/VXLAN(vni)/Ethernet/IPv4/TCP SYN, as one pcap record. */
function vxlanPcap(port: number, vni: number): Uint8Array {
  const ip = (s: string) => s.split('.').map(Number);
  const inner = [
    ...[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00],
    ...[0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, ...ip('10.244.0.10'), ...ip('10.244.1.30')],
    ...[0x9c, 0x41, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0],
  ];
  const vx = [0x08, 0, 0, 0, (vni >> 16) & 255, (vni >> 8) & 255, vni & 255, 0];
  const udpLen = 8 + vx.length + inner.length;
  const outer = [
    ...[2, 0, 0, 0, 0, 3, 2, 0, 0, 0, 0, 4, 0x08, 0x00],
    ...[0x45, 0, 0, 20 + udpLen, 0, 0, 0, 0, 64, 17, 0, 0, ...ip('172.18.0.2'), ...ip('172.18.0.3')],
    ...[0x8c, 0xe1, port >> 8, port & 255, udpLen >> 8, udpLen & 255, 0, 0],
    ...vx,
    ...inner,
  ];
  const b = new Uint8Array(24 + 16 + outer.length);
  const v = new DataView(b.buffer);
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 65535, true);
  v.setUint32(20, 1, true);
  v.setUint32(32, outer.length, true);
  v.setUint32(36, outer.length, true);
  b.set(outer, 40);
  return b;
}

test('pcap: UDP 8472 decodes as OTV and 4789 as VXLAN, the inner frame as the packet inside', () => {
  const [otv] = readPcap(vxlanPcap(8472, 1242)).packets;
  assert.equal(otv!.info, 'OTV, flags [I] (0x08), overlay 0, instance 1242');
  assert.deepEqual(
    [otv!.inner?.src, otv!.inner?.dst, otv!.inner?.flags],
    [{ ip: '10.244.0.10', port: 40001 }, { ip: '10.244.1.30', port: 80 }, 'S'],
  );
  const [vx] = readPcap(vxlanPcap(4789, 7)).packets;
  assert.match(vx!.info ?? '', /^VXLAN, flags \[I\] \(0x08\), vni 7$/);
  assert.equal(readPcap(vxlanPcap(9999, 7)).packets[0]!.inner, null, 'other UDP ports are not decoded');
});

const REAL_VXLAN = readFileSync(
  path.join(REAL, 'mixed-cilium-1.20.1-minikube-vxlan-kpr-false-status-iproute-monitor-idx69598493232.txt'),
  'utf8',
);

test('capture verdicts on the real VXLAN capture: encapsulated between node IPs; "only backends" names the outer header', () => {
  const tcpdump = REAL_VXLAN.split('\n')
    .filter((l) => /^(\d{2}:|IP )/.test(l))
    .join('\n');
  const packets = parseTcpdump(tcpdump).packets;
  const nodes = ['192.168.76.2', '192.168.76.3'];
  const outer = expectEncapsulated(packets, ['10.244.1.87'], nodes);
  assert.equal(outer.length, 2);
  assert.throws(
    () => expectOnlyDestinations(packets, ['10.244.0.132'], ['10.244.1.87']),
    (e: unknown) =>
      e instanceof AssertionError && /inside a tunnel whose outer header goes to 192\.168\.76\.2/.test(e.message),
  );
  const bare = parseTcpdump(
    '04:08:00.370478 IP 10.244.1.87.40001 > 10.244.0.132.80: Flags [S], seq 1, win 64240, length 0\n',
  ).packets;
  assert.throws(
    () => expectEncapsulated(bare, ['10.244.1.87'], nodes),
    (e: unknown) => e instanceof AssertionError && /unencapsulated/.test(e.message),
  );
});

test('monitor: the lab prints -> overlay as Cilium does, and the overlay verdict reads it (and fails on -> stack)', () => {
  const view = agentView('cp', [{ name: 'cp', ip: '172.18.0.2', ciliumHostIP: '10.244.0.1' }], []);
  const rec = {
    cpu: 0,
    ifindex: 7,
    targetIfindex: 5,
    srcEndpoint: 1478,
    dstEndpoint: 0,
    obs: OBS.toOverlay,
    proto: 1,
    flags: 8,
    xlate: 0,
    state: 'new',
    slot: 0,
    count: 0,
    orig: { saddr: '10.244.1.87', daddr: '10.244.0.132', sport: 0, dport: 0 },
    saddr: '10.244.1.87',
    daddr: '10.244.0.132',
    sport: 0,
    dport: 0,
    len: 98,
  } as unknown as TraceRecord;
  const [line] = formatRecord(rec, view, (i) => (i === 5 ? 'cilium_vxlan' : undefined));
  assert.match(
    line!,
    /^-> overlay flow 0x[0-9a-f]+ , identity \S+->\S+ state new ifindex cilium_vxlan orig-ip 0\.0\.0\.0: 10\.244\.1\.87 -> 10\.244\.0\.132 /,
  );
  const real = parseMonitor(
    REAL_VXLAN.split('\n')
      .filter((l) => l.startsWith('->'))
      .join('\n'),
  ).events;
  assert.equal(expectToOverlay(real, '10.244.1.87').length, 1);
  const stack = parseMonitor(
    '-> stack flow 0x0 , identity 22446->13837 state new ifindex 0 orig-ip 0.0.0.0: 10.244.1.87 -> 10.244.0.132 icmp EchoRequest\n',
  ).events;
  assert.throws(
    () => expectToOverlay(stack, '10.244.1.87'),
    (e: unknown) => e instanceof AssertionError && /-> stack/.test(e.message),
  );
});

test("configuration files: nested values flattened to the rows' keys, kindConfig as path or inline, bad input refused", () => {
  const ref = { name: 'x', file: 'x.yaml' };
  const c = parseConfiguration(
    'routingMode: tunnel\nautoDirectNodeRoutes: false\nipam:\n  mode: kubernetes\nkindConfig: kind-configs/two-node.yaml\n',
    ref,
  );
  assert.deepEqual(c.values, { routingMode: 'tunnel', autoDirectNodeRoutes: 'false', 'ipam.mode': 'kubernetes' });
  assert.deepEqual(c.kindConfig, { path: 'kind-configs/two-node.yaml' });
  const inline = parseConfiguration(
    'kubeProxyReplacement: true\nkindConfig:\n  kind: Cluster\n  networking:\n    kubeProxyMode: none\n',
    ref,
  );
  assert.deepEqual(inline.kindConfig, { inline: { kind: 'Cluster', networking: { kubeProxyMode: 'none' } } });
  assert.deepEqual(applyConfiguration({ routingMode: 'native', 'ipam.mode': 'kubernetes' }, c), {
    routingMode: 'tunnel',
    'ipam.mode': 'kubernetes',
    autoDirectNodeRoutes: 'false',
  });
  assert.throws(() => parseConfiguration('- a\n', ref), usage(/not a mapping/));
  assert.throws(() => parseConfiguration('routingMode:\n', ref), usage(/no value/));
  assert.throws(() => parseConfiguration('kindConfig: 3\n', ref), usage(/path to a kind config/));
  assert.throws(() => parseConfiguration('kindConfig:\n  kind: Pod\n', ref), usage(/kind: Cluster/));
  assert.throws(() => parseConfigurationList('a=x.yaml,a=y.yaml'), usage(/given twice/));
  assert.throws(() => parseConfigurationList('Bad=x.yaml'), usage(/configuration name "Bad"/));
  assert.throws(
    () => loadConfiguration({ name: 'n', file: 'kind-configs/modes/nope.yaml' }, ROOT),
    usage(/does not exist/),
  );
  const real = loadConfiguration({ name: 'tunnel', file: 'kind-configs/modes/tunnel.yaml' }, ROOT);
  assert.deepEqual(modesFromValues(real.values).routing, 'tunnel');
});

test('matrix --configs: one combination per configuration, the child gets --configuration, ids keep versions when several', () => {
  const cwd = process.cwd();
  process.chdir(ROOT);
  try {
    const plan = planMatrix(
      { configs: 'tunnel=kind-configs/modes/tunnel.yaml', reports: '/r' },
      ['features/services'],
      {},
    );
    assert.deepEqual(
      plan.combinations.map((c) => [c.id, c.cilium, c.cluster]),
      [['tunnel', '1.17.15', 'cilium-kubeproxy-tunnel']],
    );
    const argv = childArgv(plan, plan.combinations[0]!, ['node', 'bin']);
    assert.deepEqual(argv.slice(argv.indexOf('--configuration'), argv.indexOf('--configuration') + 2), [
      '--configuration',
      'tunnel=kind-configs/modes/tunnel.yaml',
    ]);
    const two = planMatrix({ configs: 'tunnel=kind-configs/modes/tunnel.yaml', cilium: '1.16.15,1.17.15' }, [], {});
    assert.deepEqual(
      two.combinations.map((c) => c.id),
      ['tunnel-c1-16-15', 'tunnel-c1-17-15'],
    );
    assert.throws(() => planMatrix({ configs: 'tunnel=missing.yaml' }, [], {}), usage(/does not exist/));
  } finally {
    process.chdir(cwd);
  }
});

test('summary: scenarios that ran in several configurations give a scenario × configuration table', () => {
  const result = (name: string, config: string, status: 'passed' | 'failed'): ScenarioResult => ({
    uuid: `${name}${config}`,
    name,
    feature: 'f',
    fullName: name,
    status,
    parameters: { backend: 'lab', cilium: '1.17.15', [CONFIGURATION_PARAMETER]: config },
    labels: [],
    attachments: [],
    steps: [],
    historyId: name,
    retries: 0,
    dir: '/d',
    file: `${name}${config}.json`,
  });
  const s = summarize([
    result('status', 'tunnel', 'failed'),
    result('status', 'kpr', 'passed'),
    result('arp', 'tunnel', 'passed'),
  ]);
  assert.equal(s.matrix?.parameter, 'configuration');
  assert.deepEqual(s.matrix?.versions.sort(), ['kpr', 'tunnel']);
  const row = s.matrix?.rows.find((r) => r.name === 'status');
  assert.deepEqual(row?.cells, { tunnel: 'failed', kpr: 'passed' });
  assert.equal(s.matrix?.note, undefined, 'one Cilium version: no "version is a label" note');
  // A run that grouped its scenarios by Background ran each in one configuration: no table.
  const grouped = summarize([result('status', 'two-node-3f9a1c', 'passed'), result('arp', 'kpr-0a1b2c', 'passed')]);
  assert.equal(grouped.matrix, undefined);
});
