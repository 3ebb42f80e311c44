/**
 * The kind stand-in's policy routes: its API server answers NetworkPolicy and CiliumNetworkPolicy
 * create/delete as the Kubernetes API server does (201 with the stored object; a Success Status
 * naming the deleted object, its `kind` holding the resource as the registry's finalizeDelete
 * sets it; NotFound/AlreadyExists with the qualified resource, k8s.io/apimachinery errors), and
 * its controller hands each policy to the lab and takes it back on deletion.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NetworkPolicyDoc } from '../../../support/policy/manifest.ts';
import { policyController } from '../../kind-standin/policies.ts';
import { FakeApiServer } from '../helpers/kind/fake-apiserver.ts';

const api = new FakeApiServer();
const calls: string[] = [];
let queue: Promise<unknown> = Promise.resolve();
const work = (_what: string, fn: () => Promise<void>) => {
  const next = queue.then(fn);
  queue = next.catch(() => {});
  return next;
};
const logged: string[] = [];
const controller = policyController(
  api,
  {
    applyNetworkPolicy: async (d: NetworkPolicyDoc) => void calls.push(`apply ${d.kind} ${d.namespace}/${d.name}`),
    removeNetworkPolicy: async (d: NetworkPolicyDoc) => void calls.push(`remove ${d.kind} ${d.namespace}/${d.name}`),
  },
  work,
  (l) => logged.push(l),
);
let url = '';
before(async () => {
  url = await api.start();
});
after(() => api.stop());

const NP = 'apis/networking.k8s.io/v1/namespaces/hookpoint-r1/networkpolicies';
const CNP = 'apis/cilium.io/v2/namespaces/hookpoint-r1/ciliumnetworkpolicies';
const req = async (method: string, p: string, body?: unknown) => {
  const r = await fetch(`${url}/${p}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: free-form API answers
  return { status: r.status, body: (await r.json()) as Record<string, any> };
};
const npBody = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'deny-all' },
  spec: { podSelector: {}, policyTypes: ['Ingress'] },
};
const cnpBody = {
  apiVersion: 'cilium.io/v2',
  kind: 'CiliumNetworkPolicy',
  metadata: { name: 'port-80' },
  spec: {
    endpointSelector: { matchLabels: { app: 'echo' } },
    ingress: [{ toPorts: [{ ports: [{ port: '80', protocol: 'TCP' }] }] }],
  },
};

describe('kind stand-in: policy routes', () => {
  it('create answers 201 with the stored object and the lab applies it; a second create is AlreadyExists', async () => {
    const r = await req('POST', NP, npBody);
    assert.equal(r.status, 201);
    assert.equal(r.body.metadata.namespace, 'hookpoint-r1');
    assert.match(r.body.metadata.uid, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.match(r.body.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.equal(r.body.metadata.generation, 1);
    const again = await req('POST', NP, npBody);
    assert.equal(again.status, 409);
    assert.deepEqual(
      { ...again.body },
      {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'networkpolicies.networking.k8s.io "deny-all" already exists',
        reason: 'AlreadyExists',
        details: { name: 'deny-all', group: 'networking.k8s.io', kind: 'networkpolicies' },
        code: 409,
      },
    );
    assert.equal((await req('POST', CNP, cnpBody)).status, 201);
    await queue;
    assert.deepEqual(calls, [
      'apply NetworkPolicy hookpoint-r1/deny-all',
      'apply CiliumNetworkPolicy hookpoint-r1/port-80',
    ]);
    assert.deepEqual(controller.applied().sort(), [
      'CiliumNetworkPolicy/hookpoint-r1/port-80',
      'NetworkPolicy/hookpoint-r1/deny-all',
    ]);
  });

  it('delete answers a Success Status naming the object; the lab removes it; a second delete is NotFound', async () => {
    const uid = api.get('apis/networking.k8s.io/v1', 'networkpolicies', 'deny-all', 'hookpoint-r1')!.metadata.uid;
    const r = await req('DELETE', `${NP}/deny-all`);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: 'deny-all', group: 'networking.k8s.io', kind: 'networkpolicies', uid },
    });
    const gone = await req('DELETE', `${NP}/deny-all`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.message, 'networkpolicies.networking.k8s.io "deny-all" not found');
    assert.deepEqual(gone.body.details, { name: 'deny-all', group: 'networking.k8s.io', kind: 'networkpolicies' });
    await queue;
    assert.equal(calls.at(-1), 'remove NetworkPolicy hookpoint-r1/deny-all');
    assert.deepEqual(controller.applied(), ['CiliumNetworkPolicy/hookpoint-r1/port-80']);
  });

  it("a namespace's deletion takes its policies from the lab; an object that is no valid policy is not imported", async () => {
    await work('ns', () => controller.removeNamespace('hookpoint-r1'));
    assert.equal(calls.at(-1), 'remove CiliumNetworkPolicy hookpoint-r1/port-80');
    assert.deepEqual(controller.applied(), []);
    const n = calls.length;
    assert.equal(
      (await req('POST', NP, { ...npBody, metadata: { name: 'bad' }, spec: { podSelector: 3 } })).status,
      201,
    );
    await queue;
    assert.equal(calls.length, n, 'nothing applied');
    assert.match(logged.join('\n'), /policy NetworkPolicy\/hookpoint-r1\/bad not imported: .*podSelector/);
  });
});
