/**
 * Expectations over captured packets: what a capture point saw. Pure: no I/O.
 *
 * Positive control (ARCHITECTURE §3): "sees only …" and "sees nothing …" are verdicts only
 * when the instrument saw the scenario's own traffic in the same window — the client's packets
 * in this capture (for "only"), or in this or another capture of the window (for "nothing",
 * where this capture is expected to be silent). Otherwise InconclusiveError. Encapsulated
 * packets (VXLAN/Geneve) are judged by their inner packet too; where a verdict is about the
 * destination on the wire, a packet that crossed the capture point inside a tunnel has the
 * outer header's destination (the other node), and the failure names that outer header.
 */
import type { Packet } from '../parsers/tcpdump.ts';
import type { CaptureData } from '../probes/capture.ts';
import { citeAll, dataOf, type EvidenceOr, fail, inconclusive, isEvidence, listSome, plural } from './evidence-ref.ts';

export type CaptureLike = EvidenceOr<CaptureData | { packets: Packet[] } | Packet[]>;

const MAX_LINES = 3;

function packetsOf(c: CaptureLike): Packet[] {
  const d = dataOf(c);
  const list = Array.isArray(d) ? d : d.packets;
  const out: Packet[] = [];
  for (const p of list) {
    out.push(p);
    for (let inner = p.inner; inner; inner = inner.inner) out.push(inner);
  }
  return out;
}

/** A packet as the capture point saw it, with the tunnel packet that carried it (null: on the wire as is). */
interface Seen {
  packet: Packet;
  carrier: Packet | null;
}

function seenPackets(c: CaptureLike): Seen[] {
  const d = dataOf(c);
  const out: Seen[] = [];
  for (const p of Array.isArray(d) ? d : d.packets) {
    out.push({ packet: p, carrier: null });
    for (let inner = p.inner; inner; inner = inner.inner) out.push({ packet: inner, carrier: p });
  }
  return out;
}

/** `outer` carrying `inner`, one line. */
function carried(list: Seen[]): string {
  const shown = list
    .slice(0, MAX_LINES)
    .map((s) =>
      s.carrier ? `\`${s.carrier.raw.trim()}\` carrying \`${s.packet.raw.trim()}\`` : `\`${s.packet.raw.trim()}\``,
    );
  return shown.join(', ') + (list.length > MAX_LINES ? ` … and ${list.length - MAX_LINES} more` : '');
}

function place(c: CaptureLike): string {
  return isEvidence(c) ? `the capture on ${c.where}` : 'the capture';
}

function lines(list: Packet[]): string {
  const shown = list.slice(0, MAX_LINES).map((p) => `\`${p.raw.trim()}\``);
  return shown.join(', ') + (list.length > MAX_LINES ? ` … and ${list.length - MAX_LINES} more` : '');
}

function counts(ips: Array<string | undefined>): string {
  const m = new Map<string, number>();
  for (const ip of ips) if (ip) m.set(ip, (m.get(ip) ?? 0) + 1);
  return [...m]
    .sort((a, b) => b[1] - a[1])
    .map(([ip, n]) => `${ip} ×${n}`)
    .join(', ');
}

function involves(p: Packet, ips: readonly string[]): boolean {
  return (p.src !== null && ips.includes(p.src.ip)) || (p.dst !== null && ips.includes(p.dst.ip));
}

/**
 * At least one packet with destination `ip`. A capture with no packet at all is inconclusive
 * (the instrument may be blind); with `clientIps`, so is one that saw none of the client's
 * packets. Returns the matching packets.
 */
export function expectDestinationSeen(
  capture: CaptureLike,
  ip: string,
  opts: { clientIps?: readonly string[] } = {},
): Packet[] {
  const all = packetsOf(capture);
  const ev = citeAll(capture);
  if (all.length === 0) {
    inconclusive(
      `${place(capture)} saw no packet at all during the window${ev}, so it cannot show whether ${ip} was a destination.`,
      'Check the capture point and filter; the traffic must cross that interface.',
    );
  }
  const hits = all.filter((p) => p.dst?.ip === ip);
  if (hits.length) return hits;
  if (opts.clientIps?.length && !all.some((p) => involves(p, opts.clientIps!))) {
    inconclusive(
      `${place(capture)} saw ${plural(all.length, 'packet')} but none from or to the client (${listSome([...opts.clientIps])})${ev}, so it cannot show where the client's traffic went.`,
    );
  }
  fail(
    `Expected ${place(capture)} to see ${ip} as a destination, but none of its ${plural(all.length, 'packet')} goes to ${ip} (destinations: ${counts(all.map((p) => p.dst?.ip))}): ${lines(all)}${ev}.`,
    { expected: ip, actual: [...new Set(all.map((p) => p.dst?.ip).filter(Boolean))] },
  );
}

/**
 * Every packet sent by the client (source ∈ clientIps) has its destination in `allowedIps`.
 * Replies (to the client) are not judged. Positive control: the capture saw ≥1 packet from the
 * client, else inconclusive.
 */
export function expectOnlyDestinations(
  capture: CaptureLike,
  allowedIps: readonly string[],
  clientIps: readonly string[],
): Packet[] {
  const all = packetsOf(capture);
  const ev = citeAll(capture);
  const seen = seenPackets(capture).filter(
    (s) => s.packet.src !== null && clientIps.includes(s.packet.src.ip) && s.packet.dst !== null,
  );
  const sent = seen.map((s) => s.packet);
  if (sent.length === 0) {
    inconclusive(
      `${place(capture)} saw no packet from the client (${listSome([...clientIps])}) among its ${plural(all.length, 'packet')}${ev}, so "only ${listSome([...allowedIps])} as destination" cannot be judged.`,
      'A "sees only" verdict needs the capture to see the scenario\'s own traffic.',
    );
  }
  const tunnelled = seen.filter((s) => s.carrier && !allowedIps.includes(s.carrier.dst?.ip ?? ''));
  if (tunnelled.length) {
    const outer = [...new Set(tunnelled.map((s) => s.carrier!.dst?.ip ?? '?'))];
    fail(
      `Expected ${place(capture)} to see only ${listSome([...allowedIps])} as destination of the client's packets, but ${tunnelled.length} of ${sent.length} crossed it inside a tunnel whose outer header goes to ${listSome(outer)}: ${carried(tunnelled)}${ev}.`,
      { expected: [...allowedIps], actual: outer },
    );
  }
  const bad = sent.filter((p) => !allowedIps.includes(p.dst!.ip));
  if (bad.length) {
    fail(
      `Expected ${place(capture)} to see only ${listSome([...allowedIps])} as destination of the client's packets, but ${bad.length} of ${sent.length} went to ${counts(bad.map((p) => p.dst?.ip))}: ${lines(bad)}${ev}.`,
      { expected: [...allowedIps], actual: [...new Set(bad.map((p) => p.dst!.ip))] },
    );
  }
  return sent;
}

/**
 * No packet to or from any of `ips` crossed this capture point. Positive control: this capture
 * or one of the `control` captures of the same window saw such packets (the traffic happened
 * and the instruments could see it), else inconclusive.
 */
export function expectNothingTo(
  capture: CaptureLike,
  ips: readonly string[],
  control: ReadonlyArray<CaptureLike> = [],
): void {
  const all = packetsOf(capture);
  const ev = citeAll(capture);
  const bad = all.filter((p) => involves(p, ips));
  if (bad.length) {
    fail(
      `Expected ${place(capture)} to see none of the traffic of ${listSome([...ips])}, but it saw ${plural(bad.length, 'packet')}: ${lines(bad)}${ev}.`,
      { expected: 0, actual: bad.length },
    );
  }
  const witness = control.find((c) => packetsOf(c).some((p) => involves(p, ips)));
  if (!witness) {
    const others = control.length
      ? `none of the ${plural(control.length, 'other capture')} of the window (${control.map(place).join(', ')}) saw it either`
      : 'no other capture of the window was armed to see it';
    inconclusive(
      `${place(capture)} saw no packet of ${listSome([...ips])}, but ${others}${citeAll(capture, ...control)}: without a capture that saw the traffic, "sees none" proves nothing.`,
      'Arm a capture where the traffic must pass (e.g. the client pod eth0) in the same scenario.',
    );
  }
}

/**
 * Every packet of the client's traffic (from or to `clientIps`) crossed this capture point inside
 * a tunnel (VXLAN/Geneve over UDP) whose outer addresses are node IPs. Positive control: the
 * capture saw the client's traffic at all, else inconclusive. Returns the outer packets.
 */
export function expectEncapsulated(
  capture: CaptureLike,
  clientIps: readonly string[],
  nodeIps: readonly string[],
): Packet[] {
  const ev = citeAll(capture);
  const mine = seenPackets(capture).filter((s) => involves(s.packet, clientIps));
  if (mine.length === 0)
    inconclusive(
      `${place(capture)} saw none of the traffic of ${listSome([...clientIps])}, neither bare nor inside a tunnel (${plural(packetsOf(capture).length, 'packet')} in all)${ev}, so it cannot show how that traffic crossed it.`,
      'The traffic must cross this capture point: capture on the eth0 of a node the traffic leaves or enters.',
    );
  const bare = mine.filter((s) => !s.carrier);
  if (bare.length)
    fail(
      `Expected ${place(capture)} to see the traffic of ${listSome([...clientIps])} only inside a tunnel between node IPs, but ${bare.length} of ${mine.length} of its packets crossed it unencapsulated: ${carried(bare)}${ev}.`,
      { expected: 'encapsulated', actual: `${bare.length} unencapsulated packets` },
    );
  const between = (p: Packet) =>
    p.protocol === 'udp' && !!p.src && !!p.dst && nodeIps.includes(p.src.ip) && nodeIps.includes(p.dst.ip);
  const strange = mine.filter((s) => !between(s.carrier!));
  if (strange.length)
    fail(
      `Expected ${place(capture)} to see the traffic of ${listSome([...clientIps])} inside a UDP tunnel between node IPs (${listSome([...nodeIps])}), but ${strange.length} of its packets were carried otherwise: ${carried(strange)}${ev}.`,
      {
        expected: [...nodeIps],
        actual: [...new Set(strange.map((s) => `${s.carrier!.src?.ip} > ${s.carrier!.dst?.ip}`))],
      },
    );
  return [...new Set(mine.map((s) => s.carrier!))];
}
