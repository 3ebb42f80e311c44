import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  agentCli,
  CILIUM_VERSION_FACTS,
  parseCiliumVersion,
  parseK8sVersion,
  statusFormat,
  translateValues,
} from '../../../support/backends/k8s/cilium-versions.ts';
import { UsageError } from '../../../support/errors.ts';

const v = parseCiliumVersion;

describe('version parsing', () => {
  it('accepts chart versions with and without v, and pre-releases', () => {
    assert.deepEqual(v('1.17.15'), { major: 1, minor: 17, patch: 15, pre: '', text: '1.17.15' });
    assert.equal(v('v1.15.0-rc.1').text, '1.15.0-rc.1');
    assert.equal(v('1.15.0-rc.1').pre, 'rc.1');
    assert.equal(parseK8sVersion('1.27.3'), 'v1.27.3');
    assert.equal(parseK8sVersion('v1.30.0'), 'v1.30.0');
  });
  it('rejects malformed versions with a UsageError naming the input', () => {
    for (const bad of ['1.17', 'latest', '1.17.x', '', '1.17.15 ; rm -rf /']) {
      assert.throws(
        () => v(bad),
        (e: unknown) => e instanceof UsageError && e.message.includes(`"${bad}"`),
      );
    }
    for (const bad of ['v1.27', 'kindest/node:v1.27.3', 'v1.27.3-rc.1']) {
      assert.throws(() => parseK8sVersion(bad), UsageError);
    }
  });
});

describe('version knowledge table', () => {
  it('uses cilium-dbg in the agent from 1.15 on', () => {
    assert.equal(agentCli(v('1.14.9')), 'cilium');
    assert.equal(agentCli(v('1.15.0-rc.1')), 'cilium-dbg');
    assert.equal(agentCli(v('1.17.15')), 'cilium-dbg');
  });
  it('knows the status layout changed in 1.16', () => {
    assert.equal(statusFormat(v('1.15.6')), 'host-routing-line');
    assert.equal(statusFormat(v('1.16.0')), 'routing-line');
  });
  it('every boundary comes from a row that names its source', () => {
    for (const f of CILIUM_VERSION_FACTS) {
      assert.match(f.since, /^\d+\.\d+$/);
      assert.ok(f.source.length > 10, `${f.topic} has a source`);
    }
  });
});

describe('translateValues', () => {
  it('rewrites tunnel to routingMode from 1.14 and keeps key order', () => {
    const t = translateValues(v('1.14.0'), { ipam: 'x', tunnel: 'disabled', autoDirectNodeRoutes: 'true' });
    assert.deepEqual(Object.entries(t.values), [
      ['ipam', 'x'],
      ['routingMode', 'native'],
      ['autoDirectNodeRoutes', 'true'],
    ]);
    assert.match(t.notes[0]!, /tunnel=disabled → routingMode=native/);
    const g = translateValues(v('1.15.3'), { tunnel: 'geneve' });
    assert.deepEqual(g.values, { routingMode: 'tunnel', tunnelProtocol: 'geneve' });
  });
  it('rewrites routingMode back to tunnel before 1.14', () => {
    assert.deepEqual(translateValues(v('1.13.4'), { routingMode: 'native' }).values, { tunnel: 'disabled' });
    assert.deepEqual(translateValues(v('1.13.4'), { routingMode: 'tunnel', tunnelProtocol: 'geneve' }).values, {
      tunnel: 'geneve',
    });
  });
  it('maps kubeProxyReplacement words to booleans from 1.14 and back before', () => {
    assert.equal(translateValues(v('1.14.0'), { kubeProxyReplacement: 'strict' }).values.kubeProxyReplacement, 'true');
    for (const w of ['partial', 'probe', 'disabled'])
      assert.equal(translateValues(v('1.16.1'), { kubeProxyReplacement: w }).values.kubeProxyReplacement, 'false');
    assert.equal(translateValues(v('1.13.0'), { kubeProxyReplacement: 'true' }).values.kubeProxyReplacement, 'strict');
    assert.equal(
      translateValues(v('1.13.0'), { kubeProxyReplacement: 'false' }).values.kubeProxyReplacement,
      'disabled',
    );
  });
  it('leaves values of the right era untouched, with no notes', () => {
    const seed = { routingMode: 'native', kubeProxyReplacement: 'false', 'ipam.mode': 'kubernetes' };
    const t = translateValues(v('1.17.15'), seed);
    assert.deepEqual(t.values, seed);
    assert.deepEqual(t.notes, []);
  });
});
