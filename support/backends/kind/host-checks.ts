/**
 * What the kind backend needs on this machine: a reachable Docker engine (not just the client),
 * kind, helm and kubectl. `hookpoint doctor --backend kind` calls checkKind().
 */
import { DEFAULTS } from '../../config.ts';
import { defaultExecutor, type Executor } from '../k8s/executor.ts';
import { kubectlArgv, TIMEOUTS } from '../k8s/kubectl-commands.ts';
import { pinnedNodeImage } from './node-images.ts';

export interface KindCheck {
  name: string;
  ok: boolean;
  detail: string;
  install?: string;
}

function safePin(k8sVersion: string) {
  try {
    return pinnedNodeImage(k8sVersion);
  } catch {
    return undefined;
  }
}

/**
 * How to install the kind that built the run's node image: kind supports a node image with the
 * kind release it was released with (best effort with others), so never kind@latest.
 */
export function kindInstallHint(k8sVersion: string): string {
  const pin = safePin(k8sVersion);
  if (!pin)
    return `Install the kind release whose notes list kindest/node:${k8sVersion} (https://github.com/kubernetes-sigs/kind/releases); Hookpoint pins no image for that version.`;
  return `Install kind ${pin.kind}, the release that built ${pin.image.split('@')[0]}: \`go install sigs.k8s.io/kind@${pin.kind}\`, or download https://kind.sigs.k8s.io/dl/${pin.kind}/kind-linux-amd64 (https://kind.sigs.k8s.io/docs/user/quick-start/#installation).`;
}

/** `kind version` prints "kind v0.20.0 go1.20.4 linux/amd64". */
export function parseKindVersion(stdout: string): string | undefined {
  return /\bkind (v\d+\.\d+\.\d+)/.exec(stdout)?.[1];
}

/** What to say about an installed kind for a node image: nothing when it is the kind that built it. */
export function kindVersionNote(installed: string | undefined, k8sVersion: string): string | undefined {
  const pin = safePin(k8sVersion);
  if (!pin || !installed || installed === pin.kind) return undefined;
  return `the node image ${pin.image.split('@')[0]} was built by kind ${pin.kind}; kind ${installed} runs it best effort only (install kind ${pin.kind}, or pass --k8s with an image of kind ${installed})`;
}

const INSTALL = {
  docker:
    'Install Docker Engine (https://docs.docker.com/engine/install/) and start it (`systemctl start docker`), or use --backend lab.',
  kind: kindInstallHint(DEFAULTS.k8s),
  helm: 'Install Helm 3 (https://helm.sh/docs/intro/install/).',
  kubectl: 'Install kubectl (https://kubernetes.io/docs/tasks/tools/).',
} as const;

function installHint(name: keyof typeof INSTALL): string {
  return name === 'kind' ? kindInstallHint(process.env.HOOKPOINT_K8S ?? DEFAULTS.k8s) : INSTALL[name];
}

/** The programs the kind and existing backends run on this machine (the inventory test checks the code against it). */
export const KIND_HOST_TOOLS: readonly string[] = Object.keys(INSTALL);

const KUBECONFIG_FIX =
  'Pass --kubeconfig FILE (and --context NAME) of a cluster this machine reaches, or set KUBECONFIG.';

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
    return { name, ok: false, detail: why, install: installHint(name) };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return {
      name,
      ok: false,
      detail: /not installed or not on PATH/.test(msg) ? `${argv[0]} is not installed or not on PATH` : msg,
      install: installHint(name),
    };
  }
}

/** One tool a cluster backend needs on this machine, checked by running it. */
export async function checkClusterTool(
  tool: keyof typeof INSTALL,
  exec: Executor = defaultExecutor,
  k8sVersion: string = process.env.HOOKPOINT_K8S ?? DEFAULTS.k8s,
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
      return probe(exec, 'kind', ['kind', 'version'], 10_000, (out) => {
        const note = kindVersionNote(parseKindVersion(out), k8sVersion);
        return note ? `${firstLine(out)} — ${note}` : firstLine(out);
      });
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

/**
 * The existing backend's cluster: a kubeconfig (and context) whose API server answers kubectl.
 * Without a kubeconfig, or without kubectl, it cannot be checked.
 */
export async function checkKubeconfig(
  opts: { kubeconfig?: string; context?: string },
  exec: Executor = defaultExecutor,
): Promise<KindCheck> {
  const fail = (detail: string): KindCheck => ({ name: 'kubeconfig', ok: false, detail, install: KUBECONFIG_FIX });
  if (!opts.kubeconfig) return fail('no kubeconfig given (--kubeconfig or KUBECONFIG)');
  const where = `${opts.kubeconfig}${opts.context ? ` (context ${opts.context})` : ''}`;
  const argv = kubectlArgv(opts.kubeconfig, opts.context, 'version', '--request-timeout=10s');
  try {
    const res = await exec.run(argv, { timeoutMs: 20_000, where: 'host', check: false });
    if (res.exitCode === 0) {
      const server = /Server Version:\s*(\S+)/.exec(res.stdout)?.[1];
      return {
        name: 'kubeconfig',
        ok: true,
        detail: `${where}: cluster reachable${server ? `, Kubernetes ${server}` : ''}`,
      };
    }
    return fail(
      `${where}: the cluster does not answer: ${firstLine(res.stderr || res.stdout) || `exit code ${res.exitCode}`}`,
    );
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return fail(/not installed or not on PATH/.test(msg) ? `${where}: not checked, kubectl is not installed` : msg);
  }
}
