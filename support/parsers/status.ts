/**
 * `cilium status` / `cilium-dbg status` of the agent (1.14–1.20, normal and `--verbose`) → the
 * datapath fingerprint. Label widths vary between versions and installs, so each top-level line
 * is split on its first colon; continuation lines (controller table, KPR details, cluster health,
 * module tree) belong to the label above them. The cluster-wide `cilium status` of cilium-cli
 * (ASCII logo, DaemonSet lines) is a different output and is reported as such.
 */

export interface CiliumController {
  name: string;
  lastSuccess: string;
  lastError: string;
  count: number | null;
  message: string;
}

export interface CiliumStatus {
  /** `agent` for cilium(-dbg) status in the agent, `cilium-cli` for the cluster summary, `unknown` otherwise. */
  format: 'agent' | 'cilium-cli' | 'unknown';
  /** First word of the KubeProxyReplacement line: `True`, `False`, `Strict`, `Partial`, `Disabled`. */
  kubeProxyReplacement: string | null;
  /** Devices listed in brackets after KubeProxyReplacement (`eth0 172.18.0.2 … (Direct Routing)`). */
  kubeProxyReplacementDevices: string[];
  /** 1.16+ `Routing: Network: Native   Host: Legacy`; null when the line is absent. */
  routing: { network: string; host: string | null; tunnelProtocol: string | null } | null;
  /** Host routing, from `Routing: … Host:` (1.16+) or the older `Host Routing:` line. */
  hostRouting: string | null;
  /** IPAM line without its trailing comma: `IPv4: 2/254 allocated from 10.0.1.0/24`. */
  ipam: string | null;
  ipamAllocations: Array<{ family: string; used: number; total: number; cidr: string | null }>;
  /** Masquerading mode (`IPTables`, `BPF`, `Disabled`) with the IPv4/IPv6 switches when printed. */
  masquerading: { mode: string; ipv4: boolean | null; ipv6: boolean | null; raw: string } | null;
  /** `1.15.0-rc.1` from `Cilium: Ok 1.15.0-rc.1 (v1.15.0-rc.1-f582c55c)`. */
  ciliumVersion: string | null;
  /** Agent health word of the `Cilium:` line (`Ok`). */
  ciliumHealth: string | null;
  attachMode: string | null;
  deviceMode: string | null;
  tunnel: string | null;
  /** `Controller Status: 18/18 healthy` and, with --verbose, the table. */
  controllers: { healthy: number; total: number; list: CiliumController[] } | null;
  /** `KubeProxyReplacement Details:` block of --verbose (label → value). */
  kubeProxyReplacementDetails: Record<string, string>;
  /** Every top-level `Label: value` (value trimmed; empty for section headers). */
  fields: Record<string, string>;
  unknownLines: Array<{ line: number; text: string }>;
}

const LABEL = /^[A-Za-z][A-Za-z0-9 ./()_-]*$/;

function leadingSpaces(s: string): number {
  let i = 0;
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

/** The label where an agent status starts; used to find the base indentation (markdown-indented copies). */
const ANCHORS = [
  'KVStore:',
  'Kubernetes:',
  'KubeProxyReplacement:',
  'KubeProxyReplacement Details:',
  'Cilium:',
  'Host firewall:',
  'IPAM:',
  'Routing:',
];

export function parseCiliumStatus(text: string): CiliumStatus {
  const out: CiliumStatus = {
    format: 'unknown',
    kubeProxyReplacement: null,
    kubeProxyReplacementDevices: [],
    routing: null,
    hostRouting: null,
    ipam: null,
    ipamAllocations: [],
    masquerading: null,
    ciliumVersion: null,
    ciliumHealth: null,
    attachMode: null,
    deviceMode: null,
    tunnel: null,
    controllers: null,
    kubeProxyReplacementDetails: {},
    fields: {},
    unknownLines: [],
  };
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines.some((l) => /^\s*(DaemonSet|Deployment)\s+\S+\s+Desired:/.test(l) || /Cluster Pods:\s/.test(l))) {
    out.format = 'cilium-cli';
    return out;
  }
  let base = -1;
  for (const l of lines) {
    const t = l.trimStart();
    if (ANCHORS.some((a) => t.startsWith(a))) {
      base = leadingSpaces(l);
      break;
    }
  }
  if (base < 0) {
    lines.forEach((l, i) => {
      if (l.trim()) out.unknownLines.push({ line: i + 1, text: l });
    });
    return out;
  }
  out.format = 'agent';
  let section: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) continue;
    const indent = leadingSpaces(line);
    const body = line.slice(Math.min(indent, base));
    const t = line.trim();
    if (t.startsWith('Defaulted container ')) continue;
    const colon = body.indexOf(':');
    const isTop = indent === base && colon > 0 && LABEL.test(body.slice(0, colon).trimEnd());
    if (isTop) {
      const label = body.slice(0, colon).trimEnd();
      const value = body.slice(colon + 1).trim();
      // A label repeated inside a block (e.g. "Name" header rows have no colon) is not top-level.
      out.fields[label] = value;
      section = label;
      continue;
    }
    if (section === null) {
      out.unknownLines.push({ line: i + 1, text: line });
      continue;
    }
    // Continuation of the current section.
    if (section === 'KubeProxyReplacement Details') {
      const c = t.indexOf(':');
      if (c > 0) out.kubeProxyReplacementDetails[t.slice(0, c).replace(/^- /, '').trim()] = t.slice(c + 1).trim();
    } else if (section === 'Controller Status') {
      const cols = t.split(/\s{2,}/);
      if (cols[0] !== 'Name' && cols.length >= 4) {
        out.controllers ??= { healthy: 0, total: 0, list: [] };
        out.controllers.list.push({
          name: cols[0]!,
          lastSuccess: cols[1] ?? '',
          lastError: cols[2] ?? '',
          count: cols[3] !== undefined && /^\d+$/.test(cols[3]) ? Number(cols[3]) : null,
          message: cols.slice(4).join('  '),
        });
      }
    }
  }
  interpret(out);
  return out;
}

function interpret(out: CiliumStatus): void {
  const f = out.fields;
  const kpr = f.KubeProxyReplacement;
  if (kpr !== undefined) {
    const m = /^(\S+)\s*(?:\[(.*)\])?/.exec(kpr);
    out.kubeProxyReplacement = m?.[1] ?? null;
    if (m?.[2]) out.kubeProxyReplacementDevices = m[2].split(/,\s*/).map((d) => d.trim().replace(/\s+/g, ' '));
  } else if (out.kubeProxyReplacementDetails.Status !== undefined) {
    out.kubeProxyReplacement = out.kubeProxyReplacementDetails.Status;
  }
  const routing = f.Routing;
  if (routing !== undefined) {
    const n = /Network:\s*(\S+)(?:\s*\[([^\]]*)\])?/.exec(routing);
    const h = /Host:\s*(\S+)/.exec(routing);
    if (n)
      out.routing = {
        network: n[1]!,
        host: h?.[1] ?? null,
        tunnelProtocol: n[2] ?? null,
      };
  }
  out.hostRouting = out.routing?.host ?? f['Host Routing']?.split(/\s+/)[0] ?? null;
  const ipam = f.IPAM;
  if (ipam !== undefined) {
    out.ipam = ipam.replace(/,\s*$/, '').trim();
    for (const m of ipam.matchAll(/(IPv4|IPv6):\s*(\d+)\/(\d+) allocated(?: from (\S+?))?,?(?=\s|$)/g))
      out.ipamAllocations.push({ family: m[1]!, used: Number(m[2]), total: Number(m[3]), cidr: m[4] ?? null });
  }
  const masq = f.Masquerading;
  if (masq !== undefined) {
    const v4 = /IPv4:\s*(Enabled|Disabled)/.exec(masq);
    const v6 = /IPv6:\s*(Enabled|Disabled)/.exec(masq);
    out.masquerading = {
      mode: masq.split(/\s+/)[0] ?? '',
      ipv4: v4 ? v4[1] === 'Enabled' : null,
      ipv6: v6 ? v6[1] === 'Enabled' : null,
      raw: masq,
    };
  }
  const cil = f.Cilium;
  if (cil !== undefined) {
    const m = /^(\S+)\s+(\d+\.\d+\.\d+\S*)/.exec(cil);
    out.ciliumHealth = m?.[1] ?? cil.split(/\s+/)[0] ?? null;
    out.ciliumVersion = m?.[2] ?? null;
  }
  out.attachMode = f['Attach Mode'] ?? null;
  out.deviceMode = f['Device Mode'] ?? null;
  out.tunnel = f.Tunnel ?? null;
  const ctl = f['Controller Status'];
  if (ctl !== undefined) {
    const m = /(\d+)\/(\d+) healthy/.exec(ctl);
    if (m) {
      const list = out.controllers?.list ?? [];
      out.controllers = { healthy: Number(m[1]), total: Number(m[2]), list };
    }
  }
}
