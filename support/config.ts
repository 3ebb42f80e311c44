/**
 * CLI flags + environment + profile → one validated Config. Invalid values get one paragraph
 * listing the valid choices (zod schema; messages rewritten for people).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { type ConfigurationRef, loadConfiguration, parseConfigurationRef } from './configuration-file.ts';
import { UsageError } from './errors.ts';

export const BACKENDS = ['lab', 'kind', 'existing'] as const;
export const KEEP = ['never', 'on-failure', 'always'] as const;
export const IPTABLES_MODES = ['nft', 'legacy'] as const;
export const LAB_VARIANTS = [
  'no-tc',
  'no-native-route',
  'no-local-redirect',
  'no-policy',
  'no-socket-lb',
  'no-encap',
] as const;
/** Images a kind/existing run uses, overridable one by one with `--image <role>=<ref>`. */
export const IMAGE_ROLES = ['node', 'cilium', 'operator', 'probe', 'echo', 'client'] as const;
export type ImageRole = (typeof IMAGE_ROLES)[number];
export type ImageOverrides = Partial<Record<ImageRole, string>>;

/** An image reference as docker and containerd accept it: no spaces, no shell characters. */
const IMAGE_REF = /^[a-z0-9][a-z0-9._\-/:@]*$/i;

/** `--image node=reg.local/kindest/node:v1.27.3,probe=reg.local/netshoot:v0.13` → overrides (repeatable). */
export function parseImageOverrides(values: readonly string[]): ImageOverrides {
  const out: ImageOverrides = {};
  for (const item of values
    .flatMap((v) => v.split(','))
    .map((x) => x.trim())
    .filter(Boolean)) {
    const eq = item.indexOf('=');
    const role = item.slice(0, eq).trim();
    const ref = item.slice(eq + 1).trim();
    if (eq < 1 || !(IMAGE_ROLES as readonly string[]).includes(role))
      throw new UsageError(
        `Invalid --image "${item}": expected <role>=<image reference> with a role among ${IMAGE_ROLES.join(', ')}.`,
        'Example: --image node=registry.local/kindest/node:v1.27.3,probe=registry.local/netshoot:v0.13',
      );
    if (!IMAGE_REF.test(ref))
      throw new UsageError(
        `Invalid --image ${role}= "${ref}": not an image reference.`,
        'Write it as docker pull takes it: registry/name:tag or name@sha256:digest.',
      );
    out[role as ImageRole] = ref;
  }
  return out;
}

export const DEFAULTS = {
  backend: 'lab',
  cilium: '1.17.15',
  k8s: 'v1.27.3',
  cluster: 'cilium-kubeproxy',
  kindConfig: 'kind-configs/two-node.yaml',
  reportsDir: 'reports',
} as const;

/**
 * Nodes whose counters are read at once. Each read is one exec on the node (`kubectl exec` on
 * a real cluster, served by its API server): side by side, but not all of a large cluster's at once.
 */
export const DEFAULT_NODE_READS = 8;

/** DNS-1123 label: what Kubernetes accepts for pod, service and namespace names. */
export const DNS1123 = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const CILIUM_VERSION = /^\d+\.\d+\.\d+(-(rc|pre|snapshot)\.?\d+)?$/;
export const K8S_VERSION = /^v\d+\.\d+\.\d+$/;

const csv = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

export const ConfigSchema = z.object({
  backend: z.enum(BACKENDS),
  cilium: z.string().regex(CILIUM_VERSION, 'a Cilium version like 1.17.15'),
  k8s: z.string().regex(K8S_VERSION, 'a Kubernetes version like v1.27.3'),
  cluster: z
    .string()
    .max(40, 'at most 40 characters')
    .regex(DNS1123, 'a DNS-1123 name: lower-case letters, digits and "-", starting and ending with a letter or digit'),
  kindConfig: z.string().min(1),
  valuesFiles: z.array(z.string()),
  keep: z.enum(KEEP),
  iptables: z.enum(IPTABLES_MODES).optional(),
  variants: z.array(z.enum(LAB_VARIANTS)),
  tags: z.string().optional(),
  name: z.string().optional(),
  retry: z.number().int().min(0).max(10),
  shard: z
    .string()
    .regex(/^\d+\/\d+$/, 'a shard like 2/4')
    .optional(),
  parallel: z.number().int().min(1).max(16),
  nodeReads: z.number().int().min(1).max(64),
  reportsDir: z.string().min(1),
  kubeconfig: z.string().optional(),
  context: z.string().optional(),
  reuse: z.boolean(),
  debug: z.boolean(),
  images: z.record(z.string(), z.string()),
  kindLoad: z.boolean(),
});
export type Config = Omit<z.infer<typeof ConfigSchema>, 'images'> & {
  images: ImageOverrides;
  /** `--configuration [name=]file`: Helm values over the Background's rows, maybe a kind config (configuration-file.ts). */
  configuration?: ConfigurationRef;
};

export interface RawOptions {
  backend?: string;
  cilium?: string;
  k8s?: string;
  cluster?: string;
  kindConfig?: string;
  values?: string[] | string;
  keep?: string;
  iptables?: string;
  variant?: string;
  tags?: string;
  name?: string;
  retry?: string | number;
  shard?: string;
  parallel?: string | number;
  nodeReads?: string | number;
  reports?: string;
  kubeconfig?: string;
  context?: string;
  reuse?: boolean;
  debug?: boolean;
  image?: string[] | string;
  kindLoad?: boolean;
  configuration?: string;
}

function toInt(flag: string, v: string | number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isInteger(n)) throw new UsageError(`--${flag} must be a whole number, got "${v}".`);
  return n;
}

/** Flags win over environment (HOOKPOINT_BACKEND, HOOKPOINT_CILIUM, …), which wins over defaults. */
export function loadConfig(raw: RawOptions, env: NodeJS.ProcessEnv = process.env): Config {
  const pick = (flag: string | undefined, envName: string, dflt?: string) => flag ?? env[envName] ?? dflt;
  const variant = pick(raw.variant, 'HOOKPOINT_VARIANT');
  const values = raw.values === undefined ? [] : Array.isArray(raw.values) ? raw.values : [raw.values];
  const candidate = {
    backend: pick(raw.backend, 'HOOKPOINT_BACKEND', DEFAULTS.backend),
    cilium: pick(raw.cilium, 'HOOKPOINT_CILIUM', DEFAULTS.cilium),
    k8s: pick(raw.k8s, 'HOOKPOINT_K8S', DEFAULTS.k8s),
    cluster: pick(raw.cluster, 'HOOKPOINT_CLUSTER', DEFAULTS.cluster),
    kindConfig: pick(raw.kindConfig, 'HOOKPOINT_KIND_CONFIG', DEFAULTS.kindConfig),
    valuesFiles: values.flatMap(csv),
    keep: pick(raw.keep, 'HOOKPOINT_KEEP', 'never'),
    iptables: pick(raw.iptables, 'HOOKPOINT_IPTABLES'),
    variants: variant ? csv(variant) : [],
    tags: raw.tags,
    name: raw.name,
    retry: toInt('retry', raw.retry, 0),
    shard: raw.shard,
    parallel: toInt('parallel', raw.parallel, 1),
    nodeReads: toInt('node-reads', raw.nodeReads ?? env.HOOKPOINT_NODE_READS, DEFAULT_NODE_READS),
    reportsDir: pick(raw.reports, 'HOOKPOINT_REPORTS', DEFAULTS.reportsDir),
    kubeconfig: pick(raw.kubeconfig, 'KUBECONFIG'),
    context: raw.context,
    reuse: Boolean(raw.reuse),
    debug: Boolean(raw.debug),
    images: parseImageOverrides(
      raw.image === undefined
        ? env.HOOKPOINT_IMAGES
          ? [env.HOOKPOINT_IMAGES]
          : []
        : Array.isArray(raw.image)
          ? raw.image
          : [raw.image],
    ),
    kindLoad: Boolean(raw.kindLoad),
  };
  const parsed = ConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = String(issue.path[0] ?? '');
    const flag = FLAG_OF[key] ?? key;
    const given = (candidate as Record<string, unknown>)[key];
    const shown = Array.isArray(given) ? given.join(',') : String(given);
    const options = (issue as { values?: unknown[] }).values;
    const choices = Array.isArray(options) ? ` Valid choices: ${options.join(', ')}.` : '';
    const range = RANGES[key];
    const expected =
      issue.code === 'invalid_value'
        ? ''
        : range && (issue.code === 'too_big' || issue.code === 'too_small')
          ? ` Expected a whole number from ${range[0]} to ${range[1]}.`
          : ` Expected ${issue.message}.`;
    throw new UsageError(
      `Invalid ${flag} "${shown}".${choices}${expected}`,
      'Fix the flag (or its HOOKPOINT_* environment variable); `hookpoint run --help` lists every flag.',
    );
  }
  const cfg = parsed.data as Config;
  if (raw.configuration !== undefined) {
    // Read now, so a missing file or a malformed value is refused before anything runs.
    cfg.configuration = parseConfigurationRef(raw.configuration, '--configuration');
    loadConfiguration(cfg.configuration);
  }
  if (cfg.variants.length > 0 && cfg.backend !== 'lab')
    throw new UsageError(
      `--variant ${cfg.variants.join(',')} only applies to the lab backend, not "${cfg.backend}".`,
      'Drop --variant or use --backend lab.',
    );
  if (cfg.kindLoad && cfg.backend !== 'kind')
    throw new UsageError(
      `--kind-load only applies to the kind backend, not "${cfg.backend}".`,
      'Drop --kind-load or use --backend kind.',
    );
  if (cfg.backend === 'lab' && Object.keys(cfg.images).length)
    throw new UsageError(
      '--image applies to the kind and existing backends; the lab backend uses no images.',
      'Drop --image or choose --backend kind or existing.',
    );
  const installOnly = (['node', 'cilium', 'operator'] as const).filter((r) => cfg.images[r]);
  if (cfg.backend === 'existing' && installOnly.length)
    throw new UsageError(
      `--image ${installOnly.map((r) => `${r}=`).join(', ')} applies to the kind backend only: the existing backend never creates nodes or installs Cilium.`,
      'Keep only probe=, echo= and client= on the existing backend.',
    );
  if (cfg.backend === 'existing' && !cfg.kubeconfig)
    throw new UsageError('The existing backend needs a kubeconfig.', 'Pass --kubeconfig FILE (or set KUBECONFIG).');
  return cfg;
}

const RANGES: Record<string, [number, number]> = { retry: [0, 10], parallel: [1, 16], nodeReads: [1, 64] };

const FLAG_OF: Record<string, string> = {
  backend: '--backend',
  cilium: '--cilium',
  k8s: '--k8s',
  cluster: '--cluster',
  kindConfig: '--kind-config',
  keep: '--keep',
  iptables: '--iptables',
  variants: '--variant',
  retry: '--retry',
  shard: '--shard',
  parallel: '--parallel',
  nodeReads: '--node-reads',
  reportsDir: '--reports',
};

/** Resolve a project-relative path (kind configs) and check it exists. */
export function resolveExisting(file: string, what: string, root = process.cwd()): string {
  const p = path.resolve(root, file);
  if (!existsSync(p)) throw new UsageError(`The ${what} "${file}" does not exist (looked at ${p}).`);
  return p;
}
