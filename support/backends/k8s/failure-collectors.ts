/**
 * Failure collectors of the kind and existing backends: per involved node, the agent status,
 * the full `iptables-save -c` (node), `bpftool net show` (in the cilium-agent container: the
 * node image has no bpftool), routes and neighbours (node); and the backend's own — the Cilium
 * agent log tail of the involved nodes, `kubectl get events`, and pod descriptions. They run
 * after every failed or broken scenario and when provisioning breaks. A collector that fails
 * becomes evidence of that failure; it never hides the error being explained.
 */
import { InfraError } from '../../errors.ts';
import type { Evidence } from '../../evidence/index.ts';
import { formatArgv } from '../../exec/index.ts';
import type { NodeCollector } from '../types.ts';
import type { Executor } from './executor.ts';
import {
  CILIUM_AGENT_CONTAINER,
  CILIUM_AGENT_SELECTOR,
  CILIUM_NAMESPACE,
  kubectlArgv,
  TIMEOUTS,
} from './kubectl-commands.ts';

/** Commands collected on each involved node (the backend routes each tool to its image). */
export const K8S_NODE_COLLECTORS: readonly NodeCollector[] = [
  { name: 'status', target: 'agent', argv: ['cilium-dbg', 'status'] },
  { name: 'iptables-save', target: 'node', argv: ['iptables-save', '-c'] },
  { name: 'bpftool-net', target: 'node', argv: ['bpftool', 'net', 'show'] },
  { name: 'routes', target: 'node', argv: ['ip', 'route', 'show', 'table', 'all'] },
  { name: 'neigh', target: 'node', argv: ['ip', 'neigh', 'show'] },
];

/** Evidence kinds of collectFailureEvidence(). */
export const K8S_OWN_COLLECTORS = ['agent-log', 'events', 'describe-pods'] as const;

export interface CollectTarget {
  exec: Executor;
  kubeconfig: string;
  context?: string;
  /** The run's namespace (pods described there too), when created. */
  namespace?: string;
  /** Cilium agent pod per node, for the nodes involved. */
  agentPods: ReadonlyArray<{ node: string; pod: string }>;
}

async function one(t: CollectTarget, kind: string, where: string, argv: string[]): Promise<Evidence<string>> {
  try {
    const res = await t.exec.run(argv, { timeoutMs: TIMEOUTS.collector, where, check: false });
    const raw = res.stdout + (res.stderr ? `\n[stderr]\n${res.stderr}` : '');
    const lines = res.stdout.split('\n').filter(Boolean).length;
    return {
      kind,
      where,
      commands: [formatArgv(argv)],
      raw,
      data: raw,
      summary: `${kind} on ${where}: ${lines} lines${res.exitCode ? ` (exit ${res.exitCode})` : ''}`,
    };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return {
      kind,
      where,
      commands: [formatArgv(argv)],
      raw: msg,
      data: msg,
      summary: `${kind} on ${where} could not be collected: ${msg}`,
    };
  }
}

export async function collectFailureEvidence(t: CollectTarget): Promise<Array<Evidence<string>>> {
  const k = (...rest: string[]) => kubectlArgv(t.kubeconfig, t.context, ...rest);
  const jobs: Array<Promise<Evidence<string>>> = [];
  for (const { node, pod } of t.agentPods)
    jobs.push(
      one(
        t,
        'agent-log',
        `node ${node}`,
        k('--namespace', CILIUM_NAMESPACE, 'logs', pod, '--container', CILIUM_AGENT_CONTAINER, '--tail=200'),
      ),
    );
  jobs.push(one(t, 'events', 'cluster', k('get', 'events', '--all-namespaces', '--sort-by=.lastTimestamp')));
  jobs.push(
    one(
      t,
      'describe-pods',
      CILIUM_NAMESPACE,
      k('--namespace', CILIUM_NAMESPACE, 'describe', 'pods', '-l', CILIUM_AGENT_SELECTOR),
    ),
  );
  if (t.namespace) jobs.push(one(t, 'describe-pods', t.namespace, k('--namespace', t.namespace, 'describe', 'pods')));
  return Promise.all(jobs);
}

/** An InfraError (Allure: broken) that carries what the collectors found. */
export class ProvisioningError extends InfraError {
  readonly evidence: Array<Evidence<string>>;
  constructor(message: string, evidence: Array<Evidence<string>>, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, opts);
    this.evidence = evidence;
  }
}
