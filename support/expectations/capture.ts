/**
 * Expectations over captured packets: what a capture point saw. Pure: no I/O.
 *
 * Positive control (ARCHITECTURE §3): "sees only …" and "sees nothing …" are verdicts only
 * when the instrument saw the scenario's own traffic in the same window — the client's packets
 * in this capture (for "only"), or in this or another capture of the window (for "nothing",
 * where this capture is expected to be silent). Otherwise InconclusiveError. Encapsulated
 * packets (VXLAN/Geneve) are judged by their inner packet too.
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
  const sent = all.filter((p) => p.src !== null && clientIps.includes(p.src.ip) && p.dst !== null);
  if (sent.length === 0) {
    inconclusive(
      `${place(capture)} saw no packet from the client (${listSome([...clientIps])}) among its ${plural(all.length, 'packet')}${ev}, so "only ${listSome([...allowedIps])} as destination" cannot be judged.`,
      'A "sees only" verdict needs the capture to see the scenario\'s own traffic.',
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
