/**
 * Test support: a kind backend wired to a scripted executor (replaying real outputs from
 * ../shared/fixtures/real-world) and a fake API server on 127.0.0.1 with small controllers
 * (Deployments get Ready pods, Services get EndpointSlices, the probe DaemonSet gets pods).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { KindBackend } from '../../../../support/backends/kind/index.ts';
import type { ClusterSpec } from '../../../../support/backends/types.ts';
import { FakeApiServer } from './fake-apiserver.ts';
import { realWorld } from './fixtures.ts';
import { ScriptedExecutor } from './scripted-executor.ts';

export const F = {
  values: 'helm-values-excerpt-cilium-1.14.0-rc.0-chart-tgz-wcnikind.yaml.txt',
  kindCreate: 'kind-create-cluster-output-kind-docs-working-offline.txt',
  nodes: 'kubectl-get-nodes-pods-svc-wide-kind-1.27-wcnikind.txt',
  status: 'cilium-dbg-status-1.18.2-gke-native-legacy-kpr-false-idx35517101370.txt',
  monitor: 'cilium-monitor-v-t-trace-socklb-1.18.6-kind-native-idx60285825367.txt',
  legacySave: 'iptables-save-c-counters-kube-sep-submariner-pr1205-partial.txt',
  nftSave: 'iptables-save-nat-fragment-kind-kubeproxy-KUBE-EXT-POSTROUTING-k8s-pr114470-partial.txt',
};
export const CLUSTER = 'cilium-kubeproxy';
export const SEED: ClusterSpec = {
  kindConfig: 'kind-configs/two-node.yaml',
  ciliumVersion: '1.17.15',
  k8sVersion: 'v1.27.3',
  ciliumValues: {
    routingMode: 'native',
    kubeProxyReplacement: 'false',
    autoDirectNodeRoutes: 'true',
    'ipam.mode': 'kubernetes',
    ipv4NativeRoutingCIDR: '10.0.0.0/8',
  },
};
export const INSTALLED_JSON = JSON.stringify({
  autoDirectNodeRoutes: true,
  ipam: { mode: 'kubernetes' },
  ipv4NativeRoutingCIDR: '10.0.0.0/8',
  k8sServiceHost: `${CLUSTER}-control-plane`,
  k8sServicePort: 6443,
  kubeProxyReplacement: false,
  routingMode: 'native',
});

/** Node rows of the real `kubectl get nodes -o wide` output, as V1Node objects for the fake API. */
function nodesFromFixture(text: string): Array<Record<string, unknown>> {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /get nodes -o wide/.test(l));
  const rows: Array<Record<string, unknown>> = [];
  for (const l of lines.slice(start + 2)) {
    if (!l.startsWith(`${CLUSTER}-`)) break;
    const [name, status, roles, , version, ip] = l.trim().split(/\s+/);
    rows.push({
      metadata: {
        name,
        labels: {
          'kubernetes.io/hostname': name,
          ...(roles === 'control-plane' ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
        },
      },
      spec: {},
      status: {
        addresses: [{ type: 'InternalIP', address: ip }],
        nodeInfo: { kubeletVersion: version },
        conditions: [{ type: 'Ready', status: status === 'Ready' ? 'True' : 'False' }],
      },
    });
  }
  return rows;
}

export interface WorldOptions {
  exists?: boolean;
  reuse?: boolean;
  keep?: 'never' | 'on-failure' | 'always';
  helmFails?: boolean;
  ciliumReady?: number;
  installedJson?: string;
  installedImage?: string;
  iptables?: 'nft' | 'legacy';
  images?: import('../../../../support/config.ts').ImageOverrides;
  kindLoad?: boolean;
}

/** A running cluster reused (--reuse) whose installed Helm values differ from the seed's (tunnel routing). */
export const REUSED_WITH_OTHER_VALUES: WorldOptions = {
  exists: true,
  reuse: true,
  installedJson: JSON.stringify({ ...JSON.parse(INSTALLED_JSON), routingMode: 'tunnel' }),
};

export interface World {
  api: FakeApiServer;
  exec: ScriptedExecutor;
  backend: KindBackend;
  progress: string[];
  fx: Record<keyof typeof F, string>;
  reports: string;
}

const cleanups: Array<() => Promise<void> | void> = [];
/** Undo what setup() created (call from afterEach). */
export async function runCleanups(): Promise<void> {
  for (const c of cleanups.splice(0).reverse()) await c();
}

/** Put the Cilium DaemonSet and one agent pod per node, as a Helm install would lead to. */
export function installCilium(api: FakeApiServer, ready: number, image = 'quay.io/cilium/cilium:v1.17.15@sha256:0000') {
  const nodes = api.list('api/v1', 'nodes');
  api.put('apis/apps/v1', 'daemonsets', {
    metadata: { name: 'cilium', namespace: 'kube-system', generation: 1 },
    spec: { template: { spec: { containers: [{ name: 'cilium-agent', image }] } } },
    status: {
      desiredNumberScheduled: nodes.length,
      numberReady: ready,
      updatedNumberScheduled: nodes.length,
      observedGeneration: 1,
    },
  });
  nodes.forEach((n, i) => {
    api.put('api/v1', 'pods', {
      metadata: {
        name: `cilium-${['tjsld', 'x7k2p', 'q9w4e'][i]}`,
        namespace: 'kube-system',
        labels: { 'k8s-app': 'cilium' },
      },
      spec: { nodeName: n.metadata.name },
      status: { phase: 'Running' },
    });
  });
}

/** Controllers: a Deployment gets a Ready pod on its pinned node, a Service gets an IP and an EndpointSlice. */
function controllers(api: FakeApiServer): void {
  let ip = 10;
  // biome-ignore lint/suspicious/noExplicitAny: the fake API server's objects are free-form JSON.
  const pinned = (spec: Record<string, any>) =>
    spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0]
      .values[0];
  // biome-ignore lint/suspicious/noExplicitAny: the fake API server's objects are free-form JSON.
  const readyPod = (ns: string, name: string, labels: Record<string, string>, podSpec: Record<string, any>) =>
    api.put('api/v1', 'pods', {
      metadata: { name, namespace: ns, labels },
      spec: { ...podSpec, nodeName: pinned(podSpec) },
      status: {
        phase: 'Running',
        podIP: `10.244.${pinned(podSpec).endsWith('worker') ? 1 : 0}.${++ip}`,
        conditions: [{ type: 'Ready', status: 'True' }],
        containerStatuses: [{ containerID: `containerd://${'ab'.repeat(32)}` }],
      },
    });
  api.onCreate('deployments', (d) => {
    readyPod(
      d.metadata.namespace,
      `${d.metadata.name}-5d8f7-abcde`,
      d.spec.template.metadata.labels,
      d.spec.template.spec,
    );
  });
  api.onCreate('pods', (p) => {
    if (p.spec?.affinity) readyPod(p.metadata.namespace, p.metadata.name, p.metadata.labels, p.spec);
  });
  api.onCreate('daemonsets', (ds) => {
    const nodes = api.list('api/v1', 'nodes');
    ds.status = { desiredNumberScheduled: nodes.length, numberReady: nodes.length };
    for (const n of nodes)
      api.put('api/v1', 'pods', {
        metadata: {
          name: `hookpoint-probe-${n.metadata.name.slice(-6)}`,
          namespace: ds.metadata.namespace,
          labels: ds.spec.template.metadata.labels,
        },
        spec: { nodeName: n.metadata.name },
        status: { phase: 'Running' },
      });
  });
  api.onCreate('services', (s) => {
    s.spec.clusterIP = '10.96.94.95';
    const pods = api
      .list('api/v1', 'pods', s.metadata.namespace)
      .filter((p) => Object.entries(s.spec.selector).every(([k, v]) => p.metadata.labels?.[k] === v));
    api.put('apis/discovery.k8s.io/v1', 'endpointslices', {
      metadata: {
        name: `${s.metadata.name}-abc`,
        namespace: s.metadata.namespace,
        labels: { 'kubernetes.io/service-name': s.metadata.name },
      },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: s.spec.ports[0].targetPort, protocol: 'TCP' }],
      endpoints: pods.map((p) => ({
        addresses: [p.status.podIP],
        conditions: { ready: true },
        nodeName: p.spec.nodeName,
        targetRef: { kind: 'Pod', name: p.metadata.name, namespace: p.metadata.namespace },
      })),
    });
  });
}

export async function setup(t: TestContext, o: WorldOptions = {}): Promise<World | null> {
  const fx = {} as Record<keyof typeof F, string>;
  for (const [k, name] of Object.entries(F)) {
    const text = realWorld(t, name);
    if (text === null) return null;
    fx[k as keyof typeof F] = text;
  }
  const api = new FakeApiServer();
  await api.start();
  cleanups.push(() => api.stop());
  for (const n of nodesFromFixture(fx.nodes)) api.put('api/v1', 'nodes', n);
  controllers(api);
  const reports = mkdtempSync(path.join(tmpdir(), 'hp-kind-'));
  cleanups.push(() => rmSync(reports, { recursive: true, force: true }));
  const writeKubeconfig = (argv: string[]) => writeFileSync(argv[argv.indexOf('--kubeconfig') + 1]!, api.kubeconfig());

  const exec = new ScriptedExecutor();
  exec
    .on(['docker', 'version'], { stdout: 'Docker Engine - Community 24.0.7\n' })
    .on(['kind', 'version'], { stdout: 'kind v0.20.0 go1.20.4 linux/amd64\n' })
    .on(['kind', 'get', 'clusters'], o.exists ? { stdout: `${CLUSTER}\n` } : { stderr: 'No kind clusters found.\n' })
    .on(['helm', 'repo', 'add'], { stdout: '"cilium" has been added to your repositories\n' })
    .on(['helm', 'repo', 'update'], { stdout: '' })
    .on(['helm', 'show', 'values'], { stdout: fx.values })
    .on(['kind', 'create', 'cluster'], (argv) => {
      writeKubeconfig(argv);
      return { stderr: fx.kindCreate };
    })
    .on(['kind', 'export', 'kubeconfig'], (argv) => {
      writeKubeconfig(argv);
      return { stderr: `Set kubectl context to "kind-${CLUSTER}"\n` };
    })
    .on(['helm', 'upgrade', '--install'], () => {
      if (o.helmFails) return { exitCode: 1, stderr: 'Error: INSTALLATION FAILED: context deadline exceeded\n' };
      installCilium(api, o.ciliumReady ?? 2);
      return { stdout: 'Release "cilium" has been upgraded. Happy Helming!\n' };
    })
    .on(['helm', 'get', 'values'], { stdout: o.installedJson ?? INSTALLED_JSON })
    .on(['kubectl', 'rollout', 'restart', 'daemonset/cilium'], () => {
      // A DaemonSet controller that replaces the pods at once: new generation, observed and ready.
      const ds = api.get('apis/apps/v1', 'daemonsets', 'cilium', 'kube-system');
      if (ds) {
        ds.metadata.generation = (ds.metadata.generation ?? 1) + 1;
        ds.status = { ...ds.status, observedGeneration: ds.metadata.generation };
      }
      return { stdout: 'daemonset.apps/cilium restarted\n' };
    })
    .on(['cilium-dbg', 'status', '--brief'], { stdout: 'OK\n' })
    .on(['cilium-dbg', 'status'], { stdout: fx.status })
    .on(['cilium-dbg', 'endpoint', 'list'], { stdout: '[]' })
    .on(['kubectl', 'logs'], { stdout: 'level=info msg="Cilium agent started"\n' })
    .on(['kubectl', 'get', 'events'], { stdout: 'LAST SEEN   TYPE      REASON    OBJECT\n' })
    .on(['kubectl', 'describe', 'pods'], { stdout: 'Name:         cilium-tjsld\n' })
    .on(['kind', 'delete', 'cluster'], { stderr: `Deleting cluster "${CLUSTER}" ...\n` })
    .on(['docker', 'exec'], { stdout: '' });
  if (o.exists) installCilium(api, 2, o.installedImage);

  const progress: string[] = [];
  const backend = new KindBackend(
    {
      cluster: CLUSTER,
      k8sVersion: 'v1.27.3',
      kindConfig: 'kind-configs/two-node.yaml',
      valuesFiles: [],
      chart: { kind: 'repo' },
      reuse: o.reuse ?? false,
      keep: o.keep ?? 'never',
      reportsDir: reports,
      iptables: o.iptables,
      images: o.images,
      kindLoad: o.kindLoad,
    },
    {
      exec,
      wait: { progress: (l) => progress.push(l), sleep: (ms) => new Promise((r) => setTimeout(r, Math.min(ms, 5))) },
      pollMs: 5,
      timeouts: { ciliumReady: 200, nodesReady: 200, workloadReady: 500, windowStopGrace: 20 },
      runId: 'r1a2b3',
      lockHolder: 'hookpoint-test-run',
    },
  );
  cleanups.push(() => backend.teardown().catch(() => {}));
  return { api, exec, backend, progress, fx, reports };
}
