/**
 * Helm key checking: before provisioning, every value key is checked against the chart
 * version's own values (`helm show values`, cached per version), and a typo gets the closest
 * known key. The chart's values.yaml documents keys that default to unset as comments
 * (`#kubeProxyReplacement: "false"`), so commented keys count as known.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { editDistance } from '../../closest.ts';
import { UsageError } from '../../errors.ts';
import type { Executor } from '../k8s/executor.ts';
import { keyPath } from '../k8s/helm-value-maps.ts';
import { TIMEOUTS } from '../k8s/kubectl-commands.ts';
import { type ChartSource, chartRef, helmShowValuesArgv } from './plan.ts';

export interface ChartKeyIndex {
  /** Known dotted paths (segments joined by "."). */
  known: Set<string>;
  /** Paths whose children are free-form (maps written `{}`, lists, commented-out keys). */
  freeform: Set<string>;
}

const KEY_LINE = /^("[^"]+"|'[^']+'|[^\s#'"-][^:]*?):(?:\s+(.*))?$/;
const COMMENTED_KEY = /^#\s?([A-Za-z_][A-Za-z0-9_]*):(?:\s+(.*))?$/;

function stripComment(value: string): string {
  return value.replace(/\s+#.*$/, '').trim();
}

/**
 * Index the keys of a values.yaml text by indentation. Tolerant of excerpts: a more indented
 * line under a scalar (context cut away) is skipped until the indentation comes back.
 */
export function indexChartValues(text: string): ChartKeyIndex {
  const known = new Set<string>();
  const freeform = new Set<string>();
  const stack: Array<{ indent: number; path: string; scalar: boolean; children: boolean }> = [];
  /** Skip lines indented deeper than this (block scalars, list items, orphaned context). */
  let skipDeeper: number | null = null;
  let skipListAt: number | null = null;
  const closeEmpty = (e: { path: string; scalar: boolean; children: boolean }) => {
    if (!e.scalar && !e.children) freeform.add(e.path);
  };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\t/g, '  ').replace(/\s+$/, '');
    if (!line.trim()) continue;
    const indent = line.length - line.trimStart().length;
    const t = line.trim();
    if (skipDeeper !== null) {
      if (indent > skipDeeper) continue;
      if (skipListAt !== null && indent === skipListAt && t.startsWith('-')) continue;
      skipDeeper = null;
      skipListAt = null;
    }
    if (t.startsWith('#')) {
      // Comments never change the context (they may sit at any column).
      const m = COMMENTED_KEY.exec(t);
      if (!m || m[1] === 'ref' || /^https?:/.test(m[2] ?? '')) continue;
      const parent = stack.findLast((e) => e.indent < indent);
      if (parent?.scalar) continue;
      const p = parent ? `${parent.path}.${m[1]}` : m[1]!;
      known.add(p);
      freeform.add(p);
      continue;
    }
    while (stack.length && stack[stack.length - 1]!.indent >= indent && !(t.startsWith('- ') || t === '-')) {
      closeEmpty(stack.pop()!);
    }
    const parent = stack[stack.length - 1];
    if (t.startsWith('- ') || t === '-') {
      // A block list: its items are opaque; the key owning it takes any child.
      const owner = stack[stack.length - 1];
      if (owner) {
        freeform.add(owner.path);
        owner.children = true;
        skipDeeper = owner.indent;
        skipListAt = owner.indent;
      } else {
        skipDeeper = indent;
      }
      continue;
    }
    if (parent?.scalar && indent > parent.indent) {
      skipDeeper = parent.indent;
      continue;
    }
    const m = KEY_LINE.exec(t);
    if (!m) continue;
    const key = m[1]!.replace(/^["']|["']$/g, '');
    const value = stripComment(m[2] ?? '');
    const p = parent ? `${parent.path}.${key}` : key;
    if (parent) parent.children = true;
    known.add(p);
    if (/^[|>]/.test(value)) {
      stack.push({ indent, path: p, scalar: true, children: false });
      skipDeeper = indent;
      continue;
    }
    if (value.startsWith('{') || value.startsWith('[')) freeform.add(p);
    stack.push({ indent, path: p, scalar: value !== '', children: false });
  }
  while (stack.length) closeEmpty(stack.pop()!);
  return { known, freeform };
}

export function isKnownKey(index: ChartKeyIndex, key: string): boolean {
  const segs = keyPath(key);
  for (let i = 1; i <= segs.length; i++) {
    const p = segs.slice(0, i).join('.');
    if (i === segs.length) return index.known.has(p);
    if (index.freeform.has(p)) return true;
    if (!index.known.has(p)) return false;
  }
  return false;
}

/** The known key closest to a mistyped one, if any is close enough to be a plausible typo. */
export function closestKey(index: ChartKeyIndex, key: string): string | undefined {
  const wanted = keyPath(key).join('.');
  const lower = wanted.toLowerCase();
  const leaf = lower.split('.').pop()!;
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const k of index.known) {
    const kl = k.toLowerCase();
    let d = editDistance(lower, kl);
    // The right leaf under another parent ("masquerade" → "bpf.masquerade") is a strong hint.
    if (kl.split('.').pop() === leaf) d = Math.min(d, 1);
    if (d < bestD || (d === bestD && best !== undefined && k.length < best.length)) {
      bestD = d;
      best = k;
    }
  }
  const limit = Math.max(2, Math.floor(wanted.length / 4));
  return bestD <= limit ? best : undefined;
}

/** Throw one UsageError naming every unknown key, with a suggestion each, and the chart version. */
export function checkValueKeys(index: ChartKeyIndex, keys: Iterable<string>, chartLabel: string): void {
  const bad: string[] = [];
  for (const key of keys) {
    if (isKnownKey(index, key)) continue;
    const near = closestKey(index, key);
    bad.push(near ? `"${key}" (did you mean "${near}"?)` : `"${key}"`);
  }
  if (bad.length === 0) return;
  throw new UsageError(
    `Unknown Cilium Helm value ${bad.length === 1 ? 'key' : 'keys'} for ${chartLabel}: ${bad.join(', ')}.`,
    `Keys are checked against \`helm show values\` of that chart version; fix the feature's table or values file, or pick the Cilium version that has ${bad.length === 1 ? 'this key' : 'these keys'}.`,
  );
}

/** `helm show values` per chart version, cached in memory and (repo charts) on disk. */
export class ChartValuesCache {
  private readonly mem = new Map<string, ChartKeyIndex>();
  private readonly exec: Executor;
  private readonly dir: string | undefined;
  constructor(exec: Executor, dir?: string) {
    this.exec = exec;
    this.dir = dir;
  }

  async index(chart: ChartSource, version: string): Promise<ChartKeyIndex> {
    const id = `${chartRef(chart)}@${version}`;
    const hit = this.mem.get(id);
    if (hit) return hit;
    const file =
      this.dir && chart.kind === 'repo'
        ? path.join(this.dir, `cilium-${version.replace(/[^\w.-]/g, '_')}.values.yaml`)
        : undefined;
    let text: string | undefined;
    if (file) {
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        text = undefined;
      }
    }
    if (text === undefined) {
      const res = await this.exec.run(helmShowValuesArgv(chart, version), {
        timeoutMs: TIMEOUTS.helmShowValues,
        where: 'host',
        quietStdout: true,
      });
      text = res.stdout;
      if (file) {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, text);
      }
    }
    const idx = indexChartValues(text);
    this.mem.set(id, idx);
    return idx;
  }
}
