/**
 * What a backend needs on this machine, checked without side effects; the main job can install
 * the lab's apt packages when root (with a visible message).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { BackendName } from '../backends/types.ts';
import { aptCommand, HOST_FILES, JAVA_APT_PACKAGE, toolsFor } from '../exec/host-tools.ts';
import { run, which } from '../exec/index.ts';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** Exact command that fixes it. */
  install?: string;
  /** Missing, it only narrows what is checked or rendered: a warning, not a blocker. */
  optional?: boolean;
}

export { aptCommand } from '../exec/host-tools.ts';

function nodeCheck(): Check {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const ok = major > 22 || (major === 22 && minor >= 18);
  return {
    name: 'node',
    ok,
    detail: `Node ${process.versions.node}${ok ? '' : ' (need ≥ 22.18)'}`,
    install: ok ? undefined : 'npm ci (installs Node 22 as the npm package "node"); then use npx/npm run',
  };
}

async function javaCheck(): Promise<Check> {
  const java = which('java');
  if (!java)
    return {
      name: 'java',
      ok: false,
      detail: 'no Java runtime: allure-commandline cannot render the report',
      install: aptCommand([JAVA_APT_PACKAGE]),
    };
  const res = await run([java, '-version'], { timeoutMs: 15_000, check: false });
  const line = (res.stderr || res.stdout).split('\n')[0] ?? '';
  return { name: 'java', ok: res.exitCode === 0, detail: line.trim() };
}

export function labChecks(): Check[] {
  const checks: Check[] = [];
  const root = process.getuid?.() === 0;
  checks.push({
    name: 'root',
    ok: root,
    detail: root ? 'running as root' : 'the lab creates network namespaces and loads eBPF: it needs root',
    install: root ? undefined : 'sudo -E npx hookpoint …',
  });
  for (const { tool, pkg } of toolsFor(['lab'])) {
    const p = which(tool);
    checks.push({ name: tool, ok: Boolean(p), detail: p ?? 'not found', install: p ? undefined : aptCommand([pkg]) });
  }
  for (const { file, pkg } of HOST_FILES.filter((f) => f.purpose === 'lab')) {
    const ok = existsSync(file);
    checks.push({
      name: path.basename(file),
      ok,
      detail: ok ? file : `${file} missing (eBPF compile)`,
      install: ok ? undefined : aptCommand([pkg]),
    });
  }
  return checks;
}

export async function backendChecks(
  backend: BackendName,
  cluster: { kubeconfig?: string; context?: string } = {},
): Promise<Check[]> {
  const checks: Check[] = [nodeCheck(), await javaCheck()];
  if (backend === 'lab') return [...checks, ...labChecks()];
  // kind: Docker, kind, helm, kubectl; existing: kubectl and a reachable kubeconfig, helm optional
  // (support/backends/kind/host-checks.ts).
  const mod = await import('../backends/kind/host-checks.ts');
  return [...checks, ...(backend === 'existing' ? await mod.checkExisting(cluster) : await mod.checkKind())];
}

/** Required checks: Java only affects the report, optional tools only what is checked. */
export function blocking(checks: Check[]): Check[] {
  return checks.filter((c) => !c.ok && c.name !== 'java' && !c.optional);
}

/**
 * The default backend when none is named: kind where a Docker engine answers and kind, helm and
 * kubectl are installed; the lab everywhere else (no Docker here or in this project's CI).
 */
export async function detectDefaultBackend(): Promise<{ backend: BackendName; why: string }> {
  if (!which('docker') || !which('kind') || !which('helm'))
    return { backend: 'lab', why: 'no Docker engine with kind and helm on this machine' };
  const { checkKind } = (await import('../backends/kind/host-checks.ts')) as { checkKind: () => Promise<Check[]> };
  const missing = (await checkKind()).filter((c) => !c.ok);
  return missing.length === 0
    ? { backend: 'kind', why: 'a Docker engine, kind, helm and kubectl are available' }
    : { backend: 'lab', why: `${missing.map((c) => c.name).join(', ')} not available for kind` };
}
