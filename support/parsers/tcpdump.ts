/**
 * tcpdump text (`-n`/`-nn`, with or without `-e`, `-i any` with interface and direction) →
 * packets. The `flags` field is exactly what tcpdump prints between the brackets of
 * `Flags [S.]`. Lines without a timestamp right after a tunnel packet (VXLAN/OTV, Geneve) are
 * the inner packet and are attached to it. Pure: text in, data out.
 */

export interface PacketAddress {
  ip: string;
  /** Numeric port; null when absent or printed as a service name (see portName). */
  port: number | null;
  /** Port as a name (`http`) when tcpdump ran without -nn. */
  portName?: string;
}

export interface Packet {
  /** Time as printed (`09:15:36.860874`); from a pcap, UTC `HH:MM:SS.ffffff` (µs) or 9 digits (ns). */
  time: string | null;
  /** Seconds since the epoch, when known (pcap, `-tt`). */
  timestamp: number | null;
  /** `-i any` interface and direction (`In`, `Out`, `B`, `M`, `P`). */
  interface: string | null;
  direction: string | null;
  srcMac: string | null;
  dstMac: string | null;
  /** `IPv4`, `IPv6`, `ARP`, … (from -e, or from the decoded frame of a pcap). */
  ethertype: string | null;
  /** Frame length of -e (`length 74:`) / captured length of a pcap record. */
  frameLength: number | null;
  src: PacketAddress | null;
  dst: PacketAddress | null;
  /** `tcp`, `udp`, `icmp`, `icmp6`, `arp`, `other`. */
  protocol: string | null;
  /** TCP flags verbatim as between tcpdump's brackets: `S`, `S.`, `.`, `P.`, `F.`, `R`, `R.`. */
  flags: string | null;
  /** The trailing `length N` (payload length for TCP/UDP, ICMP message length). */
  length: number | null;
  /** Text after `src > dst: ` (`Flags [S], seq …`, `ICMP echo request, id 45, seq 0, length 64`). */
  info: string | null;
  /** The encapsulated packet of a VXLAN/Geneve line. */
  inner: Packet | null;
  raw: string;
  line: number;
}

export interface PacketList {
  packets: Packet[];
  unknownLines: Array<{ line: number; text: string }>;
}

export function emptyPacket(raw: string, line: number): Packet {
  return {
    time: null,
    timestamp: null,
    interface: null,
    direction: null,
    srcMac: null,
    dstMac: null,
    ethertype: null,
    frameLength: null,
    src: null,
    dst: null,
    protocol: null,
    flags: null,
    length: null,
    info: null,
    inner: null,
    raw,
    line,
  };
}

const TIME = /^(?:(\d{4}-\d{2}-\d{2} )?(\d{2}:\d{2}:\d{2}\.\d{6,9})|(\d{9,}\.\d{6,9}))\s/;
const MAC = '[0-9a-fA-F]{2}(?::[0-9a-fA-F]{2}){5}';
const ETH_PAIR = new RegExp(
  `^(${MAC}) > (${MAC}), (?:ethertype (\\S+) \\(0x[0-9a-f]{4}\\)|802\\.3|\\S+), length (\\d+): `,
);
const ETH_ONE = new RegExp(`^(${MAC}) ethertype (\\S+) \\(0x[0-9a-f]{4}\\), length (\\d+): `);
const DIRECTIONS = new Set(['In', 'Out', 'B', 'M', 'P']);
const TUNNEL_INFO = /^(?:OTV|VXLAN|Geneve|VXLAN-GPE)\b/;

/** `10.0.0.1.80` → {ip, port}; `fe80::1.546`; `10.0.0.1`; trailing `[annotation]` ignored. */
export function parseTcpdumpAddress(s: string): PacketAddress | null {
  let t = s;
  const br = t.indexOf('[');
  if (br > 0 && t.endsWith(']')) t = t.slice(0, br);
  if (t.length === 0) return null;
  const isV6 = t.includes(':');
  const lastDot = t.lastIndexOf('.');
  if (isV6) {
    if (lastDot < 0) return { ip: t, port: null };
    return withPort(t.slice(0, lastDot), t.slice(lastDot + 1));
  }
  const parts = t.split('.');
  if (parts.length === 5) return withPort(parts.slice(0, 4).join('.'), parts[4]!);
  if (parts.length === 4) return { ip: t, port: null };
  return null;
}

function withPort(ip: string, port: string): PacketAddress {
  if (/^\d+$/.test(port)) return { ip, port: Number(port) };
  return { ip, port: null, portName: port };
}

function lastLength(info: string): number | null {
  const i = info.lastIndexOf('length ');
  if (i < 0) return null;
  const m = /^length (\d+)/.exec(info.slice(i));
  return m ? Number(m[1]) : null;
}

/** Decode `[-e part] [IP|IP6] src > dst: info` (or ARP) into p; false when it is not a packet. */
function parseBody(p: Packet, body: string): boolean {
  let s = body;
  const pair = ETH_PAIR.exec(s);
  const one = pair ? null : ETH_ONE.exec(s);
  if (pair) {
    p.srcMac = pair[1]!;
    p.dstMac = pair[2]!;
    p.ethertype = pair[3] ?? null;
    p.frameLength = Number(pair[4]);
    s = s.slice(pair[0].length);
  } else if (one) {
    p.srcMac = one[1]!;
    p.ethertype = one[2]!;
    p.frameLength = Number(one[3]);
    s = s.slice(one[0].length);
  }
  if (s.startsWith('ARP, ') || s.startsWith('Request who-has') || s.startsWith('Reply ')) {
    p.protocol = 'arp';
    p.ethertype ??= 'ARP';
    const info = s.startsWith('ARP, ') ? s.slice(5) : s;
    p.info = info;
    p.length = lastLength(info);
    const wh = /who-has (\S+)(?: \([^)]*\))? tell (\S+?),?(?:\s|$)/.exec(info);
    if (wh) {
      p.dst = { ip: wh[1]!, port: null };
      p.src = { ip: wh[2]!.replace(/,$/, ''), port: null };
    }
    const rp = /Reply (\S+) is-at (\S+?),?(?:\s|$)/.exec(info);
    if (rp) p.src = { ip: rp[1]!, port: null };
    return true;
  }
  if (s.startsWith('IP ')) {
    s = s.slice(3);
    p.ethertype ??= 'IPv4';
  } else if (s.startsWith('IP6 ')) {
    s = s.slice(4);
    p.ethertype ??= 'IPv6';
  }
  const gt = s.indexOf(' > ');
  if (gt <= 0) return false;
  const colon = s.indexOf(': ', gt + 3);
  const dstText = colon < 0 ? s.slice(gt + 3).trim() : s.slice(gt + 3, colon);
  const src = parseTcpdumpAddress(s.slice(0, gt));
  const dst = parseTcpdumpAddress(dstText);
  if (!src || !dst) return false;
  p.src = src;
  p.dst = dst;
  if (p.ethertype === null) p.ethertype = src.ip.includes(':') ? 'IPv6' : 'IPv4';
  const info = colon < 0 ? '' : s.slice(colon + 2);
  p.info = info;
  p.length = lastLength(info);
  if (info.startsWith('Flags [')) {
    p.protocol = 'tcp';
    const close = info.indexOf(']', 7);
    p.flags = close > 0 ? info.slice(7, close) : null;
  } else if (info.startsWith('ICMP6')) p.protocol = 'icmp6';
  else if (info.startsWith('ICMP ')) p.protocol = 'icmp';
  else if (info.startsWith('UDP') || TUNNEL_INFO.test(info)) p.protocol = 'udp';
  else if (src.port !== null || src.portName !== undefined) p.protocol = 'udp';
  else p.protocol = 'other';
  return true;
}

const INFO_LINES = [
  /^tcpdump: /,
  /^listening on /,
  /^reading from file /,
  /^\d+ packets? (captured|received by filter|dropped by kernel)/,
  /^\^C$/,
  /^dropped privs/,
];

/** Parse tcpdump's text output. */
export function parseTcpdump(text: string): PacketList {
  const packets: Packet[] = [];
  const unknownLines: Array<{ line: number; text: string }> = [];
  const lines = text.split('\n');
  let last: Packet | null = null;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const line = raw.trim();
    if (!line) continue;
    const tm = TIME.exec(line);
    if (tm) {
      const p = emptyPacket(raw, i + 1);
      p.time = tm[2] ? (tm[1] ?? '') + tm[2] : tm[3]!;
      if (tm[3]) p.timestamp = Number(tm[3]);
      let body = line.slice(tm[0].length).trimStart();
      // -i any: "eth0  Out IP …" / "lxc12 In  ifindex 9 aa:bb:… ethertype …"
      const sp = body.indexOf(' ');
      if (sp > 0) {
        const rest = body.slice(sp).trimStart();
        const sp2 = rest.indexOf(' ');
        const dir = sp2 > 0 ? rest.slice(0, sp2) : '';
        if (DIRECTIONS.has(dir)) {
          p.interface = body.slice(0, sp);
          p.direction = dir;
          body = rest.slice(sp2).trimStart();
          const ifx = /^ifindex \d+ /.exec(body);
          if (ifx) body = body.slice(ifx[0].length);
        }
      }
      if (parseBody(p, body)) {
        packets.push(p);
        last = p;
      } else {
        unknownLines.push({ line: i + 1, text: raw });
        last = null;
      }
      continue;
    }
    if (INFO_LINES.some((r) => r.test(line))) continue;
    // Inner packet of a tunnel line (tcpdump prints it on its own line, without timestamp).
    if (last && last.inner === null && last.info !== null && TUNNEL_INFO.test(last.info)) {
      const inner = emptyPacket(raw, i + 1);
      if (parseBody(inner, line)) {
        last.inner = inner;
        continue;
      }
    }
    unknownLines.push({ line: i + 1, text: raw });
  }
  return { packets, unknownLines };
}
