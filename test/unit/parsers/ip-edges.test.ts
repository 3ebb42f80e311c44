/**
 * Edge behaviours of the iproute2 parsers: toleration of extra whitespace, truncated lines and
 * non-indented or prefixed lines; `ip route get` "cache" lines; routes whose first attribute
 * after the destination is any route keyword; `via inet`/`via inet6` gateways; multipath
 * next hops without a route or without a dev; every NUD state word; `brd` before `scope` in
 * `ip addr`; `ip monitor` "Deleted" lines; `alias` lines; carriage returns inside a line; and
 * odd-but-valid JSON (null metrics entries, addr_info without `local`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIpAddr, parseIpNeigh, parseIpRoute } from '../../../support/parsers/ip.ts';
import { route } from '../helpers/ip-route.ts';

describe('parseIpRoute edges', () => {
  it('keeps a truncated "metric" with no value as null', () => {
    const raw = 'default via 10.89.0.1 dev eth0 proto static metric';
    assert.deepEqual(parseIpRoute(raw), {
      routes: [route({ dst: 'default', gateway: '10.89.0.1', dev: 'eth0', protocol: 'static', raw })],
      unknownLines: [],
    });
  });

  it('accepts a route whose first attribute after the destination is any route keyword', () => {
    const lines = [
      'blackhole 10.1.0.0/16 scope host',
      'unreachable 10.2.0.0/16 src 10.0.0.1',
      'blackhole 10.3.0.0/16 metric 10',
      'blackhole 10.4.0.0/16 table 100',
      'unreachable 2001:db8:1::/48 pref medium',
      '2001:db8:2::/48 expires 300sec dev eth0',
      '10.5.0.0/16 advmss 1400 dev eth0',
      '10.6.0.0/16 initcwnd 10 dev eth0',
      '10.7.0.0/16 initrwnd 10 dev eth0',
      '10.8.0.0/16 realm 2 dev eth0',
      '10.9.0.0/16 weight 1 dev eth0',
      '10.10.0.0/16 onlink dev eth0',
      '10.11.0.0/16 linkdown dev eth0',
      '10.12.0.0/16 nexthop via 10.0.0.1 dev eth0',
    ];
    const r = parseIpRoute(lines.join('\n'));
    assert.deepEqual(r.unknownLines, []);
    assert.deepEqual(
      r.routes.map((x) => [x.type, x.dst, x.scope, x.prefsrc, x.metric, x.table, x.dev]),
      [
        ['blackhole', '10.1.0.0/16', 'host', null, null, null, null],
        ['unreachable', '10.2.0.0/16', null, '10.0.0.1', null, null, null],
        ['blackhole', '10.3.0.0/16', null, null, 10, null, null],
        ['blackhole', '10.4.0.0/16', null, null, null, '100', null],
        ['unreachable', '2001:db8:1::/48', null, null, null, null, null],
        [null, '2001:db8:2::/48', null, null, null, null, 'eth0'],
        [null, '10.5.0.0/16', null, null, null, null, 'eth0'],
        [null, '10.6.0.0/16', null, null, null, null, 'eth0'],
        [null, '10.7.0.0/16', null, null, null, null, 'eth0'],
        [null, '10.8.0.0/16', null, null, null, null, 'eth0'],
        [null, '10.9.0.0/16', null, null, null, null, 'eth0'],
        [null, '10.10.0.0/16', null, null, null, null, 'eth0'],
        [null, '10.11.0.0/16', null, null, null, null, 'eth0'],
        [null, '10.12.0.0/16', null, null, null, null, 'eth0'],
      ],
    );
  });

  it('reads `ip route get` output: the indented "cache" line is not a route nor a next hop', () => {
    const first = '10.244.1.5 via 172.18.0.3 dev eth0 src 172.18.0.2 uid 0 ';
    const r = parseIpRoute(`${first}\n    cache \n`);
    assert.deepEqual(r, {
      routes: [route({ dst: '10.244.1.5', gateway: '172.18.0.3', dev: 'eth0', prefsrc: '172.18.0.2', raw: first })],
      unknownLines: [{ line: 2, text: '    cache ' }],
    });
  });

  it('reads a gateway of the other family printed as `via inet6 …` / `via inet …`', () => {
    const a = 'default via inet6 fe80::1 dev eth0 proto bgp';
    const b = '2001:db8::/64 via inet 10.0.0.1 dev eth0 metric 1024';
    assert.deepEqual(parseIpRoute(`${a}\n${b}`), {
      routes: [
        route({ dst: 'default', gateway: 'fe80::1', dev: 'eth0', protocol: 'bgp', raw: a }),
        route({ dst: '2001:db8::/64', gateway: '10.0.0.1', dev: 'eth0', metric: 1024, raw: b }),
      ],
      unknownLines: [],
    });
  });

  it('does not attach a leading nexthop line (paste cut above its route) and keeps it unknown', () => {
    const text = '\tnexthop via 10.0.0.1 dev eth0 weight 1\n10.0.0.0/8 dev eth1';
    assert.deepEqual(parseIpRoute(text), {
      routes: [route({ dst: '10.0.0.0/8', dev: 'eth1', raw: '10.0.0.0/8 dev eth1' })],
      unknownLines: [{ line: 1, text: '\tnexthop via 10.0.0.1 dev eth0 weight 1' }],
    });
  });

  it('reads a next hop without a dev as dev null', () => {
    const r = parseIpRoute('default proto static metric 1\n\tnexthop via 10.0.0.1 weight 1');
    assert.deepEqual(r.routes[0]!.nexthops, [{ gateway: '10.0.0.1', dev: null }]);
  });

  it('tolerates runs of spaces and tabs between words', () => {
    const raw = '10.244.1.0/24  via 10.89.0.3\tdev eth0';
    assert.deepEqual(parseIpRoute(raw), {
      routes: [route({ dst: '10.244.1.0/24', gateway: '10.89.0.3', dev: 'eth0', raw })],
      unknownLines: [],
    });
  });

  it('strips only a line-ending carriage return; one inside a line is kept in raw', () => {
    const r = parseIpRoute('default via 10.0.0.1 dev eth0\r10.0.0.0/8 dev eth1\r\n');
    assert.deepEqual(
      r.routes.map((x) => x.raw),
      ['default via 10.0.0.1 dev eth0\r10.0.0.0/8 dev eth1'],
    );
  });

  it('ignores a null entry in the JSON metrics list', () => {
    const r = parseIpRoute('[{"dst":"10.0.0.0/8","dev":"eth0","metrics":[null,{"mtu":1450}]}]');
    assert.equal(r.routes[0]!.mtu, 1450);
  });
});

describe('parseIpNeigh edges', () => {
  it('reads every NUD state word', () => {
    const text = [
      '10.0.0.1 dev eth0 lladdr 02:42:ac:12:00:01 DELAY',
      '10.0.0.2 dev eth0 NOARP',
      '10.0.0.3 dev eth0 lladdr 02:42:ac:12:00:03 PERMANENT',
      '10.0.0.4 dev eth0 NONE',
    ].join('\n');
    const r = parseIpNeigh(text);
    assert.deepEqual(r.unknownLines, []);
    assert.deepEqual(
      r.neighbours.map((n) => [n.ip, n.lladdr, n.state]),
      [
        ['10.0.0.1', '02:42:ac:12:00:01', 'DELAY'],
        ['10.0.0.2', null, 'NOARP'],
        ['10.0.0.3', '02:42:ac:12:00:03', 'PERMANENT'],
        ['10.0.0.4', null, 'NONE'],
      ],
    );
  });

  it('tolerates runs of spaces between words', () => {
    const raw = '10.244.0.50 dev  eth0 lladdr  7e:b5:77:fa:4c:e4  REACHABLE';
    assert.deepEqual(parseIpNeigh(raw), {
      neighbours: [
        { ip: '10.244.0.50', lladdr: '7e:b5:77:fa:4c:e4', dev: 'eth0', state: 'REACHABLE', router: false, raw },
      ],
      unknownLines: [],
    });
  });
});

describe('parseIpAddr edges', () => {
  it('reads the scope of an inet line that has brd before scope', () => {
    const text = [
      '2: eth0@if5: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default ',
      '    link/ether 02:42:ac:12:00:02 brd ff:ff:ff:ff:ff:ff link-netnsid 0',
      '    inet 172.18.0.2/16 brd 172.18.255.255 scope global eth0',
      '       valid_lft forever preferred_lft forever',
    ].join('\n');
    assert.deepEqual(parseIpAddr(text).interfaces[0]!.addresses, [
      { family: 'inet', local: '172.18.0.2', prefixlen: 16, scope: 'global' },
    ]);
  });

  it('does not read an `ip monitor` "Deleted" line as an interface header', () => {
    const text = 'Deleted 5: veth1a2b@if4: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default ';
    assert.deepEqual(parseIpAddr(text), { interfaces: [], unknownLines: [{ line: 1, text }] });
  });

  it('tolerates extra spaces in the interface header', () => {
    const raw = '1:  lo:  <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN';
    assert.deepEqual(parseIpAddr(raw), {
      interfaces: [
        {
          ifindex: 1,
          name: 'lo',
          link: null,
          flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
          mtu: 65536,
          state: 'UNKNOWN',
          mac: null,
          addresses: [],
          raw,
        },
      ],
      unknownLines: [],
    });
  });

  it('does not read a header with a carriage return inside it', () => {
    const text = '2: eth0: <UP> mtu 1500\r state UP';
    assert.deepEqual(parseIpAddr(text), { interfaces: [], unknownLines: [{ line: 1, text }] });
  });

  it('attaches only indented lines to the interface above', () => {
    const head = '2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP';
    const r = parseIpAddr(`${head}\nlink/ether 02:42:ac:12:00:02 brd ff:ff:ff:ff:ff:ff\nveth1a2b@if4 UP`);
    assert.deepEqual(r.interfaces[0]!.mac, null);
    assert.deepEqual(r.unknownLines, [
      { line: 2, text: 'link/ether 02:42:ac:12:00:02 brd ff:ff:ff:ff:ff:ff' },
      { line: 3, text: 'veth1a2b@if4 UP' },
    ]);
  });

  it('keeps an alias line unknown even when its text mentions link/… or inet …', () => {
    const text = [
      '2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP',
      '    link/ether 02:42:ac:12:00:02 brd ff:ff:ff:ff:ff:ff',
      '    alias uplink/eth0 to spine, was inet 10.9.0.1/24',
    ].join('\n');
    const r = parseIpAddr(text);
    assert.equal(r.interfaces[0]!.mac, '02:42:ac:12:00:02');
    assert.deepEqual(r.interfaces[0]!.addresses, []);
    assert.deepEqual(r.unknownLines, [{ line: 3, text: '    alias uplink/eth0 to spine, was inet 10.9.0.1/24' }]);
  });

  it('reads an ip -j addr_info entry without local as an empty local', () => {
    const r = parseIpAddr('[{"ifindex":2,"ifname":"eth0","addr_info":[{"family":"inet","prefixlen":24}]}]');
    assert.deepEqual(r.interfaces[0]!.addresses, [{ family: 'inet', local: '', prefixlen: 24, scope: null }]);
  });
});

describe('ip neigh: an entry a routing daemon installed', () => {
  // `ip neigh add … protocol zebra nud reachable` then `ip neigh show` (iproute2 6.1, Debian 12):
  // the protocol is printed after the state.
  it('is a neighbour, its state read before `proto zebra`; a route line with `proto` stays unknown', () => {
    const text = '10.9.9.9 dev v0 lladdr 02:00:00:00:00:01 REACHABLE proto zebra \n10.0.0.0/24 dev eth0 proto kernel\n';
    const parsed = parseIpNeigh(text);
    assert.deepEqual(
      parsed.neighbours.map((n) => [n.ip, n.dev, n.lladdr, n.state]),
      [['10.9.9.9', 'v0', '02:00:00:00:00:01', 'REACHABLE']],
    );
    assert.deepEqual(parsed.unknownLines, [{ line: 2, text: '10.0.0.0/24 dev eth0 proto kernel' }]);
  });
});
