/**
 * What a first real Kind or existing-cluster run would hit (issue 19), each fault shown against
 * the scripted executor and the fake API server behaving as the real tools are documented to.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { boundedArgv, stopTaggedArgv } from '../../../support/backends/k8s/in-container.ts';
import { run, spawnBackground } from '../../../support/exec/index.ts';
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

describe('processes inside containers end with their window', () => {
  it('bounds the monitor and tcpdump inside their containers and stops them there at window end', async (t) => {
    // Documented behaviour (kubernetes/kubernetes#89031, kubernetes/kubectl#1076): killing the
    // local `kubectl exec` does not signal the process it started in the container; the process
    // keeps running there. The model below keeps a process table per container: the local stop
    // removes nothing; only a command run in that container can end what runs there.
    const w = await setup(t);
    if (!w) return;
    await w.backend.provision(SEED);
    const inside = new Map<number, { container: string; argv: string[] }>();
    let seq = 0;
    const containerOf = (argv: readonly string[]) => argv[argv.indexOf('exec') + 1]!;
    const start = (argv: string[]) => {
      inside.set(++seq, { container: containerOf(argv), argv });
      return {
        stdout: argv.includes('monitor') ? w.fx.monitor : '',
        stderr: argv.includes('tcpdump') ? 'tcpdump: listening on eth0\n' : '',
      };
    };
    w.exec.on(['cilium-dbg', 'monitor'], start).on(['nsenter', '--', 'tcpdump'], start);
    w.exec.on(['sh', '-c'], (argv) => {
      // What `kill` does in that container: SIGINT to every process whose environment has the tag.
      const tag = argv.at(-1)!;
      for (const [id, p] of inside)
        if (p.container === containerOf(argv) && p.argv.includes(`HOOKPOINT_WINDOW=${tag}`)) inside.delete(id);
      return { stdout: '' };
    });

    const maxMs = 90_000;
    const mon = w.backend.spawn({ kind: 'agent', node: 'worker' }, ['cilium-dbg', 'monitor', '--type', 'trace'], {
      maxMs,
    });
    const cap = w.backend.spawn({ kind: 'node', node: 'worker' }, ['tcpdump', '-i', 'eth0', '-nn', '-l'], { maxMs });
    await mon.waitFor(/\n/, 1000);
    await cap.waitFor(/listening on /, 1000);
    assert.equal(inside.size, 2, 'both run inside a container');
    for (const p of inside.values()) {
      const at = p.argv.indexOf('timeout');
      assert.ok(at > 0, `bounded by a deadline in the container: ${p.argv.join(' ')}`);
      assert.deepEqual(p.argv.slice(at, at + 4), ['timeout', '-s', 'INT', '90']);
    }
    const res = await mon.stop();
    assert.equal(res.stdout, w.fx.monitor, 'the monitor output is unchanged by the wrapper');
    await cap.stop();
    assert.deepEqual([...inside.values()], [], 'nothing the window started is left in a container');
  });
});

describe('the in-container stop command, run for real on this machine', () => {
  it('ends exactly the processes carrying its tag (env, timeout, sh, tr, grep, kill as in the images)', async () => {
    const mine = spawnBackground(boundedArgv('rr-test-1', 30_000, ['sleep', '30']), { maxMs: 40_000 });
    const other = spawnBackground(boundedArgv('rr-test-2', 30_000, ['sleep', '30']), { maxMs: 40_000 });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const res = await run(stopTaggedArgv('rr-test-1'), { timeoutMs: 10_000 });
      assert.equal(res.exitCode, 0);
      const code = await Promise.race([mine.exited, new Promise((r) => setTimeout(() => r('still running'), 5000))]);
      assert.notEqual(code, 'still running', 'the tagged process ended on SIGINT');
      assert.ok(other.running(), 'a process with another tag is left alone');
    } finally {
      await mine.stop();
      await other.stop();
    }
  });
});
