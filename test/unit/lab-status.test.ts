/** The lab's status text: rendered from gathered state in `cilium-dbg status`'s real labels and value formats. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type DatapathState, renderStatus } from '../../support/backends/lab/datapath/index.ts';
import { parseCiliumStatus } from '../../support/parsers/status.ts';
import { REAL_WORLD_DIR, skipUnlessRealWorld } from './helpers/real-world.ts';

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

const REAL = REAL_WORLD_DIR;
const skipReal = skipUnlessRealWorld();
const realStatuses = (skipReal ? [] : readdirSync(REAL))
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

  it('kube-proxy replacement: "True   [eth0   <address> (Direct Routing)]", read back like the real 1.18.6 kind status', {
    skip: skipReal,
  }, () => {
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

  it('has no lab-only label: every label it prints appears in a real cilium(-dbg) status of the corpus', {
    skip: skipReal,
  }, () => {
    assert.ok(realStatuses.length >= 5, `real status fixtures read: ${realStatuses.length}`);
    const real = new Set(realStatuses.flatMap((s) => Object.keys(s.fields)));
    for (const label of Object.keys(parseCiliumStatus(renderStatus(base, { cpus: 2 })).fields))
      assert.ok(real.has(label), `"${label}" is printed by no real agent in the corpus`);
    assert.doesNotMatch(renderStatus(base), /lab|Hookpoint|kernel reproduction/i);
  });

  it('shows what is really in place (no trace stream, no IPAM) and the configured routing, whatever the routes', () => {
    const text = renderStatus({ ...base, trace: false, podCIDR: undefined });
    assert.match(text, /^Routing: {17}Network: Native {3}Host: Legacy$/m);
    assert.match(text, /^NodeMonitor: +Disabled$/m);
    assert.doesNotMatch(text, /^IPAM:/m);
  });

  it('tunnel mode: "Network: Tunnel [vxlan]", read back like the real 1.19.0 tunnel status', { skip: skipReal }, () => {
    const parsed = parseCiliumStatus(renderStatus({ ...base, routingNetwork: 'Tunnel', tunnelProtocol: 'vxlan' }));
    const real = parseCiliumStatus(
      readFileSync(path.join(REAL, 'cilium-dbg-status-1.19.0-kubeadm-tunnel-kpr-false-idx55353775762.txt'), 'utf8'),
    );
    assert.deepEqual(parsed.routing, real.routing);
    assert.deepEqual([parsed.routing?.network, parsed.routing?.tunnelProtocol], ['Tunnel', 'vxlan']);
  });

  it('prints only values real agents print for KubeProxyReplacement and Routing (no "Unknown")', {
    skip: skipReal,
  }, () => {
    const realKpr = new Set(realStatuses.map((s) => s.kubeProxyReplacement));
    const realNetwork = new Set(realStatuses.map((s) => s.routing?.network).filter(Boolean));
    for (const st of [
      base,
      {
        ...base,
        kubeProxyReplacement: 'True' as const,
        kubeProxyReplacementDevices: ['eth0   172.18.0.3 (Direct Routing)'],
      },
      { ...base, routingNetwork: 'Tunnel' as const, tunnelProtocol: 'vxlan' },
    ]) {
      const parsed = parseCiliumStatus(renderStatus(st));
      assert.ok(realKpr.has(parsed.kubeProxyReplacement), `KubeProxyReplacement ${parsed.kubeProxyReplacement}`);
      assert.ok(realNetwork.has(parsed.routing?.network), `Network ${parsed.routing?.network}`);
    }
  });
});
