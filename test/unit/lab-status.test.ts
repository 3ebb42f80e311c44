/** The lab's status text: rendered from gathered state, Cilium's label layout, never claiming to be Cilium. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DatapathState, renderStatus, routingFromState } from '../../support/backends/lab/datapath/index.ts';

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

describe('renderStatus', () => {
  it('names the lab on the first line and lays labels out like cilium-dbg status', () => {
    const text = renderStatus(base);
    const lines = text.trimEnd().split('\n');
    assert.match(lines[0]!, /^Hookpoint lab \(kernel reproduction\)/);
    assert.ok(!/^Cilium:/m.test(text), 'no "Cilium:" version line');
    assert.ok(lines.includes('KubeProxyReplacement:    False'));
    assert.ok(lines.includes('Routing:                 Network: Native   Host: Legacy'));
    assert.ok(lines.includes('IPAM:                    IPv4: 2/254 allocated from 10.244.0.0/24'));
    assert.ok(
      lines.includes(
        'Lab tc programs:         4 attached on 2 lxc interfaces (cil_from_container ingress, cil_to_container egress)',
      ),
    );
    assert.ok(lines.includes('Lab services:            1 in the BPF maps, 2 backends'));
    assert.ok(lines.includes('Lab local redirect:      Enabled (bpf_redirect to same-node backends)'));
    for (const l of lines.slice(1)) assert.match(l, /^[A-Za-z][\w ]*: +\S/, `label layout of "${l}"`);
  });

  it('shows what is really in place: no programs, no native route, redirect off', () => {
    const text = renderStatus({
      ...base,
      routingNetwork: 'Unknown',
      routingDetail: 'no route to 10.244.1.0/24',
      programsAttached: 0,
      interfacesWithPrograms: [],
      localRedirect: false,
      podCIDR: undefined,
    });
    assert.match(text, /^Routing: {17}Network: Unknown \[no route to 10\.244\.1\.0\/24\] {3}Host: Legacy$/m);
    assert.match(text, /^Lab tc programs: +none attached/m);
    assert.match(text, /^Lab local redirect: +Disabled$/m);
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
