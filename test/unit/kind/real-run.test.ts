/**
 * What a first real Kind or existing-cluster run would hit (issue 19), each fault shown against
 * the scripted executor and the fake API server behaving as the real tools are documented to.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, it, type TestContext } from 'node:test';
import { ExistingBackend } from '../../../support/backends/existing/index.ts';
import { boundedArgv, stopTaggedArgv } from '../../../support/backends/k8s/in-container.ts';
import { testedCombination } from '../../../support/backends/k8s/tested-versions.ts';
import { checkClusterTool } from '../../../support/backends/kind/host-checks.ts';
import { pinnedNodeImage } from '../../../support/backends/kind/node-images.ts';
import { buildPlan, planFeatures } from '../../../support/cli/plan.ts';
import { loadConfig, parseImageOverrides } from '../../../support/config.ts';
import { InfraError, UsageError } from '../../../support/errors.ts';
import { run, spawnBackground } from '../../../support/exec/index.ts';
import { baseEnvironment, environmentOf } from '../../../support/run/environment-labels.ts';
import { matrixEnvironment, planMatrix } from '../../../support/run/matrix.ts';
import { runFeatures } from '../../../support/run/run-suite.ts';
import { putProbePods, startApiSession } from '../helpers/kind/api-session.ts';
import { CLUSTER, REUSED_WITH_OTHER_VALUES, runCleanups, SEED, setup } from '../helpers/kind/kind-cluster-world.ts';
import { ScriptedExecutor } from '../helpers/kind/scripted-executor.ts';

afterEach(runCleanups);

describe('--reuse with changed Helm values', () => {
  it('restarts the cilium DaemonSet after helm upgrade and waits for the new pods before returning', async (t) => {
    // Documented behaviour: the Cilium chart's `rollOutCiliumPods` defaults to false, so `helm
    // upgrade` with new values only changes the cilium-config ConfigMap; the agents keep the old
    // configuration until their pods are recreated. `kubectl rollout restart daemonset/cilium`
    // patches the pod template (kubectl.kubernetes.io/restartedAt), which bumps
    // metadata.generation; the DaemonSet controller then replaces the pods and reports
    // status.observedGeneration / updatedNumberScheduled / numberReady for the new generation.
    const w = await setup(t, REUSED_WITH_OTHER_VALUES);
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

/** An existing cluster behind the fake API server; Pod Security admission enforcing `podSecurity` by default. */
async function existingCluster(t: TestContext, podSecurity: 'baseline' | 'privileged') {
  const session = await startApiSession('hp-rr-existing-', 'prod');
  t.after(() => session.stop());
  const { api, kubeconfig } = session;
  const nodes = ['ip-10-0-1-5', 'ip-10-0-2-7'];
  for (const name of nodes)
    api.put('api/v1', 'nodes', {
      metadata: { name, labels: {} },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      },
    });
  api.put('apis/apps/v1', 'daemonsets', {
    metadata: { name: 'cilium', namespace: 'kube-system', generation: 1 },
    spec: { template: { spec: { containers: [{ name: 'cilium-agent', image: 'quay.io/cilium/cilium:v1.17.15' }] } } },
    status: { desiredNumberScheduled: 2, numberReady: 2, updatedNumberScheduled: 2, observedGeneration: 1 },
  });
  for (const n of nodes)
    api.put('api/v1', 'pods', {
      metadata: { name: `cilium-${n.slice(-3)}`, namespace: 'kube-system', labels: { 'k8s-app': 'cilium' } },
      spec: { nodeName: n },
      status: { phase: 'Running' },
    });
  // Pod Security admission (documented, kubernetes.io/docs/concepts/security/pod-security-admission):
  // a namespace's level is its `pod-security.kubernetes.io/enforce` label, else the cluster
  // default; baseline forbids privileged containers, hostPID and hostNetwork, so the DaemonSet
  // controller's pod creations are rejected and the DaemonSet never gets ready pods.
  api.onCreate('daemonsets', (ds) => {
    const ns = api.get('api/v1', 'namespaces', ds.metadata.namespace);
    const level = ns?.metadata?.labels?.['pod-security.kubernetes.io/enforce'] ?? podSecurity;
    const spec = ds.spec.template.spec;
    const forbidden =
      level !== 'privileged' &&
      (spec.hostPID ||
        spec.hostNetwork ||
        spec.containers.some((c: { securityContext?: { privileged?: boolean } }) => c.securityContext?.privileged));
    ds.status = { desiredNumberScheduled: nodes.length, numberReady: forbidden ? 0 : nodes.length };
    if (forbidden) return;
    putProbePods(api, ds, nodes);
  });
  const exec = new ScriptedExecutor()
    .on(['cilium-dbg', 'status', '--brief'], { stdout: 'OK\n' })
    .on(['nsenter', '-t', '1'], { stdout: 'default via 10.0.0.1 dev eth0\n' });
  const progress: string[] = [];
  const backend = new ExistingBackend(
    { kubeconfig, context: 'prod' },
    {
      exec,
      pollMs: 5,
      timeouts: { workloadReady: 300 },
      wait: { progress: (l) => progress.push(l), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))) },
      runId: 'e9e8e7',
      lockHolder: 'run-existing',
    },
  );
  t.after(() => backend.teardown().catch(() => {}));
  return { api, exec, backend, progress };
}

describe('existing clusters', () => {
  it('labels the run namespace for privileged Pod Security, so the probe runs where baseline is enforced', async (t) => {
    const c = await existingCluster(t, 'baseline');
    c.exec.on(['helm', 'get', 'values'], { stdout: '{}' });
    await c.backend.provision(SEED);
    const res = await c.backend.exec({ kind: 'node', node: 'ip-10-0-2-7' }, ['ip', 'route']);
    assert.match(res.stdout, /default via/);
    const ns = c.api.get('api/v1', 'namespaces', 'hookpoint-e9e8e7');
    assert.equal(ns?.metadata.labels['pod-security.kubernetes.io/enforce'], 'privileged');
  });

  it('states a skipped values check when helm is not installed, instead of crashing', async (t) => {
    const c = await existingCluster(t, 'privileged');
    // What support/exec raises when the binary is missing (execa ENOENT → this InfraError).
    c.exec.on(['helm', 'get', 'values'], (argv) => {
      throw new InfraError(`Could not run ${argv.join(' ')} on host: helm is not installed or not on PATH.`);
    });
    await c.backend.provision(SEED);
    assert.ok(
      c.progress.some((l) => /values check is skipped: helm is not installed on this machine/.test(l)),
      c.progress.join('\n'),
    );
  });
});

describe('air-gapped and rate-limited users', () => {
  it('creates the Kind cluster from the node image pinned by digest for the kind release that built it', async (t) => {
    // kind v0.20.0's default node image (kind pkg/apis/config/defaults/image.go at tag v0.20.0).
    const w = await setup(t);
    if (!w) return;
    await w.backend.provision(SEED);
    const create = w.exec.matching(['kind', 'create', 'cluster'])[0]!.argv;
    assert.equal(
      create[create.indexOf('--image') + 1],
      'kindest/node:v1.27.3@sha256:3966ac761ae0136263ffdb6cfd4db23ef8a83cba8a463690e98317add2c9ba72',
    );
    assert.equal(pinnedNodeImage('v1.27.3')?.kind, 'v0.20.0');
    assert.ok(w.progress.some((l) => /built by kind v0\.20\.0/.test(l)));
  });

  it('uses every image named with --image: node, cilium, operator, probe, echo, client', async (t) => {
    const images = parseImageOverrides([
      'node=registry.local/kindest/node:v1.27.3,cilium=registry.local/cilium/cilium:v1.17.15',
      'operator=registry.local/cilium/operator-generic:v1.17.15,probe=registry.local/netshoot:v0.13',
      'echo=registry.local/agnhost:2.45,client=registry.local/agnhost:2.45',
    ]);
    const w = await setup(t, { images });
    if (!w) return;
    await w.backend.provision(SEED);
    const create = w.exec.matching(['kind', 'create', 'cluster'])[0]!.argv;
    assert.equal(create[create.indexOf('--image') + 1], 'registry.local/kindest/node:v1.27.3');
    const helm = w.exec.matching(['helm', 'upgrade', '--install'])[0]!.argv.join(' ');
    // The Cilium chart's image.override / operator.image.override replace the whole reference.
    assert.match(helm, /--set image\.override=registry\.local\/cilium\/cilium:v1\.17\.15/);
    assert.match(helm, /--set operator\.image\.override=registry\.local\/cilium\/operator-generic:v1\.17\.15/);
    await w.backend.deployEcho({ name: 'echo', nodes: ['worker'] });
    await w.backend.runClient({ name: 'client', node: 'worker' });
    await w.backend.exec({ kind: 'node', node: 'worker' }, ['tcpdump', '--version']).catch(() => undefined);
    const ns = 'hookpoint-r1a2b3';
    // biome-ignore lint/suspicious/noExplicitAny: the fake API server's objects are free-form JSON.
    const imageOf = (o: Record<string, any>) => (o.spec.template?.spec.containers ?? o.spec.containers)[0].image;
    assert.equal(imageOf(w.api.list('apis/apps/v1', 'deployments', ns)[0]!), 'registry.local/agnhost:2.45');
    assert.equal(imageOf(w.api.get('api/v1', 'pods', 'client', ns)!), 'registry.local/agnhost:2.45');
    assert.equal(
      imageOf(w.api.get('apis/apps/v1', 'daemonsets', 'hookpoint-probe', ns)!),
      'registry.local/netshoot:v0.13',
    );
  });

  it('--kind-load loads the images the local Docker has into the nodes before Cilium is installed', async (t) => {
    // `docker image inspect` exits 0 for a local image and 1 ("No such image") otherwise;
    // `kind load docker-image <image> --name <cluster>` copies a local image into every node.
    const w = await setup(t, { kindLoad: true });
    if (!w) return;
    w.exec.on(['docker', 'image', 'inspect'], (argv) =>
      argv.at(-1) === 'nicolaka/netshoot:v0.13'
        ? { stdout: 'sha256:1234\n' }
        : { exitCode: 1, stderr: `Error: No such image: ${argv.at(-1)}\n` },
    );
    w.exec.on(['kind', 'load', 'docker-image'], (argv) => ({
      stderr: `Image: "${argv[3]}" with ID "sha256:1234" not yet present on node\n`,
    }));
    await w.backend.provision(SEED);
    const argvs = w.exec.calls.map((c) => c.argv.join(' '));
    const load = argvs.indexOf(`kind load docker-image nicolaka/netshoot:v0.13 --name ${CLUSTER}`);
    assert.ok(load > argvs.findIndex((a) => a.startsWith('kind create cluster')), 'after the cluster exists');
    assert.ok(load < argvs.findIndex((a) => a.startsWith('helm upgrade')), 'before Cilium is installed');
    assert.equal(w.exec.matching(['kind', 'load']).length, 1, 'an image missing locally is not loaded');
    assert.ok(
      w.progress.some((l) => /registry\.k8s\.io\/e2e-test-images\/agnhost:2\.45 is not in the local Docker/.test(l)),
    );
  });

  it('refuses an unknown image role and images where the backend cannot use them', () => {
    assert.throws(
      () => parseImageOverrides(['kernel=foo:1']),
      (e: unknown) => e instanceof UsageError && /node, cilium, operator, probe, echo, client/.test(e.paragraph()),
    );
    assert.throws(() => loadConfig({ backend: 'lab', image: 'probe=x/y:1' }, {}), UsageError);
    assert.throws(() => loadConfig({ backend: 'existing', kubeconfig: 'k', image: 'cilium=x/y:1' }, {}), UsageError);
    assert.throws(() => loadConfig({ backend: 'lab', kindLoad: true }, {}), UsageError);
    assert.deepEqual(loadConfig({ backend: 'kind', image: ['probe=a/b:1', 'echo=c/d:2'], kindLoad: true }, {}).images, {
      probe: 'a/b:1',
      echo: 'c/d:2',
    });
  });
});

describe('doctor recommends the kind that built the node image', () => {
  it('names kind v0.20.0 for kindest/node:v1.27.3 (never kind@latest), and notes another installed kind', async () => {
    // kind's documented support: node images work "with the kind version they were released
    // with (and best effort with other releases)"; `kind version` prints "kind v0.20.0 go1.20.4 linux/amd64".
    const missing = new ScriptedExecutor().on(['kind', 'version'], () => {
      throw new InfraError('Could not run kind version on host: kind is not installed or not on PATH.');
    });
    const m = await checkClusterTool('kind', missing, 'v1.27.3');
    assert.equal(m.ok, false);
    assert.match(m.install ?? '', /sigs\.k8s\.io\/kind@v0\.20\.0/);
    assert.doesNotMatch(m.install ?? '', /@latest/);

    const other = new ScriptedExecutor().on(['kind', 'version'], { stdout: 'kind v0.23.0 go1.22.2 linux/amd64\n' });
    const o = await checkClusterTool('kind', other, 'v1.27.3');
    assert.equal(o.ok, true);
    assert.match(o.detail, /built by kind v0\.20\.0; kind v0\.23\.0 runs it best effort only/);

    const same = new ScriptedExecutor().on(['kind', 'version'], { stdout: 'kind v0.20.0 go1.20.4 linux/amd64\n' });
    assert.equal((await checkClusterTool('kind', same, 'v1.27.3')).detail, 'kind v0.20.0 go1.20.4 linux/amd64');
  });
});

describe('versions that were tested together', () => {
  it('knows what Cilium 1.18 is e2e-tested on, with its source, and says nothing it cannot source', () => {
    // cilium/cilium v1.18.14 Documentation/network/kubernetes/compatibility.rst: 1.30, 1.31, 1.32, 1.33.
    assert.equal(testedCombination('1.18.14', 'v1.33.1').verdict, 'tested');
    assert.equal(testedCombination('1.18.6', 'v1.30.0').verdict, 'tested');
    const old = testedCombination('1.18.6', 'v1.27.3');
    assert.equal(old.verdict, 'untested');
    assert.match(
      (old as { message: string }).message,
      /^untested combination: Cilium 1\.18\.6 is e2e-tested on Kubernetes 1\.30–1\.33, not 1\.27 \(cilium\/cilium v1\.18\.14 /,
    );
    assert.equal(testedCombination('1.17.15', 'v1.27.3').verdict, 'unknown', 'no list recorded for 1.17');
  });

  it('hookpoint run warns in the terminal and the report, and goes on (never a refusal)', async () => {
    const reports = mkdtempSync(path.join(tmpdir(), 'hp-rr-compat-'));
    try {
      const config = loadConfig({ backend: 'kind', cilium: '1.18.6', k8s: 'v1.27.3', tags: '@seed', reports }, {});
      assert.match(
        baseEnvironment({ config, backend: new NoBackend() } as never).compatibility ?? '',
        /^untested combination: /,
      );
      const lines: string[] = [];
      const err = await runFeatures({ config, paths: [], log: (l) => lines.push(l) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(
        lines.some((l) => /^hookpoint: warning: untested combination: Cilium 1\.18\.6 .* not 1\.27/.test(l)),
        lines.join('\n'),
      );
      // Whatever stops the run here (this machine has no Docker engine), it is not the combination.
      assert.ok(!(err instanceof Error) || !/untested/.test(err.message));
      const plan = planMatrix({ backend: 'kind', cilium: '1.17.15,1.18.6', k8s: 'v1.27.3' }, [], {});
      assert.match(matrixEnvironment(plan).compatibility ?? '', /untested combination: Cilium 1\.18\.6/);
    } finally {
      rmSync(reports, { recursive: true, force: true });
    }
  });
});

/** A backend that only describes itself (the environment labels read describe()). */
class NoBackend {
  describe() {
    return 'kind (not provisioned)';
  }
}

describe('hookpoint plan --backend kind [paths…]', () => {
  it('prints every command of a run of the features, the workloads with their manifests, in run order', async () => {
    const root = path.join(import.meta.dirname, '..', '..', '..');
    // The seed's folders: features/modes/ asks for other configurations (tunnel mode), planned apart.
    const seed = ['features/pod-gateway', 'features/services', 'features/validation', 'features/visibility'];
    const features = await planFeatures(seed, root);
    assert.ok(features, 'the seed features are planned');
    const text = buildPlan({ backend: 'kind' }, root, features).text;
    const at = (re: RegExp) => {
      const i = text.search(re);
      assert.ok(i >= 0, `the plan has ${re}`);
      return i;
    };
    const order = [
      at(/^kind create cluster /m),
      at(/^helm upgrade --install cilium /m),
      at(/^kubectl .* rollout status daemonset\/cilium/m),
      at(/^kind: Namespace\n[\s\S]*?pod-security\.kubernetes\.io\/enforce: privileged/m),
      at(/^kind: DaemonSet\n[\s\S]*?hostPID: true[\s\S]*?image: nicolaka\/netshoot:v0\.13/m),
      at(/^kind: Deployment\n[\s\S]*?args:\n\s+- netexec/m),
      at(/^kind: Service\n/m),
      at(/^kind: Pod\n[\s\S]*?name: client/m),
      at(/^kubectl .* delete namespace hookpoint-000000/m),
      at(/^kind delete cluster --name cilium-kubeproxy$/m),
    ];
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      'in the order the run makes them',
    );
    // Every here-document is closed, so the text pastes into bash as is.
    assert.equal((text.match(/<<'EOF'$/gm) ?? []).length, (text.match(/^EOF$/gm) ?? []).length);
    // The values come from the features' own "Cilium is installed with" table.
    assert.match(text, /^# values: the features' "Cilium is installed with" table/m);
  });
});

describe('the report environment after --reuse', () => {
  it('comes from the agents’ own status, not from the values asked for', async (t) => {
    const w = await setup(t, REUSED_WITH_OTHER_VALUES);
    if (!w) return;
    await w.backend.provision(SEED);
    const config = loadConfig({ backend: 'kind', cilium: '1.17.15' }, {});
    const env = await environmentOf({ config, backend: w.backend } as never);
    // The scripted agent answers with the real `cilium-dbg status` of a 1.18.2 agent (fixture):
    // the report states what the agent runs.
    assert.equal(env['cilium.version'], '1.18.2');
    assert.match(env['datapath.routing'] ?? '', /Native/);
    const statusCall = w.exec.calls.findLastIndex((c) => c.argv.includes('status') && !c.argv.includes('--brief'));
    const restart = w.exec.calls.findIndex((c) => c.argv.includes('restart'));
    assert.ok(statusCall > restart && restart >= 0, 'read after the agents were restarted');
  });
});

describe('the test double sees through the window wrapper', () => {
  it('still refuses a tool the node image lacks when it is wrapped in env … timeout', () => {
    const exec = new ScriptedExecutor().on(['docker', 'exec'], { stdout: '' });
    assert.throws(
      () =>
        exec.spawn(['docker', 'exec', 'n1', ...boundedArgv('t-1', 5000, ['tcpdump', '-i', 'eth0'])], { maxMs: 6000 }),
      /tcpdump asked of a node container/,
    );
  });
});

describe('existing clusters: versions tested together', () => {
  it('warns about the cluster’s own Cilium and kubelet versions, and goes on', async (t) => {
    const c = await existingCluster(t, 'privileged');
    c.exec.on(['helm', 'get', 'values'], { stdout: '{}' });
    const ds = c.api.get('apis/apps/v1', 'daemonsets', 'cilium', 'kube-system')!;
    ds.spec.template.spec.containers[0].image = 'quay.io/cilium/cilium:v1.18.6';
    for (const n of c.api.list('api/v1', 'nodes')) n.status.nodeInfo = { kubeletVersion: 'v1.27.3' };
    await c.backend.provision(SEED);
    assert.ok(
      c.progress.some((l) =>
        /^warning: untested combination: Cilium 1\.18\.6 is e2e-tested on Kubernetes 1\.30–1\.33, not 1\.27/.test(l),
      ),
      c.progress.join('\n'),
    );
  });
});
