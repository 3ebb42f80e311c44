/**
 * iproute2 → routes, neighbours, addresses. Accepts `ip -j …` JSON and the plain text of
 * `ip route`, `ip neigh` and `ip addr`. Pure: text in, data out.
 */

type Unknown = Array<{ line: number; text: string }>;
type Json = Record<string, unknown>;

export interface Route {
  /** `default`, `10.244.1.0/24`, `10.244.0.154` (host route). */
  dst: string;
  /** Route type when printed before the destination (`local`, `broadcast`, `unreachable`, `blackhole`…). */
  type: string | null;
  gateway: string | null;
  dev: string | null;
  protocol: string | null;
  scope: string | null;
  /** Preferred source (`src`). */
  prefsrc: string | null;
  metric: number | null;
  mtu: number | null;
  table: string | null;
  /** Multipath next hops (`nexthop via … dev …`). */
  nexthops: Array<{ gateway: string | null; dev: string | null }>;
  raw: string;
}

export interface Neighbour {
  ip: string;
  lladdr: string | null;
  dev: string | null;
  /** `REACHABLE`, `STALE`, `FAILED`, `PERMANENT`, … (several joined by `,` when JSON lists several). */
  state: string | null;
  router: boolean;
  raw: string;
}

export interface AddressInfo {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string | null;
}

export interface Interface {
  ifindex: number;
  name: string;
  /** `if12` → 12 for a veth peer in another namespace; the peer name (`cilium_host`) otherwise. */
  link: string | null;
  flags: string[];
  mtu: number | null;
  state: string | null;
  mac: string | null;
  addresses: AddressInfo[];
  raw: string;
}

/** The objects of `ip -j …` output, or null when the text is not a JSON list (then it is read as text). */
function jsonList(text: string): Json[] | null {
  const t = text.trimStart();
  if (!t.startsWith('[') && !t.startsWith('{')) return null;
  try {
    const data: unknown = JSON.parse(text);
    return Array.isArray(data) ? (data as Json[]) : null;
  } catch {
    return null;
  }
}

/** The non-blank lines with their 1-based numbers, the raw text and the trimmed text. */
function* nonBlankLines(text: string): Generator<{ line: number; raw: string; t: string }> {
  const ls = text.split('\n');
  for (let i = 0; i < ls.length; i++) {
    const raw = ls[i]!.replace(/\r$/, '');
    const t = raw.trim();
    if (t) yield { line: i + 1, raw, t };
  }
}

function toNum(s: string | undefined): number | null {
  return s !== undefined && /^\d+$/.test(s) ? Number(s) : null;
}

const ROUTE_TYPES = new Set([
  'unicast',
  'local',
  'broadcast',
  'multicast',
  'unreachable',
  'blackhole',
  'prohibit',
  'throw',
  'nat',
  'anycast',
]);
const ROUTE_KEYS = new Set([
  'via',
  'dev',
  'proto',
  'scope',
  'src',
  'metric',
  'mtu',
  'table',
  'pref',
  'expires',
  'advmss',
  'initcwnd',
  'initrwnd',
  'realm',
  'weight',
  'onlink',
  'linkdown',
  'nexthop',
]);

function looksLikeDst(s: string): boolean {
  return s === 'default' || /^[0-9a-fA-F:.]+(\/\d+)?$/.test(s);
}

/** `ip -j route` prints a route's mtu among its metrics: `"metrics":[{"mtu":1450}]`. */
function metricsMtu(metrics: unknown): number | null {
  if (!Array.isArray(metrics)) return null;
  const m = (metrics as Json[]).find((x) => x && typeof x === 'object' && typeof x.mtu === 'number');
  return m ? (m.mtu as number) : null;
}

/** `ip route` / `ip -6 route` / `ip -j route` → routes. */
export function parseIpRoute(text: string): { routes: Route[]; unknownLines: Unknown } {
  const data = jsonList(text);
  if (data)
    return {
      routes: data.map((r) => ({
        dst: String(r.dst ?? ''),
        type: typeof r.type === 'string' ? r.type : null,
        gateway: typeof r.gateway === 'string' ? r.gateway : null,
        dev: typeof r.dev === 'string' ? r.dev : null,
        protocol: typeof r.protocol === 'string' ? r.protocol : null,
        scope: typeof r.scope === 'string' ? r.scope : null,
        prefsrc: typeof r.prefsrc === 'string' ? r.prefsrc : null,
        metric: typeof r.metric === 'number' ? r.metric : null,
        mtu: typeof r.mtu === 'number' ? r.mtu : metricsMtu(r.metrics),
        table: r.table === undefined ? null : String(r.table),
        nexthops: Array.isArray(r.nexthops)
          ? (r.nexthops as Json[]).map((n) => ({
              gateway: typeof n.gateway === 'string' ? n.gateway : null,
              dev: typeof n.dev === 'string' ? n.dev : null,
            }))
          : [],
        raw: JSON.stringify(r),
      })),
      unknownLines: [],
    };
  const routes: Route[] = [];
  const unknownLines: Unknown = [];
  for (const { line, raw, t } of nonBlankLines(text)) {
    const w = t.split(/\s+/);
    // Multipath continuation: "\tnexthop via 10.0.0.1 dev eth0 weight 1"
    if (w[0] === 'nexthop' && routes.length > 0 && /^\s/.test(raw)) {
      const via = w.indexOf('via');
      const dev = w.indexOf('dev');
      routes[routes.length - 1]!.nexthops.push({
        gateway: via >= 0 ? (w[via + 1] ?? null) : null,
        dev: dev >= 0 ? (w[dev + 1] ?? null) : null,
      });
      continue;
    }
    let k = 0;
    let type: string | null = null;
    if (ROUTE_TYPES.has(w[0]!)) {
      type = w[0]!;
      k = 1;
    }
    const dst = w[k];
    if (dst === undefined || !looksLikeDst(dst) || (w.length > k + 1 && !ROUTE_KEYS.has(w[k + 1]!))) {
      unknownLines.push({ line, text: raw });
      continue;
    }
    const r: Route = {
      dst,
      type,
      gateway: null,
      dev: null,
      protocol: null,
      scope: null,
      prefsrc: null,
      metric: null,
      mtu: null,
      table: null,
      nexthops: [],
      raw,
    };
    for (let j = k + 1; j < w.length; j++) {
      const key = w[j]!;
      const v = w[j + 1];
      switch (key) {
        case 'via':
          r.gateway = v === 'inet' || v === 'inet6' ? (w[++j + 1] ?? null) : (v ?? null);
          j++;
          break;
        case 'dev':
          r.dev = v ?? null;
          j++;
          break;
        case 'proto':
          r.protocol = v ?? null;
          j++;
          break;
        case 'scope':
          r.scope = v ?? null;
          j++;
          break;
        case 'src':
          r.prefsrc = v ?? null;
          j++;
          break;
        case 'metric':
          r.metric = toNum(v);
          j++;
          break;
        case 'table':
          r.table = v ?? null;
          j++;
          break;
        case 'mtu':
          if (v === 'lock') {
            r.mtu = toNum(w[j + 2]);
            j += 2;
          } else {
            r.mtu = toNum(v);
            j++;
          }
          break;
        default:
          break;
      }
    }
    routes.push(r);
  }
  return { routes, unknownLines };
}

const NUD = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'FAILED', 'INCOMPLETE', 'NOARP', 'PERMANENT', 'NONE']);

/** `ip neigh` / `ip -j neigh` → neighbours. */
export function parseIpNeigh(text: string): { neighbours: Neighbour[]; unknownLines: Unknown } {
  const data = jsonList(text);
  if (data)
    return {
      neighbours: data.map((n) => ({
        ip: String(n.dst ?? ''),
        lladdr: typeof n.lladdr === 'string' ? n.lladdr : null,
        dev: typeof n.dev === 'string' ? n.dev : null,
        state: Array.isArray(n.state) ? (n.state as string[]).join(',') : typeof n.state === 'string' ? n.state : null,
        router: n.router !== undefined && n.router !== false,
        raw: JSON.stringify(n),
      })),
      unknownLines: [],
    };
  const neighbours: Neighbour[] = [];
  const unknownLines: Unknown = [];
  for (const { line, raw, t } of nonBlankLines(text)) {
    const w = t.split(/\s+/);
    // Words of an `ip route` line pasted among neighbours; `proto` only without `lladdr`: a
    // neighbour installed by a routing daemon ends in `REACHABLE proto zebra`.
    const routeWord =
      w.includes('via') || (w.includes('proto') && !w.includes('lladdr')) || w.includes('scope') || w.includes('src');
    if (!/^[0-9a-fA-F:.]+$/.test(w[0]!) || routeWord || !(w.includes('lladdr') || NUD.has(w.at(-1)!))) {
      unknownLines.push({ line, text: raw });
      continue;
    }
    const at = (k: string) => {
      const x = w.indexOf(k);
      return x >= 0 ? (w[x + 1] ?? null) : null;
    };
    const states = w.filter((x) => NUD.has(x));
    neighbours.push({
      ip: w[0]!,
      lladdr: at('lladdr'),
      dev: at('dev'),
      state: states.length ? states.join(',') : null,
      router: w.includes('router'),
      raw,
    });
  }
  return { neighbours, unknownLines };
}

/** `ip addr` / `ip -j addr` → interfaces with their addresses. */
export function parseIpAddr(text: string): { interfaces: Interface[]; unknownLines: Unknown } {
  const data = jsonList(text);
  if (data)
    return {
      interfaces: data.map((d) => ({
        ifindex: Number(d.ifindex),
        name: String(d.ifname ?? ''),
        link: typeof d.link === 'string' ? d.link : typeof d.link_index === 'number' ? `if${d.link_index}` : null,
        flags: Array.isArray(d.flags) ? (d.flags as string[]) : [],
        mtu: typeof d.mtu === 'number' ? d.mtu : null,
        state: typeof d.operstate === 'string' ? d.operstate : null,
        mac: typeof d.address === 'string' ? d.address : null,
        addresses: Array.isArray(d.addr_info)
          ? (d.addr_info as Json[])
              .filter((a) => a.family === 'inet' || a.family === 'inet6')
              .map((a) => ({
                family: a.family as 'inet' | 'inet6',
                local: String(a.local ?? ''),
                prefixlen: Number(a.prefixlen),
                scope: typeof a.scope === 'string' ? a.scope : null,
              }))
          : [],
        raw: JSON.stringify(d),
      })),
      unknownLines: [],
    };
  const interfaces: Interface[] = [];
  const unknownLines: Unknown = [];
  let cur: Interface | null = null;
  for (const { line, raw, t } of nonBlankLines(text)) {
    const head = /^(\d+):\s+([^:@\s]+)(?:@([^:\s]+))?:\s+<([^>]*)>(.*)$/.exec(raw);
    if (head) {
      const rest = head[5]!;
      cur = {
        ifindex: Number(head[1]),
        name: head[2]!,
        link: head[3] ?? null,
        flags: head[4] ? head[4].split(',') : [],
        mtu: toNum(/\bmtu (\d+)/.exec(rest)?.[1]),
        state: /\bstate (\S+)/.exec(rest)?.[1] ?? null,
        mac: null,
        addresses: [],
        raw,
      };
      interfaces.push(cur);
      continue;
    }
    if (cur && /^\s/.test(raw)) {
      const link = /^link\/\S+ (\S+)/.exec(t);
      if (link) {
        cur.mac = link[1]!;
        continue;
      }
      const a = /^(inet6?) ([0-9a-fA-F:.]+)\/(\d+)(?:.*?\bscope (\S+))?/.exec(t);
      if (a) {
        cur.addresses.push({
          family: a[1] as 'inet' | 'inet6',
          local: a[2]!,
          prefixlen: Number(a[3]),
          scope: a[4] ?? null,
        });
        continue;
      }
      if (t.startsWith('valid_lft') || t.startsWith('altname') || t.startsWith('vxlan') || t.startsWith('veth'))
        continue;
    }
    unknownLines.push({ line, text: raw });
  }
  return { interfaces, unknownLines };
}
