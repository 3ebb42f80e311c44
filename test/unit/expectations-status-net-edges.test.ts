/**
 * Small expectation helpers: the "tunnel protocol" step words on a real agent status (Cilium
 * 1.19, VXLAN tunnel), raw text data, which is not evidence and is cited nowhere, and a
 * neighbour entry printed without a NUD state word.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AssertionError } from 'chai';
import { cite, isEvidence } from '../../support/expectations/evidence-ref.ts';
import { expectNeighbourMac } from '../../support/expectations/net.ts';
import { expectStatusField, STATUS_FIELD_OF_WORDS } from '../../support/expectations/status.ts';
import { parseIpNeigh } from '../../support/parsers/ip.ts';
import { parseCiliumStatus } from '../../support/parsers/status.ts';
import { realWorld } from './helpers/real-world.ts';

test('"tunnel protocol" in a step reads the tunnel protocol of the agent status', (t) => {
  const text = realWorld(t, 'cilium-dbg-status-1.19.0-kubeadm-tunnel-kpr-false-idx55353775762.txt');
  if (text === null) return;
  const status = parseCiliumStatus(text);
  const field = STATUS_FIELD_OF_WORDS['tunnel protocol'];
  assert.equal(field, 'routing.tunnelProtocol');
  expectStatusField(status, field!, 'vxlan');
  assert.throws(() => expectStatusField(status, field!, 'geneve'), AssertionError);
});

test('raw text data is not evidence and is cited nowhere', () => {
  const raw = 'Chain KUBE-SERVICES (2 references)\n';
  assert.equal(isEvidence(raw), false);
  assert.equal(cite(raw), '');
});

test('a neighbour entry without a state word is described by its MAC and device alone', () => {
  // `ip neigh` prints no state word for an entry in state NONE.
  const { neighbours } = parseIpNeigh('10.244.1.30 dev lxc1a2b3c4d5e6f lladdr 0a:58:0a:f4:01:1e\n');
  assert.throws(
    () => expectNeighbourMac(neighbours, '10.244.1.30', '0a:58:0a:f4:01:99'),
    (err: unknown) => {
      assert.ok(err instanceof AssertionError);
      assert.match((err as Error).message, /but it resolves to 0a:58:0a:f4:01:1e on lxc1a2b3c4d5e6f\.$/);
      return true;
    },
  );
});
