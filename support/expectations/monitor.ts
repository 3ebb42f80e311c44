/**
 * Expectations over `cilium monitor --type trace` events (real Cilium or the lab's reproduction).
 * Pure: no I/O.
 *
 * A service translation shows as a trace event of the client's forward traffic whose `orig-ip`
 * is the ClusterIP and whose destination is a backend: the datapath rewrote the destination
 * before the event was emitted. Without any event at all the monitor proves nothing (the reader
 * may not have been attached): inconclusive, never passed or failed.
 */
import type { MonitorEvent } from '../parsers/monitor.ts';
import { citeAll, dataOf, type EvidenceOr, fail, inconclusive, isEvidence, listSome, plural } from './evidence-ref.ts';

export interface TranslationClaim {
  /** Cilium endpoint id of the client, when known: events that carry endpoint ids must name it. */
  endpoint?: number | null;
  clientIp: string;
  clusterIP: string;
  /** Service port (checked against orig-ip's port when the format prints one). */
  port: number;
  /** Backend pod IPs of the service. */
  backends: readonly string[];
}

const MAX_LINES = 3;

function place(events: EvidenceOr<MonitorEvent[]>): string {
  return isEvidence(events) ? `cilium monitor on ${events.where}` : 'cilium monitor';
}

function traces(list: MonitorEvent[]): MonitorEvent[] {
  return list.filter((e) => e.type === 'trace');
}

function lines(list: MonitorEvent[]): string {
  return list
    .slice(0, MAX_LINES)
    .map((e) => `\`${e.raw.trim()}\``)
    .join(', ')
    .concat(list.length > MAX_LINES ? ` … and ${list.length - MAX_LINES} more` : '');
}

/**
 * Events of the client's endpoint: an event that names its sending endpoint (`FROM N`, lab
 * `ep N`) must name the client's; events without one are attributed by the client IP alone.
 * (`-> endpoint N` is the destination endpoint, so it is not compared.)
 */
function ofEndpoint(e: MonitorEvent, endpoint: number | null | undefined): boolean {
  if (endpoint === undefined || endpoint === null || e.srcEndpoint === null) return true;
  return e.srcEndpoint === endpoint;
}

function translated(e: MonitorEvent): boolean {
  return e.origIp !== null && e.origIp !== '0.0.0.0' && e.origIp !== '::' && e.dst !== null && e.dst.ip !== e.origIp;
}

function fromClient(e: MonitorEvent, clientIp: string): boolean {
  return e.src?.ip === clientIp;
}

function involvesClient(e: MonitorEvent, clientIp: string): boolean {
  return e.src?.ip === clientIp || e.dst?.ip === clientIp;
}

function requireEvents(events: EvidenceOr<MonitorEvent[]>): MonitorEvent[] {
  const list = dataOf(events);
  if (list.length === 0 || traces(list).length === 0) {
    inconclusive(
      `${place(events)} printed no trace event during the window (${plural(list.length, 'line')} read)${citeAll(events)}, so it cannot show whether traffic was translated.`,
      'The monitor must be armed before the traffic and read until after it; rerun the command from the transcript by hand.',
    );
  }
  return list;
}

function portOk(port: number | null, expected: number): boolean {
  return port === null || port === expected;
}

/** Forward events: from the client, orig-ip = ClusterIP (the destination before DNAT). */
function forwardToVip(list: MonitorEvent[], c: Omit<TranslationClaim, 'backends'>): MonitorEvent[] {
  return traces(list).filter(
    (e) =>
      fromClient(e, c.clientIp) && ofEndpoint(e, c.endpoint) && e.origIp === c.clusterIP && portOk(e.origPort, c.port),
  );
}

/**
 * Reply events: to the client, from the ClusterIP, with orig-ip = the source before reverse
 * NAT. This is how Cilium itself reports a service translation (`-> endpoint N … state reply
 * orig-ip <backend>: <ClusterIP>:80 -> <client>`), since its orig-ip is the pre-rev-NAT source.
 */
function repliesFromVip(list: MonitorEvent[], c: Omit<TranslationClaim, 'backends'>): MonitorEvent[] {
  return traces(list).filter(
    (e) =>
      e.dst?.ip === c.clientIp &&
      e.src?.ip === c.clusterIP &&
      portOk(e.src.port, c.port) &&
      translated(e) &&
      (c.endpoint === undefined || c.endpoint === null || e.endpoint === null || e.endpoint === c.endpoint),
  );
}

/**
 * The client's traffic to the ClusterIP was translated to one of the backends. Accepted
 * evidence: a trace event from the client with orig-ip = ClusterIP and destination = a backend
 * (the forward DNAT, as the lab prints it), or a reply event to the client from the ClusterIP
 * whose orig-ip is a backend (the reverse NAT, as Cilium prints it). Returns the events that
 * prove it.
 */
export function expectTranslation(events: EvidenceOr<MonitorEvent[]>, claim: TranslationClaim): MonitorEvent[] {
  const list = requireEvents(events);
  const ev = citeAll(events);
  const toVip = forwardToVip(list, claim);
  const replies = repliesFromVip(list, claim);
  const good = [
    ...toVip.filter((e) => e.dst !== null && claim.backends.includes(e.dst.ip)),
    ...replies.filter((e) => claim.backends.includes(e.origIp!)),
  ];
  if (good.length) return good;
  const who = `${claim.clientIp}${claim.endpoint ? ` (endpoint ${claim.endpoint})` : ''}`;
  const backends = listSome([...claim.backends]);
  const expected = `${who} → ${claim.clusterIP}:${claim.port} translated to a backend (${backends})`;
  if (toVip.length || replies.length) {
    const elsewhere = [...new Set([...toVip.map((e) => e.dst?.ip ?? '?'), ...replies.map((e) => e.origIp!)])];
    fail(
      `${place(events)} shows traffic from ${who} to ${claim.clusterIP}:${claim.port} translated to ${listSome(elsewhere)}, which is not a backend (${backends}): ${lines([...toVip, ...replies])}${ev}.`,
      { expected: [...claim.backends], actual: elsewhere },
    );
  }
  const mine = traces(list).filter((e) => fromClient(e, claim.clientIp) && ofEndpoint(e, claim.endpoint));
  const untranslated = mine.filter((e) => !translated(e));
  const found = mine.length
    ? `${plural(mine.length, 'trace event')} from the client, none with orig-ip ${claim.clusterIP}${untranslated.length ? ` (untranslated: ${lines(untranslated)})` : `: ${lines(mine)}`}`
    : `none of its ${plural(traces(list).length, 'trace event')} comes from ${who}`;
  fail(`Expected ${place(events)} to show ${expected}, but ${found}${ev}.`, {
    expected,
    actual: `${mine.length} client events, 0 translated to a backend`,
  });
}

/**
 * The client's traffic to the ClusterIP was NOT translated by the datapath. Positive control:
 * the monitor saw the client's traffic (≥1 event from or to the client), else inconclusive.
 */
export function expectNoTranslation(
  events: EvidenceOr<MonitorEvent[]>,
  claim: Omit<TranslationClaim, 'backends'> & { backends?: readonly string[] },
): void {
  const list = requireEvents(events);
  const ev = citeAll(events);
  const seen = traces(list).filter((e) => involvesClient(e, claim.clientIp) && ofEndpoint(e, claim.endpoint));
  if (seen.length === 0) {
    inconclusive(
      `${place(events)} saw none of the traffic of ${claim.clientIp} (${plural(traces(list).length, 'trace event')}, none from or to the client)${ev}, so the absence of a translation proves nothing.`,
      'A "no translation" verdict needs the monitor to see the client traffic in the same window.',
    );
  }
  const bad = [...forwardToVip(list, claim).filter(translated), ...repliesFromVip(list, claim)];
  if (bad.length) {
    fail(
      `Expected no translation of ${claim.clientIp} → ${claim.clusterIP}:${claim.port}, but ${place(events)} shows ${plural(bad.length, 'translated event')}: ${lines(bad)}${ev}.`,
      { expected: 0, actual: bad.length },
    );
  }
}

/**
 * Traffic from the client to the backend was delivered by a BPF redirect (bpf_redirect to the
 * backend's interface), not through the stack.
 */
export function expectRedirect(
  events: EvidenceOr<MonitorEvent[]>,
  claim: { clientIp: string; viaInterface?: string } & ({ backendIp: string } | { backendIps: readonly string[] }),
): MonitorEvent[] {
  const list = requireEvents(events);
  const ev = citeAll(events);
  const backends = 'backendIps' in claim ? [...claim.backendIps] : [claim.backendIp];
  const backendText = backends.length === 1 ? backends[0]! : `a backend (${listSome(backends)})`;
  const flows = traces(list).filter(
    (e) => fromClient(e, claim.clientIp) && e.dst !== null && backends.includes(e.dst.ip),
  );
  const redirected = flows.filter(
    (e) => e.redirect !== null && (claim.viaInterface === undefined || e.redirect === claim.viaInterface),
  );
  if (redirected.length) return redirected;
  const via = claim.viaInterface ? ` to ${claim.viaInterface}` : '';
  if (flows.length === 0) {
    fail(
      `Expected ${place(events)} to show traffic from ${claim.clientIp} to ${backendText} delivered by bpf_redirect${via}, but none of its ${plural(traces(list).length, 'trace event')} goes from ${claim.clientIp} to ${backendText}${ev}.`,
      { expected: 'a redirected event', actual: 'no event' },
    );
  }
  const elsewhere = flows.filter((e) => e.redirect !== null).map((e) => e.redirect!);
  fail(
    `Expected ${place(events)} to show traffic from ${claim.clientIp} to ${backendText} delivered by bpf_redirect${via}, but ${plural(flows.length, 'event')} show it ${elsewhere.length ? `redirected to ${listSome([...new Set(elsewhere)])}` : 'passed on without a redirect'}: ${lines(flows)}${ev}.`,
    { expected: claim.viaInterface ?? 'bpf_redirect', actual: elsewhere[0] ?? 'none' },
  );
}
