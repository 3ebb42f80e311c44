/**
 * iptables -L chain headers with a reference count of two or more digits: kube-proxy's
 * KUBE-MARK-MASQ is jumped to from every service chain, so counts such as 154 are common.
 * Sample: `iptables -t nat -nvL` as posted in a public ingress-nginx/MetalLB write-up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIptables, parseIptablesList } from '../../../support/parsers/iptables.ts';

const MARK_MASQ = [
  'Chain KUBE-MARK-MASQ (154 references)',
  ' pkts bytes target     prot opt in     out     source               destination',
  '    9   540 MARK       all  --  *      *       0.0.0.0/0            0.0.0.0/0            MARK or 0x4000',
  '',
].join('\n');

describe('iptables -L chain header with a many-digit reference count', () => {
  it('reads the chain, its reference count and its rule', () => {
    const dump = parseIptablesList(MARK_MASQ);
    assert.deepEqual(dump.unknownLines, []);
    assert.equal(dump.chains.length, 1);
    const c = dump.chains[0]!;
    assert.equal(c.name, 'KUBE-MARK-MASQ');
    assert.equal(c.references, 154);
    assert.equal(c.rules.length, 1);
    assert.equal(c.rules[0]!.target, 'MARK');
    assert.equal(c.rules[0]!.packets, 9);
    assert.equal(c.rules[0]!.bytes, 540);
  });

  it('detects the listing as -L output from that header', () => {
    const dump = parseIptables(MARK_MASQ);
    assert.equal(dump.format, 'list');
    assert.equal(dump.chains[0]!.references, 154);
  });
});
