/** Where the packet is seen: captures at hook points, the monitor's translation trace, bpftool. */

import { InconclusiveError, UsageError } from '../support/errors.ts';
import { expectHelperOnPath, expectProgramOn } from '../support/expectations/bpftool.ts';
import {
  expectDestinationSeen,
  expectEncapsulated,
  expectNothingTo,
  expectOnlyDestinations,
} from '../support/expectations/capture.ts';
import {
  expectNoTranslation,
  expectSameNodeDelivery,
  expectToOverlay,
  expectTranslation,
} from '../support/expectations/monitor.ts';
import { bpftoolNet, bpftoolTailCalls } from '../support/probes/bpftool.ts';
import { requireWindow } from '../support/scenario/assertions.ts';
import { judge } from '../support/scenario/judged.ts';
import { hookPointOfCapture } from '../support/scenario/observed-path.ts';
import type { CapturePointRef, NodeRef } from '../support/scenario/parameter-types.ts';
import { resolveNode, resolvePod, resolveService } from '../support/scenario/resolve.ts';
import { defineStep } from '../support/scenario/vocabulary.ts';
import { type CaptureResult, captureLabel, sameNodeDestinations } from '../support/scenario/window.ts';
import type { HookpointWorld } from '../support/scenario/world.ts';

async function captureAt(world: HookpointWorld, ref: CapturePointRef): Promise<CaptureResult> {
  const w = requireWindow(world);
  const topo = await world.topology();
  const label = captureLabel(
    ref.kind === 'pod-eth0' || ref.kind === 'host-veth'
      ? { kind: ref.kind, pod: resolvePod(topo, ref.pod).name }
      : { kind: ref.kind, node: resolveNode(topo, ref.node).name },
  );
  const cap = w.captures.find((c) => c.label === label);
  if (!cap)
    throw new InconclusiveError(`Inconclusive: no capture was armed on ${label} for the traffic window.`, {
      hint: 'Captures are armed from the scenario\'s own "a capture on …" steps before the traffic step runs.',
    });
  return cap;
}

defineStep(
  'Then',
  'a capture on {capturePoint} sees the ClusterIP of {service} as destination',
  {
    example: 'Then a capture on pod "client" eth0 sees the ClusterIP of "echo" as destination',
    doc: 'The capture point sits before the tc rewrite: packets still carry the ClusterIP.',
    arms: (point: CapturePointRef) => ({ captures: [point] }),
  },
  async function (this: HookpointWorld, ref: CapturePointRef, service: string) {
    const cap = await captureAt(this, ref);
    const svc = resolveService(await this.topology(), service);
    const clientIps = [requireWindow(this).clientIp];
    await judge(this, [cap.evidence], () => expectDestinationSeen(cap.evidence, svc.clusterIP, { clientIps }), {
      point: hookPointOfCapture(cap.point.kind),
    });
  },
);

defineStep(
  'Then',
  'a capture on {capturePoint} sees only backends of {service} as destination',
  {
    example: 'Then a capture on node "control-plane" eth0 sees only backends of "echo" as destination',
    doc: 'Past tc and routing the destination is a backend pod IP, never the ClusterIP.',
    arms: (point: CapturePointRef) => ({ captures: [point] }),
  },
  async function (this: HookpointWorld, ref: CapturePointRef, service: string) {
    const cap = await captureAt(this, ref);
    const svc = resolveService(await this.topology(), service);
    const [backends, clients] = [svc.endpoints.map((b) => b.ip), [requireWindow(this).clientIp]];
    await judge(this, [cap.evidence], () => expectOnlyDestinations(cap.evidence, backends, clients), {
      point: hookPointOfCapture(cap.point.kind),
    });
  },
);

defineStep(
  'Then',
  'a capture on {capturePoint} sees none of that traffic',
  {
    example: 'Then a capture on node "control-plane" eth0 sees none of that traffic',
    doc: 'The traffic never crossed this point (e.g. same-node delivery by bpf_redirect); another capture of the window must have seen it.',
    arms: (point: CapturePointRef) => ({ captures: [point] }),
  },
  async function (this: HookpointWorld, ref: CapturePointRef) {
    const w = requireWindow(this);
    const cap = await captureAt(this, ref);
    const others = w.captures.filter((c) => c !== cap).map((c) => c.evidence);
    await judge(this, [cap.evidence], () => expectNothingTo(cap.evidence, [w.clientIp], others), {
      point: hookPointOfCapture(cap.point.kind),
    });
  },
);

defineStep(
  'Then',
  'cilium monitor on node {node} shows traffic from pod {pod} to the ClusterIP of {service} translated to a backend of {service}',
  {
    example:
      'Then cilium monitor on node "control-plane" shows traffic from pod "client" to the ClusterIP of "echo" translated to a backend of "echo"',
    doc: 'A reply to the client reverse-NATed from the ClusterIP whose orig-ip (the source before reverse NAT) is a backend pod.',
    arms: (node: NodeRef) => ({ monitors: [node] }),
  },
  async function (this: HookpointWorld, node: NodeRef, pod: string, service: string, service2: string) {
    if (service !== service2)
      throw new UsageError(
        `The step names two services ("${service}", "${service2}"); translation is checked within one service.`,
      );
    const { events, topo } = await monitorOf(this, node);
    const p = resolvePod(topo, pod);
    const svc = resolveService(topo, service);
    await judge(
      this,
      [events],
      () =>
        expectTranslation(events, {
          endpoint: p.endpointId,
          clientIp: p.ip,
          clusterIP: svc.clusterIP,
          port: svc.port,
          backends: svc.endpoints.map((b) => b.ip),
        }),
      { point: 'host veth / tc' },
    );
  },
);

defineStep(
  'Then',
  'cilium monitor on node {node} shows no translation for traffic from pod {pod}',
  {
    example: 'Then cilium monitor on node "control-plane" shows no translation for traffic from pod "client"',
    doc: 'No reply to the client is reverse-NATed from the ClusterIP: nothing was rewritten at tc.',
    arms: (node: NodeRef) => ({ monitors: [node] }),
  },
  async function (this: HookpointWorld, node: NodeRef, pod: string) {
    const { events, topo } = await monitorOf(this, node);
    const p = resolvePod(topo, pod);
    const w = requireWindow(this);
    await judge(
      this,
      [events],
      () => expectNoTranslation(events, { clientIp: p.ip, clusterIP: w.spec.to.ip, port: w.spec.to.port }),
      { point: 'host veth / tc' },
    );
  },
);

defineStep(
  'Then',
  'cilium monitor on node {node} shows the traffic from pod {pod} redirected to a backend of {service}',
  {
    example:
      'Then cilium monitor on node "control-plane" shows the traffic from pod "client" redirected to a backend of "echo-local"',
    doc: "A `-> endpoint <backend>` event of the client's connection with no `-> stack` event of it: handed straight to the backend's endpoint, not through the stack.",
    arms: (node: NodeRef) => ({ monitors: [node] }),
  },
  async function (this: HookpointWorld, node: NodeRef, pod: string, service: string) {
    const { events, topo } = await monitorOf(this, node);
    const p = resolvePod(topo, pod);
    const svc = resolveService(topo, service);
    const backends = svc.endpoints.map((b) => ({
      ip: b.ip,
      endpoint: topo.pods.find((x) => x.name === b.pod)?.endpointId ?? null,
    }));
    await judge(this, [events], () => expectSameNodeDelivery(events, { clientIp: p.ip, backends }), {
      point: 'host veth / tc',
    });
  },
);

defineStep(
  'Then',
  'a capture on {capturePoint} sees that traffic inside a VXLAN tunnel between the node IPs',
  {
    example: 'Then a capture on node "control-plane" eth0 sees that traffic inside a VXLAN tunnel between the node IPs',
    doc: "Tunnel mode: the client's packets cross the node's eth0 only encapsulated (UDP 8472 between node IPs, the pod addresses inside).",
    arms: (point: CapturePointRef) => ({ captures: [point] }),
  },
  async function (this: HookpointWorld, ref: CapturePointRef) {
    const cap = await captureAt(this, ref);
    const nodeIps = (await this.topology()).nodes.map((n) => n.ip);
    await judge(this, [cap.evidence], () => expectEncapsulated(cap.evidence, [requireWindow(this).clientIp], nodeIps), {
      point: hookPointOfCapture(cap.point.kind),
    });
  },
);

defineStep(
  'Then',
  'cilium monitor on node {node} shows the traffic from pod {pod} sent to the overlay',
  {
    example: 'Then cilium monitor on node "control-plane" shows the traffic from pod "client" sent to the overlay',
    doc: "Tunnel mode: `-> overlay … ifindex cilium_vxlan` events of the client's packets (native routing shows `-> stack`).",
    arms: (node: NodeRef) => ({ monitors: [node] }),
  },
  async function (this: HookpointWorld, node: NodeRef, pod: string) {
    const { events, topo } = await monitorOf(this, node);
    const p = resolvePod(topo, pod);
    await judge(this, [events], () => expectToOverlay(events, p.ip), { point: 'host veth / tc' });
  },
);

async function monitorOf(world: HookpointWorld, node: NodeRef) {
  const w = requireWindow(world);
  const topo = await world.topology();
  const n = resolveNode(topo, node);
  const events = w.monitors.get(n.name);
  if (!events)
    throw new InconclusiveError(
      `Inconclusive: the monitor of node ${n.name} was not running during the traffic window.`,
    );
  return { events, topo };
}

defineStep(
  'Then',
  'bpftool on node {node} shows a program at tc {direction} of the host veth of pod {pod}',
  {
    example: 'Then bpftool on node "control-plane" shows a program at tc ingress of the host veth of pod "client"',
    doc: "bpftool's listing of the node's network programs shows a tc program on the pod's lxc interface.",
    state: true,
  },
  async function (this: HookpointWorld, node: NodeRef, direction: 'ingress' | 'egress', pod: string) {
    const topo = await this.topology();
    const n = resolveNode(topo, node);
    const p = resolvePod(topo, pod);
    if (!p.hostVeth)
      throw new InconclusiveError(`Inconclusive: the backend does not report the host veth of pod ${p.name}.`);
    this.involvedNodes.add(n.name);
    const ev = await this.cite(await bpftoolNet(this.backend, n.name));
    const veth = p.hostVeth;
    await judge(this, [ev], () => expectProgramOn(ev, veth, direction), { point: 'host veth / tc' });
  },
);

defineStep(
  'Then',
  'the program at tc {direction} of the host veth of pod {pod} calls {string}',
  {
    example: 'Then the program at tc ingress of the host veth of pod "client" calls "bpf_redirect"',
    doc: "The helper is called on the packet's path: the program at the hook, the tail calls it takes for IPv4 and the destination endpoint's delivery slot (as bpftool dumps them).",
    state: true,
  },
  async function (this: HookpointWorld, direction: 'ingress' | 'egress', pod: string, helper: string) {
    if (!/^bpf_[a-z0-9_]+$/.test(helper))
      throw new UsageError(`"${helper}" is not a BPF helper name (like bpf_redirect).`);
    const topo = await this.topology();
    const p = resolvePod(topo, pod);
    if (!p.hostVeth)
      throw new InconclusiveError(`Inconclusive: the backend does not report the host veth of pod ${p.name}.`);
    const destinations = sameNodeDestinations(topo, this.window, p);
    const ev = await this.cite(
      await bpftoolTailCalls(this.backend, p.node, { ifname: p.hostVeth, direction, destinations }),
    );
    await judge(this, [ev], () => expectHelperOnPath(ev, helper), { point: 'host veth / tc' });
  },
);
