import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHostPort, parseMonitor, parseMonitorLine } from '../../../support/parsers/monitor.ts';

describe('parseMonitorLine: one-line traces', () => {
  it('reads a to-endpoint trace with orig-ip, identities, ifindex name and the 5-tuple', () => {
    const e = parseMonitorLine(
      '-> endpoint 2927 flow 0x8e37b814 , identity 60386->22196 state reply ifindex lxc61f83227c4ba orig-ip 10.244.2.148: 10.244.2.148:80 -> 10.244.1.56:56944 tcp SYN, ACK',
    );
    assert.equal(e.type, 'trace');
    assert.equal(e.observationPoint, 'to-endpoint');
    assert.equal(e.endpoint, 2927);
    assert.equal(e.srcEndpoint, null);
    assert.equal(e.flowId, '0x8e37b814');
    assert.deepEqual(e.identities, { src: 60386, dst: 22196 });
    assert.equal(e.state, 'reply');
    assert.equal(e.ifindex, 'lxc61f83227c4ba');
    assert.equal(e.interface, 'lxc61f83227c4ba');
    assert.equal(e.origIp, '10.244.2.148');
    assert.deepEqual(e.src, { ip: '10.244.2.148', port: 80 });
    assert.deepEqual(e.dst, { ip: '10.244.1.56', port: 56944 });
    assert.equal(e.protocol, 'tcp');
    assert.equal(e.flags, 'SYN, ACK');
  });

  it('accepts the older form without the comma after the flow id, numeric ifindex and named identities', () => {
    const e = parseMonitorLine(
      '-> stack flow 0xe8858480 identity 11803->host state reply ifindex 0 orig-ip 0.0.0.0: 10.0.1.184:8080 -> 172.26.50.201:56134 tcp SYN, ACK',
    );
    assert.equal(e.observationPoint, 'to-stack');
    assert.equal(e.flowId, '0xe8858480');
    assert.deepEqual(e.identities, { src: 11803, dst: 'host' });
    assert.equal(e.ifindex, 0);
    assert.equal(e.interface, null);
    assert.equal(e.origIp, '0.0.0.0');
  });

  it('reads -> network / overlay / host, bare EchoRequest and icmp EchoReply', () => {
    const a = parseMonitorLine(
      '-> overlay flow 0x0 , identity 19929->unknown state new ifindex cilium_vxlan orig-ip 0.0.0.0: 10.244.0.253 -> 10.244.1.18 EchoRequest',
    );
    assert.equal(a.observationPoint, 'to-overlay');
    assert.equal(a.protocol, 'icmp');
    assert.equal(a.flags, 'EchoRequest');
    assert.deepEqual(a.dst, { ip: '10.244.1.18', port: null });
    const b = parseMonitorLine(
      '-> endpoint 1478 flow 0x0 , identity 13837->22446 state reply ifindex lxcf51203b3acca orig-ip 10.244.0.132: 10.244.0.132 -> 10.244.1.87 icmp EchoReply',
    );
    assert.equal(b.protocol, 'icmp');
    assert.equal(b.flags, 'EchoReply');
    assert.equal(
      parseMonitorLine(
        '-> host flow 0x1 , identity 1->2 state new ifindex 0 orig-ip 0.0.0.0: 1.1.1.1:1 -> 2.2.2.2:2 udp',
      ).observationPoint,
      'to-host',
    );
    assert.equal(
      parseMonitorLine(
        '<- network flow 0x1 , identity 1->2 state new ifindex eth0 orig-ip 0.0.0.0: 1.1.1.1:1 -> 2.2.2.2:2 udp',
      ).observationPoint,
      'from-network',
    );
  });

  it('reads IPv6 tuples and an IPv6 orig-ip', () => {
    const e = parseMonitorLine(
      '-> endpoint 12 flow 0x1 , identity 1->2 state new ifindex lxc1 orig-ip fd00::5: [fd00::1]:80 -> [fd00::2]:9090 tcp SYN',
    );
    assert.equal(e.origIp, 'fd00::5');
    assert.deepEqual(e.src, { ip: 'fd00::1', port: 80 });
    assert.deepEqual(e.dst, { ip: 'fd00::2', port: 9090 });
  });

  it("reads the lab agent's lines with the real grammar: endpoint, identities, ifindex name, orig-ip, tuple", () => {
    const e = parseMonitorLine(
      '-> endpoint 2103 flow 0x9a0c5d11 , identity 41467->20391 state new ifindex lxc2420d7527a95 orig-ip 10.244.0.10: 10.244.0.10:40003 -> 10.244.0.20:80 tcp SYN',
    );
    assert.deepEqual(
      [e.type, e.observationPoint, e.endpoint, e.flowId, e.identities, e.state, e.ifindex, e.interface, e.origIp],
      [
        'trace',
        'to-endpoint',
        2103,
        '0x9a0c5d11',
        { src: 41467, dst: 20391 },
        'new',
        'lxc2420d7527a95',
        'lxc2420d7527a95',
        '10.244.0.10',
      ],
    );
    assert.deepEqual(e.dst, { ip: '10.244.0.20', port: 80 });
    assert.equal(e.flags, 'SYN');
    const stack = parseMonitorLine(
      '-> stack flow 0x6c1f03a2 , identity 41467->remote-node state established ifindex 0 orig-ip 0.0.0.0: 10.244.0.10:40001 -> 172.18.0.3:80 tcp ACK',
    );
    assert.deepEqual([stack.observationPoint, stack.ifindex, stack.identities?.dst], ['to-stack', 0, 'remote-node']);
  });

  it('has no lab words: a "[node]" prefix or a "bpf_redirect->…" tail is not read into any field', () => {
    assert.equal(
      parseMonitorLine('[cp] -> stack flow 0x1 , identity 1->2 state new ifindex 0 orig-ip 0.0.0.0: a -> b').type,
      'unknown',
    );
    const e = parseMonitorLine(
      '-> endpoint 2103 flow 0x0 , identity 0->0 state new ifindex lxc1 orig-ip 10.96.94.95:80: 10.244.0.10:40003 -> 10.244.0.20:80 tcp SYN  bpf_redirect->lxc2',
    );
    assert.ok(!('redirect' in e) && !('node' in e) && !('hook' in e) && !('note' in e) && !('origPort' in e));
  });

  it('reads the bare "-> 0:" capture line without inventing an observation point', () => {
    const e = parseMonitorLine('    -> 0: 10.60.0.182:41510 -> 104.198.14.52:80 tcp ACK, FIN');
    assert.equal(e.type, 'trace');
    assert.equal(e.observationPoint, null);
    assert.deepEqual(e.dst, { ip: '104.198.14.52', port: 80 });
    assert.equal(e.flags, 'ACK, FIN');
  });
});

describe('parseMonitorLine: other event kinds', () => {
  it('reads the verbose header: FROM is the sending endpoint, "to endpoint" the destination', () => {
    const e = parseMonitorLine(
      'CPU 02: MARK 0x65fae318 FROM 2046 to-endpoint: 86 bytes (86 captured), state established, interface lxc_health, , identity host->health, orig-ip fd04::11, to endpoint 2046',
    );
    assert.equal(e.type, 'trace');
    assert.equal(e.cpu, 2);
    assert.equal(e.observationPoint, 'to-endpoint');
    assert.equal(e.srcEndpoint, 2046);
    assert.equal(e.endpoint, 2046);
    assert.equal(e.interface, 'lxc_health');
    assert.deepEqual(e.identities, { src: 'host', dst: 'health' });
    assert.equal(e.origIp, 'fd04::11');
    const s = parseMonitorLine(
      'CPU 01: MARK 0xade976e2 FROM 3006 to-stack: 104 bytes (104 captured), state established, , identity 52663->host, orig-ip 0.0.0.0',
    );
    assert.equal(s.observationPoint, 'to-stack');
    assert.equal(s.endpoint, null);
  });

  it('reads drops with file ids, file names and the older tuple form', () => {
    const a = parseMonitorLine('xx drop (Invalid packet) flow 0x0 to endpoint 0, ifindex 12, file 101:80, ...');
    assert.equal(a.type, 'drop');
    assert.equal(a.message, 'Invalid packet');
    assert.equal(a.file, '101:80');
    assert.equal(a.ifindex, 12);
    const b = parseMonitorLine(
      'xx drop (Invalid source ip) flow 0x0 to endpoint 0, ifindex 8, file bpf_lxc.c:734, ...',
    );
    assert.equal(b.file, 'bpf_lxc.c:734');
    const c = parseMonitorLine(
      'xx drop (Policy denied) flow 0x48357586 to endpoint 211, , identity world->15435: 172.26.50.201:60556 -> 10.0.1.185:8082 tcp SYN',
    );
    assert.equal(c.endpoint, 211);
    assert.deepEqual(c.identities, { src: 'world', dst: 15435 });
    assert.deepEqual(c.src, { ip: '172.26.50.201', port: 60556 });
  });

  it('reads policy verdicts including the stray space before the port and ICMP without ports', () => {
    const a = parseMonitorLine(
      'Policy verdict log: flow 0x63113709 local EP ID 232, remote ID 31028, proto 6, ingress, action audit, match none, 10.0.0.112 :54134 -> 10.29.50.40:80 tcp SYN',
    );
    assert.equal(a.type, 'policy-verdict');
    assert.equal(a.endpoint, 232);
    assert.deepEqual(a.verdict, {
      direction: 'ingress',
      action: 'audit',
      match: 'none',
      remoteIdentity: 31028,
      proto: 6,
    });
    assert.deepEqual(a.src, { ip: '10.0.0.112', port: 54134 });
    const b = parseMonitorLine(
      'Policy verdict log: flow 0x614e9723 local EP ID 3459, remote ID 16777217, proto 6, egress, action allow, match L3-Only, 10.60.0.182:41510 -> 104.198.14.52:80 tcp SYN',
    );
    assert.equal(b.srcEndpoint, 3459);
    assert.equal(b.endpoint, null);
    const c = parseMonitorLine(
      'Policy verdict log: flow 0x0 local EP ID 1687, remote ID world, proto 1, ingress, action allow, match L3-Only, 192.168.60.12 -> 192.168.60.11 EchoRequest',
    );
    assert.equal(c.protocol, 'icmp');
    assert.equal(c.verdict!.remoteIdentity, 'world');
  });

  it('reads DEBUG lines and trace-sock lines', () => {
    const d = parseMonitorLine(
      'CPU 00: MARK 0xf9d30080 FROM 565 DEBUG: Performing reverse NAT, address=10.96.18.67 port=80',
    );
    assert.equal(d.type, 'debug');
    assert.equal(d.srcEndpoint, 565);
    assert.equal(d.message, 'Performing reverse NAT, address=10.96.18.67 port=80');
    const t = parseMonitorLine(
      'CPU 03: [pre-xlate-fwd] cgroup_id: 16761 sock_cookie: 72480, dst [10.96.211.254]:80 tcp',
    );
    assert.equal(t.type, 'trace-sock');
    assert.equal(t.observationPoint, 'pre-xlate-fwd');
    assert.deepEqual(t.dst, { ip: '10.96.211.254', port: 80 });
    assert.equal(t.protocol, 'tcp');
  });

  it('reads TAB-separated layer dumps and L7 records', () => {
    const l = parseMonitorLine(
      'IPv4\t{Contents=[..20..] Payload=[..32..] Version=4 IHL=5 TOS=0 Length=52 Id=13386 Flags=DF FragOffset=0 TTL=63 Protocol=TCP Checksum=62062 SrcIP=10.0.0.85 DstIP=10.0.0.183 Options=[] Padding=[]}',
    );
    assert.equal(l.type, 'layer');
    assert.equal(l.layer!.name, 'IPv4');
    assert.equal(l.layer!.fields.SrcIP, '10.0.0.85');
    assert.equal(l.layer!.fields.Contents, '[..20..]');
    assert.deepEqual(l.dst, { ip: '10.0.0.183', port: null });
    const r = parseMonitorLine(
      '-> Request dns from 3459 ([k8s:org=alliance]) to 0 ([k8s:k8s-app=kube-dns]), identity 323->15194, verdict Forwarded DNS Query: cilium.io. A',
    );
    assert.equal(r.type, 'l7');
    assert.equal(r.srcEndpoint, 3459);
    assert.deepEqual(r.identities, { src: 323, dst: 15194 });
  });
});

describe('parseMonitorLine: malformed input', () => {
  it('never throws and keeps the raw text', () => {
    for (const bad of [
      '->',
      '-> ',
      '-> endpoint',
      '-> endpoint x flow',
      'xx drop (',
      'xx drop (unterminated',
      'CPU : ',
      'CPU 01: MARK',
      'Policy verdict log:',
      '[] -> ',
      '[node',
      'IPv4\t{',
      '\u0000\u0001garbage',
      'totally unrelated text',
    ]) {
      const e = parseMonitorLine(bad);
      assert.equal(e.raw, bad);
      assert.ok(typeof e.type === 'string');
    }
    assert.equal(parseMonitorLine('totally unrelated text').type, 'unknown');
    assert.equal(parseMonitorLine('-> endpoint').type, 'unknown');
  });
});

describe('parseMonitor', () => {
  it('numbers lines, skips blanks, keeps info lines known and lists unknown lines', () => {
    const r = parseMonitor(
      'Listening for events on 8 CPUs with 64x4096 of shared memory\r\nPress Ctrl-C to quit\n\n-> stack flow 0x1 , identity 1->2 state new ifindex 0 orig-ip 0.0.0.0: 1.1.1.1:1 -> 2.2.2.2:2 udp\nwhat is this\n',
    );
    assert.deepEqual(
      r.events.map((e) => [e.line, e.type]),
      [
        [1, 'info'],
        [2, 'info'],
        [4, 'trace'],
        [5, 'unknown'],
      ],
    );
    assert.equal(r.events[0]!.raw.endsWith('\r'), false);
    assert.deepEqual(r.unknownLines, [{ line: 5, text: 'what is this' }]);
  });
  it('parseHostPort handles brackets, bare IPv6 and missing ports', () => {
    assert.deepEqual(parseHostPort('[::1]:80'), { ip: '::1', port: 80 });
    assert.deepEqual(parseHostPort('fe80::1'), { ip: 'fe80::1', port: null });
    assert.deepEqual(parseHostPort('1.2.3.4'), { ip: '1.2.3.4', port: null });
    assert.equal(parseHostPort(''), null);
  });
});
