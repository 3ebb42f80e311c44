/**
 * The run's environment as Allure shows it (environment.properties: backend, Cilium and
 * Kubernetes versions, kernel, iptables mode, datapath fingerprint) and executor.json (who
 * built the report, which build number — the trend chart's x axis).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Suggested keys, in display order; any other key is written too. */
export const ENVIRONMENT_KEYS = [
  'backend',
  'cilium',
  'kubernetes',
  'kernel',
  'iptables.mode',
  'routing.mode',
  'kube-proxy.replacement',
  'host.routing',
  'datapath.fingerprint',
] as const;

function escapeProp(s: string, isKey: boolean): string {
  let out = '';
  for (const [i, ch] of [...s].entries()) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\f') out += '\\f';
    else if (isKey && (ch === '=' || ch === ':' || ch === ' ')) out += `\\${ch}`;
    else if (!isKey && i === 0 && ch === ' ') out += '\\ ';
    else if ((ch === '#' || ch === '!') && i === 0 && isKey) out += `\\${ch}`;
    else if (code < 0x20 || code > 0x7e) {
      // Java properties files are ISO-8859-1; everything else as UTF-16 escapes.
      for (const unit of ch.split('')) out += `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;
    } else out += ch;
  }
  return out;
}

/** Java properties text (pure); keys in ENVIRONMENT_KEYS order first, then the rest sorted. */
export function formatProperties(env: Record<string, string>): string {
  const keys = Object.keys(env);
  const known = ENVIRONMENT_KEYS.filter((k) => keys.includes(k));
  const rest = keys.filter((k) => !(ENVIRONMENT_KEYS as readonly string[]).includes(k)).sort();
  return [...known, ...rest].map((k) => `${escapeProp(k, true)}=${escapeProp(String(env[k]), false)}\n`).join('');
}

export async function writeEnvironment(resultsDir: string, env: Record<string, string>): Promise<string> {
  const file = path.join(resultsDir, 'environment.properties');
  await writeFile(file, formatProperties(env));
  return file;
}

export interface Executor {
  name: string;
  type: string;
  buildName: string;
  buildOrder: number;
  reportName: string;
  buildUrl?: string;
  reportUrl?: string;
}

export function executorDocument(buildOrder: number, overrides: Partial<Executor> = {}): Executor {
  return {
    name: 'hookpoint',
    type: 'hookpoint',
    buildName: `hookpoint run #${buildOrder}`,
    buildOrder,
    reportName: 'Hookpoint datapath report',
    ...overrides,
  };
}

export async function writeExecutor(resultsDir: string, executor: Executor): Promise<string> {
  const file = path.join(resultsDir, 'executor.json');
  await writeFile(file, `${JSON.stringify(executor, null, 2)}\n`);
  return file;
}
