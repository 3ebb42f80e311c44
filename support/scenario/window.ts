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
import { type Evidence, MediaType } from '../evidence/index.ts';
import type { CitedEvidence } from '../expectations/evidence-ref.ts';
import type { IptablesDump, MonitorEvent, Packet } from '../parsers/index.ts';
import { VXLAN_UDP_PORTS } from '../parsers/pcap.ts';
import { type CapturePoint, describeCapturePoint, type RunningCapture, startCapture } from '../probes/capture.ts';
import { snapshotCounters } from '../probes/counters.ts';
import { sendDatagrams } from '../probes/datagrams.ts';
import { checkListeners, expectBackendsAlive, type ListenerQuery } from '../probes/listeners.ts';
import { POLICY_MONITOR_TYPES, type RunningMonitor, startMonitor } from '../probes/monitor.ts';
import { sendPings } from '../probes/ping.ts';
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
  via: 'clusterip' | 'nodeport' | 'pod-ip' | 'node-ip';
  /** HTTP requests over TCP (the default), UDP datagrams, or ICMP echo requests (`to.port` unused). */
  protocol?: TrafficProtocol;
}

export type TrafficProtocol = 'http' | 'udp' | 'icmp';

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
  /**
   * The positive control of a window whose traffic failed: one HTTP request from the same client
   * to another destination (an echo pod it did not address), sent right after the traffic.
   */
  control?: CitedEvidence<RequestOutcome[]>;
  /** Why no control request was sent although the traffic failed (no other destination). */
  controlMissing?: string;
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

export function captureFilter(spec: TrafficSpec): string[] {
  // ICMP has no ports: its group is the protocol alone.
  const l4 = spec.protocol === 'icmp' ? 'icmp' : spec.protocol === 'udp' ? 'udp' : 'tcp';
  const ports = new Set<number>([spec.to.port]);
  if (spec.service) {
    ports.add(spec.service.port);
    ports.add(spec.service.targetPort);
    if (spec.service.nodePort) ports.add(spec.service.nodePort);
  }
  // pcap filters give `and` and `or` the same precedence: every group is parenthesised.
  const tokens: string[] = ['(', l4];
  if (l4 !== 'icmp') {
    tokens.push('and', '(');
    [...ports].forEach((p, i) => {
      if (i > 0) tokens.push('or');
      tokens.push('port', String(p));
    });
    tokens.push(')');
  }
  tokens.push(')');
  // Tunnel mode: the traffic crosses node eth0 inside VXLAN (the judges read the inner packets).
  tokens.push('or', '(', 'udp', 'and', '(');
  Object.keys(VXLAN_UDP_PORTS).forEach((p, i) => {
    if (i > 0) tokens.push('or');
    tokens.push('port', p);
  });
  tokens.push(')', ')');
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
function backendsAddressed(topo: Topology, spec: TrafficSpec): ListenerQuery[] {
  if (spec.protocol === 'icmp') return [];
  const protocol = spec.protocol === 'udp' ? 'UDP' : 'TCP';
  if (spec.service) {
    const svc = spec.service;
    // Traffic in another protocol than the service's is not the service's: its backends were not addressed.
    if (svc.protocol !== protocol) return [];
    const service = { name: svc.name, port: svc.port, targetPort: svc.targetPort };
    return svc.endpoints.map((b) => ({ pod: b.pod, namespace: svc.namespace, port: b.port, protocol, service }));
  }
  return topo.pods
    .filter((p) => p.ip === spec.to.ip)
    .map((p) => ({ pod: p.name, namespace: p.namespace, port: spec.to.port, protocol }));
}

/** The traffic of a window, by protocol; ICMP replies are named after the pod or node that sent them. */
async function sendTraffic(
  backend: HookpointWorld['backend'],
  topo: Topology,
  from: ExecTarget,
  spec: TrafficSpec,
): Promise<Evidence<RequestOutcome[]>> {
  if (spec.protocol === 'udp') return sendDatagrams(backend, from, spec.to, spec.count);
  if (spec.protocol !== 'icmp') return sendRequests(backend, from, spec.to, spec.count);
  const ev = await sendPings(backend, from, { ip: spec.to.ip }, spec.count);
  const names = new Map<string, string>([
    ...topo.nodes.map((n) => [n.ip, n.name] as [string, string]),
    ...topo.pods.map((p) => [p.ip, p.name] as [string, string]),
  ]);
  for (const o of ev.data) if (o.replyFrom) o.answeredBy = names.get(o.replyFrom) ?? null;
  return ev;
}

/**
 * Where a window's positive control goes: an echo pod other than the address the traffic went
 * to (for a service, a backend reached by its pod IP qualifies: the service is what is judged),
 * never the client itself, on its HTTP port. Pods the window did not address come first.
 */
export function controlDestination(
  topo: Topology,
  spec: TrafficSpec,
  clientIp: string,
): { pod: string; ip: string; port: number } | undefined {
  const addressed = new Set(spec.service ? [] : topo.pods.filter((p) => p.ip === spec.to.ip).map((p) => p.name));
  const candidates = topo.pods
    .filter((p) => p.app !== undefined && p.ip !== spec.to.ip && p.ip !== clientIp && !addressed.has(p.name))
    .map((p) => ({ pod: p, port: p.listeners?.find((l) => l.protocol === 'TCP')?.port }))
    .filter((c): c is { pod: PodInfo; port: number } => c.port !== undefined);
  const backends = new Set(spec.service?.endpoints.map((b) => b.pod) ?? []);
  candidates.sort(
    (a, b) =>
      Number(backends.has(a.pod.name)) - Number(backends.has(b.pod.name)) || a.pod.name.localeCompare(b.pod.name),
  );
  const pick = candidates[0];
  return pick && { pod: pick.pod.name, ip: pick.pod.ip, port: pick.port };
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
    let countersError: InfraError | undefined;
    const snapshot = async (kind: string): Promise<Map<string, CitedEvidence<IptablesDump>>> => {
      const cited = new Map<string, CitedEvidence<IptablesDump>>();
      if (countersError) return cited;
      try {
        // The scenario's services' rules (or the whole table where that is cheaper), nodes side by side.
        const read = { concurrency: world.ctx.config.nodeReads, services: topo.services };
        for (const [n, ev] of await snapshotCounters(backend, nodes, read))
          cited.set(n, await world.cite({ ...ev, kind }, { hold: world.armed.counters }));
      } catch (err) {
        if (!(err instanceof InfraError)) throw err;
        countersError = err;
        cited.clear();
      }
      return cited;
    };

    // Probes start side by side (each waits until it really listens), and the counters are read
    // meanwhile: all of it before the first packet. Whatever started is stopped in finally.
    const monitorNodes = [...new Set(world.armed.monitors.map((t) => resolveNode(topo, t).name))];
    const probes = Promise.allSettled([
      ...points.map(async (point) => running.push({ point, cap: await startCapture(backend, point, { filter }) })),
      ...monitorNodes.map(async (node) =>
        monitors.push({
          node,
          // With a network policy applied, drops and verdicts are evidence too.
          mon: await startMonitor(backend, node, world.policies.length ? { types: POLICY_MONITOR_TYPES } : {}),
        }),
      ),
    ]);
    const before = snapshot('iptables-before');
    await Promise.allSettled([probes, before]);
    const failed = (await probes).find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const citedBefore = await before;

    const traffic = await world.cite(await sendTraffic(backend, topo, from, spec));
    // A failed request counts only against a client shown to reach something else in the same window.
    let control: CitedEvidence<RequestOutcome[]> | undefined;
    let controlMissing: string | undefined;
    if (traffic.data.some((o) => !o.ok)) {
      const dst = controlDestination(topo, spec, clientIp);
      if (dst) control = await world.cite({ ...(await sendRequests(backend, from, dst, 1)), kind: 'control' });
      else controlMissing = `the scenario has no echo pod other than ${spec.to.ip} for the client to try`;
    }

    // The counters after, the probes stopping (each waits a short settle time) and the backends'
    // liveness, side by side: all three are read after the traffic.
    const after = snapshot('iptables-after');
    const targets = backendsAddressed(topo, spec);
    const liveness = targets.length ? checkListeners(backend, targets) : undefined;
    liveness?.catch(() => undefined); // judged below, after the window's evidence is cited
    const capStops = Promise.all(running.splice(0).map(async ({ point, cap }) => ({ point, ev: await cap.stop() })));
    const monStops = Promise.all(monitors.splice(0).map(async ({ node, mon }) => ({ node, ev: await mon.stop() })));
    await Promise.allSettled([after, capStops, monStops]);
    const citedAfter = await after;
    if (countersError) citedBefore.clear();

    const captures: CaptureResult[] = [];
    // Attach in the order the scenario named them.
    const stopped = await capStops;
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
    const monitorStops = await monStops;
    for (const { node, ev } of monitorStops) monitorEv.set(node, await world.cite(ev, { hold: true }));

    const window: ObservationWindow = {
      spec,
      clientIp,
      clientEndpoint,
      before: citedBefore,
      after: citedAfter,
      traffic,
      control,
      controlMissing,
      captures,
      monitors: monitorEv,
      countersError,
    };
    world.window = window;
    // A backend that exited makes every verdict of this window about a dead workload: broken.
    if (liveness) expectBackendsAlive(await world.cite(await liveness));
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

/**
 * Where the window's packets stopped, when a trace the scenario armed says so: the first drop of
 * a packet from the client (its reason, node and evidence). A failure judged with this needs no
 * control request: the evidence names the place.
 */
export function whereStopped(
  w: ObservationWindow,
): { text: string; evidence: CitedEvidence<MonitorEvent[]> } | undefined {
  for (const [node, ev] of w.monitors) {
    const drop = ev.data.find((e) => e.type === 'drop' && e.src?.ip === w.clientIp);
    if (drop)
      return {
        text: `a drop (${drop.message ?? 'no reason given'}) of a packet from ${w.clientIp} on node ${node}${ev.attachment ? ` (evidence ${ev.attachment})` : ''}`,
        evidence: ev,
      };
  }
  return undefined;
}
