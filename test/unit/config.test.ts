import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_NODE_READS, DEFAULTS, loadConfig } from '../../support/config.ts';
import { UsageError } from '../../support/errors.ts';

test('defaults follow the seed: lab backend, Cilium 1.17.15, Kubernetes v1.27.3, cluster cilium-kubeproxy', () => {
  const cfg = loadConfig({}, {});
  assert.equal(cfg.backend, 'lab');
  assert.equal(cfg.cilium, '1.17.15');
  assert.equal(cfg.k8s, 'v1.27.3');
  assert.equal(cfg.cluster, DEFAULTS.cluster);
});

test('flags win over environment', () => {
  const cfg = loadConfig({ cilium: '1.16.15' }, { HOOKPOINT_CILIUM: '1.18.6', HOOKPOINT_BACKEND: 'kind' });
  assert.equal(cfg.cilium, '1.16.15');
  assert.equal(cfg.backend, 'kind');
});

test('an unknown backend lists the valid choices', () => {
  assert.throws(
    () => loadConfig({ backend: 'docker' }, {}),
    (e: unknown) =>
      e instanceof UsageError && /Invalid --backend "docker"/.test(e.message) && /lab, kind, existing/.test(e.message),
  );
});

test('a malformed Cilium version names the expected form', () => {
  assert.throws(
    () => loadConfig({ cilium: '1.17' }, {}),
    (e: unknown) => e instanceof UsageError && /--cilium "1.17"/.test(e.message) && /1\.17\.15/.test(e.message),
  );
});

test('a cluster name with shell metacharacters is rejected', () => {
  assert.throws(
    () => loadConfig({ cluster: 'x;touch p' }, {}),
    (e: unknown) => e instanceof UsageError && /DNS-1123/.test(e.message),
  );
});

test('out-of-range and non-numeric counts are usage errors', () => {
  assert.throws(() => loadConfig({ parallel: '-3' }, {}), /--parallel "-3"/);
  assert.throws(() => loadConfig({ retry: 'two' }, {}), /--retry must be a whole number/);
});

test('nodes read at once: --node-reads over HOOKPOINT_NODE_READS over the default, within 1..64', () => {
  assert.equal(loadConfig({}, {}).nodeReads, DEFAULT_NODE_READS);
  assert.equal(loadConfig({}, { HOOKPOINT_NODE_READS: '8' }).nodeReads, 8);
  assert.equal(loadConfig({ nodeReads: '2' }, { HOOKPOINT_NODE_READS: '8' }).nodeReads, 2);
  assert.throws(() => loadConfig({ nodeReads: '0' }, {}), /--node-reads "0".*from 1 to 64/);
  assert.throws(() => loadConfig({}, { HOOKPOINT_NODE_READS: 'many' }), /--node-reads must be a whole number/);
});

test('variants are validated and only apply to the lab', () => {
  assert.deepEqual(loadConfig({ variant: 'no-tc,no-local-redirect' }, {}).variants, ['no-tc', 'no-local-redirect']);
  assert.throws(
    () => loadConfig({ variant: 'no-bpf' }, {}),
    /Valid choices: no-tc, no-native-route, no-local-redirect/,
  );
  assert.throws(() => loadConfig({ variant: 'no-tc', backend: 'kind' }, {}), /only applies to the lab/);
});

test('the existing backend requires a kubeconfig', () => {
  assert.throws(() => loadConfig({ backend: 'existing' }, {}), /needs a kubeconfig/);
  assert.equal(loadConfig({ backend: 'existing' }, { KUBECONFIG: '/tmp/kc' }).kubeconfig, '/tmp/kc');
});
