/**
 * iptables counter snapshots: one `iptables-save -c -t nat` per node (never one call per chain,
 * never `-Z`: zeroing destroys other people's evidence on a shared cluster). Snapshots are
 * compared as before/after deltas by the counter expectations.
 *
 * Which iptables? The one kube-proxy writes to. Like kube-proxy's iptables wrapper, the probe
 * looks at the legacy tables first: if `iptables-legacy-save` shows KUBE-* chains, the node's
 * rules live there; otherwise they are in nftables (`iptables-nft-save`). The answer is found
 * once per node and backend and remembered, so later snapshots are one call each. A caller that
 * knows the mode (a backend that reports it) passes `mode` and no detection runs.
 */
import type { Backend } from '../backends/types.ts';
import { InfraError } from '../errors.ts';
import type { Evidence } from '../evidence/index.ts';
import type { RunResult } from '../exec/index.ts';
import { type IptablesDump, parseIptablesSave } from '../parsers/iptables.ts';
import { commandOf, tail } from './common.ts';

export type IptablesMode = 'legacy' | 'nft';

const SAVE: Record<IptablesMode, string> = { legacy: 'iptables-legacy-save', nft: 'iptables-nft-save' };
const TIMEOUT_MS = 20_000;

/** Modes already found, per backend and node. */
const known = new WeakMap<Backend, Map<string, IptablesMode | 'plain'>>();

/** Forget the detected modes (a backend re-provisioned with another iptables). */
export function forgetIptablesModes(backend: Backend): void {
  known.delete(backend);
}

export function saveArgv(mode: IptablesMode | 'plain'): string[] {
  return [mode === 'plain' ? 'iptables-save' : SAVE[mode], '-c', '-t', 'nat'];
}

/** kube-proxy chains present in an iptables-save text. */
export function hasKubeChains(text: string): boolean {
  return /^(?::KUBE-|(?:\[\d+:\d+\] )?-A KUBE-)/m.test(text);
}

function missingTool(res: RunResult): boolean {
  return res.exitCode === 127 || /not found|No such file|executable file not found/i.test(res.stderr);
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

/** One node's snapshot, detecting the mode on first use. */
async function snapshotNode(
  backend: Backend,
  node: string,
  forced: IptablesMode | undefined,
): Promise<Evidence<IptablesDump>> {
  const cache = known.get(backend) ?? new Map<string, IptablesMode | 'plain'>();
  known.set(backend, cache);
  let mode: IptablesMode | 'plain' | undefined = forced ?? cache.get(node);
  const commands: string[] = [];
  let res: RunResult | undefined;
  let detected = '';
  if (mode === undefined) {
    // The legacy snapshot doubles as the detection: if it holds KUBE-* chains it *is* the snapshot.
    let legacy: RunResult | undefined;
    try {
      legacy = await exec(backend, node, saveArgv('legacy'));
    } catch (err) {
      if (!(err instanceof InfraError) || !/not installed|not on PATH/.test(err.message)) throw err;
    }
    if (legacy) commands.push(commandOf(legacy));
    if (legacy && legacy.exitCode === 0 && hasKubeChains(legacy.stdout)) {
      mode = 'legacy';
      res = legacy;
    } else mode = 'nft';
    cache.set(node, mode);
    detected =
      mode === 'legacy' ? ' (KUBE-* chains found in the legacy tables)' : ' (no KUBE-* chains in legacy tables)';
  }
  if (!res) {
    res = await exec(backend, node, saveArgv(mode));
    if (mode === 'nft' && missingTool(res)) {
      // Images with a single iptables (no -nft/-legacy variants): plain iptables-save.
      commands.push(commandOf(res));
      res = await exec(backend, node, saveArgv('plain'));
      mode = 'plain';
      cache.set(node, mode);
    }
    commands.push(commandOf(res));
  }
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
  const tool = mode === 'plain' ? 'iptables' : `iptables-${mode}`;
  return {
    kind: 'iptables',
    where: `node ${node}`,
    commands,
    raw: res.stdout,
    data: dump,
    summary: `nat table of node ${node} via ${tool}${detected}: ${rules} rules in ${dump.chains.length} chains`,
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
