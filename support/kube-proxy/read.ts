/**
 * Reading a service's kube-proxy rules with their counters, without reading the whole nat
 * table: on a node with thousands of services, `iptables-save -c -t nat` costs seconds (and
 * the parse as much again), while a scenario only needs its own services' rules.
 *
 * What is read, per node, in one command (every rule the counter steps judge, and the chains
 * they lead to, with exact counters):
 *   - nft (iptables-nft, or an image's only iptables on nf_tables): `iptables-nft -t nat -L <chain> -n -v -x` for KUBE-SERVICES and KUBE-NODEPORTS
 *     (their rows filtered to the services' comments: a node's KUBE-SERVICES has a row per
 *     service) and, unfiltered, for each service's KUBE-SVC, KUBE-EXT and KUBE-SEP chain;
 *   - legacy: the kernel hands out the legacy table only whole,
 *     so `iptables-legacy-save -c -t nat`, filtered on the node to the same rules.
 * The commands are fixed `sh -c` scripts whose arguments are the tool, the patterns and the
 * chain names, so the transcript holds a command a person can rerun as is. Chain names come
 * from kube-proxy's naming (./chains.ts); a chain a rule leads to that was not named (an
 * endpoint the topology did not know) is read in a second command.
 *
 * What neither read can avoid (measured on the lab, iptables 1.8.9, nft 1.0.6, 10,000 services):
 *   - nft: the service's jump is one row of KUBE-SERVICES, and nf_tables hands out a chain only
 *     whole (a netlink dump that restarts from the chain's head for each message); no tool reads
 *     one rule (`iptables -L KUBE-SERVICES 1` costs what the whole chain costs, ~150 ms of CPU;
 *     nft 1.0.6 has no `get rule`, and `nft list chain` loads every chain first, ~1 s);
 *   - legacy: IPT_SO_GET_ENTRIES returns the whole table to every reader (~50 MB, ~0.6 s of
 *     CPU, whether iptables-legacy lists one chain or iptables-legacy-save prints them all).
 */
import { type IptablesDump, parseIptablesList, parseIptablesSave } from '../parsers/iptables.ts';
import { chainsOfService, NODEPORTS_CHAIN, SERVICES_CHAIN, type ServicePortRef } from './chains.ts';
import type { IptablesMode } from './mode.ts';
import { serviceRules } from './rules.ts';

/** A service whose rules a window reads (structural: the backends' ServiceInfo fits). */
export interface WatchedService extends ServicePortRef {
  nodePort: number | null;
  /** The service's endpoints as kube-proxy names its KUBE-SEP chains (pod ip, target port). */
  endpoints: ReadonlyArray<{ ip: string; port: number }>;
}

/** nft: KUBE-SERVICES/KUBE-NODEPORTS filtered to the patterns ($2, one per line), then the named chains whole. */
const LIST_SCRIPT = [
  't=$1; keep=$2; shift 2; rc=0',
  `for c in ${SERVICES_CHAIN} ${NODEPORTS_CHAIN}; do out=$("$t" -t nat -L "$c" -n -v -x) || rc=$?; printf '%s\\n' "$out" | grep -F -e "$keep"; done`,
  'for c do "$t" -t nat -L "$c" -n -v -x; done',
  'exit $rc',
].join('\n');

/** legacy: the whole table, filtered on the node to the patterns ($2, one per line). */
const SAVE_SCRIPT = '"$1" -c -t nat | grep -F -e "$2"';

/**
 * Above this many rules in KUBE-SERVICES (about one per service port), the targeted read is the
 * cheaper one on nft. Measured on the lab (iptables 1.8.9, nf_tables): with 300 services
 * `iptables-nft-save -c -t nat` costs ~45 ms of CPU and the six `iptables-nft -L` of a targeted read
 * ~85 ms; with 1,000 services ~180 ms against ~115 ms; with 10,000 ~5 s against ~250 ms.
 */
export const TARGETED_READ_ABOVE = 500;

/** Counts the rules of KUBE-SERVICES (one line each, plus the chain's own `-N` line): how large the table is. */
export function servicesSizeCommand(reader: { command: string }): string[] {
  return ['sh', '-c', `"$1" -t nat -S ${SERVICES_CHAIN} | grep -c ^`, 'sh', reader.command];
}

/**
 * Which read is cheaper on a node whose KUBE-SERVICES has `lines` lines (`servicesSizeCommand`).
 * legacy: the kernel hands out the whole table to every reader (one `IPT_SO_GET_ENTRIES` of
 * the whole table, ~50 MB with 10,000 services), so the targeted read is the same fetch filtered
 * on the node, never dearer: always targeted. nft: a chain is fetched alone, but each chain
 * is one more `iptables-nft` process; the whole table is cheaper while it is small.
 */
export function targetedReadCheaper(mode: IptablesMode, lines: number | null): boolean {
  if (mode === 'legacy') return true;
  return lines === null || lines > TARGETED_READ_ABOVE;
}

export interface ServiceRead {
  argv: string[];
  /** Chains named on the command line (nft) or in the patterns (legacy). */
  chains: string[];
  parse(text: string): IptablesDump;
}

function servicePatterns(services: readonly WatchedService[]): string[] {
  // `ns/name` followed by `:` (a named port), a space or the comment's end (`"` in save, ` */` in -L)
  // matches every comment kube-proxy writes for the service ("ns/name:port cluster IP",
  // "ns/name:port -> ip:port", "masquerade traffic for ns/name external destinations", …),
  // and not those of ns/name2.
  return [...new Set(services.flatMap((s) => [':', ' ', '"'].map((end) => `${s.namespace}/${s.name}${end}`)))];
}

/** The one command that reads these services' rules on a node, and how to parse its output. */
export function serviceReadCommand(
  reader: { mode: IptablesMode; command: string },
  services: readonly WatchedService[],
  extraChains: readonly string[] = [],
): ServiceRead {
  const chains = [
    ...new Set([...services.flatMap((s) => chainsOfService({ ...s, endpoints: s.endpoints })), ...extraChains]),
  ];
  const names = servicePatterns(services);
  if (reader.mode === 'nft') {
    const keep = ['Chain ', 'bytes target', ...names].join('\n');
    return {
      argv: ['sh', '-c', LIST_SCRIPT, 'sh', reader.command, keep, ...chains],
      chains,
      parse: parseIptablesList,
    };
  }
  const keep = [
    '*nat',
    'COMMIT',
    `:${SERVICES_CHAIN} `,
    `:${NODEPORTS_CHAIN} `,
    ...names,
    ...chains.flatMap((c) => [`:${c} `, `-A ${c} `]),
  ].join('\n');
  return {
    argv: ['sh', '-c', SAVE_SCRIPT, 'sh', `${reader.command}-save`, keep],
    chains,
    parse: parseIptablesSave,
  };
}

/**
 * Chains the services' rules lead to that the read did not name (kube-proxy's endpoints
 * differ from the topology's, or a chain naming this module does not know): read them too.
 */
export function chainsNotRead(dump: IptablesDump, read: ServiceRead, services: readonly WatchedService[]): string[] {
  const named = new Set(read.chains);
  const missing = new Set<string>();
  for (const s of services) {
    const r = serviceRules(dump, { namespace: s.namespace, service: s.name });
    for (const c of [...r.svcChains, ...r.sepChains, ...r.extChains]) if (!named.has(c)) missing.add(c);
  }
  return [...missing];
}
