/**
 * The Kubernetes versions each Cilium release is e2e-tested on, as that release states it in
 * `Documentation/network/kubernetes/compatibility.rst` ("All Kubernetes versions listed are e2e
 * tested and guaranteed to be compatible with Cilium"; versions not listed "depend on the
 * forward / backward compatibility offered by Kubernetes"). Outside the list a run is an
 * untested combination: said in the terminal and the report, never refused.
 *
 * Only releases whose file was read at a release tag are listed. Not recorded yet (their
 * compatibility.rst could not be read at a tag): 1.16, 1.17 — a run there gets a note, not a verdict.
 */
import { parseCiliumVersion, parseK8sVersion } from './cilium-versions.ts';

export interface TestedKubernetes {
  /** Cilium minor release ("1.18"). */
  cilium: string;
  /** Kubernetes minor versions it is e2e-tested on. */
  kubernetes: readonly string[];
  source: string;
}

export const CILIUM_TESTED_KUBERNETES: readonly TestedKubernetes[] = [
  {
    cilium: '1.18',
    kubernetes: ['1.30', '1.31', '1.32', '1.33'],
    source: 'cilium/cilium v1.18.14 Documentation/network/kubernetes/compatibility.rst',
  },
];

export type Compatibility =
  | { verdict: 'tested'; cilium: string; kubernetes: string; source: string }
  | {
      verdict: 'untested';
      cilium: string;
      kubernetes: string;
      tested: readonly string[];
      source: string;
      message: string;
    }
  | { verdict: 'unknown'; cilium: string; kubernetes: string; message: string };

function minor(text: string): string {
  const [maj, min] = text.replace(/^v/, '').split('.');
  return `${maj}.${min}`;
}

/** Is Cilium `ciliumVersion` e2e-tested on Kubernetes `k8sVersion` (by minor versions)? */
export function testedCombination(ciliumVersion: string, k8sVersion: string): Compatibility {
  const c = parseCiliumVersion(ciliumVersion);
  const k = minor(parseK8sVersion(k8sVersion));
  const cMinor = `${c.major}.${c.minor}`;
  const row = CILIUM_TESTED_KUBERNETES.find((r) => r.cilium === cMinor);
  if (!row)
    return {
      verdict: 'unknown',
      cilium: c.text,
      kubernetes: k,
      message: `Hookpoint has no record of the Kubernetes versions Cilium ${cMinor} is e2e-tested on; Kubernetes ${k} not checked.`,
    };
  if (row.kubernetes.includes(k)) return { verdict: 'tested', cilium: c.text, kubernetes: k, source: row.source };
  const range = `${row.kubernetes[0]}–${row.kubernetes[row.kubernetes.length - 1]}`;
  return {
    verdict: 'untested',
    cilium: c.text,
    kubernetes: k,
    tested: row.kubernetes,
    source: row.source,
    message: `untested combination: Cilium ${c.text} is e2e-tested on Kubernetes ${range}, not ${k} (${row.source}).`,
  };
}
