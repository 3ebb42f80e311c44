/**
 * What the kind backend needs on this machine: a reachable Docker engine (not just the client),
 * kind, helm and kubectl. `hookpoint doctor --backend kind` calls checkKind().
 */
import { defaultExecutor, type Executor } from '../k8s/executor.ts';
import { TIMEOUTS } from '../k8s/kubectl-commands.ts';

export interface KindCheck {
  name: string;
  ok: boolean;
  detail: string;
  install?: string;
}

const INSTALL = {
  docker:
    'Install Docker Engine (https://docs.docker.com/engine/install/) and start it (`systemctl start docker`), or use --backend lab.',
  kind: 'Install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation), e.g. `go install sigs.k8s.io/kind@latest`.',
  helm: 'Install Helm 3 (https://helm.sh/docs/intro/install/).',
  kubectl: 'Install kubectl (https://kubernetes.io/docs/tasks/tools/).',
} as const;

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

/** One tool a cluster backend needs on this machine, checked by running it. */
export async function checkClusterTool(
  tool: keyof typeof INSTALL,
  exec: Executor = defaultExecutor,
): Promise<KindCheck> {
  switch (tool) {
    case 'docker': {
      const docker = await probe(
        exec,
        'docker',
        ['docker', 'info', '--format', '{{.ServerVersion}}'],
        TIMEOUTS.dockerInfo,
        (out) => `Docker engine ${firstLine(out) || '(version unknown)'} reachable`,
      );
      if (
        !docker.ok &&
        /Cannot connect to the Docker daemon|docker daemon running|permission denied/i.test(docker.detail)
      )
        docker.detail = `the docker client is installed but no engine answers: ${docker.detail}`;
      return docker;
    }
    case 'kind':
      return probe(exec, 'kind', ['kind', 'version'], 10_000, firstLine);
    case 'helm':
      return probe(exec, 'helm', ['helm', 'version', '--short'], 10_000, (out) => `helm ${firstLine(out)}`);
    case 'kubectl':
      return probe(exec, 'kubectl', ['kubectl', 'version', '--client'], 10_000, firstLine);
  }
}

/** Everything the kind backend needs: a Docker engine, kind, helm and kubectl. */
export async function checkKind(exec: Executor = defaultExecutor): Promise<KindCheck[]> {
  return Promise.all((['docker', 'kind', 'helm', 'kubectl'] as const).map((t) => checkClusterTool(t, exec)));
}
