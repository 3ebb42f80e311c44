/**
 * The lab's stand-in for a node's Cilium agent CLI (`cilium-dbg status`, `cilium-dbg monitor`),
 * served by `hookpoint lab agent <node> -- …` so every backend reaches "the agent" with the same
 * argv. Its output has Cilium's formats and nothing else: the status's real labels, and the
 * monitor's real trace lines (monitor-format.ts) with the flags `cilium-dbg monitor` takes.
 */
import { InfraError, UsageError } from '../../../errors.ts';
import { cancelled } from '../../../exec/index.ts';
import { formatPolicyGetJson, formatPolicyGetText } from '../../../policy/agent-repository.ts';
import type { NetworkPolicyDoc } from '../../../policy/manifest.ts';
import { gatherDatapathState, type NodeDatapath, possibleCpus, renderStatus, startMonitor } from '../datapath/index.ts';
import type { LabModes } from '../modes.ts';
import type { LabPod } from '../pod-netns.ts';
import type { LabNodePlan } from '../topology.ts';
import { agentView } from './identities.ts';
import {
  formatRecord,
  formatSockRecord,
  type MonitorFilter,
  monitorBanner,
  recordType,
  type Verbosity,
} from './monitor-format.ts';

/** What the stand-in needs of the lab (LabBackend provides it). */
export interface AgentLab {
  readonly labState: {
    cluster: string;
    plan: { nodes: LabNodePlan[] };
    pods: LabPod[];
    modes: LabModes;
    policies?: NetworkPolicyDoc[];
    policyRevision?: number;
    policyRealized?: number;
  };
  /** Read the lab's state again (a command that waits for another process's change). */
  attach?(cluster: string): unknown;
  node(nameOrRole: string): LabNodePlan;
  datapath(node: string): NodeDatapath | undefined;
  datapathReader(node: string): NodeDatapath;
}

export interface AgentIO {
  out(line: string): void;
  err(line: string): void;
  /** True once the caller wants a streaming command (monitor) to end: the agent server's client hung up. */
  stopped?(): boolean;
}

/** Event types `cilium-dbg monitor --type` accepts; the lab's datapath emits trace, drop and policy-verdict events. */
export const MONITOR_TYPES = [
  'drop',
  'debug',
  'capture',
  'trace',
  'l7',
  'agent',
  'policy-verdict',
  'recorder',
  'trace-sock',
] as const;

export interface MonitorArgs {
  types: string[];
  filter: MonitorFilter;
  verbosity: Verbosity;
  numeric: boolean;
}

function endpointId(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !/^\d+$/.test(value) || n > 65535)
    throw new UsageError(`${flag} needs an endpoint id (a number), got "${value ?? ''}".`);
  return n;
}

/** Parse `cilium-dbg monitor`'s flags (pure). */
export function parseMonitorArgs(args: readonly string[]): MonitorArgs {
  const out: MonitorArgs = {
    types: [],
    filter: { from: [], to: [], relatedTo: [] },
    verbosity: 'info',
    numeric: false,
  };
  let verbose = 0;
  for (let i = 0; i < args.length; i++) {
    const raw = args[i]!;
    const eq = raw.startsWith('--') ? raw.indexOf('=') : -1;
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const value = () => (eq > 0 ? raw.slice(eq + 1) : args[++i]);
    if (flag === '--type' || flag === '-t') {
      const t = value();
      if (!t || !(MONITOR_TYPES as readonly string[]).includes(t))
        throw new UsageError(
          `Unknown type (${t ?? ''}).`,
          `Please use one of the following ones: ${MONITOR_TYPES.join(', ')}.`,
        );
      out.types.push(t);
    } else if (flag === '--from') out.filter.from.push(endpointId(flag, value()));
    else if (flag === '--to') out.filter.to.push(endpointId(flag, value()));
    else if (flag === '--related-to') out.filter.relatedTo.push(endpointId(flag, value()));
    else if (flag === '-v' || flag === '--verbose') verbose++;
    else if (flag === '-vv') verbose += 2;
    else if (flag === '-n' || flag === '--numeric') out.numeric = true;
    else if (flag === '--hex') {
      // No payload is captured by the lab's records, so there is nothing to print in hex.
    } else if (flag === '-j' || flag === '--json')
      throw new UsageError("The lab's agent stand-in prints the text formats of `cilium-dbg monitor`, not --json.");
    else
      throw new UsageError(
        `\`cilium-dbg monitor\` of the lab does not know "${raw}".`,
        'It takes --type/-t TYPE, --from ID, --to ID, --related-to ID, -v, -vv, -n, --hex.',
      );
  }
  out.verbosity = verbose >= 2 ? 'verbose' : verbose === 1 ? 'debug' : 'info';
  return out;
}

async function status(lab: AgentLab, nodeName: string, io: AgentIO): Promise<void> {
  const node = lab.node(nodeName);
  const state = await gatherDatapathState(lab.datapathReader(node.name), {
    modes: lab.labState.modes,
    podCIDR: node.podCIDR,
  });
  io.out(renderStatus(state, { cpus: possibleCpus() }).trimEnd());
}

async function monitor(lab: AgentLab, nodeName: string, args: readonly string[], io: AgentIO): Promise<void> {
  const opts = parseMonitorArgs(args);
  const node = lab.node(nodeName);
  const dp = lab.datapath(node.name);
  if (!dp)
    throw new UsageError(
      `Lab "${lab.labState.cluster}" runs without the tc datapath (variant no-tc): node ${node.name} has no monitor events.`,
      'Recreate the lab without --variant no-tc to watch the datapath.',
    );
  const view = agentView(node.name, lab.labState.plan.nodes, lab.labState.pods);
  const wanted = (r: Parameters<typeof recordType>[0]) => opts.types.length === 0 || opts.types.includes(recordType(r));
  // Socket translations print under `-t trace` too (as a real agent's monitor shows them) and `-t trace-sock`.
  const sockTraces = opts.types.length === 0 || opts.types.includes('trace') || opts.types.includes('trace-sock');
  const ifname = (i: number) => dp.interfaceName(i);
  const stream = await startMonitor(dp, {
    onRecord: (r) => {
      if (wanted(r)) for (const line of formatRecord(r, view, ifname, opts)) io.out(line);
    },
    onSockRecord: (r) => {
      if (sockTraces) io.out(formatSockRecord(r));
    },
  });
  for (const line of monitorBanner(possibleCpus())) io.err(line);
  while (stream.running() && !cancelled() && !io.stopped?.()) await new Promise((r) => setTimeout(r, 50));
  await stream.stop();
}

/**
 * `cilium-dbg status --brief`: one line, "OK" and exit 0 when the agent is healthy (pkg/client
 * `FormatStatusResponseBrief`); here healthy means the node's datapath is attached.
 */
async function briefStatus(lab: AgentLab, nodeName: string, io: AgentIO): Promise<void> {
  const node = lab.node(nodeName);
  // Unhealthy: Cilium's own "error in <component>: <message>" line, and a failing exit.
  if (!lab.datapath(node.name))
    throw new InfraError(`error in cilium: the datapath of node ${node.name} is not loaded`);
  io.out('OK');
}

/**
 * `cilium-dbg endpoint list -o json`: the node's endpoints with the fields Cilium's model
 * (api/v1 Endpoint) names `id` and `status.networking` (addressing, interface-name, mac, host-mac).
 */
function endpointList(lab: AgentLab, nodeName: string, args: readonly string[], io: AgentIO): void {
  const o =
    args.indexOf('-o') >= 0 ? args[args.indexOf('-o') + 1] : args.find((a) => a.startsWith('--output='))?.slice(9);
  if (o !== 'json') throw new UsageError("The lab's agent stand-in prints `cilium-dbg endpoint list -o json` only.");
  const node = lab.node(nodeName);
  const eps = lab.labState.pods
    .filter((p) => p.node === node.name)
    .map((p) => ({
      id: p.endpointId,
      status: {
        state: 'ready',
        'external-identifiers': { 'k8s-pod-name': p.name, 'pod-name': `${p.namespace}/${p.name}` },
        networking: {
          addressing: [{ ipv4: p.ip }],
          'interface-name': p.hostVeth,
          mac: p.mac,
          'host-mac': p.hostVethMac,
        },
      },
    }));
  io.out(JSON.stringify(eps, null, 2));
}

/** The output option of a command (`-o json`, `--output json`, `--output=json`), or null. */
function outputOption(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-o' || args[i] === '--output') return args[i + 1] ?? '';
    if (args[i]!.startsWith('--output=')) return args[i]!.slice(9);
    if (args[i]!.startsWith('-o') && args[i]!.length > 2) return args[i]!.slice(2);
  }
  return null;
}

/**
 * `cilium-dbg policy get [-o json]`: the rules Cilium derives from the policies applied now
 * (support/policy/agent-repository.ts writes the shape) and the repository's revision.
 */
function policyGet(lab: AgentLab, args: readonly string[], io: AgentIO): void {
  const o = outputOption(args);
  const labels = args.filter((a, i) => !a.startsWith('-') && !['-o', '--output'].includes(args[i - 1] ?? ''));
  if (labels.length)
    throw new UsageError("The lab's agent stand-in prints every rule (`cilium-dbg policy get`), not rules by label.");
  if (o !== null && o !== 'json')
    throw new UsageError(`The lab's agent stand-in prints \`cilium-dbg policy get\` as text or -o json, not "${o}".`);
  const s = lab.labState;
  const revision = s.policyRevision ?? 1;
  io.out(
    o === 'json' ? formatPolicyGetJson(s.policies ?? [], revision) : formatPolicyGetText(s.policies ?? [], revision),
  );
}

function intFlag(args: readonly string[], name: string, dflt: number): number {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return dflt;
  const v = args[i]!.includes('=') ? args[i]!.slice(name.length + 1) : args[i + 1];
  if (!v || !/^\d+$/.test(v)) throw new UsageError(`invalid argument "${v ?? ''}" for "${name}" flag`);
  return Number(v);
}

/**
 * `cilium-dbg policy wait <revision>`: until every endpoint of this node enforces that revision
 * (cilium-dbg/cmd/policy_wait.go: silent and exit 0 when they do; `\rWaiting for endpoints to
 * run policy revision N: ready/needed` while waiting; after --max-wait-time seconds an error
 * and exit 1). The lab writes every endpoint's policy map at once, so they realize a revision
 * together.
 */
async function policyWait(lab: AgentLab, nodeName: string, args: readonly string[], io: AgentIO): Promise<void> {
  const positional = args.filter((a, i) => !a.startsWith('-') && !/^--[a-z-]+$/.test(args[i - 1] ?? ''));
  if (positional.length < 1 || positional[0] === '') throw new UsageError('invalid revision');
  if (!/^-?\d+$/.test(positional[0]!))
    throw new UsageError(
      `invalid revision '${positional[0]}': strconv.ParseInt: parsing "${positional[0]}": invalid syntax`,
    );
  const wanted = Number(positional[0]);
  const sleepMs = intFlag(args, '--sleep-time', 1) * 1000;
  const maxMs = intFlag(args, '--max-wait-time', 360) * 1000;
  const started = Date.now();
  const node = lab.node(nodeName);
  let waited = false;
  for (;;) {
    const s = lab.labState;
    const needed = s.pods.filter((p) => p.node === node.name).length;
    const ready = (s.policyRealized ?? 1) >= wanted ? needed : 0;
    if (ready === needed) {
      if (waited) io.out('');
      return;
    }
    if (Date.now() - started >= maxMs || cancelled() || io.stopped?.())
      throw new InfraError(
        `${needed - ready} endpoints still not ready after ${((Date.now() - started) / 1000).toFixed(1)}s (0 failed)`,
      );
    io.out(`\rWaiting for endpoints to run policy revision ${wanted}: ${ready}/${needed}`);
    waited = true;
    await new Promise((r) => setTimeout(r, Math.max(50, Math.min(sleepMs, 1000))));
    lab.attach?.(s.cluster);
  }
}

/** Serve one agent command (`status`, `status --brief`, `endpoint list -o json`, `policy get|wait`, `monitor …`; a leading `cilium`/`cilium-dbg` is optional). */
export async function runAgent(lab: AgentLab, nodeName: string, command: readonly string[], io: AgentIO) {
  const rest = /^cilium(-dbg)?$/.test(command[0] ?? '') ? command.slice(1) : [...command];
  const [verb, ...args] = rest;
  if (verb === 'status' && args.length === 0) return status(lab, nodeName, io);
  if (verb === 'status' && args.length === 1 && args[0] === '--brief') return briefStatus(lab, nodeName, io);
  if (verb === 'endpoint' && args[0] === 'list') return endpointList(lab, nodeName, args.slice(1), io);
  if (verb === 'monitor') return monitor(lab, nodeName, args, io);
  if (verb === 'policy' && args[0] === 'get') return policyGet(lab, args.slice(1), io);
  if (verb === 'policy' && args[0] === 'wait') return policyWait(lab, nodeName, args.slice(1), io);
  throw new UsageError(
    `The lab's agent stand-in serves "cilium-dbg status [--brief]", "cilium-dbg endpoint list -o json", "cilium-dbg policy get [-o json]", "cilium-dbg policy wait <revision>" and "cilium-dbg monitor", not "${rest.join(' ')}".`,
    'Examples: hookpoint lab agent worker -- cilium-dbg status · hookpoint lab agent control-plane -- cilium-dbg monitor --type trace',
  );
}
