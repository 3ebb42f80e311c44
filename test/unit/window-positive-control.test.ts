/**
 * The positive control of a window whose traffic failed: which destination the control request
 * goes to (an echo pod other than the one addressed, never the client; a service's backend by its
 * pod IP qualifies), and the drop in an armed trace that names where the packets stopped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceInfo, Topology } from '../../support/backends/types.ts';
import type { MonitorEvent } from '../../support/parsers/index.ts';
import { controlDestination, type ObservationWindow, whereStopped } from '../../support/scenario/window.ts';

const http = [{ port: 80, protocol: 'TCP' as const }];
const topo: Topology = {
  cluster: 'lab',
  nodes: [],
  pods: [
    { name: 'client', namespace: 'default', node: 'cp', ip: '10.244.0.5' },
    { name: 'echo-cp', namespace: 'default', node: 'cp', ip: '10.244.0.7', app: 'echo', listeners: http },
    { name: 'echo-w', namespace: 'default', node: 'w', ip: '10.244.1.7', app: 'echo', listeners: http },
    { name: 'other-w', namespace: 'default', node: 'w', ip: '10.244.1.9', app: 'other', listeners: http },
  ],
  services: [],
};
const svc: ServiceInfo = {
  name: 'echo',
  namespace: 'default',
  clusterIP: '10.96.0.20',
  port: 80,
  targetPort: 80,
  portName: 'http',
  nodePort: null,
  protocol: 'TCP',
  endpoints: [
    { pod: 'echo-cp', ip: '10.244.0.7', port: 80, node: 'cp' },
    { pod: 'echo-w', ip: '10.244.1.7', port: 80, node: 'w' },
  ],
};

describe('positive control', () => {
  it('goes to an echo pod the traffic did not address, else to a backend by its pod IP; none when only the target exists', () => {
    const toPod = { from: { kind: 'pod' as const, pod: 'client' }, to: { ip: '10.244.1.7', port: 80 }, count: 3 };
    assert.deepEqual(controlDestination(topo, { ...toPod, via: 'pod-ip' }, '10.244.0.5'), {
      pod: 'echo-cp',
      ip: '10.244.0.7',
      port: 80,
    });
    const toService = { ...toPod, to: { ip: svc.clusterIP, port: 80 }, service: svc, via: 'clusterip' as const };
    assert.equal(controlDestination(topo, toService, '10.244.0.5')?.pod, 'other-w');
    const alone: Topology = { ...topo, pods: topo.pods.filter((p) => p.name === 'client' || p.name === 'echo-w') };
    assert.equal(controlDestination(alone, { ...toPod, via: 'pod-ip' }, '10.244.0.5'), undefined);
  });

  it("a drop of the client's packet in an armed trace names where the packets stopped", () => {
    const drop = {
      type: 'drop',
      message: 'Policy denied',
      src: { ip: '10.244.0.5', port: 40000 },
    } as unknown as MonitorEvent;
    const w = {
      clientIp: '10.244.0.5',
      monitors: new Map([
        [
          'w',
          {
            kind: 'monitor',
            where: 'w',
            commands: [],
            raw: '',
            summary: '',
            data: [drop],
            attachment: '07-monitor-w.txt',
          },
        ],
      ]),
    } as unknown as ObservationWindow;
    assert.match(
      whereStopped(w)?.text ?? '',
      /a drop \(Policy denied\) of a packet from 10\.244\.0\.5 on node w \(evidence 07-monitor-w\.txt\)/,
    );
    const other = { ...w, clientIp: '10.244.0.6' } as ObservationWindow;
    assert.equal(whereStopped(other), undefined);
  });
});
