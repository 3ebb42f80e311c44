/** Names of the lab: DNS-1123 validation and the run prefix that keeps teardown to the lab's own objects. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  labMac,
  lxcName,
  nodeNetns,
  ownsNetns,
  podNetns,
  runPrefix,
  validateCluster,
  validateName,
} from '../../support/backends/lab/names.ts';
import { parseVariants } from '../../support/backends/lab/variants.ts';
import { UsageError } from '../../support/errors.ts';

describe('names', () => {
  it('accepts DNS-1123 labels', () => {
    for (const ok of ['cilium-kubeproxy', 'hpt-1', 'a', 'echo-7d4f9c5b6-x2k9p'])
      assert.equal(validateName('pod', ok), ok);
  });

  for (const bad of ['x;touch p', 'Upper', '-lead', 'trail-', 'a.b', 'a/b', '', 'sp ace', '$(id)', 'a'.repeat(64)])
    it(`refuses ${JSON.stringify(bad)} with a UsageError`, () => {
      assert.throws(
        () => validateName('pod', bad),
        (e: unknown) => e instanceof UsageError && /DNS-1123/.test(e.message),
      );
    });

  it('caps cluster names at 40 characters', () => {
    assert.equal(validateCluster('c'.repeat(40)), 'c'.repeat(40));
    assert.throws(() => validateCluster('c'.repeat(41)), UsageError);
    assert.throws(() => runPrefix('x;touch p'), UsageError);
  });

  it('prefixes every namespace with hp.<cluster>. and owns only those', () => {
    assert.equal(nodeNetns('hpt-a', 'hpt-a-worker'), 'hp.hpt-a.hpt-a-worker');
    assert.equal(podNetns('hpt-a', 'client'), 'hp.hpt-a.pod.client');
    assert.ok(ownsNetns('hpt-a', 'hp.hpt-a.pod.client'));
    assert.ok(!ownsNetns('hpt-a', 'hp.hpt-ab.pod.client'), 'another lab whose name starts the same');
    assert.ok(!ownsNetns('hpt-a', 'hp.hpt-a.'), 'the bare prefix');
    assert.ok(!ownsNetns('hpt-a', 'hpdpx-n'));
    assert.ok(!ownsNetns('hpt-a', 'hp.hpt-a./../x'));
  });

  it('names host veths like Cilium (lxc + 12 hex = 15 characters) and gives local unicast MACs', () => {
    const n = lxcName('hpt-a', 'client');
    assert.match(n, /^lxc[0-9a-f]{12}$/);
    assert.notEqual(n, lxcName('hpt-b', 'client'));
    const mac = labMac('hpt-a', 'x');
    assert.match(mac, /^0a(:[0-9a-f]{2}){5}$/);
  });

  it('parses variants, comma-separated, and refuses unknown ones', () => {
    assert.deepEqual(parseVariants('no-tc, no-native-route'), ['no-native-route', 'no-tc']);
    assert.deepEqual(parseVariants(undefined), []);
    assert.throws(
      () => parseVariants('no-tc,no-kube-proxy'),
      (e: unknown) =>
        e instanceof UsageError && /no-kube-proxy/.test(e.paragraph()) && /no-local-redirect/.test(e.paragraph()),
    );
  });
});
