/**
 * Where kube-proxy's chains live on a node: the one detector. kube-proxy writes through
 * iptables-legacy or iptables-nft (or an image's single `iptables`); whichever nat table holds
 * its KUBE-SERVICES chain is where its rules and counters are. Like kube-proxy's iptables
 * wrapper, the legacy tables are looked at first. iptables-nft refuses a nat table that also
 * holds native nft rules ("incompatible, use 'nft' tool"); nft itself still lists the chain, so
 * that node counts as nft (`nftOnly`: only `nft` can read it).
 *
 * The detector only runs commands through the caller's `NodeRun` (a backend's exec on a node,
 * or the lab's `nsenter --net`), so the counter probe, the lab's inspect and status, and the
 * Kubernetes backends ask the same question the same way. Each check lists one rule, never the
 * whole table, so it stays cheap on a node with thousands of services.
 */
import type { IPTABLES_MODES } from '../config.ts';
import { InfraError } from '../errors.ts';
import type { RunResult } from '../exec/index.ts';
import { NODEPORTS_CHAIN, SERVICES_CHAIN } from './chains.ts';

/** The iptables variant kube-proxy writes to. */
export type IptablesMode = (typeof IPTABLES_MODES)[number];

/** The command line tool of a variant: `iptables-nft`, `iptables-legacy-save`, `iptables-nft-restore`; `plain` = the image's only `iptables`. */
export function iptablesCommand(variant: IptablesMode | 'plain', kind: '' | 'save' | 'restore' = ''): string {
  return ['iptables', variant === 'plain' ? '' : variant, kind].filter(Boolean).join('-');
}

/** Runs argv on one node and returns its result whatever the exit code (may throw when the tool is missing). */
export type NodeRun = (argv: string[]) => Promise<RunResult>;

export interface KubeProxyChains {
  /** Where KUBE-SERVICES is; null when no nat table holds it (kube-proxy not running, or replaced). */
  mode: IptablesMode | null;
  /** The iptables command that reads them: `iptables-legacy`, `iptables-nft`, or `iptables` on single-iptables images. */
  command: string;
  /** Only `nft` can read the table (iptables-nft refuses it). */
  nftOnly: boolean;
  /** How it was found, for evidence summaries. */
  why: string;
  /** The commands run, as printed in the transcript. */
  commands: string[];
}

function missingTool(res: RunResult | null): boolean {
  return res === null || res.exitCode === 127 || /not found|No such file|executable file not found/i.test(res.stderr);
}

async function tryRun(run: NodeRun, argv: string[], commands: string[]): Promise<RunResult | null> {
  try {
    const res = await run(argv);
    commands.push(argv.join(' '));
    return res;
  } catch (err) {
    // A backend reports a missing tool by throwing; any other failure is not ours to hide.
    if (err instanceof InfraError && /not installed|not on PATH|not found/i.test(err.message)) return null;
    throw err;
  }
}

/** Rule 1 of KUBE-SERVICES: exit 0 when the chain exists (an empty chain prints nothing), 1 when it does not. */
function chainCheck(command: string): string[] {
  return [command, '-t', 'nat', '-S', SERVICES_CHAIN, '1'];
}

/** `iptables v1.8.9 (nf_tables)` / `(legacy)` → the variant behind a single `iptables`. */
export function variantOfVersion(text: string): IptablesMode | null {
  if (/\(nf_tables\)/.test(text)) return 'nft';
  if (/\(legacy\)/.test(text)) return 'legacy';
  return null;
}

/**
 * Find where kube-proxy's chains live on a node. A forced mode (`--iptables`, or the lab's own
 * choice) is taken as given; `null` mode means no table holds KUBE-SERVICES, and `command`
 * is then the tool a reader should use anyway (nft when present).
 */
export async function findKubeProxyChains(run: NodeRun, forced?: IptablesMode): Promise<KubeProxyChains> {
  const commands: string[] = [];
  if (forced) return { mode: forced, command: iptablesCommand(forced), nftOnly: false, why: 'forced', commands };
  const legacy = await tryRun(run, chainCheck(iptablesCommand('legacy')), commands);
  if (legacy?.exitCode === 0)
    return {
      mode: 'legacy',
      command: 'iptables-legacy',
      nftOnly: false,
      why: 'KUBE-SERVICES in the legacy tables',
      commands,
    };
  const nft = await tryRun(run, chainCheck(iptablesCommand('nft')), commands);
  if (nft?.exitCode === 0)
    return { mode: 'nft', command: 'iptables-nft', nftOnly: false, why: 'KUBE-SERVICES in nftables', commands };
  if (missingTool(legacy) && missingTool(nft)) {
    // Images with a single iptables: its version line names the variant behind it.
    const plain = await tryRun(run, chainCheck(iptablesCommand('plain')), commands);
    const version = plain ? await tryRun(run, ['iptables', '-V'], commands) : null;
    const variant = version ? variantOfVersion(version.stdout + version.stderr) : null;
    return {
      mode: plain?.exitCode === 0 ? (variant ?? 'nft') : null,
      command: 'iptables',
      nftOnly: false,
      why:
        plain?.exitCode === 0
          ? `KUBE-SERVICES via the image's only iptables (${variant ?? 'variant unknown'})`
          : 'no KUBE-SERVICES chain',
      commands,
    };
  }
  // iptables-nft says "incompatible" both for a mixed table and for a missing chain: ask nft.
  if (!missingTool(nft)) {
    const listed = await tryRun(run, ['nft', 'list', 'chain', 'ip', 'nat', SERVICES_CHAIN], commands);
    if (listed?.exitCode === 0)
      return {
        mode: 'nft',
        command: 'iptables-nft',
        nftOnly: true,
        why: 'KUBE-SERVICES in nftables (iptables-nft refuses the mixed nat table; nft lists it)',
        commands,
      };
  }
  return {
    mode: null,
    command: missingTool(nft) ? 'iptables-legacy' : 'iptables-nft',
    nftOnly: false,
    why: 'no KUBE-SERVICES chain in the legacy or nft tables',
    commands,
  };
}

/**
 * Chain counts of a nat table only `nft` can read (iptables-nft refuses it): chain names from
 * `nft list chains`, NodePort jumps from the KUBE-NODEPORTS chain.
 */
export async function nftChainCounts(
  run: NodeRun,
): Promise<{ serviceChains: number; endpointChains: number; nodePortRules: number }> {
  const [chains, nodePorts] = await Promise.all([
    run(['nft', 'list', 'chains', 'ip']),
    run(['nft', 'list', 'chain', 'ip', 'nat', NODEPORTS_CHAIN]),
  ]);
  const named = (prefix: string) =>
    chains.stdout.split('\n').filter((l) => l.trim().startsWith(`chain ${prefix}`)).length;
  return {
    serviceChains: named('KUBE-SVC-'),
    endpointChains: named('KUBE-SEP-'),
    nodePortRules: nodePorts.stdout.split('\n').filter((l) => /\b(jump|goto) /.test(l)).length,
  };
}
