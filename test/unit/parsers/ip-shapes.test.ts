/**
 * iproute2 output read whole: every field of every route, neighbour and interface compared at
 * once, for the text of a real kind node and pod (1.18.6) and for the shapes `ip -j` prints
 * (metrics mtu, multipath nexthops, several NUD states, link_index peers), plus lines that are not
 * routes, neighbours or interfaces.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Interface, parseIpAddr, parseIpNeigh, parseIpRoute } from '../../../support/parsers/ip.ts';
import { route } from '../helpers/ip-route.ts';
import { realWorld } from '../helpers/real-world.ts';

const FILE = 'ip-route-node-and-pod-1.18.6-kind-native-autodirectnoderoutes-idx60285825367.txt';

describe('ip route read whole', () => {
  it('a kind node (1.18.6, native routing): gateway, proto, metric, scope, src', (t) => {
    const text = realWorld(t, FILE);
    if (text === null) return;
    const lines = text.split('\n').slice(26, 30);
    assert.deepEqual(parseIpRoute(lines.join('\n')), {
      routes: [
        route({ dst: 'default', gateway: '10.89.0.1', dev: 'eth0', protocol: 'static', metric: 100, raw: lines[0]! }),
        route({
          dst: '10.89.0.0/24',
          dev: 'eth0',
          protocol: 'kernel',
          scope: 'link',
          prefsrc: '10.89.0.4',
          raw: lines[1]!,
        }),
        route({
          dst: '10.244.0.0/24',
          gateway: '10.244.0.154',
          dev: 'cilium_host',
          protocol: 'kernel',
          prefsrc: '10.244.0.154',
          raw: lines[2]!,
        }),
        route({ dst: '10.244.0.154', dev: 'cilium_host', protocol: 'kernel', scope: 'link', raw: lines[3]! }),
      ],
      unknownLines: [],
    });
  });

  it('text shapes: route types, mtu lock, via inet6, table, multipath nexthops, non-routes', () => {
    const lines = [
      'local 10.244.0.1 dev cilium_host table local proto kernel scope host src 10.244.0.1',
      '10.244.1.0/24 via 10.244.1.1 dev cilium_host mtu lock 1450 metric x',
      '10.244.2.0/24 proto bird metric 20',
      '\tnexthop via 172.18.0.4 dev eth0 weight 1',
      '\tnexthop dev eth1 weight 1',
      'default via inet6 fe80::1 dev eth0 mtu 1400',
      'blackhole 10.0.0.0/8',
      'Error: ipv4: FIB table does not exist.',
      'nexthop via 1.1.1.1 dev eth0',
      '10.0.0.0/8 frobnicate 1',
      'unreachable',
      '10.9.0.0/16 dev',
    ];
    assert.deepEqual(parseIpRoute(lines.join('\r\n')), {
      routes: [
        route({
          dst: '10.244.0.1',
          type: 'local',
          dev: 'cilium_host',
          table: 'local',
          protocol: 'kernel',
          scope: 'host',
          prefsrc: '10.244.0.1',
          raw: lines[0]!,
        }),
        route({ dst: '10.244.1.0/24', gateway: '10.244.1.1', dev: 'cilium_host', mtu: 1450, raw: lines[1]! }),
        route({
          dst: '10.244.2.0/24',
          protocol: 'bird',
          metric: 20,
          nexthops: [
            { gateway: '172.18.0.4', dev: 'eth0' },
            { gateway: null, dev: 'eth1' },
          ],
          raw: lines[2]!,
        }),
        route({ dst: 'default', gateway: 'fe80::1', dev: 'eth0', mtu: 1400, raw: lines[5]! }),
        route({ dst: '10.0.0.0/8', type: 'blackhole', raw: lines[6]! }),
        route({ dst: '10.9.0.0/16', raw: lines[11]! }),
      ],
      unknownLines: [
        { line: 8, text: lines[7] },
        { line: 9, text: lines[8] },
        { line: 10, text: lines[9] },
        { line: 11, text: lines[10] },
      ],
    });
  });

  it('every route type word; numbers that are not whole numbers', () => {
    const d = parseIpRoute(
      [
        'unicast 10.1.0.0/16 via 10.0.0.1 dev eth0 metric 5x',
        'broadcast 10.0.0.255 dev eth0 table local proto kernel scope link src 10.0.0.1',
        'multicast ff00::/8 dev eth0 table local proto kernel metric x5',
        'prohibit 10.2.0.0/16 mtu 15a',
        'throw 10.3.0.0/16',
        'unreachable 10.4.0.0/16',
        'anycast fe80:: dev eth0 table local proto kernel metric 0',
        'nat 10.5.0.0/16 via 10.0.0.2',
      ].join('\n'),
    );
    assert.deepEqual(d.unknownLines, []);
    assert.deepEqual(
      d.routes.map((r) => [r.type, r.dst, r.metric, r.mtu]),
      [
        ['unicast', '10.1.0.0/16', null, null],
        ['broadcast', '10.0.0.255', null, null],
        ['multicast', 'ff00::/8', null, null],
        ['prohibit', '10.2.0.0/16', null, null],
        ['throw', '10.3.0.0/16', null, null],
        ['unreachable', '10.4.0.0/16', null, null],
        ['anycast', 'fe80::', 0, null],
        ['nat', '10.5.0.0/16', null, null],
      ],
    );
  });

  it('ip -j route: every field, mtu from metrics, nexthops, table as text', () => {
    const json = [
      {
        type: 'unicast',
        dst: '10.244.1.0/24',
        gateway: '10.244.1.1',
        dev: 'cilium_host',
        protocol: 'kernel',
        scope: 'link',
        prefsrc: '10.244.0.1',
        metric: 5,
        table: 254,
        flags: [],
        metrics: [{ advmss: 1400 }, { mtu: 1450 }],
      },
      { dst: 'default', mtu: 1500, metrics: [{ mtu: 9000 }], nexthops: [{ gateway: '172.18.0.1', dev: 'eth0' }, {}] },
      { dst: '10.0.0.0/8', metrics: 'x', gateway: 7, metric: '5' },
      {},
    ];
    const parsed = parseIpRoute(`  ${JSON.stringify(json)}`);
    assert.deepEqual(parsed, {
      routes: [
        route({
          dst: '10.244.1.0/24',
          type: 'unicast',
          gateway: '10.244.1.1',
          dev: 'cilium_host',
          protocol: 'kernel',
          scope: 'link',
          prefsrc: '10.244.0.1',
          metric: 5,
          mtu: 1450,
          table: '254',
          raw: JSON.stringify(json[0]),
        }),
        route({
          dst: 'default',
          mtu: 1500,
          nexthops: [
            { gateway: '172.18.0.1', dev: 'eth0' },
            { gateway: null, dev: null },
          ],
          raw: JSON.stringify(json[1]),
        }),
        route({ dst: '10.0.0.0/8', raw: JSON.stringify(json[2]) }),
        route({ dst: '', raw: '{}' }),
      ],
      unknownLines: [],
    });
    // Not a JSON list (an object, broken JSON): read as text, where it is no route.
    assert.deepEqual(parseIpRoute('{"dst":"default"}').routes, []);
    assert.deepEqual(parseIpRoute('[{"dst":').unknownLines, [{ line: 1, text: '[{"dst":' }]);
  });
});

describe('ip neigh read whole', () => {
  it('text: lladdr, dev, one or several states, router; route lines and others are unknown', () => {
    const lines = [
      '10.244.0.26 dev eth0 lladdr 76:f0:bd:76:76:77 REACHABLE',
      'fe80::1 dev eth0 lladdr 02:00:00:00:00:01 router STALE PROBE',
      '10.244.0.27 dev eth0 FAILED',
      '10.244.0.28 dev eth0 INCOMPLETE',
      '10.244.0.29 dev eth0',
      'default via 10.0.0.1 dev eth0 lladdr x',
      '10.0.0.0/8 dev eth0 lladdr 02:00:00:00:00:02 REACHABLE',
      '10.0.0.1 proto kernel NONE',
      '10.0.0.2 scope link NOARP',
      '10.0.0.3 src 1.1.1.1 PERMANENT',
    ];
    const { neighbours, unknownLines } = parseIpNeigh(lines.join('\n'));
    assert.deepEqual(neighbours, [
      {
        ip: '10.244.0.26',
        lladdr: '76:f0:bd:76:76:77',
        dev: 'eth0',
        state: 'REACHABLE',
        router: false,
        raw: lines[0],
      },
      { ip: 'fe80::1', lladdr: '02:00:00:00:00:01', dev: 'eth0', state: 'STALE,PROBE', router: true, raw: lines[1] },
      { ip: '10.244.0.27', lladdr: null, dev: 'eth0', state: 'FAILED', router: false, raw: lines[2] },
      { ip: '10.244.0.28', lladdr: null, dev: 'eth0', state: 'INCOMPLETE', router: false, raw: lines[3] },
    ]);
    assert.deepEqual(
      unknownLines.map((u) => u.line),
      [5, 6, 7, 8, 9, 10],
    );
    // lladdr as the last word: no value.
    assert.equal(parseIpNeigh('10.0.0.9 dev eth0 lladdr').neighbours[0]!.lladdr, null);
  });

  it('ip -j neigh: state lists joined, a state string, router flags', () => {
    const json = [
      { dst: '10.0.0.1', dev: 'eth0', lladdr: '02:00:00:00:00:01', state: ['STALE', 'PROBE'], router: null },
      { dst: '10.0.0.2', state: 'FAILED', router: false },
      { dst: '10.0.0.3', state: 5 },
      {},
    ];
    assert.deepEqual(parseIpNeigh(JSON.stringify(json)), {
      neighbours: [
        {
          ip: '10.0.0.1',
          lladdr: '02:00:00:00:00:01',
          dev: 'eth0',
          state: 'STALE,PROBE',
          router: true,
          raw: JSON.stringify(json[0]),
        },
        { ip: '10.0.0.2', lladdr: null, dev: null, state: 'FAILED', router: false, raw: JSON.stringify(json[1]) },
        { ip: '10.0.0.3', lladdr: null, dev: null, state: null, router: false, raw: JSON.stringify(json[2]) },
        { ip: '', lladdr: null, dev: null, state: null, router: false, raw: '{}' },
      ],
      unknownLines: [],
    });
  });
});

describe('ip addr read whole', () => {
  it('a kind pod (1.18.6): loopback and the veth peer, MACs, addresses with scope', (t) => {
    const text = realWorld(t, FILE);
    if (text === null) return;
    const lines = text.split('\n').slice(0, 13);
    const expected: Interface[] = [
      {
        ifindex: 1,
        name: 'lo',
        link: null,
        flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
        mtu: 65536,
        state: 'UNKNOWN',
        mac: '00:00:00:00:00:00',
        addresses: [
          { family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' },
          { family: 'inet6', local: '::1', prefixlen: 128, scope: 'host' },
        ],
        raw: lines[1]!,
      },
      {
        ifindex: 11,
        name: 'eth0',
        link: 'if12',
        flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
        mtu: 1500,
        state: 'UP',
        mac: 'a6:36:57:51:25:c6',
        addresses: [
          { family: 'inet', local: '10.244.0.66', prefixlen: 32, scope: 'global' },
          { family: 'inet6', local: 'fe80::a436:57ff:fe51:25c6', prefixlen: 64, scope: 'link' },
        ],
        raw: lines[7]!,
      },
    ];
    assert.deepEqual(parseIpAddr(lines.join('\n')), {
      interfaces: expected,
      unknownLines: [{ line: 1, text: '[root@localhost kind]# nsenter -t 10280 -n ip a' }],
    });
  });

  it('text shapes: no flags, no mtu or state, altname/vxlan/veth detail lines, an address without scope, stray lines', () => {
    const lines = [
      '5: cilium_vxlan: <> mtu x',
      '    altname enp0s1',
      '    vxlan external id 0 srcport 0 0 dstport 8472',
      '    veth peer stuff',
      '    inet 10.0.0.1/24 brd 10.0.0.255',
      '    something else',
      'not indented',
    ];
    assert.deepEqual(parseIpAddr(lines.join('\n')), {
      interfaces: [
        {
          ifindex: 5,
          name: 'cilium_vxlan',
          link: null,
          flags: [],
          mtu: null,
          state: null,
          mac: null,
          addresses: [{ family: 'inet', local: '10.0.0.1', prefixlen: 24, scope: null }],
          raw: lines[0]!,
        },
      ],
      unknownLines: [
        { line: 6, text: lines[5] },
        { line: 7, text: lines[6] },
      ],
    });
    assert.deepEqual(parseIpAddr('    inet 10.0.0.1/24 scope global\n').unknownLines, [
      { line: 1, text: '    inet 10.0.0.1/24 scope global' },
    ]);
  });

  it('ip -j addr: link by name or index, flags, operstate, MAC, only inet/inet6 addresses', () => {
    const json = [
      {
        ifindex: 11,
        ifname: 'eth0',
        link_index: 12,
        flags: ['UP'],
        mtu: 1500,
        operstate: 'UP',
        address: 'a6:36:57:51:25:c6',
        addr_info: [
          { family: 'inet', local: '10.244.0.66', prefixlen: 32, scope: 'global' },
          { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
          { family: 'packet', local: 'x', prefixlen: 0 },
        ],
      },
      { ifindex: 3, ifname: 'cilium_net', link: 'cilium_host', link_index: 4 },
      { ifindex: 4 },
    ];
    assert.deepEqual(parseIpAddr(JSON.stringify(json)), {
      interfaces: [
        {
          ifindex: 11,
          name: 'eth0',
          link: 'if12',
          flags: ['UP'],
          mtu: 1500,
          state: 'UP',
          mac: 'a6:36:57:51:25:c6',
          addresses: [
            { family: 'inet', local: '10.244.0.66', prefixlen: 32, scope: 'global' },
            { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: null },
          ],
          raw: JSON.stringify(json[0]),
        },
        {
          ifindex: 3,
          name: 'cilium_net',
          link: 'cilium_host',
          flags: [],
          mtu: null,
          state: null,
          mac: null,
          addresses: [],
          raw: JSON.stringify(json[1]),
        },
        {
          ifindex: 4,
          name: '',
          link: null,
          flags: [],
          mtu: null,
          state: null,
          mac: null,
          addresses: [],
          raw: JSON.stringify(json[2]),
        },
      ],
      unknownLines: [],
    });
  });
});
