/** The real-world corpus read as ip-route output: facts per file, typed by the parser's result (corpus-harness.ts). */
import assert from 'node:assert/strict';
import { type Any, corpusSuite } from './corpus-harness.ts';

corpusSuite('ip-route', {
  'mixed-cilium-1.20.1-minikube-vxlan-kpr-false-status-iproute-monitor-idx69598493232.txt': [
    {
      lines: [
        [14, 15],
        [22, 26],
      ],
      facts: (r) => {
        assert.deepEqual(
          [r.routes[0].dst, r.routes[0].gateway, r.routes[0].dev, r.routes[0].mtu],
          ['default', '10.244.1.99', 'eth0', 1450],
        );
        const other = r.routes.find((x: Any) => x.dst === '10.244.0.0/24');
        assert.deepEqual(
          [other!.gateway, other!.dev, other!.protocol, other!.mtu],
          ['10.244.1.99', 'cilium_host', 'kernel', 1450],
        );
        assert.equal(r.routes.length, 7);
      },
    },
  ],
  'ip-route-node-and-pod-1.18.6-kind-native-autodirectnoderoutes-idx60285825367.txt': [
    {
      lines: [
        [14, 15],
        [26, 32],
      ],
      facts: (r) => {
        assert.deepEqual(
          r.routes.map((x: Any) => [x.dst, x.gateway, x.dev]),
          [
            ['default', '10.244.0.154', 'eth0'],
            ['default', '10.89.0.1', 'eth0'],
            ['10.89.0.0/24', null, 'eth0'],
            ['10.244.0.0/24', '10.244.0.154', 'cilium_host'],
            ['10.244.0.154', null, 'cilium_host'],
            ['10.244.1.0/24', '10.89.0.3', 'eth0'],
            ['10.244.3.0/24', '10.89.0.2', 'eth0'],
          ],
        );
        assert.equal(r.routes[0].mtu, 1500);
        assert.equal(r.routes[5].protocol, 'kernel');
      },
    },
  ],
});
