/**
 * The reachability matrix: who reached whom on one port, against what the feature's table
 * expects. A failure shows both matrices side by side and, for each wrong cell only, its
 * evidence: the policy drop that stopped a connection that should pass (where it happened), or,
 * for one that should have been dropped, the request that was answered and the monitor trace
 * that saw it delivered. Pure.
 */
import type { MonitorEvent } from '../parsers/monitor.ts';
import type { RequestOutcome } from '../probes/traffic.ts';
import { fail, inconclusive } from './evidence-ref.ts';

export interface ReachCell {
  source: string;
  destination: string;
  expected: boolean;
  /** The addresses a packet of this cell carries (source pod, destination after service translation). */
  from: string;
  /** Addresses the destination may be reached at: the pod, or the service's ClusterIP and backends. */
  to: string[];
  /** The requests this cell sent (one fresh connection each). */
  outcomes: RequestOutcome[];
}

export interface NodeEvents {
  node: string;
  attachment: string;
  events: MonitorEvent[];
}

export const MARK = { yes: '✓', no: '✗' } as const;

export function reached(cell: ReachCell): boolean | null {
  if (cell.outcomes.length === 0) return null;
  return cell.outcomes.some((o) => o.ok);
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...(r[i] ?? '')].length)));
  return rows.map((r) => `| ${r.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join(' | ')} |`);
}

/** Expected and observed matrices side by side (wrong cells marked with `!`). */
export function renderMatrices(cells: readonly ReachCell[]): string {
  const sources = [...new Set(cells.map((c) => c.source))];
  const dests = [...new Set(cells.map((c) => c.destination))];
  const at = (s: string, d: string) => cells.find((c) => c.source === s && c.destination === d);
  const expected = [['', ...dests]];
  const observed = [['', ...dests]];
  for (const s of sources) {
    expected.push([s, ...dests.map((d) => (at(s, d) ? (at(s, d)!.expected ? MARK.yes : MARK.no) : ''))]);
    observed.push([
      s,
      ...dests.map((d) => {
        const c = at(s, d);
        if (!c) return '';
        const r = reached(c);
        const mark = r === null ? '?' : r ? MARK.yes : MARK.no;
        return r !== null && r !== c.expected ? `${mark}!` : mark;
      }),
    ]);
  }
  const left = table(expected);
  const right = table(observed);
  const width = Math.max(...left.map((l) => [...l].length));
  const head = `${'expected'.padEnd(width)}   observed`;
  return [head, ...left.map((l, i) => `${l}${' '.repeat(width - [...l].length)}   ${right[i]}`)].join('\n');
}

/** `10.0.0.1:41000 -> 10.0.1.2:80`; an ICMP trace has no ports: `10.0.0.1 -> 10.0.1.2`. */
function tupleOf(e: MonitorEvent): string {
  const at = (p: { ip: string; port: number | null }) => (p.port === null ? p.ip : `${p.ip}:${p.port}`);
  return e.src && e.dst ? `${at(e.src)} -> ${at(e.dst)}` : '';
}

/** The monitor events of one connection of a cell: its packets from the source to the destination. */
function eventsOf(cell: ReachCell, monitors: readonly NodeEvents[], type: MonitorEvent['type']) {
  const ports = new Set(cell.outcomes.map((o) => o.localPort).filter((p): p is number => p !== null));
  return monitors.flatMap((m) =>
    m.events
      .filter(
        (e) =>
          e.type === type &&
          e.src?.ip === cell.from &&
          e.dst !== null &&
          cell.to.includes(e.dst.ip) &&
          (ports.size === 0 || e.src.port === null || ports.has(e.src.port)),
      )
      .map((e) => ({ node: m.node, attachment: m.attachment, event: e })),
  );
}

/** The evidence of one wrong cell, one paragraph. */
export function cellEvidence(cell: ReachCell, monitors: readonly NodeEvents[]): string {
  const head = `${cell.source} → ${cell.destination}: expected ${cell.expected ? MARK.yes : MARK.no}, observed ${cell.expected ? MARK.no : MARK.yes}`;
  if (cell.expected) {
    const drops = eventsOf(cell, monitors, 'drop');
    const failed = cell.outcomes.map((o) => `request ${o.seq} ${o.error ?? 'failed'} (${o.detail})`).join('; ');
    if (drops.length === 0)
      return `${head}. ${failed}; no drop event from ${cell.from} to ${cell.to.join(' or ')} on any node's monitor (${monitors.map((m) => m.attachment).join(', ')}).`;
    const d = drops[0]!;
    return `${head}. Dropped on node ${d.node}: "${d.event.raw}" (${d.event.message ?? 'drop'}, to endpoint ${d.event.endpoint ?? 0}, ifindex ${d.event.ifindex ?? '?'}, file ${d.event.file ?? '?'}; ${d.attachment})${drops.length > 1 ? ` and ${drops.length - 1} more drop(s)` : ''}. ${failed}.`;
  }
  const ok = cell.outcomes.find((o) => o.ok)!;
  const delivered = eventsOf(cell, monitors, 'trace').filter((e) => e.event.observationPoint === 'to-endpoint');
  const answer = `request ${ok.seq} from port ${ok.localPort ?? '?'} was answered by ${ok.answeredBy ?? 'an unnamed server'} (client seen ${ok.clientSeen ?? '?'})`;
  if (delivered.length === 0)
    return `${head}. The packet that should have been dropped was delivered: ${answer}; no monitor trace of its delivery was found.`;
  const t = delivered[0]!;
  return `${head}. The packet that should have been dropped was delivered: ${answer}; node ${t.node}'s monitor saw it delivered: "${t.event.raw}" (${tupleOf(t.event)}; ${t.attachment}).`;
}

/** Every cell as the table expects it; else both matrices and the evidence of each wrong cell. */
export function expectReachability(cells: readonly ReachCell[], monitors: readonly NodeEvents[], port: string): void {
  const unprobed = cells.filter((c) => reached(c) === null);
  if (unprobed.length)
    inconclusive(
      `Inconclusive: ${unprobed.map((c) => `${c.source} → ${c.destination}`).join(', ')} sent no request, so the reachability on ${port} is unknown.`,
    );
  const wrong = cells.filter((c) => reached(c) !== c.expected);
  if (wrong.length === 0) return;
  fail(
    `The reachability on ${port} differs from the table in ${wrong.length} of ${cells.length} cells:\n${renderMatrices(cells)}\n${wrong.map((c) => `- ${cellEvidence(c, monitors)}`).join('\n')}`,
    {
      expected: renderMatrices(
        cells.map((c) => ({ ...c, outcomes: c.outcomes.map((o) => ({ ...o, ok: c.expected })) })),
      ),
      actual: renderMatrices(cells),
    },
  );
}
