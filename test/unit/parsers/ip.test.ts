import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpAddr, parseIpNeigh, parseIpRoute } from '../../../support/parsers/ip.ts';

describe('parseIpRoute', () => {
  it('reads plain text routes: default, via, dev, proto, scope, src, metric, mtu (also mtu lock)', () => {
    const r = parseIpRoute(
      [
        'default via 10.89.0.1 dev eth0 proto static metric 100',
        '10.244.1.0/24 via 10.89.0.3 dev eth0 proto kernel',
        '10.244.0.0/24 via 10.244.0.154 dev cilium_host proto kernel src 10.244.0.154 mtu 1450',
        '10.244.0.154 dev cilium_host proto kernel scope link',
        'local 10.0.0.1 dev lo table local proto kernel scope host src 10.0.0.1',
        'unreachable 10.9.0.0/16 mtu lock 1400',
        'default proto static metric 1',
        '\tnexthop via 10.0.0.1 dev eth0 weight 1',
        '\tnexthop via 10.0.0.2 dev eth1 weight 1',
      ].join('\n'),
    );
    assert.deepEqual(r.unknownLines, []);
    assert.deepEqual(
      r.routes.map((x) => [x.type, x.dst, x.gateway, x.dev, x.protocol, x.scope, x.prefsrc, x.metric, x.mtu, x.table]),
      [
        [null, 'default', '10.89.0.1', 'eth0', 'static', null, null, 100, null, null],
        [null, '10.244.1.0/24', '10.89.0.3', 'eth0', 'kernel', null, null, null, null, null],
        [null, '10.244.0.0/24', '10.244.0.154', 'cilium_host', 'kernel', null, '10.244.0.154', null, 1450, null],
        [null, '10.244.0.154', null, 'cilium_host', 'kernel', 'link', null, null, null, null],
        ['local', '10.0.0.1', null, 'lo', 'kernel', 'host', '10.0.0.1', null, null, 'local'],
        ['unreachable', '10.9.0.0/16', null, null, null, null, null, null, 1400, null],
        [null, 'default', null, null, 'static', null, null, 1, null, null],
      ],
    );
    assert.deepEqual(r.routes[6]!.nexthops, [
      { gateway: '10.0.0.1', dev: 'eth0' },
      { gateway: '10.0.0.2', dev: 'eth1' },
    ]);
  });
  it('reads ip -j route', () => {
    const r = parseIpRoute(
      '[{"dst":"default","gateway":"10.89.0.1","dev":"eth0","protocol":"static","metric":100,"flags":[]},{"dst":"10.244.0.154","dev":"cilium_host","protocol":"kernel","scope":"link","flags":[]}]',
    );
    assert.deepEqual(
      r.routes.map((x) => [x.dst, x.gateway, x.dev, x.metric, x.scope]),
      [
        ['default', '10.89.0.1', 'eth0', 100, null],
        ['10.244.0.154', null, 'cilium_host', null, 'link'],
      ],
    );
  });
  it('lists non-route lines (prompts, ip addr output) as unknown', () => {
    const r = parseIpRoute(
      'root@node:/# ip route\n1: lo: <LOOPBACK,UP> mtu 65536\nPING 10.0.0.1 (10.0.0.1): 56 data bytes\n',
    );
    assert.equal(r.routes.length, 0);
    assert.equal(r.unknownLines.length, 3);
  });
});

describe('parseIpNeigh', () => {
  it('reads text neighbours with lladdr, state and router flag', () => {
    const r = parseIpNeigh(
      '10.244.0.50 dev eth0 lladdr 7e:b5:77:fa:4c:e4 REACHABLE\n10.0.0.9 dev eth0 FAILED\nfe80::1 dev eth0 lladdr aa:bb:cc:dd:ee:ff router STALE\nnot a neighbour\n10.244.0.154 dev cilium_host proto kernel scope link\n',
    );
    assert.deepEqual(
      r.neighbours.map((n) => [n.ip, n.lladdr, n.dev, n.state, n.router]),
      [
        ['10.244.0.50', '7e:b5:77:fa:4c:e4', 'eth0', 'REACHABLE', false],
        ['10.0.0.9', null, 'eth0', 'FAILED', false],
        ['fe80::1', 'aa:bb:cc:dd:ee:ff', 'eth0', 'STALE', true],
      ],
    );
    assert.deepEqual(
      r.unknownLines.map((u) => u.line),
      [4, 5],
      'a host route is not a neighbour',
    );
  });
  it('reads ip -j neigh', () => {
    const r = parseIpNeigh('[{"dst":"10.244.0.50","dev":"eth0","lladdr":"7e:b5:77:fa:4c:e4","state":["REACHABLE"]}]');
    assert.deepEqual(r.neighbours[0]!.state, 'REACHABLE');
    assert.deepEqual(r.neighbours[0]!.lladdr, '7e:b5:77:fa:4c:e4');
  });
});

describe('parseIpAddr', () => {
  it('reads interfaces, veth peers, MACs and addresses', () => {
    const r = parseIpAddr(
      [
        '11: eth0@if12: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default',
        '    link/ether a6:36:57:51:25:c6 brd ff:ff:ff:ff:ff:ff link-netns netns-6600',
        '    inet 10.244.0.66/32 scope global eth0',
        '       valid_lft forever preferred_lft forever',
        '    inet6 fe80::a436:57ff:fe51:25c6/64 scope link',
        '4: cilium_host@cilium_net: <BROADCAST,MULTICAST,NOARP,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000',
      ].join('\n'),
    );
    assert.deepEqual(r.unknownLines, []);
    const [eth0, host] = r.interfaces;
    assert.deepEqual(
      [eth0!.ifindex, eth0!.name, eth0!.link, eth0!.mtu, eth0!.state, eth0!.mac],
      [11, 'eth0', 'if12', 1500, 'UP', 'a6:36:57:51:25:c6'],
    );
    assert.deepEqual(eth0!.addresses, [
      { family: 'inet', local: '10.244.0.66', prefixlen: 32, scope: 'global' },
      { family: 'inet6', local: 'fe80::a436:57ff:fe51:25c6', prefixlen: 64, scope: 'link' },
    ]);
    assert.equal(host!.link, 'cilium_net');
    assert.ok(host!.flags.includes('NOARP'));
  });
  it('reads ip -j addr', () => {
    const r = parseIpAddr(
      '[{"ifindex":2,"ifname":"eth0","link_index":6,"flags":["UP"],"mtu":1500,"operstate":"UP","address":"02:42:ac:12:00:02","addr_info":[{"family":"inet","local":"172.18.0.2","prefixlen":16,"scope":"global"}]}]',
    );
    assert.deepEqual([r.interfaces[0]!.link, r.interfaces[0]!.addresses[0]!.local], ['if6', '172.18.0.2']);
  });
});
