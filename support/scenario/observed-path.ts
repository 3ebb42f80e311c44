/**
 * The packet path of a scenario, drawn from its own evidence: for each hook point in order, what
 * the window's captures, counters, monitor trace and traffic showed. Hook points the scenario did
 * not observe are marked "no evidence" rather than guessed. The Then steps' judgements mark each
 * hook point they were about: an expectation that held keeps the hop's own colour (an absence
 * expected by the scenario is neutral), a contradicted one is drawn red.
 */
import type { Topology } from '../backends/types.ts';
import { endpointDeliveries, reverseNatReplies } from '../expectations/monitor.ts';
import { counterDelta, serviceRules } from '../kube-proxy/rules.ts';
import type { Hop, PacketPath } from '../report/packet-path-svg.ts';
import type { Judgement } from './judged.ts';
import type { CaptureResult, ObservationWindow } from './window.ts';

function destinations(cap: CaptureResult | undefined, clientIp: string): string[] {
  if (!cap) return [];
  const dsts = new Set<string>();
  for (const p of cap.evidence.data.packets)
    if (p.src?.ip === clientIp && p.dst?.ip) dsts.add(`${p.dst.ip}${p.dst.port ? `:${p.dst.port}` : ''}`);
  return [...dsts];
}

function captureHop(point: string, cap: CaptureResult | undefined, clientIp: string): Hop {
  if (!cap) return { point, where: '—', observed: ['not captured in this scenario'], verdict: 'no-evidence' };
  const d = destinations(cap, clientIp);
  return d.length
    ? { point, where: cap.label, observed: d.slice(0, 4).map((x) => `dst ${x}`), verdict: 'seen' }
    : { point, where: cap.label, observed: [`no packet of ${clientIp}`], verdict: 'not-seen' };
}

/** Packets counted by the service's kube-proxy rules on one node over the window. */
function counterRise(w: ObservationWindow, node: string): { delta: number; lines: string[] } | undefined {
  const svc = w.spec.service;
  const before = w.before.get(node)?.data;
  const after = w.after.get(node)?.data;
  if (!svc || !before || !after) return undefined;
  const rules = serviceRules(before, { namespace: svc.namespace, service: svc.name, portName: svc.portName });
  const watched = [...rules.svcJumps, ...rules.sepDnat, ...rules.nodePortJumps];
  const deltas = counterDelta(watched, after);
  const risen = deltas.filter((d) => d.delta > 0);
  return {
    delta: risen.reduce((n, d) => n + d.delta, 0),
    lines: risen.slice(0, 3).map((d) => `${d.chain} +${d.delta}`),
  };
}

/** The hook point of the picture a capture point stands for. */
export function hookPointOfCapture(kind: string): string {
  return kind === 'pod-eth0' ? 'pod eth0' : kind === 'host-veth' ? 'host veth / tc' : 'node eth0';
}

function withJudgements(hops: Hop[], judgements: readonly Judgement[]): Hop[] {
  return hops.map((h) => {
    const mine = judgements.filter((j) => j.point === h.point);
    if (mine.length === 0) return h;
    return { ...h, expectation: mine.some((j) => !j.held) ? 'contradicted' : 'held' };
  });
}

export function packetPathOf(
  w: ObservationWindow,
  topo: Topology,
  title: string,
  judgements: readonly Judgement[] = [],
): PacketPath {
  const clientPod =
    w.spec.from.kind === 'pod' ? topo.pods.find((p) => p.name === (w.spec.from as { pod: string }).pod) : undefined;
  const clientNode = clientPod?.node ?? (w.spec.from.kind === 'node' ? w.spec.from.node.name : undefined);
  const byKind = (kind: string) => w.captures.find((c) => c.point.kind === kind);
  const hops: Hop[] = [];

  hops.push(
    w.spec.from.kind === 'node'
      ? {
          point: 'pod eth0',
          where: `node ${clientNode}`,
          observed: ['traffic starts on the node itself'],
          verdict: 'no-evidence',
        }
      : captureHop('pod eth0', byKind('pod-eth0'), w.clientIp),
  );

  const monitor = clientNode ? w.monitors.get(clientNode) : undefined;
  const vip = w.spec.to.ip;
  const replies = monitor ? reverseNatReplies(monitor.data, { clientIp: w.clientIp, clusterIP: vip }) : [];
  const backends = [...new Set(replies.map((e) => e.origIp!))];
  const direct = monitor
    ? endpointDeliveries(monitor.data, { clientIp: w.clientIp, backends: backends.map((ip) => ({ ip })) }).direct
    : [];
  if (monitor) {
    hops.push(
      direct.length
        ? {
            point: 'host veth / tc',
            where: `node ${clientNode}`,
            observed: [`${vip} → ${direct[0]!.dst?.ip}`, `-> endpoint ${direct[0]!.endpoint} without -> stack`],
            verdict: 'redirected',
          }
        : replies.length
          ? {
              point: 'host veth / tc',
              where: `node ${clientNode}`,
              observed: [`${vip} → ${backends.join(', ')}`, `${replies.length} replies reverse-NATed from ${vip}`],
              verdict: 'translated',
            }
          : {
              point: 'host veth / tc',
              where: `node ${clientNode}`,
              observed: ['no translation traced'],
              verdict: 'not-seen',
            },
    );
  } else {
    hops.push(captureHop('host veth / tc', byKind('host-veth'), w.clientIp));
  }

  const rise = clientNode ? counterRise(w, clientNode) : undefined;
  const ownerNode = w.spec.via === 'nodeport' ? topo.nodes.find((n) => n.ip === w.spec.to.ip)?.name : clientNode;
  const natRise = ownerNode ? counterRise(w, ownerNode) : rise;
  hops.push(
    !natRise
      ? { point: 'iptables nat', where: '—', observed: ['no service addressed'], verdict: 'no-evidence' }
      : natRise.delta > 0
        ? { point: 'iptables nat', where: `node ${ownerNode}`, observed: natRise.lines, verdict: 'translated' }
        : {
            point: 'iptables nat',
            where: `node ${ownerNode}`,
            observed: ['KUBE-SVC/KUBE-SEP counters flat'],
            verdict: 'not-seen',
          },
  );

  hops.push({
    point: 'routing',
    where: `node ${clientNode}`,
    observed: [w.spec.via === 'nodeport' ? `to ${w.spec.to.ip}:${w.spec.to.port}` : 'kernel route lookup'],
    verdict: 'no-evidence',
  });
  hops.push(captureHop('node eth0', byKind('node-eth0'), w.clientIp));

  const answered = [...new Set(w.traffic.data.map((o) => o.answeredBy).filter((x): x is string => Boolean(x)))];
  const remote = answered.filter((p) => topo.pods.find((x) => x.name === p)?.node !== clientNode);
  hops.push(
    remote.length
      ? {
          point: 'other node',
          where: remote.map((p) => topo.pods.find((x) => x.name === p)?.node ?? '?').join(', '),
          observed: remote.map((p) => `answered by ${p}`),
          verdict: 'seen',
        }
      : {
          point: 'other node',
          where: '—',
          observed: ['no answer from another node'],
          verdict: answered.length ? 'not-seen' : 'no-evidence',
        },
  );
  const ok = w.traffic.data.filter((o) => o.ok).length;
  hops.push({
    point: 'backend veth',
    where: answered.join(', ') || '—',
    observed: [`${ok}/${w.traffic.data.length} requests answered`],
    verdict: ok > 0 ? 'seen' : 'not-seen',
  });
  return {
    title,
    hops: withJudgements(hops, judgements),
    subtitle: `${w.spec.via} traffic from ${w.spec.from.kind === 'pod' ? `pod ${clientPod?.name}` : `node ${clientNode}`} to ${w.spec.to.ip}:${w.spec.to.port}`,
  };
}
