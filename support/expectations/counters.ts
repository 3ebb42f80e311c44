/**
 * Counter expectations: a service's kube-proxy rules compared between the before and after
 * snapshots of one observation window. Pure: no I/O.
 *
 * Which rules count (ARCHITECTURE §3): nat counters count the first packet of each connection
 * and user-chain headers are always [0:0], so the watched rules are the jump into KUBE-SVC-* in
 * KUBE-SERVICES ('svc'), the jump from KUBE-NODEPORTS ('nodeport') and each KUBE-SEP-* DNAT rule
 * ('sep').
 *
 * "Stays flat" is only a verdict when the instrument could see (positive control): both
 * snapshots were read, both hold the service's rules with counters, the rules were not
 * rewritten in between, and the window's traffic really ran (≥1 successful request). Otherwise
 * InconclusiveError, never a pass.
 */
import { SERVICES_CHAIN } from '../kube-proxy/chains.ts';
import { type CounterDelta, counterDelta, ruleKey, type ServiceRules, serviceRules } from '../kube-proxy/rules.ts';
import type { IptablesDump, IptablesRule } from '../parsers/iptables.ts';
import type { RequestOutcome } from '../probes/traffic.ts';
import { dataOf, type EvidenceOr, fail, inconclusive, isEvidence, listSome, plural } from './evidence-ref.ts';

export type CounterRuleKind = 'svc' | 'sep' | 'nodeport';
export type WhichCounters = CounterRuleKind | 'any';

export interface ServiceSelector {
  namespace: string;
  name: string;
  /** kube-proxy port name (`http`); empty or absent = every port of the service. */
  portName?: string | null;
}

export interface CounterWindow {
  before: ReadonlyMap<string, EvidenceOr<IptablesDump>>;
  after: ReadonlyMap<string, EvidenceOr<IptablesDump>>;
  service: ServiceSelector;
  /** Full node names to judge. */
  nodes: readonly string[];
  /** The window's traffic (one or more batches). */
  traffic: EvidenceOr<RequestOutcome[]> | ReadonlyArray<EvidenceOr<RequestOutcome[]>>;
}

/** One watched rule's movement on one node. */
export interface CounterRow {
  node: string;
  kind: CounterRuleKind;
  /** "KUBE-SEP-GKX2UC7VFHO7SJQN (default/echo:http) DNAT". */
  label: string;
  before: number;
  after: number;
  delta: number;
}

export interface CounterVerdict {
  rows: CounterRow[];
  /** Rendered delta table, ready to attach as evidence. */
  text: string;
}

const KIND_NAME: Record<CounterRuleKind, string> = {
  svc: 'KUBE-SVC jump',
  sep: 'KUBE-SEP DNAT',
  nodeport: 'NodePort jump',
};

function kinds(which: WhichCounters): CounterRuleKind[] {
  return which === 'any' ? ['svc', 'sep', 'nodeport'] : [which];
}

function serviceText(s: ServiceSelector): string {
  return `${s.namespace}/${s.name}${s.portName ? `:${s.portName}` : ''}`;
}

function rulesOf(rules: ServiceRules, kind: CounterRuleKind): IptablesRule[] {
  return kind === 'svc' ? rules.svcJumps : kind === 'sep' ? rules.sepDnat : rules.nodePortJumps;
}

export function ruleLabel(rule: IptablesRule, kind: CounterRuleKind): string {
  const comment = rule.comment ? ` (${rule.comment})` : '';
  if (kind === 'sep') return `${rule.chain}${comment} DNAT`;
  return `${rule.chain} → ${rule.target}${comment} jump`;
}

/** "(evidence 03-iptables-worker.txt → 07-iptables-worker.txt)" for a node's two snapshots. */
function citeSnapshots(
  node: string,
  before: EvidenceOr<IptablesDump> | undefined,
  after: EvidenceOr<IptablesDump> | undefined,
): string {
  const name = (e: EvidenceOr<IptablesDump> | undefined): string | null =>
    e && isEvidence(e) ? (e.attachment ?? null) : null;
  const b = name(before);
  const a = name(after);
  if (b && a) return ` (evidence ${b} → ${a})`;
  if (b || a) return ` (evidence ${b ?? a})`;
  const anyEvidence = [before, after].some((e) => e !== undefined && isEvidence(e));
  return anyEvidence ? ` (evidence: the nat counters of node ${node}, before and after)` : '';
}

function trafficList(t: CounterWindow['traffic']): Array<EvidenceOr<RequestOutcome[]>> {
  // A bare array is either one batch of outcomes or a list of batches.
  if (Array.isArray(t)) {
    const first = t[0] as unknown;
    const isOutcome = typeof first === 'object' && first !== null && 'ok' in first && !('data' in first);
    if (t.length === 0 || isOutcome) return [t as unknown as RequestOutcome[]];
    return t as unknown as Array<EvidenceOr<RequestOutcome[]>>;
  }
  return [t as EvidenceOr<RequestOutcome[]>];
}

function trafficSummary(t: CounterWindow['traffic']): { ok: number; total: number; text: string } {
  let ok = 0;
  let total = 0;
  for (const batch of trafficList(t)) {
    const list = dataOf(batch);
    total += list.length;
    ok += list.filter((o) => o.ok).length;
  }
  return { ok, total, text: `${ok}/${plural(total, 'request')} of the window succeeded` };
}

/**
 * Why a node has no rules of the service when kube-proxy itself is absent there: its nat table
 * has no KUBE-SERVICES chain at all (kind's kubeProxyMode: none, kube-proxy replacement), so
 * there are no kube-proxy counters to read. Undefined when the chain exists.
 */
function noKubeProxy(node: string, after: IptablesDump): string | undefined {
  if (after.chains.some((c) => c.name === SERVICES_CHAIN)) return undefined;
  return `node ${node} has no ${SERVICES_CHAIN} chain in its nat table: kube-proxy does not run there (as with kubeProxyReplacement=true and kind's kubeProxyMode: none), so there are no kube-proxy counters to read`;
}

interface NodeDeltas {
  node: string;
  rows: CounterRow[];
  cite: string;
  /** Set when kube-proxy is absent from the node (noKubeProxy). */
  absent?: string;
}

/**
 * The deltas of the watched rules on each node. Throws InconclusiveError when a snapshot is
 * missing or unusable, or when the service's rules changed between the snapshots. With
 * `requirePresent`, a node whose after-table lacks a required kind of rule is inconclusive too;
 * without it, absent rules simply give no rows (the caller decides).
 */
function deltas(w: CounterWindow, which: WhichCounters, requirePresent: boolean): NodeDeltas[] {
  if (w.nodes.length === 0) inconclusive('No node was given to judge the counters on.');
  const sel = {
    namespace: w.service.namespace,
    service: w.service.name,
    ...(w.service.portName ? { portName: w.service.portName } : {}),
  };
  const svc = serviceText(w.service);
  const out: NodeDeltas[] = [];
  for (const node of w.nodes) {
    const b = w.before.get(node);
    const a = w.after.get(node);
    const cite = citeSnapshots(node, b, a);
    if (!b || !a) {
      inconclusive(
        `No ${!b ? 'before' : 'after'} counter snapshot of node ${node} in this window${cite}, so the counters of ${svc} there cannot be judged.`,
        'Counter steps need the traffic step to snapshot every judged node before and after.',
      );
    }
    const before = dataOf(b);
    const after = dataOf(a);
    const rulesBefore = serviceRules(before, sel);
    const rulesAfter = serviceRules(after, sel);
    const rows: CounterRow[] = [];
    for (const kind of kinds(which)) {
      const rb = rulesOf(rulesBefore, kind);
      const ra = rulesOf(rulesAfter, kind);
      const required = which === 'any' ? kind !== 'nodeport' : true;
      if (ra.length === 0) {
        if (requirePresent && required) {
          const total = after.chains.reduce((n, c) => n + c.rules.length, 0);
          const absent = noKubeProxy(node, after);
          if (absent)
            inconclusive(
              `The ${KIND_NAME[kind]} counters of service ${svc} cannot stay flat or move: ${absent} (${plural(total, 'rule')} read)${cite}. A counter step passes only where the counters exist.`,
              'Under kube-proxy replacement, state what the eBPF datapath shows instead (captures, cilium monitor, cilium status).',
            );
          inconclusive(
            `The nat table of node ${node} holds no ${KIND_NAME[kind]} rule of service ${svc} (${plural(total, 'rule')} read)${cite}, so their counters cannot show anything: the instrument cannot see this service there.`,
            'Check the service name and port name, and that kube-proxy runs on that node in iptables mode.',
          );
        }
        continue;
      }
      const beforeKeys = new Set(rb.map(ruleKey));
      const appeared = ra.filter((r) => !beforeKeys.has(ruleKey(r)));
      if (appeared.length) {
        inconclusive(
          `The ${KIND_NAME[kind]} rules of ${svc} on node ${node} changed during the window (${listSome(appeared.map((r) => ruleLabel(r, kind)))} not in the before snapshot)${cite}: kube-proxy rewrote them, so their counters cannot be compared.`,
          'Rerun once the service has settled.',
        );
      }
      let moved: CounterDelta[];
      try {
        moved = counterDelta(rb, after);
      } catch (err) {
        inconclusive(`The counters of ${svc} on node ${node} are unreadable: ${(err as Error).message}${cite}`);
      }
      for (const d of moved) {
        if (d.gone || d.delta < 0) {
          inconclusive(
            `${ruleLabel(d.rule, kind)} on node ${node} was ${d.gone ? 'removed' : `reset (from ${d.before} to ${d.after} packets)`} during the window${cite}: kube-proxy rewrote the rule, so its counter cannot be compared.`,
            'Rerun once the service has settled.',
          );
        }
        rows.push({ node, kind, label: ruleLabel(d.rule, kind), before: d.before, after: d.after, delta: d.delta });
      }
    }
    out.push({ node, rows, cite, absent: noKubeProxy(node, after) });
  }
  return out;
}

/** The key figure of a counter verdict: "KUBE-SEP DNAT 0→0 on 2 nodes" (packets before→after, summed per rule kind). */
export function counterFigure(rows: readonly CounterRow[]): string {
  const kinds = [...new Set(rows.map((r) => r.kind))];
  if (kinds.length === 0) return 'no watched rules';
  return kinds
    .map((k) => {
      const mine = rows.filter((r) => r.kind === k);
      const nodes = new Set(mine.map((r) => r.node)).size;
      const before = mine.reduce((n, r) => n + r.before, 0);
      const after = mine.reduce((n, r) => n + r.after, 0);
      return `${KIND_NAME[k]} ${before}→${after} on ${plural(nodes, 'node')}`;
    })
    .join('; ');
}

export function renderCounterTable(rows: readonly CounterRow[]): string {
  if (rows.length === 0) return '(no watched rules)\n';
  const lines = rows.map(
    (r) => `${r.node}\t${r.label}\t${r.before} → ${r.after}\t${r.delta > 0 ? `+${r.delta}` : String(r.delta)}`,
  );
  return `node\trule\tpackets before → after\tdelta\n${lines.join('\n')}\n`;
}

function moved(r: CounterRow): string {
  return `${r.label} rose from ${r.before} to ${plural(r.after, 'packet')} on node ${r.node}`;
}

/**
 * The service's watched counters (`which`, default 'any' = KUBE-SVC jumps, KUBE-SEP DNAT and
 * NodePort jumps) did not move on any of `nodes` while the window's traffic succeeded.
 */
export function expectCountersFlat(w: CounterWindow & { which?: WhichCounters }): CounterVerdict {
  const which = w.which ?? 'any';
  const traffic = trafficSummary(w.traffic);
  const svc = serviceText(w.service);
  if (traffic.ok === 0) {
    inconclusive(
      `No request of the window succeeded (${traffic.text}), so flat counters of ${svc} would prove nothing.`,
      'A "stays flat" verdict needs traffic that really reached the service in the same window.',
    );
  }
  const perNode = deltas(w, which, true);
  const rows = perNode.flatMap((n) => n.rows);
  const risen = perNode.flatMap((n) => n.rows.filter((r) => r.delta > 0).map((r) => ({ r, cite: n.cite })));
  if (risen.length) {
    const text = risen.map(({ r, cite }) => `${moved(r)}${cite}`).join('; ');
    fail(
      `Expected the ${which === 'any' ? 'KUBE-SVC/KUBE-SEP/NodePort' : KIND_NAME[which]} counters of service ${svc} to stay flat on ${plural(w.nodes.length, 'node')} while ${traffic.text}, but ${text}.`,
      { expected: 0, actual: risen.reduce((n, x) => n + x.r.delta, 0) },
    );
  }
  return { rows, text: renderCounterTable(rows) };
}

/**
 * The service's watched counters rose by at least `atLeast` packets (first packets =
 * connections) on each of `nodes` (`scope: 'sum'`: over all nodes together). For 'any', the
 * rise of a node is the largest of its KUBE-SVC, KUBE-SEP and NodePort rises (one connection
 * moves all three, so they are not added up). Missing rules are a failure: nothing can rise.
 */
export function expectCountersRise(
  w: CounterWindow & { atLeast: number; which: WhichCounters; scope?: 'each' | 'sum' },
): CounterVerdict {
  const svc = serviceText(w.service);
  const perNode = deltas(w, w.which, false);
  const rows = perNode.flatMap((n) => n.rows);
  const riseOf = (nodeRows: CounterRow[]): number => {
    const byKind = kinds(w.which).map((k) =>
      nodeRows.filter((r) => r.kind === k).reduce((n, r) => n + Math.max(0, r.delta), 0),
    );
    return Math.max(0, ...byKind);
  };
  const what = w.which === 'any' ? 'KUBE-SVC/KUBE-SEP/NodePort' : KIND_NAME[w.which];
  const traffic = trafficSummary(w.traffic);
  const describe = (n: NodeDeltas): string => {
    if (n.rows.length === 0) return `${n.absent ?? `node ${n.node} has no ${what} rule of ${svc}`}${n.cite}`;
    const parts = n.rows.map((r) => `${r.label} ${r.before} → ${r.after}`);
    return `on node ${n.node} they rose by ${riseOf(n.rows)} (${listSome(parts, 6)})${n.cite}`;
  };
  if (w.scope === 'sum') {
    const total = perNode.reduce((s, n) => s + riseOf(n.rows), 0);
    if (total < w.atLeast) {
      fail(
        `Expected the ${what} counters of service ${svc} to rise by at least ${plural(w.atLeast, 'packet')} over ${plural(w.nodes.length, 'node')} (${traffic.text}), but they rose by ${total}: ${perNode.map(describe).join('; ')}.`,
        { expected: `≥ ${w.atLeast}`, actual: total },
      );
    }
  } else {
    const short = perNode.filter((n) => riseOf(n.rows) < w.atLeast);
    if (short.length) {
      fail(
        `Expected the ${what} counters of service ${svc} to rise by at least ${plural(w.atLeast, 'packet')} on ${short.length === 1 ? `node ${short[0]!.node}` : `each of ${plural(w.nodes.length, 'node')}`} (${traffic.text}), but ${short.map(describe).join('; ')}.`,
        { expected: `≥ ${w.atLeast}`, actual: short.map((n) => riseOf(n.rows)) },
      );
    }
  }
  return { rows, text: renderCounterTable(rows) };
}
