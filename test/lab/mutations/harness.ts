/**
 * Self-verification harness (issue 11): break the lab's datapath on purpose and prove the seed
 * suite notices. For each mutation: `hookpoint lab up --cluster <unique> --seed-workloads`,
 * change the live namespaces (tc filter, iptables rule, route, neighbour entry, datapath flag,
 * an extra NIC, a native nft rule, a killed echo server), run the seed suite against that lab
 * (`hookpoint run --cluster <same> --no-report --reports <tmp>`), read every scenario's status
 * and message from its Allure result, and judge it against the expectation below.
 *
 * Expectations per mutation:
 *   red       — the issue's table: must turn red with the stated status and a message naming
 *               the evidence;
 *   collateral — scenarios the same mutation breaks by physics (their traffic needs the removed
 *               piece), red deterministically; listed with the reason;
 *   random    — scenarios whose verdict depends on which backend the random selection (tc
 *               program or kube-proxy's statistic rule) picked: not judged, shown in the matrix;
 *   every other scenario must keep its unmutated verdict (passed).
 * Only support/exec spawns processes; every lab is torn down by the caller (downLab).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LabBackend } from '../../../support/backends/lab/backend.ts';
import { DEFAULT_STATE_ROOT, RunDir } from '../../../support/backends/lab/ledger.ts';
import { nodeNetns } from '../../../support/backends/lab/names.ts';
import { type BackgroundProcess, run, spawnBackground } from '../../../support/exec/index.ts';
import { allureResults, labDown } from '../helpers/lab-cli.ts';

export { labDown };

export const REPO = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(REPO, 'bin', 'hookpoint.js');

/** The seed suite's scenarios, by short key. */
export const SCENARIOS = {
  status: 'Cilium status reports native routing and kube-proxy replacement false',
  podToPod: 'Pod to pod across nodes succeeds over native routes',
  podClusterIP: 'Pod to ClusterIP succeeds and the KUBE-SVC and KUBE-SEP counters stay flat',
  monitor: 'cilium monitor shows the ClusterIP translated to a backend',
  nodeClusterIP: 'Node to ClusterIP goes through kube-proxy in this mode',
  nodePortNode: "NodePort from a node succeeds and kube-proxy's counters rise",
  nodePortPod: "NodePort from a pod succeeds and kube-proxy's counters rise on the target node",
  gateway: 'The default gateway is cilium_host and its ARP entry resolves to the lxc veth MAC',
  capture: 'Pod eth0 and the host veth see the ClusterIP, node eth0 sees only the backend',
  sameNode: 'Same-node backend delivered by bpf_redirect',
} as const;
export type ScenarioKey = keyof typeof SCENARIOS;
export const SCENARIO_KEYS = Object.keys(SCENARIOS) as ScenarioKey[];

export type Verdict = 'passed' | 'failed' | 'broken' | 'skipped' | 'missing';

export interface RedExpectation {
  status: 'failed' | 'broken';
  /** The message must match (names the evidence or the cause). */
  message: RegExp;
  /** Why a collateral scenario turns red too. */
  why?: string;
}

export interface LabHandle {
  cluster: string;
  lab: LabBackend;
  /** Full node names by role. */
  node(role: 'control-plane' | 'worker'): string;
}

export interface Mutation {
  id: string;
  title: string;
  red: Partial<Record<ScenarioKey, RedExpectation>>;
  collateral?: Partial<Record<ScenarioKey, RedExpectation>>;
  random?: Partial<Record<ScenarioKey, string>>;
  /** Applied to the live lab before the run. */
  apply?(h: LabHandle): Promise<void>;
  /** Applied while the run is under way (after it printed "cluster ready"). */
  during?(h: LabHandle): Promise<void>;
}

export interface ScenarioResult {
  status: Verdict;
  message: string;
}

export interface MutationOutcome {
  id: string;
  title: string;
  results: Record<ScenarioKey, ScenarioResult>;
  /** Judged cells: what was expected and whether it held. */
  cells: Record<ScenarioKey, { expected: 'red' | 'collateral' | 'random' | 'kept'; ok: boolean; why?: string }>;
  problems: string[];
  durationMs: number;
}

/** Execute in a node or pod of the lab (through the backend: argv, timeout, transcript). */
async function sh(h: LabHandle, where: { node: string } | { pod: string }, argv: string[]): Promise<string> {
  const target =
    'node' in where ? { kind: 'node' as const, node: where.node } : { kind: 'pod' as const, pod: where.pod };
  const res = await h.lab.exec(target, argv, { timeoutMs: 15_000 });
  return res.stdout;
}

function clientPod(h: LabHandle) {
  const p = h.lab.labState.pods.find((x) => x.kind === 'client');
  if (!p) throw new Error(`lab ${h.cluster} has no client pod`);
  return p;
}

const WRONG_MAC =
  "the client's frames carry a MAC that is not its host veth's, so the node drops every packet the tc program does not bpf_redirect itself";

export const MUTATIONS: Mutation[] = [
  {
    id: 'tc-removed',
    title: "tc program removed from the client pod's host veth (ingress)",
    red: {
      podClusterIP: { status: 'failed', message: /KUBE-SVC.*rose from \d+ to \d+ packets.*evidence/ },
      monitor: { status: 'failed', message: /no reply to the client is reverse-NATed.*untranslated.*evidence/ },
    },
    collateral: {
      sameNode: {
        status: 'failed',
        message: /tc ingress of lxc\w+.*evidence/,
        why: 'it checks the same hook (bpftool lists no program at tc ingress of the client veth)',
      },
    },
    async apply(h) {
      const c = clientPod(h);
      await sh(h, { node: c.node }, ['tc', 'filter', 'del', 'dev', c.hostVeth, 'ingress']);
    },
  },
  {
    id: 'sep-dnat-removed',
    title: 'all KUBE-SEP DNAT rules of the service removed on every node',
    red: {
      nodePortNode: { status: 'failed', message: /requests failed.*evidence/ },
      nodePortPod: { status: 'failed', message: /requests failed.*evidence/ },
    },
    collateral: {
      nodeClusterIP: {
        status: 'failed',
        message: /requests failed.*evidence/,
        why: "a node's own ClusterIP traffic needs the same KUBE-SEP DNAT (no tc hook on the node)",
      },
      podClusterIP: {
        status: 'broken',
        message: /no KUBE-SEP DNAT rule.*evidence/,
        why: '"stays flat" has no instrument when the rules it watches are gone: inconclusive, never passed',
      },
    },
    async apply(h) {
      for (const role of ['control-plane', 'worker'] as const) {
        const node = h.node(role);
        const save = await sh(h, { node }, ['iptables-nft-save', '-t', 'nat']);
        const chains = [...save.matchAll(/^-A (KUBE-SEP-\w+) .*"default\/echo:http".*-j DNAT/gm)].map((m) => m[1]!);
        if (chains.length === 0) throw new Error(`no KUBE-SEP DNAT rule of default/echo found on ${node}`);
        for (const chain of chains) {
          const listing = await sh(h, { node }, ['iptables-nft', '-t', 'nat', '-L', chain, '--line-numbers', '-n']);
          const num = /^(\d+)\s+DNAT\b/m.exec(listing)?.[1];
          if (!num) throw new Error(`no DNAT rule in ${chain} on ${node}`);
          await sh(h, { node }, ['iptables-nft', '-t', 'nat', '-D', chain, num]);
        }
      }
    },
  },
  {
    id: 'native-route-removed',
    title: "the client node's route to the other node's pod CIDR removed",
    red: { podToPod: { status: 'failed', message: /requests failed.*evidence|routes.*evidence/ } },
    collateral: {
      capture: {
        status: 'failed',
        message: /requests failed.*evidence/,
        why: 'its service echo-remote has only the worker replica, behind the removed route',
      },
    },
    random: {
      podClusterIP: 'random backend (tc): red unless all 10 requests picked the local replica',
      monitor: 'random backend (tc): red unless all 6 requests picked the local replica',
      nodeClusterIP: "random backend (kube-proxy's statistic rule)",
      nodePortNode: "random backend (kube-proxy's statistic rule)",
    },
    async apply(h) {
      const cp = h.node('control-plane');
      const worker = h.lab.labState.plan.nodes.find((n) => n.name === h.node('worker'))!;
      await sh(h, { node: cp }, ['ip', 'route', 'del', worker.podCIDR]);
    },
  },
  {
    id: 'local-redirect-off',
    title: 'same-node redirect disabled',
    // The bpftool step comes first in the scenario: the redirect is missing on this packet's tail-call path.
    red: { sameNode: { status: 'failed', message: /to reach a call of bpf_redirect.*no program on it calls one/ } },
    async apply(h) {
      for (const n of h.lab.labState.plan.nodes) await h.lab.datapath(n.name)!.setFlags({ localRedirect: false });
    },
  },
  {
    id: 'gateway-arp-wrong-mac',
    title: 'a static ARP entry for the gateway with a wrong MAC in the client pod',
    red: { gateway: { status: 'failed', message: /resolves to 02:00:5e:00:be:ef.*evidence/ } },
    collateral: {
      nodePortPod: { status: 'failed', message: /requests failed.*evidence/, why: WRONG_MAC },
      podToPod: { status: 'failed', message: /requests failed.*evidence/, why: WRONG_MAC },
      capture: { status: 'failed', message: /requests failed.*evidence/, why: WRONG_MAC },
    },
    random: {
      podClusterIP: 'random backend (tc): a same-node pick is bpf_redirected and survives the wrong MAC',
      monitor: 'random backend (tc): a same-node pick is bpf_redirected and survives the wrong MAC',
    },
    async apply(h) {
      const c = clientPod(h);
      const node = h.lab.labState.plan.nodes.find((n) => n.name === c.node)!;
      await sh(h, { pod: c.name }, [
        'ip',
        'neigh',
        'replace',
        node.ciliumHostIP,
        'lladdr',
        '02:00:5e:00:be:ef',
        'dev',
        'eth0',
        'nud',
        'permanent',
      ]);
    },
  },
  {
    id: 'capture-wrong-interface',
    title: 'capture started on an interface that carries none of the traffic',
    red: {
      capture: { status: 'broken', message: /node \S+ eth0 saw no packet from the client.*evidence.*cannot be judged/ },
    },
    // A second NIC between the nodes takes the pod-CIDR route (same next hop, the worker's IP):
    // the traffic still flows, but no longer over eth0, where the scenario's capture listens.
    async apply(h) {
      const cp = h.node('control-plane');
      const worker = h.lab.labState.plan.nodes.find((n) => n.name === h.node('worker'))!;
      const workerNs = nodeNetns(h.cluster, worker.name);
      await sh(h, { node: cp }, [
        'ip',
        'link',
        'add',
        'hpself0',
        'type',
        'veth',
        'peer',
        'name',
        'hpself0',
        'netns',
        workerNs,
      ]);
      await sh(h, { node: cp }, ['ip', 'link', 'set', 'hpself0', 'up']);
      await sh(h, { node: worker.name }, ['ip', 'link', 'set', 'hpself0', 'up']);
      await sh(h, { node: cp }, [
        'ip',
        'route',
        'replace',
        worker.podCIDR,
        'via',
        worker.ip,
        'dev',
        'hpself0',
        'onlink',
      ]);
    },
  },
  {
    id: 'counters-unreadable',
    title: 'counter snapshot made unreadable (the iptables read fails)',
    red: Object.fromEntries(
      (['podClusterIP', 'nodeClusterIP', 'nodePortNode', 'nodePortPod'] as const).map((k) => [
        k,
        {
          status: 'broken',
          message: /Could not read the nat table counters on node .*iptables-nft-save -c -t nat.*incompatible/,
        },
      ]),
    ),
    // A native nftables rule (numgen, no iptables equivalent) in iptables' own nat table, in a
    // chain no hook uses: the datapath is unchanged, but iptables-nft-save can no longer print
    // the table ("Table `nat' is incompatible, use 'nft' tool") — as on nodes where another
    // agent writes native nft rules there.
    async apply(h) {
      for (const role of ['control-plane', 'worker'] as const) {
        const node = h.node(role);
        await sh(h, { node }, ['nft', 'add', 'chain', 'ip', 'nat', 'hookpoint-selftest']);
        await sh(h, { node }, [
          'nft',
          'add',
          'rule',
          'ip',
          'nat',
          'hookpoint-selftest',
          'numgen',
          'inc',
          'mod',
          '2',
          'vmap',
          '{',
          '0',
          ':',
          'accept,',
          '1',
          ':',
          'accept',
          '}',
        ]);
      }
    },
  },
  {
    id: 'echo-backend-killed',
    title: 'an echo backend killed during the traffic',
    red: Object.fromEntries(
      (
        [
          'podClusterIP',
          'monitor',
          'nodeClusterIP',
          'nodePortNode',
          'nodePortPod',
          'podToPod',
          'capture',
          'gateway',
        ] as const
      ).map((k) => [k, { status: 'broken', message: /backend exited: the echo server of pod echo-\S+ .*evidence/ }]),
    ),
    // The worker's replica (a backend of echo and echo-remote, the target of pod → pod) is
    // SIGKILLed once the run has started; status and same-node (control-plane replica) do not use it.
    async during(h) {
      const pod = h.lab.labState.pods.find((p) => p.kind === 'echo' && p.node === h.node('worker'))!;
      const pidFile = new RunDir(DEFAULT_STATE_ROOT, h.cluster).file(`echo-${pod.name}.pid`);
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      process.kill(pid, 'SIGKILL');
      const deadline = Date.now() + 5000;
      while (existsSync(`/proc/${pid}`) && !/\) Z/.test(safeRead(`/proc/${pid}/stat`)) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
    },
  },
];

function safeRead(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------

export async function labUp(cluster: string): Promise<LabHandle> {
  await run([process.execPath, BIN, 'lab', 'up', '--cluster', cluster, '--seed-workloads'], {
    timeoutMs: 120_000,
    where: 'host',
    cwd: REPO,
  });
  const lab = new LabBackend();
  lab.attach(cluster);
  const byRole = (role: string) => {
    const n = lab.labState.plan.nodes.find((x) => x.kindRole === role || x.role === role);
    if (!n) throw new Error(`lab ${cluster} has no ${role} node`);
    return n.name;
  };
  return { cluster, lab, node: byRole };
}

/** Namespaces, run directory and processes a lab named `cluster` left behind. */
export function leftovers(cluster: string): string[] {
  const out: string[] = [];
  for (const n of existsSync('/run/netns') ? readdirSync('/run/netns') : [])
    if (n.startsWith(`hp.${cluster}.`) || n === `hp.${cluster}`) out.push(`netns ${n}`);
  const dir = new RunDir(DEFAULT_STATE_ROOT, cluster).dir;
  if (existsSync(dir)) out.push(`run dir ${dir}`);
  for (const line of safeRead('/proc/self/mountinfo').split('\n'))
    if (line.includes(`hp.${cluster}.`)) out.push(`mount ${line}`);
  return out;
}

/** Run the seed suite against a lab; `during` runs once the run printed "cluster ready". */
export async function runSuite(
  cluster: string,
  during?: () => Promise<void>,
): Promise<{ exitCode: number; results: Record<ScenarioKey, ScenarioResult>; output: string }> {
  const reports = mkdtempSync(path.join(tmpdir(), `hpmut-${cluster}-`));
  try {
    const proc: BackgroundProcess = spawnBackground(
      [
        process.execPath,
        BIN,
        'run',
        '--backend',
        'lab',
        '--cluster',
        cluster,
        '--tags',
        '@seed',
        '--no-report',
        '--reports',
        reports,
      ],
      { maxMs: 240_000, where: 'host', cwd: REPO },
    );
    if (during) {
      await proc.waitFor(/cluster ready/, 60_000);
      await during();
    }
    await proc.exited;
    const res = await proc.stop();
    return { exitCode: res.exitCode, results: readResults(reports), output: res.stdout + res.stderr };
  } finally {
    rmSync(reports, { recursive: true, force: true });
  }
}

/** Every scenario's status and message from the Allure results of a run. */
export function readResults(reports: string): Record<ScenarioKey, ScenarioResult> {
  const byName = new Map<string, ScenarioResult>();
  for (const r of allureResults(reports)) byName.set(r.name, { status: r.status as Verdict, message: r.message });
  return Object.fromEntries(
    SCENARIO_KEYS.map((k) => [k, byName.get(SCENARIOS[k]) ?? { status: 'missing', message: 'no result' }]),
  ) as Record<ScenarioKey, ScenarioResult>;
}

/** Judge one mutation's run against its expectations (see the header). */
export function judge(m: Mutation, results: Record<ScenarioKey, ScenarioResult>, durationMs: number): MutationOutcome {
  const problems: string[] = [];
  const cells = {} as MutationOutcome['cells'];
  for (const k of SCENARIO_KEYS) {
    const r = results[k];
    const red = m.red[k] ?? m.collateral?.[k];
    if (red) {
      const ok = r.status === red.status && red.message.test(r.message);
      if (!ok)
        problems.push(
          `${m.id}: "${SCENARIOS[k]}" should be ${red.status} matching ${red.message} but is ${r.status}: ${r.message.slice(0, 300)}`,
        );
      cells[k] = { expected: m.red[k] ? 'red' : 'collateral', ok, why: red.why };
    } else if (m.random?.[k]) {
      cells[k] = { expected: 'random', ok: true, why: m.random[k] };
    } else {
      const ok = r.status === 'passed';
      if (!ok)
        problems.push(
          `${m.id}: "${SCENARIOS[k]}" should keep its verdict (passed) but is ${r.status}: ${r.message.slice(0, 300)}`,
        );
      cells[k] = { expected: 'kept', ok };
    }
  }
  return { id: m.id, title: m.title, results, cells, problems, durationMs };
}

const MARK: Record<Verdict, string> = {
  passed: 'passed',
  failed: 'FAILED',
  broken: 'BROKEN',
  skipped: 'skipped',
  missing: 'missing',
};

/** The kill matrix as Markdown: one row per scenario, one column per mutation. */
export function renderMatrix(baseline: Record<ScenarioKey, ScenarioResult>, outcomes: MutationOutcome[]): string {
  const head = ['scenario', 'unmutated', ...outcomes.map((o) => o.id)];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const k of SCENARIO_KEYS) {
    const cells = outcomes.map((o) => {
      const c = o.cells[k];
      const tag =
        c.expected === 'red'
          ? ' (killed)'
          : c.expected === 'collateral'
            ? ' (collateral)'
            : c.expected === 'random'
              ? ' (random)'
              : '';
      return `${c.ok ? '' : '✗ '}${MARK[o.results[k].status]}${tag}`;
    });
    lines.push(`| ${SCENARIOS[k]} | ${MARK[baseline[k].status]} | ${cells.join(' | ')} |`);
  }
  const legend = [
    '',
    "Columns: mutations (see below). (killed) = named by the issue's table; (collateral) = also red by physics, asserted;",
    '(random) = depends on the random backend pick, not judged; no tag = must keep its unmutated verdict. ✗ = expectation not met.',
    '',
    ...outcomes.map((o) => {
      const notes = SCENARIO_KEYS.filter((k) => o.cells[k].why).map((k) => `${k}: ${o.cells[k].why}`);
      return `- **${o.id}** — ${o.title} (${(o.durationMs / 1000).toFixed(1)} s)${notes.length ? `; ${notes.join('; ')}` : ''}`;
    }),
  ];
  return `${lines.join('\n')}\n${legend.join('\n')}\n`;
}
