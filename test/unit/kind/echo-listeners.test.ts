/**
 * kind/existing: the echo workload answers on every target port its services name. agnhost 2.45
 * serves HTTP with `netexec` (one HTTP port per process; `--udp-port=-1` keeps the extra ones from
 * binding netexec's default UDP 8081) and UDP with `serve-hostname --udp --http=false` (every
 * datagram answered with the pod's hostname, its name); the containers share the pod's network
 * namespace. Services carry their protocol; the plan shows the same containers the run makes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as k8s from '@kubernetes/client-node';
import { echoDeployments, echoListenersOf, serviceManifest } from '../../../support/backends/k8s/workload-manifests.ts';
import { kindWorkloadPlan } from '../../../support/backends/kind/plan.ts';

describe('echo pods answer on their services target ports', () => {
  it('one container per further listener: netexec for TCP, serve-hostname for UDP; read back as listeners', () => {
    const [d] = echoDeployments(
      {
        name: 'echo',
        nodes: ['kind-worker'],
        listeners: [
          { port: 8080, protocol: 'TCP' },
          { port: 5353, protocol: 'UDP' },
          { port: 80, protocol: 'TCP' },
          { port: 8080, protocol: 'TCP' },
        ],
      },
      'kind',
      'run1',
    );
    const containers = d!.spec!.template.spec!.containers;
    assert.deepEqual(
      containers.map((c) => [c.name, c.args]),
      [
        ['echo', ['netexec', '--http-port=80']],
        ['echo-tcp-8080', ['netexec', '--http-port=8080', '--udp-port=-1']],
        ['echo-udp-5353', ['serve-hostname', '--udp', '--http=false', '--port=5353']],
      ],
    );
    const pod = { spec: d!.spec!.template.spec } as k8s.V1Pod;
    assert.deepEqual(echoListenersOf(pod), [
      { port: 80, protocol: 'TCP' },
      { port: 8080, protocol: 'TCP' },
      { port: 5353, protocol: 'UDP' },
    ]);
  });

  it('a UDP service says so; a TCP one stays as before', () => {
    const udp = serviceManifest(
      { name: 'dns', app: 'echo', port: 53, targetPort: 5353, protocol: 'UDP', type: 'ClusterIP' },
      8080,
    );
    assert.deepEqual(udp.spec!.ports, [{ name: 'udp', protocol: 'UDP', port: 53, targetPort: 5353 }]);
    const tcp = serviceManifest({ name: 'web', app: 'echo', port: 80, type: 'ClusterIP' }, 8080);
    assert.deepEqual(tcp.spec!.ports, [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 8080 }]);
  });

  it('the plan gives the echo deployments the listeners of the services that select them', () => {
    const plan = kindWorkloadPlan({
      cluster: 'kind',
      kubeconfig: '/tmp/kc',
      runId: 'run1',
      scratchDir: '/tmp/s',
      echoes: [{ name: 'echo', nodes: ['kind-worker'] }],
      services: [
        { name: 'echo', app: 'echo', port: 80, type: 'ClusterIP' },
        { name: 'dns', app: 'echo', port: 53, targetPort: 5353, protocol: 'UDP', type: 'ClusterIP' },
      ],
      clients: [],
    });
    const echo = plan.find((c) => /echo deployment/.test(c.purpose))!;
    assert.match(echo.stdin!, /serve-hostname[\s\S]*--port=5353/);
    assert.match(echo.stdin!, /--http-port=80\b/);
    assert.doesNotMatch(echo.stdin!, /echo-tcp-80\b/, 'the HTTP port itself needs no second container');
  });
});
