/**
 * The kernel side of a lab pod, apart from the lab's model of it (pods.ts): a network namespace
 * whose `eth0` holds a /32 with the default route via the node's cilium_host address, host side
 * an `lxc…` veth with a /32 endpoint route (Cilium's endpointRoutes), an endpoint id, and — for
 * echo pods — the echo server (echo-server.js) started daemonised inside it with the running
 * Node's own executable.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { InfraError } from '../../errors.ts';
import { run } from '../../exec/index.ts';
import type { Listener } from '../types.ts';
import { inCgroup } from './cgroups.ts';
import { killAll, NETNS_DIR, pidsInNetns, processAlive, type RunDir } from './ledger.ts';
import { labMac, lxcName, nodeNetns, podNetns, stableNumber } from './names.ts';
import { ipBatch, POD_SYSCTLS, sysctlLine } from './netns.ts';
import { inNetns } from './netns-exec.ts';
import { intToIp, ipToInt, type LabNodePlan } from './topology.ts';

export interface LabPod {
  name: string;
  namespace: string;
  node: string;
  ip: string;
  mac: string;
  hostVeth: string;
  hostVethMac: string;
  endpointId: number;
  kind: 'echo' | 'client';
  /** Deployment (app label) of an echo pod. */
  app?: string;
  /** Port the echo server answers HTTP on. */
  port?: number;
  /** Labels of a client pod given by the step (else run=<name>); echo pods carry app=<deployment>. */
  labels?: Record<string, string>;
  /** Further ports the echo server answers on: the target ports its services name (TCP or UDP). */
  extraListeners?: Listener[];
}

/** Every port an echo pod answers on: its HTTP port, then its services' other target ports. */
export function echoListeners(pod: Pick<LabPod, 'port' | 'extraListeners'>): Listener[] {
  return [{ port: pod.port ?? 80, protocol: 'TCP' }, ...(pod.extraListeners ?? [])];
}

export const ECHO_SERVER = path.join(import.meta.dirname, 'echo-server.js');

/** Next free pod address in the node's /24 (stable per pod name), skipping the router address. */
export function allocatePodIP(cluster: string, node: LabNodePlan, pod: string, taken: ReadonlySet<string>): string {
  const base = ipToInt(node.podCIDR.split('/')[0]!);
  const start = 2 + stableNumber(`${cluster}/${pod}/ip`, 252);
  for (let i = 0; i < 252; i++) {
    const ip = intToIp(base + 2 + ((start - 2 + i) % 252));
    if (ip !== node.ciliumHostIP && !taken.has(ip)) return ip;
  }
  throw new InfraError(`Node ${node.name} has no free pod address left in ${node.podCIDR}.`);
}

/** Cilium endpoint ids are 1..4095; a stable pick per pod, unique in the lab. */
export function allocateEndpointId(cluster: string, pod: string, taken: ReadonlySet<number>): number {
  const start = stableNumber(`${cluster}/${pod}/endpoint`, 4095);
  for (let i = 0; i < 4095; i++) {
    const id = 1 + ((start + i) % 4095);
    if (!taken.has(id)) return id;
  }
  throw new InfraError('No free endpoint id left in the lab.');
}

export function describePod(
  cluster: string,
  node: LabNodePlan,
  name: string,
  kind: 'echo' | 'client',
  taken: { ips: ReadonlySet<string>; ids: ReadonlySet<number> },
  extra: { app?: string; port?: number; namespace?: string; labels?: Record<string, string> } = {},
): LabPod {
  return {
    name,
    namespace: 'default',
    node: node.name,
    ip: allocatePodIP(cluster, node, name, taken.ips),
    mac: labMac(cluster, `pod/${name}/eth0`),
    hostVeth: lxcName(cluster, name),
    hostVethMac: labMac(cluster, `pod/${name}/lxc`),
    endpointId: allocateEndpointId(cluster, name, taken.ids),
    kind,
    ...extra,
  };
}

/**
 * Create pods (all of one step at once): namespaces, sysctls and veths from the root
 * namespace, then each pod's and each node's addresses and routes. The caller has recorded
 * the namespaces in the ledger.
 */
export async function createPods(rd: RunDir, cluster: string, nodes: readonly LabNodePlan[], pods: LabPod[]) {
  if (pods.length === 0) return;
  const root: string[] = [];
  for (const p of pods) root.push(`netns add ${podNetns(cluster, p.name)}`);
  for (const p of pods) {
    const podNs = podNetns(cluster, p.name);
    root.push(sysctlLine(podNs, POD_SYSCTLS));
    root.push(
      `link add eth0 netns ${podNs} address ${p.mac} type veth peer name ${p.hostVeth} netns ${nodeNetns(cluster, p.node)} address ${p.hostVethMac}`,
    );
  }
  await ipBatch(rd, 'pods', root);
  const byNode = new Map<string, string[]>();
  const steps: Promise<void>[] = [];
  for (const p of pods) {
    const node = nodes.find((n) => n.name === p.node)!;
    steps.push(
      ipBatch(
        rd,
        `pod-${p.name}`,
        [
          'link set lo up',
          `addr add ${p.ip}/32 dev eth0`,
          'link set eth0 up',
          `route add ${node.ciliumHostIP} dev eth0 scope link`,
          `route add default via ${node.ciliumHostIP} dev eth0`,
        ],
        { netns: podNetns(cluster, p.name), where: `pod ${p.name}` },
      ),
    );
    const lines = byNode.get(p.node) ?? [];
    lines.push(`link set ${p.hostVeth} up`, `route add ${p.ip}/32 dev ${p.hostVeth}`);
    byNode.set(p.node, lines);
  }
  for (const [node, lines] of byNode)
    steps.push(ipBatch(rd, `endpoints-${node}`, lines, { netns: nodeNetns(cluster, node), where: `node ${node}` }));
  await Promise.all(steps);
}

export function echoPidFile(rd: RunDir, pod: string): string {
  return rd.file(`echo-${pod}.pid`);
}

/** True while the pod's echo server (by its pid file, checked against the process's command line) runs. */
export function echoRunning(rd: RunDir, pod: string): boolean {
  try {
    const pid = Number(readFileSync(echoPidFile(rd, pod), 'utf8').trim());
    return pid > 1 && processAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(echoPidFile(rd, pod));
  } catch {
    return false;
  }
}

/**
 * Start the echo server of a pod, daemonised: `setsid -f` gives it its own session (a Ctrl-C in
 * the terminal does not reach it; the CLI can exit while it serves), and the server prints
 * `ready pid=N` once listening, then leaves the launcher's pipes, which ends this command.
 * The pid file is in the ledger (recorded by the caller); teardown also kills every process
 * living in a lab namespace.
 */
export async function startEcho(rd: RunDir, cluster: string, pod: LabPod, cgroup?: string): Promise<number> {
  const server = inNetns(podNetns(cluster, pod.name), [
    process.execPath,
    ECHO_SERVER,
    '--pod',
    pod.name,
    '--port',
    String(pod.port ?? 80),
    ...(pod.extraListeners ?? []).flatMap((l) => ['--listen', `${l.protocol.toLowerCase()}:${l.port}`]),
    '--pid-file',
    echoPidFile(rd, pod.name),
    '--log',
    rd.file(`echo-${pod.name}.log`),
  ]);
  // Under kube-proxy replacement the server runs in its node's cgroup, like every process of the node.
  const argv = ['setsid', '-f', ...(cgroup ? inCgroup(cgroup, server) : server)];
  const res = await run(argv, { timeoutMs: 15_000, where: `pod ${pod.name}`, check: false });
  const m = /ready pid=(\d+)/.exec(res.stdout);
  if (!m)
    throw new InfraError(
      `The echo server of pod ${pod.name} did not start: ${(res.stderr || res.stdout).trim().slice(-300) || `exit ${res.exitCode}`}.`,
    );
  return Number(m[1]);
}

/** Stop a pod's echo server (by its pid file, checked against its command line) and start it anew. */
export async function restartEcho(rd: RunDir, cluster: string, pod: LabPod): Promise<number> {
  if (echoRunning(rd, pod.name)) {
    const pid = Number(readFileSync(echoPidFile(rd, pod.name), 'utf8').trim());
    await killAll([pid], 1000);
  }
  rmSync(echoPidFile(rd, pod.name), { force: true });
  return startEcho(rd, cluster, pod);
}

/**
 * Remove pods: stop every process living in their namespaces (the echo server, a capture),
 * then delete the namespaces — their veth pairs, and with them the node's lxc and endpoint
 * route, go too.
 */
export async function removePods(rd: RunDir, cluster: string, pods: readonly string[]): Promise<void> {
  const names = pods.map((p) => podNetns(cluster, p)).filter((n) => existsSync(path.join(NETNS_DIR, n)));
  if (names.length === 0) return;
  const inodes = new Set(names.map((n) => statSync(path.join(NETNS_DIR, n)).ino));
  await killAll(pidsInNetns(inodes), 1000);
  await ipBatch(
    rd,
    'remove-pods',
    names.map((n) => `netns delete ${n}`),
    { force: true },
  );
  for (const p of pods) rmSync(echoPidFile(rd, p), { force: true });
}
