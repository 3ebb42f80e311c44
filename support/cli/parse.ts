/**
 * `hookpoint parse <kind> <file|-> [--json] [--strict]` — read one tool output with Hookpoint's
 * own parsers and print what they understood: a readable table, or JSON (the contract of the
 * parsers issue). `--strict` fails (exit 1) on the first line the parser could not read, quoting
 * it. tcpdump input may be text or a classic .pcap (recognised by its magic bytes).
 * Files are read with node:fs only; nothing is spawned.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { HookpointError, UsageError } from '../errors.ts';
import {
  type BpfAttachment,
  type CiliumStatus,
  type IptablesDump,
  looksLikePcap,
  type MonitorEvent,
  type Packet,
  PcapFormatError,
  parseBpftoolNet,
  parseBpftoolProgShow,
  parseBpftoolXlated,
  parseCiliumStatus,
  parseIpAddr,
  parseIpNeigh,
  parseIpRoute,
  parseIptables,
  parseMonitor,
  parseTcpdump,
  readPcap,
} from '../parsers/index.ts';

export const PARSE_KINDS = [
  'iptables',
  'monitor',
  'status',
  'tcpdump',
  'bpftool-net',
  'bpftool-xlated',
  'ip-route',
  'ip-neigh',
  'bpftool-prog',
  'ip-addr',
] as const;
export type ParseKind = (typeof PARSE_KINDS)[number];

/** `--strict` found a line it could not read: exit 1, the line quoted. */
export class UnreadableInputError extends HookpointError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: 1, hint });
  }
}

export interface ParseOutcome {
  kind: ParseKind;
  /** The JSON document of `--json`. */
  json: unknown;
  /** The readable table. */
  table: () => string;
  unknownLines: Array<{ line: number; text: string }>;
  /** A reason the whole input is not what the kind expects (empty, another tool's format). */
  mismatch: string | null;
}

export function isParseKind(kind: string): kind is ParseKind {
  return (PARSE_KINDS as readonly string[]).includes(kind);
}

function kindsList(): string {
  return PARSE_KINDS.join(', ');
}

const decoder = new TextDecoder('utf-8');

/** Parse bytes as one kind. Pure: no I/O here (runParse reads the file). */
export function parseInput(kind: ParseKind, data: Uint8Array, source = 'input'): ParseOutcome {
  switch (kind) {
    case 'iptables': {
      const d = parseIptables(decoder.decode(data));
      return {
        kind,
        json: iptablesJson(d),
        table: () => iptablesTable(d),
        unknownLines: d.unknownLines,
        mismatch: d.chains.length === 0 ? `no iptables chains or rules found in ${source}` : null,
      };
    }
    case 'monitor': {
      const m = parseMonitor(decoder.decode(data));
      const events = m.events.filter((e) => e.type !== 'info');
      return {
        kind,
        json: { events: m.events, unknownLines: m.unknownLines },
        table: () => monitorTable(m.events),
        unknownLines: m.unknownLines,
        mismatch: events.length === 0 ? `no cilium monitor events found in ${source}` : null,
      };
    }
    case 'status': {
      const s = parseCiliumStatus(decoder.decode(data));
      return {
        kind,
        json: s,
        table: () => statusTable(s),
        unknownLines: s.unknownLines,
        mismatch:
          s.format === 'cilium-cli'
            ? `${source} is the cluster-wide \`cilium status\` of cilium-cli, not the agent's \`cilium-dbg status\``
            : s.format === 'unknown'
              ? `no cilium(-dbg) status fields found in ${source}`
              : null,
      };
    }
    case 'tcpdump': {
      let r: { packets: Packet[]; unknownLines: Array<{ line: number; text: string }> };
      if (looksLikePcap(data)) {
        try {
          r = readPcap(data);
        } catch (err) {
          if (err instanceof PcapFormatError) throw new UsageError(`Cannot read ${source}: ${err.message}`);
          throw err;
        }
      } else r = parseTcpdump(decoder.decode(data));
      return {
        kind,
        json: { packets: r.packets, unknownLines: r.unknownLines },
        table: () => tcpdumpTable(r.packets),
        unknownLines: r.unknownLines,
        mismatch: r.packets.length === 0 ? `no packets found in ${source}` : null,
      };
    }
    case 'bpftool-net': {
      const r = parseBpftoolNet(decoder.decode(data));
      return {
        kind,
        json: r,
        table: () => attachmentsTable(r.attachments),
        unknownLines: r.unknownLines,
        mismatch: r.attachments.length === 0 ? `no program attachments found in ${source}` : null,
      };
    }
    case 'bpftool-prog': {
      const r = parseBpftoolProgShow(decoder.decode(data));
      return {
        kind,
        json: r,
        table: () =>
          columns(
            ['ID', 'TYPE', 'NAME', 'TAG', 'XLATED', 'MAPS'],
            r.programs.map((p) => [p.id, p.type, p.name, p.tag, p.xlatedBytes, p.mapIds.join(',')]),
          ),
        unknownLines: r.unknownLines,
        mismatch: r.programs.length === 0 ? `no programs found in ${source}` : null,
      };
    }
    case 'bpftool-xlated': {
      const r = parseBpftoolXlated(decoder.decode(data));
      return {
        kind,
        json: r,
        table: () => {
          const count = new Map<string, number>();
          for (const c of r.callSites) count.set(c.helper, (count.get(c.helper) ?? 0) + 1);
          return columns(
            ['HELPER', 'CALLS', 'FIRST AT'],
            r.calls.map((h) => [h, count.get(h), r.callSites.find((c) => c.helper === h)?.insn ?? null]),
          );
        },
        unknownLines: r.unknownLines,
        mismatch: r.instructions === 0 ? `no translated instructions found in ${source}` : null,
      };
    }
    case 'ip-route': {
      const r = parseIpRoute(decoder.decode(data));
      return {
        kind,
        json: r,
        table: () =>
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
        unknownLines: r.unknownLines,
        mismatch: r.routes.length === 0 ? `no routes found in ${source}` : null,
      };
    }
    case 'ip-neigh': {
      const r = parseIpNeigh(decoder.decode(data));
      return {
        kind,
        json: r,
        table: () =>
          columns(
            ['IP', 'LLADDR', 'DEV', 'STATE'],
            r.neighbours.map((n) => [n.ip, n.lladdr, n.dev, n.state]),
          ),
        unknownLines: r.unknownLines,
        mismatch: r.neighbours.length === 0 ? `no neighbours found in ${source}` : null,
      };
    }
    case 'ip-addr': {
      const r = parseIpAddr(decoder.decode(data));
      return {
        kind,
        json: r,
        table: () =>
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
        unknownLines: r.unknownLines,
        mismatch: r.interfaces.length === 0 ? `no interfaces found in ${source}` : null,
      };
    }
  }
}

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

// ---------------------------------------------------------------------------------------------
// Command

function readInput(file: string): Uint8Array {
  if (file === '-') {
    try {
      return readFileSync(0);
    } catch (err) {
      throw new UsageError(`Cannot read standard input: ${(err as Error).message}.`);
    }
  }
  let isDir = false;
  try {
    isDir = statSync(file).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? `The file "${file}" does not exist.` : `Cannot read "${file}": ${(err as Error).message}.`,
      'Give the path of a saved tool output, or - to read standard input.',
    );
  }
  if (isDir) throw new UsageError(`"${file}" is a directory, not a tool output file.`);
  return readFileSync(file);
}

export interface ParseCommandOptions {
  json?: boolean;
  strict?: boolean;
}

/** The command body, separated from commander for tests and the bench. Returns the text to print. */
export function runParse(kind: string, file: string, opts: ParseCommandOptions): string {
  if (!isParseKind(kind))
    throw new UsageError(
      `"${kind}" is not a kind \`hookpoint parse\` knows.`,
      `Kinds: ${kindsList()}. Example: hookpoint parse iptables nat.txt --json`,
    );
  const source = file === '-' ? 'standard input' : `"${file}"`;
  const outcome = parseInput(kind, readInput(file), source);
  if (opts.strict) {
    const first = outcome.unknownLines[0];
    if (first)
      throw new UnreadableInputError(
        `Line ${first.line} of ${source} is not readable as ${kind} output: ${JSON.stringify(first.text.trim().slice(0, 200))}${outcome.unknownLines.length > 1 ? ` (and ${outcome.unknownLines.length - 1} more unreadable lines)` : ''}.`,
        'Without --strict such lines are skipped and listed under "unknownLines".',
      );
    if (outcome.mismatch) throw new UnreadableInputError(`Nothing to read: ${outcome.mismatch}.`);
  }
  return opts.json ? JSON.stringify(outcome.json) : outcome.table();
}

export function register(program: Command): void {
  program
    .command('parse')
    .description(`parse a saved tool output into typed data (kinds: ${kindsList()})`)
    .argument('<kind>', `what produced the file: ${kindsList()}`)
    .argument('<file>', 'the saved output, or - for standard input (tcpdump: text or .pcap)')
    .option('--json', 'print the parsed data as JSON')
    .option('--strict', 'fail (exit 1) on the first line that cannot be read, quoting it')
    .action((kind: string, file: string, opts: ParseCommandOptions) => {
      const text = runParse(kind, file, opts);
      process.stdout.write(`${text}\n`);
    });
}
