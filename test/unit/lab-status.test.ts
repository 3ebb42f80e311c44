/** The lab's status text: rendered from gathered state in `cilium-dbg status`'s real labels and value formats. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type DatapathState, renderStatus, routingFromState } from '../../support/backends/lab/datapath/index.ts';
import { parseCiliumStatus } from '../../support/parsers/status.ts';

const base: DatapathState = {
  node: 'cilium-kubeproxy-control-plane',
  kernel: '6.18.44',
  routingNetwork: 'Native',
  hostRouting: 'Legacy',
  kubeProxyReplacement: 'False',
  programsAttached: 4,
  interfacesWithPrograms: ['lxc2420d7527a95', 'lxcd2a04d71301a'],
  servicesInMaps: 1,
  backendsInMaps: 2,
  endpointsInMaps: 2,
  connectionsTracked: 6,
  localRedirect: true,
  trace: true,
  podCIDR: '10.244.0.0/24',
};

const REAL = path.resolve(import.meta.dirname, '../../../shared/fixtures/real-world');
const realStatuses = readdirSync(REAL)
  .filter((f) => /^cilium(-dbg)?-status-/.test(f))
  .map((f) => parseCiliumStatus(readFileSync(path.join(REAL, f), 'utf8')))
  .filter((s) => s.format === 'agent');

describe('renderStatus', () => {
  it("prints cilium-dbg status's own lines for this mode: KPR False, native routing, legacy host routing, Legacy TC", () => {
    const text = renderStatus(base, { cpus: 2 });
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], 'KVStore:                 Disabled');
    assert.ok(lines.includes('KubeProxyReplacement:    False'));
    assert.ok(lines.includes('Routing:                 Network: Native   Host: Legacy'));
    assert.ok(lines.includes('Attach Mode:             Legacy TC'));
    assert.ok(lines.includes('Device Mode:             veth'));
    assert.ok(lines.includes('IPAM:                    IPv4: 2/254 allocated from 10.244.0.0/24,'));
    assert.ok(lines.includes('NodeMonitor:             Listening for events on 2 CPUs with 64x4096 of shared memory'));
    assert.ok(!/^Cilium:/m.test(text), 'no "Cilium:" version line: the lab is not a Cilium release');
    for (const l of lines) assert.match(l, /^[A-Za-z][\w ]*: +\S/, `label layout of "${l}"`);
    const parsed = parseCiliumStatus(text);
    assert.equal(parsed.format, 'agent');
    assert.deepEqual(
      [parsed.kubeProxyReplacement, parsed.routing?.network, parsed.hostRouting, parsed.attachMode, parsed.deviceMode],
      ['False', 'Native', 'Legacy', 'Legacy TC', 'veth'],
    );
    assert.deepEqual(parsed.ipamAllocations, [{ family: 'IPv4', used: 2, total: 254, cidr: '10.244.0.0/24' }]);
    assert.deepEqual(parsed.unknownLines, []);
  });

  it('kube-proxy replacement: "True   [eth0   <address> (Direct Routing)]", read back like the real 1.18.6 kind status', () => {
    const text = renderStatus(
      { ...base, kubeProxyReplacement: 'True', kubeProxyReplacementDevices: ['eth0   172.18.0.3 (Direct Routing)'] },
      { cpus: 2 },
    );
    assert.ok(text.split('\n').includes('KubeProxyReplacement:    True   [eth0   172.18.0.3 (Direct Routing)]'), text);
    const parsed = parseCiliumStatus(text);
    const real = parseCiliumStatus(
      readFileSync(
        path.join(REAL, 'cilium-dbg-status-1.18.6-kind-native-kpr-true-bpfhostrouting-idx60285825367.txt'),
        'utf8',
      ),
    );
    assert.equal(parsed.kubeProxyReplacement, real.kubeProxyReplacement);
    assert.deepEqual(parsed.kubeProxyReplacementDevices, ['eth0 172.18.0.3 (Direct Routing)']);
    assert.match(real.kubeProxyReplacementDevices[0]!, /^eth0 10\.89\.0\.2 .*\(Direct Routing\)$/);
  });

  it('has no lab-only label: every label it prints appears in a real cilium(-dbg) status of the corpus', () => {
    assert.ok(realStatuses.length >= 5, `real status fixtures read: ${realStatuses.length}`);
    const real = new Set(realStatuses.flatMap((s) => Object.keys(s.fields)));
    for (const label of Object.keys(parseCiliumStatus(renderStatus(base, { cpus: 2 })).fields))
      assert.ok(real.has(label), `"${label}" is printed by no real agent in the corpus`);
    assert.doesNotMatch(renderStatus(base), /lab|Hookpoint|kernel reproduction/i);
  });

  it('shows what is really in place: no native route, no trace stream', () => {
    const text = renderStatus({
      ...base,
      routingNetwork: 'Unknown',
      routingDetail: 'no route to 10.244.1.0/24',
      trace: false,
      podCIDR: undefined,
    });
    assert.match(text, /^Routing: {17}Network: Unknown \[no route to 10\.244\.1\.0\/24\] {3}Host: Legacy$/m);
    assert.match(text, /^NodeMonitor: +Disabled$/m);
    assert.doesNotMatch(text, /^IPAM:/m);
    assert.doesNotMatch(text, /Network: Native/);
  });
});

describe('routingFromState', () => {
  const links = [{ ifname: 'eth0', linkinfo: { info_kind: 'veth' } }, { ifname: 'lo' }];
  it('is Native when every remote pod CIDR is routed via a gateway', () => {
    const routes = [
      { dst: '10.244.1.0/24', gateway: '172.18.0.3', dev: 'eth0' },
      { dst: '10.244.0.10', dev: 'lxc1' },
    ];
    assert.deepEqual(routingFromState(routes, links, ['10.244.1.0/24']), { network: 'Native' });
  });
  it('is not Native when a remote pod CIDR has no route', () => {
    assert.deepEqual(routingFromState([], links, ['10.244.1.0/24', '10.244.2.0/24']), {
      network: 'Unknown',
      detail: 'no route to 10.244.1.0/24, 10.244.2.0/24',
    });
  });
  it('is Tunnel when pod CIDRs go over a vxlan device', () => {
    const routes = [{ dst: '10.244.1.0/24', gateway: '10.244.1.1', dev: 'cilium_vxlan' }];
    const l = [...links, { ifname: 'cilium_vxlan', linkinfo: { info_kind: 'vxlan' } }];
    assert.deepEqual(routingFromState(routes, l, ['10.244.1.0/24']), { network: 'Tunnel', detail: 'vxlan' });
  });
});
