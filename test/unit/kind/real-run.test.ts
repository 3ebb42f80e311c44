/**
 * What a first real Kind or existing-cluster run would hit (issue 19), each fault shown against
 * the scripted executor and the fake API server behaving as the real tools are documented to.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { INSTALLED_JSON, runCleanups, SEED, setup } from '../helpers/kind/kind-cluster-world.ts';

afterEach(runCleanups);

describe('--reuse with changed Helm values', () => {
  it('restarts the cilium DaemonSet after helm upgrade and waits for the new pods before returning', async (t) => {
    // Documented behaviour: the Cilium chart's `rollOutCiliumPods` defaults to false, so `helm
    // upgrade` with new values only changes the cilium-config ConfigMap; the agents keep the old
    // configuration until their pods are recreated. `kubectl rollout restart daemonset/cilium`
    // patches the pod template (kubectl.kubernetes.io/restartedAt), which bumps
    // metadata.generation; the DaemonSet controller then replaces the pods and reports
    // status.observedGeneration / updatedNumberScheduled / numberReady for the new generation.
    const w = await setup(t, {
      exists: true,
      reuse: true,
      installedJson: JSON.stringify({ ...JSON.parse(INSTALLED_JSON), routingMode: 'tunnel' }),
    });
    if (!w) return;
    const oldPods = () =>
      w.api
        .list('api/v1', 'pods', 'kube-system')
        .filter((p) => p.metadata.labels?.['k8s-app'] === 'cilium')
        .map((p) => p.metadata.name as string);
    w.exec.on(['kubectl', 'rollout', 'restart', 'daemonset/cilium'], (argv) => {
      assert.ok(argv.includes('kube-system'), 'the restart is in Cilium’s namespace');
      const ds = w.api.get('apis/apps/v1', 'daemonsets', 'cilium', 'kube-system')!;
      ds.metadata.generation = (ds.metadata.generation ?? 1) + 1;
      ds.status = { ...ds.status, numberReady: 0, updatedNumberScheduled: 0 };
      const gen = ds.metadata.generation;
      const before = oldPods();
      // The controller replaces the pods a little later (the old ones terminate first).
      setTimeout(() => {
        const nodes = w.api.list('api/v1', 'nodes');
        for (const name of before) w.api.remove('api/v1', 'pods', name, 'kube-system');
        nodes.forEach((n, i) => {
          w.api.put('api/v1', 'pods', {
            metadata: { name: `cilium-new${i}`, namespace: 'kube-system', labels: { 'k8s-app': 'cilium' } },
            spec: { nodeName: n.metadata.name },
            status: { phase: 'Running' },
          });
        });
        ds.status = {
          desiredNumberScheduled: nodes.length,
          numberReady: nodes.length,
          updatedNumberScheduled: nodes.length,
          observedGeneration: gen,
        };
      }, 30);
      return { stdout: 'daemonset.apps/cilium restarted\n' };
    });
    await w.backend.provision(SEED);

    const argvs = w.exec.calls.map((c) => c.argv.join(' '));
    const upgrade = argvs.findIndex((a) => a.startsWith('helm upgrade --install'));
    const restart = argvs.findIndex((a) => / rollout restart daemonset\/cilium/.test(a));
    const firstStatus = argvs.findIndex((a) => / status --brief/.test(a));
    assert.ok(upgrade >= 0, 'the changed values are installed');
    assert.ok(restart > upgrade, 'the agents are restarted after helm upgrade');
    assert.ok(firstStatus > restart, 'agent health is read only after the restart');
    const ds = w.api.get('apis/apps/v1', 'daemonsets', 'cilium', 'kube-system')!;
    assert.equal(
      ds.status.observedGeneration,
      ds.metadata.generation,
      'provision returned only after the new generation',
    );
    const statusPods = w.exec.matching(['status', '--brief']).map((c) => c.argv[c.argv.indexOf('exec') + 1]);
    assert.ok(
      statusPods.every((p) => p?.startsWith('cilium-new')),
      `every agent command after the restart goes to a new pod: ${statusPods.join(', ')}`,
    );
  });

  it('does not restart the agents of a reused cluster whose values already match', async (t) => {
    const w = await setup(t, { exists: true, reuse: true });
    if (!w) return;
    await w.backend.provision(SEED);
    assert.equal(w.exec.matching(['rollout', 'restart']).length, 0);
  });
});
