/**
 * kube-proxy (iptables mode) reproduction: the nat and filter rules kube-proxy writes for a set
 * of Services, with its chain naming and rule shapes, rendered as iptables-restore input.
 *
 * Chain names come from support/kube-proxy/chains.ts (kube-proxy's naming, shared with the
 * counter reads).
 *
 * Pure except for applyProxyRules(), which loads the text into a node through support/exec.
 */
import { run } from '../../exec/index.ts';
import {
  endpointChain,
  externalChain,
  NODEPORTS_CHAIN,
  SERVICES_CHAIN,
  serviceChain,
  servicePortName,
} from '../../kube-proxy/chains.ts';
import { type IptablesMode, iptablesCommand } from '../../kube-proxy/mode.ts';
import { inNetns } from './netns-exec.ts';

export interface ProxyEndpoint {
  ip: string;
  port: number;
}

export interface ProxyService {
  namespace: string;
  name: string;
  /** Port name; '' for an unnamed port. */
  portName: string;
  protocol: 'TCP' | 'UDP';
  clusterIP: string;
  port: number;
  nodePort: number | null;
  endpoints: ProxyEndpoint[];
}

/** Chain → rules (each rule as iptables-restore arguments after `-A CHAIN`). Order matters. */
export type ChainRules = Map<string, string[]>;

export interface ProxyRules {
  nat: ChainRules;
  filter: ChainRules;
}

const q = (text: string): string => (/[\s"]/.test(text) ? `"${text.replace(/"/g, '\\"')}"` : text);
const comment = (text: string): string => `-m comment --comment ${q(text)}`;

const MASQ_MARK = '0x4000';

/** Chains kube-proxy owns and rewrites on every sync. */
export const NAT_FIXED_CHAINS = [SERVICES_CHAIN, NODEPORTS_CHAIN, 'KUBE-MARK-MASQ', 'KUBE-POSTROUTING'] as const;
export const FILTER_FIXED_CHAINS = [
  'KUBE-SERVICES',
  'KUBE-EXTERNAL-SERVICES',
  'KUBE-NODEPORTS',
  'KUBE-FORWARD',
] as const;

/** Jumps from the built-in chains into kube-proxy's (installed once per node). */
export const BASE_JUMPS: Record<'nat' | 'filter', Array<[string, string]>> = {
  nat: [
    ['PREROUTING', `${comment('kubernetes service portals')} -j KUBE-SERVICES`],
    ['OUTPUT', `${comment('kubernetes service portals')} -j KUBE-SERVICES`],
    ['POSTROUTING', `${comment('kubernetes postrouting rules')} -j KUBE-POSTROUTING`],
  ],
  filter: [
    ['INPUT', `${comment('kubernetes health check service ports')} -j KUBE-NODEPORTS`],
    [
      'INPUT',
      `-m conntrack --ctstate NEW ${comment('kubernetes externally-visible service portals')} -j KUBE-EXTERNAL-SERVICES`,
    ],
    ['FORWARD', `${comment('kubernetes forwarding rules')} -j KUBE-FORWARD`],
    ['FORWARD', `-m conntrack --ctstate NEW ${comment('kubernetes service portals')} -j KUBE-SERVICES`],
    [
      'FORWARD',
      `-m conntrack --ctstate NEW ${comment('kubernetes externally-visible service portals')} -j KUBE-EXTERNAL-SERVICES`,
    ],
    ['OUTPUT', `-m conntrack --ctstate NEW ${comment('kubernetes service portals')} -j KUBE-SERVICES`],
  ],
};

/** kube-proxy writes the probability of rule i of n as 1/(n-i) with 10 decimals. */
export function probability(i: number, n: number): string {
  return (1 / (n - i)).toFixed(10);
}

function sortedServices(services: readonly ProxyService[]): ProxyService[] {
  return [...services].sort((a, b) => servicePortName(a).localeCompare(servicePortName(b)));
}

/**
 * The rules kube-proxy (iptables mode, Kubernetes 1.27 as in the seed's Kind node image)
 * writes for these services on a node of a cluster whose pods are in clusterCIDR.
 */
export function proxyRules(services: readonly ProxyService[], opts: { clusterCIDR: string }): ProxyRules {
  const nat: ChainRules = new Map();
  const filter: ChainRules = new Map();
  for (const c of NAT_FIXED_CHAINS) nat.set(c, []);
  for (const c of FILTER_FIXED_CHAINS) filter.set(c, []);
  const natServices = nat.get(SERVICES_CHAIN)!;
  const natNodePorts = nat.get(NODEPORTS_CHAIN)!;

  for (const svc of sortedServices(services)) {
    const spn = servicePortName(svc);
    const proto = svc.protocol.toLowerCase();
    if (svc.endpoints.length === 0) {
      filter
        .get('KUBE-SERVICES')!
        .push(
          `-d ${svc.clusterIP}/32 -p ${proto} ${comment(`${spn} has no endpoints`)} -m ${proto} --dport ${svc.port} -j REJECT --reject-with icmp-port-unreachable`,
        );
      if (svc.nodePort !== null)
        filter
          .get('KUBE-EXTERNAL-SERVICES')!
          .push(
            `-p ${proto} ${comment(`${spn} has no endpoints`)} -m addrtype --dst-type LOCAL -m ${proto} --dport ${svc.nodePort} -j REJECT --reject-with icmp-port-unreachable`,
          );
      continue;
    }
    const svcChain = serviceChain(spn, proto);
    natServices.push(
      `-d ${svc.clusterIP}/32 -p ${proto} ${comment(`${spn} cluster IP`)} -m ${proto} --dport ${svc.port} -j ${svcChain}`,
    );
    const endpoints = [...svc.endpoints].sort((a, b) =>
      `${a.ip}:${a.port}`.localeCompare(`${b.ip}:${b.port}`, 'en', { numeric: true }),
    );
    const svcRules: string[] = [
      `! -s ${opts.clusterCIDR} -d ${svc.clusterIP}/32 -p ${proto} ${comment(`${spn} cluster IP`)} -m ${proto} --dport ${svc.port} -j KUBE-MARK-MASQ`,
    ];
    endpoints.forEach((ep, i) => {
      const epText = `${ep.ip}:${ep.port}`;
      const sep = endpointChain(spn, proto, epText);
      const stat =
        i < endpoints.length - 1 ? ` -m statistic --mode random --probability ${probability(i, endpoints.length)}` : '';
      svcRules.push(`${comment(`${spn} -> ${epText}`)}${stat} -j ${sep}`);
      nat.set(sep, [
        `-s ${ep.ip}/32 ${comment(spn)} -j KUBE-MARK-MASQ`,
        `-p ${proto} ${comment(spn)} -m ${proto} -j DNAT --to-destination ${epText}`,
      ]);
    });
    nat.set(svcChain, svcRules);
    if (svc.nodePort !== null) {
      const ext = externalChain(spn, proto);
      natNodePorts.push(`-p ${proto} ${comment(spn)} -m ${proto} --dport ${svc.nodePort} -j ${ext}`);
      nat.set(ext, [
        `${comment(`masquerade traffic for ${spn} external destinations`)} -j KUBE-MARK-MASQ`,
        `-j ${svcChain}`,
      ]);
    }
  }
  natServices.push(
    `${comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain')} -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`,
  );
  nat.get('KUBE-MARK-MASQ')!.push(`-j MARK --or-mark ${MASQ_MARK}`);
  nat
    .get('KUBE-POSTROUTING')!
    .push(
      `-m mark ! --mark ${MASQ_MARK}/${MASQ_MARK} -j RETURN`,
      `-j MARK --xor-mark ${MASQ_MARK}`,
      `${comment('kubernetes service traffic requiring SNAT')} -j MASQUERADE --random-fully`,
    );
  filter
    .get('KUBE-FORWARD')!
    .push(
      '-m conntrack --ctstate INVALID -j DROP',
      `${comment('kubernetes forwarding rules')} -m mark --mark ${MASQ_MARK}/${MASQ_MARK} -j ACCEPT`,
      `${comment('kubernetes forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
    );
  return { nat, filter };
}

function chainOrder(names: Iterable<string>, fixed: readonly string[]): string[] {
  const rest = [...names].filter((n) => !fixed.includes(n)).sort();
  return [...fixed, ...rest];
}

/**
 * iptables-restore input. With `previous` (what the last sync wrote), only changed chains are
 * rewritten, stale chains are deleted, and the text is meant for `--noflush` — kube-proxy's
 * partial sync, which keeps the counters of untouched service chains. Without it, a full
 * restore of both tables including the jumps from the built-in chains.
 */
export function renderRestore(rules: ProxyRules, previous?: ProxyRules): string {
  const out: string[] = [];
  for (const table of ['filter', 'nat'] as const) {
    const now = rules[table];
    const before = previous?.[table];
    const fixed = table === 'nat' ? NAT_FIXED_CHAINS : FILTER_FIXED_CHAINS;
    out.push(`*${table}`);
    if (!before) {
      const builtins =
        table === 'nat' ? ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'] : ['INPUT', 'FORWARD', 'OUTPUT'];
      for (const b of builtins) out.push(`:${b} ACCEPT [0:0]`);
    }
    const write = chainOrder(now.keys(), fixed).filter(
      (c) => !before || (fixed as readonly string[]).includes(c) || !sameRules(before.get(c), now.get(c)),
    );
    const stale = before ? [...before.keys()].filter((c) => !now.has(c)).sort() : [];
    for (const c of [...write, ...stale]) out.push(`:${c} - [0:0]`);
    if (!before) for (const [chain, rule] of BASE_JUMPS[table]) out.push(`-A ${chain} ${rule}`);
    for (const c of write) for (const r of now.get(c)!) out.push(`-A ${c} ${r}`);
    for (const c of stale) out.push(`-X ${c}`);
    out.push('COMMIT');
  }
  return `${out.join('\n')}\n`;
}

function sameRules(a: string[] | undefined, b: string[] | undefined): boolean {
  return !!a && !!b && a.length === b.length && a.every((r, i) => r === b[i]);
}

/** JSON-safe form of ProxyRules for the lab's state file. */
export function rulesToJson(r: ProxyRules): { nat: Record<string, string[]>; filter: Record<string, string[]> } {
  return { nat: Object.fromEntries(r.nat), filter: Object.fromEntries(r.filter) };
}

export function rulesFromJson(j: { nat: Record<string, string[]>; filter: Record<string, string[]> }): ProxyRules {
  return { nat: new Map(Object.entries(j.nat)), filter: new Map(Object.entries(j.filter)) };
}

/**
 * Load the rules into a node's network namespace. The restore file is kept under the run
 * directory so the transcript's command can be rerun by hand.
 */
export async function applyProxyRules(opts: {
  netns: string;
  where: string;
  mode: IptablesMode;
  file: string;
  partial: boolean;
}): Promise<void> {
  const argv = inNetns(opts.netns, [iptablesCommand(opts.mode, 'restore')]);
  if (opts.partial) argv.push('--noflush');
  argv.push(opts.file);
  await run(argv, { timeoutMs: 15_000, where: opts.where });
}
