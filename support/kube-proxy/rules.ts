/**
 * A service's kube-proxy rules in a nat table, found from kube-proxy's comments (`ns/svc:port …`)
 * and the chains they lead to, and the counter deltas of those rules between two snapshots.
 * Pure functions over parsed iptables output (any of the three formats).
 */
import type { IptablesDump, IptablesRule } from '../parsers/iptables.ts';

export interface ServiceRef {
  namespace: string;
  name: string;
  /** Port name; null for an unnamed port (`default/echo cluster IP`). */
  port: string | null;
}

const DNS_CHARS = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;

/**
 * The service a kube-proxy comment is about: `ns/svc:port cluster IP`, `ns/svc:port -> 10.244.1.5:80`,
 * `masquerade traffic for ns/svc:port external destinations`, `ns/svc` … ; null for other comments.
 */
export function serviceRefOf(comment: string | null): ServiceRef | null {
  if (!comment) return null;
  let from = 0;
  for (;;) {
    const slash = comment.indexOf('/', from);
    if (slash < 0) return null;
    const sp = comment.lastIndexOf(' ', slash) + 1;
    let end = comment.indexOf(' ', slash);
    if (end < 0) end = comment.length;
    const ns = comment.slice(sp, slash);
    const rest = comment.slice(slash + 1, end);
    const colon = rest.indexOf(':');
    const name = colon < 0 ? rest : rest.slice(0, colon);
    const port = colon < 0 ? null : rest.slice(colon + 1);
    if (DNS_CHARS.test(ns) && DNS_CHARS.test(name) && (port === null || port.length > 0))
      return { namespace: ns, name, port };
    from = slash + 1;
  }
}

export interface ServiceRules {
  /** KUBE-SERVICES → KUBE-SVC-… / KUBE-SVL-… jumps for the ClusterIP (counts each new connection). */
  svcJumps: IptablesRule[];
  /** KUBE-NODEPORTS → KUBE-EXT-* (or KUBE-SVC-* in older kube-proxy) jumps. */
  nodePortJumps: IptablesRule[];
  /** The DNAT rule of each KUBE-SEP-* chain of the service (counts connections per backend). */
  sepDnat: IptablesRule[];
  svcChains: string[];
  sepChains: string[];
  extChains: string[];
}

function isSvcChain(name: string | null): boolean {
  return name !== null && (name.startsWith('KUBE-SVC-') || name.startsWith('KUBE-SVL-'));
}

/**
 * The rules that count a service's traffic, found from kube-proxy's comments. `portName`
 * narrows to one service port; without it every port of the service is returned.
 */
export function serviceRules(
  dump: IptablesDump,
  sel: { namespace: string; service: string; portName?: string },
): ServiceRules {
  const mine = (r: IptablesRule): boolean => {
    const ref = serviceRefOf(r.comment);
    if (!ref || ref.namespace !== sel.namespace || ref.name !== sel.service) return false;
    return sel.portName === undefined || ref.port === sel.portName;
  };
  const svcJumps: IptablesRule[] = [];
  const nodePortJumps: IptablesRule[] = [];
  const sepDnat: IptablesRule[] = [];
  const svc = new Set<string>();
  const sep = new Set<string>();
  const ext = new Set<string>();
  for (const c of dump.chains) {
    for (const r of c.rules) {
      if (!mine(r)) continue;
      if (c.name === 'KUBE-SERVICES') {
        if (isSvcChain(r.target)) {
          svcJumps.push(r);
          svc.add(r.target!);
        } else if (r.target?.startsWith('KUBE-EXT-') || r.target?.startsWith('KUBE-FW-')) ext.add(r.target);
      } else if (c.name === 'KUBE-NODEPORTS') {
        if (
          r.target &&
          (r.target.startsWith('KUBE-EXT-') || isSvcChain(r.target) || r.target.startsWith('KUBE-XLB-'))
        ) {
          nodePortJumps.push(r);
          if (r.target.startsWith('KUBE-EXT-') || r.target.startsWith('KUBE-XLB-')) ext.add(r.target);
          else svc.add(r.target);
        }
      } else if (c.name.startsWith('KUBE-SEP-')) {
        sep.add(c.name);
        if (r.target === 'DNAT') sepDnat.push(r);
      } else if (isSvcChain(c.name)) {
        svc.add(c.name);
        if (r.target?.startsWith('KUBE-SEP-')) sep.add(r.target);
      } else if (c.name.startsWith('KUBE-EXT-') || c.name.startsWith('KUBE-XLB-')) {
        ext.add(c.name);
        if (isSvcChain(r.target)) svc.add(r.target!);
      }
    }
  }
  // Rules without comments inside the service's own chains (KUBE-EXT-… -j KUBE-SVC-…, or SEP
  // chains reached from the service's SVC chain whose comments were trimmed).
  for (const name of svc) {
    const c = dump.chains.find((x) => x.name === name);
    if (c) for (const r of c.rules) if (r.target?.startsWith('KUBE-SEP-')) sep.add(r.target);
  }
  for (const name of sep) {
    const c = dump.chains.find((x) => x.name === name);
    if (c) for (const r of c.rules) if (r.target === 'DNAT' && !sepDnat.includes(r)) sepDnat.push(r);
  }
  return {
    svcJumps,
    nodePortJumps,
    sepDnat,
    svcChains: [...svc],
    sepChains: [...sep],
    extChains: [...ext],
  };
}

// ---------------------------------------------------------------------------------------------
// Counter deltas

/** Stable identity of a rule across two snapshots: table, chain and the rule text without counters. */
export function ruleKey(rule: IptablesRule): string {
  return `${rule.table ?? ''}|${rule.chain}|${rule.spec}`;
}

export interface CounterDelta {
  rule: IptablesRule;
  chain: string;
  comment: string | null;
  before: number;
  after: number;
  delta: number;
  bytesBefore: number;
  bytesAfter: number;
  bytesDelta: number;
  /**
   * The rule is absent from the after snapshot (kube-proxy rewrote the chain, endpoint gone):
   * after/delta then repeat the before value / 0 and must not be read as "stayed flat".
   */
  gone: boolean;
}

/**
 * Per-rule packet and byte deltas between `before` rules (usually the serviceRules of the
 * first snapshot) and the `after` snapshot. Identical duplicate rules are matched in order.
 * Throws when a snapshot has no counters (take it with `iptables-save -c`).
 */
export function counterDelta(before: IptablesRule[], after: IptablesDump): CounterDelta[] {
  const afterByKey = new Map<string, IptablesRule[]>();
  for (const c of after.chains)
    for (const r of c.rules) {
      const k = ruleKey(r);
      const list = afterByKey.get(k);
      if (list) list.push(r);
      else afterByKey.set(k, [r]);
    }
  const used = new Map<string, number>();
  const out: CounterDelta[] = [];
  for (const r of before) {
    if (r.packets === null || r.bytes === null)
      throw new Error(
        `The "before" snapshot has no counters for rule ${r.chain} (line ${r.line}): take snapshots with \`iptables-save -c\` so per-rule packet counts can be compared.`,
      );
    const k = ruleKey(r);
    const n = used.get(k) ?? 0;
    used.set(k, n + 1);
    const a = afterByKey.get(k)?.[n];
    if (a && (a.packets === null || a.bytes === null))
      throw new Error(
        `The "after" snapshot has no counters for rule ${a.chain} (line ${a.line}): take snapshots with \`iptables-save -c\`.`,
      );
    const ap = a ? a.packets! : r.packets;
    const ab = a ? a.bytes! : r.bytes;
    out.push({
      rule: a ?? r,
      chain: r.chain,
      comment: r.comment,
      before: r.packets,
      after: ap,
      delta: ap - r.packets,
      bytesBefore: r.bytes,
      bytesAfter: ab,
      bytesDelta: ab - r.bytes,
      gone: !a,
    });
  }
  return out;
}
