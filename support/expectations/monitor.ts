/**
 * Expectations over `cilium-dbg monitor --type trace` events, judged only on fields real Cilium
 * prints: the event kind (`-> endpoint N`, `-> stack`), the endpoint, identities, ifindex,
 * `orig-ip` and the tuple. The lab's agent stand-in prints the same formats. Pure: no I/O.
 *
 * What each event says in native routing with kubeProxyReplacement=false:
 * - `-> stack … : client -> backend` — the client's packet, already translated by the lxc
 *   program, handed to the kernel (a backend on another node);
 * - `-> endpoint <backend ep> … orig-ip <client>: client -> backend` — delivered to a same-node
 *   backend; with no `-> stack` event of that connection it never passed through the stack;
 * - `-> endpoint <client ep> … state reply … orig-ip <backend>: <ClusterIP>:80 -> client` — the
 *   reply, reverse-NATed: `orig-ip` is the source before reverse NAT. Every `-> endpoint` event
 *   carries the pre-reverse-NAT source, so orig-ip ≠ destination alone proves nothing; a
 *   reverse NAT is a source of ClusterIP:port with an orig-ip that is not the ClusterIP.
 * Without any trace event the monitor proves nothing (the reader may not have been attached):
 * inconclusive, never passed or failed.
 */
import type { MonitorEvent } from '../parsers/monitor.ts';
import { citeAll, dataOf, type EvidenceOr, fail, inconclusive, isEvidence, listSome, plural } from './evidence-ref.ts';

export interface TranslationClaim {
  /** Cilium endpoint id of the client, when known: its reverse-NATed replies go to this endpoint. */
  endpoint?: number | null;
  clientIp: string;
  clusterIP: string;
  /** Service port (the source port of the reverse-NATed replies). */
  port: number;
  /** Backend pod IPs of the service. */
  backends: readonly string[];
}

const MAX_LINES = 3;
const NO_ADDRESS = new Set(['0.0.0.0', '::']);

function place(events: EvidenceOr<MonitorEvent[]>): string {
  return isEvidence(events) ? `cilium monitor on ${events.where}` : 'cilium monitor';
}

function traces(list: readonly MonitorEvent[]): MonitorEvent[] {
  return list.filter((e) => e.type === 'trace');
}

function lines(list: readonly MonitorEvent[]): string {
  return list
    .slice(0, MAX_LINES)
    .map((e) => `\`${e.raw.trim()}\``)
    .join(', ')
    .concat(list.length > MAX_LINES ? ` … and ${list.length - MAX_LINES} more` : '');
}

function requireEvents(events: EvidenceOr<MonitorEvent[]>, what: string): MonitorEvent[] {
  const list = dataOf(events);
  if (traces(list).length === 0) {
    inconclusive(
      `${place(events)} printed no trace event during the window (${plural(list.length, 'line')} read)${citeAll(events)}, so it cannot show ${what}.`,
      'The monitor must be armed before the traffic and read until after it; rerun the command from the transcript by hand.',
    );
  }
  return list;
}

/**
 * Reverse-NATed replies to the client: `-> endpoint` events whose destination is the client,
 * whose source is ClusterIP:port and whose orig-ip (the source before reverse NAT) is another
 * address. `endpoint` (the client's), when given, must be the event's endpoint.
 */
export function reverseNatReplies(
  list: readonly MonitorEvent[],
  c: { clientIp: string; clusterIP: string; port?: number | null; endpoint?: number | null },
): MonitorEvent[] {
  return traces(list).filter(
    (e) =>
      e.observationPoint === 'to-endpoint' &&
      e.dst?.ip === c.clientIp &&
      e.src?.ip === c.clusterIP &&
      (c.port == null || e.src.port === null || e.src.port === c.port) &&
      e.origIp !== null &&
      !NO_ADDRESS.has(e.origIp) &&
      e.origIp !== c.clusterIP &&
      (c.endpoint == null || e.endpoint === c.endpoint),
  );
}

/** Trace events of packets sent by the client (its forward direction). */
export function clientForward(list: readonly MonitorEvent[], clientIp: string): MonitorEvent[] {
  return traces(list).filter((e) => e.src?.ip === clientIp);
}

function sameConnection(a: MonitorEvent, b: MonitorEvent): boolean {
  return (
    a.src?.ip === b.src?.ip && a.src?.port === b.src?.port && a.dst?.ip === b.dst?.ip && a.dst?.port === b.dst?.port
  );
}

/**
 * Deliveries of the client's packets to a backend endpoint (`-> endpoint <ep>` with the client
 * as source and a backend as destination), split by whether the same connection also shows a
 * `-> stack` event (it went through the kernel's stack first) or not (delivered directly).
 */
export function endpointDeliveries(
  list: readonly MonitorEvent[],
  c: { clientIp: string; backends: readonly BackendRef[] },
): { direct: MonitorEvent[]; viaStack: MonitorEvent[]; stack: MonitorEvent[] } {
  const mine = clientForward(list, c.clientIp);
  const toStack = mine.filter((e) => e.observationPoint === 'to-stack');
  const delivered = mine.filter(
    (e) =>
      e.observationPoint === 'to-endpoint' &&
      c.backends.some((b) => b.ip === e.dst?.ip && (b.endpoint == null || b.endpoint === e.endpoint)),
  );
  const direct: MonitorEvent[] = [];
  const viaStack: MonitorEvent[] = [];
  const stack: MonitorEvent[] = [];
  for (const d of delivered) {
    const before = toStack.filter((s) => sameConnection(s, d));
    if (before.length) {
      viaStack.push(d);
      stack.push(...before.filter((s) => !stack.includes(s)));
    } else direct.push(d);
  }
  return { direct, viaStack, stack };
}

/**
 * The client's traffic to the ClusterIP was translated to one of the backends. Proof: a reply
 * to the client reverse-NATed from the ClusterIP whose orig-ip is a backend; the client's
 * forward events of the same connection (`-> stack`/`-> endpoint` to that backend) are cited
 * with it. Returns the events that prove it.
 */
export function expectTranslation(events: EvidenceOr<MonitorEvent[]>, claim: TranslationClaim): MonitorEvent[] {
  const list = requireEvents(events, 'whether traffic was translated');
  const ev = citeAll(events);
  const replies = reverseNatReplies(list, claim);
  const good = replies.filter((e) => claim.backends.includes(e.origIp!));
  const forward = clientForward(list, claim.clientIp);
  if (good.length) {
    const sameFlows = forward.filter((f) =>
      good.some((r) => f.src?.port === r.dst?.port && f.dst?.ip === r.origIp && f.dst?.ip !== claim.clusterIP),
    );
    return [...sameFlows, ...good];
  }
  const who = `${claim.clientIp}${claim.endpoint ? ` (endpoint ${claim.endpoint})` : ''}`;
  const backends = listSome([...claim.backends]);
  const expected = `${who} → ${claim.clusterIP}:${claim.port} translated to a backend (${backends})`;
  if (replies.length) {
    const elsewhere = [...new Set(replies.map((e) => e.origIp!))];
    fail(
      `${place(events)} shows replies to ${who} reverse-NATed from ${claim.clusterIP}:${claim.port} whose orig-ip is ${listSome(elsewhere)}, which is not a backend (${backends}): ${lines(replies)}${ev}.`,
      { expected: [...claim.backends], actual: elsewhere },
    );
  }
  const involving = traces(list).filter((e) => e.src?.ip === claim.clientIp || e.dst?.ip === claim.clientIp);
  const untranslated = involving.filter(
    (e) =>
      (e.src?.ip === claim.clientIp && e.dst?.ip === claim.clusterIP) ||
      (e.dst?.ip === claim.clientIp && e.src?.ip === claim.clusterIP && e.origIp === claim.clusterIP),
  );
  const found = involving.length
    ? `no reply to the client is reverse-NATed from ${claim.clusterIP}${untranslated.length ? `; its traffic to and from the ClusterIP passes untranslated: ${lines(untranslated)}` : `; events of the client: ${lines(involving)}`}`
    : `none of its ${plural(traces(list).length, 'trace event')} comes from or goes to ${who}`;
  fail(`Expected ${place(events)} to show ${expected}, but ${found}${ev}.`, {
    expected,
    actual: `${involving.length} client events, 0 reverse-NATed replies from a backend`,
  });
}

/**
 * The client's traffic to the ClusterIP was NOT translated by the datapath: no reply to the
 * client is reverse-NATed from the ClusterIP. Positive control: the monitor saw the client's
 * traffic (≥1 event from or to the client), else inconclusive.
 */
export function expectNoTranslation(
  events: EvidenceOr<MonitorEvent[]>,
  claim: Omit<TranslationClaim, 'backends'> & { backends?: readonly string[] },
): void {
  const list = requireEvents(events, 'whether traffic was translated');
  const ev = citeAll(events);
  const seen = traces(list).filter((e) => e.src?.ip === claim.clientIp || e.dst?.ip === claim.clientIp);
  if (seen.length === 0) {
    inconclusive(
      `${place(events)} saw none of the traffic of ${claim.clientIp} (${plural(traces(list).length, 'trace event')}, none from or to the client)${ev}, so the absence of a translation proves nothing.`,
      'A "no translation" verdict needs the monitor to see the client traffic in the same window.',
    );
  }
  const bad = reverseNatReplies(list, claim);
  if (bad.length) {
    fail(
      `Expected no translation of ${claim.clientIp} → ${claim.clusterIP}:${claim.port}, but ${place(events)} shows ${plural(bad.length, 'reply', 'replies')} reverse-NATed from the ClusterIP (orig-ip ${listSome([...new Set(bad.map((e) => e.origIp!))])}): ${lines(bad)}${ev}.`,
      { expected: 0, actual: bad.length },
    );
  }
}

/** A backend pod: its IP and, when known, its Cilium endpoint id. */
export interface BackendRef {
  ip: string;
  endpoint?: number | null;
}

/**
 * The client's traffic was delivered to a same-node backend endpoint without a pass through
 * the stack: a `-> endpoint <backend ep>` event of the client's connection and no `-> stack`
 * event of that connection. Returns the delivering events.
 */
export function expectSameNodeDelivery(
  events: EvidenceOr<MonitorEvent[]>,
  claim: { clientIp: string; backends: readonly BackendRef[] },
): MonitorEvent[] {
  const list = requireEvents(events, 'how the traffic was delivered');
  const ev = citeAll(events);
  const { direct, viaStack, stack } = endpointDeliveries(list, claim);
  if (direct.length) return direct;
  const ips = claim.backends.map((b) => b.ip);
  const backendText = ips.length === 1 ? ips[0]! : `a backend (${listSome(ips)})`;
  const expected = `traffic from ${claim.clientIp} delivered to the endpoint of ${backendText} without passing through the stack`;
  if (viaStack.length) {
    fail(
      `Expected ${place(events)} to show ${expected}, but every delivery of it (${lines(viaStack)}) follows a \`-> stack\` event of the same connection (${lines(stack)}): it went through the node's stack${ev}.`,
      { expected: 'no -> stack event before the -> endpoint delivery', actual: `${stack.length} -> stack events` },
    );
  }
  const mine = clientForward(list, claim.clientIp);
  fail(
    `Expected ${place(events)} to show ${expected}, but no \`-> endpoint\` event delivers the client's traffic to ${backendText}${mine.length ? ` (events of the client: ${lines(mine)})` : ` (none of its ${plural(traces(list).length, 'trace event')} comes from ${claim.clientIp})`}${ev}.`,
    {
      expected: 'a -> endpoint event to a backend',
      actual: mine.length ? `${mine.length} other client events` : 'no event',
    },
  );
}

/** A policy decision as the evidence steps claim it: between two pods, in which direction. */
export interface PolicyClaim {
  srcIp: string;
  dstIp: string;
  /** Endpoint id of the destination pod (an ingress decision is its own). */
  dstEndpoint?: number | null;
  /** Endpoint id of the source pod (an egress decision is its own). */
  srcEndpoint?: number | null;
}

function between(e: MonitorEvent, c: PolicyClaim): boolean {
  return e.src?.ip === c.srcIp && e.dst?.ip === c.dstIp;
}

/**
 * A `xx drop (Policy denied)` event of a packet from the source pod to the destination pod,
 * judged on what Cilium prints: the reason, the tuple, and — for a drop at delivery — `to endpoint`
 * = the destination's endpoint (a drop on the source's egress says `to endpoint 0`).
 */
/** A policy step's positive control: the reader printed some event (a drop alone proves it read). */
function requireAnyEvent(events: EvidenceOr<MonitorEvent[]>, what: string): MonitorEvent[] {
  const list = dataOf(events);
  if (!list.some((e) => e.type === 'trace' || e.type === 'drop' || e.type === 'policy-verdict'))
    inconclusive(
      `${place(events)} printed no trace, drop or policy verdict during the window (${plural(list.length, 'line')} read)${citeAll(events)}, so it cannot show ${what}.`,
      'The monitor must be armed before the traffic and read until after it; rerun the command from the transcript by hand.',
    );
  return list;
}

export function expectPolicyDrop(events: EvidenceOr<MonitorEvent[]>, c: PolicyClaim): MonitorEvent {
  const list = requireAnyEvent(events, 'a policy drop');
  const drops = list.filter((e) => e.type === 'drop');
  const ours = drops.filter((e) => between(e, c));
  const denied = ours.filter((e) => e.message === 'Policy denied');
  const placed = denied.filter((e) => e.endpoint === 0 || c.dstEndpoint == null || e.endpoint === c.dstEndpoint);
  if (placed.length) return placed[0]!;
  const seen = list.filter((e) => between(e, c));
  fail(
    `${place(events)} shows no policy denied drop from ${c.srcIp} to ${c.dstIp}${
      ours.length
        ? `; drops of that flow had other reasons or endpoints: ${lines(ours)}`
        : drops.length
          ? `; it dropped other flows: ${lines(drops)}`
          : seen.length
            ? `; the flow passed instead: ${lines(seen)}`
            : '; it printed no event of that flow at all'
    }${citeAll(events)}.`,
    { expected: 'xx drop (Policy denied)', actual: ours.map((e) => e.raw.trim()).join('\n') || 'none' },
  );
}

/**
 * A `Policy verdict log` of the connection from the source to the destination pod with this
 * action (allow, deny): the destination's ingress verdict or the source's egress verdict.
 */
export function expectPolicyVerdict(
  events: EvidenceOr<MonitorEvent[]>,
  c: PolicyClaim,
  action: 'allow' | 'deny',
): MonitorEvent {
  const list = requireAnyEvent(events, 'a policy verdict');
  const verdicts = list.filter((e) => e.type === 'policy-verdict' && between(e, c));
  const match = verdicts.filter((e) => e.verdict?.action === action);
  if (match.length) return match[0]!;
  fail(
    `${place(events)} shows no policy verdict "${action}" for ${c.srcIp} -> ${c.dstIp}${
      verdicts.length ? `; its verdicts were: ${lines(verdicts)}` : '; it logged no verdict for that flow'
    }${citeAll(events)}.`,
    { expected: `action ${action}`, actual: verdicts.map((e) => e.raw.trim()).join('\n') || 'none' },
  );
}
