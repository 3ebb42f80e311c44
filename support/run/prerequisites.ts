/**
 * What a backend needs on this machine, checked without side effects: the checks each backend
 * declares in its descriptor (support/backends/descriptors.ts), run here. The main job can
 * install the lab's apt packages when root (with a visible message).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { descriptorOf } from '../backends/descriptors.ts';
import { LAB_HEADERS, LAB_TOOLS } from '../backends/lab/descriptor.ts';
import type { BackendName, DoctorCheckId } from '../backends/types.ts';
import { aptCommand, JAVA_APT_PACKAGE } from '../exec/host-tools.ts';
import { run, which } from '../exec/index.ts';

export { aptCommand };

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** Exact command that fixes it. */
  install?: string;
  /** The backend does not require it: missing, it is a warning (what it narrows is in the detail). */
  optional?: boolean;
}

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

function rootCheck(): Check {
  const root = process.getuid?.() === 0;
  return {
    name: 'root',
    ok: root,
    detail: root ? 'running as root' : 'the lab creates network namespaces and loads eBPF: it needs root',
    install: root ? undefined : 'sudo -E npx hookpoint …',
  };
}

function labToolChecks(): Check[] {
  return LAB_TOOLS.map(([tool, pkg]) => {
    const p = which(tool);
    return { name: tool, ok: Boolean(p), detail: p ?? 'not found', install: p ? undefined : aptCommand([pkg]) };
  });
}

function labHeaderChecks(): Check[] {
  return LAB_HEADERS.map(([file, pkg]) => {
    const ok = existsSync(file);
    return {
      name: path.basename(file),
      ok,
      detail: ok ? file : `${file} missing (eBPF compile)`,
      install: ok ? undefined : aptCommand([pkg]),
    };
  });
}

export function labChecks(): Check[] {
  return [rootCheck(), ...labToolChecks(), ...labHeaderChecks()];
}

type ClusterTool = 'docker' | 'kind' | 'helm' | 'kubectl';

/** The cluster `existing` reaches: `--kubeconfig`/`KUBECONFIG` and `--context`. */
export interface ClusterAddress {
  kubeconfig?: string;
  context?: string;
}

/** One check id → its checks (the cluster tools are probed by running them: support/backends/kind/host-checks.ts). */
async function runCheck(id: DoctorCheckId, cluster: ClusterAddress): Promise<Check[]> {
  switch (id) {
    case 'node':
      return [nodeCheck()];
    case 'java':
      return [await javaCheck()];
    case 'root':
      return [rootCheck()];
    case 'lab-tools':
      return labToolChecks();
    case 'lab-headers':
      return labHeaderChecks();
    case 'docker':
    case 'kind':
    case 'helm':
    case 'kubectl': {
      const { checkClusterTool } = (await import('../backends/kind/host-checks.ts')) as {
        checkClusterTool: (tool: ClusterTool) => Promise<Check>;
      };
      return [await checkClusterTool(id)];
    }
    case 'kubeconfig': {
      const { checkKubeconfig } = await import('../backends/kind/host-checks.ts');
      return [await checkKubeconfig(cluster)];
    }
  }
}

/** The checks a backend declares, in its order (run side by side). */
export async function backendChecks(backend: BackendName, cluster: ClusterAddress = {}): Promise<Check[]> {
  const doctor = descriptorOf(backend).doctor;
  const lists = await Promise.all(doctor.map((r) => runCheck(r.check, cluster)));
  return lists.flatMap((checks, i) => {
    const r = doctor[i]!;
    if (r.required) return checks;
    // An optional check that fails warns, saying what goes unchecked without it.
    return checks.map((c) =>
      c.ok ? c : { ...c, optional: true, detail: r.withoutIt ? `${c.detail} (optional: ${r.withoutIt})` : c.detail },
    );
  });
}

/**
 * Required checks that failed. Optional ones (Java only affects the report) warn without
 * failing the backend; which are optional is the backend's declaration (Java when none is named).
 */
export function blocking(checks: Check[], backend?: BackendName): Check[] {
  const optional = new Set<string>(
    backend
      ? descriptorOf(backend)
          .doctor.filter((r) => !r.required)
          .map((r) => r.check)
      : ['java'],
  );
  return checks.filter((c) => !c.ok && !optional.has(c.name));
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
