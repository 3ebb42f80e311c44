/**
 * Helm values a feature states (the "Cilium is installed with:" table), checked before anything
 * is provisioned: values of well-known keys must have the right type on every backend
 * (`kubeProxyReplacement=maybe` is an error, not a chart surprise ten minutes later). On the lab,
 * which has no chart to check keys against, a key must be one the lab reproduces: anything else
 * is a UsageError naming the closest key it knows — silently ignoring a typo like
 * `kubeProxyReplacment` would run a different cluster than the feature asks for. Which keys a
 * backend honours is its descriptor's declaration; the kind backend checks keys against the
 * chart's own values (support/backends/kind/helm-keys.ts).
 */
import { closest } from './closest.ts';
import { UsageError } from './errors.ts';
import { registerSecretValues } from './exec/index.ts';

const BOOL = ['true', 'false'];

/** Key → accepted values (a list) or a checker returning a description of what is expected. */
const TYPES: Record<string, readonly string[] | ((v: string) => string | null)> = {
  kubeProxyReplacement: [...BOOL, 'strict', 'partial', 'probe', 'disabled'],
  autoDirectNodeRoutes: BOOL,
  routingMode: ['native', 'tunnel'],
  tunnel: ['disabled', 'vxlan', 'geneve'],
  tunnelProtocol: ['vxlan', 'geneve', ''],
  'ipam.mode': ['kubernetes', 'cluster-pool', 'multi-pool', 'eni', 'azure', 'alibabacloud', 'crd', 'delegated-plugin'],
  ipv4NativeRoutingCIDR: (v) => (isCidr(v) ? null : 'an IPv4 CIDR like 10.0.0.0/8 (four numbers 0–255, a prefix 0–32)'),
  'ipv4.enabled': BOOL,
  'ipv6.enabled': BOOL,
  'bpf.masquerade': BOOL,
  enableIPv4Masquerade: BOOL,
};

export function isCidr(v: string): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(v);
  return Boolean(m?.slice(1, 5).every((o) => Number(o) <= 255) && Number(m?.[5]) <= 32);
}

export function closestKey(key: string, known: readonly string[]): string {
  return closest(key, known)[0]!;
}

/** Which Helm values a backend honours (its descriptor's `helmValues`, support/backends/types.ts). */
export type HonouredHelmValues = { honours: 'chart' } | { honours: 'listed'; keys: readonly string[] };

/** `skipTag`: the tag that skips a scenario on a backend that cannot honour its values (named in the refusal). */
export function checkHelmValues(
  values: Record<string, string>,
  backend: { name: string; helmValues: HonouredHelmValues },
  skipTag?: string,
): void {
  registerSecretValues(values);
  const hv = backend.helmValues;
  for (const [key, value] of Object.entries(values)) {
    if (hv.honours === 'listed' && !hv.keys.includes(key)) {
      throw new UsageError(
        `Unknown Helm key "${key}" for the ${backend.name} backend; did you mean "${closestKey(key, hv.keys)}"?`,
        `The ${backend.name} reproduces only ${hv.keys.join(', ')}; run a feature that needs other Cilium values with --backend kind, which checks keys against the chart${skipTag ? `, and tag its scenarios ${skipTag} so the ${backend.name} skips them` : ''}.`,
      );
    }
    const type = TYPES[key];
    if (!type) continue;
    const problem =
      typeof type === 'function' ? type(value) : type.includes(value) ? null : type.filter(Boolean).join(', ');
    if (problem)
      throw new UsageError(
        `Invalid Helm value ${key}=${JSON.stringify(value)}: expected ${typeof type === 'function' ? problem : `one of ${problem}`}.`,
        `Fix the row "${key}" of the "Cilium is installed with:" table.`,
      );
  }
}
