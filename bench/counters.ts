/**
 * `npm run bench -- counters`: what one observation window's counter snapshots (before and
 * after, for one seed service) cost as the cluster grows. Goals (issue 16):
 *   - with 10,000 extra services (two endpoints each, kube-proxy's chain layout) in every node's
 *     nat table, at most 1.5 × the seed-size figure — on nft and on legacy iptables;
 *   - a 12-node lab (echo replica on every node) at most 2 × the 2-node lab.
 * Wall time, median of 10 windows, through the Backend as a scenario's window takes them. The
 * whole-table read (`iptables-save -c -t nat`, the path before targeted reads) is shown beside
 * it for scale.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LabBackend } from '../support/backends/lab/backend.ts';
import { NAT_FIXED_CHAINS, type ProxyService, proxyRules } from '../support/backends/lab/kube-proxy.ts';
import { nodeNetns } from '../support/backends/lab/names.ts';
import { DEFAULT_NODE_READS } from '../support/config.ts';
import { run } from '../support/exec/index.ts';
import { type IptablesMode, iptablesCommand } from '../support/kube-proxy/mode.ts';
import { serviceRules } from '../support/kube-proxy/rules.ts';
import type { IptablesDump } from '../support/parsers/iptables.ts';
import { forgetIptablesModes, snapshotCounters } from '../support/probes/counters.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const RUNS = 10;
const BULK = 10_000;
const GOAL = { bulk: 1.5, nodes: 2 };

function median(ms: number[]): number {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** 10,000 services' rules as lines to add to a nat table's iptables-save text (before its COMMIT). */
function bulkLines(count: number): string {
  const services: ProxyService[] = [];
  for (let i = 0; i < count; i++)
    services.push({
      namespace: `bulk${i % 50}`,
      name: `svc${i}`,
      portName: 'http',
      protocol: 'TCP',
      clusterIP: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
      port: 80,
      nodePort: null,
      endpoints: [
        { ip: `10.250.${(i >> 8) & 255}.${i & 255}`, port: 8080 },
        { ip: `10.251.${(i >> 8) & 255}.${i & 255}`, port: 8080 },
      ],
    });
  const nat = proxyRules(services, { clusterCIDR: '10.244.0.0/16' }).nat;
  const fixed = new Set<string>(NAT_FIXED_CHAINS);
  const out: string[] = [];
  for (const c of nat.keys()) if (!fixed.has(c)) out.push(`:${c} - [0:0]`);
  // Appended (after the NodePort jump, unlike kube-proxy): position does not change what a read costs,
  // and 10,000 `-I` into a live nft chain take minutes.
  for (const r of nat.get('KUBE-SERVICES')!.filter((x) => !x.includes('-j KUBE-NODEPORTS')))
    out.push(`-A KUBE-SERVICES ${r}`);
  for (const r of nat.get('KUBE-NODEPORTS')!) out.push(`-A KUBE-NODEPORTS ${r}`);
  for (const [c, rules] of nat) if (!fixed.has(c)) for (const r of rules) out.push(`-A ${c} ${r}`);
  return `${out.join('\n')}\n`;
}

/**
 * The node's nat table with the bulk services added, restored whole (only the nat table is
 * replaced): `--noflush` with 110,000 lines takes minutes on nft, a whole-table restore seconds.
 */
async function addBulk(netns: string, where: string, mode: IptablesMode, bulk: string, dir: string): Promise<void> {
  const save = await run(['ip', 'netns', 'exec', netns, iptablesCommand(mode, 'save'), '-t', 'nat'], {
    timeoutMs: 60_000,
    where,
    quietStdout: true,
  });
  const text = save.stdout.replace(/^COMMIT\s*$/m, `${bulk}COMMIT`);
  const file = path.join(dir, `${netns}.restore`);
  writeFileSync(file, text);
  await run(['ip', 'netns', 'exec', netns, iptablesCommand(mode, 'restore'), file], { timeoutMs: 300_000, where });
}

async function seedLab(cluster: string, mode: IptablesMode, kindConfig: string): Promise<LabBackend> {
  const lab = new LabBackend({ cluster, variants: 'no-tc', iptables: mode });
  await lab.provision({ kindConfig, ciliumValues: {}, ciliumVersion: '1.17.15', k8sVersion: 'v1.27.3' });
  const nodes = lab.labState.plan.nodes.map((n) => n.name);
  await lab.deployEcho({ name: 'echo', nodes });
  await lab.exposeService({ name: 'echo', app: 'echo', port: 80, type: 'NodePort', nodePort: 30080 });
  return lab;
}

/**
 * Median wall time of one window's two snapshots (before and after), read as a scenario's window
 * reads them (the scenario's services; the whole table where that is cheaper). `whole`: the
 * whole-table read, the path before issue 16.
 */
async function window(lab: LabBackend, opts: { whole?: boolean; runs?: number }): Promise<number> {
  const topo = await lab.topology();
  const nodes = topo.nodes.map((n) => n.name);
  const read = opts.whole ? {} : { services: topo.services };
  await snapshotCounters(lab, nodes, read); // warm: how each node is read is decided once per node
  const ms: number[] = [];
  for (let i = 0; i < (opts.runs ?? RUNS); i++) {
    const t = performance.now();
    await snapshotCounters(lab, nodes, read);
    await snapshotCounters(lab, nodes, read);
    ms.push(Math.round(performance.now() - t));
  }
  return median(ms);
}

/** The echo service's rule table (chain, target, comment, counters) as the counter steps show it. */
function ruleTable(dump: IptablesDump): string {
  const r = serviceRules(dump, { namespace: 'default', service: 'echo' });
  const rows = [...r.svcJumps, ...r.nodePortJumps, ...r.sepDnat].map(
    (x) => `${x.chain} ${x.target} ${x.comment} ${x.packets}/${x.bytes}`,
  );
  return [...rows.sort(), [...r.svcChains, ...r.extChains, ...r.sepChains].sort().join(' ')].join('\n');
}

/** One node's read as the window takes it and the whole table's, compared rule table by rule table. */
async function sameTables(lab: LabBackend): Promise<string> {
  const topo = await lab.topology();
  const nodes = topo.nodes.map((n) => n.name);
  const t = performance.now();
  const whole = await snapshotCounters(lab, nodes, {});
  const wholeMs = Math.round(performance.now() - t);
  const read = await snapshotCounters(lab, nodes, { services: topo.services });
  const diff = nodes.filter((n) => ruleTable(read.get(n)!.data) !== ruleTable(whole.get(n)!.data));
  const rows = ruleTable(read.get(nodes[0]!)!.data).split('\n').length - 1;
  if (diff.length) throw new Error(`the read differs from the whole table's rules on ${diff.join(', ')}`);
  return `echo's rule table (${rows} rules per node) identical to the whole table's on ${nodes.length} nodes; one whole-table snapshot of the nodes: ${wholeMs} ms`;
}

/**
 * The least any read of the service's KUBE-SERVICES jump costs with the stock tools: one rule of
 * the chain by number (`iptables -t nat -L KUBE-SERVICES 1 -n -v -x`), on every node side by side,
 * twice (a window's before and after). nf_tables hands out the chain whole and the legacy kernel
 * interface the whole table, whatever is printed, so at 10,000 services this is the floor under
 * every window that shows that jump's exact counters.
 */
async function oneRuleRead(lab: LabBackend, mode: IptablesMode): Promise<number> {
  const argv = (n: string) => [
    'ip',
    'netns',
    'exec',
    nodeNetns(lab.labState.cluster, n),
    iptablesCommand(mode),
    '-t',
    'nat',
    '-L',
    'KUBE-SERVICES',
    '1',
    '-n',
    '-v',
    '-x',
  ];
  const nodes = lab.labState.plan.nodes.map((n) => n.name);
  const once = () => Promise.all(nodes.map((n) => run(argv(n), { timeoutMs: 60_000, where: `node ${n}` })));
  await once();
  const ms: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    await once();
    await once();
    ms.push(Math.round(performance.now() - t));
  }
  return median(ms);
}

/** The best ratio any stock-tool read could reach: the seed window with its jump read at the floor's 10k cost. */
function floorLine(mode: IptablesMode, seed: number, floorSeed: number, floorBulk: number): string {
  const best = seed - floorSeed + floorBulk;
  return (
    `  floor, iptables-${mode}: one KUBE-SERVICES rule read twice on every node costs ${floorSeed} ms at seed size, ` +
    `${floorBulk} ms with ${BULK} more services; a window can be no cheaper than ${best} ms, ` +
    `${(best / seed).toFixed(2)}× the seed-size window\n`
  );
}

function ratioLine(what: string, big: number, small: number, goal: number): string {
  const r = big / small;
  return `${what}: ${big} ms vs ${small} ms = ${r.toFixed(2)}× — ${r <= goal ? 'within' : 'OVER'} the ${goal}× goal\n`;
}

export async function bench(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stdout.write('counters: skipped (needs root: network namespaces)\n');
    return;
  }
  process.stdout.write(
    `load average at start: ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')} (${os.cpus().length} CPUs)\n`,
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hp-bench-counters-'));
  const bulkText = bulkLines(BULK);
  const twoNode = path.join(REPO, 'kind-configs/two-node.yaml');
  try {
    for (const mode of ['nft', 'legacy'] as const) {
      const lab = await seedLab(`hpbc${mode[0]}${process.pid}`.slice(0, 20), mode, twoNode);
      try {
        const seed = await window(lab, {});
        const seedFull = await window(lab, { whole: true });
        const floorSeed = await oneRuleRead(lab, mode);
        for (const n of lab.labState.plan.nodes)
          await addBulk(nodeNetns(lab.labState.cluster, n.name), `node ${n.name}`, mode, bulkText, dir);
        // A fresh backend object: how each node is read is decided anew for the bigger table.
        forgetIptablesModes(lab);
        const bulk = await window(lab, {});
        const floorBulk = await oneRuleRead(lab, mode);
        process.stdout.write(
          `window, iptables-${mode}, seed-size table: ${seed} ms (whole-table read: ${seedFull} ms); ` +
            `with ${BULK} more services on every node: ${bulk} ms\n`,
        );
        process.stdout.write(`  ${await sameTables(lab)}\n`);
        process.stdout.write(ratioLine(`  10k vs seed-size, iptables-${mode}`, bulk, seed, GOAL.bulk));
        process.stdout.write(floorLine(mode, seed, floorSeed, floorBulk));
      } finally {
        await lab.teardown();
      }
    }
    const twelve = path.join(dir, 'twelve-node.yaml');
    writeFileSync(
      twelve,
      `kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: control-plane\n${'  - role: worker\n'.repeat(11)}`,
    );
    const perNodes: Record<number, number> = {};
    for (const [count, config] of [
      [2, twoNode],
      [12, twelve],
    ] as const) {
      const lab = await seedLab(`hpbcn${count}-${process.pid}`.slice(0, 20), 'nft', config);
      try {
        perNodes[count] = await window(lab, {});
      } finally {
        await lab.teardown();
      }
    }
    process.stdout.write(
      `window, echo on every node, nft, ${DEFAULT_NODE_READS} nodes read at once: 2 nodes ${perNodes[2]} ms, 12 nodes ${perNodes[12]} ms\n`,
    );
    process.stdout.write(ratioLine('  12 vs 2 nodes', perNodes[12]!, perNodes[2]!, GOAL.nodes));
    process.stdout.write(
      `load average at end: ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
