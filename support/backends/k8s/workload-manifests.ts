/**
 * Workload manifests (pure): the run's namespace, an echo deployment pinned to each node, a
 * service, a client pod, and the privileged probe DaemonSet (captures with a pinned tcpdump
 * image; host access for the existing backend). Images are pinned; no tool inside a workload or
 * node image is relied on for captures.
 */
import type * as k8s from '@kubernetes/client-node';
import type { ImageOverrides } from '../../config.ts';
import { UsageError } from '../../errors.ts';
import type { ClientSpec, EchoSpec, Listener, ServiceSpec } from '../types.ts';

/** kubernetes e2e test image: `netexec` is an HTTP echo server, and the image has curl. */
export const ECHO_IMAGE = 'registry.k8s.io/e2e-test-images/agnhost:2.45';
export const CLIENT_IMAGE = ECHO_IMAGE;
/** Pinned network-tools image with tcpdump, nsenter (util-linux), iproute2. */
export const PROBE_IMAGE = 'nicolaka/netshoot:v0.13';
export const PROBE_NAME = 'hookpoint-probe';

/** The workload images of a run: the pinned defaults unless --image names others. */
export function workloadImages(o: ImageOverrides = {}): { probe: string; echo: string; client: string } {
  return { probe: o.probe ?? PROBE_IMAGE, echo: o.echo ?? ECHO_IMAGE, client: o.client ?? CLIENT_IMAGE };
}
/**
 * The echo's HTTP port: 80, as on the lab, so a feature's ports (a policy's `port: 80`, a
 * reachability matrix "on port 80/TCP" to a pod) mean the same on every backend.
 */
export const DEFAULT_ECHO_PORT = 80;
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'hookpoint' } as const;
export const RUN_LABEL = 'hookpoint.io/run';
export const NODE_LABEL = 'hookpoint.io/node';
export const ROLE_LABEL = 'hookpoint.io/role';

export function runNamespace(runId: string): string {
  return `hookpoint-${runId}`;
}

/**
 * The run namespace's Pod Security level: the probe is privileged with the host's PID and
 * network namespaces, which Pod Security admission rejects in a namespace that enforces
 * baseline or restricted (a cluster-wide default on many managed clusters). The label lets it run.
 */
export const POD_SECURITY_LABELS = { 'pod-security.kubernetes.io/enforce': 'privileged' } as const;

export function namespaceLabels(runId: string): Record<string, string> {
  return { ...MANAGED_BY, [RUN_LABEL]: runId, ...POD_SECURITY_LABELS };
}

/** A namespace a run creates for a scenario's client pods (no privileged pods live there). */
export function clientNamespaceLabels(runId: string): Record<string, string> {
  return { ...MANAGED_BY, [RUN_LABEL]: runId };
}

/** Schedule onto exactly this node (by name, as the DaemonSet controller does), tolerating its taints. */
function pinTo(node: string): Pick<k8s.V1PodSpec, 'affinity' | 'tolerations'> {
  return {
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }],
        },
      },
    },
    tolerations: [{ operator: 'Exists' }],
  };
}

/** A DNS-1123 suffix for a node: its role-ish tail ("worker2") or a sanitized name. */
export function nodeSuffix(node: string, cluster: string): string {
  const tail = node.startsWith(`${cluster}-`) ? node.slice(cluster.length + 1) : node;
  return tail
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 30);
}

/**
 * The echo pod's containers: agnhost `netexec` on the HTTP port (as before), then one container
 * per further listener its services' target ports name — `netexec --http-port=P --udp-port=-1`
 * for TCP, `serve-hostname --udp --http=false --port=P` for UDP (it answers every datagram with
 * the pod's hostname, which is its name). Containers of a pod share its network namespace.
 */
export function echoContainers(port: number, listeners: readonly Listener[], image: string): k8s.V1Container[] {
  const containers: k8s.V1Container[] = [
    {
      name: 'echo',
      image,
      args: ['netexec', `--http-port=${port}`],
      ports: [{ name: 'http', containerPort: port, protocol: 'TCP' }],
      readinessProbe: { httpGet: { path: '/hostname', port }, periodSeconds: 1 },
    },
  ];
  for (const l of listeners) {
    if (l.protocol === 'TCP' && l.port === port) continue;
    const name = `echo-${l.protocol.toLowerCase()}-${l.port}`;
    if (containers.some((c) => c.name === name)) continue;
    containers.push(
      l.protocol === 'TCP'
        ? {
            name,
            image,
            args: ['netexec', `--http-port=${l.port}`, '--udp-port=-1'],
            ports: [{ containerPort: l.port, protocol: 'TCP' }],
          }
        : {
            name,
            image,
            args: ['serve-hostname', '--udp', '--http=false', `--port=${l.port}`],
            ports: [{ containerPort: l.port, protocol: 'UDP' }],
          },
    );
  }
  return containers;
}

/** What an echo pod answers on, read back from its containers' ports (the HTTP port first). */
export function echoListenersOf(pod: k8s.V1Pod): Listener[] {
  return (pod.spec?.containers ?? []).flatMap((c) =>
    (c.ports ?? []).map((p) => ({ port: p.containerPort, protocol: p.protocol === 'UDP' ? 'UDP' : 'TCP' }) as Listener),
  );
}

/** One Deployment per node ("echo-control-plane", "echo-worker"), each with one replica pinned there. */
export function echoDeployments(
  spec: EchoSpec,
  cluster: string,
  runId: string,
  images: ImageOverrides = {},
): k8s.V1Deployment[] {
  if (spec.nodes.length === 0) throw new UsageError(`The echo deployment "${spec.name}" names no node.`);
  const port = spec.port ?? DEFAULT_ECHO_PORT;
  return spec.nodes.map((node) => {
    const name = `${spec.name}-${nodeSuffix(node, cluster)}`.slice(0, 63).replace(/-+$/, '');
    const labels = { app: spec.name, [NODE_LABEL]: node.slice(0, 63), [RUN_LABEL]: runId, ...MANAGED_BY };
    return {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: spec.name, [NODE_LABEL]: node.slice(0, 63) } },
        template: {
          metadata: { labels },
          spec: {
            ...pinTo(node),
            terminationGracePeriodSeconds: 1,
            containers: echoContainers(port, spec.listeners ?? [], workloadImages(images).echo),
          },
        },
      },
    };
  });
}

export function serviceManifest(spec: ServiceSpec, echoPort: number): k8s.V1Service {
  const selector: Record<string, string> = { app: spec.app };
  if (spec.onlyNodes?.length) {
    if (spec.onlyNodes.length > 1)
      throw new UsageError(
        `Service "${spec.name}": restricting backends to ${spec.onlyNodes.length} nodes is not supported on kind/existing yet (one node, or all).`,
      );
    selector[NODE_LABEL] = spec.onlyNodes[0]!.slice(0, 63);
  }
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: spec.name, labels: { ...MANAGED_BY } },
    spec: {
      type: spec.type,
      selector,
      ports: [
        {
          name: spec.protocol === 'UDP' ? 'udp' : 'http',
          protocol: spec.protocol ?? 'TCP',
          port: spec.port,
          targetPort: spec.targetPort ?? echoPort,
          ...(spec.type === 'NodePort' && spec.nodePort ? { nodePort: spec.nodePort } : {}),
        },
      ],
    },
  };
}

export function clientPod(spec: ClientSpec, runId: string, images: ImageOverrides = {}): k8s.V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: spec.name,
      // The step's labels (policies select them), else run=<name> as `kubectl run` sets.
      labels: { ...(spec.labels ?? { run: spec.name }), [ROLE_LABEL]: 'client', [RUN_LABEL]: runId, ...MANAGED_BY },
    },
    spec: {
      ...pinTo(spec.node),
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'client', image: workloadImages(images).client, args: ['pause'] }],
    },
  };
}

/** The probe pod's container of the Cilium agent's image, where bpftool runs (tool-locations.ts). */
export const PROBE_BPFTOOL_CONTAINER = 'bpftool';

/**
 * Privileged probe on every node: host network and PID namespaces, the node's scratch directory
 * mounted at the same path, so `nsenter -t 1` reaches the host and `nsenter -t <pid> -n` a pod.
 * With `agentImage` (the installed agent's image, already on every node), a second privileged
 * container of that image runs bpftool with every capability; `probe` stays the default container.
 */
export function probeDaemonSet(
  runId: string,
  scratchDir: string,
  images: ImageOverrides = {},
  agentImage?: string,
): k8s.V1DaemonSet {
  const labels = { app: PROBE_NAME, [RUN_LABEL]: runId, ...MANAGED_BY };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: PROBE_NAME, labels },
    spec: {
      selector: { matchLabels: { app: PROBE_NAME } },
      template: {
        metadata: { labels, annotations: { 'kubectl.kubernetes.io/default-container': 'probe' } },
        spec: {
          hostNetwork: true,
          hostPID: true,
          dnsPolicy: 'ClusterFirstWithHostNet',
          tolerations: [{ operator: 'Exists' }],
          terminationGracePeriodSeconds: 1,
          containers: [
            {
              name: 'probe',
              image: workloadImages(images).probe,
              command: ['sleep', 'infinity'],
              securityContext: { privileged: true },
              volumeMounts: [{ name: 'scratch', mountPath: scratchDir }],
            },
            ...(agentImage
              ? [
                  {
                    name: PROBE_BPFTOOL_CONTAINER,
                    image: agentImage,
                    command: ['sleep', 'infinity'],
                    securityContext: { privileged: true },
                  },
                ]
              : []),
          ],
          volumes: [{ name: 'scratch', hostPath: { path: scratchDir, type: 'DirectoryOrCreate' } }],
        },
      },
    },
  };
}
