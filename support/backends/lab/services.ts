/**
 * The lab's services: ClusterIP and NodePort allocation, their endpoints (the echo pods they
 * select), and the two things that translate them on every node — kube-proxy's iptables rules
 * and the datapath's service map — kept in step with the model.
 */
import { writeFileSync } from 'node:fs';
import { InfraError, UsageError } from '../../errors.ts';
import type { ServiceInfo, ServiceSpec } from '../types.ts';
import type { DatapathService } from './datapath/index.ts';
import {
  applyProxyRules,
  type ProxyService,
  proxyRules,
  renderRestore,
  rulesFromJson,
  rulesToJson,
} from './kube-proxy.ts';
import { nodeNetns, stableNumber, validateName } from './names.ts';
import type { LabPod } from './pod-netns.ts';
import type { LabService, LabSession } from './state.ts';
import { cidrContains, intToIp, parseCidr } from './topology.ts';

/** A service as `lab status --json` shows it (a contract: its endpoints are listed as `backends`). */
export interface ServiceStatus {
  name: string;
  clusterIP: string;
  port: number;
  nodePort: number | null;
  backends: string[];
}

export class LabServices {
  private readonly lab: LabSession;
  /** Numbers the kube-proxy rule files this process wrote, in order. */
  private planSeq = 0;

  constructor(lab: LabSession) {
    this.lab = lab;
  }

  /** A service as the Backend interface shows it. */
  info(svc: LabService): ServiceInfo {
    return {
      name: svc.name,
      namespace: svc.namespace,
      clusterIP: svc.clusterIP,
      port: svc.port,
      targetPort: svc.targetPort,
      portName: svc.portName,
      nodePort: svc.nodePort,
      protocol: svc.protocol,
      endpoints: this.endpointsOf(svc).map((p) => ({ pod: p.name, ip: p.ip, port: svc.targetPort, node: p.node })),
    };
  }

  /** Services as `lab status --json` shows them: endpoints as "ip:port" (under `backends`, the JSON contract). */
  statusServices(): ServiceStatus[] {
    return this.lab.labState.services.map((svc) => ({
      name: svc.name,
      clusterIP: svc.clusterIP,
      port: svc.port,
      nodePort: svc.nodePort,
      backends: this.endpointsOf(svc).map((p) => `${p.ip}:${svc.targetPort}`),
    }));
  }

  /** Endpoints of a service: ready echo pods of its app (on onlyNodes, when given). */
  endpointsOf(svc: LabService): LabPod[] {
    return this.lab.labState.pods
      .filter((p) => p.kind === 'echo' && p.app === svc.app)
      .filter((p) => !svc.onlyNodes || svc.onlyNodes.includes(p.node))
      .sort((a, b) => a.ip.localeCompare(b.ip, 'en', { numeric: true }));
  }

  async expose(spec: ServiceSpec): Promise<ServiceInfo> {
    const s = this.lab.labState;
    const name = validateName('service', spec.name);
    validateName('app', spec.app);
    const port = checkPort(spec.port, 'service port');
    const targetPort = checkPort(spec.targetPort ?? spec.port, 'target port');
    const protocol = spec.protocol ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP')
      throw new UsageError(`Protocol "${String(protocol)}" is not supported by the lab (TCP or UDP).`);
    if (spec.type !== 'ClusterIP' && spec.type !== 'NodePort')
      throw new UsageError(`Service type "${String(spec.type)}" is not supported by the lab (ClusterIP or NodePort).`);
    const onlyNodes = spec.onlyNodes ? [...new Set(spec.onlyNodes.map((n) => this.lab.node(n).name))] : null;
    const existing = s.services.find((x) => x.name === name);
    if (existing) {
      const same =
        existing.app === spec.app &&
        existing.port === port &&
        existing.targetPort === targetPort &&
        existing.protocol === protocol &&
        existing.type === spec.type &&
        (spec.nodePort === undefined || spec.nodePort === existing.nodePort) &&
        JSON.stringify(existing.onlyNodes) === JSON.stringify(onlyNodes);
      if (same) return this.info(existing);
      throw new UsageError(`The service "${name}" already exists with another spec.`, 'Remove it first.');
    }
    let nodePort: number | null = null;
    if (spec.type === 'NodePort') {
      const taken = new Set(s.services.map((x) => x.nodePort));
      if (spec.nodePort !== undefined) {
        nodePort = checkPort(spec.nodePort, 'nodePort');
        if (nodePort < 30000 || nodePort > 32767)
          throw new UsageError(`nodePort ${nodePort} is outside the NodePort range 30000-32767.`);
        if (taken.has(nodePort)) throw new UsageError(`nodePort ${nodePort} is already used by another service.`);
      } else {
        let n = 30000 + stableNumber(`${s.cluster}/svc/${name}/nodeport`, 2768);
        while (taken.has(n)) n = n === 32767 ? 30000 : n + 1;
        nodePort = n;
      }
    } else if (spec.nodePort !== undefined) {
      throw new UsageError(`Service "${name}" is of type ClusterIP; a nodePort needs type NodePort.`);
    }
    const svc: LabService = {
      name,
      namespace: spec.namespace ?? 'default',
      app: spec.app,
      port,
      targetPort,
      portName: protocol === 'UDP' ? 'udp' : 'http',
      protocol,
      type: spec.type,
      clusterIP: this.allocateClusterIP(name),
      nodePort,
      onlyNodes,
    };
    s.services.push(svc);
    this.lab.save();
    this.lab.noteAdded('service', name);
    await this.sync();
    return this.info(svc);
  }

  /** A stable ClusterIP in the service range (skipping .1, the kubernetes service, and .10, kube-dns). */
  private allocateClusterIP(name: string): string {
    const s = this.lab.labState;
    const range = parseCidr(s.plan.serviceSubnet, 'serviceSubnet');
    const taken = new Set(s.services.map((x) => x.clusterIP));
    const usable = range.size - 2;
    const start = stableNumber(`${s.cluster}/svc/${name}/ip`, usable);
    for (let i = 0; i < usable; i++) {
      const offset = 1 + ((start + i) % usable);
      if (offset === 1 || offset === 10) continue;
      const ip = intToIp(range.base + offset);
      if (!taken.has(ip) && cidrContains(range, ip)) return ip;
    }
    throw new InfraError(`No free ClusterIP left in ${s.plan.serviceSubnet}.`);
  }

  async remove(name: string): Promise<void> {
    const s = this.lab.labState;
    if (!s.services.some((x) => x.name === name)) return;
    s.services = s.services.filter((x) => x.name !== name);
    this.lab.save();
    await this.sync();
  }

  /** The pods of an app changed: resync when a service selects them. */
  async podsChanged(app: string): Promise<void> {
    if (this.lab.labState.services.some((svc) => svc.app === app)) await this.sync();
  }

  /**
   * kube-proxy rules on every node (partial sync after the first) and the datapath's service map.
   * Without kube-proxy (kind's `kubeProxyMode: none`) there are no rules at all; under kube-proxy
   * replacement the service map also holds each NodePort on every node's address.
   */
  async sync(): Promise<void> {
    const s = this.lab.labState;
    const services: ProxyService[] = s.services.map((svc) => ({
      namespace: svc.namespace,
      name: svc.name,
      portName: svc.portName,
      protocol: svc.protocol,
      clusterIP: svc.clusterIP,
      port: svc.port,
      nodePort: svc.nodePort,
      endpoints: this.endpointsOf(svc).map((p) => ({ ip: p.ip, port: svc.targetPort })),
    }));
    const kpr = s.modes.kubeProxyReplacement;
    if (s.plan.kubeProxyMode !== 'none') await this.syncKubeProxy(services);
    if (this.lab.datapaths.all().length > 0) {
      // The datapath's service map lists a service's endpoints as its `backends` (datapath/ owns that type).
      const withEndpoints = services.filter((x) => x.endpoints.length > 0);
      const datapathServices: DatapathService[] = withEndpoints.map((x) => ({
        vip: x.clusterIP,
        port: x.port,
        protocol: x.protocol,
        backends: x.endpoints,
      }));
      if (kpr)
        for (const x of withEndpoints)
          if (x.nodePort !== null)
            for (const n of s.plan.nodes)
              datapathServices.push({ vip: n.ip, port: x.nodePort, protocol: x.protocol, backends: x.endpoints });
      await this.lab.datapaths.setServices(datapathServices);
    }
  }

  private async syncKubeProxy(services: ProxyService[]): Promise<void> {
    const s = this.lab.labState;
    const rd = this.lab.runDir;
    const rules = proxyRules(services, { clusterCIDR: s.plan.podSubnet });
    const previous = s.proxyRules ? rulesFromJson(s.proxyRules) : undefined;
    const file = rd.file(`plans/kube-proxy-${String(++this.planSeq).padStart(3, '0')}-${Date.now()}.rules`);
    writeFileSync(file, renderRestore(rules, previous));
    await Promise.all(
      s.plan.nodes.map((n) =>
        applyProxyRules({
          netns: nodeNetns(s.cluster, n.name),
          where: `node ${n.name}`,
          mode: s.iptables,
          file,
          partial: previous !== undefined,
        }),
      ),
    );
    s.proxyRules = rulesToJson(rules);
    this.lab.save();
  }
}

function checkPort(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`The ${what} ${n} is not a port (1-65535).`);
  return n;
}
