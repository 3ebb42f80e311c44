/**
 * The Kubernetes API through @kubernetes/client-node 2.x, with our own timeout around every
 * call (client-node has none: an API server that accepts TCP and never answers hangs forever)
 * and its error shapes (ApiException with a JSON string body; `TypeError: fetch failed` with
 * `cause.code`) turned into one-paragraph InfraErrors.
 */
import * as k8s from '@kubernetes/client-node';
import { InfraError } from '../../errors.ts';
import { TIMEOUTS } from './kubectl-commands.ts';

/** An API answer other than 2xx, as an InfraError carrying the HTTP status and reason. */
export class KubeApiError extends InfraError {
  readonly status: number;
  readonly reason: string;
  constructor(message: string, status: number, reason: string, hint?: string) {
    super(message, { hint });
    this.status = status;
    this.reason = reason;
  }
}

function signalMiddleware(signal: AbortSignal): k8s.ObservableMiddleware {
  return {
    pre: (ctx) => {
      ctx.setSignal(signal);
      return new k8s.Observable(Promise.resolve(ctx));
    },
    post: (ctx) => new k8s.Observable(Promise.resolve(ctx)),
  };
}

type CallOptions = k8s.ConfigurationOptions;

function apiMessage(body: unknown): { reason: string; message: string } {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return { reason: '', message: body.trim().slice(0, 300) };
    }
  }
  const o = (parsed ?? {}) as { reason?: string; message?: string };
  return { reason: o.reason ?? '', message: o.message ?? '' };
}

export class KubeApi {
  readonly kc: k8s.KubeConfig;
  readonly server: string;
  readonly core: k8s.CoreV1Api;
  readonly apps: k8s.AppsV1Api;
  readonly coordination: k8s.CoordinationV1Api;
  readonly discovery: k8s.DiscoveryV1Api;
  readonly custom: k8s.CustomObjectsApi;
  private readonly timeoutMs: number;

  constructor(kc: k8s.KubeConfig, opts: { timeoutMs?: number } = {}) {
    this.kc = kc;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new InfraError('The kubeconfig has no current cluster.');
    this.server = cluster.server;
    this.core = kc.makeApiClient(k8s.CoreV1Api);
    this.apps = kc.makeApiClient(k8s.AppsV1Api);
    this.coordination = kc.makeApiClient(k8s.CoordinationV1Api);
    this.discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
    this.timeoutMs = opts.timeoutMs ?? TIMEOUTS.apiCall;
  }

  /** Load a kubeconfig file (never the user's default), optionally selecting a context. */
  static fromFile(file: string, context?: string, opts: { timeoutMs?: number } = {}): KubeApi {
    const kc = new k8s.KubeConfig();
    try {
      kc.loadFromFile(file);
    } catch (err) {
      throw new InfraError(`The kubeconfig "${file}" cannot be loaded: ${(err as Error).message}.`);
    }
    if (context) {
      if (!kc.getContexts().some((c) => c.name === context))
        throw new InfraError(
          `The kubeconfig "${file}" has no context "${context}" (it has: ${
            kc
              .getContexts()
              .map((c) => c.name)
              .join(', ') || 'none'
          }).`,
        );
      kc.setCurrentContext(context);
    }
    return new KubeApi(kc, opts);
  }

  /**
   * Run one API call with a deadline: the request carries an AbortSignal and the promise races
   * a timer, so neither a silent server nor a stuck body read can hang the run.
   */
  async call<T>(what: string, fn: (options: CallOptions) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ac.abort();
        reject(
          new InfraError(`The Kubernetes API at ${this.server} did not answer within ${timeoutMs} ms (${what}).`, {
            hint: 'Is the API server overloaded or the cluster paused? `kubectl get --raw /readyz` with the same kubeconfig shows it.',
          }),
        );
      }, timeoutMs);
    });
    try {
      return await Promise.race([
        fn({ middleware: [signalMiddleware(ac.signal)], middlewareMergeStrategy: 'append' }),
        deadline,
      ]);
    } catch (err) {
      throw this.translate(err, what);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Like call(), but a 404 gives null. */
  async readOrNull<T>(what: string, fn: (options: CallOptions) => Promise<T>): Promise<T | null> {
    try {
      return await this.call(what, fn);
    } catch (err) {
      if (err instanceof KubeApiError && err.status === 404) return null;
      throw err;
    }
  }

  private translate(err: unknown, what: string): Error {
    if (err instanceof InfraError) return err;
    if (err instanceof k8s.ApiException) {
      const { reason, message } = apiMessage(err.body);
      const hint =
        err.code === 401 || err.code === 403
          ? 'Check the kubeconfig user has the rights Hookpoint needs (namespaces, pods, pods/exec, services, deployments, daemonsets, leases).'
          : undefined;
      return new KubeApiError(
        `The Kubernetes API at ${this.server} refused ${what}: HTTP ${err.code}${reason ? ` ${reason}` : ''}${message ? ` — ${message}` : ''}.`,
        err.code,
        reason,
        hint,
      );
    }
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    if (err instanceof TypeError && cause) {
      const code = cause.code ?? cause.message ?? 'unknown';
      return new InfraError(`Cannot reach the Kubernetes API at ${this.server} (${code}) while ${what}.`, {
        hint:
          code === 'ECONNREFUSED'
            ? 'Is the cluster running? For Kind: `kind get clusters` and `docker ps`.'
            : 'Check the server address in the kubeconfig.',
        cause: err,
      });
    }
    if ((err as Error)?.name === 'AbortError')
      return new InfraError(`The Kubernetes API call was aborted (${what}) at ${this.server}.`, { cause: err });
    return new InfraError(
      `The Kubernetes API call failed (${what}) at ${this.server}: ${(err as Error)?.message ?? String(err)}.`,
      {
        cause: err,
      },
    );
  }

  // --- The calls the backends make (each bounded by call()). ---

  listNodes(): Promise<k8s.V1Node[]> {
    return this.call('listing nodes', (o) => this.core.listNode({}, o)).then((l) => l.items);
  }

  readDaemonSet(namespace: string, name: string): Promise<k8s.V1DaemonSet | null> {
    return this.readOrNull(`reading DaemonSet ${namespace}/${name}`, (o) =>
      this.apps.readNamespacedDaemonSet({ namespace, name }, o),
    );
  }

  listPods(namespace: string, sel: { labelSelector?: string; fieldSelector?: string } = {}): Promise<k8s.V1Pod[]> {
    return this.call(`listing pods in ${namespace}`, (o) => this.core.listNamespacedPod({ namespace, ...sel }, o)).then(
      (l) => l.items,
    );
  }

  readPod(namespace: string, name: string): Promise<k8s.V1Pod | null> {
    return this.readOrNull(`reading pod ${namespace}/${name}`, (o) =>
      this.core.readNamespacedPod({ namespace, name }, o),
    );
  }

  createNamespace(name: string, labels: Record<string, string>): Promise<k8s.V1Namespace> {
    return this.call(`creating namespace ${name}`, (o) =>
      this.core.createNamespace({ body: { metadata: { name, labels } } }, o),
    );
  }

  readNamespace(name: string): Promise<k8s.V1Namespace | null> {
    return this.readOrNull(`reading namespace ${name}`, (o) => this.core.readNamespace({ name }, o));
  }

  async deleteNamespace(name: string): Promise<void> {
    await this.readOrNull(`deleting namespace ${name}`, (o) => this.core.deleteNamespace({ name }, o));
  }

  createDeployment(namespace: string, body: k8s.V1Deployment): Promise<k8s.V1Deployment> {
    return this.call(`creating deployment ${namespace}/${body.metadata?.name}`, (o) =>
      this.apps.createNamespacedDeployment({ namespace, body }, o),
    );
  }

  listDeployments(namespace: string, labelSelector?: string): Promise<k8s.V1Deployment[]> {
    return this.call(`listing deployments in ${namespace}`, (o) =>
      this.apps.listNamespacedDeployment({ namespace, labelSelector }, o),
    ).then((l) => l.items);
  }

  async deleteDeployment(namespace: string, name: string): Promise<void> {
    await this.readOrNull(`deleting deployment ${namespace}/${name}`, (o) =>
      this.apps.deleteNamespacedDeployment({ namespace, name, propagationPolicy: 'Foreground' }, o),
    );
  }

  createDaemonSet(namespace: string, body: k8s.V1DaemonSet): Promise<k8s.V1DaemonSet> {
    return this.call(`creating DaemonSet ${namespace}/${body.metadata?.name}`, (o) =>
      this.apps.createNamespacedDaemonSet({ namespace, body }, o),
    );
  }

  createService(namespace: string, body: k8s.V1Service): Promise<k8s.V1Service> {
    return this.call(`creating service ${namespace}/${body.metadata?.name}`, (o) =>
      this.core.createNamespacedService({ namespace, body }, o),
    );
  }

  readService(namespace: string, name: string): Promise<k8s.V1Service | null> {
    return this.readOrNull(`reading service ${namespace}/${name}`, (o) =>
      this.core.readNamespacedService({ namespace, name }, o),
    );
  }

  listServices(namespace: string): Promise<k8s.V1Service[]> {
    return this.call(`listing services in ${namespace}`, (o) => this.core.listNamespacedService({ namespace }, o)).then(
      (l) => l.items,
    );
  }

  async deleteService(namespace: string, name: string): Promise<void> {
    await this.readOrNull(`deleting service ${namespace}/${name}`, (o) =>
      this.core.deleteNamespacedService({ namespace, name }, o),
    );
  }

  createPod(namespace: string, body: k8s.V1Pod): Promise<k8s.V1Pod> {
    return this.call(`creating pod ${namespace}/${body.metadata?.name}`, (o) =>
      this.core.createNamespacedPod({ namespace, body }, o),
    );
  }

  async deletePod(namespace: string, name: string): Promise<void> {
    await this.readOrNull(`deleting pod ${namespace}/${name}`, (o) =>
      this.core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 }, o),
    );
  }

  listEndpointSlices(namespace: string, service: string): Promise<k8s.V1EndpointSlice[]> {
    return this.call(`listing EndpointSlices of ${namespace}/${service}`, (o) =>
      this.discovery.listNamespacedEndpointSlice(
        { namespace, labelSelector: `kubernetes.io/service-name=${service}` },
        o,
      ),
    ).then((l) => l.items);
  }

  /** The Cilium endpoint id of a pod (CiliumEndpoint status.id), or undefined. */
  async ciliumEndpointId(namespace: string, pod: string): Promise<number | undefined> {
    const cep = (await this.readOrNull(`reading CiliumEndpoint ${namespace}/${pod}`, (o) =>
      this.custom.getNamespacedCustomObject(
        { group: 'cilium.io', version: 'v2', namespace, plural: 'ciliumendpoints', name: pod },
        o,
      ),
    )) as { status?: { id?: number } } | null;
    return typeof cep?.status?.id === 'number' ? cep.status.id : undefined;
  }

  /** A node's CiliumNode (cilium.io/v2, cluster-scoped; named like the node), or null. */
  readCiliumNode(node: string): Promise<unknown | null> {
    return this.readOrNull(`reading CiliumNode ${node}`, (o) =>
      this.custom.getClusterCustomObject({ group: 'cilium.io', version: 'v2', plural: 'ciliumnodes', name: node }, o),
    );
  }

  readLease(namespace: string, name: string): Promise<k8s.V1Lease | null> {
    return this.readOrNull(`reading Lease ${namespace}/${name}`, (o) =>
      this.coordination.readNamespacedLease({ namespace, name }, o),
    );
  }

  createLease(namespace: string, body: k8s.V1Lease): Promise<k8s.V1Lease> {
    return this.call(`creating Lease ${namespace}/${body.metadata?.name}`, (o) =>
      this.coordination.createNamespacedLease({ namespace, body }, o),
    );
  }

  replaceLease(namespace: string, body: k8s.V1Lease): Promise<k8s.V1Lease> {
    return this.call(`updating Lease ${namespace}/${body.metadata?.name}`, (o) =>
      this.coordination.replaceNamespacedLease({ namespace, name: body.metadata!.name!, body }, o),
    );
  }

  async deleteLease(namespace: string, name: string): Promise<void> {
    await this.readOrNull(`deleting Lease ${namespace}/${name}`, (o) =>
      this.coordination.deleteNamespacedLease({ namespace, name }, o),
    );
  }
}
