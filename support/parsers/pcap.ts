/**
 * Classic libpcap files → the same packets as the tcpdump text parser, without external tools.
 * Both byte orders, microsecond (0xa1b2c3d4) and nanosecond (0xa1b23c4d) timestamps; link
 * types Ethernet (1), Linux cooked SLL (113) and SLL2 (276), raw IP (101, and 12 as written on
 * Linux); IPv4 and IPv6 (extension headers skipped), TCP, UDP, ICMP, ICMPv6, ARP. TCP flags are
 * rendered as tcpdump prints them between brackets (`S`, `S.`, `P.`, `F.`, `R.`, `.`, `none`).
 * pcapng is recognised and refused with a clear message.
 */
import { emptyPacket, type Packet, type PacketList } from './tcpdump.ts';

export const PCAP_MAGICS = [0xa1b2c3d4, 0xa1b23c4d, 0xd4c3b2a1, 0x4d3cb2a1] as const;
const PCAPNG_MAGIC = 0x0a0d0d0a;

/** True when the bytes start like a pcap (or pcapng) file. */
export function looksLikePcap(buf: Uint8Array): boolean {
  if (buf.length < 4) return false;
  const v = new DataView(buf.buffer, buf.byteOffset, 4);
  const be = v.getUint32(0, false);
  return (PCAP_MAGICS as readonly number[]).includes(be) || be === PCAPNG_MAGIC;
}

export class PcapFormatError extends Error {}

const ETHERTYPES: Record<number, string> = { 2048: 'IPv4', 34525: 'IPv6', 2054: 'ARP', 33024: '802.1Q' };

/** tcpdump's TCP flag letters in its print order: F S R P . U E W. */
export function tcpFlagsText(flags: number): string {
  let s = '';
  if (flags & 0x01) s += 'F';
  if (flags & 0x02) s += 'S';
  if (flags & 0x04) s += 'R';
  if (flags & 0x08) s += 'P';
  if (flags & 0x10) s += '.';
  if (flags & 0x20) s += 'U';
  if (flags & 0x40) s += 'E';
  if (flags & 0x80) s += 'W';
  return s || 'none';
}

function mac(b: Uint8Array, o: number): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i ? ':' : '') + b[o + i]!.toString(16).padStart(2, '0');
  return s;
}

function ipv4(b: Uint8Array, o: number): string {
  return `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`;
}

/** RFC 5952 text form (longest zero run compressed, lower case). */
export function ipv6(b: Uint8Array, o: number): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((b[o + 2 * i]! << 8) | b[o + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

const ICMP4_TYPES: Record<number, string> = {
  0: 'echo reply',
  3: 'unreachable',
  5: 'redirect',
  8: 'echo request',
  11: 'time exceeded',
};
const ICMP6_TYPES: Record<number, string> = {
  1: 'destination unreachable',
  3: 'time exceeded',
  128: 'echo request',
  129: 'echo reply',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbor solicitation',
  136: 'neighbor advertisement',
};

/** Decode the network layer starting at `o` (IPv4/IPv6/ARP by ethertype) into p. */
function decodeNetwork(p: Packet, b: Uint8Array, o: number, end: number, ethertype: number): void {
  p.ethertype = ETHERTYPES[ethertype] ?? `0x${ethertype.toString(16).padStart(4, '0')}`;
  if (ethertype === 0x0806) {
    p.protocol = 'arp';
    if (o + 28 <= end) {
      const op = (b[o + 6]! << 8) | b[o + 7]!;
      p.src = { ip: ipv4(b, o + 14), port: null };
      p.dst = { ip: ipv4(b, o + 24), port: null };
      p.info = op === 1 ? `Request who-has ${p.dst.ip} tell ${p.src.ip}` : `Reply ${p.src.ip} is-at ${mac(b, o + 8)}`;
      p.length = 28;
    }
    return;
  }
  let proto: number;
  let l4: number;
  let l4end: number;
  if (ethertype === 0x0800) {
    if (o + 20 > end) return;
    const ihl = (b[o]! & 0x0f) * 4;
    const total = (b[o + 2]! << 8) | b[o + 3]!;
    proto = b[o + 9]!;
    p.src = { ip: ipv4(b, o + 12), port: null };
    p.dst = { ip: ipv4(b, o + 16), port: null };
    l4 = o + ihl;
    l4end = o + total; // may exceed the captured length (snaplen); lengths come from headers
    const frag = ((b[o + 6]! & 0x1f) << 8) | b[o + 7]!;
    if (frag !== 0) {
      p.protocol = 'other';
      p.info = 'fragment';
      return;
    }
  } else if (ethertype === 0x86dd) {
    if (o + 40 > end) return;
    const payload = (b[o + 4]! << 8) | b[o + 5]!;
    proto = b[o + 6]!;
    p.src = { ip: ipv6(b, o + 8), port: null };
    p.dst = { ip: ipv6(b, o + 24), port: null };
    l4 = o + 40;
    l4end = l4 + payload;
    // Hop-by-hop (0), routing (43), destination options (60): skip; fragment (44): 8 bytes.
    while ((proto === 0 || proto === 43 || proto === 60 || proto === 44) && l4 + 8 <= end) {
      const next = b[l4]!;
      l4 += proto === 44 ? 8 : (b[l4 + 1]! + 1) * 8;
      proto = next;
    }
  } else {
    p.protocol = 'other';
    return;
  }
  if (proto === 6 && l4 + 14 <= end) {
    p.protocol = 'tcp';
    p.src.port = (b[l4]! << 8) | b[l4 + 1]!;
    p.dst.port = (b[l4 + 2]! << 8) | b[l4 + 3]!;
    const doff = (b[l4 + 12]! >> 4) * 4;
    p.flags = tcpFlagsText(b[l4 + 13]!);
    p.length = Math.max(0, l4end - l4 - doff);
    p.info = `Flags [${p.flags}], length ${p.length}`;
  } else if (proto === 17 && l4 + 8 <= end) {
    p.protocol = 'udp';
    p.src.port = (b[l4]! << 8) | b[l4 + 1]!;
    p.dst.port = (b[l4 + 2]! << 8) | b[l4 + 3]!;
    p.length = Math.max(0, ((b[l4 + 4]! << 8) | b[l4 + 5]!) - 8);
    p.info = `UDP, length ${p.length}`;
    // A tunnel's inner frame is decoded from what was captured, its length read from the UDP header.
    const tunnel = { end, payloadEnd: l4 + 8 + p.length };
    decodeVxlan(p, b, l4 + 8, tunnel);
    decodeGeneve(p, b, l4 + 8, tunnel);
  } else if (proto === 1 && l4 + 1 <= end) {
    p.protocol = 'icmp';
    p.length = l4end - l4;
    p.info = `ICMP ${ICMP4_TYPES[b[l4]!] ?? `type ${b[l4]}`}, length ${p.length}`;
  } else if (proto === 58 && l4 + 1 <= end) {
    p.protocol = 'icmp6';
    p.length = l4end - l4;
    p.info = `ICMP6, ${ICMP6_TYPES[b[l4]!] ?? `type ${b[l4]}`}, length ${p.length}`;
  } else {
    p.protocol = 'other';
    p.info = `ip-proto-${proto}`;
  }
}

/**
 * UDP ports tcpdump decodes as VXLAN: 4789 (IANA, printed `VXLAN`) and 8472 (the Linux kernel's
 * historical port that Cilium uses, which tcpdump's port table names `OTV`).
 */
export const VXLAN_UDP_PORTS: Readonly<Record<number, 'VXLAN' | 'OTV'>> = { 4789: 'VXLAN', 8472: 'OTV' };

/** A VXLAN header at `o` (flags with the I bit, 24-bit VNI) and the Ethernet frame it carries → p.inner. */
function decodeVxlan(p: Packet, b: Uint8Array, o: number, at: TunnelEnds): void {
  const { end } = at;
  const kind = VXLAN_UDP_PORTS[p.dst?.port ?? -1];
  if (!kind || o + 8 + 14 > end || (b[o]! & 0x08) === 0) return;
  const vni = (b[o + 4]! << 16) | (b[o + 5]! << 8) | b[o + 6]!;
  p.info = kind === 'OTV' ? `OTV, flags [I] (0x08), overlay 0, instance ${vni}` : `VXLAN, flags [I] (0x08), vni ${vni}`;
  p.inner = innerFrame(p, b, o + 8, at);
}

/** Where the captured bytes end, and where the UDP payload ends on the wire (its header's length). */
interface TunnelEnds {
  end: number;
  payloadEnd: number;
}

/** The UDP port tcpdump decodes as Geneve (IANA; Cilium's `tunnelProtocol=geneve`). */
export const GENEVE_UDP_PORT = 6081;
/** Geneve's protocol type for an Ethernet frame (Transparent Ethernet Bridging), the one Cilium carries. */
const ETHERTYPE_TEB = 0x6558;

/**
 * A Geneve header at `o` (RFC 8926: version and option length, O/C flags, protocol type, 24-bit
 * VNI, then options of 4 × option-length bytes) and the Ethernet frame it carries → p.inner;
 * the text as tcpdump prints it (`Geneve, Flags [none], vni 0x2`).
 */
function decodeGeneve(p: Packet, b: Uint8Array, o: number, at: TunnelEnds): void {
  const { end } = at;
  if (p.dst?.port !== GENEVE_UDP_PORT || o + 8 > end || b[o]! >> 6 !== 0) return;
  const options = (b[o]! & 0x3f) * 4;
  const flags = [b[o + 1]! & 0x80 ? 'O' : '', b[o + 1]! & 0x40 ? 'C' : ''].join('') || 'none';
  const vni = (b[o + 4]! << 16) | (b[o + 5]! << 8) | b[o + 6]!;
  p.info = `Geneve, Flags [${flags}], vni 0x${vni.toString(16)}`;
  const frame = o + 8 + options;
  if (((b[o + 2]! << 8) | b[o + 3]!) !== ETHERTYPE_TEB || frame + 14 > end) return;
  p.inner = innerFrame(p, b, frame, at);
}

/** The Ethernet frame a tunnel header carries, from `o` to the end of the outer UDP payload. */
function innerFrame(p: Packet, b: Uint8Array, o: number, at: TunnelEnds): Packet {
  const inner = emptyPacket('', p.line);
  // tcpdump -e prints the inner frame's own length (`…, length 98: 10.244…`): its length on the
  // wire, also when the capture was cut short by the snap length.
  inner.frameLength = Math.max(0, at.payloadEnd - o);
  decodeLink(inner, b, o, at.end, 1);
  inner.raw = renderPacket(inner);
  return inner;
}

function decodeLink(p: Packet, b: Uint8Array, o: number, end: number, linktype: number): void {
  switch (linktype) {
    case 1: {
      if (o + 14 > end) return;
      p.dstMac = mac(b, o);
      p.srcMac = mac(b, o + 6);
      let et = (b[o + 12]! << 8) | b[o + 13]!;
      let n = o + 14;
      while ((et === 0x8100 || et === 0x88a8) && n + 4 <= end) {
        et = (b[n + 2]! << 8) | b[n + 3]!;
        n += 4;
      }
      decodeNetwork(p, b, n, end, et);
      return;
    }
    case 113: {
      if (o + 16 > end) return;
      const pkttype = (b[o]! << 8) | b[o + 1]!;
      const halen = (b[o + 4]! << 8) | b[o + 5]!;
      if (halen === 6) p.srcMac = mac(b, o + 6);
      p.direction = pkttype === 4 ? 'Out' : pkttype === 0 ? 'In' : pkttype === 1 ? 'B' : pkttype === 2 ? 'M' : 'P';
      decodeNetwork(p, b, o + 16, end, (b[o + 14]! << 8) | b[o + 15]!);
      return;
    }
    case 276: {
      if (o + 20 > end) return;
      const et = (b[o]! << 8) | b[o + 1]!;
      const pkttype = b[o + 10]!;
      const halen = b[o + 11]!;
      if (halen === 6) p.srcMac = mac(b, o + 12);
      p.direction = pkttype === 4 ? 'Out' : pkttype === 0 ? 'In' : pkttype === 1 ? 'B' : pkttype === 2 ? 'M' : 'P';
      decodeNetwork(p, b, o + 20, end, et);
      return;
    }
    case 101:
    case 12:
    case 14: {
      if (o >= end) return;
      const v = b[o]! >> 4;
      decodeNetwork(p, b, o, end, v === 6 ? 0x86dd : 0x0800);
      return;
    }
    default:
      p.protocol = 'other';
      p.info = `link-type ${linktype}`;
  }
}

/**
 * Read a classic pcap file. Throws PcapFormatError (one clear sentence) when the bytes are not
 * a classic pcap; a truncated last record ends the list (what was read is returned).
 */
export function readPcap(buf: Uint8Array): PacketList & { linkType: number; nanosecond: boolean } {
  if (buf.length < 24)
    throw new PcapFormatError(`Not a pcap file: ${buf.length} bytes is shorter than the 24-byte pcap header.`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = dv.getUint32(0, false);
  if (magic === PCAPNG_MAGIC)
    throw new PcapFormatError(
      'This is a pcapng file; only classic pcap is read. Capture with `tcpdump -w` (classic by default) or convert with `editcap -F pcap`.',
    );
  let little: boolean;
  let nano: boolean;
  if (magic === 0xa1b2c3d4 || magic === 0xa1b23c4d) {
    little = false;
    nano = magic === 0xa1b23c4d;
  } else if (magic === 0xd4c3b2a1 || magic === 0x4d3cb2a1) {
    little = true;
    nano = magic === 0x4d3cb2a1;
  } else {
    throw new PcapFormatError(
      `Not a pcap file: the first four bytes are 0x${magic.toString(16).padStart(8, '0')}, not a pcap magic number (a1b2c3d4 or a1b23c4d in either byte order).`,
    );
  }
  const linkType = dv.getUint32(20, little) & 0x0fffffff;
  const packets: Packet[] = [];
  let o = 24;
  let n = 0;
  while (o + 16 <= buf.length) {
    const sec = dv.getUint32(o, little);
    const frac = dv.getUint32(o + 4, little);
    const incl = dv.getUint32(o + 8, little);
    const orig = dv.getUint32(o + 12, little);
    const start = o + 16;
    if (start + incl > buf.length) break; // truncated record
    n++;
    const p = emptyPacket('', n);
    p.timestamp = sec + frac / (nano ? 1e9 : 1e6);
    const d = new Date(sec * 1000);
    p.time = `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${String(frac).padStart(nano ? 9 : 6, '0')}`;
    p.frameLength = orig;
    decodeLink(p, buf, start, start + incl, linkType);
    p.raw = renderPacket(p);
    packets.push(p);
    o = start + incl;
  }
  return { packets, unknownLines: [], linkType, nanosecond: nano };
}

function addr(a: { ip: string; port: number | null } | null): string {
  if (!a) return '?';
  return a.port === null ? a.ip : `${a.ip}.${a.port}`;
}

/** A tcpdump-like one-line rendering (`-nn -e` style) of a decoded packet, used as `raw`. */
export function renderPacket(p: Packet): string {
  const eth = p.srcMac
    ? `${p.srcMac} > ${p.dstMac ?? '?'}, ethertype ${p.ethertype ?? '?'}, length ${p.frameLength ?? '?'}: `
    : '';
  const body = p.protocol === 'arp' ? `ARP, ${p.info ?? ''}` : `${addr(p.src)} > ${addr(p.dst)}: ${p.info ?? ''}`;
  return `${p.time ?? ''} ${eth}${body}`.trim();
}
