/**
 * Cilium Helm values as flat dotted keys ("ipam.mode" → "kubernetes"): the shape of a feature's
 * table, of `--set`, and of the fingerprint compared on reuse. Values files are YAML.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { UsageError } from '../../errors.ts';

function scalar(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  return String(v);
}

/** Flatten nested values: maps → dotted keys, lists of scalars → {a,b}, lists of maps → key[i].sub. */
export function flattenValues(obj: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (Array.isArray(obj)) {
    if (obj.every((x) => x === null || typeof x !== 'object')) out[prefix] = `{${obj.map(scalar).join(',')}}`;
    else
      obj.forEach((x, i) => {
        flattenValues(x, `${prefix}[${i}]`, out);
      });
    return out;
  }
  if (obj !== null && typeof obj === 'object') {
    for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
      const key = k.replace(/\./g, '\\.');
      flattenValues(v, prefix ? `${prefix}.${key}` : key, out);
    }
    return out;
  }
  if (prefix) out[prefix] = scalar(obj);
  return out;
}

/** Read a values file (YAML map) into flat keys; a bad file is a UsageError naming it. */
export function loadValuesFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(
      `The Helm values file "${file}" cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}).`,
    );
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UsageError(`The Helm values file "${file}" is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new UsageError(`The Helm values file "${file}" must be a YAML map of chart values at the top level.`);
  return flattenValues(doc);
}

/** Merge layers left to right (later wins), keeping first-seen key order. */
export function mergeValues(...layers: ReadonlyArray<Readonly<Record<string, string>>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of layers) for (const [k, v] of Object.entries(l)) out[k] = v;
  return out;
}

/** Parse `--set k=v` texts (as users type them) into flat values. */
export function parseSetFlags(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const i = item.indexOf('=');
    if (i <= 0) throw new UsageError(`--set "${item}" is not key=value.`, 'Write it like --set ipam.mode=kubernetes.');
    out[item.slice(0, i).trim()] = item.slice(i + 1).trim();
  }
  return out;
}

/** Split a dotted key into path segments, honouring "\." escapes and dropping [n] list indexes. */
export function keyPath(key: string): string[] {
  return key
    .split(/(?<!\\)\./)
    .map((s) => s.replace(/\\\./g, '.').replace(/\[\d+\]$/, ''))
    .filter((s) => s.length > 0);
}

/** A stable text of values for comparison (fingerprints): sorted key=value lines. */
export function canonicalValues(values: Readonly<Record<string, string>>): string {
  return Object.keys(values)
    .sort()
    .map((k) => `${k}=${values[k]}`)
    .join('\n');
}
