/**
 * What the kind backend needs on this machine: a reachable Docker engine (not just the client),
 * kind, helm and kubectl. `hookpoint doctor --backend kind` calls checkKind().
 */
import { defaultExecutor, type Executor } from './executor.ts';
import { kubectlArgv, TIMEOUTS } from './plan.ts';

export interface KindCheck {
  name: string;
  ok: boolean;
  detail: string;
  install?: string;
  /** A missing optional tool only narrows what the backend checks (a warning, not a blocker). */
  optional?: boolean;
}

const INSTALL = {
  docker:
    'Install Docker Engine (https://docs.docker.com/engine/install/) and start it (`systemctl start docker`), or use --backend lab.',
  kind: 'Install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), e.g. `go install sigs.k8s.io/kind@latest`.',
  helm: 'Install Helm 3 (https://helm.sh/docs/intro/install/).',
  kubectl: 'Install kubectl (https://kubernetes.io/docs/tasks/tools/).',
  kubeconfig: 'Pass --kubeconfig FILE (and --context NAME) of a cluster this machine reaches, or set KUBECONFIG.',
} as const;

/** The programs the kind and existing backends run on this machine (the inventory test checks the code against it). */
export const KIND_HOST_TOOLS: readonly string[] = ['docker', 'kind', 'helm', 'kubectl'];

function firstLine(text: string): string {
  return text.trim().split('\n')[0]?.trim() ?? '';
}

async function probe(
  exec: Executor,
  name: keyof typeof INSTALL,
  argv: string[],
  timeoutMs: number,
  describeOk: (stdout: string) => string,
): Promise<KindCheck> {
  try {
    const res = await exec.run(argv, { timeoutMs, where: 'host', check: false });
    if (res.exitCode === 0) return { name, ok: true, detail: describeOk(res.stdout) };
    const why = firstLine(res.stderr || res.stdout) || `exit code ${res.exitCode}`;
    return { name, ok: false, detail: why, install: INSTALL[name] };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return {
      name,
      ok: false,
      detail: /not installed or not on PATH/.test(msg) ? `${argv[0]} is not installed or not on PATH` : msg,
      install: INSTALL[name],
    };
  }
}

export async function checkKind(exec: Executor = defaultExecutor): Promise<KindCheck[]> {
  const [docker, kind, helm, kubectl] = await Promise.all([
    probe(
      exec,
      'docker',
      ['docker', 'info', '--format', '{{.ServerVersion}}'],
      TIMEOUTS.dockerInfo,
      (out) => `Docker engine ${firstLine(out) || '(version unknown)'} reachable`,
    ),
    probe(exec, 'kind', ['kind', 'version'], 10_000, firstLine),
    probe(exec, 'helm', ['helm', 'version', '--short'], 10_000, (out) => `helm ${firstLine(out)}`),
    probe(exec, 'kubectl', ['kubectl', 'version', '--client'], 10_000, firstLine),
  ]);
  if (!docker.ok && /Cannot connect to the Docker daemon|docker daemon running|permission denied/i.test(docker.detail))
    docker.detail = `the docker client is installed but no engine answers: ${docker.detail}`;
  return [docker, kind, helm, kubectl];
}

/**
 * What the existing backend needs here: kubectl and a kubeconfig whose cluster answers (with the
 * given context); helm is optional — without it the check of the installed release's values is
 * skipped. No Docker, no kind: the cluster already exists.
 */
export async function checkExisting(
  opts: { kubeconfig?: string; context?: string },
  exec: Executor = defaultExecutor,
): Promise<KindCheck[]> {
  const kubectl = await probe(exec, 'kubectl', ['kubectl', 'version', '--client'], 10_000, firstLine);
  const helm = await probe(exec, 'helm', ['helm', 'version', '--short'], 10_000, (out) => `helm ${firstLine(out)}`);
  if (!helm.ok) {
    helm.optional = true;
    helm.detail = `${helm.detail} (optional: without helm the installed release's values are not checked)`;
  }
  let cluster: KindCheck;
  if (!opts.kubeconfig)
    cluster = {
      name: 'kubeconfig',
      ok: false,
      detail: 'no kubeconfig given (--kubeconfig or KUBECONFIG)',
      install: INSTALL.kubeconfig,
    };
  else if (!kubectl.ok)
    cluster = {
      name: 'kubeconfig',
      ok: false,
      detail: `${opts.kubeconfig}: not checked without kubectl`,
      install: INSTALL.kubeconfig,
    };
  else {
    const argv = kubectlArgv(opts.kubeconfig, opts.context, 'version', '--request-timeout=10s');
    const where = `${opts.kubeconfig}${opts.context ? ` (context ${opts.context})` : ''}`;
    cluster = await probe(exec, 'kubeconfig', argv, 20_000, (out) => {
      const server = /Server Version:\s*(\S+)/.exec(out)?.[1];
      return `${where}: cluster reachable${server ? `, Kubernetes ${server}` : ''}`;
    });
    if (!cluster.ok) cluster.detail = `${where}: the cluster does not answer: ${cluster.detail}`;
  }
  return [kubectl, cluster, helm];
}
