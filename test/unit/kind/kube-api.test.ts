/** @kubernetes/client-node calls: request shapes and error handling against a fake API server on 127.0.0.1. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { KubeApi, KubeApiError } from '../../../support/backends/k8s/kube-api.ts';
import { ClusterLock, LOCK_NAME, lockState } from '../../../support/backends/k8s/run-lock.ts';
import { InfraError } from '../../../support/errors.ts';
import { startApiSession } from '../helpers/kind/api-session.ts';

const { api, dir, kubeconfig, stop } = await startApiSession('hp-kube-', 'kind-fake');
after(stop);

const last = () => api.requests[api.requests.length - 1]!;

describe('request shapes', () => {
  it('creates a namespace with the run labels as a JSON POST, with the kubeconfig token', async () => {
    const k = KubeApi.fromFile(kubeconfig);
    await k.createNamespace('hookpoint-abc123', { 'hookpoint.io/run': 'abc123' });
    const r = last();
    assert.equal(r.method, 'POST');
    assert.equal(r.path, '/api/v1/namespaces');
    assert.match(r.contentType ?? '', /application\/json/);
    assert.equal(r.authorization, 'Bearer fake-token');
    assert.deepEqual((r.body as { metadata: unknown }).metadata, {
      name: 'hookpoint-abc123',
      labels: { 'hookpoint.io/run': 'abc123' },
    });
  });

  it('lists pods with label and field selectors as query parameters', async () => {
    const k = KubeApi.fromFile(kubeconfig);
    api.put('api/v1', 'pods', {
      metadata: { name: 'cilium-tjsld', namespace: 'kube-system', labels: { 'k8s-app': 'cilium' } },
      spec: { nodeName: 'cilium-kubeproxy-worker' },
    });
    const pods = await k.listPods('kube-system', {
      labelSelector: 'k8s-app=cilium',
      fieldSelector: 'spec.nodeName=cilium-kubeproxy-worker',
    });
    assert.deepEqual(
      pods.map((p) => p.metadata?.name),
      ['cilium-tjsld'],
    );
    const r = last();
    assert.equal(r.path, '/api/v1/namespaces/kube-system/pods');
    assert.equal(r.query.get('labelSelector'), 'k8s-app=cilium');
    assert.equal(r.query.get('fieldSelector'), 'spec.nodeName=cilium-kubeproxy-worker');
    assert.equal((await k.listPods('kube-system', { fieldSelector: 'spec.nodeName=other' })).length, 0);
  });

  it('writes Lease times as MicroTime (6 fractional digits) and reads them back', async () => {
    const k = KubeApi.fromFile(kubeconfig);
    const lock = new ClusterLock(k, 'c', { holder: 'run-a' });
    await lock.acquire();
    const create = api.requests.find((r) => r.method === 'POST' && r.path.endsWith('/leases'))!;
    assert.equal(create.path, '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases');
    const spec = (create.body as { spec: Record<string, unknown> }).spec;
    assert.match(String(spec.renewTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.equal(spec.holderIdentity, 'run-a');
    assert.equal(spec.leaseDurationSeconds, 60);
    const lease = await k.readLease('kube-system', LOCK_NAME);
    assert.equal(lockState(lease!, Date.now())?.stale, false);

    const other = new ClusterLock(KubeApi.fromFile(kubeconfig), 'c', { holder: 'run-b' });
    await assert.rejects(other.acquire(), /in use by another Hookpoint run \(run-a/);
    await lock.renew();
    await lock.release();
    await other.acquire();
    assert.equal(
      api.get('apis/coordination.k8s.io/v1', 'leases', LOCK_NAME, 'kube-system')?.spec.holderIdentity,
      'run-b',
    );
    await lock.release(); // not ours any more: must not delete run-b's lease
    assert.ok(api.get('apis/coordination.k8s.io/v1', 'leases', LOCK_NAME, 'kube-system'));
    await other.release();
  });

  it('selects a context and refuses one that does not exist', () => {
    assert.match(KubeApi.fromFile(kubeconfig, 'kind-fake').server, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.throws(() => KubeApi.fromFile(kubeconfig, 'prod'), /has no context "prod" \(it has: kind-fake\)/);
    assert.throws(() => KubeApi.fromFile(path.join(dir, 'missing')), InfraError);
  });
});

describe('error handling', () => {
  it('a 404 read gives null; a 404 elsewhere is a KubeApiError', async () => {
    const k = KubeApi.fromFile(kubeconfig);
    assert.equal(await k.readPod('default', 'nope'), null);
    await assert.rejects(
      k
        .listNodes()
        .then(() => k.call('reading x', (o) => k.core.readNamespacedConfigMap({ namespace: 'a', name: 'b' }, o))),
      (e: unknown) => e instanceof KubeApiError && e.status === 404 && e.reason === 'NotFound',
    );
  });

  it('a 403 names the call, the reason and the server in one paragraph, with a hint', async () => {
    api.fault('GET', /\/api\/v1\/nodes$/, { status: 403, times: 1 });
    const k = KubeApi.fromFile(kubeconfig);
    await assert.rejects(k.listNodes(), (e: unknown) => {
      assert.ok(e instanceof KubeApiError);
      assert.equal(e.status, 403);
      assert.match(e.message, /refused listing nodes: HTTP 403 Forbidden — injected 403 for \/api\/v1\/nodes/);
      assert.match(e.paragraph(), /rights Hookpoint needs/);
      assert.doesNotMatch(e.paragraph(), /\n/);
      return true;
    });
  });

  it('a refused connection fails fast as an InfraError with the cause code', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const file = path.join(dir, 'refused');
    writeFileSync(file, api.kubeconfig().replace(/127\.0\.0\.1:\d+/, `127.0.0.1:${port}`));
    const t0 = Date.now();
    await assert.rejects(
      KubeApi.fromFile(file).listNodes(),
      (e: unknown) =>
        e instanceof InfraError &&
        /Cannot reach the Kubernetes API at .* \(ECONNREFUSED\) while listing nodes/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 2000);
  });

  it('an API server that accepts and never answers hits our own timeout', async () => {
    api.fault('GET', /\/api\/v1\/namespaces\/slow\/pods$/, { hang: true, times: 1 });
    const k = KubeApi.fromFile(kubeconfig, undefined, { timeoutMs: 200 });
    const t0 = Date.now();
    await assert.rejects(k.listPods('slow'), /did not answer within 200 ms \(listing pods in slow\)/);
    const took = Date.now() - t0;
    assert.ok(took >= 190 && took < 2000, `took ${took} ms`);
  });
});
