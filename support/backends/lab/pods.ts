/**
 * The lab's pods as the model knows them: echo deployments (one replica per node) and client
 * pods — their names, addresses and endpoint ids, added and removed with the kernel side
 * (pod-netns.ts), the nodes' datapath endpoints and the services that select them.
 */
import { UsageError } from '../../errors.ts';
import type { ClientSpec, EchoSpec, Listener, PodInfo } from '../types.ts';
import { podLabelMap } from './agent/identities.ts';
import { podNetns, podSuffix, validateName } from './names.ts';
import {
  createPods,
  describePod,
  echoListeners,
  echoPidFile,
  echoRunning,
  type LabPod,
  removePods,
  restartEcho,
  startEcho,
} from './pod-netns.ts';
import type { LabServices } from './services.ts';
import type { LabSession } from './state.ts';

export class LabPods {
  private readonly lab: LabSession;
  private readonly services: LabServices;

  constructor(lab: LabSession, services: LabServices) {
    this.lab = lab;
    this.services = services;
  }

  /** A pod as the Backend interface shows it. */
  info(p: LabPod): PodInfo {
    return {
      name: p.name,
      namespace: p.namespace,
      node: p.node,
      ip: p.ip,
      mac: p.mac,
      hostVeth: p.hostVeth,
      hostVethMac: p.hostVethMac,
      endpointId: p.endpointId,
      app: p.app,
      labels: podLabelMap(p),
      ...(p.kind === 'echo' ? { listeners: echoListeners(p) } : {}),
    };
  }

  async deployEcho(spec: EchoSpec): Promise<void> {
    const s = this.lab.labState;
    const name = validateName('deployment', spec.name);
    const port = spec.port ?? 80;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`Echo port ${port} is not a port.`);
    if (spec.nodes.length === 0) throw new UsageError(`The echo deployment "${name}" needs at least one node.`);
    const nodes = [...new Set(spec.nodes.map((n) => this.lab.node(n).name))];
    const existing = s.deployments.find((d) => d.name === name);
    if (existing) {
      if (existing.port === port && existing.nodes.join() === nodes.join()) return;
      throw new UsageError(
        `The echo deployment "${name}" already exists on ${existing.nodes.join(', ')} (port ${existing.port}).`,
        'Remove it first or use another name.',
      );
    }
    const template = podSuffix(`${s.cluster}/deploy/${name}`, 10);
    const pods = this.allocate(
      nodes.map((node) => ({
        name: `${name}-${template}-${podSuffix(`${s.cluster}/deploy/${name}/${node}`, 5)}`,
        node,
      })),
      'echo',
      { app: name, port, namespace: validateName('namespace', spec.namespace ?? 'default') },
    );
    s.deployments.push({ name, nodes, port });
    await this.add(pods);
    this.lab.noteAdded('echo', name);
    await this.services.podsChanged(name);
  }

  async runClient(spec: ClientSpec): Promise<PodInfo> {
    const name = validateName('pod', spec.name);
    const node = this.lab.node(spec.node).name;
    const existing = this.lab.labState.pods.find((p) => p.name === name);
    if (existing) {
      if (existing.kind === 'client' && existing.node === node) return this.info(existing);
      throw new UsageError(`A pod named "${name}" already exists in lab "${this.lab.labState.cluster}".`);
    }
    const namespace = validateName('namespace', spec.namespace ?? 'default');
    const [pod] = this.allocate([{ name, node }], 'client', { namespace, labels: spec.labels });
    await this.add([pod!]);
    this.lab.noteAdded('client', name);
    return this.info(pod!);
  }

  private allocate(
    wanted: Array<{ name: string; node: string }>,
    kind: 'echo' | 'client',
    extra: { app?: string; port?: number; namespace?: string; labels?: Record<string, string> },
  ): LabPod[] {
    const s = this.lab.labState;
    const ips = new Set(s.pods.map((p) => p.ip));
    const ids = new Set(s.pods.map((p) => p.endpointId));
    const out: LabPod[] = [];
    for (const w of wanted) {
      validateName('pod', w.name);
      if (s.pods.some((p) => p.name === w.name))
        throw new UsageError(`A pod named "${w.name}" already exists in lab "${s.cluster}".`);
      const pod = describePod(s.cluster, this.lab.node(w.node), w.name, kind, { ips, ids }, extra);
      ips.add(pod.ip);
      ids.add(pod.endpointId);
      out.push(pod);
    }
    return out;
  }

  /** Namespaces, veths, routes, echo servers, then the datapath (attach + endpoints) of their nodes. */
  private async add(pods: LabPod[]): Promise<void> {
    const s = this.lab.labState;
    const rd = this.lab.runDir;
    for (const p of pods) {
      rd.record({ kind: 'netns', name: podNetns(s.cluster, p.name) });
      if (p.kind === 'echo') rd.record({ kind: 'pidfile', path: echoPidFile(rd, p.name) });
    }
    s.pods.push(...pods);
    this.lab.save();
    await createPods(rd, s.cluster, s.plan.nodes, pods);
    await Promise.all([
      ...pods.filter((p) => p.kind === 'echo').map((p) => startEcho(rd, s.cluster, p, s.kpr?.cgroups[p.node])),
      ...[...new Set(pods.map((p) => p.node))].map((node) => this.lab.datapaths.attachPods(node, pods, s.pods)),
    ]);
    // New identities: every node's ipcache, and policies that select the new pods or allow them.
    await this.lab.datapaths.syncPolicy(s);
  }

  /** Remove an echo deployment's pods or a client pod: endpoints first, then the pods. */
  async remove(kind: 'echo' | 'client', name: string): Promise<void> {
    const s = this.lab.labState;
    const pods =
      kind === 'echo'
        ? s.pods.filter((p) => p.kind === 'echo' && p.app === name)
        : s.pods.filter((p) => p.kind === 'client' && p.name === name);
    if (kind === 'echo') s.deployments = s.deployments.filter((d) => d.name !== name);
    if (pods.length === 0) {
      this.lab.save();
      return;
    }
    // Endpoints first (kube-proxy and the datapath stop sending to them), then the pods.
    s.pods = s.pods.filter((p) => !pods.includes(p));
    this.lab.save();
    if (kind === 'echo') await this.services.podsChanged(name);
    await removePods(
      this.lab.runDir,
      s.cluster,
      pods.map((p) => p.name),
    );
    await Promise.all([...new Set(pods.map((p) => p.node))].map((n) => this.lab.datapaths.syncEndpoints(n, s.pods)));
    await this.lab.datapaths.syncPolicy(s);
  }

  /**
   * The echo workload answers on every target port its services name: add a listener to every
   * pod of `app` that lacks it and restart their echo servers with it (the pods keep their addresses).
   */
  async ensureListening(app: string, listener: Listener): Promise<void> {
    const s = this.lab.labState;
    const lacking = s.pods.filter(
      (p) =>
        p.kind === 'echo' &&
        p.app === app &&
        !echoListeners(p).some((l) => l.port === listener.port && l.protocol === listener.protocol),
    );
    if (lacking.length === 0) return;
    for (const p of lacking) p.extraListeners = [...(p.extraListeners ?? []), listener];
    this.lab.save();
    await Promise.all(lacking.map((p) => restartEcho(this.lab.runDir, s.cluster, p)));
  }

  /** A kept lab outlives its echo servers if someone killed them: start the missing ones. */
  async restartStoppedEchoes(): Promise<void> {
    const s = this.lab.labState;
    const rd = this.lab.runDir;
    await Promise.all(
      s.pods
        .filter((p) => p.kind === 'echo' && !echoRunning(rd, p.name))
        .map((p) => startEcho(rd, s.cluster, p, s.kpr?.cgroups[p.node])),
    );
  }
}
