/**
 * How an expectation names the evidence it judged. Expectations are pure: they receive evidence
 * (or bare parsed data) and never do I/O. When the World has attached the evidence before the
 * assertion, it sets `attachment` to the attachment's file name (`03-iptables-worker.txt`), and
 * failure messages cite that name; otherwise they cite the probe kind and place.
 */
import { AssertionError } from 'chai';
import { InconclusiveError } from '../errors.ts';
import type { Evidence } from '../evidence/index.ts';

/** Evidence, optionally with the name it was attached under. */
export type CitedEvidence<T> = Evidence<T> & { attachment?: string };

/** Either a piece of evidence or its bare data (unit tests, ad-hoc checks). */
export type EvidenceOr<T> = CitedEvidence<T> | T;

export function isEvidence<T>(value: EvidenceOr<T>): value is CitedEvidence<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    'data' in value &&
    'kind' in value &&
    'where' in value &&
    'summary' in value
  );
}

export function dataOf<T>(value: EvidenceOr<T>): T {
  return isEvidence(value) ? value.data : value;
}

/** "evidence 03-iptables-worker.txt", "evidence iptables node cilium-kubeproxy-worker", or "" for bare data. */
export function cite(value: EvidenceOr<unknown> | undefined): string {
  if (value === undefined || !isEvidence(value)) return '';
  return value.attachment ? `evidence ${value.attachment}` : `evidence: ${value.kind} ${value.where}`;
}

/** " (evidence a, evidence b)" for the evidence pieces given, or "" when none is evidence. */
export function citeAll(...values: Array<EvidenceOr<unknown> | undefined>): string {
  const names = [...new Set(values.map(cite).filter((c) => c !== ''))];
  return names.length ? ` (${names.join('; ')})` : '';
}

/** A datapath mismatch: Allure "failed". */
export function fail(message: string, details?: { expected?: unknown; actual?: unknown }): never {
  throw new AssertionError(message, details ? { expected: details.expected, actual: details.actual } : undefined);
}

/** No positive control: Allure "broken", category inconclusive evidence. */
export function inconclusive(message: string, hint?: string): never {
  throw new InconclusiveError(message, { hint });
}

/** "3 packets", "1 packet". */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** First items of a list for a message, with "… and N more". */
export function listSome(items: readonly string[], max = 5): string {
  if (items.length <= max) return items.join(', ');
  return `${items.slice(0, max).join(', ')} … and ${items.length - max} more`;
}
