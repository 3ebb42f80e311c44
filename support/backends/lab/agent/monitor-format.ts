/**
 * The lab's trace records (lab_lb.c struct trace_ev) printed exactly as `cilium-dbg monitor`
 * prints trace notifications — the one-line form (default and `-v`) and the `-vv` form — with
 * the event kinds Cilium emits at the same points in native routing with
 * kubeProxyReplacement=false:
 * - a packet from_container hands to the kernel (`TC_ACT_OK`): `-> stack`, ifindex 0,
 *   orig-ip 0.0.0.0, the tuple after service translation;
 * - a packet delivered to a local endpoint (bpf_redirect from_container, or to_container on
 *   the endpoint's lxc): `-> endpoint <id>`, ifindex = that endpoint's lxc, orig-ip = the
 *   source before reverse NAT (so the client's own address on forward traffic, the backend on
 *   a reverse-NATed reply).
 * Identities and endpoint ids come from the agent's view (identities.ts); the flow id is a hash
 * of the packet's tuple (Cilium prints the skb hash there). Pure.
 */
import { OBS, type TraceRecord } from '../datapath/monitor.ts';
import { type AgentView, identityText } from './identities.ts';

/** Cilium's trace reasons print as these words; lab_lb.c's `untracked` has no CT verdict: unknown. */
const STATE_WORDS: Record<TraceRecord['state'], string> = {
  unknown: 'unknown',
  new: 'new',
  established: 'established',
  reply: 'reply',
};

export const MSG_SEPARATOR = '-'.repeat(78);

/** A trace notification in Cilium's terms, derived from one lab record. */
export interface TraceNotification {
  observationPoint: 'to-endpoint' | 'to-stack';
  /** Endpoint whose program emitted the event (`FROM N`; `--from` filters on it). */
  source: number;
  /** Destination endpoint (`-> endpoint N`; 0 for to-stack; `--to` filters on it). */
  dstId: number;
  hash: number;
  srcIdentity: number;
  dstIdentity: number;
  state: string;
  /** 0, or the interface the packet is delivered on. */
  ifindex: number;
  origIp: string;
  summary: string;
  length: number;
  cpu: number;
}

/** TCP flags in the order cilium monitor prints them ("SYN, ACK", "ACK, FIN"). */
export function tcpFlagsText(flags: number): string {
  const names: string[] = [];
  if (flags & 0x02) names.push('SYN');
  if (flags & 0x10) names.push('ACK');
  if (flags & 0x04) names.push('RST');
  if (flags & 0x01) names.push('FIN');
  return names.join(', ');
}

const ICMP_TYPES: Record<number, string> = {
  0: 'EchoReply',
  3: 'DestinationUnreachable',
  8: 'EchoRequest',
  11: 'TimeExceeded',
};

/** The connection summary after `: ` (pkg/monitor GetConnectionSummary's shapes). */
export function connectionSummary(
  rec: Pick<TraceRecord, 'proto' | 'saddr' | 'daddr' | 'sport' | 'dport' | 'tcpFlags'>,
) {
  if (rec.proto === 6) {
    const flags = tcpFlagsText(rec.tcpFlags);
    return `${rec.saddr}:${rec.sport} -> ${rec.daddr}:${rec.dport} tcp${flags ? ` ${flags}` : ''}`;
  }
  if (rec.proto === 17) return `${rec.saddr}:${rec.sport} -> ${rec.daddr}:${rec.dport} udp`;
  if (rec.proto === 1) return `${rec.saddr} -> ${rec.daddr} icmp ${ICMP_TYPES[rec.tcpFlags] ?? String(rec.tcpFlags)}`;
  return `${rec.saddr} -> ${rec.daddr}`;
}

/**
 * 32-bit FNV-1a of the packet's tuple as it leaves the program: stable per flow and direction,
 * and the same for one packet's `-> stack` and later `-> endpoint` events on a node, as the
 * skb hash Cilium prints stays with the packet.
 */
export function flowHash(rec: Pick<TraceRecord, 'saddr' | 'daddr' | 'sport' | 'dport' | 'proto'>): number {
  let h = 0x811c9dc5;
  const text = `${rec.saddr}:${rec.sport}>${rec.daddr}:${rec.dport}/${rec.proto}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The notification Cilium would emit where lab_lb.c emitted `rec`. */
export function toNotification(rec: TraceRecord, view: AgentView): TraceNotification {
  const toStack = rec.obs === OBS.toStack;
  const dstId = toStack ? 0 : rec.dstEndpoint || (view.endpointOf(rec.daddr)?.id ?? 0);
  const source = toStack ? rec.srcEndpoint || (view.endpointOf(rec.orig.saddr)?.id ?? 0) : dstId;
  const ifindex = toStack ? 0 : rec.obs === OBS.toEndpointRedirect ? rec.targetIfindex : rec.ifindex;
  return {
    observationPoint: toStack ? 'to-stack' : 'to-endpoint',
    source,
    dstId,
    hash: flowHash(rec),
    srcIdentity: view.identityOf(rec.orig.saddr),
    dstIdentity: view.identityOf(rec.daddr),
    state: STATE_WORDS[rec.state],
    ifindex,
    origIp: toStack ? '0.0.0.0' : rec.orig.saddr,
    summary: connectionSummary(rec),
    length: rec.len,
    cpu: rec.cpu ?? 0,
  };
}

/** Interface name of an ifindex as Cilium's link cache prints it (the number when unknown). */
export type IfName = (ifindex: number) => string | undefined;

const hex = (n: number) => `0x${n.toString(16)}`;

/** `identity A->B`: names for reserved identities, or all numbers with `-n/--numeric`. */
function identities(n: TraceNotification, numeric: boolean): string {
  const text = numeric ? String : identityText;
  return `identity ${text(n.srcIdentity)}->${text(n.dstIdentity)}`;
}

/** One-line form (`cilium-dbg monitor`, `-v`). */
export function formatInfo(n: TraceNotification, ifname: IfName, numeric = false): string {
  const head = n.observationPoint === 'to-stack' ? '-> stack' : `-> endpoint ${n.dstId}`;
  const itf = n.ifindex === 0 ? '0' : (ifname(n.ifindex) ?? String(n.ifindex));
  return `${head} flow ${hex(n.hash)} , ${identities(n, numeric)} state ${n.state} ifindex ${itf} orig-ip ${n.origIp}: ${n.summary}`;
}

/**
 * `-vv` form: the separator line, then `CPU 01: MARK 0x… FROM N to-stack: …`. The lab's records
 * carry no packet bytes, so the event says `(0 captured)` and no layer dump follows.
 */
export function formatVerbose(n: TraceNotification, ifname: IfName, numeric = false): string[] {
  let line = `CPU ${String(n.cpu).padStart(2, '0')}: MARK ${hex(n.hash)} FROM ${n.source} ${n.observationPoint}: ${n.length} bytes (0 captured), state ${n.state}`;
  if (n.ifindex !== 0) line += `, interface ${ifname(n.ifindex) ?? String(n.ifindex)}`;
  if (n.srcIdentity !== 0 || n.dstIdentity !== 0) line += `, , ${identities(n, numeric)}`;
  line += `, orig-ip ${n.origIp}`;
  if (n.dstId !== 0) line += `, to endpoint ${n.dstId}`;
  return [MSG_SEPARATOR, line];
}

export type Verbosity = 'info' | 'debug' | 'verbose';

/** Filters of `cilium-dbg monitor` (--from, --to, --related-to): each list empty = not given. */
export interface MonitorFilter {
  from: number[];
  to: number[];
  relatedTo: number[];
}

export function matches(n: TraceNotification, f: MonitorFilter): boolean {
  if (f.from.length && !f.from.includes(n.source)) return false;
  if (f.to.length && !f.to.includes(n.dstId)) return false;
  if (f.relatedTo.length && !f.relatedTo.includes(n.source) && !f.relatedTo.includes(n.dstId)) return false;
  return true;
}

/** Cilium's policy match types (pkg/monitor) by the numbers lab_lb.c records. */
const MATCH_WORDS: Record<number, string> = { 0: 'none', 1: 'L3-Only', 2: 'L3-L4', 3: 'L4-Only', 4: 'all' };

/** The `cilium-dbg monitor --type` a record belongs to. */
export function recordType(rec: TraceRecord): 'trace' | 'drop' | 'policy-verdict' {
  return rec.obs === OBS.drop ? 'drop' : rec.obs === OBS.policyVerdict ? 'policy-verdict' : 'trace';
}

/** The endpoint that decided a policy record (the one whose policy map was consulted). */
function localEndpoint(rec: TraceRecord): number {
  return rec.policy?.direction === 'egress' ? rec.srcEndpoint : rec.dstEndpoint;
}

/**
 * A drop as `cilium-dbg monitor` prints it: one line (`xx drop (Policy denied) flow … to endpoint
 * N, ifindex I, file bpf_lxc.c:L, , identity A->B: tuple`; to endpoint 0 on egress, as Cilium),
 * or with -vv `CPU 01: MARK … FROM N DROP: … bytes, reason Policy denied, identity A->B, to endpoint N`.
 */
export function formatDrop(rec: TraceRecord, view: AgentView, verbosity: Verbosity, numeric = false): string[] {
  const p = rec.policy!;
  const local = localEndpoint(rec);
  const src = p.direction === 'ingress' ? p.peerIdentity : view.identityOf(rec.saddr);
  const dst = p.direction === 'ingress' ? view.identityOf(rec.daddr) : p.peerIdentity;
  const text = numeric ? String : identityText;
  const ids = `identity ${text(src)}->${text(dst)}`;
  const to = p.direction === 'ingress' ? local : 0;
  if (verbosity === 'verbose') {
    let line = `CPU ${String(rec.cpu ?? 0).padStart(2, '0')}: MARK ${hex(flowHash(rec))} FROM ${local} DROP: ${rec.len} bytes, reason Policy denied, ${ids}`;
    line += to ? `, to endpoint ${to}` : '';
    return [MSG_SEPARATOR, line];
  }
  return [
    `xx drop (Policy denied) flow ${hex(flowHash(rec))} to endpoint ${to}, ifindex ${rec.ifindex}, file bpf_lxc.c:${p.line}, , ${ids}: ${connectionSummary(rec)}`,
  ];
}

/** `Policy verdict log: flow … local EP ID N, remote ID R, proto P, ingress, action allow, auth: disabled, match L3-L4, tuple`. */
export function formatPolicyVerdict(rec: TraceRecord, numeric = false): string {
  const p = rec.policy!;
  const remote = numeric ? String(p.peerIdentity) : identityText(p.peerIdentity);
  return `Policy verdict log: flow ${hex(flowHash(rec))} local EP ID ${localEndpoint(rec)}, remote ID ${remote}, proto ${rec.proto}, ${p.direction}, action ${p.action}, auth: disabled, match ${MATCH_WORDS[p.match] ?? 'unknown'}, ${connectionSummary(rec)}`;
}

/** The lines `cilium-dbg monitor` prints for one record (none when filtered out). */
export function formatRecord(
  rec: TraceRecord,
  view: AgentView,
  ifname: IfName,
  opts: { verbosity?: Verbosity; filter?: MonitorFilter; numeric?: boolean } = {},
): string[] {
  if (rec.policy) {
    const local = localEndpoint(rec);
    const dst = rec.policy.direction === 'ingress' ? local : rec.obs === OBS.drop ? 0 : local;
    const f = opts.filter ?? { from: [], to: [], relatedTo: [] };
    if (f.from.length && !f.from.includes(local)) return [];
    if (f.to.length && !f.to.includes(dst)) return [];
    if (f.relatedTo.length && !f.relatedTo.includes(local)) return [];
    return rec.obs === OBS.drop
      ? formatDrop(rec, view, opts.verbosity ?? 'info', opts.numeric)
      : [formatPolicyVerdict(rec, opts.numeric)];
  }
  const n = toNotification(rec, view);
  if (opts.filter && !matches(n, opts.filter)) return [];
  return opts.verbosity === 'verbose' ? formatVerbose(n, ifname, opts.numeric) : [formatInfo(n, ifname, opts.numeric)];
}

/** What `cilium-dbg monitor` prints on stderr before the events. */
export function monitorBanner(cpus: number): string[] {
  return [`Listening for events on ${cpus} CPUs with 64x4096 of shared memory`, 'Press Ctrl-C to quit'];
}
