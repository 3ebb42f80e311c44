/**
 * The packet path of one scenario as an SVG picture (pure): the hook points in order, with what
 * the evidence showed at each (destination address, counter delta, translation, redirect). The
 * verdict decides the colour, the marker and the connector to the next hook point, so a lab
 * variant that changes the evidence visibly changes the picture. Red is kept for one thing: a hook
 * point where the scenario's expectation was contradicted. A hop the packet did not cross is
 * neutral (bypassed, or absent as the scenario expected). All text is escaped (feature text
 * reaches it).
 */

/** The usual hook points of a pod → service → pod packet, in order. */
export const HOOK_POINTS = [
  'pod eth0',
  'host veth / tc',
  'iptables nat',
  'routing',
  'node eth0',
  'other node',
  'backend veth',
] as const;

export type HopVerdict = 'seen' | 'translated' | 'not-seen' | 'redirected' | 'no-evidence';

export interface Hop {
  /** Hook point: one of HOOK_POINTS or any other name ("tc ingress cil_from_container"). */
  point: string;
  /** Where it was observed: "pod client", "node cilium-worker". */
  where: string;
  /** What was seen: "dst 10.96.12.7:80", "KUBE-SEP-7IQZ3XW +3 packets", "DNAT → 10.244.2.9:8080". */
  observed: string[];
  verdict: HopVerdict;
  /** What the scenario's Then steps said about this hook point: their expectation held, or was contradicted. */
  expectation?: 'held' | 'contradicted';
}

export interface PacketPath {
  title: string;
  /** Optional subtitle, e.g. "cilium 1.17.0 · kind · kube-proxy replacement false". */
  subtitle?: string;
  hops: Hop[];
}

interface Style {
  fill: string;
  stroke: string;
  text: string;
  glyph: string;
  label: string;
  dash?: string;
}

export const VERDICT_STYLE: Record<HopVerdict, Style> = {
  seen: { fill: '#e8f5e9', stroke: '#2e7d32', text: '#1b5e20', glyph: '✓', label: 'seen' },
  translated: { fill: '#e3f2fd', stroke: '#1565c0', text: '#0d47a1', glyph: '⇄', label: 'translated' },
  'not-seen': { fill: '#fafafa', stroke: '#757575', text: '#424242', glyph: '–', label: 'not seen' },
  redirected: { fill: '#f3e5f5', stroke: '#6a1b9a', text: '#4a148c', glyph: '↷', label: 'redirected' },
  'no-evidence': { fill: '#f5f5f5', stroke: '#9e9e9e', text: '#616161', glyph: '?', label: 'no evidence', dash: '5 4' },
};

/** A contradicted expectation, whatever the hop's verdict: the only red in the picture. */
export const CONTRADICTED_STYLE: Style = {
  fill: '#ffebee',
  stroke: '#c62828',
  text: '#b71c1c',
  glyph: '✗',
  label: 'contradicts the scenario',
};

/** Escape text for SVG/XML content and attributes; characters XML cannot carry are dropped. */
export function escapeXml(s: string): string {
  return String(s)
    .replace(/[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function clip(s: string, max: number): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

const WIDTH = 820;
const LEFT = 24;
const MARK_X = 72;
const BOX_X = 112;
const BOX_W = WIDTH - BOX_X - 24;
const LINE = 17;
const GAP = 26;
const MAX_LINES = 6;
const MAX_CHARS = 92;

/** Draw the packet path as a standalone SVG document (pure). */
export function packetPathSvg(p: PacketPath): string {
  const parts: string[] = [];
  let y = 24;
  const head: string[] = [];
  head.push(
    `<text x="${LEFT}" y="${y + 8}" font-size="17" font-weight="bold" fill="#212121">${escapeXml(clip(p.title, 80))}</text>`,
  );
  y += 14;
  if (p.subtitle) {
    y += 16;
    head.push(`<text x="${LEFT}" y="${y}" font-size="12" fill="#616161">${escapeXml(clip(p.subtitle, 110))}</text>`);
  }
  y += 22;
  // Legend.
  let lx = LEFT;
  for (const v of Object.keys(VERDICT_STYLE) as HopVerdict[]) {
    const s = VERDICT_STYLE[v];
    head.push(
      `<rect x="${lx}" y="${y - 10}" width="12" height="12" rx="2" fill="${s.fill}" stroke="${s.stroke}"${s.dash ? ` stroke-dasharray="3 2"` : ''}/>`,
      `<text x="${lx + 16}" y="${y}" font-size="11" fill="#424242">${escapeXml(s.label)}</text>`,
    );
    lx += 22 + s.label.length * 6.5 + 14;
  }
  head.push(
    `<rect x="${lx}" y="${y - 10}" width="12" height="12" rx="2" fill="${CONTRADICTED_STYLE.fill}" stroke="${CONTRADICTED_STYLE.stroke}"/>`,
    `<text x="${lx + 16}" y="${y}" font-size="11" fill="#424242">${escapeXml(CONTRADICTED_STYLE.label)}</text>`,
  );
  y += 18;
  parts.push(...head);

  if (p.hops.length === 0) {
    parts.push(
      `<text x="${LEFT}" y="${y + 20}" font-size="13" fill="#616161">No hook point was observed in this scenario.</text>`,
    );
    y += 40;
  }

  const tops: number[] = [];
  const heights: number[] = [];
  for (const hop of p.hops) {
    const lines = hop.observed.slice(0, MAX_LINES).map((l) => clip(l, MAX_CHARS));
    if (hop.observed.length > MAX_LINES) lines.push(`… ${hop.observed.length - MAX_LINES} more`);
    const h = 44 + Math.max(lines.length, 1) * LINE;
    tops.push(y);
    heights.push(h);
    y += h + GAP;
  }

  // Redirects: the packet jumps from a redirecting hook point to the next one where it was
  // seen again; the hook points in between are bypassed, not failures of the path.
  const bypassed = new Set<number>();
  const redirectTo = new Map<number, number>();
  p.hops.forEach((hop, i) => {
    if (hop.verdict !== 'redirected' || i + 1 >= p.hops.length) return;
    let j = i + 1;
    while (j < p.hops.length - 1 && (p.hops[j]!.verdict === 'no-evidence' || p.hops[j]!.verdict === 'not-seen')) j++;
    redirectTo.set(i, j);
    for (let k = i + 1; k < j; k++) bypassed.add(k);
  });

  // Connectors first, so boxes draw over them.
  let stopped = false;
  for (let i = 0; i + 1 < p.hops.length; i++) {
    const hop = p.hops[i]!;
    const from = tops[i]! + 36;
    const to = tops[i + 1]!;
    if (hop.expectation === 'contradicted') stopped = true;
    const target = redirectTo.get(i);
    if (target !== undefined) {
      const s = VERDICT_STYLE.redirected;
      const y1 = tops[i]! + 20;
      const y2 = tops[target]! + 20;
      const bend = LEFT - 4;
      const mid = (y1 + y2) / 2;
      parts.push(
        `<path class="connector redirect" d="M ${MARK_X - 16} ${y1} C ${bend} ${y1}, ${bend} ${y2}, ${MARK_X - 17} ${y2}" fill="none" stroke="${s.stroke}" stroke-width="2.5" marker-end="url(#arrow-redirect)"/>`,
        `<text x="${LEFT - 8}" y="${mid}" font-size="11" text-anchor="middle" fill="${s.text}" transform="rotate(-90 ${LEFT - 8} ${mid})">redirect</text>`,
      );
    }
    const skipped = bypassed.has(i + 1) || bypassed.has(i);
    const cls = stopped ? 'connector stopped' : skipped ? 'connector bypassed' : 'connector';
    const color = stopped
      ? CONTRADICTED_STYLE.stroke
      : skipped || hop.verdict === 'no-evidence'
        ? '#9e9e9e'
        : '#424242';
    const dash = stopped || skipped || hop.verdict === 'no-evidence' ? ' stroke-dasharray="6 5"' : '';
    const marker = stopped ? 'arrow-stopped' : skipped ? 'arrow-bypassed' : 'arrow';
    parts.push(
      `<line class="${cls}" x1="${MARK_X}" y1="${from}" x2="${MARK_X}" y2="${to + 4}" stroke="${color}" stroke-width="2"${dash} marker-end="url(#${marker})"/>`,
    );
  }

  p.hops.forEach((hop, i) => {
    const own = VERDICT_STYLE[hop.verdict] ?? VERDICT_STYLE['no-evidence'];
    const contradicted = hop.expectation === 'contradicted';
    const s = contradicted ? { ...CONTRADICTED_STYLE, label: `${own.label} — ${CONTRADICTED_STYLE.label}` } : own;
    const top = tops[i]!;
    const h = heights[i]!;
    const dash = s.dash ? ` stroke-dasharray="${s.dash}"` : '';
    const by = bypassed.has(i) ? ' bypassed' : '';
    const expected = hop.expectation === 'held' && hop.verdict === 'not-seen' ? ' (as expected)' : '';
    const cls = contradicted ? ' contradicted' : hop.expectation === 'held' ? ' expected' : '';
    parts.push(
      `<g class="hop verdict-${hop.verdict}${by}${cls}" data-verdict="${hop.verdict}"${hop.expectation ? ` data-expectation="${hop.expectation}"` : ''}>`,
    );
    parts.push(
      `<circle cx="${MARK_X}" cy="${top + 20}" r="15" fill="${s.fill}" stroke="${s.stroke}" stroke-width="2"${dash}/>`,
      `<text x="${MARK_X}" y="${top + 25}" font-size="15" text-anchor="middle" fill="${s.text}">${escapeXml(s.glyph)}</text>`,
      `<rect x="${BOX_X}" y="${top}" width="${BOX_W}" height="${h}" rx="6" fill="${s.fill}" stroke="${s.stroke}" stroke-width="1.5"${dash}/>`,
      `<text x="${BOX_X + 12}" y="${top + 20}" font-size="14" font-weight="bold" fill="${s.text}">${i + 1}. ${escapeXml(clip(hop.point, 40))}</text>`,
      `<text x="${BOX_X + BOX_W - 12}" y="${top + 20}" font-size="12" text-anchor="end" fill="${s.text}">${escapeXml(s.label)}${by ? ' (bypassed)' : expected} · ${escapeXml(clip(hop.where, 48))}</text>`,
    );
    const lines = hop.observed.slice(0, MAX_LINES).map((l) => clip(l, MAX_CHARS));
    if (hop.observed.length > MAX_LINES) lines.push(`… ${hop.observed.length - MAX_LINES} more`);
    if (lines.length === 0) lines.push(hop.verdict === 'no-evidence' ? '(no probe here)' : '(nothing recorded)');
    lines.forEach((l, k) => {
      parts.push(
        `<text x="${BOX_X + 12}" y="${top + 40 + k * LINE}" font-size="12" font-family="monospace" fill="#212121">${escapeXml(l)}</text>`,
      );
    });
    parts.push('</g>');
  });

  const height = y + 4;
  const desc = p.hops
    .map(
      (h, i) =>
        `${i + 1}. ${h.point} (${h.where}): ${VERDICT_STYLE[h.verdict]?.label}${h.expectation === 'contradicted' ? ` — ${CONTRADICTED_STYLE.label}` : ''}`,
    )
    .join('; ');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" font-family="sans-serif">`,
    `<title>${escapeXml(p.title)}</title>`,
    `<desc>${escapeXml(desc)}</desc>`,
    '<defs>',
    '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#424242"/></marker>',
    '<marker id="arrow-stopped" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#c62828"/></marker>',
    '<marker id="arrow-bypassed" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#9e9e9e"/></marker>',
    '<marker id="arrow-redirect" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#6a1b9a"/></marker>',
    '</defs>',
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
