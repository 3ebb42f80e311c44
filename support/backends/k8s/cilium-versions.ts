/**
 * Version knowledge for the kind and existing backends, in ONE table: what changed between
 * Cilium releases that the backends must know to build commands and Helm values. Each row
 * names the release and the public source of the fact.
 */
import { UsageError } from '../../errors.ts';

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  /** "rc.1" for 1.15.0-rc.1, empty for a release. */
  pre: string;
  /** As the user wrote it, without a leading "v". */
  text: string;
}

const CILIUM_RE = /^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z]+(?:[.-][0-9A-Za-z]+)*))?$/;
const K8S_RE = /^v?(\d+)\.(\d+)\.(\d+)$/;

/** Parse a Cilium chart version ("1.17.15", "1.15.0-rc.1"; a leading "v" is accepted). */
export function parseCiliumVersion(text: string): SemVer {
  const m = CILIUM_RE.exec(text.trim());
  if (!m)
    throw new UsageError(
      `"${text}" is not a Cilium version.`,
      'Write it like the Helm chart version: 1.17.15 or 1.15.0-rc.1 (see `helm search repo cilium/cilium --versions`).',
    );
  return { major: +m[1]!, minor: +m[2]!, patch: +m[3]!, pre: m[4] ?? '', text: text.trim().replace(/^v/, '') };
}

/** Parse a Kubernetes version for a kindest/node image; returns it with the leading "v" ("v1.27.3"). */
export function parseK8sVersion(text: string): string {
  const m = K8S_RE.exec(text.trim());
  if (!m)
    throw new UsageError(
      `"${text}" is not a Kubernetes version.`,
      'Write it like a kindest/node image tag: v1.27.3 (see the kind release notes for the images each kind release ships).',
    );
  return `v${m[1]}.${m[2]}.${m[3]}`;
}

/** True when v is at or after major.minor (pre-releases of x.y count as x.y). */
export function atLeast(v: SemVer, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

export interface VersionFact {
  /** First minor release the fact applies to. */
  since: string;
  topic: 'agent-cli' | 'routing-values' | 'kube-proxy-replacement' | 'status-format';
  fact: string;
  source: string;
}

/** The table. Everything version-dependent below reads its boundary from here. */
export const CILIUM_VERSION_FACTS: readonly VersionFact[] = [
  {
    since: '1.14',
    topic: 'routing-values',
    fact: '`tunnel` is deprecated in favour of `routingMode` (native|tunnel) and `tunnelProtocol` (vxlan|geneve); tunnel=disabled means routingMode=native.',
    source: 'Cilium 1.14 upgrade notes; chart 1.14.0-rc.0 values.yaml marks `tunnel` deprecated next to `routingMode`',
  },
  {
    since: '1.15',
    topic: 'routing-values',
    fact: '`tunnel` is removed from the chart; only `routingMode` and `tunnelProtocol` remain.',
    source: 'Cilium 1.15 upgrade notes',
  },
  {
    since: '1.14',
    topic: 'kube-proxy-replacement',
    fact: 'kubeProxyReplacement takes true|false; strict becomes true, partial/probe/disabled become false (features of partial are enabled one by one).',
    source:
      'Cilium 1.14 upgrade notes; chart 1.14.0-rc.0 values.yaml lists "strict", "partial", "disabled" as deprecated',
  },
  {
    since: '1.15',
    topic: 'agent-cli',
    fact: 'the agent pod ships `cilium-dbg`; the in-pod `cilium` binary is gone.',
    source: 'Cilium 1.15 upgrade notes (cilium CLI in the agent image renamed to cilium-dbg)',
  },
  {
    since: '1.16',
    topic: 'status-format',
    fact: '`status` prints `Routing: Network: <Native|Tunnel [proto]>   Host: <Legacy|BPF>` instead of a separate `Host Routing:` line.',
    source: 'cilium/cilium PR #32036',
  },
];

function since(topic: VersionFact['topic'], nth = 0): [number, number] {
  const rows = CILIUM_VERSION_FACTS.filter((f) => f.topic === topic);
  const [maj, min] = rows[nth]!.since.split('.').map(Number);
  return [maj!, min!];
}

/** The debug CLI inside the Cilium agent container: `cilium-dbg` from 1.15, `cilium` before. */
export function agentCli(v: SemVer): 'cilium' | 'cilium-dbg' {
  return atLeast(v, ...since('agent-cli')) ? 'cilium-dbg' : 'cilium';
}

/** Which `cilium status` layout the agent prints. */
export function statusFormat(v: SemVer): 'routing-line' | 'host-routing-line' {
  return atLeast(v, ...since('status-format')) ? 'routing-line' : 'host-routing-line';
}

export interface TranslatedValues {
  values: Record<string, string>;
  /** One line per rewrite, shown in plans and progress ("tunnel=disabled → routingMode=native (Cilium ≥ 1.14)"). */
  notes: string[];
}

/**
 * Rewrite Helm values written for another Cilium release into the keys and words of version v,
 * so one feature table runs on a whole matrix. Order of keys is kept; rewritten keys take the
 * place of the original one.
 */
export function translateValues(v: SemVer, input: Readonly<Record<string, string>>): TranslatedValues {
  const notes: string[] = [];
  const out: Array<[string, string]> = [];
  const routingModeEra = atLeast(v, ...since('routing-values', 0));
  const kprBoolEra = atLeast(v, ...since('kube-proxy-replacement'));
  const has = (k: string) => Object.hasOwn(input, k);
  for (const [key, value] of Object.entries(input)) {
    if (key === 'tunnel' && routingModeEra) {
      if (value === 'disabled') {
        if (!has('routingMode')) out.push(['routingMode', 'native']);
        notes.push(`tunnel=disabled → routingMode=native (Cilium ${v.text}: \`tunnel\` replaced by \`routingMode\`)`);
      } else {
        if (!has('routingMode')) out.push(['routingMode', 'tunnel']);
        if (!has('tunnelProtocol')) out.push(['tunnelProtocol', value]);
        notes.push(
          `tunnel=${value} → routingMode=tunnel, tunnelProtocol=${value} (Cilium ${v.text}: \`tunnel\` replaced by \`routingMode\`)`,
        );
      }
      continue;
    }
    if (key === 'routingMode' && !routingModeEra) {
      const tunnel = value === 'native' ? 'disabled' : (input.tunnelProtocol ?? 'vxlan');
      if (!has('tunnel')) out.push(['tunnel', tunnel]);
      notes.push(`routingMode=${value} → tunnel=${tunnel} (Cilium ${v.text} predates \`routingMode\`)`);
      continue;
    }
    if (key === 'tunnelProtocol' && !routingModeEra) continue;
    if (key === 'kubeProxyReplacement') {
      const word = value.toLowerCase();
      if (kprBoolEra && ['strict', 'partial', 'probe', 'disabled'].includes(word)) {
        const b = word === 'strict' ? 'true' : 'false';
        out.push([key, b]);
        notes.push(
          `kubeProxyReplacement=${value} → ${b} (Cilium ${v.text} takes true/false${word === 'partial' || word === 'probe' ? '; enable the partial features one by one if you need them' : ''})`,
        );
        continue;
      }
      if (!kprBoolEra && (word === 'true' || word === 'false')) {
        const w = word === 'true' ? 'strict' : 'disabled';
        out.push([key, w]);
        notes.push(`kubeProxyReplacement=${value} → ${w} (Cilium ${v.text} takes strict/partial/probe/disabled)`);
        continue;
      }
    }
    out.push([key, value]);
  }
  return { values: Object.fromEntries(out), notes };
}
