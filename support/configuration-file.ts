/**
 * Configuration files: one point of Cilium's configuration space for `hookpoint matrix
 * --configs name=file,…` (and the child run's `--configuration name=file`). The one owner of
 * the format (docs/configurations.md):
 *
 *   # Helm values of Cilium's chart, nested as in a values file
 *   routingMode: tunnel
 *   tunnelProtocol: vxlan
 *   ipam:
 *     mode: kubernetes
 *   # optional: a kind config path (relative to the working directory) or an inline kind Cluster
 *   kindConfig: kind-configs/two-node.yaml
 *
 * The values are flattened to the dotted keys a Background's "Cilium is installed with:" rows
 * use (`ipam.mode`), each value as the text the row would hold; they override the rows with the
 * same key. The kind config replaces the Background's.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { UsageError } from './errors.ts';

/**
 * The scenario parameter naming the configuration a result ran in (Allure, summary, JUnit): the
 * run's cluster-configuration id (support/run/configurations.ts), which under `--configuration
 * name=file` is the file's name, so a `matrix --configs` column and a grouped run read the same.
 */
export const CONFIGURATION_PARAMETER = 'configuration';

/** A configuration name: a DNS-1123 label, so it can be a combination id and part of a cluster name. */
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_NAME = 20;

export interface ConfigurationRef {
  /** The name the matrix and the report show (`tunnel`). */
  name: string;
  /** The file as given (relative to the working directory). */
  file: string;
}

export interface Configuration extends ConfigurationRef {
  /** Flattened Helm values (`ipam.mode` → `kubernetes`). */
  values: Record<string, string>;
  /** The kind config that replaces the Background's: a path, or an inline kind Cluster. */
  kindConfig?: { path: string } | { inline: Record<string, unknown> };
}

const EXAMPLE =
  'For example:\n  routingMode: tunnel\n  tunnelProtocol: vxlan\n  kindConfig: kind-configs/two-node.yaml';

function scalarText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

/** Nested Helm values → dotted keys (lists as `key[0]`), as the Background's rows spell them (pure). */
export function flattenValues(doc: Record<string, unknown>, source: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  const put = (key: string, v: unknown) => {
    const text = scalarText(v);
    if (text !== null) {
      if (text === '') throw new UsageError(`${source}: the value of "${key}" is empty.`, 'Give every key a value.');
      out[key] = text;
    } else if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) put(`${key}[${i}]`, x);
    } else if (v && typeof v === 'object')
      Object.assign(out, flattenValues(v as Record<string, unknown>, source, `${key}.`));
    else throw new UsageError(`${source}: "${key}" has no value (null).`, 'Give every key a value, or remove the key.');
  };
  for (const [k, v] of Object.entries(doc)) put(`${prefix}${k}`, v);
  return out;
}

/** Parse a configuration file's text (pure). `source` names the file in messages. */
export function parseConfiguration(text: string, ref: ConfigurationRef): Configuration {
  const source = `The configuration file ${ref.file}`;
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new UsageError(`${source} is not valid YAML: ${(err as Error).message.split('\n')[0]}`, EXAMPLE);
  }
  if (doc === null || doc === undefined) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new UsageError(`${source} is not a mapping of Helm values.`, EXAMPLE);
  const { kindConfig, ...helm } = doc as Record<string, unknown>;
  const out: Configuration = { ...ref, values: flattenValues(helm, source) };
  if (typeof kindConfig === 'string' && kindConfig.trim()) out.kindConfig = { path: kindConfig.trim() };
  else if (kindConfig && typeof kindConfig === 'object' && !Array.isArray(kindConfig)) {
    const kind = (kindConfig as Record<string, unknown>).kind;
    if (kind !== undefined && kind !== 'Cluster')
      throw new UsageError(
        `${source}: the inline kindConfig has kind ${JSON.stringify(kind)}; a kind config has "kind: Cluster".`,
      );
    out.kindConfig = { inline: kindConfig as Record<string, unknown> };
  } else if (kindConfig !== undefined)
    throw new UsageError(
      `${source}: "kindConfig" must be a path to a kind config or an inline kind Cluster mapping.`,
      'For example kindConfig: kind-configs/two-node.yaml',
    );
  return out;
}

/** `[name=]file` → a reference; the name defaults to the file's base name (pure). */
export function parseConfigurationRef(text: string, flag: string): ConfigurationRef {
  const item = text.trim();
  const eq = item.indexOf('=');
  const file = (eq >= 0 ? item.slice(eq + 1) : item).trim();
  const name = eq >= 0 ? item.slice(0, eq).trim() : path.basename(file).replace(/\.ya?ml$/i, '');
  if (!file)
    throw new UsageError(
      `Invalid ${flag} "${item}": no file after "${name}=".`,
      'Write name=file, e.g. tunnel=kind-configs/modes/tunnel.yaml.',
    );
  if (!NAME.test(name) || name.length > MAX_NAME)
    throw new UsageError(
      `Invalid ${flag} "${item}": the configuration name "${name}" must be lower-case letters, digits and "-" (at most ${MAX_NAME} characters).`,
      'Write name=file, e.g. tunnel=kind-configs/modes/tunnel.yaml.',
    );
  return { name, file };
}

/** `--configs tunnel=a.yaml,kpr=b.yaml` → references; names must differ (pure). */
export function parseConfigurationList(text: string | undefined): ConfigurationRef[] {
  const items = (text ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  if (items.length === 0)
    throw new UsageError(
      '--configs needs at least one name=file.',
      'For example --configs tunnel=kind-configs/modes/tunnel.yaml,kpr=kind-configs/modes/kpr.yaml',
    );
  const refs = items.map((i) => parseConfigurationRef(i, '--configs'));
  const twice = refs.filter((r, i) => refs.findIndex((x) => x.name === r.name) !== i).map((r) => r.name);
  if (twice.length)
    throw new UsageError(
      `Invalid --configs: the name ${[...new Set(twice)].join(', ')} is given twice.`,
      'Give each configuration its own name.',
    );
  return refs;
}

/** Read and parse a configuration file; its kindConfig path must exist (relative to `cwd`). */
export function loadConfiguration(ref: ConfigurationRef, cwd = process.cwd()): Configuration {
  const abs = path.resolve(cwd, ref.file);
  if (!existsSync(abs)) throw new UsageError(`The configuration file "${ref.file}" does not exist (looked at ${abs}).`);
  const cfg = parseConfiguration(readFileSync(abs, 'utf8'), ref);
  if (cfg.kindConfig && 'path' in cfg.kindConfig) {
    const kc = path.resolve(cwd, cfg.kindConfig.path);
    if (!existsSync(kc))
      throw new UsageError(
        `The configuration file ${ref.file} names the kind config "${cfg.kindConfig.path}", which does not exist (looked at ${kc}).`,
      );
  }
  return cfg;
}

/**
 * The kind config file a configuration asks for: its path (absolute), or its inline Cluster
 * written once to a content-addressed file under the temporary directory.
 */
export function configurationKindConfigFile(cfg: Configuration, cwd = process.cwd()): string | undefined {
  if (!cfg.kindConfig) return undefined;
  if ('path' in cfg.kindConfig) return path.resolve(cwd, cfg.kindConfig.path);
  const text = JSON.stringify(cfg.kindConfig.inline, null, 2);
  const dir = path.join(os.tmpdir(), 'hookpoint-kind-configs');
  const file = path.join(dir, `${cfg.name}-${createHash('sha256').update(text).digest('hex').slice(0, 12)}.yaml`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, `${text}\n`);
  }
  return file;
}

/** The Background's values with the configuration's on top (pure). */
export function applyConfiguration(
  values: Record<string, string>,
  cfg: Configuration | undefined,
): Record<string, string> {
  return cfg ? { ...values, ...cfg.values } : values;
}
