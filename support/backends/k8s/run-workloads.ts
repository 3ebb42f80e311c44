/**
 * The run's namespace and the scenario workloads in it: echo deployments pinned to nodes,
 * services (waiting for their endpoints), client pods, and their removal. Manifests come from
 * workload-manifests.ts; the namespace is deleted at teardown with everything in it.
 */
import { UsageError } from '../../errors.ts';
import type { ClientSpec, EchoSpec, Listener, PodInfo, ServiceInfo, ServiceSpec } from '../types.ts';
import type { ClusterAccess } from './cluster-access.ts';
import { waitUntil } from './readiness.ts';
import type { ClusterTopology } from './topology.ts';
import {
  clientNamespaceLabels,
  clientPod,
  DEFAULT_ECHO_PORT,
  echoDeployments,
  namespaceLabels,
  serviceManifest,
} from './workload-manifests.ts';

export class RunWorkloads {
  private readonly c: ClusterAccess;
  private readonly topo: ClusterTopology;
  private readonly forgetPod: (namespace: string, pod: string) => void;
  private namespaceCreated = false;
  /** The echo deployments made, with their node names resolved (their listeners grow with their services). */
  private readonly echoes = new Map<string, EchoSpec>();
  /** The namespace of each client pod the run made. */
  private readonly clientNamespace = new Map<string, string>();
  /** Namespaces other than the run's that hold its client pods, and whether the run created them. */
  private readonly otherNamespaces = new Map<string, { created: boolean }>();

  constructor(
    c: ClusterAccess,
    deps: { topology: ClusterTopology; forgetPod: (namespace: string, pod: string) => void },
  ) {
    this.c = c;
    this.topo = deps.topology;
    this.forgetPod = deps.forgetPod;
  }

  /** Whether the run namespace exists (collectors describe its pods; topology lists them). */
  get namespaceExists(): boolean {
    return this.namespaceCreated;
  }

  async ensureNamespace(): Promise<void> {
    if (this.namespaceCreated) return;
    await this.c.api().createNamespace(this.c.namespace, namespaceLabels(this.c.runId));
    this.namespaceCreated = true;
  }

  private async waitPodsReady(what: string, labelSelector: string, count: number): Promise<void> {
    await waitUntil(
      what,
      async () => {
        const pods = await this.c.api().listPods(this.c.namespace, { labelSelector });
        const ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
        return { done: ready.length >= count, state: `${ready.length}/${count} pods ready` };
      },
      { timeoutMs: this.c.t.workloadReady, intervalMs: this.c.pollMs, deps: this.c.waitDeps },
    );
  }

  async deployEcho(spec: EchoSpec): Promise<void> {
    await this.ensureNamespace();
    const nodes = await Promise.all(spec.nodes.map((n) => this.topo.nodeName(n)));
    for (const d of echoDeployments({ ...spec, nodes }, this.c.opts.cluster, this.c.runId, this.c.opts.images))
      await this.c.api().createDeployment(this.c.namespace, d);
    this.echoes.set(spec.name, { ...spec, nodes, port: spec.port ?? DEFAULT_ECHO_PORT });
    for (const n of nodes) this.c.involved.add(n);
    await this.waitPodsReady(`echo deployment "${spec.name}"`, `app=${spec.name}`, nodes.length);
  }

  /**
   * The echo workload answers on every target port its services name: a service whose target
   * port (or protocol) the echo pods do not answer on yet gets them remade with one more listener.
   */
  private async ensureListening(app: string, listener: Listener): Promise<void> {
    const echo = this.echoes.get(app);
    if (!echo) return;
    const listens = [{ port: echo.port!, protocol: 'TCP' }, ...(echo.listeners ?? [])];
    if (listens.some((l) => l.port === listener.port && l.protocol === listener.protocol)) return;
    const api = this.c.api();
    for (const d of await api.listDeployments(this.c.namespace, `app=${app}`))
      await api.deleteDeployment(this.c.namespace, d.metadata!.name!);
    await this.deployEcho({ ...echo, listeners: [...(echo.listeners ?? []), listener] });
  }

  async exposeService(spec: ServiceSpec): Promise<ServiceInfo> {
    await this.ensureNamespace();
    const onlyNodes = spec.onlyNodes ? await Promise.all(spec.onlyNodes.map((n) => this.topo.nodeName(n))) : undefined;
    const echoPort = this.echoes.get(spec.app)?.port ?? DEFAULT_ECHO_PORT;
    await this.ensureListening(spec.app, { port: spec.targetPort ?? echoPort, protocol: spec.protocol ?? 'TCP' });
    const manifest = serviceManifest({ ...spec, onlyNodes }, echoPort);
    const api = this.c.api();
    await api.createService(this.c.namespace, manifest);
    const pods = await api.listPods(this.c.namespace, {
      labelSelector: Object.entries(manifest.spec!.selector!)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    });
    let info: ServiceInfo | undefined;
    await waitUntil(
      `endpoints of service "${spec.name}"`,
      async () => {
        const svc = await api.readService(this.c.namespace, spec.name);
        if (!svc) return { done: false, state: 'service not found' };
        info = await this.topo.serviceInfo(svc);
        return {
          done: info.endpoints.length >= pods.length && pods.length > 0,
          state: `${info.endpoints.length}/${pods.length} ready endpoints`,
        };
      },
      { timeoutMs: this.c.t.workloadReady, intervalMs: this.c.pollMs, deps: this.c.waitDeps },
    );
    return info!;
  }

  /** Namespaces other than the run's where its client pods live now (topology lists their pods). */
  clientNamespaces(): string[] {
    return [...this.otherNamespaces.keys()];
  }

  /**
   * The namespace a client pod goes to: "default" (or none) is the run's own; another is used
   * as named, created when missing (and then removed with the scenario's last client there).
   */
  private async clientNamespaceFor(spec: ClientSpec): Promise<string> {
    const ns = spec.namespace;
    if (!ns || ns === 'default' || ns === this.c.namespace) return this.c.namespace;
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns) || ns.length > 63)
      throw new UsageError(
        `Client pod "${spec.name}" in namespace "${ns}": a namespace name is a DNS-1123 label (lower case letters, digits, "-", at most 63).`,
      );
    if (this.otherNamespaces.has(ns)) return ns;
    const api = this.c.api();
    let created = false;
    if (!(await api.readNamespace(ns))) {
      await api.createNamespace(ns, clientNamespaceLabels(this.c.runId));
      created = true;
    }
    this.otherNamespaces.set(ns, { created });
    return ns;
  }

  /** Remove a namespace the run created once none of its clients is left there, and wait until it is gone. */
  private async releaseNamespace(ns: string): Promise<void> {
    const other = this.otherNamespaces.get(ns);
    if (!other || [...this.clientNamespace.values()].includes(ns)) return;
    this.otherNamespaces.delete(ns);
    if (!other.created) return;
    const api = this.c.api();
    await api.deleteNamespace(ns);
    // A terminating namespace refuses new pods: the next scenario may want it again.
    await waitUntil(
      `namespace "${ns}" to be deleted`,
      async () => {
        const n = await api.readNamespace(ns);
        return { done: n === null, state: n?.status?.phase ?? 'gone' };
      },
      { timeoutMs: this.c.t.workloadReady, intervalMs: this.c.pollMs, deps: this.c.waitDeps },
    );
  }

  async runClient(spec: ClientSpec): Promise<PodInfo> {
    await this.ensureNamespace();
    const ns = await this.clientNamespaceFor(spec);
    const node = await this.topo.nodeName(spec.node);
    const api = this.c.api();
    await api.createPod(ns, clientPod({ ...spec, node }, this.c.runId, this.c.opts.images));
    this.clientNamespace.set(spec.name, ns);
    this.c.involved.add(node);
    await waitUntil(
      `client pod "${spec.name}"`,
      async () => {
        const p = await api.readPod(ns, spec.name);
        const ready = p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
        return { done: ready, state: p?.status?.phase ?? 'not created' };
      },
      { timeoutMs: this.c.t.workloadReady, intervalMs: this.c.pollMs, deps: this.c.waitDeps },
    );
    const p = (await api.readPod(ns, spec.name))!;
    return {
      name: spec.name,
      namespace: ns,
      node,
      ip: p.status?.podIP ?? '',
      endpointId: await api.ciliumEndpointId(ns, spec.name),
      labels: spec.labels,
    };
  }

  async removeWorkload(kind: 'echo' | 'service' | 'client', name: string): Promise<void> {
    if (!this.namespaceCreated) return;
    const api = this.c.api();
    if (kind === 'service') return api.deleteService(this.c.namespace, name);
    if (kind === 'client') {
      const ns = this.clientNamespace.get(name) ?? this.c.namespace;
      this.forgetPod(ns, name);
      await api.deletePod(ns, name);
      this.clientNamespace.delete(name);
      if (ns !== this.c.namespace) await this.releaseNamespace(ns);
      return;
    }
    for (const d of await api.listDeployments(this.c.namespace, `app=${name}`))
      await api.deleteDeployment(this.c.namespace, d.metadata!.name!);
    this.echoes.delete(name);
  }

  /** Delete the run namespace with everything in it; errors are returned, not thrown. */
  async deleteNamespace(): Promise<string[]> {
    const errors: string[] = [];
    // Namespaces the run created for clients that a failed cleanup left behind.
    for (const [ns, other] of [...this.otherNamespaces]) {
      this.otherNamespaces.delete(ns);
      if (other.created)
        await this.c
          .api()
          .deleteNamespace(ns)
          .catch((e: Error) => errors.push(e.message));
    }
    if (!this.namespaceCreated) return errors;
    try {
      await this.c.api().deleteNamespace(this.c.namespace);
      this.namespaceCreated = false;
      return errors;
    } catch (e) {
      return [...errors, (e as Error).message];
    }
  }
}
