/**
 * Probes are armed from what each step definition declares (`arms:`), matched with the same
 * expressions and parameter types cucumber uses: no second grammar over step text.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { loadVocabulary } from '../../support/run/vocabulary-loader.ts';
import { armingOf } from '../../support/scenario/vocabulary.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
await loadVocabulary(ROOT);

test('capture and monitor steps arm their capture point and node; other steps arm nothing', () => {
  const armed = armingOf([
    'pod "client" sends 10 HTTP requests to service "echo"',
    'a capture on pod "client" eth0 sees the ClusterIP of "echo" as destination',
    'a capture on the host veth of pod "client" sees the ClusterIP of "echo" as destination',
    'a capture on node "control-plane" cilium_host sees none of that traffic',
    'cilium monitor on node "worker" shows no translation for traffic from pod "client"',
    'cilium monitor on node "worker" shows traffic from pod "client" to the ClusterIP of "echo" translated to a backend of "echo"',
    'all 10 requests succeed',
  ]);
  assert.deepEqual(armed.captures, [
    { kind: 'pod-eth0', pod: 'client' },
    { kind: 'host-veth', pod: 'client' },
    { kind: 'cilium-host', node: { text: 'control-plane' } },
  ]);
  assert.deepEqual(armed.monitors, [{ text: 'worker' }], 'one monitor per node, however many steps read it');
  assert.equal(armed.counters, false, 'no step judges counters: their snapshots stay on the traffic step');
});

test('a counter step holds the counter snapshots for itself', () => {
  const armed = armingOf(['the KUBE-SEP counters of service "echo" stay flat on every node']);
  assert.equal(armed.counters, true);
});

test('text that only looks like a capture step arms nothing (the whole expression must match)', () => {
  const armed = armingOf(['a note about pod "client" eth0 and cilium monitor on node "worker"']);
  assert.deepEqual(armed, { captures: [], monitors: [], counters: false });
});

test("a bad value in an arming step is the parameter type's own paragraph", () => {
  assert.throws(
    () => armingOf(['a capture on pod "Bad_Name" eth0 sees none of that traffic']),
    /Invalid pod name "Bad_Name"/,
  );
});
