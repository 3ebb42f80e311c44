/**
 * Agent status read whole: every field of the parsed status compared at once, for a real 1.18
 * `cilium status` and for the shapes of older and verbose outputs (KubeProxyReplacement Details,
 * the controller table, `Host Routing:`, tunnel routing, two IPAM families, a markdown-indented
 * copy, CRLF), plus the cluster-wide cilium-cli summary and text that is no status at all.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type CiliumStatus, parseCiliumStatus } from '../../../support/parsers/status.ts';
import { realWorld } from '../helpers/real-world.ts';

const EMPTY: CiliumStatus = {
  format: 'unknown',
  kubeProxyReplacement: null,
  kubeProxyReplacementDevices: [],
  routing: null,
  hostRouting: null,
  ipam: null,
  ipamAllocations: [],
  masquerading: null,
  ciliumVersion: null,
  ciliumHealth: null,
  attachMode: null,
  deviceMode: null,
  tunnel: null,
  controllers: null,
  kubeProxyReplacementDetails: {},
  fields: {},
  unknownLines: [],
};
const { fields: _none, ...NO_FIELDS } = EMPTY;

describe('agent status read whole', () => {
  it('cilium status 1.18.6 on kind (KPR true, BPF host routing)', (t) => {
    const text = realWorld(t, 'cilium-dbg-status-1.18.6-kind-native-kpr-true-bpfhostrouting-idx60285825367.txt');
    if (text === null) return;
    const s = parseCiliumStatus(text);
    const { fields, ...rest } = s;
    assert.deepEqual(rest, {
      ...NO_FIELDS,
      format: 'agent',
      kubeProxyReplacement: 'True',
      kubeProxyReplacementDevices: ['eth0 10.89.0.2 fc00:f853:ccd:e793::2 fe80::d4af:58ff:feb7:fc82 (Direct Routing)'],
      routing: { network: 'Native', host: 'BPF', tunnelProtocol: null },
      hostRouting: 'BPF',
      ipam: 'IPv4: 2/254 allocated from 10.244.3.0/24',
      ipamAllocations: [{ family: 'IPv4', used: 2, total: 254, cidr: '10.244.3.0/24' }],
      masquerading: {
        mode: 'BPF',
        ipv4: true,
        ipv6: false,
        raw: 'BPF   [eth0]   10.244.0.0/16  [IPv4: Enabled, IPv6: Disabled]',
      },
      ciliumVersion: '1.18.6',
      ciliumHealth: 'Ok',
      attachMode: 'Legacy TC',
      deviceMode: 'veth',
      controllers: { healthy: 16, total: 16, list: [] },
      unknownLines: [{ line: 1, text: 'root@kind-worker:/home/cilium# cilium status' }],
    });
    assert.deepEqual(Object.keys(fields), [
      'KVStore',
      'Kubernetes',
      'Kubernetes APIs',
      'KubeProxyReplacement',
      'Host firewall',
      'SRv6',
      'CNI Chaining',
      'CNI Config file',
      'Cilium',
      'NodeMonitor',
      'Cilium health daemon',
      'IPAM',
      'IPv4 BIG TCP',
      'IPv6 BIG TCP',
      'BandwidthManager',
      'Routing',
      'Attach Mode',
      'Device Mode',
      'Masquerading',
      'Controller Status',
      'Proxy Status',
      'Global Identity Range',
      'Hubble',
      'Encryption',
      'Cluster health',
      'Modules Health',
    ]);
    assert.deepEqual(
      [fields.Kubernetes, fields.Cilium, fields.IPAM, fields['Modules Health']],
      [
        'Ok         1.33 (v1.33.7) [linux/amd64]',
        'Ok   1.18.6 (v1.18.6-95896696)',
        'IPv4: 2/254 allocated from 10.244.3.0/24,',
        'Stopped(12) Degraded(0) OK(62)',
      ],
    );
  });

  const VERBOSE = [
    'Defaulted container "cilium-agent" out of: cilium-agent, config (init)',
    'KVStore:                Ok   Disabled',
    'KubeProxyReplacement Details:',
    '  Status:                 True',
    '  Socket LB:              Enabled',
    '  - Session Affinity:     Enabled',
    '  no colon here',
    'Controller Status:       2/3 healthy',
    '  Name                        Last success   Last error   Count   Message',
    '  cilium-health-ep            41s ago        never        0       no error',
    '  sync-policymap-1            never          5s ago       x       failed  badly',
    '  short  row',
    'Host Routing:            Legacy',
    'Cilium:                  Degraded',
    'Tunnel:                  vxlan',
    'Routing:                 Network: Tunnel [vxlan]   Host: Legacy',
    'IPAM:                    IPv4: 3/254 allocated from 10.0.1.0/24, IPv6: 2/65534 allocated,',
    'Masquerading:            Disabled',
  ];
  const VERBOSE_PARSED: CiliumStatus = {
    ...EMPTY,
    format: 'agent',
    kubeProxyReplacement: 'True',
    routing: { network: 'Tunnel', host: 'Legacy', tunnelProtocol: 'vxlan' },
    hostRouting: 'Legacy',
    ipam: 'IPv4: 3/254 allocated from 10.0.1.0/24, IPv6: 2/65534 allocated',
    ipamAllocations: [
      { family: 'IPv4', used: 3, total: 254, cidr: '10.0.1.0/24' },
      { family: 'IPv6', used: 2, total: 65534, cidr: null },
    ],
    masquerading: { mode: 'Disabled', ipv4: null, ipv6: null, raw: 'Disabled' },
    ciliumHealth: 'Degraded',
    tunnel: 'vxlan',
    controllers: {
      healthy: 2,
      total: 3,
      list: [
        { name: 'cilium-health-ep', lastSuccess: '41s ago', lastError: 'never', count: 0, message: 'no error' },
        { name: 'sync-policymap-1', lastSuccess: 'never', lastError: '5s ago', count: null, message: 'failed  badly' },
      ],
    },
    kubeProxyReplacementDetails: { Status: 'True', 'Socket LB': 'Enabled', 'Session Affinity': 'Enabled' },
    fields: {
      KVStore: 'Ok   Disabled',
      'KubeProxyReplacement Details': '',
      'Controller Status': '2/3 healthy',
      'Host Routing': 'Legacy',
      Cilium: 'Degraded',
      Tunnel: 'vxlan',
      Routing: 'Network: Tunnel [vxlan]   Host: Legacy',
      IPAM: 'IPv4: 3/254 allocated from 10.0.1.0/24, IPv6: 2/65534 allocated,',
      Masquerading: 'Disabled',
    },
  };

  it('verbose shapes: KPR details as the KPR value, the controller table, tunnel routing, two IPAM families', () => {
    assert.deepEqual(parseCiliumStatus(VERBOSE.join('\n')), VERBOSE_PARSED);
  });

  it('a markdown-indented copy with CRLF line ends reads the same', () => {
    const indented = VERBOSE.map((l) => `    ${l}`).join('\r\n');
    assert.deepEqual(parseCiliumStatus(`${indented}\r\n`), VERBOSE_PARSED);
    // Tabs count as indentation too.
    assert.deepEqual(parseCiliumStatus(VERBOSE.map((l) => `\t${l}`).join('\n')), VERBOSE_PARSED);
  });

  it('the older Host Routing line, a KPR line with several devices, Cilium with a version, attach/device mode', () => {
    const s = parseCiliumStatus(
      [
        'KubeProxyReplacement:    Strict   [eth0 172.18.0.2 (Direct Routing), eth1   10.0.0.2]',
        'Host Routing:            BPF   (something)',
        'Cilium:                  Ok   1.15.0-rc.1 (v1.15.0-rc.1-f582c55c)',
        'Attach Mode:             TCX',
        'Device Mode:             netkit',
        'Controller Status:       not a count',
        'Masquerading:            IPTables [IPv4: Disabled, IPv6: Enabled]',
      ].join('\n'),
    );
    const { fields: _f, ...rest } = s;
    assert.deepEqual(rest, {
      ...NO_FIELDS,
      format: 'agent',
      kubeProxyReplacement: 'Strict',
      kubeProxyReplacementDevices: ['eth0 172.18.0.2 (Direct Routing)', 'eth1 10.0.0.2'],
      hostRouting: 'BPF',
      masquerading: { mode: 'IPTables', ipv4: false, ipv6: true, raw: 'IPTables [IPv4: Disabled, IPv6: Enabled]' },
      ciliumVersion: '1.15.0-rc.1',
      ciliumHealth: 'Ok',
      attachMode: 'TCX',
      deviceMode: 'netkit',
    });
  });

  it('a KubeProxyReplacement line wins over the details; a Routing line without Network is no routing', () => {
    const s = parseCiliumStatus(
      [
        'KubeProxyReplacement:    False',
        'KubeProxyReplacement Details:',
        '  Status:   True',
        'Routing:                 something else',
        'IPAM:                    IPv4: 5/13 allocated,',
      ].join('\n'),
    );
    assert.deepEqual(
      [s.kubeProxyReplacement, s.kubeProxyReplacementDevices, s.routing, s.hostRouting, s.ipamAllocations],
      ['False', [], null, null, [{ family: 'IPv4', used: 5, total: 13, cidr: null }]],
    );
  });
});

describe('agent status edges', () => {
  it('controller rows: four columns without a message, counts that are not whole numbers, ten and more', () => {
    const s = parseCiliumStatus(
      [
        'KVStore:                 Ok',
        'Controller Status:       3/3 healthy',
        '  Name    Last success   Last error   Count   Message',
        '  a       1s ago         never        12',
        '  b       1s ago         never        12x',
        '  c       1s ago         never        x12',
      ].join('\n'),
    );
    assert.deepEqual(
      s.controllers!.list.map((c) => [c.name, c.count, c.message]),
      [
        ['a', 12, ''],
        ['b', null, ''],
        ['c', null, ''],
      ],
    );
  });

  it('KPR devices separated by a bare comma or with blanks before it; a first word that follows a blank', () => {
    assert.deepEqual(
      parseCiliumStatus('KubeProxyReplacement:    True [eth0,eth1 , eth2]\n').kubeProxyReplacementDevices,
      ['eth0', 'eth1', 'eth2'],
    );
    const s = parseCiliumStatus(
      [
        'Host Routing:            BPF\t(x)',
        'Cilium:                  Ok\t1.16.5 (v1.16.5)',
        'Masquerading:            BPF\t[eth0]',
        'IPAM:                    IPv4: 12/254 allocated,  ',
      ].join('\n'),
    );
    assert.deepEqual(
      [s.hostRouting, s.ciliumHealth, s.ciliumVersion, s.masquerading!.mode, s.ipam, s.ipamAllocations],
      ['BPF', 'Ok', '1.16.5', 'BPF', 'IPv4: 12/254 allocated', [{ family: 'IPv4', used: 12, total: 254, cidr: null }]],
    );
  });

  it('versions with more than one digit per part; a health word alone; a version not after the first word', () => {
    const v = (cil: string) => {
      const s = parseCiliumStatus(`Cilium:   ${cil}\n`);
      return [s.ciliumHealth, s.ciliumVersion];
    };
    assert.deepEqual(
      [v('Ok   1.18.10 (v1.18.10-1)'), v('Ok   10.0.0'), v('Warning'), v('Ok x 1.2.3')],
      [
        ['Ok', '1.18.10'],
        ['Ok', '10.0.0'],
        ['Warning', null],
        ['Ok', null],
      ],
    );
  });

  it('a label is top-level only at the base indentation, not deeper and not shallower', () => {
    const s = parseCiliumStatus(['KVStore:   Ok', '  Nested:   x', 'Tunnel:   vxlan'].join('\n'));
    assert.deepEqual(Object.keys(s.fields), ['KVStore', 'Tunnel']);
    const indented = parseCiliumStatus(['    KVStore:   Ok', 'Prompt: x', '    Tunnel:   vxlan'].join('\n'));
    assert.deepEqual(Object.keys(indented.fields), ['KVStore', 'Tunnel']);
  });
});

describe('agent status gaps', () => {
  it('blank-looking lines, an empty KPR value, Routing without Host, no KPR at all, IPAM without a trailing comma', () => {
    const s = parseCiliumStatus(
      [
        '   ',
        'KVStore:                 Ok',
        '\t',
        'Routing:                 Network: Tunnel [vxlan]',
        'IPAM:                    IPv4: 3/254 allocated from 10.0.1.0/24',
      ].join('\n'),
    );
    assert.deepEqual(
      [s.unknownLines, s.kubeProxyReplacement, s.routing, s.hostRouting, s.ipamAllocations],
      [
        [],
        null,
        { network: 'Tunnel', host: null, tunnelProtocol: 'vxlan' },
        null,
        [{ family: 'IPv4', used: 3, total: 254, cidr: '10.0.1.0/24' }],
      ],
    );
    const empty = parseCiliumStatus('KubeProxyReplacement:\nKVStore:   Ok\n');
    assert.deepEqual(
      [empty.format, empty.kubeProxyReplacement, empty.kubeProxyReplacementDevices],
      ['agent', null, []],
    );
    assert.deepEqual(parseCiliumStatus('hello\n   \nworld\n').unknownLines, [
      { line: 1, text: 'hello' },
      { line: 3, text: 'world' },
    ]);
  });
});

describe('not an agent status', () => {
  it('the cluster-wide cilium-cli summary is reported as such, with nothing read', () => {
    for (const line of [
      'DaemonSet              cilium             Desired: 2, Ready: 2/2, Available: 2/2',
      '   Deployment   cilium-operator   Desired: 1, Ready: 1/1',
      'Cluster Pods:          5/5 managed by Cilium',
    ])
      assert.deepEqual(parseCiliumStatus(`KVStore:   Ok\n${line}\n`), { ...EMPTY, format: 'cilium-cli' });
  });

  it('text without any status label keeps every non-blank line as unknown', () => {
    assert.deepEqual(parseCiliumStatus('hello\n\n  world: yes\r\n'), {
      ...EMPTY,
      unknownLines: [
        { line: 1, text: 'hello' },
        { line: 3, text: '  world: yes' },
      ],
    });
  });
});
