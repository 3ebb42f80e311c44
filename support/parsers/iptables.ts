/**
 * iptables output → typed chains and rules. Three formats, one shape:
 *   - `iptables-save [-c]` (`*nat`, `:CHAIN POLICY [p:b]`, `[p:b] -A CHAIN …`, `COMMIT`), legacy and nft alike;
 *   - `iptables -S` (`-P CHAIN POLICY`, `-N CHAIN`, `-A CHAIN …`);
 *   - `iptables -L -n [-v] [-x]` (`Chain X (policy ACCEPT 9386 packets, 1544K bytes)` and column rows).
 * Pure functions: text in, data out, no I/O. Which rules belong to a service, and how their
 * counters moved, is kube-proxy knowledge: support/kube-proxy/rules.ts.
 */

export interface IptablesRule {
  /** Table from the `*table` line of iptables-save; null when the format does not say. */
  table: string | null;
  chain: string;
  /** Packet / byte counters; null when the output carries none (`-S`, `-L` without `-v`, save without `-c`). */
  packets: number | null;
  bytes: number | null;
  /** `-j`/`-g` target (DNAT, KUBE-SVC-…, MASQUERADE…); null for a rule without target. */
  target: string | null;
  /**
   * `-p` protocol (`tcp`, `udp`, `all`…), with `!` kept when negated. `iptables -L -n` of 1.8.9
   * (Debian bookworm, kindest/node) prints it as a number (`0`, `6`, `17`), other releases as a
   * name: list rows read both, as the name.
   */
  protocol: string | null;
  /** `-m comment --comment` text (kube-proxy: `ns/svc:port cluster IP`, `ns/svc:port -> 10.244.1.5:80`). */
  comment: string | null;
  /** DNAT destination (`--to-destination` / `to:` of -L), e.g. `10.244.1.2:8080`. */
  dnatTo: string | null;
  /** Match part of the rule: the rule text between the chain and the target. */
  matches: string;
  /** The line as printed (trimmed). */
  raw: string;
  /** The rule without its counters: the identity of the rule across snapshots (see ruleKey). */
  spec: string;
  /** 1-based line number in the parsed text. */
  line: number;
}

export interface IptablesChain {
  table: string | null;
  name: string;
  /** Built-in chains: ACCEPT/DROP; user chains: null (`-` in iptables-save). */
  policy: string | null;
  /** Policy counters of a built-in chain (user chains print `[0:0]`); null when not printed. */
  packets: number | null;
  bytes: number | null;
  /** `(N references)` of `iptables -L`; null elsewhere. */
  references: number | null;
  rules: IptablesRule[];
}

export type IptablesFormat = 'save' | 'rules' | 'list';

export interface IptablesDump {
  chains: IptablesChain[];
  /** Which of the three formats was read. */
  format: IptablesFormat;
  /** True when the counters are exact (`-c` save, or `-L -v -x`); false for `3898K`-style or absent counters. */
  exactCounters: boolean;
  /** Lines that are none of the format's line kinds (prompts, annotations, other tools). */
  unknownLines: Array<{ line: number; text: string }>;
}

/** Chain lookup: dump.chains by name (first table that has it, or the given table). */
export function findChain(dump: IptablesDump, name: string, table?: string): IptablesChain | undefined {
  return dump.chains.find((c) => c.name === name && (table === undefined || c.table === table));
}

/** All rules of a dump in order, chain by chain. */
export function allRules(dump: IptablesDump): IptablesRule[] {
  const out: IptablesRule[] = [];
  for (const c of dump.chains) for (const r of c.rules) out.push(r);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Shared builder

class DumpBuilder {
  readonly chains: IptablesChain[] = [];
  readonly unknownLines: Array<{ line: number; text: string }> = [];
  private readonly index = new Map<string | null, Map<string, IptablesChain>>();
  private last: IptablesChain | null = null;
  table: string | null = null;

  chain(name: string, table: string | null = this.table): IptablesChain {
    // Rules of one chain are consecutive in every format: skip the maps for the common case.
    const last = this.last;
    if (last !== null && last.name === name && last.table === table) return last;
    let byName = this.index.get(table);
    if (!byName) {
      byName = new Map();
      this.index.set(table, byName);
    }
    let c = byName.get(name);
    if (!c) {
      c = { table, name, policy: null, packets: null, bytes: null, references: null, rules: [] };
      byName.set(name, c);
      this.chains.push(c);
    }
    this.last = c;
    return c;
  }

  unknown(line: number, text: string): void {
    this.unknownLines.push({ line, text });
  }
}

/** Where the text begins: after a byte-order mark, which an editor may have saved before `*nat`. */
function textStart(text: string): number {
  return text.charCodeAt(0) === 0xfeff ? 1 : 0;
}

function splitLines(text: string): string[] {
  const lines = text.slice(textStart(text)).split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// Rule-spec scanner (iptables-save / -S syntax): quote aware, allocation-light. A 12 MB dump
// has ~100k rules; only the few option values the rule shape needs are sliced out.

const WANT_TARGET = 1;
const WANT_PROTO = 2;
const WANT_COMMENT = 3;
const WANT_DNAT = 4;

function unescapeQuoted(s: string): string {
  return s.replace(/\\(.)/g, '$1');
}

/**
 * Fill a rule from its spec text (everything after `-A CHAIN`). `body` is the whole trimmed
 * line, `from` the offset where the rule options start.
 */
function ruleFromSpec(
  table: string | null,
  chain: string,
  body: string,
  from: number,
  packets: number | null,
  bytes: number | null,
  raw: string,
  spec: string,
  line: number,
): IptablesRule {
  let target: string | null = null;
  let protocol: string | null = null;
  let comment: string | null = null;
  let dnatTo: string | null = null;
  let targetAt = -1;
  let want = 0;
  let negNext = false;
  let neg = false;
  const s = body;
  const n = s.length;
  let i = from;
  while (i < n) {
    let c = s.charCodeAt(i);
    if (c === 32 || c === 9) {
      i++;
      continue;
    }
    const start = i;
    let value: string | null = null;
    if (c === 34 /* " */) {
      // iptables-save quotes comments and escapes inner quotes with a backslash.
      i++;
      const vs = i;
      let esc = false;
      while (i < n) {
        c = s.charCodeAt(i);
        if (c === 92 /* \ */) {
          esc = true;
          i += 2;
          continue;
        }
        if (c === 34) break;
        i++;
      }
      if (want !== 0) value = esc ? unescapeQuoted(s.slice(vs, Math.min(i, n))) : s.slice(vs, Math.min(i, n));
      i++;
    } else {
      while (i < n) {
        c = s.charCodeAt(i);
        if (c === 32 || c === 9) break;
        i++;
      }
    }
    const end = Math.min(i, n);
    if (want !== 0) {
      const v = value ?? s.slice(start, end);
      if (want === WANT_TARGET) target = v;
      else if (want === WANT_PROTO) protocol = neg ? `!${v}` : v;
      else if (want === WANT_COMMENT) comment = v;
      else if (want === WANT_DNAT) dnatTo = v;
      want = 0;
      negNext = false;
      continue;
    }
    const len = end - start;
    const c0 = s.charCodeAt(start);
    if (len === 1 && c0 === 33 /* ! */) {
      negNext = true;
      continue;
    }
    if (c0 === 45 /* - */) {
      const c1 = s.charCodeAt(start + 1);
      if (len === 2) {
        if ((c1 === 106 /* j */ || c1 === 103) /* g */ && target === null) {
          want = WANT_TARGET;
          targetAt = start;
        } else if (c1 === 112 /* p */) {
          want = WANT_PROTO;
          neg = negNext;
        }
      } else if (c1 === 45) {
        if (len === 9 && s.startsWith('--comment', start)) {
          if (comment === null) want = WANT_COMMENT;
        } else if (len === 16 && s.startsWith('--to-destination', start)) {
          if (dnatTo === null) want = WANT_DNAT;
        } else if ((len === 6 && s.startsWith('--jump', start)) || (len === 6 && s.startsWith('--goto', start))) {
          if (target === null) {
            want = WANT_TARGET;
            targetAt = start;
          }
        } else if (len === 10 && s.startsWith('--protocol', start)) {
          want = WANT_PROTO;
          neg = negNext;
        }
      }
    }
    negNext = false;
  }
  const matches = (targetAt >= 0 ? body.slice(from, targetAt) : body.slice(from)).trim();
  return { table, chain, packets, bytes, target, protocol, comment, dnatTo, matches, raw, spec, line };
}

/** Digits of s[a..b) as a number; -1 when empty or not all digits. No allocation. */
function digitsAt(s: string, a: number, b: number): number {
  if (b <= a) return -1;
  let v = 0;
  for (let i = a; i < b; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** `[12:3456]` at s[from] → [packets, bytes, offset after]; null when not a counter pair. */
function readCounterPair(s: string, from: number): [number, number, number] | null {
  if (s.charCodeAt(from) !== 91 /* [ */) return null;
  const colon = s.indexOf(':', from);
  const close = s.indexOf(']', from);
  if (colon < 0 || close < 0 || colon > close) return null;
  const p = digitsAt(s, from + 1, colon);
  const b = digitsAt(s, colon + 1, close);
  if (p < 0 || b < 0) return null;
  return [p, b, close + 1];
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

function isChainName(s: string | undefined): s is string {
  return s !== undefined && s.length > 0 && s.length <= 64 && !s.startsWith('-');
}

/** Core of iptables-save and -S: both share the rule syntax. */
function parseSpecLines(text: string, format: 'save' | 'rules'): IptablesDump {
  const b = new DumpBuilder();
  let sawCounters = false;
  let sawUncounted = false;
  // Walk the text line by line without splitting it first (a 12 MB dump has ~100k lines).
  let pos = textStart(text);
  let ln = -1;
  const n = text.length;
  while (pos < n) {
    ln++;
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = n;
    const rawLine = text.slice(pos, eol);
    pos = eol + 1;
    const first = rawLine.charCodeAt(0);
    const last = rawLine.charCodeAt(rawLine.length - 1);
    const line = first === 32 || first === 9 || last === 32 || last === 9 || last === 13 ? rawLine.trim() : rawLine;
    if (line.length === 0) continue;
    const c0 = line.charCodeAt(0);
    if (c0 === 35 /* # */) continue; // iptables-save writes "# Generated by …" / "# Completed on …"
    if (line === 'COMMIT') continue;
    if (c0 === 42 /* * */) {
      b.table = line.slice(1).trim() || null;
      continue;
    }
    if (c0 === 58 /* : */) {
      // :CHAIN POLICY [p:b]
      const sp = line.indexOf(' ');
      const name = sp < 0 ? line.slice(1) : line.slice(1, sp);
      if (!isChainName(name)) {
        b.unknown(ln + 1, rawLine);
        continue;
      }
      const ch = b.chain(name);
      if (sp > 0) {
        const rest = line.slice(sp + 1).trim();
        const sp2 = rest.indexOf(' ');
        const pol = sp2 < 0 ? rest : rest.slice(0, sp2);
        ch.policy = pol === '-' || pol === '' ? null : pol;
        if (sp2 > 0) {
          const cp = readCounterPair(rest, sp2 + 1);
          if (cp) {
            ch.packets = cp[0];
            ch.bytes = cp[1];
          }
        }
      }
      continue;
    }
    let at = 0;
    let packets: number | null = null;
    let bytes: number | null = null;
    if (c0 === 91 /* [ */) {
      const cp = readCounterPair(line, 0);
      if (!cp) {
        b.unknown(ln + 1, rawLine);
        continue;
      }
      packets = cp[0];
      bytes = cp[1];
      at = cp[2];
      while (line.charCodeAt(at) === 32) at++;
    }
    if (line.startsWith('-A ', at) || line.startsWith('-I ', at) || line.startsWith('--append ', at)) {
      const nameStart = line.indexOf(' ', at) + 1;
      let nameEnd = line.indexOf(' ', nameStart);
      if (nameEnd < 0) nameEnd = line.length;
      const chainName = line.slice(nameStart, nameEnd);
      if (!isChainName(chainName)) {
        b.unknown(ln + 1, rawLine);
        continue;
      }
      if (packets === null) sawUncounted = true;
      else sawCounters = true;
      const ch = b.chain(chainName);
      const spec = line.slice(at);
      ch.rules.push(ruleFromSpec(b.table, chainName, line, nameEnd, packets, bytes, line, spec, ln + 1));
      continue;
    }
    if (at === 0 && (line.startsWith('-P ') || line.startsWith('-N '))) {
      const parts = line.split(/\s+/);
      if (!isChainName(parts[1])) {
        b.unknown(ln + 1, rawLine);
        continue;
      }
      const ch = b.chain(parts[1]);
      if (parts[0] === '-P') ch.policy = parts[2] ?? null;
      if (parts[0] === '-P' && parts[3] === '-c' && isDigits(parts[4] ?? '') && isDigits(parts[5] ?? '')) {
        ch.packets = Number(parts[4]);
        ch.bytes = Number(parts[5]);
      }
      continue;
    }
    b.unknown(ln + 1, rawLine);
  }
  return {
    chains: b.chains,
    format,
    exactCounters: sawCounters && !sawUncounted,
    unknownLines: b.unknownLines,
  };
}

/** `iptables-save` / `iptables-nft-save` / `iptables-legacy-save`, with or without `-c`. */
export function parseIptablesSave(text: string): IptablesDump {
  return parseSpecLines(text, 'save');
}

/** `iptables -S` (and `-S -v` / `-S -c` rule lines with `-c p b`). */
export function parseIptablesRules(text: string): IptablesDump {
  const dump = parseSpecLines(text, 'rules');
  // `iptables -S -v` prints counters as `-A CHAIN … -c 12 3456`; lift them into the rule.
  for (const c of dump.chains)
    for (const r of c.rules) {
      if (r.packets !== null) continue;
      const m = / -c (\d+) (\d+)$/.exec(r.raw);
      if (m) {
        r.packets = Number(m[1]);
        r.bytes = Number(m[2]);
        r.spec = r.raw.slice(0, m.index);
      }
    }
  return dump;
}

// ---------------------------------------------------------------------------------------------
// iptables -L -n [-v] [-x]

/** iptables -L numbers: `3898K` = 3898 × 1000 (iptables scales by 1000: K, M, G, T). */
export function parseIptablesNumber(s: string): number | null {
  if (s.length === 0) return null;
  const last = s.charCodeAt(s.length - 1);
  let mult = 1;
  let digits = s;
  if (last === 75 /* K */) mult = 1e3;
  else if (last === 77 /* M */) mult = 1e6;
  else if (last === 71 /* G */) mult = 1e9;
  else if (last === 84 /* T */) mult = 1e12;
  else if (last === 80 /* P */) mult = 1e15;
  if (mult !== 1) digits = s.slice(0, -1);
  if (!isDigits(digits)) return null;
  return Number(digits) * mult;
}

function isOptColumn(s: string | undefined): boolean {
  return s === '--' || s === '-f' || s === '!f';
}

/** The first `count` whitespace-separated fields. */
function fields(s: string, count: number): { parts: string[] } {
  const parts: string[] = [];
  let i = 0;
  const n = s.length;
  while (parts.length < count && i < n) {
    while (i < n && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
    if (i >= n) break;
    const st = i;
    while (i < n && s.charCodeAt(i) !== 32 && s.charCodeAt(i) !== 9) i++;
    parts.push(s.slice(st, i));
  }
  return { parts };
}

const CHAIN_HEADER = /^Chain (\S+) \((?:policy (\S+)(?: (\S+) packets, (\S+) bytes)?|(\d+) references?)\)\s*$/;

/** `iptables -L -n`, `-L -n -v`, `-L -n -v -x`, `-nvL`, `-nt nat -L CHAIN`… */
export function parseIptablesList(text: string): IptablesDump {
  const b = new DumpBuilder();
  const lines = splitLines(text);
  let current: IptablesChain | null = null;
  let verbose = false;
  let numbered = false;
  let sawCounters = false;
  let sawSuffix = false;
  for (let ln = 0; ln < lines.length; ln++) {
    const orig = lines[ln]!;
    const line = orig.trim();
    if (line.length === 0) {
      current = null;
      continue;
    }
    if (line.startsWith('Chain ')) {
      const m = CHAIN_HEADER.exec(line);
      if (!m) {
        b.unknown(ln + 1, orig);
        current = null;
        continue;
      }
      // -L shows one table; iptables does not print which.
      current = b.chain(m[1]!, null);
      // A chain listed twice (two `-L CHAIN` runs pasted together): the later listing wins.
      current.rules = [];
      if (m[2] !== undefined) current.policy = m[2];
      if (m[3] !== undefined) {
        current.packets = parseIptablesNumber(m[3]);
        current.bytes = parseIptablesNumber(m[4]!);
        if (/[KMGTP]$/.test(m[3]) || /[KMGTP]$/.test(m[4]!)) sawSuffix = true;
      }
      if (m[5] !== undefined) current.references = Number(m[5]);
      continue;
    }
    // `-x` widens the counter columns: "pkts      bytes target".
    const head = line.startsWith('pkts ') || line.startsWith('num ') ? line.replace(/\s+/g, ' ') : line;
    if (current && (head.startsWith('pkts bytes target') || head.startsWith('target ') || head.startsWith('num '))) {
      // `--line-numbers` adds a leading "num" column.
      numbered = head.startsWith('num ');
      verbose = head.includes('pkts bytes');
      continue;
    }
    if (!current) {
      b.unknown(ln + 1, orig);
      continue;
    }
    const row = numbered ? line.replace(/^\d+\s+/, '') : line;
    const rule = verbose ? listRowVerbose(current.name, row, ln + 1) : listRowPlain(current.name, row, ln + 1);
    if (!rule) {
      b.unknown(ln + 1, orig);
      continue;
    }
    if (rule.packets !== null) {
      sawCounters = true;
      // The two counter columns themselves: a target such as DNAT or MARK right after small
      // counters is not a `K`/`M`/`T` suffix.
      const counters = fields(row, 2).parts;
      if (/[KMGTP]$/.test(counters[0]!) || /[KMGTP]$/.test(counters[1]!)) sawSuffix = true;
    }
    current.rules.push(rule);
  }
  return { chains: b.chains, format: 'list', exactCounters: sawCounters && !sawSuffix, unknownLines: b.unknownLines };
}

function listRowVerbose(chain: string, line: string, ln: number): IptablesRule | null {
  // pkts bytes [target] prot opt in out source destination [extra…]
  const { parts } = fields(line, 10);
  if (parts.length < 8) return null;
  const packets = parseIptablesNumber(parts[0]!);
  const bytes = parseIptablesNumber(parts[1]!);
  if (packets === null || bytes === null) return null;
  let target: string | null;
  let cols: string[];
  if (isOptColumn(parts[4])) {
    target = parts[2]!;
    cols = parts.slice(3);
  } else if (isOptColumn(parts[3])) {
    target = null; // a rule without -j (kube-proxy's KUBE-FW "other traffic … will be dropped")
    cols = parts.slice(2);
  } else return null;
  // cols: prot opt in out source destination [first extra word]
  if (cols.length < 6) return null;
  // The extra columns as printed: a comment keeps its own runs of blanks.
  const extra = line.slice(nthFieldOffset(line, target === null ? 8 : 9)).trim();
  const spec = line.slice(nthFieldOffset(line, 2)).trim();
  const matches = target === null ? spec : spec.slice(nthFieldOffset(spec, 1)).trim();
  return listRule(chain, line, spec, packets, bytes, target, cols[0]!, extra, matches, ln);
}

function listRowPlain(chain: string, line: string, ln: number): IptablesRule | null {
  // [target] prot opt source destination [extra…]
  const { parts } = fields(line, 6);
  if (parts.length < 4) return null;
  let target: string | null;
  let cols: string[];
  if (isOptColumn(parts[2])) {
    target = parts[0]!;
    cols = parts.slice(1);
  } else if (isOptColumn(parts[1])) {
    target = null;
    cols = parts.slice(0);
  } else return null;
  if (cols.length < 4) return null;
  const extra = line.slice(nthFieldOffset(line, target === null ? 4 : 5)).trim();
  const matches = target === null ? line : line.slice(nthFieldOffset(line, 1)).trim();
  return listRule(chain, line, line, null, null, target, cols[0]!, extra, matches, ln);
}

function nthFieldOffset(s: string, n: number): number {
  let i = 0;
  for (let k = 0; k < n; k++) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    while (i < s.length && s[i] !== ' ' && s[i] !== '\t') i++;
  }
  return i;
}

function listRule(
  chain: string,
  raw: string,
  spec: string,
  packets: number | null,
  bytes: number | null,
  target: string | null,
  protocol: string,
  extra: string,
  matches: string,
  ln: number,
): IptablesRule {
  let comment: string | null = null;
  const cs = extra.indexOf('/* ');
  if (cs >= 0) {
    const ce = extra.indexOf(' */', cs + 3);
    if (ce >= 0) comment = extra.slice(cs + 3, ce);
  }
  let dnatTo: string | null = null;
  if (target === 'DNAT') {
    const m = /(?:^|\s)to:(\S+)/.exec(extra);
    if (m) dnatTo = m[1]!;
  }
  return {
    table: null,
    chain,
    packets,
    bytes,
    target,
    protocol: protocolName(protocol),
    comment,
    dnatTo,
    matches,
    raw,
    spec,
    line: ln,
  };
}

/** IANA protocol numbers `iptables -L -n` 1.8.9 prints, and the names other releases print. */
const PROTOCOL_NAMES: Record<string, string> = {
  '0': 'all',
  '1': 'icmp',
  '6': 'tcp',
  '17': 'udp',
  '58': 'ipv6-icmp',
  '132': 'sctp',
};

function protocolName(printed: string): string {
  const neg = printed.startsWith('!');
  const p = neg ? printed.slice(1) : printed;
  const name = PROTOCOL_NAMES[p] ?? p;
  return neg ? `!${name}` : name;
}

// ---------------------------------------------------------------------------------------------
// Detection

/** Detect the format (save, -S or -L) and parse. */
export function parseIptables(text: string): IptablesDump {
  const format = detectIptablesFormat(text);
  if (format === 'list') return parseIptablesList(text);
  return format === 'rules' ? parseIptablesRules(text) : parseIptablesSave(text);
}

export function detectIptablesFormat(text: string): IptablesFormat {
  // Look at the first lines that decide; a 12 MB dump is decided within a few lines.
  let start = 0;
  let seen = 0;
  while (start < text.length && seen < 5000) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    start = end + 1;
    if (!line) continue;
    seen++;
    if (line.startsWith('Chain ') && CHAIN_HEADER.test(line)) return 'list';
    if (line.startsWith('*') || line.startsWith(':') || /^\[\d+:\d+\] -A /.test(line)) return 'save';
    if (line.startsWith('-P ') || line.startsWith('-N ')) return 'rules';
  }
  return 'save';
}
