/**
 * The observation window: a traffic step arms the scenario's probes (captures, monitor), takes
 * one counter snapshot per node, runs the traffic, snapshots again and stops the probes. Then
 * steps assert on the window. The traffic step shows the traffic it drove; captures, monitor
 * traces and (when a step judges them) counter snapshots are named as they are taken but shown
 * on the Then step that judges them (judged.ts). If the window itself fails, everything it took
 * is shown on the traffic step.
 */
import type { ExecTarget, NodeInfo, PodInfo, ServiceInfo, Topology } from '../backends/types.ts';
import { InfraError } from '../errors.ts';
import { MediaType } from '../evidence/index.ts';
import type { CitedEvidence } from '../expectations/evidence-ref.ts';
import type { IptablesDump, MonitorEvent, Packet } from '../parsers/index.ts';
import { type CapturePoint, describeCapturePoint, type RunningCapture, startCapture } from '../probes/capture.ts';
import { snapshotCounters } from '../probes/counters.ts';
import { checkListeners, expectBackendsAlive } from '../probes/listeners.ts';
import { POLICY_MONITOR_TYPES, type RunningMonitor, startMonitor } from '../probes/monitor.ts';
import { type RequestOutcome, sendRequests } from '../probes/traffic.ts';
import { resolveNode, resolvePod } from './resolve.ts';
import type { HookpointWorld } from './world.ts';

export interface TrafficSpec {
  /** Where the requests start. */
  from: { kind: 'pod'; pod: string } | { kind: 'node'; node: NodeInfo };
  to: { ip: string; port: number };
  count: number;
  /** The service addressed, when the traffic goes to one (ClusterIP or NodePort). */
  service?: ServiceInfo;
  via: 'clusterip' | 'nodeport' | 'pod-ip';
}

export interface CaptureResult {
  point: CapturePoint;
  label: string;
  evidence: CitedEvidence<{ packets: Packet[]; pcapFile: string }>;
}

export interface ObservationWindow {
  spec: TrafficSpec;
  /** The client's address as seen on the wire (pod IP or node IP). */
  clientIp: string;
  clientEndpoint?: number;
  before: Map<string, CitedEvidence<IptablesDump>>;
  after: Map<string, CitedEvidence<IptablesDump>>;
  traffic: CitedEvidence<RequestOutcome[]>;
  captures: CaptureResult[];
  monitors: Map<string, CitedEvidence<MonitorEvent[]>>;
  /**
   * Why the counter snapshots could not be read (before and after are then empty): the counter
   * steps break with it, the other steps judge the rest of the window.
   */
  countersError?: InfraError;
}

/** The capture point's label as captures and steps name it. */
export const captureLabel = describeCapturePoint;

function captureFilter(spec: TrafficSpec): string[] {
  const ports = new Set<number>([spec.to.port]);
  if (spec.service) {
    ports.add(spec.service.port);
    ports.add(spec.service.targetPort);
    if (spec.service.nodePort) ports.add(spec.service.nodePort);
  }
  const tokens: string[] = ['tcp', 'and', '('];
  [...ports].forEach((p, i) => {
    if (i > 0) tokens.push('or');
    tokens.push('port', String(p));
  });
  tokens.push(')');
  return tokens;
}

/**
 * Endpoint ids of the pods on the client pod's node that the window's traffic from that pod
 * was addressed to (a service's same-node backends, or the pod owning the address); empty
 * without such a window. A bpftool walk follows the policy-array slots of exactly these.
 */
export function sameNodeDestinations(topo: Topology, w: ObservationWindow | undefined, client: PodInfo): number[] {
  if (w?.spec.from.kind !== 'pod' || w.spec.from.pod !== client.name) return [];
  const names = new Set(backendsAddressed(topo, w.spec).map((b) => b.pod));
  return topo.pods
    .filter((p) => names.has(p.name) && p.node === client.node && p.endpointId !== undefined)
    .map((p) => p.endpointId!)
    .sort((a, b) => a - b);
}

/** The pods the window's traffic was addressed to: the service's backends, or the pod owning the address. */
function backendsAddressed(topo: Topology, spec: TrafficSpec): Array<{ pod: string; namespace: string; port: number }> {
  if (spec.service)
    return spec.service.endpoints.map((b) => ({ pod: b.pod, namespace: spec.service!.namespace, port: b.port }));
  return topo.pods
    .filter((p) => p.ip === spec.to.ip)
    .map((p) => ({ pod: p.name, namespace: p.namespace, port: spec.to.port }));
}

export async function observe(world: HookpointWorld, spec: TrafficSpec): Promise<ObservationWindow> {
  const topo = await world.topology(true);
  const nodes = topo.nodes.map((n) => n.name);
  for (const n of nodes) world.involvedNodes.add(n);
  const backend = world.backend;
  let clientIp: string;
  let clientEndpoint: number | undefined;
  let from: ExecTarget;
  if (spec.from.kind === 'pod') {
    const pod = resolvePod(topo, spec.from.pod);
    clientIp = pod.ip;
    clientEndpoint = pod.endpointId;
    from = { kind: 'pod', pod: pod.name, namespace: pod.namespace };
  } else {
    clientIp = spec.from.node.ip;
    from = { kind: 'node', node: spec.from.node.name };
  }

  // Arm the probes the scenario's Then steps will read.
  const points: CapturePoint[] = world.armed.captures.map((c) => {
    if (c.kind === 'pod-eth0' || c.kind === 'host-veth') return { kind: c.kind, pod: resolvePod(topo, c.pod).name };
    return { kind: c.kind, node: resolveNode(topo, c.node).name };
  });
  const filter = captureFilter(spec);
  const running: Array<{ point: CapturePoint; cap: RunningCapture }> = [];
  const monitors: Array<{ node: string; mon: RunningMonitor }> = [];
  try {
    // Probes start side by side (each waits until it really listens); whatever started is stopped in finally.
    const monitorNodes = [...new Set(world.armed.monitors.map((t) => resolveNode(topo, t).name))];
    const started = await Promise.allSettled([
      ...points.map(async (point) => running.push({ point, cap: await startCapture(backend, point, { filter }) })),
      ...monitorNodes.map(async (node) =>
        monitors.push({
          node,
          // With a network policy applied, drops and verdicts are evidence too.
          mon: await startMonitor(backend, node, world.policies.length ? { types: POLICY_MONITOR_TYPES } : {}),
        }),
      ),
    ]);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;

    let countersError: InfraError | undefined;
    const snapshot = async (kind: string): Promise<Map<string, CitedEvidence<IptablesDump>>> => {
      const cited = new Map<string, CitedEvidence<IptablesDump>>();
      if (countersError) return cited;
      try {
        // Whole-table snapshots, nodes side by side. The targeted read (`services:`) is measured in
        // `npm run bench -- counters` but not used yet: it misses issue 16's goals, is slower on a
        // seed-size nft table, and no longer notices an nft table iptables-nft-save cannot read.
        const read = { concurrency: world.ctx.config.nodeReads };
        for (const [n, ev] of await snapshotCounters(backend, nodes, read))
          cited.set(n, await world.cite({ ...ev, kind }, { hold: world.armed.counters }));
      } catch (err) {
        if (!(err instanceof InfraError)) throw err;
        countersError = err;
        cited.clear();
      }
      return cited;
    };
    const citedBefore = await snapshot('iptables-before');

    const traffic = await world.cite(await sendRequests(backend, from, spec.to, spec.count));

    const citedAfter = await snapshot('iptables-after');
    if (countersError) citedBefore.clear();

    const captures: CaptureResult[] = [];
    // Stop side by side (each waits a short settle time), then attach in the order the scenario named them.
    const stopped = await Promise.all(
      running.splice(0).map(async ({ point, cap }) => ({ point, ev: await cap.stop() })),
    );
    stopped.sort((a, b) => points.indexOf(a.point) - points.indexOf(b.point));
    for (const { point, ev } of stopped) {
      const cited = await world.cite(ev, { hold: true });
      if (ev.data.pcap)
        world.evidence.hold(
          'capture',
          captureLabel(point),
          MediaType.pcap,
          Buffer.from(ev.data.pcap),
          cited.attachment,
        );
      captures.push({ point, label: captureLabel(point), evidence: cited });
    }
    const monitorEv = new Map<string, CitedEvidence<MonitorEvent[]>>();
    const monitorStops = await Promise.all(
      monitors.splice(0).map(async ({ node, mon }) => ({ node, ev: await mon.stop() })),
    );
    for (const { node, ev } of monitorStops) monitorEv.set(node, await world.cite(ev, { hold: true }));

    const window: ObservationWindow = {
      spec,
      clientIp,
      clientEndpoint,
      before: citedBefore,
      after: citedAfter,
      traffic,
      captures,
      monitors: monitorEv,
      countersError,
    };
    world.window = window;
    // A backend that exited makes every verdict of this window about a dead workload: broken.
    const targets = backendsAddressed(topo, spec);
    if (targets.length) expectBackendsAlive(await world.cite(await checkListeners(backend, targets)));
    return window;
  } catch (err) {
    // No Then step will judge a window that failed: its evidence belongs to the traffic step.
    for (const name of world.evidence.unshown()) await world.evidence.show(name);
    throw err;
  } finally {
    // Probes still running here mean the window failed part-way: stop them so nothing is left behind.
    for (const { cap } of running) await cap.stop().catch(() => undefined);
    for (const { mon } of monitors) await mon.stop().catch(() => undefined);
  }
}
