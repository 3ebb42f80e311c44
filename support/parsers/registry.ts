/**
 * One registry of Hookpoint's parsers: for each kind `hookpoint parse` accepts, how to read it
 * (text, or bytes for pcap), its unreadable lines, the JSON of `--json`, the readable table, and
 * what "nothing readable" means. `hookpoint parse`, the corpus tests and the bench all go through
 * it, so a kind is added in one place. Pure: no I/O.
 */
import { type BpfAttachment, parseBpftoolNet, parseBpftoolProgShow, parseBpftoolXlated } from './bpftool.ts';
import { parseIpAddr, parseIpNeigh, parseIpRoute } from './ip.ts';
import { type IptablesDump, parseIptables } from './iptables.ts';
import { type MonitorEvent, parseMonitor } from './monitor.ts';
import { looksLikePcap, PcapFormatError, readPcap } from './pcap.ts';
import { type CiliumStatus, parseCiliumStatus } from './status.ts';
import { type Packet, type PacketList, parseTcpdump } from './tcpdump.ts';

export type UnknownLine = { line: number; text: string };

export interface ParserEntry<R> {
  /** What it reads: `text` only, `binary` only (pcap), or `either` (tcpdump: text or a .pcap). */
  reads: 'text' | 'binary' | 'either';
  /** One line for help and errors. */
  what: string;
  /** Text kinds take the text as is; bytes are decoded as UTF-8. */
  parse(data: Uint8Array | string): R;
  unknownLines(r: R): UnknownLine[];
  json(r: R): unknown;
  table(r: R): string;
  /** Why nothing of the input is readable as this kind (empty, another tool's output), or null. */
  nothing(r: R, source: string): string | null;
}

const decoder = new TextDecoder('utf-8');
const text = (data: Uint8Array | string): string => (typeof data === 'string' ? data : decoder.decode(data));
const bytes = (data: Uint8Array | string): Uint8Array =>
  typeof data === 'string' ? new TextEncoder().encode(data) : data;

/** A pcap the reader rejects (truncated, unknown link type): the input is wrong, not Hookpoint. */
export class UnreadablePcapError extends Error {}

function pcap(data: Uint8Array): PacketList {
  try {
    return readPcap(data);
  } catch (err) {
    if (err instanceof PcapFormatError) throw new UnreadablePcapError(err.message);
    throw err;
  }
}

const packets: Omit<ParserEntry<PacketList>, 'reads' | 'what' | 'parse'> = {
  unknownLines: (r) => r.unknownLines,
  json: (r) => ({ packets: r.packets, unknownLines: r.unknownLines }),
  table: (r) => tcpdumpTable(r.packets),
  nothing: (r, source) => (r.packets.length === 0 ? `no packets found in ${source}` : null),
};

export const PARSERS = {
  iptables: {
    reads: 'text',
    what: 'iptables-save [-c], iptables -S, iptables -L [-n] [-v] [-x]',
    parse: (d: Uint8Array | string) => parseIptables(text(d)),
    unknownLines: (r) => r.unknownLines,
    json: iptablesJson,
    table: iptablesTable,
    nothing: (r, source) => (r.chains.length === 0 ? `no iptables chains or rules found in ${source}` : null),
  } satisfies ParserEntry<IptablesDump>,
  monitor: {
    reads: 'text',
    what: 'cilium(-dbg) monitor [-v] [--type …]',
    parse: (d: Uint8Array | string) => parseMonitor(text(d)),
    unknownLines: (r) => r.unknownLines,
    json: (r) => ({ events: r.events, unknownLines: r.unknownLines }),
    table: (r) => monitorTable(r.events),
    nothing: (r, source) =>
      r.events.some((e) => e.type !== 'info' && e.type !== 'unknown')
        ? null
        : `no cilium monitor events found in ${source}`,
  } satisfies ParserEntry<ReturnType<typeof parseMonitor>>,
  status: {
    reads: 'text',
    what: 'cilium-dbg status [--verbose]',
    parse: (d: Uint8Array | string) => parseCiliumStatus(text(d)),
    unknownLines: (r) => r.unknownLines,
    json: (r) => r,
    table: statusTable,
    nothing: (s, source) =>
      s.format === 'cilium-cli'
        ? `${source} is the cluster-wide \`cilium status\` of cilium-cli, not the agent's \`cilium-dbg status\``
        : s.format === 'unknown'
          ? `no cilium(-dbg) status fields found in ${source}`
          : null,
  } satisfies ParserEntry<CiliumStatus>,
  tcpdump: {
    reads: 'either',
    what: 'tcpdump -n [-e] [-v] text, or a classic .pcap',
    parse: (d: Uint8Array | string) => (typeof d !== 'string' && looksLikePcap(d) ? pcap(d) : parseTcpdump(text(d))),
    ...packets,
  } satisfies ParserEntry<PacketList>,
  pcap: {
    reads: 'binary',
    what: 'a classic .pcap file (tcpdump -w)',
    parse: (data: Uint8Array | string) => {
      const d = bytes(data);
      if (!looksLikePcap(d))
        throw new UnreadablePcapError('it does not start with the magic number of a classic pcap file');
      return pcap(d);
    },
    ...packets,
  } satisfies ParserEntry<PacketList>,
  'bpftool-net': {
    reads: 'text',
    what: 'bpftool net show, tc filter show',
    parse: (d: Uint8Array | string) => parseBpftoolNet(text(d)),
    unknownLines: (r) => r.unknownLines,
    json: (r) => r,
    table: (r) => attachmentsTable(r.attachments),
    nothing: (r, source) => (r.attachments.length === 0 ? `no program attachments found in ${source}` : null),
  } satisfies ParserEntry<ReturnType<typeof parseBpftoolNet>>,
  'bpftool-prog': {
    reads: 'text',
    what: 'bpftool prog show',
    parse: (d: Uint8Array | string) => parseBpftoolProgShow(text(d)),
    unknownLines: (r) => r.unknownLines,
    json: (r) => r,
    table: (r) =>
      columns(
        ['ID', 'TYPE', 'NAME', 'TAG', 'XLATED', 'MAPS'],
        r.programs.map((p) => [p.id, p.type, p.name, p.tag, p.xlatedBytes, p.mapIds.join(',')]),
      ),
    nothing: (r, source) => (r.programs.length === 0 ? `no programs found in ${source}` : null),
  } satisfies ParserEntry<ReturnType<typeof parseBpftoolProgShow>>,
  'bpftool-xlated': {
    reads: 'text',
    what: 'bpftool prog dump xlated',
    parse: (d: Uint8Array | string) => parseBpftoolXlated(text(d)),
    unknownLines: (r) => r.unknownLines,
    json: (r) => r,
    table: (r) => {
      const count = new Map<string, number>();
      for (const c of r.callSites) count.set(c.helper, (count.get(c.helper) ?? 0) + 1);
      return columns(
        ['HELPER', 'CALLS', 'FIRST AT'],
        [
          ...r.calls.map((h) => [h, count.get(h), r.callSites.find((c) => c.helper === h)?.insn ?? null]),
          // Calls whose helper the kernel withheld (parsers/bpftool.ts WITHHELD_HELPER).
          ...(r.withheldCalls.length ? [['(withheld)', r.withheldCalls.length, r.withheldCalls[0] ?? null]] : []),
        ],
      );
    },
    nothing: (r, source) => (r.instructions === 0 ? `no translated instructions found in ${source}` : null),
  } satisfies ParserEntry<ReturnType<typeof parseBpftoolXlated>>,
  'ip-route': {
    reads: 'text',
    what: 'ip route show',
    parse: (d: Uint8Array | string) => parseIpRoute(text(d)),
    unknownLines: (r) => r.unknownLines,
    json: (r) => r,
    table: (r) =>
      columns(
        ['DST', 'GATEWAY', 'DEV', 'PROTO', 'SCOPE', 'SRC', 'MTU'],
        r.routes.map((x) => [
          x.type ? `${x.type} ${x.dst}` : x.dst,
          x.gateway,
          x.dev,
          x.protocol,
          x.scope,
          x.prefsrc,
          x.mtu,
        ]),
      ),
    nothing: (r, source) => (r.routes.length === 0 ? `no routes found in ${source}` : null),
  } satisfies ParserEntry<ReturnType<typeof parseIpRoute>>,
  'ip-neigh': {
    reads: 'text',
    what: 'ip neigh show',
    parse: (d: Uint8Array | string) => parseIpNeigh(text(d)),
    unknownLines: (r) => r.unknownLines,
    json: (r) => r,
    table: (r) =>
      columns(
        ['IP', 'LLADDR', 'DEV', 'STATE'],
        r.neighbours.map((n) => [n.ip, n.lladdr, n.dev, n.state]),
      ),
    nothing: (r, source) => (r.neighbours.length === 0 ? `no neighbours found in ${source}` : null),
  } satisfies ParserEntry<ReturnType<typeof parseIpNeigh>>,
  'ip-addr': {
    reads: 'text',
    what: 'ip addr show',
    parse: (d: Uint8Array | string) => parseIpAddr(text(d)),
    unknownLines: (r) => r.unknownLines,
    json: (r) => r,
    table: (r) =>
      columns(
        ['IFINDEX', 'NAME', 'LINK', 'STATE', 'MTU', 'ADDRESSES'],
        r.interfaces.map((i) => [
          i.ifindex,
          i.name,
          i.link,
          i.state,
          i.mtu,
          i.addresses.map((a) => `${a.local}/${a.prefixlen}`).join(' '),
        ]),
      ),
    nothing: (r, source) => (r.interfaces.length === 0 ? `no interfaces found in ${source}` : null),
  } satisfies ParserEntry<ReturnType<typeof parseIpAddr>>,
};

export type ParseKind = keyof typeof PARSERS;
export const PARSE_KINDS = Object.keys(PARSERS) as ParseKind[];
/** The typed result of one kind (what the corpus facts receive). */
export type ParsedAs<K extends ParseKind> = ReturnType<(typeof PARSERS)[K]['parse']>;

export function isParseKind(kind: string): kind is ParseKind {
  return Object.hasOwn(PARSERS, kind);
}

/** Parse as one kind; the entry's other functions take the result. */
export function parseAs<K extends ParseKind>(kind: K, data: Uint8Array | string): ParsedAs<K> {
  return entryOf(kind).parse(data);
}

export function entryOf<K extends ParseKind>(kind: K): ParserEntry<ParsedAs<K>> {
  return PARSERS[kind] as unknown as ParserEntry<ParsedAs<K>>;
}

/** Binary data (a NUL byte, or mostly bytes that are not text) in the first 8 KiB. */
export function looksBinary(data: Uint8Array): boolean {
  const head = data.subarray(0, 8192);
  if (head.length === 0) return false;
  let odd = 0;
  for (const b of head) {
    if (b === 0) return true;
    if (b < 7 || (b > 13 && b < 32 && b !== 27)) odd++;
  }
  return odd / head.length > 0.1;
}

export { looksLikePcap };

// ---------------------------------------------------------------------------------------------
// JSON and tables

function iptablesJson(d: IptablesDump): unknown {
  return {
    format: d.format,
    exactCounters: d.exactCounters,
    chains: d.chains.map((c) => ({
      table: c.table,
      name: c.name,
      policy: c.policy,
      packets: c.packets,
      bytes: c.bytes,
      references: c.references,
      rules: c.rules.map((r) => ({
        packets: r.packets,
        bytes: r.bytes,
        target: r.target,
        protocol: r.protocol,
        comment: r.comment,
        dnatTo: r.dnatTo,
        raw: r.raw,
      })),
    })),
    unknownLines: d.unknownLines,
  };
}

function cell(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  return String(v);
}

/** Left-aligned columns separated by two spaces. */
export function columns(header: string[], rows: unknown[][]): string {
  const text = rows.map((r) => r.map(cell));
  const width = header.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(width[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...text.map(line)].join('\n');
}

function iptablesTable(d: IptablesDump): string {
  const out: string[] = [];
  for (const c of d.chains) {
    const head = [c.table ? `*${c.table}` : null, c.name, c.policy ? `policy ${c.policy}` : null]
      .filter(Boolean)
      .join(' ');
    const counters = c.packets !== null ? ` [${c.packets} packets, ${c.bytes} bytes]` : '';
    const refs = c.references !== null ? ` (${c.references} references)` : '';
    out.push(`${head}${counters}${refs}`);
    if (c.rules.length)
      out.push(
        indent(
          columns(
            ['PKTS', 'BYTES', 'TARGET', 'PROT', 'COMMENT', 'DNAT'],
            c.rules.map((r) => [r.packets, r.bytes, r.target, r.protocol, r.comment, r.dnatTo]),
          ),
        ),
      );
    out.push('');
  }
  return out.join('\n').trimEnd();
}

function indent(s: string): string {
  return s
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

function ep(a: { ip: string; port: number | null } | null): string {
  if (!a) return '-';
  if (a.port === null) return a.ip;
  return a.ip.includes(':') ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
}

function monitorTable(events: MonitorEvent[]): string {
  return columns(
    [
      'LINE',
      'TYPE',
      'POINT',
      'FROM-EP',
      'TO-EP',
      'IDENTITY',
      'STATE',
      'IFINDEX',
      'ORIG-IP',
      'SRC',
      'DST',
      'PROTO',
      'FLAGS',
      'MESSAGE',
    ],
    events
      .filter((e) => e.type !== 'info')
      .map((e) => [
        e.line,
        e.type,
        e.observationPoint,
        e.srcEndpoint,
        e.endpoint,
        e.identities ? `${e.identities.src}->${e.identities.dst}` : null,
        e.state,
        e.ifindex,
        e.origIp,
        ep(e.src),
        ep(e.dst),
        e.protocol,
        e.flags,
        e.type === 'unknown' ? e.raw.trim().slice(0, 60) : e.message,
      ]),
  );
}

function statusTable(s: CiliumStatus): string {
  const rows: Array<[string, unknown]> = [
    ['Format', s.format],
    ['Cilium version', s.ciliumVersion],
    ['KubeProxyReplacement', s.kubeProxyReplacement],
    ['KPR devices', s.kubeProxyReplacementDevices.join('; ')],
    [
      'Routing network',
      s.routing ? s.routing.network + (s.routing.tunnelProtocol ? ` [${s.routing.tunnelProtocol}]` : '') : null,
    ],
    ['Host routing', s.hostRouting],
    ['Attach mode', s.attachMode],
    ['Device mode', s.deviceMode],
    ['IPAM', s.ipam],
    ['Masquerading', s.masquerading?.raw],
    ['Controllers', s.controllers ? `${s.controllers.healthy}/${s.controllers.total} healthy` : null],
  ];
  return columns(
    ['FIELD', 'VALUE'],
    rows.map(([k, v]) => [k, v]),
  );
}

function tcpdumpTable(packets: Packet[]): string {
  return columns(
    ['TIME', 'IF', 'SRC', 'DST', 'PROTO', 'FLAGS', 'LENGTH', 'INNER'],
    packets.map((p) => [
      p.time,
      p.interface ? `${p.interface} ${p.direction ?? ''}`.trim() : null,
      p.src ? (p.src.port === null ? p.src.ip : `${p.src.ip}.${p.src.port}`) : null,
      p.dst ? (p.dst.port === null ? p.dst.ip : `${p.dst.ip}.${p.dst.port}`) : null,
      p.protocol,
      p.flags,
      p.length,
      p.inner ? `${p.inner.src?.ip ?? '?'} > ${p.inner.dst?.ip ?? '?'} ${p.inner.protocol ?? ''}`.trim() : null,
    ]),
  );
}

function attachmentsTable(list: BpfAttachment[]): string {
  return columns(
    ['INTERFACE', 'IFINDEX', 'HOOK', 'DIRECTION', 'PROGRAM', 'OBJECT', 'ID', 'LINK'],
    list.map((a) => [a.interface, a.ifindex, a.hook, a.direction, a.program, a.object, a.id, a.linkId]),
  );
}
