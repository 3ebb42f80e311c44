/**
 * The lab's stand-in for a node's Cilium agent CLI (`cilium-dbg status`, `cilium-dbg monitor`),
 * served by `hookpoint lab agent <node> -- …` so every backend reaches "the agent" with the same
 * argv. Its output has Cilium's formats and nothing else: the status's real labels, and the
 * monitor's real trace lines (monitor-format.ts) with the flags `cilium-dbg monitor` takes.
 */
import { InfraError, UsageError } from '../../../errors.ts';
import { cancelled } from '../../../exec/index.ts';
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
  readonly labState: { cluster: string; plan: { nodes: LabNodePlan[] }; pods: LabPod[]; modes: LabModes };
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

/** Serve one agent command (`status`, `status --brief`, `endpoint list -o json`, `monitor …`; a leading `cilium`/`cilium-dbg` is optional). */
export async function runAgent(lab: AgentLab, nodeName: string, command: readonly string[], io: AgentIO) {
  const rest = /^cilium(-dbg)?$/.test(command[0] ?? '') ? command.slice(1) : [...command];
  const [verb, ...args] = rest;
  if (verb === 'status' && args.length === 0) return status(lab, nodeName, io);
  if (verb === 'status' && args.length === 1 && args[0] === '--brief') return briefStatus(lab, nodeName, io);
  if (verb === 'endpoint' && args[0] === 'list') return endpointList(lab, nodeName, args.slice(1), io);
  if (verb === 'monitor') return monitor(lab, nodeName, args, io);
  throw new UsageError(
    `The lab's agent stand-in serves "cilium-dbg status [--brief]", "cilium-dbg endpoint list -o json" and "cilium-dbg monitor", not "${rest.join(' ')}".`,
    'Examples: hookpoint lab agent worker -- cilium-dbg status · hookpoint lab agent control-plane -- cilium-dbg monitor --type trace',
  );
}
