/**
 * Expectations over the Cilium agent status. Pure: no I/O.
 */
import type { CiliumStatus } from '../parsers/status.ts';
import { citeAll, dataOf, type EvidenceOr, fail, inconclusive, isEvidence } from './evidence-ref.ts';

/**
 * The value of a status field: a dotted path into CiliumStatus (`routing.network`,
 * `routing.host`, `kubeProxyReplacement`, `hostRouting`, `masquerading` (its mode), `ipam`,
 * `ciliumVersion` …), or a label of the raw output (`KubeProxyReplacement`, `Routing`).
 */
export function statusValue(status: CiliumStatus, field: string): string | null {
  let v: unknown = status;
  for (const part of field.split('.')) {
    if (v === null || typeof v !== 'object' || !(part in (v as object))) {
      v = undefined;
      break;
    }
    v = (v as Record<string, unknown>)[part];
  }
  if (v === undefined) v = status.fields[field];
  if (v && typeof v === 'object' && 'mode' in v) v = (v as { mode: unknown }).mode;
  if (v === undefined || v === null) return null;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v).trim();
}

/**
 * A status field has the expected value (case-insensitive; `Native` also matches a longer
 * value that starts with the word, like `Native   (direct routing)`). A field the output does
 * not carry is inconclusive: that version or install does not report it.
 */
/** The status fields as QA name them in steps → the parsed status's field paths. */
export const STATUS_FIELD_OF_WORDS: Record<string, string> = {
  routing: 'routing.network',
  'host routing': 'routing.host',
  'tunnel protocol': 'routing.tunnelProtocol',
  'kube-proxy replacement': 'kubeProxyReplacement',
  IPAM: 'ipam',
  masquerading: 'masquerading',
};

export function expectStatusField(status: EvidenceOr<CiliumStatus>, field: string, value: string): void {
  const s = dataOf(status);
  const ev = citeAll(status);
  const where = isEvidence(status) ? ` on ${status.where}` : '';
  if (s.format !== 'agent') {
    inconclusive(`The status${where} is not an agent status (${s.format})${ev}, so ${field} cannot be read.`);
  }
  const actual = statusValue(s, field);
  if (actual === null) {
    inconclusive(
      `The agent status${where} does not report ${field}${ev}; this Cilium version or install may not print it.`,
    );
  }
  const want = value.trim().toLowerCase();
  const got = actual.toLowerCase();
  const matches = got === want || (got.startsWith(want) && /^[^a-z0-9]/.test(got.slice(want.length)));
  if (!matches) {
    fail(`Expected the agent status${where} to report ${field} "${value}", but it reports "${actual}"${ev}.`, {
      expected: value,
      actual,
    });
  }
}
