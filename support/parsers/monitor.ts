/**
 * `cilium monitor` / `cilium-dbg monitor` text → events. Covers the one-line trace format
 * (`-> endpoint N flow 0x… , identity A->B state new ifindex lxc… orig-ip X: a:p -> b:q tcp SYN`,
 * with or without the comma after the flow id), the verbose `CPU 01: MARK 0x… FROM N to-stack: …`
 * header and its TAB-separated layer dumps, drops (`xx drop (reason) … file bpf_lxc.c:734`),
 * policy verdicts, DEBUG lines, trace-sock (`[pre-xlate-fwd]`) and L7 records. One grammar for
 * every source: the lab's agent stand-in prints these same formats, so there is no lab branch and
 * no field that only the lab prints.
 *
 * Written for speed (hundreds of thousands of lines per second): prefix checks and indexOf,
 * no backtracking regular expressions on the hot path. A line it cannot read is an `unknown`
 * event, never an exception.
 */

export type MonitorEventType =
  | 'trace'
  | 'drop'
  | 'policy-verdict'
  | 'debug'
  | 'trace-sock'
  | 'l7'
  | 'layer'
  | 'info'
  | 'unknown';

export interface Endpoint {
  ip: string;
  port: number | null;
}

export interface MonitorEvent {
  type: MonitorEventType;
  /** `to-endpoint`, `to-stack`, `to-network`, `to-overlay`, `to-host`, `to-proxy`, `from-…`; trace-sock: `pre-xlate-fwd`… */
  observationPoint: string | null;
  /** Destination endpoint: the N of `-> endpoint N` / `to endpoint N`. */
  endpoint: number | null;
  /** Endpoint that emitted the event: `<- endpoint N`, `FROM N` of the verbose form, `from N` of L7. */
  srcEndpoint: number | null;
  /**
   * `orig-ip`: on `-> endpoint` events the source address before reverse NAT (equal to the
   * source when nothing was reverse-NATed); `0.0.0.0` where the datapath records none.
   */
  origIp: string | null;
  src: Endpoint | null;
  dst: Endpoint | null;
  /** `tcp`, `udp`, `icmp`, `icmpv6`, `sctp` (`icmp` also for a bare `EchoRequest`). */
  protocol: string | null;
  /** TCP flags or ICMP type as printed (`SYN, ACK`, `EchoRequest`). */
  flags: string | null;
  flowId: string | null;
  /** Source/destination security identities: numbers, or names (`host`, `world`, `unknown`). */
  identities: { src: number | string; dst: number | string } | null;
  /** ifindex as printed: a number or an interface name (newer Cilium prints the name). */
  ifindex: number | string | null;
  /** Interface name (`ifindex lxc…`, `interface lxc_health`). */
  interface: string | null;
  /** Connection tracking state (`new`, `reply`, `established`). */
  state: string | null;
  /** Drop reason, policy verdict action, DEBUG message, L7 summary, info text. */
  message: string | null;
  /** Drop: `file bpf_lxc.c:734` or `101:80`. */
  file: string | null;
  /** CPU of the verbose form. */
  cpu: number | null;
  /** Policy verdict details. */
  verdict: {
    direction: string | null;
    action: string | null;
    match: string | null;
    remoteIdentity: number | string | null;
    proto: number | null;
  } | null;
  /** Layer dump of the verbose form: `IPv4`, `TCP`… with its `Key=Value` fields. */
  layer: { name: string; fields: Record<string, string> } | null;
  raw: string;
  /** 1-based line number (set by parseMonitor). */
  line: number;
}

function blank(raw: string, type: MonitorEventType): MonitorEvent {
  return {
    type,
    observationPoint: null,
    endpoint: null,
    srcEndpoint: null,
    origIp: null,
    src: null,
    dst: null,
    protocol: null,
    flags: null,
    flowId: null,
    identities: null,
    ifindex: null,
    interface: null,
    state: null,
    message: null,
    file: null,
    cpu: null,
    verdict: null,
    layer: null,
    raw,
    line: 0,
  };
}

function toInt(s: string | undefined): number | null {
  if (s === undefined || s.length === 0) return null;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return null;
  }
  return Number(s);
}

function identity(s: string): number | string {
  const n = toInt(s);
  return n === null ? s : n;
}

/** `10.0.0.1:80`, `[fd00::1]:80`, `10.0.0.1`, `fd00::1` → {ip, port}. */
export function parseHostPort(s: string): Endpoint | null {
  if (s.length === 0) return null;
  if (s.charCodeAt(0) === 91 /* [ */) {
    const close = s.indexOf(']');
    if (close < 0) return null;
    const ip = s.slice(1, close);
    const port = s.charCodeAt(close + 1) === 58 ? toInt(s.slice(close + 2)) : null;
    return { ip, port };
  }
  const first = s.indexOf(':');
  if (first < 0) return { ip: s, port: null };
  if (s.indexOf(':', first + 1) < 0) return { ip: s.slice(0, first), port: toInt(s.slice(first + 1)) };
  return { ip: s, port: null }; // bare IPv6
}

const OBS_WORDS: Record<string, string> = {
  endpoint: 'endpoint',
  stack: 'stack',
  network: 'network',
  overlay: 'overlay',
  host: 'host',
  proxy: 'proxy',
  crypto: 'crypto',
};

const PROTOCOLS = new Set(['tcp', 'udp', 'icmp', 'icmpv6', 'sctp', 'ICMPv4', 'ICMPv6']);
const ICMP_WORDS = new Set([
  'EchoRequest',
  'EchoReply',
  'DestinationUnreachable',
  'TimeExceeded',
  'NeighborSolicitation',
  'NeighborAdvertisement',
  'RouterSolicitation',
  'RouterAdvertisement',
  'PacketTooBig',
  'ParameterProblem',
]);

/** The type of an ICMP type-and-code as gopacket prints it: `DestinationUnreachable(Port)` → `DestinationUnreachable`. */
function icmpType(word: string): string {
  const paren = word.indexOf('(');
  return paren > 0 ? word.slice(0, paren) : word;
}

/**
 * The 5-tuple part `a -> b [proto] [flags…]`, read from s[from..]
 * by index (few allocations: this runs once per line). Tolerates the stray space of
 * `10.0.0.112 :54134` seen in Cilium's docs.
 */
function parseTuple(ev: MonitorEvent, s: string, from: number): boolean {
  const arrow = s.indexOf(' -> ', from);
  if (arrow < 0) return false;
  let a = from;
  while (a < arrow && s.charCodeAt(a) === 32) a++;
  let left = s.slice(a, arrow);
  if (left.includes(' :')) left = left.replace(' :', ':');
  let b = arrow + 4;
  while (s.charCodeAt(b) === 32) b++;
  let end = s.length;
  while (end > b && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 13)) end--;
  let sp = s.indexOf(' ', b);
  if (sp < 0 || sp > end) sp = end;
  const src = parseHostPort(left);
  const dst = parseHostPort(s.slice(b, sp));
  if (!src || !dst) return false;
  ev.src = src;
  ev.dst = dst;
  if (sp < end) {
    const ws = sp + 1;
    let sp2 = s.indexOf(' ', ws);
    if (sp2 < 0 || sp2 > end) sp2 = end;
    const word = s.slice(ws, sp2);
    if (PROTOCOLS.has(word)) {
      ev.protocol =
        word === 'tcp' || word === 'udp' ? word : word.toLowerCase() === 'icmpv4' ? 'icmp' : word.toLowerCase();
      ev.flags = sp2 < end ? s.slice(sp2 + 1, end) || null : null;
    } else if (ICMP_WORDS.has(icmpType(word))) {
      ev.protocol = dst.ip.includes(':') ? 'icmpv6' : 'icmp';
      ev.flags = s.slice(ws, end);
    } else if (end > ws) ev.flags = s.slice(ws, end);
  }
  return true;
}

/** Value after `key` (which starts with a space) within s[0..to), up to the next space, without a trailing comma. */
function valueAfter(s: string, key: string, to: number): string | null {
  const at = s.indexOf(key);
  if (at < 0 || at >= to) return null;
  const from = at + key.length;
  let end = s.indexOf(' ', from);
  if (end < 0 || end > to) end = to;
  if (s.charCodeAt(end - 1) === 44 /* , */) end--;
  return end > from ? s.slice(from, end) : null;
}

/** Header of a one-line trace in s[0..to): `flow 0x… , identity A->B state S ifindex X orig-ip Y`. */
function parseTraceHeader(ev: MonitorEvent, s: string, to: number): void {
  ev.flowId = valueAfter(s, ' flow ', to);
  const id = valueAfter(s, ' identity ', to);
  if (id !== null) {
    const a = id.indexOf('->');
    if (a > 0) ev.identities = { src: identity(id.slice(0, a)), dst: identity(id.slice(a + 2)) };
  }
  ev.state = valueAfter(s, ' state ', to);
  const ifx = valueAfter(s, ' ifindex ', to);
  if (ifx !== null) {
    const n = toInt(ifx);
    ev.ifindex = n === null ? ifx : n;
    if (n === null) ev.interface = ifx;
  }
  const itf = valueAfter(s, ' interface ', to);
  if (itf !== null) ev.interface = itf;
  const orig = valueAfter(s, ' orig-ip ', to);
  if (orig !== null) ev.origIp = orig;
}

/** `-> endpoint 734 flow …: tuple`, `<- host …`, `-> 0: tuple`, `-> Request dns …`. */
function parseArrow(ev: MonitorEvent, body: string): void {
  const out = body.charCodeAt(0) === 45; // "->" vs "<-"
  const rest = body.slice(3);
  if (rest.startsWith('Request ') || rest.startsWith('Response ')) {
    ev.type = 'l7';
    ev.message = rest;
    const words = rest.split(' ');
    // "Request dns from 3459 (…) to 0 (…), identity 323->15194, verdict …"
    for (let i = 2; i < words.length - 1; i++) {
      if (words[i] === 'from') ev.srcEndpoint = toInt(words[i + 1]);
      else if (words[i] === 'to') ev.endpoint = toInt(words[i + 1]);
      else if (words[i] === 'identity') {
        const v = words[i + 1]!.replace(/,$/, '');
        const a = v.indexOf('->');
        if (a > 0) ev.identities = { src: identity(v.slice(0, a)), dst: identity(v.slice(a + 2)) };
        break;
      }
    }
    return;
  }
  ev.type = 'trace';
  // Header and tuple are split by the first ": " (an IPv6 orig-ip like fd04::11 has no ": ").
  const colon = rest.indexOf(': ');
  const headEnd = colon < 0 ? rest.length : colon;
  let sp = rest.indexOf(' ');
  if (sp < 0 || sp > headEnd) sp = headEnd;
  const w0 = rest.slice(0, sp);
  const dir = out ? 'to-' : 'from-';
  const obs = OBS_WORDS[w0];
  if (obs) {
    ev.observationPoint = dir + obs;
    if (obs === 'endpoint') {
      let e = rest.indexOf(' ', sp + 1);
      if (e < 0 || e > headEnd) e = headEnd;
      // `-> endpoint N` names where the packet goes, `<- endpoint N` the endpoint that sent it.
      const id = toInt(rest.slice(sp + 1, e));
      if (out) ev.endpoint = id;
      else ev.srcEndpoint = id;
    }
  } else if (toInt(w0) === null) {
    ev.observationPoint = dir + w0;
  } // else: old bare form "-> 0: a -> b tcp SYN", a capture without observation point.
  parseTraceHeader(ev, rest, headEnd);
  if (colon >= 0) parseTuple(ev, rest, colon + 2);
  else if (!ev.flowId && !ev.identities) ev.type = 'unknown';
}

/** `xx drop (reason) flow 0x… to endpoint N, ifindex 12, file bpf_lxc.c:734, , identity A->B: tuple`. */
function parseDrop(ev: MonitorEvent, body: string): void {
  ev.type = 'drop';
  const open = body.indexOf('(');
  const close = body.indexOf(')', open + 1);
  if (open < 0 || close < 0) {
    ev.type = 'unknown';
    return;
  }
  ev.message = body.slice(open + 1, close);
  const rest = body.slice(close + 1);
  const colon = rest.indexOf(': ');
  const head = colon < 0 ? rest : rest.slice(0, colon);
  const words = head.split(/[ ,]+/).filter((w) => w.length > 0);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === 'flow') ev.flowId = words[++i] ?? null;
    else if (w === 'to' && words[i + 1] === 'endpoint') {
      ev.endpoint = toInt(words[i + 2]);
      i += 2;
    } else if (w === 'ifindex') {
      const v = words[++i] ?? '';
      const n = toInt(v);
      ev.ifindex = n === null ? v : n;
      if (n === null) ev.interface = v;
    } else if (w === 'file') ev.file = words[++i] ?? null;
    else if (w === 'identity') {
      const v = words[++i] ?? '';
      const a = v.indexOf('->');
      if (a > 0) ev.identities = { src: identity(v.slice(0, a)), dst: identity(v.slice(a + 2)) };
    }
  }
  if (colon >= 0) parseTuple(ev, rest, colon + 2);
}

/** `Policy verdict log: flow 0x… local EP ID 232, remote ID 31028, proto 6, ingress, action audit, match none, tuple`. */
function parsePolicyVerdict(ev: MonitorEvent, body: string): void {
  ev.type = 'policy-verdict';
  const parts = body.slice('Policy verdict log:'.length).split(', ');
  const verdict: NonNullable<MonitorEvent['verdict']> = {
    direction: null,
    action: null,
    match: null,
    remoteIdentity: null,
    proto: null,
  };
  let localEp: number | null = null;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!.trim();
    if (p.startsWith('flow ')) {
      const words = p.split(' ');
      ev.flowId = words[1] ?? null;
      const id = words.indexOf('ID');
      if (id > 0) localEp = toInt(words[id + 1]);
    } else if (p.startsWith('remote ID ')) verdict.remoteIdentity = identity(p.slice(10));
    else if (p.startsWith('proto ')) verdict.proto = toInt(p.slice(6));
    else if (p === 'ingress' || p === 'egress') verdict.direction = p;
    else if (p.startsWith('action ')) verdict.action = p.slice(7);
    else if (p.startsWith('match ')) verdict.match = p.slice(6);
    else if (p.includes(' -> ')) parseTuple(ev, parts.slice(i).join(', '), 0);
  }
  ev.verdict = verdict;
  ev.message = verdict.action;
  if (verdict.direction === 'egress') ev.srcEndpoint = localEp;
  else ev.endpoint = localEp;
  if (verdict.proto === 6) ev.protocol ??= 'tcp';
  else if (verdict.proto === 17) ev.protocol ??= 'udp';
  else if (verdict.proto === 1) ev.protocol ??= 'icmp';
}

/** After `CPU 01: `: `MARK 0x… FROM N <kind>: …` or `[pre-xlate-fwd] cgroup_id: …`. */
function parseCpu(ev: MonitorEvent, body: string): void {
  const colon = body.indexOf(': ');
  ev.cpu = toInt(body.slice(4, colon));
  let rest = body.slice(colon + 2);
  // A packet that carries an IP trace id (Cilium 1.17+) is tagged after its mark:
  // `MARK 0x… [ IP-TRACE-ID = 42 ] FROM …`; the tag is dropped, the header read as usual.
  const tag = rest.indexOf(' [ IP-TRACE-ID = ');
  if (tag >= 0) {
    const close = rest.indexOf(' ]', tag);
    if (close >= 0) rest = rest.slice(0, tag) + rest.slice(close + 2);
  }
  if (rest.charCodeAt(0) === 91 /* [ */) {
    // trace-sock: [pre-xlate-fwd] cgroup_id: 16761 sock_cookie: 72480, dst [10.96.211.254]:80 tcp
    ev.type = 'trace-sock';
    const close = rest.indexOf(']');
    ev.observationPoint = rest.slice(1, close);
    const d = rest.indexOf(' dst ');
    if (d >= 0) {
      const words = rest
        .slice(d + 5)
        .trim()
        .split(' ');
      ev.dst = parseHostPort(words[0] ?? '');
      if (words[1]) ev.protocol = words[1];
    }
    ev.message = rest.slice(close + 1).trim();
    return;
  }
  // MARK 0x… FROM N TYPE: …
  const words = rest.split(' ', 6);
  let i = 0;
  if (words[i] === 'MARK') i += 2;
  if (words[i] === 'FROM') {
    ev.srcEndpoint = toInt(words[i + 1]);
    i += 2;
  }
  const kindWord = words[i] ?? '';
  const after = rest.indexOf(kindWord) + kindWord.length;
  const tail = rest.slice(after).trim();
  if (kindWord === 'DEBUG:') {
    ev.type = 'debug';
    ev.message = tail;
    // "Conntrack lookup 1/2: src=10.244.1.81:80 dst=169.254.42.1:42290"
    const s = tail.indexOf('src=');
    const d = tail.indexOf('dst=');
    if (s >= 0 && d > s) {
      ev.src = parseHostPort(tail.slice(s + 4, tail.indexOf(' ', s)));
      const de = tail.indexOf(' ', d);
      ev.dst = parseHostPort(tail.slice(d + 4, de < 0 ? undefined : de));
    }
    return;
  }
  if (kindWord === 'DROP:') {
    ev.type = 'drop';
    ev.message = tail;
    parseVerboseFields(ev, tail);
    return;
  }
  if (kindWord.endsWith(':') && (kindWord.startsWith('to-') || kindWord.startsWith('from-'))) {
    ev.type = 'trace';
    ev.observationPoint = kindWord.slice(0, -1);
    parseVerboseFields(ev, tail);
    return;
  }
  ev.type = 'unknown';
}

/** `104 bytes (104 captured), state established, interface lxc_health, , identity host->health, orig-ip fd04::11, to endpoint 2046`. */
function parseVerboseFields(ev: MonitorEvent, tail: string): void {
  for (const part of tail.split(', ')) {
    const p = part.trim();
    if (p.startsWith('state ')) ev.state = p.slice(6);
    else if (p.startsWith('interface ')) ev.interface = p.slice(10);
    else if (p.startsWith('identity ')) {
      const v = p.slice(9);
      const a = v.indexOf('->');
      if (a > 0) ev.identities = { src: identity(v.slice(0, a)), dst: identity(v.slice(a + 2)) };
    } else if (p.startsWith('orig-ip ')) ev.origIp = p.slice(8);
    else if (p.startsWith('to endpoint ')) ev.endpoint = toInt(p.slice(12));
    else if (p.startsWith('ifindex ')) {
      const n = toInt(p.slice(8));
      ev.ifindex = n === null ? p.slice(8) : n;
    } else if (p.startsWith('file ')) ev.file = p.slice(5);
  }
}

const LAYER_NAMES = new Set([
  'Ethernet',
  'IPv4',
  'IPv6',
  'TCP',
  'UDP',
  'ICMPv4',
  'ICMPv6',
  'ARP',
  'Dot1Q',
  'VXLAN',
  'Geneve',
  'SCTP',
  'DNS',
  'Payload',
  'IPv6HopByHop',
]);

function parseLayer(ev: MonitorEvent, name: string, body: string): void {
  ev.type = 'layer';
  const fields: Record<string, string> = {};
  const inner = body.slice(body.indexOf('{') + 1, body.lastIndexOf('}'));
  // Key=Value pairs separated by spaces; values with brackets ([..14..], Options=[…]) kept whole.
  let i = 0;
  while (i < inner.length) {
    while (inner.charCodeAt(i) === 32) i++;
    const eq = inner.indexOf('=', i);
    if (eq < 0) break;
    const key = inner.slice(i, eq);
    let j = eq + 1;
    let depth = 0;
    while (j < inner.length) {
      const c = inner.charCodeAt(j);
      if (c === 91 || c === 40) depth++;
      else if (c === 93 || c === 41) depth--;
      else if (c === 32 && depth <= 0) break;
      j++;
    }
    fields[key] = inner.slice(eq + 1, j);
    i = j + 1;
  }
  ev.layer = { name, fields };
  if (fields.SrcIP && fields.DstIP) {
    ev.src = { ip: fields.SrcIP, port: null };
    ev.dst = { ip: fields.DstIP, port: null };
  }
  if (name === 'TCP' || name === 'UDP' || name === 'SCTP') ev.protocol = name.toLowerCase();
  else if (name === 'ICMPv4') ev.protocol = 'icmp';
  else if (name === 'ICMPv6') ev.protocol = 'icmpv6';
}

/** Parse one monitor line. Never throws: what it cannot read is `type: 'unknown'`. */
export function parseMonitorLine(line: string): MonitorEvent {
  const raw = line.endsWith('\r') ? line.slice(0, -1) : line;
  const ev = blank(raw, 'unknown');
  try {
    const body = raw.trimStart();
    if (body.length === 0) {
      ev.type = 'info';
      return ev;
    }
    const c0 = body.charCodeAt(0);
    if ((c0 === 45 /* - */ && body.startsWith('-> ')) || (c0 === 60 /* < */ && body.startsWith('<- '))) {
      parseArrow(ev, body);
    } else if (c0 === 120 /* x */ && body.startsWith('xx drop ')) {
      parseDrop(ev, body);
    } else if (c0 === 80 /* P */ && body.startsWith('Policy verdict log:')) {
      parsePolicyVerdict(ev, body);
    } else if (c0 === 67 /* C */ && body.startsWith('CPU ') && body.indexOf(': ') > 4) {
      parseCpu(ev, body);
    } else {
      const tab = body.indexOf('\t');
      if (tab > 0 && LAYER_NAMES.has(body.slice(0, tab))) parseLayer(ev, body.slice(0, tab), body);
      else if (isInfo(body)) {
        ev.type = 'info';
        ev.message = body;
      }
    }
  } catch {
    // A malformed line must never stop a stream; keep it as unknown with its raw text.
    return blank(raw, 'unknown');
  }
  return ev;
}

function isInfo(body: string): boolean {
  return (
    body.startsWith('Listening for events') ||
    body.startsWith('Press Ctrl-C') ||
    body.startsWith('level=') ||
    (body.startsWith('time=') && body.includes(' level=')) ||
    body.startsWith('-----') ||
    body.startsWith('Failed to decode layer') ||
    body.startsWith('Unknown event') ||
    body === '...'
  );
}

export interface MonitorStream {
  events: MonitorEvent[];
  /** Lines kept as `unknown` (prompts, annotations, formats not understood). */
  unknownLines: Array<{ line: number; text: string }>;
}

/** Parse a whole monitor capture; blank lines are skipped, every other line becomes one event. */
export function parseMonitor(text: string): MonitorStream {
  const events: MonitorEvent[] = [];
  const unknownLines: Array<{ line: number; text: string }> = [];
  let start = 0;
  let ln = 0;
  const n = text.length;
  while (start < n) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = n;
    ln++;
    if (end > start) {
      const line = text.slice(start, end);
      if (line.trim().length > 0) {
        const ev = parseMonitorLine(line);
        ev.line = ln;
        events.push(ev);
        if (ev.type === 'unknown') unknownLines.push({ line: ln, text: ev.raw });
      }
    }
    start = end + 1;
  }
  return { events, unknownLines };
}
