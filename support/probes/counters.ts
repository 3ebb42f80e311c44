/**
 * iptables counter snapshots: one command per node (never `-Z`: zeroing destroys other people's
 * evidence on a shared cluster). Snapshots are compared as before/after deltas by the counter
 * expectations. Given the scenario's services, a snapshot reads only their rules (KUBE-SERVICES
 * and KUBE-NODEPORTS jumps, their KUBE-SVC/KUBE-EXT/KUBE-SEP chains: support/kube-proxy/read.ts),
 * so its cost follows the scenario, not the cluster — on a node where that is the cheaper read
 * (decided once per node: always on legacy, on nft above TARGETED_READ_ABOVE rules in
 * KUBE-SERVICES); otherwise, and without services, the whole nat table (`iptables-save -c -t nat`). Nodes are read side by side, at most `concurrency` at once (a
 * real cluster's API server serves each `kubectl exec`).
 *
 * Which iptables? The one kube-proxy writes to: the backend says so when it knows (`--iptables`,
 * the lab's own choice), otherwise support/kube-proxy finds where KUBE-SERVICES lives, once per
 * node and backend. A caller that knows the mode passes `mode` and no detection runs.
 */
import type { Backend } from '../backends/types.ts';
import { DEFAULT_NODE_READS } from '../config.ts';
import { InfraError } from '../errors.ts';
import type { Evidence } from '../evidence/index.ts';
import type { RunResult } from '../exec/index.ts';
import { findKubeProxyChains, type IptablesMode, iptablesCommand, type KubeProxyChains } from '../kube-proxy/mode.ts';
import {
  chainsNotRead,
  serviceReadCommand,
  servicesSizeCommand,
  targetedReadCheaper,
  type WatchedService,
} from '../kube-proxy/read.ts';
import { type IptablesDump, parseIptablesSave } from '../parsers/iptables.ts';
import { commandOf, tail } from './common.ts';

const TIMEOUT_MS = 20_000;

/** Where kube-proxy's chains were found, per backend and node. */
const known = new WeakMap<Backend, Map<string, KubeProxyChains>>();

/** Per backend and node: whether the targeted read is the cheaper one (decided once, see targetedReadCheaper). */
const targeted = new WeakMap<Backend, Map<string, boolean>>();

/** Forget the detected modes (a backend re-provisioned with another iptables). */
export function forgetIptablesModes(backend: Backend): void {
  known.delete(backend);
  targeted.delete(backend);
}

/**
 * Whether reading only the services' rules is cheaper than the whole table on this node: asked
 * once per node (nft: one count of KUBE-SERVICES' rules; legacy: always), so a window's before
 * and after snapshots read the same way.
 */
async function targetedCheaper(backend: Backend, node: string, chains: KubeProxyChains): Promise<boolean> {
  const cache = targeted.get(backend) ?? new Map<string, boolean>();
  targeted.set(backend, cache);
  const hit = cache.get(node);
  if (hit !== undefined) return hit;
  let lines: number | null = null;
  if (chains.mode === 'nft') {
    const res = await exec(backend, node, servicesSizeCommand(chains));
    const n = Number.parseInt(res.stdout.trim(), 10);
    // grep -c exits 1 when it counted nothing; the count is what matters.
    if (/^\d+$/.test(res.stdout.trim()) && Number.isFinite(n)) lines = n;
  }
  const cheaper = chains.mode !== null && targetedReadCheaper(chains.mode, lines);
  cache.set(node, cheaper);
  return cheaper;
}

export function saveArgv(variant: IptablesMode | 'plain'): string[] {
  return [iptablesCommand(variant, 'save'), '-c', '-t', 'nat'];
}

async function exec(backend: Backend, node: string, argv: string[]): Promise<RunResult> {
  return backend.exec({ kind: 'node', node }, argv, { timeoutMs: TIMEOUT_MS, check: false, quietStdout: true });
}

function unreadable(node: string, res: RunResult, why: string): InfraError {
  // iptables-save prints its own diagnostics as `# …` lines on stdout ("# Table `nat' is incompatible, use 'nft' tool.").
  const notes = res.stdout.split('\n').filter((l) => /^#\s*(?:Table|Warning|Error)/i.test(l));
  const complaint = tail([...notes, res.stderr].join('\n') || res.stdout);
  return new InfraError(
    `Could not read the nat table counters on node ${node}: \`${commandOf(res)}\` ${why}${complaint ? ` — ${complaint}` : ''}.`,
    { hint: 'Rerun the command by hand on the node (it is in the transcript); iptables-save must run as root.' },
  );
}

/** Where kube-proxy's chains live on a node: forced, remembered, or detected now. */
async function chainsOf(
  backend: Backend,
  node: string,
  forced: IptablesMode | undefined,
): Promise<{ chains: KubeProxyChains; detected: boolean }> {
  const mode = forced ?? backend.kubeProxyIptables?.();
  if (mode) return { chains: await findKubeProxyChains(() => Promise.reject(), mode), detected: false };
  const cache = known.get(backend) ?? new Map<string, KubeProxyChains>();
  known.set(backend, cache);
  const hit = cache.get(node);
  if (hit) return { chains: hit, detected: false };
  const chains = await findKubeProxyChains((argv) => exec(backend, node, argv));
  cache.set(node, chains);
  return { chains, detected: true };
}

/** One node's snapshot, detecting the mode on first use. */
async function snapshotNode(
  backend: Backend,
  node: string,
  forced: IptablesMode | undefined,
  resolved?: { chains: KubeProxyChains; detected: boolean },
): Promise<Evidence<IptablesDump>> {
  const { chains, detected } = resolved ?? (await chainsOf(backend, node, forced));
  const variant = chains.command === 'iptables' ? 'plain' : (chains.mode ?? 'nft');
  const commands = detected ? [...chains.commands] : [];
  const res = await exec(backend, node, saveArgv(variant));
  commands.push(commandOf(res));
  if (res.exitCode !== 0) throw unreadable(node, res, `exited with ${res.exitCode}`);
  if (!/^\*nat\s*$/m.test(res.stdout)) throw unreadable(node, res, 'printed no nat table');
  return evidenceOf(
    node,
    res,
    commands,
    parseIptablesSave,
    `nat table of node ${node} via ${iptablesCommand(variant)}${detected ? ` (${chains.why})` : ''}`,
  );
}

/** A snapshot's evidence, once the output is known to be a read of the table. */
function evidenceOf(
  node: string,
  res: RunResult,
  commands: string[],
  parse: (text: string) => IptablesDump,
  what: string,
  dumpOf?: IptablesDump,
): Evidence<IptablesDump> {
  let dump: IptablesDump;
  try {
    dump = dumpOf ?? parse(res.stdout);
  } catch (err) {
    throw unreadable(node, res, `printed text that could not be parsed (${(err as Error).message})`);
  }
  const rules = dump.chains.reduce((n, c) => n + c.rules.length, 0);
  if (rules > 0 && !dump.exactCounters) throw unreadable(node, res, 'printed rules without counters');
  return {
    kind: 'iptables',
    where: `node ${node}`,
    commands,
    raw: res.stdout,
    data: dump,
    summary: `${what}: ${rules} rules in ${dump.chains.length} chains`,
  };
}

/** One node's snapshot of the services' rules only (one command; a second when a rule leads to a chain not named). */
async function snapshotServices(
  backend: Backend,
  node: string,
  forced: IptablesMode | undefined,
  services: readonly WatchedService[],
  targetedAlways = false,
): Promise<Evidence<IptablesDump>> {
  const resolved = await chainsOf(backend, node, forced);
  const { chains, detected } = resolved;
  // Without kube-proxy's chains (or readable only by nft) the whole, small or foreign, table is the evidence;
  // so it is when the table is small enough that one whole read is the cheaper one.
  if (chains.mode === null || chains.nftOnly || !(targetedAlways || (await targetedCheaper(backend, node, chains))))
    return snapshotNode(backend, node, forced, resolved);
  const commands = detected ? [...chains.commands] : [];
  const reader = { mode: chains.mode, command: chains.command };
  let read = serviceReadCommand(reader, services);
  let res = await exec(backend, node, read.argv);
  commands.push(commandOf(res));
  const parse = (r: RunResult) => {
    if (r.exitCode !== 0) throw unreadable(node, r, `exited with ${r.exitCode}`);
    try {
      return read.parse(r.stdout);
    } catch (err) {
      throw unreadable(node, r, `printed text that could not be parsed (${(err as Error).message})`);
    }
  };
  let dump = parse(res);
  const missing = chainsNotRead(dump, read, services);
  if (missing.length) {
    read = serviceReadCommand(reader, services, missing);
    res = await exec(backend, node, read.argv);
    commands.push(commandOf(res));
    dump = parse(res);
  }
  if (!dump.chains.some((c) => c.name === 'KUBE-SERVICES'))
    throw unreadable(node, res, 'printed no KUBE-SERVICES chain');
  const names = [...new Set(services.map((s) => `${s.namespace}/${s.name}`))].join(', ');
  const tool = chains.mode === 'nft' ? chains.command : `${chains.command}-save`;
  return evidenceOf(
    node,
    res,
    commands,
    read.parse,
    `kube-proxy rules of ${names} on node ${node} via ${tool}${detected ? ` (${chains.why})` : ''}`,
    dump,
  );
}

/** Run `fn` over `items`, at most `limit` at once, results in order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

export interface SnapshotOptions {
  mode?: IptablesMode;
  /** The scenario's services: only their rules are read. Absent or empty: the whole nat table. */
  services?: readonly WatchedService[];
  /** Nodes read at once (default DEFAULT_NODE_READS). */
  concurrency?: number;
  /** Read only the services' rules (true) or the whole table (false) whatever is cheaper; default: the cheaper, decided once per node. */
  targeted?: boolean;
}

/** One read per node, side by side (bounded); keyed by node name. */
export async function snapshotCounters(
  backend: Backend,
  nodes: readonly string[],
  opts: SnapshotOptions = {},
): Promise<Map<string, Evidence<IptablesDump>>> {
  const unique = [...new Set(nodes)];
  const services = opts.services ?? [];
  const snaps = await mapBounded(unique, opts.concurrency ?? DEFAULT_NODE_READS, (n) =>
    services.length && opts.targeted !== false
      ? snapshotServices(backend, n, opts.mode, services, opts.targeted)
      : snapshotNode(backend, n, opts.mode),
  );
  return new Map(unique.map((n, i) => [n, snaps[i]!]));
}
