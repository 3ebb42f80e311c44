/**
 * iptables counter snapshots: one `iptables-save -c -t nat` per node (never one call per chain,
 * never `-Z`: zeroing destroys other people's evidence on a shared cluster). Snapshots are
 * compared as before/after deltas by the counter expectations.
 *
 * Which iptables? The one kube-proxy writes to: the backend says so when it knows (`--iptables`,
 * the lab's own choice), otherwise support/kube-proxy finds where KUBE-SERVICES lives, once per
 * node and backend. A caller that knows the mode passes `mode` and no detection runs.
 */
import type { Backend } from '../backends/types.ts';
import { InfraError } from '../errors.ts';
import type { Evidence } from '../evidence/index.ts';
import type { RunResult } from '../exec/index.ts';
import { findKubeProxyChains, type IptablesMode, iptablesCommand, type KubeProxyChains } from '../kube-proxy/mode.ts';
import { type IptablesDump, parseIptablesSave } from '../parsers/iptables.ts';
import { commandOf, tail } from './common.ts';

const TIMEOUT_MS = 20_000;

/** Where kube-proxy's chains were found, per backend and node. */
const known = new WeakMap<Backend, Map<string, KubeProxyChains>>();

/** Forget the detected modes (a backend re-provisioned with another iptables). */
export function forgetIptablesModes(backend: Backend): void {
  known.delete(backend);
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
): Promise<Evidence<IptablesDump>> {
  const { chains, detected } = await chainsOf(backend, node, forced);
  const variant = chains.command === 'iptables' ? 'plain' : (chains.mode ?? 'nft');
  const commands = detected ? [...chains.commands] : [];
  const res = await exec(backend, node, saveArgv(variant));
  commands.push(commandOf(res));
  if (res.exitCode !== 0) throw unreadable(node, res, `exited with ${res.exitCode}`);
  if (!/^\*nat\s*$/m.test(res.stdout)) throw unreadable(node, res, 'printed no nat table');
  let dump: IptablesDump;
  try {
    dump = parseIptablesSave(res.stdout);
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
    summary: `nat table of node ${node} via ${iptablesCommand(variant)}${detected ? ` (${chains.why})` : ''}: ${rules} rules in ${dump.chains.length} chains`,
  };
}

/** One `iptables-save -c -t nat` per node, in parallel; keyed by node name. */
export async function snapshotCounters(
  backend: Backend,
  nodes: readonly string[],
  opts: { mode?: IptablesMode } = {},
): Promise<Map<string, Evidence<IptablesDump>>> {
  const unique = [...new Set(nodes)];
  const snaps = await Promise.all(unique.map((n) => snapshotNode(backend, n, opts.mode)));
  return new Map(unique.map((n, i) => [n, snaps[i]!]));
}
