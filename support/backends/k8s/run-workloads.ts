/**
 * The run's namespace and the scenario workloads in it: echo deployments pinned to nodes,
 * services (waiting for their endpoints), client pods, and their removal. Manifests come from
 * workload-manifests.ts; the namespace is deleted at teardown with everything in it.
 */
import { UsageError } from '../../errors.ts';
import type { ClientSpec, EchoSpec, PodInfo, ServiceInfo, ServiceSpec } from '../types.ts';
import type { ClusterAccess } from './cluster-access.ts';
import { waitUntil } from './readiness.ts';
import type { ClusterTopology } from './topology.ts';
import {
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
  private readonly echoPorts = new Map<string, number>();

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
    this.echoPorts.set(spec.name, spec.port ?? DEFAULT_ECHO_PORT);
    for (const n of nodes) this.c.involved.add(n);
    await this.waitPodsReady(`echo deployment "${spec.name}"`, `app=${spec.name}`, nodes.length);
  }

  async exposeService(spec: ServiceSpec): Promise<ServiceInfo> {
    await this.ensureNamespace();
    const onlyNodes = spec.onlyNodes ? await Promise.all(spec.onlyNodes.map((n) => this.topo.nodeName(n))) : undefined;
    const manifest = serviceManifest({ ...spec, onlyNodes }, this.echoPorts.get(spec.app) ?? DEFAULT_ECHO_PORT);
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

  async runClient(spec: ClientSpec): Promise<PodInfo> {
    if (spec.namespace && spec.namespace !== 'default')
      throw new UsageError(
        `Client pod "${spec.name}" in namespace "${spec.namespace}": on ${this.c.opts.name} every workload of a run lives in the run's namespace ${this.c.namespace}.`,
        'Run scenarios with pods in other namespaces on the lab, or leave the namespace out.',
      );
    await this.ensureNamespace();
    const node = await this.topo.nodeName(spec.node);
    const api = this.c.api();
    await api.createPod(this.c.namespace, clientPod({ ...spec, node }, this.c.runId, this.c.opts.images));
    this.c.involved.add(node);
    await waitUntil(
      `client pod "${spec.name}"`,
      async () => {
        const p = await api.readPod(this.c.namespace, spec.name);
        const ready = p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
        return { done: ready, state: p?.status?.phase ?? 'not created' };
      },
      { timeoutMs: this.c.t.workloadReady, intervalMs: this.c.pollMs, deps: this.c.waitDeps },
    );
    const p = (await api.readPod(this.c.namespace, spec.name))!;
    return {
      name: spec.name,
      namespace: this.c.namespace,
      node,
      ip: p.status?.podIP ?? '',
      endpointId: await api.ciliumEndpointId(this.c.namespace, spec.name),
    };
  }

  async removeWorkload(kind: 'echo' | 'service' | 'client', name: string): Promise<void> {
    if (!this.namespaceCreated) return;
    const api = this.c.api();
    if (kind === 'service') return api.deleteService(this.c.namespace, name);
    if (kind === 'client') {
      this.forgetPod(this.c.namespace, name);
      return api.deletePod(this.c.namespace, name);
    }
    for (const d of await api.listDeployments(this.c.namespace, `app=${name}`))
      await api.deleteDeployment(this.c.namespace, d.metadata!.name!);
    this.echoPorts.delete(name);
  }

  /** Delete the run namespace with everything in it; errors are returned, not thrown. */
  async deleteNamespace(): Promise<string[]> {
    if (!this.namespaceCreated) return [];
    try {
      await this.c.api().deleteNamespace(this.c.namespace);
      this.namespaceCreated = false;
      return [];
    } catch (e) {
      return [(e as Error).message];
    }
  }
}
