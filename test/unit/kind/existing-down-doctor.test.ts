import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { contradictions, ExistingBackend } from '../../../support/backends/existing/index.ts';
import { LOCK_NAME } from '../../../support/backends/k8s/run-lock.ts';
import { checkKind } from '../../../support/backends/kind/host-checks.ts';
import { down } from '../../../support/cli/down.ts';
import { InfraError, UsageError } from '../../../support/errors.ts';
import { snapshotCounters } from '../../../support/probes/counters.ts';
import { type ApiSession, putProbePods, startApiSession } from '../helpers/kind/api-session.ts';
import type { FakeApiServer } from '../helpers/kind/fake-apiserver.ts';
import { ScriptedExecutor } from '../helpers/kind/scripted-executor.ts';

let session: ApiSession;
let api: FakeApiServer;
let dir: string;
let kubeconfig: string;

before(async () => {
  session = await startApiSession('hp-existing-', 'prod-eu');
  ({ api, dir, kubeconfig } = session);
  for (const [name, cp] of [
    ['ip-10-0-1-5', true],
    ['ip-10-0-2-7', false],
    ['ip-10-0-3-9', false],
  ] as const)
    api.put('api/v1', 'nodes', {
      metadata: { name, labels: cp ? { 'node-role.kubernetes.io/control-plane': '' } : {} },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
      },
    });
  api.put('apis/apps/v1', 'daemonsets', {
    metadata: { name: 'cilium', namespace: 'kube-system', generation: 2 },
    spec: {
      template: { spec: { containers: [{ name: 'cilium-agent', image: 'quay.io/cilium/cilium:v1.14.5@sha256:ab' }] } },
    },
    status: { desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3, observedGeneration: 2 },
  });
  for (const n of ['ip-10-0-1-5', 'ip-10-0-2-7', 'ip-10-0-3-9'])
    api.put('api/v1', 'pods', {
      metadata: { name: `cilium-${n.slice(-3)}`, namespace: 'kube-system', labels: { 'k8s-app': 'cilium' } },
      spec: { nodeName: n },
      status: { phase: 'Running' },
    });
  api.onCreate('daemonsets', (ds) => {
    ds.status = { desiredNumberScheduled: 3, numberReady: 3 };
    putProbePods(api, ds, ['ip-10-0-1-5', 'ip-10-0-2-7', 'ip-10-0-3-9']);
  });
});
after(() => session.stop());

function existing(exec: ScriptedExecutor, progress: string[] = []) {
  return new ExistingBackend(
    { kubeconfig, context: 'prod-eu' },
    { exec, pollMs: 5, wait: { progress: (l) => progress.push(l) }, runId: 'e1e2e3', lockHolder: 'run-existing' },
  );
}

describe('existing backend', () => {
  it('uses the installed Cilium, reaches nodes through the probe pod with nsenter, installs nothing', async () => {
    const exec = new ScriptedExecutor()
      .on(['helm', 'get', 'values'], { stdout: JSON.stringify({ routingMode: 'native', kubeProxyReplacement: false }) })
      .on(['cilium', 'status', '--brief'], { stdout: 'OK\n' })
      .on(['nsenter', '-t', '1', '-m', '-u', '-i', '-n', '-p', '--', 'ip', 'route'], {
        stdout: 'default via 10.0.0.1 dev eth0\n',
      })
      .on(['rm', '-rf'], { stdout: '' });
    const progress: string[] = [];
    const b = existing(exec, progress);
    assert.ok(!b.capabilities().has('lifecycle'));
    await b.provision({
      kindConfig: '',
      ciliumVersion: '1.17.15',
      k8sVersion: 'v1.27.3',
      ciliumValues: { tunnel: 'disabled', kubeProxyReplacement: 'partial', 'ipam.mode': 'kubernetes' },
    });
    assert.match(b.describe(), /Cilium 1\.14\.5/);
    assert.ok(progress.some((l) => /runs Cilium 1\.14\.5; --cilium 1\.17\.15 is ignored/.test(l)));
    assert.ok(progress.some((l) => /does not set ipam\.mode/.test(l)));
    // 1.14 agent: `cilium`, not `cilium-dbg`; helm runs with the user's context
    assert.equal(exec.matching(['exec', '--container', 'cilium-agent', '--', 'cilium', 'status', '--brief']).length, 3);
    assert.ok(exec.matching(['helm', 'get', 'values'])[0]!.argv.includes('prod-eu'));
    assert.equal(exec.matching(['helm', 'upgrade']).length + exec.matching(['kind']).length, 0);

    const r = await b.exec({ kind: 'node', node: 'worker2' }, ['ip', 'route']);
    assert.deepEqual(r.argv.slice(0, 5), ['kubectl', '--kubeconfig', kubeconfig, '--context', 'prod-eu']);
    assert.equal(r.argv[r.argv.indexOf('exec') + 1], 'probe-3-9', 'the probe pod on ip-10-0-3-9 (worker2)');
    // bpftool is not taken from the host: it runs in the probe's container of the agent's image.
    exec.on(['-c', 'bpftool', '--', 'bpftool', 'net', 'show'], { stdout: '' });
    const bpf = await b.exec({ kind: 'node', node: 'worker2' }, ['bpftool', 'net', 'show']);
    assert.deepEqual(bpf.argv.slice(bpf.argv.indexOf('exec')), [
      'exec',
      'probe-3-9',
      '-c',
      'bpftool',
      '--',
      'bpftool',
      'net',
      'show',
    ]);
    assert.deepEqual(exec.refused, []);
    const ds = api.get('apis/apps/v1', 'daemonsets', 'hookpoint-probe', 'hookpoint-e1e2e3')!;
    const pod = ds.spec.template.spec;
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.hostPID, true);
    assert.equal(pod.containers[0].securityContext.privileged, true);
    assert.match(pod.containers[0].image, /^nicolaka\/netshoot:v\d/);
    await b.teardown();
    assert.equal(api.get('api/v1', 'namespaces', 'hookpoint-e1e2e3'), undefined);
    assert.equal(api.get('apis/coordination.k8s.io/v1', 'leases', LOCK_NAME, 'kube-system'), undefined);
  });

  it('--iptables reaches the counter probe through the probe pod: no detection, the forced variant only', async () => {
    const exec = new ScriptedExecutor()
      .on(['helm', 'get', 'values'], { stdout: JSON.stringify({ routingMode: 'native', kubeProxyReplacement: false }) })
      .on(['cilium', 'status', '--brief'], { stdout: 'OK\n' })
      .on(['nsenter', '-t', '1'], { exitCode: 1, stderr: 'unexpected command' })
      .on(['nsenter', '-t', '1', '-m', '-u', '-i', '-n', '-p', '--', 'iptables-legacy-save'], {
        stdout: '*nat\n:KUBE-SERVICES - [0:0]\nCOMMIT\n',
      })
      .on(['rm', '-rf'], { stdout: '' });
    const b = new ExistingBackend(
      { kubeconfig, context: 'prod-eu', iptables: 'legacy' },
      { exec, pollMs: 5, wait: { progress: () => {} }, runId: 'e4e5e6', lockHolder: 'run-existing' },
    );
    await b.provision({ kindConfig: '', ciliumVersion: '1.17.15', k8sVersion: 'v1.27.3', ciliumValues: {} });
    try {
      const before = exec.calls.length;
      const snaps = await snapshotCounters(b, ['worker2']);
      const reads = exec.calls.slice(before).filter((c) => c.argv.some((a) => a.startsWith('iptables')));
      assert.ok(reads.length > 0);
      for (const c of reads) {
        const tail = c.argv.slice(c.argv.indexOf('--', c.argv.indexOf('nsenter')) + 1);
        assert.ok(tail[0]!.startsWith('iptables-legacy') || tail.join(' ').includes('iptables-legacy'), tail.join(' '));
        assert.ok(!tail.join(' ').includes('-S KUBE-SERVICES 1'), 'no detection ran');
      }
      assert.match([...snaps.values()][0]!.summary, /via iptables-legacy/);
    } finally {
      await b.teardown();
    }
  });

  it('refuses feature values the installed release contradicts', async () => {
    const exec = new ScriptedExecutor().on(['helm', 'get', 'values'], {
      stdout: JSON.stringify({ routingMode: 'tunnel', tunnelProtocol: 'vxlan' }),
    });
    const b = existing(exec);
    await assert.rejects(
      b.provision({
        kindConfig: '',
        ciliumVersion: '1.14.5',
        k8sVersion: 'v1.27.3',
        ciliumValues: { routingMode: 'native' },
      }),
      (e: unknown) => e instanceof UsageError && /routingMode=tunnel \(feature: native\)/.test(e.message),
    );
    await b.teardown();
    assert.deepEqual(contradictions({ a: '1', b: '2' }, { a: '1', b: '3', c: '4' }), [
      { key: 'b', wanted: '2', installed: '3' },
    ]);
  });
});

describe('hookpoint down', () => {
  it('is idempotent for a cluster that does not exist', async () => {
    const exec = new ScriptedExecutor().on(['kind', 'get', 'clusters'], { stdout: 'other\n' });
    const said: string[] = [];
    assert.equal(
      await down({ cluster: 'cilium-kubeproxy', reports: dir }, { exec, say: (l) => said.push(l) }),
      'absent',
    );
    assert.match(said[0]!, /No Kind cluster named "cilium-kubeproxy"/);
    assert.equal(exec.matching(['kind', 'delete']).length, 0);
  });

  it('deletes a kept cluster, refusing while another run holds its lock unless --force', async () => {
    const exec = new ScriptedExecutor()
      .on(['kind', 'get', 'clusters'], { stdout: 'cilium-kubeproxy\n' })
      .on(['kind', 'export', 'kubeconfig'], (argv) => {
        writeFileSync(argv[argv.indexOf('--kubeconfig') + 1]!, api.kubeconfig());
        return {};
      })
      .on(['kind', 'delete', 'cluster', '--name', 'cilium-kubeproxy'], {
        stderr: 'Deleting cluster "cilium-kubeproxy" ...\n',
      });
    api.put('apis/coordination.k8s.io/v1', 'leases', {
      metadata: { name: LOCK_NAME, namespace: 'kube-system' },
      spec: { holderIdentity: 'hookpoint-ci-99', leaseDurationSeconds: 60, renewTime: new Date().toISOString() },
    });
    await assert.rejects(
      down({ cluster: 'cilium-kubeproxy', reports: dir }, { exec, say: () => {} }),
      (e: unknown) =>
        e instanceof InfraError &&
        /in use by a Hookpoint run \(hookpoint-ci-99/.test(e.message) &&
        /--force/.test(e.paragraph()),
    );
    assert.equal(exec.matching(['kind', 'delete']).length, 0);
    assert.equal(
      await down({ cluster: 'cilium-kubeproxy', reports: dir, force: true }, { exec, say: () => {} }),
      'deleted',
    );
    assert.equal(exec.matching(['kind', 'delete']).length, 1);
  });

  it('rejects other backends and a missing or malformed cluster name', async () => {
    const exec = new ScriptedExecutor();
    await assert.rejects(
      down({ backend: 'lab', cluster: 'x' }, { exec }),
      (e: unknown) => e instanceof UsageError && /hookpoint lab down/.test(e.paragraph()),
    );
    await assert.rejects(
      down({}, { exec }),
      (e: unknown) => e instanceof UsageError && /--cluster NAME/.test(e.paragraph()),
    );
    await assert.rejects(down({ cluster: 'Bad_Name' }, { exec }), UsageError);
    assert.equal(exec.calls.length, 0);
  });
});

describe('doctor checks for kind', () => {
  it('reports a docker client without an engine, missing tools with install hints, and working ones', async () => {
    const exec = new ScriptedExecutor()
      .on(['docker', 'info'], {
        exitCode: 1,
        stderr: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n',
      })
      .on(['kind', 'version'], () => {
        throw new InfraError('Could not run kind version on host: kind is not installed or not on PATH.');
      })
      .on(['helm', 'version'], { stdout: 'v3.14.4+g81c902a\n' })
      .on(['kubectl', 'version'], { stdout: 'Client Version: v1.30.0\nKustomize Version: v5.0.4\n' });
    const checks = await checkKind(exec);
    assert.deepEqual(
      checks.map((c) => [c.name, c.ok]),
      [
        ['docker', false],
        ['kind', false],
        ['helm', true],
        ['kubectl', true],
      ],
    );
    assert.match(checks[0]!.detail, /client is installed but no engine answers: Cannot connect/);
    assert.match(checks[0]!.install!, /Docker Engine/);
    assert.equal(checks[1]!.detail, 'kind is not installed or not on PATH');
    assert.match(checks[1]!.install!, /kind\.sigs\.k8s\.io/);
    assert.equal(checks[2]!.install, undefined);
    assert.equal(checks[3]!.detail, 'Client Version: v1.30.0');
    assert.ok(exec.matching(['docker', 'info'])[0]!.opts.timeoutMs <= 5000, 'a short timeout for docker info');
  });
});
