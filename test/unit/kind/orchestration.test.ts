/**
 * Orchestration of the kind backend with a scripted executor (replaying real outputs from
 * ../shared/fixtures/real-world) and a fake API server on 127.0.0.1. Nothing here ran against
 * Docker, Kind or a real cluster.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { LOCK_NAME } from '../../../support/backends/k8s/run-lock.ts';
import { ProvisioningError } from '../../../support/backends/kind/index.ts';
import { InfraError, UsageError } from '../../../support/errors.ts';
import { snapshotCounters } from '../../../support/probes/counters.ts';
import {
  CLUSTER,
  endpointNetworking,
  REUSED_WITH_OTHER_VALUES,
  runCleanups,
  SEED,
  setup,
  type World,
} from '../helpers/kind/kind-cluster-world.ts';

afterEach(runCleanups);

const heads = (w: World) => w.exec.calls.map((c) => c.argv.slice(0, 3).join(' '));

describe('kind backend orchestration (scripted executor + fake API server)', () => {
  it('provisions a fresh cluster: key check, create, install, readiness, lock', async (t) => {
    const w = await setup(t);
    if (!w) return;
    await w.backend.provision(SEED);
    const order = heads(w).filter((h) => /^(helm|kind)/.test(h));
    assert.deepEqual(order, [
      'helm repo add',
      'helm repo update',
      'helm show values',
      'kind version',
      'kind get clusters',
      'kind create cluster',
      'helm upgrade --install',
    ]);
    // The engine and kind that run the cluster, as they name themselves, are stated on every run.
    assert.match(w.backend.describe(), /engine: Docker Engine - Community 24\.0\.7; kind v0\.20\.0/);
    const create = w.exec.matching(['kind', 'create', 'cluster'])[0]!.argv;
    assert.deepEqual(create.slice(3, 9), [
      '--name',
      CLUSTER,
      '--image',
      'kindest/node:v1.27.3@sha256:3966ac761ae0136263ffdb6cfd4db23ef8a83cba8a463690e98317add2c9ba72',
      '--config',
      'kind-configs/two-node.yaml',
    ]);
    assert.equal(create[10], w.backend.kubeconfig, 'per-run kubeconfig');
    const helm = w.exec.matching(['helm', 'upgrade', '--install'])[0]!.argv;
    for (const s of ['routingMode=native', `k8sServiceHost=${CLUSTER}-control-plane`, 'k8sServicePort=6443'])
      assert.ok(helm.includes(s), s);
    assert.ok(helm.includes(w.backend.kubeconfig));
    // every agent answered status --brief, through its own pod, with cilium-dbg (1.17)
    const briefs = w.exec.matching(['exec', '--container', 'cilium-agent', '--', 'cilium-dbg', 'status', '--brief']);
    assert.deepEqual(briefs.map((c) => c.argv[c.argv.indexOf('exec') + 1]).sort(), ['cilium-tjsld', 'cilium-x7k2p']);
    const lease = w.api.get('apis/coordination.k8s.io/v1', 'leases', LOCK_NAME, 'kube-system');
    assert.equal(lease?.spec.holderIdentity, 'hookpoint-test-run');
    assert.ok(
      w.progress.some((l) => /Cilium DaemonSet kube-system\/cilium: 2\/2 agents ready/.test(l)),
      w.progress.join('\n'),
    );
    assert.ok(
      w.exec.calls.every((c) => c.opts.timeoutMs > 0),
      'a timeout on every call',
    );
    assert.match(w.backend.describe(), /kind \+ Cilium 1\.17\.15/);

    // workloads, topology and commands on node, agent and pod
    await w.backend.deployEcho({ name: 'echo', nodes: ['control-plane', 'worker'] });
    const deps = w.api
      .list('apis/apps/v1', 'deployments', 'hookpoint-r1a2b3')
      .map((d) => d.metadata.name)
      .sort();
    assert.deepEqual(deps, ['echo-control-plane', 'echo-worker']);
    const svc = await w.backend.exposeService({ name: 'echo', app: 'echo', port: 80, type: 'ClusterIP' });
    assert.equal(svc.clusterIP, '10.96.94.95');
    assert.deepEqual(svc.endpoints.map((b) => b.node).sort(), [`${CLUSTER}-control-plane`, `${CLUSTER}-worker`]);
    assert.equal(svc.targetPort, 80, 'the echo answers HTTP on 80, as on the lab');
    const client = await w.backend.runClient({ name: 'client', node: 'control-plane' });
    assert.equal(client.node, `${CLUSTER}-control-plane`);
    const topo = await w.backend.topology();
    assert.deepEqual(topo.nodes.map((n) => [n.role, n.ip]).sort(), [
      ['control-plane', '172.18.0.3'],
      ['worker', '172.18.0.2'],
    ]);
    assert.equal(topo.pods.filter((p) => p.app === 'echo').length, 2);
    // endpoint id from the CiliumEndpoint, host veth and MACs from each node's agent endpoint list
    const lists = w.exec.matching(['exec', '--container', 'cilium-agent', '--', 'cilium-dbg', 'endpoint', 'list']);
    assert.deepEqual(lists.map((c) => c.argv[c.argv.indexOf('exec') + 1]).sort(), ['cilium-tjsld', 'cilium-x7k2p']);
    assert.equal(topo.pods.length, 3);
    for (const p of topo.pods) {
      const n = endpointNetworking(p.ip);
      assert.ok(typeof p.endpointId === 'number' && p.endpointId > 1000, `${p.name}: endpoint ${p.endpointId}`);
      assert.deepEqual([p.hostVeth, p.mac, p.hostVethMac], [n.hostVeth, n.mac, n.hostMac], p.name);
    }

    const status = await w.backend.exec({ kind: 'agent', node: 'worker' }, ['cilium', 'status']);
    assert.equal(status.stdout, w.fx.status, 'the agent output is replayed untouched');
    assert.equal(status.argv[status.argv.indexOf('exec') + 1], 'cilium-x7k2p');

    w.exec.on(['docker', 'exec', `${CLUSTER}-worker`, 'iptables-save'], { stdout: w.fx.nftSave });
    const ipt = await w.backend.exec({ kind: 'node', node: 'worker' }, ['iptables-save', '-c', '-t', 'nat']);
    assert.deepEqual(ipt.argv, ['docker', 'exec', `${CLUSTER}-worker`, 'iptables-save', '-c', '-t', 'nat']);

    w.exec.on(['cilium-dbg', 'monitor'], { stdout: w.fx.monitor });
    const mon = w.backend.spawn({ kind: 'agent', node: 'control-plane' }, ['cilium-dbg', 'monitor', '-t', 'trace']);
    await mon.waitFor(/pre-xlate-fwd/, 1000);
    assert.equal((await mon.stop()).stdout, w.fx.monitor);

    // a capture in the client's network namespace, from the probe pod with nsenter
    w.exec.on(['sh', '-c'], { stdout: '4242\n' }).on(['nsenter', '-t', '4242', '-n', '--', 'tcpdump'], { stdout: '' });
    const cap = await w.backend.exec({ kind: 'pod', pod: 'client' }, ['tcpdump', '-i', 'eth0', '-c', '1']);
    const i = cap.argv.indexOf('exec');
    assert.match(cap.argv[i + 1]!, /^hookpoint-probe-/);
    assert.deepEqual(cap.argv.slice(i + 2), [
      '--',
      'nsenter',
      '-t',
      '4242',
      '-n',
      '--',
      'tcpdump',
      '-i',
      'eth0',
      '-c',
      '1',
    ]);
    assert.equal(
      w.api.get('apis/apps/v1', 'daemonsets', 'hookpoint-probe', 'hookpoint-r1a2b3')?.spec.template.spec.hostPID,
      true,
    );

    await w.backend.teardown();
    assert.equal(w.api.get('api/v1', 'namespaces', 'hookpoint-r1a2b3'), undefined, 'run namespace deleted');
    assert.equal(
      w.api.get('apis/coordination.k8s.io/v1', 'leases', LOCK_NAME, 'kube-system'),
      undefined,
      'lock released',
    );
    assert.equal(w.exec.matching(['kind', 'delete', 'cluster', '--name', CLUSTER]).length, 1, '--keep never deletes');
  });

  it('an agent whose `cilium-dbg status --brief` fails makes provisioning broken, naming the command', async (t) => {
    const w = await setup(t, { unhealthyAgentNode: `${CLUSTER}-worker` });
    if (!w) return;
    const err = await w.backend.provision(SEED).then(
      () => assert.fail('provision should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ProvisioningError && err instanceof InfraError, String(err));
    assert.match(err.message, /Cilium 1\.17\.15 did not become ready on cluster "cilium-kubeproxy"/);
    assert.match(err.message, /exit code 1 .*exec cilium-x7k2p .*cilium-dbg status --brief/);
    const briefs = w.exec.matching(['cilium-dbg', 'status', '--brief']);
    assert.ok(
      briefs.some((c) => c.argv.includes('cilium-x7k2p')),
      'the worker agent was asked',
    );
  });

  it('a Helm failure is broken (InfraError) with collected evidence, and --keep on-failure keeps the cluster', async (t) => {
    const w = await setup(t, { helmFails: true, keep: 'on-failure' });
    if (!w) return;
    const err = await w.backend.provision(SEED).then(
      () => assert.fail('provision should fail'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ProvisioningError && err instanceof InfraError);
    assert.match(err.message, /Installing Cilium 1\.17\.15 with Helm failed on cluster "cilium-kubeproxy"/);
    assert.match(err.message, /INSTALLATION FAILED: context deadline exceeded/);
    const kinds = err.evidence.map((e) => e.kind).sort();
    assert.ok(kinds.includes('events') && kinds.includes('describe-pods'), kinds.join(','));
    assert.ok(err.evidence.every((e) => e.commands.length === 1 && e.summary.length > 0));
    assert.equal(w.exec.matching(['get', 'events', '--all-namespaces']).length, 1);
    await w.backend.teardown();
    assert.equal(w.exec.matching(['kind', 'delete', 'cluster']).length, 0);
    assert.ok(w.progress.some((l) => /keeping Kind cluster "cilium-kubeproxy" \(--keep on-failure\)/.test(l)));
  });

  it('times out waiting for Cilium with the last state and the agent logs attached', async (t) => {
    const w = await setup(t, { ciliumReady: 1 });
    if (!w) return;
    const started = Date.now();
    const err = await w.backend.provision(SEED).then(
      () => assert.fail('provision should time out'),
      (e: unknown) => e,
    );
    assert.ok(Date.now() - started < 5000, 'bounded');
    assert.ok(err instanceof ProvisioningError);
    assert.match(err.message, /did not become ready/);
    assert.match(
      err.message,
      /Timed out after 0 s waiting for Cilium DaemonSet kube-system\/cilium; last state: 1\/2 agents ready/,
    );
    const logs = err.evidence.filter((e) => e.kind === 'agent-log');
    assert.equal(logs.length, 2, 'one agent log tail per node');
    assert.ok(logs[0]!.commands[0]!.includes('--tail=200'));
    assert.ok(
      w.progress.some((l) => l.startsWith('waiting for Cilium DaemonSet kube-system/cilium: 1/2 agents ready')),
    );
    await w.backend.teardown();
    assert.equal(w.exec.matching(['kind', 'delete', 'cluster']).length, 1, 'a failed run with --keep never cleans up');
  });

  it('reuses an existing cluster with the same fingerprint: no create, no install', async (t) => {
    const w = await setup(t, { exists: true, reuse: true });
    if (!w) return;
    await w.backend.provision(SEED);
    assert.equal(w.exec.matching(['kind', 'create']).length, 0);
    assert.equal(w.exec.matching(['helm', 'upgrade']).length, 0);
    assert.equal(w.exec.matching(['kind', 'export', 'kubeconfig', '--name', CLUSTER]).length, 1);
    assert.ok(w.progress.some((l) => /already runs Cilium 1\.17\.15 with the same values/.test(l)));
    await w.backend.teardown();
    assert.equal(w.exec.matching(['kind', 'delete']).length, 0, 'a reused cluster is kept');
  });

  it('reinstalls on a reused cluster whose values differ, and refuses an existing cluster without --reuse', async (t) => {
    const w = await setup(t, REUSED_WITH_OTHER_VALUES);
    if (!w) return;
    await w.backend.provision(SEED);
    assert.equal(w.exec.matching(['helm', 'upgrade', '--install']).length, 1);
    assert.ok(w.progress.some((l) => /runs Cilium 1\.17\.15 with other values/.test(l)));

    const v = await setup(t, { exists: true, reuse: false });
    if (!v) return;
    await assert.rejects(
      v.backend.provision(SEED),
      (e: unknown) => e instanceof UsageError && /--reuse/.test(e.paragraph()),
    );
    assert.equal(v.exec.matching(['kind', 'create']).length + v.exec.matching(['helm', 'upgrade']).length, 0);
  });

  it('refuses a cluster whose lock another live run holds; takes over a stale lock', async (t) => {
    const w = await setup(t, { exists: true, reuse: true });
    if (!w) return;
    w.api.put('apis/coordination.k8s.io/v1', 'leases', {
      metadata: { name: LOCK_NAME, namespace: 'kube-system' },
      spec: { holderIdentity: 'hookpoint-ci-4711', leaseDurationSeconds: 60, renewTime: new Date().toISOString() },
    });
    await assert.rejects(
      w.backend.provision(SEED),
      (e: unknown) => e instanceof InfraError && /in use by another Hookpoint run \(hookpoint-ci-4711/.test(e.message),
    );
    assert.equal(w.exec.matching(['helm', 'upgrade']).length, 0, 'nothing installed under someone else’s lock');

    const s = await setup(t, { exists: true, reuse: true });
    if (!s) return;
    s.api.put('apis/coordination.k8s.io/v1', 'leases', {
      metadata: { name: LOCK_NAME, namespace: 'kube-system' },
      spec: {
        holderIdentity: 'hookpoint-crashed',
        leaseDurationSeconds: 60,
        renewTime: new Date(Date.now() - 10 * 60_000).toISOString(),
      },
    });
    await s.backend.provision(SEED);
    assert.equal(
      s.api.get('apis/coordination.k8s.io/v1', 'leases', LOCK_NAME, 'kube-system')?.spec.holderIdentity,
      'hookpoint-test-run',
    );
  });

  it('creates and installs exactly once for a whole suite', async (t) => {
    const w = await setup(t);
    if (!w) return;
    await Promise.all([
      w.backend.provision(SEED),
      w.backend.provision({ ...SEED, ciliumValues: { ...SEED.ciliumValues } }),
    ]);
    await w.backend.deployEcho({ name: 'echo', nodes: ['worker'] });
    await w.backend.removeWorkload('echo', 'echo');
    await w.backend.provision(SEED);
    await w.backend.provision(SEED);
    assert.equal(w.exec.matching(['kind', 'create', 'cluster']).length, 1);
    assert.equal(w.exec.matching(['helm', 'upgrade', '--install']).length, 1);
    assert.equal(w.exec.matching(['helm', 'show', 'values']).length, 1);
    assert.deepEqual(
      w.backend.provisions.map((p) => [p.created, p.installed]),
      [[true, true]],
    );
    assert.equal(w.api.list('apis/apps/v1', 'deployments', 'hookpoint-r1a2b3').length, 0, 'echo removed');
  });

  it('a typo in the feature values is a UsageError before anything is created', async (t) => {
    const w = await setup(t);
    if (!w) return;
    await assert.rejects(
      w.backend.provision({ ...SEED, ciliumValues: { ...SEED.ciliumValues, autoDirectNodeRoute: 'true' } }),
      (e: unknown) => e instanceof UsageError && /did you mean "autoDirectNodeRoutes"/.test(e.message),
    );
    assert.equal(w.exec.matching(['kind', 'create']).length, 0);
    assert.equal(w.exec.matching(['kind', 'get', 'clusters']).length, 0);
  });

  it('finds where the kube-proxy chains live with the kube-proxy module, once per node', async (t) => {
    const w = await setup(t);
    if (!w) return;
    await w.backend.provision(SEED);
    const noChain = { exitCode: 1, stderr: 'iptables: No chain/target/match by that name.\n' };
    w.exec
      .on(['iptables-legacy', '-t', 'nat', '-S', 'KUBE-SERVICES', '1'], noChain)
      .on(['iptables-nft', '-t', 'nat', '-S', 'KUBE-SERVICES', '1'], { stdout: '' });
    assert.deepEqual(await w.backend.iptablesMode('worker'), { mode: 'nft', why: 'KUBE-SERVICES in nftables' });
    w.exec.on(['docker', 'exec', `${CLUSTER}-control-plane`, 'iptables-legacy', '-t', 'nat', '-S'], { stdout: '' });
    assert.equal((await w.backend.iptablesMode('control-plane')).mode, 'legacy');
    const calls = w.exec.matching(['iptables-legacy']).length;
    await w.backend.iptablesMode('control-plane');
    assert.equal(w.exec.matching(['iptables-legacy']).length, calls, 'detected once per node');
  });

  it('--iptables reaches the counter probe: no detection, every read through the forced variant', async (t) => {
    const w = await setup(t, { iptables: 'legacy' });
    if (!w) return;
    await w.backend.provision(SEED);
    w.exec.on(['docker', 'exec', `${CLUSTER}-worker`, 'iptables-legacy-save'], {
      stdout: `*nat\n${w.fx.legacySave}COMMIT\n`,
    });
    const before = w.exec.calls.length;
    const snaps = await snapshotCounters(w.backend, [`${CLUSTER}-worker`]);
    const iptables = w.exec.calls
      .slice(before)
      .map((c) => c.argv.slice(3).join(' '))
      .filter((a) => a.includes('iptables'));
    assert.ok(iptables.length > 0);
    assert.ok(
      iptables.every((a) => a.startsWith('iptables-legacy')),
      iptables.join('; '),
    );
    assert.ok(!iptables.some((a) => a.includes('-S KUBE-SERVICES 1')), 'no detection ran');
    assert.match(snaps.get(`${CLUSTER}-worker`)!.summary, /via iptables-legacy/);
  });
});

describe('per-run files', () => {
  it('writes a ledger next to the per-run kubeconfig and removes both when the cluster is deleted', async (t) => {
    const w = await setup(t);
    if (!w) return;
    await w.backend.provision(SEED);
    const ledger = JSON.parse(readFileSync(path.join(path.dirname(w.backend.kubeconfig), 'ledger.json'), 'utf8'));
    assert.equal(ledger.cluster, CLUSTER);
    assert.equal(ledger.namespace, 'hookpoint-r1a2b3');
    assert.equal(ledger.createdByThisRun, true);
    await w.backend.teardown();
    assert.throws(() => readFileSync(w.backend.kubeconfig), /ENOENT/);
  });
});
