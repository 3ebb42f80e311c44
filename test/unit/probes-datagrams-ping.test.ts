/**
 * The UDP and ICMP traffic probes' parsers, on output the tools print (iputils ping, socat):
 * replies, losses and refusals → one outcome per datagram or echo request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDatagramOutcome, socatUdpArgv } from '../../support/probes/datagrams.ts';
import { parsePingOutcomes, pingArgv } from '../../support/probes/ping.ts';

// iputils-ping 20221126 (Debian 12), three requests of which the second was lost.
const PING_ONE_LOST = `PING 10.244.1.194 (10.244.1.194) 56(84) bytes of data.
64 bytes from 10.244.1.194: icmp_seq=1 ttl=63 time=0.081 ms
64 bytes from 10.244.1.194: icmp_seq=3 ttl=63 time=0.052 ms

--- 10.244.1.194 ping statistics ---
3 packets transmitted, 2 received, 33.3333% packet loss, time 414ms
rtt min/avg/max/mdev = 0.052/0.066/0.081/0.014 ms
`;
const PING_UNREACHABLE = `PING 10.244.1.7 (10.244.1.7) 56(84) bytes of data.
From 10.244.0.1 icmp_seq=1 Destination Host Unreachable
From 10.244.0.1 icmp_seq=2 Destination Host Unreachable

--- 10.244.1.7 ping statistics ---
2 packets transmitted, 0 received, +2 errors, 100% packet loss, time 1024ms
`;

describe('ping probe', () => {
  it('one outcome per request: a reply (with its source), a loss (timeout), a refusal', () => {
    const out = parsePingOutcomes(3, 1, PING_ONE_LOST, '');
    assert.deepEqual(
      out.map((o) => [o.seq, o.ok, o.error, o.replyFrom]),
      [
        [1, true, null, '10.244.1.194'],
        [2, false, 'timeout', undefined],
        [3, true, null, '10.244.1.194'],
      ],
    );
    const refused = parsePingOutcomes(2, 1, PING_UNREACHABLE, '');
    assert.deepEqual(
      refused.map((o) => o.error),
      ['refused', 'refused'],
    );
    assert.match(refused[0]!.detail, /Destination Host Unreachable/);
    const broken = parsePingOutcomes(1, 2, '', 'ping: connect: Network is unreachable\n');
    assert.equal(broken[0]!.error, 'other');
    assert.match(broken[0]!.detail, /Network is unreachable/);
    assert.deepEqual(pingArgv('10.0.0.1', 4), ['ping', '-n', '-c', '4', '-i', '0.2', '-W', '1', '10.0.0.1']);
  });
});

describe('datagram probe', () => {
  it("a reply names the pod (the lab's tagged answer or agnhost's bare name); refused and lost are told apart", () => {
    const lab = parseDatagramOutcome(1, 0, 'pod=echo-abc-x1 client=10.244.0.56:49745\n', '');
    assert.deepEqual([lab.ok, lab.answeredBy, lab.clientSeen], [true, 'echo-abc-x1', '10.244.0.56:49745']);
    const agnhost = parseDatagramOutcome(2, 0, 'echo-worker-7d9f\n', '');
    assert.deepEqual([agnhost.ok, agnhost.answeredBy], [true, 'echo-worker-7d9f']);
    const refused = parseDatagramOutcome(
      3,
      1,
      '',
      '2026/12/01 06:37:57 socat[24862] E read(5, 0x561e792cf000, 8192): Connection refused\n',
    );
    assert.deepEqual([refused.ok, refused.error], [false, 'refused']);
    const lost = parseDatagramOutcome(4, 0, '', '');
    assert.deepEqual([lost.ok, lost.error], [false, 'timeout']);
    assert.deepEqual(socatUdpArgv({ ip: '10.96.0.53', port: 53 }), [
      'socat',
      '-t',
      '1',
      '-T',
      '1',
      '-',
      'UDP4:10.96.0.53:53',
    ]);
  });
});
