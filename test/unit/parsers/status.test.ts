import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCiliumStatus } from '../../../support/parsers/status.ts';

// Written for these tests in the shape of a 1.17 agent status with wide, uneven label columns.
const modern = [
  'Defaulted container "cilium-agent" out of: cilium-agent, config (init), mount-cgroup (init)',
  'KVStore:                                     Disabled   ',
  'Kubernetes:                                  Ok         1.32 (v1.32.9) [linux/amd64]',
  'KubeProxyReplacement:                        False   ',
  'Cilium:                                      Ok   1.17.15 (v1.17.15-0123abcd)',
  'IPAM:                                        IPv4: 5/254 allocated from 10.244.1.0/24, IPv6: 2/65534 allocated from fd00:10:244:1::/64, ',
  'Routing:                                     Network: Tunnel [geneve]   Host: Legacy',
  'Attach Mode:                                 TCX',
  'Device Mode:                                 veth',
  'Masquerading:                                BPF   [eth0]   10.244.0.0/16  [IPv4: Enabled, IPv6: Disabled]',
  'Controller Status:                           37/38 healthy',
  'Cluster health:                              1/2 reachable   (2025-10-20T11:17:46Z)',
  'Name                                         IP              Node   Endpoints',
].join('\r\n');

describe('parseCiliumStatus', () => {
  it('reads the 1.16+ fingerprint with uneven label widths, CRLF, trailing spaces and the kubectl banner', () => {
    const s = parseCiliumStatus(modern);
    assert.equal(s.format, 'agent');
    assert.equal(s.kubeProxyReplacement, 'False');
    assert.deepEqual(s.kubeProxyReplacementDevices, []);
    assert.deepEqual(s.routing, { network: 'Tunnel', host: 'Legacy', tunnelProtocol: 'geneve' });
    assert.equal(s.hostRouting, 'Legacy');
    assert.equal(s.ipam, 'IPv4: 5/254 allocated from 10.244.1.0/24, IPv6: 2/65534 allocated from fd00:10:244:1::/64');
    assert.deepEqual(s.ipamAllocations, [
      { family: 'IPv4', used: 5, total: 254, cidr: '10.244.1.0/24' },
      { family: 'IPv6', used: 2, total: 65534, cidr: 'fd00:10:244:1::/64' },
    ]);
    assert.deepEqual(s.masquerading, {
      mode: 'BPF',
      ipv4: true,
      ipv6: false,
      raw: 'BPF   [eth0]   10.244.0.0/16  [IPv4: Enabled, IPv6: Disabled]',
    });
    assert.equal(s.ciliumVersion, '1.17.15');
    assert.equal(s.ciliumHealth, 'Ok');
    assert.equal(s.attachMode, 'TCX');
    assert.deepEqual(s.controllers, { healthy: 37, total: 38, list: [] });
    assert.equal(s.fields.KVStore, 'Disabled');
    assert.equal(s.fields['Cluster health'], '1/2 reachable   (2025-10-20T11:17:46Z)');
    assert.deepEqual(s.unknownLines, []);
  });

  it('reads the pre-1.16 Host Routing line, a KPR device list, an indented copy and the verbose controller table', () => {
    const text = [
      '    KubeProxyReplacement:    True   [eth0 172.18.0.2 (Direct Routing), eth1 10.0.0.1]',
      '    Cilium:                  Ok   1.14.2 (v1.14.2-a6748946)',
      '    Host Routing:            Legacy',
      '    Masquerading:            Disabled',
      '    Controller Status:       2/2 healthy',
      '      Name                  Last success   Last error   Count   Message',
      '      cilium-health-ep      59s ago        never        0       no error   ',
      '      endpoint-gc           1m2s ago       never        3       no error   ',
      '    KubeProxyReplacement Details:',
      '      Status:                 True',
      '      Socket LB:              Enabled',
      '      - NodePort:       Enabled (Range: 30000-32767) ',
    ].join('\n');
    const s = parseCiliumStatus(text);
    assert.equal(s.kubeProxyReplacement, 'True');
    assert.deepEqual(s.kubeProxyReplacementDevices, ['eth0 172.18.0.2 (Direct Routing)', 'eth1 10.0.0.1']);
    assert.equal(s.routing, null);
    assert.equal(s.hostRouting, 'Legacy');
    assert.deepEqual(s.masquerading, { mode: 'Disabled', ipv4: null, ipv6: null, raw: 'Disabled' });
    assert.equal(s.controllers!.list.length, 2);
    assert.deepEqual(s.controllers!.list[1], {
      name: 'endpoint-gc',
      lastSuccess: '1m2s ago',
      lastError: 'never',
      count: 3,
      message: 'no error',
    });
    assert.equal(s.kubeProxyReplacementDetails['Socket LB'], 'Enabled');
    assert.equal(s.kubeProxyReplacementDetails.NodePort, 'Enabled (Range: 30000-32767)');
  });

  it('takes KPR from a lone "KubeProxyReplacement Details" block', () => {
    const s = parseCiliumStatus(
      'KubeProxyReplacement Details:\n  Status:               True\n  Mode:                 SNAT\n',
    );
    assert.equal(s.kubeProxyReplacement, 'True');
    assert.equal(s.kubeProxyReplacementDetails.Mode, 'SNAT');
  });

  it('tells the cilium-cli cluster summary apart from the agent status', () => {
    const s = parseCiliumStatus(
      '    /¯¯\\\n /¯¯\\__/¯¯\\    Cilium:             OK\nDaemonSet              cilium                   Desired: 3, Ready: 3/3, Available: 3/3\nCluster Pods:          7/7 managed by Cilium\n',
    );
    assert.equal(s.format, 'cilium-cli');
    assert.equal(s.kubeProxyReplacement, null);
  });

  it('returns an unknown format with every line listed for unrelated or empty text', () => {
    const s = parseCiliumStatus('hello\nworld: 1\n');
    assert.equal(s.format, 'unknown');
    assert.equal(s.unknownLines.length, 2);
    assert.equal(parseCiliumStatus('').format, 'unknown');
  });

  it('lists a shell prompt before the status as unknown, not as a field', () => {
    const s = parseCiliumStatus('root@kind-worker:/home/cilium# cilium status\nKVStore:   Disabled\n');
    assert.deepEqual(
      s.unknownLines.map((u) => u.line),
      [1],
    );
    assert.equal(s.fields['root@kind-worker'], undefined);
  });
});
