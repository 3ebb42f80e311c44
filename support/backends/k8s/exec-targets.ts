/**
 * Where a command runs on kind and existing, and how it gets there: the node (`docker exec`, or
 * the probe pod entering the host), the node's Cilium agent container (`kubectl exec … -c
 * cilium-agent`), the probe pod (tcpdump in a node's or pod's network namespace), or a pod.
 * A command's first word picks its home from the tool locations (tool-locations.ts), so a
 * `bpftool` asked of a node runs in that node's agent container and never in the node image.
 * Caches the agent pod, probe pod and container PID per node or pod.
 */
import { InfraError } from '../../errors.ts';
import type { ExecTarget } from '../types.ts';
import type { ClusterAccess } from './cluster-access.ts';
import { agentImageOf } from './installed-cilium.ts';
import { agentExecArgv, CILIUM_AGENT_SELECTOR, CILIUM_DAEMONSET, CILIUM_NAMESPACE } from './kubectl-commands.ts';
import { waitUntil } from './readiness.ts';
import { toolLocation } from './tool-locations.ts';
import { PROBE_BPFTOOL_CONTAINER, PROBE_NAME, probeDaemonSet } from './workload-manifests.ts';

export interface ResolvedCommand {
  argv: string[];
  where: string;
}

export class ExecTargets {
  private readonly c: ClusterAccess;
  /** Creates the run namespace when needed (owned by the run workloads). */
  private readonly ensureNamespace: () => Promise<void>;
  /** Full node name for a name or role (owned by the topology). */
  private readonly nodeName: (nameOrRole: string) => Promise<string>;
  private probeReady: Promise<void> | undefined;
  private readonly agentPods = new Map<string, string>();
  private readonly probePods = new Map<string, string>();
  private readonly podPids = new Map<string, string>();
  /** Kind nodes where the scratch directory was created (removed at teardown). */
  readonly scratchReady = new Set<string>();

  constructor(
    c: ClusterAccess,
    deps: { ensureNamespace: () => Promise<void>; nodeName: (nameOrRole: string) => Promise<string> },
  ) {
    this.c = c;
    this.ensureNamespace = deps.ensureNamespace;
    this.nodeName = deps.nodeName;
  }

  private ensureProbe(): Promise<void> {
    this.probeReady ??= (async () => {
      await this.ensureNamespace();
      // The agent's image, already on every node, for the probe's bpftool container.
      const agentImage = agentImageOf(await this.c.api().readDaemonSet(CILIUM_NAMESPACE, CILIUM_DAEMONSET));
      await this.c
        .api()
        .createDaemonSet(
          this.c.namespace,
          probeDaemonSet(this.c.runId, this.c.scratchDir, this.c.opts.images, agentImage),
        );
      await waitUntil(
        `probe DaemonSet ${this.c.namespace}/${PROBE_NAME}`,
        async () => {
          const ds = await this.c.api().readDaemonSet(this.c.namespace, PROBE_NAME);
          const desired = ds?.status?.desiredNumberScheduled ?? 0;
          const ready = ds?.status?.numberReady ?? 0;
          return { done: desired > 0 && ready === desired, state: `${ready}/${desired} probe pods ready` };
        },
        { timeoutMs: this.c.t.workloadReady, intervalMs: this.c.pollMs, deps: this.c.waitDeps },
      );
    })();
    this.probeReady.catch(() => {
      this.probeReady = undefined;
    });
    return this.probeReady;
  }

  async probePod(node: string): Promise<string> {
    const hit = this.probePods.get(node);
    if (hit) return hit;
    await this.ensureProbe();
    const pods = await this.c.api().listPods(this.c.namespace, {
      labelSelector: `app=${PROBE_NAME}`,
      fieldSelector: `spec.nodeName=${node}`,
    });
    const pod = pods.find((p) => p.status?.phase === 'Running')?.metadata?.name;
    if (!pod)
      throw new InfraError(`No running probe pod on node ${node} (DaemonSet ${this.c.namespace}/${PROBE_NAME}).`);
    this.probePods.set(node, pod);
    return pod;
  }

  /** The probe pods started so far, per node (teardown empties their scratch directories). */
  startedProbes(): ReadonlyMap<string, string> {
    return this.probeReady ? this.probePods : new Map();
  }

  async agentPod(node: string): Promise<string> {
    const hit = this.agentPods.get(node);
    if (hit) return hit;
    const pods = await this.c.api().listPods(CILIUM_NAMESPACE, {
      labelSelector: CILIUM_AGENT_SELECTOR,
      fieldSelector: `spec.nodeName=${node}`,
    });
    const pod = pods.find((p) => p.status?.phase === 'Running')?.metadata?.name ?? pods[0]?.metadata?.name;
    if (!pod)
      throw new InfraError(
        `No Cilium agent pod on node ${node} (pods ${CILIUM_NAMESPACE} -l ${CILIUM_AGENT_SELECTOR}).`,
        {
          hint: 'Is the node name right, and is Cilium installed? `hookpoint doctor` checks.',
        },
      );
    this.agentPods.set(node, pod);
    return pod;
  }

  /** The host PID of a pod's first container, found from the probe pod (hostPID) by its container id. */
  private async podPid(namespace: string, pod: string, node: string): Promise<string> {
    const key = `${namespace}/${pod}`;
    const hit = this.podPids.get(key);
    if (hit) return hit;
    const p = await this.c.api().readPod(namespace, pod);
    const id = p?.status?.containerStatuses?.[0]?.containerID?.replace(/^[a-z]+:\/\//, '');
    if (!id) throw new InfraError(`Pod ${key} has no running container yet (no containerID).`);
    const probe = await this.probePod(node);
    // A fixed script; the container id is passed as $1, never spliced into the text.
    const script =
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
      'for p in /proc/[0-9]*; do if grep -qs "$1" "$p/cgroup"; then echo "${p#/proc/}"; exit 0; fi; done; exit 1';
    const res = await this.c.exec.run(
      this.c.kubectl('--namespace', this.c.namespace, 'exec', probe, '--', 'sh', '-c', script, 'sh', id),
      { timeoutMs: this.c.t.nodeExec, where: `probe on node ${node}`, check: false },
    );
    const pid = res.stdout.trim().split('\n')[0] ?? '';
    if (res.exitCode !== 0 || !/^\d+$/.test(pid))
      throw new InfraError(`Could not find the process of pod ${key} on node ${node} (container ${id.slice(0, 12)}).`);
    this.podPids.set(key, pid);
    return pid;
  }

  /** Forget the agent pods found so far (after the DaemonSet replaced them). */
  forgetAgentPods(): void {
    this.agentPods.clear();
  }

  /** Forget a deleted pod's PID. */
  forgetPod(namespace: string, pod: string): void {
    this.podPids.delete(`${namespace}/${pod}`);
  }

  /** The argv of a command in the node's Cilium agent container (`cilium` becomes `cilium-dbg` from 1.15). */
  private async inAgent(node: string, argv: readonly string[]): Promise<string[]> {
    const pod = await this.agentPod(node);
    const version = this.c.version();
    if (!version) throw new InfraError('internal: agent command before the Cilium version is known.');
    return agentExecArgv({ kubeconfig: this.c.opts.kubeconfig, context: this.c.opts.context, pod, version, argv });
  }

  /** A command in another container of the node's probe pod (host network namespace). */
  private async inProbeContainer(node: string, container: string, argv: readonly string[]): Promise<string[]> {
    const probe = await this.probePod(node);
    return this.c.kubectl('--namespace', this.c.namespace, 'exec', probe, '-c', container, '--', ...argv);
  }

  /** A command in the probe pod of a node, inside the network namespace of process `pid` (1: the node's). */
  private async inProbeNetns(node: string, pid: string, argv: readonly string[]): Promise<string[]> {
    const probe = await this.probePod(node);
    return this.c.kubectl(
      '--namespace',
      this.c.namespace,
      'exec',
      probe,
      '--',
      'nsenter',
      '-t',
      pid,
      '-n',
      '--',
      ...argv,
    );
  }

  /** A node command with the node's own binaries: `docker exec` (kind) or the probe entering the host (existing). */
  private async onNode(node: string, argv: readonly string[], input: boolean): Promise<string[]> {
    if (this.c.opts.nodeAccess === 'docker') {
      if (!this.scratchReady.has(node)) {
        this.scratchReady.add(node);
        await this.c.exec.run(['docker', 'exec', node, 'mkdir', '-p', this.c.scratchDir], {
          timeoutMs: this.c.t.nodeExec,
          where: `node ${node}`,
          check: false,
        });
      }
      return ['docker', 'exec', ...(input ? ['-i'] : []), node, ...argv];
    }
    const probe = await this.probePod(node);
    return this.c.kubectl(
      '--namespace',
      this.c.namespace,
      'exec',
      ...(input ? ['-i'] : []),
      probe,
      '--',
      'nsenter',
      '-t',
      '1',
      '-m',
      '-u',
      '-i',
      '-n',
      '-p',
      '--',
      ...argv,
    );
  }

  async resolve(target: ExecTarget, argv: readonly string[], input = false): Promise<ResolvedCommand> {
    const tool = toolLocation(argv[0] ?? '');
    switch (target.kind) {
      case 'host':
        return { argv: [...argv], where: 'host' };
      case 'node': {
        const node = await this.nodeName(target.node);
        this.c.involved.add(node);
        if (tool.home === 'agent')
          return { argv: await this.inAgent(node, argv), where: `cilium-agent container on node ${node}` };
        if (tool.home === 'agent-image')
          return {
            argv: await this.inProbeContainer(node, PROBE_BPFTOOL_CONTAINER, argv),
            where: `${PROBE_BPFTOOL_CONTAINER} container (Cilium agent image) of the probe on node ${node}`,
          };
        if (tool.home === 'probe') return { argv: await this.inProbeNetns(node, '1', argv), where: `node ${node}` };
        return { argv: await this.onNode(node, argv, input), where: `node ${node}` };
      }
      case 'agent': {
        const node = await this.nodeName(target.node);
        this.c.involved.add(node);
        return { argv: await this.inAgent(node, argv), where: `agent on node ${node}` };
      }
      case 'pod': {
        const ns = target.namespace ?? this.c.namespace;
        if (tool.home === 'probe') {
          const p = await this.c.api().readPod(ns, target.pod);
          const node = p?.spec?.nodeName;
          if (!node) throw new InfraError(`Pod ${ns}/${target.pod} is not scheduled on a node.`);
          this.c.involved.add(node);
          const pid = await this.podPid(ns, target.pod, node);
          return {
            argv: await this.inProbeNetns(node, pid, argv),
            where: `pod ${target.pod} (netns via probe on ${node})`,
          };
        }
        return {
          argv: this.c.kubectl('--namespace', ns, 'exec', ...(input ? ['-i'] : []), target.pod, '--', ...argv),
          where: `pod ${target.pod}`,
        };
      }
    }
  }

  /** A file a probe wrote on a node (pcap), as bytes (base64 through the probe pod). */
  async readNodeFile(node: string, file: string): Promise<Buffer> {
    const probe = await this.probePod(node);
    const res = await this.c.exec.run(
      this.c.kubectl('--namespace', this.c.namespace, 'exec', probe, '--', 'base64', '-w0', file),
      { timeoutMs: this.c.t.nodeExec, where: `probe on node ${node}`, quietStdout: true },
    );
    return Buffer.from(res.stdout.trim(), 'base64');
  }

  /** Empty the node scratch directories this run used; errors are returned, not thrown. */
  async removeScratch(): Promise<string[]> {
    const errors: string[] = [];
    for (const node of this.scratchReady)
      await this.c.exec
        .run(['docker', 'exec', node, 'rm', '-rf', this.c.scratchDir], {
          timeoutMs: this.c.t.nodeExec,
          where: `node ${node}`,
          check: false,
        })
        .catch((e: Error) => errors.push(e.message));
    if (this.c.opts.nodeAccess === 'probe')
      for (const [node, pod] of this.startedProbes())
        await this.c.exec
          .run(this.c.kubectl('--namespace', this.c.namespace, 'exec', pod, '--', 'rm', '-rf', this.c.scratchDir), {
            timeoutMs: this.c.t.nodeExec,
            where: `probe on node ${node}`,
            check: false,
          })
          .catch((e: Error) => errors.push(e.message));
    return errors;
  }

  /** The run namespace is gone: its probe pods and pods with it. */
  forgetRunPods(): void {
    this.probeReady = undefined;
    this.probePods.clear();
    this.podPids.clear();
  }
}
