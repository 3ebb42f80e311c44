/**
 * The stand-in's API server and controllers, one process per cluster (started by `kind create
 * cluster`, stopped by `kind delete cluster`). It serves the Kubernetes API on 127.0.0.1 with
 * the test suite's in-memory API server (test/unit/helpers/kind/fake-apiserver.ts) and plays the
 * controllers on top of the lab (support/backends/lab, through its public Backend interface):
 *   - a Helm release Secret of Cilium provisions the lab from the kind config and the release's
 *     values, then the cilium DaemonSet, its agent pods, the CiliumNodes, and Ready nodes;
 *   - Deployments become the lab's echo pods (grouped by their app label), Pods with the client
 *     role the lab's client pods, Services the lab's services (kube-proxy rules, datapath
 *     entries) with their EndpointSlices; deleting them (or their namespace) removes them;
 *   - a DaemonSet with host networking (the probe) gets a pod on every node.
 * Every pod gets a process in its network namespace, in a cgroup named after its container id
 * (as containerd does), so a hostPID probe finds it as on a real node.
 * SIGTERM or SIGINT removes the lab and everything else, then exits.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import path from 'node:path';
import { IMAGES } from '../../support/backends/images.ts';
import { CILIUM_AGENT_CONTAINER } from '../../support/backends/k8s/kubectl-commands.ts';
import { CILIUM_AGENT_CAPABILITIES } from '../../support/backends/k8s/tool-locations.ts';
import { NODE_LABEL, ROLE_LABEL } from '../../support/backends/k8s/workload-manifests.ts';
import { LabBackend } from '../../support/backends/lab/index.ts';
import { nodeNetns, podNetns } from '../../support/backends/lab/names.ts';
import { planFromKindConfig } from '../../support/backends/lab/topology.ts';
import { FakeApiServer } from '../unit/helpers/kind/fake-apiserver.ts';
import { buildImages, containerCapabilities, enterArgv } from './containers.ts';
import { policyController } from './policies.ts';
import {
  type ClusterRecord,
  clusterDir,
  IDENTITY,
  type PodRecord,
  standinCgroup,
  writeCluster,
  writePods,
} from './state.ts';

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are free-form JSON here
type Obj = Record<string, any>;

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) throw new Error(`apiserver: missing --${name}`);
  return v;
}

const cluster = arg('cluster');
const kindConfig = arg('config');
const nodeImage = arg('image');
const k8sVersion = arg('k8s');
const dir = clusterDir(cluster);
const labRoot = path.join(dir, 'lab');
const logFile = path.join(dir, 'apiserver.log');
const cgroupDir = standinCgroup(cluster);
if (!cgroupDir)
  throw new Error('apiserver: this machine has no cgroup hierarchy (the runner mounts one: ownCgroupHierarchy)');
const CGROUP: string = cgroupDir;

function log(line: string): void {
  appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
}

const plan = planFromKindConfig(readFileSync(kindConfig, 'utf8'), { cluster, source: kindConfig });
const api = new FakeApiServer();
/**
 * A fault in the stand-in's kernel, for the kind backend's own checks to find (never a branch of
 * the backend): HOOKPOINT_STANDIN_FAULT=tc-removed removes the tc program from a client pod's host
 * veth (ingress) once the pod runs, as the lab's mutation test does; policy-unenforced builds the
 * lab with its no-policy variant, so agents import every policy (policy get lists it, policy wait
 * returns) while the datapath enforces none.
 */
const FAULT = process.env.HOOKPOINT_STANDIN_FAULT;
const lab = new LabBackend({
  cluster,
  stateRoot: labRoot,
  ...(FAULT === 'policy-unenforced' ? { variants: ['no-policy'] } : {}),
});
let labUp = false;
const images = buildImages(cluster, labRoot, plan.nodes);
if (images.missing.length) log(`this machine lacks image programs: ${images.missing.join(', ')}`);
const pods: Record<string, PodRecord> = {};

/** One thing at a time against the lab, as a controller's work queue. */
let queue: Promise<unknown> = Promise.resolve();
function work(what: string, fn: () => Promise<void>): Promise<void> {
  const next = queue.then(async () => {
    try {
      await fn();
    } catch (err) {
      log(`${what} failed: ${(err as Error).stack ?? err}`);
      throw err;
    }
  });
  queue = next.catch(() => {});
  return next;
}

const suffix = (seed: string, n = 5) =>
  createHash('sha256')
    .update(seed)
    .digest()
    .subarray(0, n)
    .reduce((s, b) => s + 'bcdfghjklmnpqrstvwxz2456789'[b % 27], '');
const containerId = (ns: string, pod: string) => createHash('sha256').update(`${cluster}/${ns}/${pod}`).digest('hex');
const now = () => new Date().toISOString();
const nodeOf = (name: string) => plan.nodes.find((n) => n.name === name)!;

// --- nodes ---------------------------------------------------------------------------------

for (const n of plan.nodes)
  api.put('api/v1', 'nodes', {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: n.name,
      labels: {
        'kubernetes.io/hostname': n.name,
        'kubernetes.io/os': 'linux',
        ...(n.role.startsWith('control-plane') ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
      },
    },
    spec: { podCIDR: n.podCIDR, podCIDRs: [n.podCIDR], providerID: `kind://docker/${cluster}/${n.name}` },
    status: {
      addresses: [
        { type: 'InternalIP', address: n.ip },
        { type: 'Hostname', address: n.name },
      ],
      nodeInfo: { kubeletVersion: k8sVersion, containerRuntimeVersion: `standin://${IDENTITY.version}` },
      conditions: [
        {
          type: 'Ready',
          status: 'False',
          reason: 'KubeletNotReady',
          message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady',
        },
      ],
    },
  });

function setNodesReady(ready: boolean): void {
  for (const o of api.list('api/v1', 'nodes'))
    o.status.conditions = [
      ready
        ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
        : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: 'network plugin not ready' },
    ];
}

// --- pods: the API object, the container records and the pod's process ----------------------

function savePods(): void {
  writePods(cluster, pods);
}

/**
 * A process in the pod's network namespace, in the node's PID namespace (as a container under
 * the node's containerd) and in a cgroup named after its container id: the shell puts itself
 * there, so the id is written with the PID as the node sees it.
 */
function startPause(node: string, netns: string, id: string): void {
  const cg = path.join(CGROUP, `cri-containerd-${id}.scope`);
  mkdirSync(cg, { recursive: true });
  const child = spawn(
    enterArgv({ netns, nodeInit: nodeInits.get(node) })[0]!,
    [
      ...enterArgv({ netns, nodeInit: nodeInits.get(node) }).slice(1),
      'sh',
      '-c',
      'echo $$ > "$1/cgroup.procs" && exec sleep infinity',
      'sh',
      cg,
    ],
    { stdio: 'ignore', detached: true },
  );
  child.unref();
}

/** Kill what runs in a pod's cgroup, then remove the cgroup. */
function stopPause(id: string): void {
  const cg = path.join(CGROUP, `cri-containerd-${id}.scope`);
  try {
    for (const pid of readFileSync(path.join(cg, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean))
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {}
  } catch {
    return;
  }
  setTimeout(() => {
    try {
      rmdirSync(cg);
    } catch {}
  }, 200);
}

/** Each node's init: PID 1 of the node's PID namespace, with its own /proc (unshare --mount-proc). */
const nodeInits = new Map<string, number>();

async function startNodeInits(): Promise<void> {
  for (const n of plan.nodes) {
    // nsenter, not `ip netns exec`: the node keeps this machine's /sys (and its cgroup mounts).
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${nodeNetns(cluster, n.name)}`,
        '--',
        'unshare',
        '--pid',
        '--fork',
        '--mount-proc',
        'sleep',
        'infinity',
      ],
      { stdio: 'ignore', detached: true },
    );
    child.unref();
    let init: number | undefined;
    for (let i = 0; i < 100 && init === undefined; i++) {
      await new Promise((r) => setTimeout(r, 50));
      try {
        const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim();
        if (kids) init = Number(kids.split(/\s+/)[0]);
      } catch {}
    }
    if (init === undefined) throw new Error(`the init of node ${n.name} did not start`);
    nodeInits.set(n.name, init);
  }
  writeCluster({ ...record(), nodes: record().nodes.map((n) => ({ ...n, init: nodeInits.get(n.name) })) });
}

/** Stopping a node's init ends every process of its PID namespace. */
function stopNodeInits(): void {
  for (const pid of nodeInits.values())
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  nodeInits.clear();
}

function putPod(o: {
  ns: string;
  name: string;
  node: string;
  labels: Obj;
  spec: Obj;
  podIP: string;
  netns: string;
  hostNetwork: boolean;
  owner?: Obj;
}): Obj {
  const id = containerId(o.ns, o.name);
  const containers = (o.spec.containers ?? []) as Obj[];
  const rec: PodRecord = { namespace: o.ns, name: o.name, node: o.node, containers: {} };
  for (const c of containers) {
    // The agent container, or another container of the agent's image (the probe's bpftool).
    const image =
      c.name === CILIUM_AGENT_CONTAINER || /(^|\/)cilium\/cilium([:@]|$)/.test(c.image ?? '')
        ? `cilium-agent-${o.node}`
        : c.image === undefined
          ? 'workload'
          : /netshoot/.test(c.image)
            ? 'probe'
            : 'workload';
    const caps = containerCapabilities(c.securityContext);
    rec.containers[c.name] = {
      netns: o.netns,
      image: image.startsWith('cilium-agent') ? 'cilium-agent' : (image as 'probe' | 'workload'),
      bin: images.dirs[image]!,
      ...(o.spec.hostPID ? { nodeInit: nodeInits.get(o.node) } : {}),
      ...(caps ? { capabilities: caps } : {}),
    };
  }
  pods[`${o.ns}/${o.name}`] = rec;
  savePods();
  if (!o.hostNetwork) startPause(o.node, o.netns, id);
  const node = nodeOf(o.node);
  return api.put('api/v1', 'pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: o.ns,
      labels: o.labels,
      creationTimestamp: now(),
      ...(o.owner ? { ownerReferences: [o.owner] } : {}),
    },
    spec: { ...o.spec, nodeName: o.node },
    status: {
      phase: 'Running',
      hostIP: node.ip,
      podIP: o.podIP,
      podIPs: [{ ip: o.podIP }],
      startTime: now(),
      conditions: [
        { type: 'Initialized', status: 'True' },
        { type: 'Ready', status: 'True' },
        { type: 'ContainersReady', status: 'True' },
        { type: 'PodScheduled', status: 'True' },
      ],
      containerStatuses: containers.map((c) => ({
        name: c.name,
        image: c.image,
        containerID: `containerd://${id}`,
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now() } },
      })),
    },
  });
}

function dropPod(ns: string, name: string): void {
  api.remove('api/v1', 'pods', name, ns);
  api.remove('apis/cilium.io/v2', 'ciliumendpoints', name, ns);
  delete pods[`${ns}/${name}`];
  savePods();
  stopPause(containerId(ns, name));
}

function putEndpoint(ns: string, name: string, id: number | undefined, ip: string, node: string): void {
  if (id === undefined) return;
  api.put('apis/cilium.io/v2', 'ciliumendpoints', {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumEndpoint',
    metadata: { name, namespace: ns },
    status: { id, networking: { addressing: [{ ipv4: ip }], node: nodeOf(node).ip }, state: 'ready' },
  });
}

/** Where a pod is pinned (the manifests pin by node name, as the DaemonSet controller does). */
function pinned(spec: Obj): string | undefined {
  return (
    spec?.nodeName ??
    spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms?.[0]
      ?.matchFields?.[0]?.values?.[0]
  );
}

// --- Cilium, from its Helm release -----------------------------------------------------------

interface Release {
  version: string;
  values: Record<string, string>;
}

async function installCilium(rel: Release): Promise<void> {
  if (rel.values['bpf.enableTCX'] !== 'false')
    throw new Error(
      'the kind stand-in reproduces bpf.enableTCX=false only (the lab attaches clsact programs, "Attach Mode: Legacy TC"); set bpf.enableTCX=false',
    );
  if (labUp) {
    if (Object.keys(pods).some((k) => !k.startsWith('kube-system/')))
      throw new Error('the kind stand-in does not reconfigure a cluster that runs workloads; delete them first');
    stopNodeInits();
    await lab.teardown();
    labUp = false;
  }
  await lab.provision({
    kindConfig,
    ciliumValues: rel.values,
    ciliumVersion: rel.version,
    k8sVersion,
  });
  labUp = true;
  await startNodeInits();
  const image = rel.values['image.override'] ?? `quay.io/cilium/cilium:v${rel.version}`;
  const topo = await lab.topology();
  for (const n of topo.nodes)
    api.put('apis/cilium.io/v2', 'ciliumnodes', {
      apiVersion: 'cilium.io/v2',
      kind: 'CiliumNode',
      metadata: { name: n.name },
      spec: {
        addresses: [
          { type: 'InternalIP', ip: n.ip },
          ...(n.ciliumHostIP ? [{ type: 'CiliumInternalIP', ip: n.ciliumHostIP }] : []),
        ],
        ipam: { podCIDRs: [n.podCIDR] },
      },
    });
  for (const o of api.list('api/v1', 'pods', 'kube-system'))
    if (o.metadata.labels?.['k8s-app'] === 'cilium') dropPod('kube-system', o.metadata.name);
  // The chart's default security context of the agent container (values.yaml securityContext).
  const securityContext = {
    privileged: false,
    capabilities: { add: [...CILIUM_AGENT_CAPABILITIES], drop: ['ALL'] },
  };
  const template = {
    metadata: { labels: { 'k8s-app': 'cilium' } },
    spec: { hostNetwork: true, containers: [{ name: CILIUM_AGENT_CONTAINER, image, securityContext }] },
  };
  const old = api.get('apis/apps/v1', 'daemonsets', 'cilium', 'kube-system');
  const generation = (old?.metadata?.generation ?? 0) + 1;
  for (const n of plan.nodes)
    putPod({
      ns: 'kube-system',
      name: `cilium-${suffix(`${n.name}/${generation}`)}`,
      node: n.name,
      labels: { 'k8s-app': 'cilium', 'app.kubernetes.io/name': 'cilium-agent' },
      spec: template.spec,
      podIP: n.ip,
      netns: nodeNetns(cluster, n.name),
      hostNetwork: true,
    });
  const count = plan.nodes.length;
  api.put('apis/apps/v1', 'daemonsets', {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'cilium', namespace: 'kube-system', generation, labels: { 'k8s-app': 'cilium' } },
    spec: { selector: { matchLabels: { 'k8s-app': 'cilium' } }, template },
    status: {
      desiredNumberScheduled: count,
      currentNumberScheduled: count,
      numberReady: count,
      numberAvailable: count,
      updatedNumberScheduled: count,
      observedGeneration: generation,
    },
  });
  setNodesReady(true);
}

/** Helm stores a release as a Secret; the stand-in's helm writes the values it was given there. */
api.onCreate('secrets', (s) => {
  if (s.metadata?.labels?.owner !== 'helm' || s.metadata?.labels?.name !== 'cilium') return;
  const rel = JSON.parse(Buffer.from(s.data.release, 'base64').toString()) as Release;
  s.metadata.labels.status = 'pending-install';
  work('installing Cilium', () => installCilium(rel))
    .then(() => {
      s.metadata.labels.status = 'deployed';
    })
    .catch((err: Error) => {
      s.metadata.labels.status = 'failed';
      s.metadata.annotations = { 'hookpoint.io/standin-error': err.message };
    });
});

// --- workloads -----------------------------------------------------------------------------

/** Echo deployments of a namespace, by app label: the lab deploys one echo per app on its nodes. */
const echoApps = new Map<string, { ns: string; nodes: string[]; port: number }>();
const labServices = new Map<string, string>(); // ns/name -> lab name
const labClients = new Map<string, string>();
let reconcileTimer: NodeJS.Timeout | undefined;

function scheduleEchoes(): void {
  clearTimeout(reconcileTimer);
  // Deployments of one app arrive one call after the other: reconcile once they are all there.
  reconcileTimer = setTimeout(() => void work('echo deployments', reconcileEchoes).catch(() => {}), 300);
}

async function reconcileEchoes(): Promise<void> {
  const want = new Map<string, { ns: string; nodes: string[]; port: number; deps: Obj[] }>();
  type Want = { ns: string; nodes: string[]; port: number; deps: Obj[] };
  for (const ns of api.list('api/v1', 'namespaces').map((n) => n.metadata.name as string))
    for (const d of api.list('apis/apps/v1', 'deployments', ns)) {
      const app = d.spec?.template?.metadata?.labels?.app as string | undefined;
      const node = pinned(d.spec?.template?.spec);
      if (!app || !node) continue;
      const port = d.spec.template.spec.containers?.[0]?.ports?.[0]?.containerPort ?? 80;
      const w: Want = want.get(app) ?? { ns, nodes: [], port, deps: [] };
      w.nodes.push(node);
      w.deps.push(d);
      want.set(app, w);
    }
  for (const [app, have] of echoApps) {
    const w = want.get(app);
    if (w && w.nodes.join() === have.nodes.join() && w.port === have.port) continue;
    await lab.removeWorkload('echo', app);
    for (const o of api.list('api/v1', 'pods', have.ns))
      if (o.metadata.labels?.app === app) dropPod(have.ns, o.metadata.name);
    echoApps.delete(app);
  }
  for (const [app, w] of want) {
    if (echoApps.has(app)) continue;
    await lab.deployEcho({ name: app, nodes: w.nodes, port: w.port, namespace: w.ns });
    echoApps.set(app, { ns: w.ns, nodes: w.nodes, port: w.port });
    const topo = await lab.topology();
    for (const p of topo.pods.filter((x) => x.app === app)) {
      const d = w.deps.find((x) => pinned(x.spec.template.spec) === p.node)!;
      putPod({
        ns: w.ns,
        name: p.name,
        node: p.node,
        labels: { ...d.spec.template.metadata.labels, 'pod-template-hash': suffix(d.metadata.name, 10) },
        spec: d.spec.template.spec,
        podIP: p.ip,
        netns: podNetns(cluster, p.name),
        hostNetwork: false,
        owner: { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${d.metadata.name}-${suffix(d.metadata.name, 10)}` },
      });
      putEndpoint(w.ns, p.name, p.endpointId, p.ip, p.node);
      d.status = { replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1, observedGeneration: 1 };
    }
  }
  await syncSlices();
}

/** EndpointSlices of every service from the lab's endpoints. */
async function syncSlices(): Promise<void> {
  const topo = await lab.topology();
  for (const [key, labName] of labServices) {
    const [ns, name] = key.split('/') as [string, string];
    const svc = topo.services.find((s) => s.name === labName);
    api.remove('apis/discovery.k8s.io/v1', 'endpointslices', `${name}-${suffix(key)}`, ns);
    if (!svc) continue;
    api.put('apis/discovery.k8s.io/v1', 'endpointslices', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: `${name}-${suffix(key)}`,
        namespace: ns,
        labels: {
          'kubernetes.io/service-name': name,
          'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        },
      },
      addressType: 'IPv4',
      ports: [{ name: svc.portName, port: svc.targetPort, protocol: svc.protocol }],
      endpoints: svc.endpoints.map((e) => ({
        addresses: [e.ip],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: e.node,
        targetRef: { kind: 'Pod', name: e.pod, namespace: ns },
      })),
    });
  }
}

api.onCreate('deployments', () => scheduleEchoes());
api.onDelete('deployments', () => scheduleEchoes());

api.onCreate('services', (s) => {
  const ns = s.metadata.namespace as string;
  const name = s.metadata.name as string;
  const port = s.spec.ports?.[0] ?? {};
  work(`service ${ns}/${name}`, async () => {
    const sel = s.spec.selector ?? {};
    const onlyNode = sel[NODE_LABEL] as string | undefined;
    const info = await lab.exposeService({
      name,
      app: sel.app,
      port: port.port,
      targetPort: typeof port.targetPort === 'number' ? port.targetPort : undefined,
      type: s.spec.type === 'NodePort' ? 'NodePort' : 'ClusterIP',
      nodePort: port.nodePort,
      onlyNodes: onlyNode ? [onlyNode] : undefined,
      namespace: ns,
    });
    labServices.set(`${ns}/${name}`, name);
    s.spec.clusterIP = info.clusterIP;
    s.spec.clusterIPs = [info.clusterIP];
    if (info.nodePort) port.nodePort = info.nodePort;
    await syncSlices();
  }).catch(() => {});
});

async function removeService(ns: string, name: string): Promise<void> {
  if (!labServices.delete(`${ns}/${name}`)) return;
  await lab.removeWorkload('service', name);
  api.remove('apis/discovery.k8s.io/v1', 'endpointslices', `${name}-${suffix(`${ns}/${name}`)}`, ns);
}
api.onDelete(
  'services',
  (s) => void work('service removal', () => removeService(s.metadata.namespace, s.metadata.name)).catch(() => {}),
);

api.onCreate('pods', (p) => {
  const ns = p.metadata.namespace as string;
  const name = p.metadata.name as string;
  const node = pinned(p.spec);
  // Only the lab's kinds of pod run here: a client (the run's role label) pinned to a node.
  if (p.metadata.labels?.[ROLE_LABEL] !== 'client' || !node) {
    p.status = {
      phase: 'Pending',
      conditions: [
        {
          type: 'PodScheduled',
          status: 'False',
          reason: 'Unschedulable',
          message: 'the kind stand-in runs client pods and deployments of the lab only',
        },
      ],
    };
    return;
  }
  p.status = { phase: 'Pending' };
  work(`client ${ns}/${name}`, async () => {
    // The pod's namespace and labels are what policies select it by.
    const info = await lab.runClient({ name, node, namespace: ns, labels: p.metadata.labels ?? {} });
    labClients.set(`${ns}/${name}`, name);
    putPod({
      ns,
      name,
      node,
      labels: p.metadata.labels,
      spec: p.spec,
      podIP: info.ip,
      netns: podNetns(cluster, name),
      hostNetwork: false,
    });
    putEndpoint(ns, name, info.endpointId, info.ip, node);
    if (FAULT === 'tc-removed') await removeTc(node, info.hostVeth);
  }).catch(() => {});
});

async function removeTc(node: string, veth: string | undefined): Promise<void> {
  if (!veth) return;
  const code = await new Promise<number | null>((resolve) =>
    spawn(
      enterArgv({ netns: nodeNetns(cluster, node) })[0]!,
      [...enterArgv({ netns: nodeNetns(cluster, node) }).slice(1), 'tc', 'filter', 'del', 'dev', veth, 'ingress'],
      {
        stdio: 'ignore',
      },
    ).on('close', resolve),
  );
  log(`fault tc-removed: tc filter del dev ${veth} ingress on ${node} exited ${code}`);
}

async function removeClient(ns: string, name: string): Promise<void> {
  if (!labClients.delete(`${ns}/${name}`)) return;
  await lab.removeWorkload('client', name);
  dropPod(ns, name);
}
api.onDelete(
  'pods',
  (p) => void work('pod removal', () => removeClient(p.metadata.namespace, p.metadata.name)).catch(() => {}),
);

// --- network policies: the agents import them, the lab's datapath enforces them ------------------

const policies = policyController(api, lab, work, log);

api.onCreate('daemonsets', (ds) => {
  const ns = ds.metadata.namespace as string;
  const spec = ds.spec.template.spec;
  if (!spec.hostNetwork) return;
  for (const n of plan.nodes)
    putPod({
      ns,
      name: `${ds.metadata.name}-${suffix(`${ns}/${ds.metadata.name}/${n.name}`)}`,
      node: n.name,
      labels: ds.spec.template.metadata.labels,
      spec,
      podIP: n.ip,
      netns: nodeNetns(cluster, n.name),
      hostNetwork: true,
    });
  const count = plan.nodes.length;
  ds.status = {
    desiredNumberScheduled: count,
    currentNumberScheduled: count,
    numberReady: count,
    numberAvailable: count,
    updatedNumberScheduled: count,
    observedGeneration: 1,
  };
});

api.onDelete('namespaces', (n) => {
  const ns = n.metadata.name as string;
  void work(`namespace ${ns}`, async () => {
    await policies.removeNamespace(ns);
    for (const key of [...labServices.keys()].filter((k) => k.startsWith(`${ns}/`)))
      await removeService(ns, key.slice(ns.length + 1));
    for (const key of [...labClients.keys()].filter((k) => k.startsWith(`${ns}/`)))
      await removeClient(ns, key.slice(ns.length + 1));
    for (const [app, e] of [...echoApps]) {
      if (e.ns !== ns) continue;
      await lab.removeWorkload('echo', app);
      echoApps.delete(app);
    }
    for (const key of Object.keys(pods).filter((k) => k.startsWith(`${ns}/`))) dropPod(ns, key.slice(ns.length + 1));
  }).catch(() => {});
});

// --- start and stop ------------------------------------------------------------------------

for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease'])
  api.put('api/v1', 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });

let stopping = false;
async function stop(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log(`${signal}: removing the cluster`);
  clearTimeout(reconcileTimer);
  await queue;
  for (const key of Object.keys(pods)) {
    const [ns, name] = key.split('/') as [string, string];
    stopPause(containerId(ns, name));
  }
  stopNodeInits();
  if (labUp) await lab.teardown().catch((err: Error) => log(`lab teardown: ${err.message}`));
  await new Promise((r) => setTimeout(r, 300));
  try {
    rmdirSync(CGROUP);
  } catch {}
  await api.stop();
  log('stopped');
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGHUP', () => void stop('SIGHUP'));

mkdirSync(CGROUP, { recursive: true });
const url = await api.start();
const record = (): ClusterRecord => ({
  name: cluster,
  url,
  pid: process.pid,
  kindConfig,
  nodeImage,
  createdAt: now(),
  nodes: plan.nodes.map((n) => ({ name: n.name, role: n.role, netns: nodeNetns(cluster, n.name) })),
});
writeCluster(record());
log(
  `serving ${url} for cluster ${cluster} (${plan.nodes.map((n) => n.name).join(', ')}); images: ${Object.keys(IMAGES).join(', ')}`,
);
