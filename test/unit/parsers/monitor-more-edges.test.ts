/**
 * More monitor edges: the ICMP time-exceeded error, which gopacket always prints with its code
 * (`TimeExceeded(TTLExceeded)`, `TimeExceeded(HopLimitExceeded)`), and a verbose `CPU NN:` header
 * pasted cut short before its kind word.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMonitor, parseMonitorLine } from '../../../support/parsers/monitor.ts';

describe('monitor: ICMP time exceeded', () => {
  it('a time-exceeded reply (traceroute through the node) is ICMP, its type and code kept as flags', () => {
    const v4 = parseMonitorLine(
      '-> endpoint 1478 flow 0x0 , identity 2->22446 state related ifindex lxcf51203b3acca orig-ip 172.18.0.1: 172.18.0.1 -> 10.244.1.87 TimeExceeded(TTLExceeded)',
    );
    assert.deepEqual([v4.protocol, v4.flags], ['icmp', 'TimeExceeded(TTLExceeded)']);
    const v6 = parseMonitorLine(
      '-> endpoint 1478 flow 0x0 , identity 2->22446 state related ifindex lxcf51203b3acca orig-ip fd00::1: fd00::1 -> fd00::2 TimeExceeded(HopLimitExceeded)',
    );
    assert.deepEqual([v6.protocol, v6.flags], ['icmpv6', 'TimeExceeded(HopLimitExceeded)']);
  });
});

describe('monitor: verbose header cut short', () => {
  it('a `CPU NN: MARK … FROM N` line cut before its kind word is an unknown line', () => {
    const cut = 'CPU 01: MARK 0x8e37b814 FROM 2927';
    const s = parseMonitor(
      `${cut}\nCPU 01: MARK 0x8e37b814 FROM 2927 to-endpoint: 74 bytes (74 captured), state reply, interface lxc61f83227c4ba, , identity 60386->22196, orig-ip 10.244.2.148, to endpoint 2927\n`,
    );
    assert.deepEqual(
      s.events.map((e) => [e.type, e.cpu, e.srcEndpoint]),
      [
        ['unknown', 1, 2927],
        ['trace', 1, 2927],
      ],
    );
    assert.deepEqual(s.unknownLines, [{ line: 1, text: cut }]);
  });
});
