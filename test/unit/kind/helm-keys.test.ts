import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ChartValuesCache,
  checkValueKeys,
  closestKey,
  indexChartValues,
  isKnownKey,
} from '../../../support/backends/kind/helm-keys.ts';
import { UsageError } from '../../../support/errors.ts';
import { ScriptedExecutor } from '../helpers/kind/scripted-executor.ts';
import { realWorld } from '../helpers/real-world.ts';

const EXCERPT = 'helm-values-excerpt-cilium-1.14.0-rc.0-chart-tgz-wcnikind.yaml.txt';

describe('Helm key checking on the chart 1.14.0-rc.0 values excerpt', () => {
  it('knows the seed keys, nested keys and commented-out keys', (t) => {
    const text = realWorld(t, EXCERPT);
    if (text === null) return;
    const idx = indexChartValues(text);
    for (const k of [
      'routingMode',
      'tunnel',
      'tunnelProtocol',
      'autoDirectNodeRoutes',
      'ipam.mode',
      'ipv4NativeRoutingCIDR',
      'k8sServiceHost',
      'k8sServicePort',
      'hubble.enabled',
      'ipam.operator.clusterPoolIPv4MaskSize',
      // commented out in values.yaml, still a chart key:
      'kubeProxyReplacement',
    ])
      assert.ok(isKnownKey(idx, k), `${k} is known`);
    // A list value takes indexed children (--set list[0]=…).
    assert.ok(isKnownKey(idx, 'ipam.operator.clusterPoolIPv4PodCIDRList[0]'));
    // Lines whose parent was cut from the excerpt are not attributed to the wrong parent.
    assert.ok(!isKnownKey(idx, 'autoDirectNodeRoutes.monitorFlags'));
    assert.ok(!isKnownKey(idx, 'enableIPv4Masquerade.cidr'));
    assert.ok(!isKnownKey(idx, 'ipam.nonsense'));
    assert.ok(!isKnownKey(idx, 'hubble.enabled.deeper'));
  });

  it('suggests the closest key on a typo', (t) => {
    const text = realWorld(t, EXCERPT);
    if (text === null) return;
    const idx = indexChartValues(text);
    assert.equal(closestKey(idx, 'routingMod'), 'routingMode');
    assert.equal(closestKey(idx, 'ipam.mdoe'), 'ipam.mode');
    assert.equal(closestKey(idx, 'autoDirectNodeRoute'), 'autoDirectNodeRoutes');
    assert.equal(closestKey(idx, 'ipv4NativeRoutingCidr'), 'ipv4NativeRoutingCIDR');
    assert.equal(closestKey(idx, 'enabled'), 'hubble.enabled');
    assert.equal(closestKey(idx, 'completelyUnrelatedThing'), undefined);
  });

  it('throws one UsageError naming every bad key with its suggestion and the chart version', (t) => {
    const text = realWorld(t, EXCERPT);
    if (text === null) return;
    const idx = indexChartValues(text);
    assert.doesNotThrow(() =>
      checkValueKeys(idx, ['routingMode', 'autoDirectNodeRoutes', 'ipam.mode', 'ipv4NativeRoutingCIDR'], 'x'),
    );
    assert.throws(
      () => checkValueKeys(idx, ['routingMode', 'routingMod', 'ipam.mdoe', 'zzzz.qqqq'], 'cilium/cilium 1.14.0-rc.0'),
      (e: unknown) => {
        assert.ok(e instanceof UsageError);
        assert.match(e.message, /cilium\/cilium 1\.14\.0-rc\.0/);
        assert.match(e.message, /"routingMod" \(did you mean "routingMode"\?\)/);
        assert.match(e.message, /"ipam\.mdoe" \(did you mean "ipam\.mode"\?\)/);
        assert.match(e.message, /"zzzz\.qqqq"(?! \()/);
        assert.doesNotMatch(e.message, /"routingMode"[^?]/);
        assert.equal(e.paragraph().split('\n').length, 1, 'one paragraph');
        return true;
      },
    );
  });
});

describe('indexChartValues on YAML shapes', () => {
  it('handles block scalars, block lists, empty maps and quoted keys', () => {
    const idx = indexChartValues(
      [
        'annotations: {}',
        'extraArgs: []',
        'tolerations:',
        '- operator: Exists',
        '  effect: NoSchedule',
        'script: |',
        '  notAKey: 1',
        'bpf:',
        '  # -- comment at a different column',
        '# masqueradeComment: true',
        '  masquerade: ~',
        '  "quoted.key": 1',
        'nodeSelector:',
        '  kubernetes.io/os: linux',
      ].join('\n'),
    );
    assert.ok(isKnownKey(idx, 'annotations.anything'));
    assert.ok(isKnownKey(idx, 'extraArgs[0]'));
    assert.ok(isKnownKey(idx, 'tolerations[0].operator'));
    assert.ok(!isKnownKey(idx, 'script.notAKey'));
    assert.ok(!isKnownKey(idx, 'notAKey'));
    assert.ok(!isKnownKey(idx, 'effect'));
    assert.ok(isKnownKey(idx, 'bpf.masquerade'));
    assert.ok(isKnownKey(idx, 'bpf.quoted\\.key'));
    assert.ok(isKnownKey(idx, 'nodeSelector.kubernetes\\.io/os'));
  });
});

describe('ChartValuesCache', () => {
  it('runs helm show values once per chart version', async () => {
    const exec = new ScriptedExecutor();
    exec.on(['helm', 'show', 'values'], (argv) => ({
      stdout: argv.includes('1.14.0') ? 'tunnel: ""\n' : 'routingMode: ""\n',
    }));
    const cache = new ChartValuesCache(exec);
    const a = await cache.index({ kind: 'repo' }, '1.14.0');
    await cache.index({ kind: 'repo' }, '1.14.0');
    const b = await cache.index({ kind: 'repo' }, '1.17.15');
    assert.equal(exec.calls.filter((c) => c.argv[0] === 'helm').length, 2);
    assert.deepEqual(exec.calls[0]!.argv, ['helm', 'show', 'values', 'cilium/cilium', '--version', '1.14.0']);
    assert.ok(isKnownKey(a, 'tunnel') && !isKnownKey(a, 'routingMode'));
    assert.ok(isKnownKey(b, 'routingMode'));
    assert.ok(exec.calls.every((c) => c.opts.timeoutMs > 0));
  });
});
