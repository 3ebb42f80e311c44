/**
 * `hookpoint lab` — the embedded lab backend by hand:
 *   lab up [--cluster NAME] [--kind-config F] [--iptables nft|legacy] [--seed-workloads] [--variant LIST]
 *   lab status [--cluster NAME] [--json]
 *   lab exec <node-or-pod> -- <command…>
 *   lab agent <node> -- cilium-dbg status | cilium-dbg monitor [--type trace] [--related-to ID] [-v]
 *                      | cilium-dbg policy get [-o json] | cilium-dbg policy wait <revision>
 *   lab down [--cluster NAME | --all]
 * Every command the lab runs is an ordinary one (ip, iptables-*-restore, tc, bpftool), so a
 * transcript line can be rerun by hand; `lab exec` and `lab agent` are how.
 */
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { type Command, Option } from 'commander';
import { runAgent } from '../backends/lab/agent/agent.ts';
import { LabBackend, REPO_ROOT } from '../backends/lab/backend.ts';
import { LAB_APT_PACKAGES } from '../backends/lab/host-prerequisites.ts';
import { inspectDatapath } from '../backends/lab/inspect.ts';
import { listLabs, RunDir, teardownLedger } from '../backends/lab/ledger.ts';
import { DEFAULT_CLUSTER, stateRootDefault, validateCluster } from '../backends/lab/names.ts';
import { findNode } from '../backends/lab/topology.ts';
import { LAB_VARIANTS } from '../config.ts';
import { EnvironmentError, UsageError } from '../errors.ts';
import { cancelled, spawnBackground, which } from '../exec/index.ts';
import type { IptablesMode } from '../kube-proxy/mode.ts';

const DEFAULT_KIND_CONFIG = 'kind-configs/two-node.yaml';

interface Common {
  cluster?: string;
  stateRoot?: string;
}

let pipeGuard = false;
/** Print a line; a closed pipe (`hookpoint lab status | head`) ends the output quietly, not with a stack trace. */
const out = (text: string): void => {
  if (!pipeGuard) {
    pipeGuard = true;
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  process.stdout.write(text);
};
const say = (line = ''): void => out(`${line}\n`);

function stateRoot(opts: Common): string {
  return path.resolve(opts.stateRoot ?? stateRootDefault());
}

function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new EnvironmentError(
      'The lab backend needs root: it works inside network namespaces and loads eBPF programs.',
      `Rerun as root (sudo -E npx hookpoint lab …) on a machine with ${LAB_APT_PACKAGES.join(', ')} installed (\`apt-get install -y ${LAB_APT_PACKAGES.join(' ')}\`).`,
    );
}

/** A kind config given relative to the current directory, else to the repository. */
function resolveKindConfig(file: string): string {
  for (const base of [process.cwd(), REPO_ROOT]) {
    const p = path.resolve(base, file);
    if (existsSync(p)) return p;
  }
  throw new UsageError(`The kind config "${file}" does not exist.`, `Looked in ${process.cwd()} and ${REPO_ROOT}.`);
}

function attached(opts: Common): LabBackend {
  requireRoot();
  const lab = new LabBackend({ stateRoot: stateRoot(opts) });
  lab.attach(validateCluster(opts.cluster ?? DEFAULT_CLUSTER));
  return lab;
}

function clusterOption(): Option {
  return new Option('--cluster <name>', `lab name (default ${DEFAULT_CLUSTER})`);
}

function stateRootOption(): Option {
  return new Option('--state-root <dir>', 'directory of lab run directories').hideHelp();
}

async function up(opts: {
  cluster?: string;
  kindConfig?: string;
  iptables?: string;
  seedWorkloads?: boolean;
  variant?: string;
  stateRoot?: string;
}): Promise<void> {
  requireRoot();
  if (opts.iptables !== undefined && opts.iptables !== 'nft' && opts.iptables !== 'legacy')
    throw new UsageError(`Invalid --iptables "${opts.iptables}".`, 'Valid choices: nft, legacy.');
  const started = Date.now();
  const kindConfig = resolveKindConfig(opts.kindConfig ?? DEFAULT_KIND_CONFIG);
  const lab = new LabBackend({
    cluster: opts.cluster,
    stateRoot: stateRoot(opts),
    iptables: opts.iptables as IptablesMode | undefined,
    variants: opts.variant,
  });
  // Not kept until every step succeeded: an interrupted `lab up` leaves nothing behind.
  await lab.provision({ kindConfig, ciliumValues: {}, ciliumVersion: '', k8sVersion: '' });
  if (opts.seedWorkloads) {
    const nodes = lab.labState.plan.nodes;
    await lab.deployEcho({ name: 'echo', nodes: nodes.map((n) => n.name), port: 80 });
    await lab.exposeService({ name: 'echo', app: 'echo', port: 80, type: 'NodePort', nodePort: 30080 });
    await lab.runClient({ name: 'client', node: nodes.find((n) => n.kindRole === 'control-plane')!.name });
  }
  lab.keepAndRelease();
  const s = lab.labState;
  say(
    `Lab "${s.cluster}" is up (lab (kernel reproduction) of ${path.relative(process.cwd(), s.kindConfig) || s.kindConfig}; iptables-${s.iptables}; ${s.datapath ? 'tc datapath attached' : 'no tc datapath'}${s.variants.length ? `; variants ${s.variants.join(',')}` : ''}) in ${Date.now() - started} ms.`,
  );
  printTopology(lab);
  say(
    `\nState: ${lab.runDir.dir}. Next: hookpoint lab status --cluster ${s.cluster} · hookpoint lab down --cluster ${s.cluster}`,
  );
}

function printTopology(lab: LabBackend): void {
  const s = lab.labState;
  say('\nNODE                                      ROLE            IP             POD CIDR         CILIUM_HOST');
  for (const n of s.plan.nodes)
    say(`${n.name.padEnd(42)}${n.role.padEnd(16)}${n.ip.padEnd(15)}${n.podCIDR.padEnd(17)}${n.ciliumHostIP}`);
  if (s.pods.length) {
    say('\nPOD                          NODE                                      IP             ENDPOINT  HOST VETH');
    for (const p of s.pods)
      say(`${p.name.padEnd(29)}${p.node.padEnd(42)}${p.ip.padEnd(15)}${String(p.endpointId).padEnd(10)}${p.hostVeth}`);
  }
  if (s.services.length) {
    say('\nSERVICE       TYPE        CLUSTER-IP     PORT(S)          BACKENDS');
    for (const svc of lab.statusServices())
      say(
        `${svc.name.padEnd(14)}${(svc.nodePort === null ? 'ClusterIP' : 'NodePort').padEnd(12)}${svc.clusterIP.padEnd(15)}${`${svc.port}${svc.nodePort === null ? '' : `:${svc.nodePort}`}/TCP`.padEnd(17)}${svc.backends.join(', ') || '<none>'}`,
      );
  }
}

async function status(opts: Common & { json?: boolean }): Promise<void> {
  const lab = attached(opts);
  const s = lab.labState;
  const datapath = await inspectDatapath(lab);
  if (opts.json) {
    const out = {
      cluster: s.cluster,
      nodes: s.plan.nodes.map((n) => ({ name: n.name, role: n.role, ip: n.ip, podCIDR: n.podCIDR })),
      pods: s.pods.map((p) => ({ name: p.name, node: p.node, ip: p.ip })),
      services: lab.statusServices(),
      datapath,
    };
    say(JSON.stringify(out, null, 2));
    return;
  }
  say(`Lab "${s.cluster}" — lab (kernel reproduction), ${s.phase}, created ${s.createdAt}`);
  printTopology(lab);
  say('\nDATAPATH (read from the kernel)');
  say(`  routing:                ${datapath.routing}`);
  say(`  pod → ClusterIP:        ${datapath.clusterIPTranslation}`);
  say(`  NodePort:               ${datapath.nodePortTranslation}`);
  say(`  kube-proxy iptables:    ${datapath.iptables ?? 'none'}`);
  if (datapath.requestedVariants.length) say(`  variants asked for:     ${datapath.requestedVariants.join(', ')}`);
  for (const n of datapath.nodes) {
    const routes = n.nativeRoutes.map((r) => `${r.dst} via ${r.via} dev ${r.dev}`).join('; ') || 'none';
    say(`  ${n.name}:`);
    say(
      `    native routes:        ${routes}${n.missingRoutes.length ? ` (missing ${n.missingRoutes.join(', ')})` : ''}`,
    );
    say(
      `    kube-proxy:           ${n.kubeProxy.serviceChains} KUBE-SVC, ${n.kubeProxy.endpointChains} KUBE-SEP, ${n.kubeProxy.nodePortRules} NodePort rules`,
    );
    say(
      `    tc programs:          ${n.tc.length ? n.tc.map((t) => `${t.interface}/${t.direction}:${t.program}`).join(' ') : 'none'}`,
    );
    if (n.maps)
      say(
        `    BPF maps:             ${n.maps.services} services, ${n.maps.backends} backends, ${n.maps.endpoints} endpoints, ${n.maps.connections} connections; local redirect ${n.localRedirect ? 'on' : 'off'}`,
      );
  }
}

function resolveTarget(lab: LabBackend, name: string): { kind: 'node'; node: string } | { kind: 'pod'; pod: string } {
  const s = lab.labState;
  if (findNode(s.plan.nodes, name)) return { kind: 'node', node: name };
  if (s.pods.some((p) => p.name === name)) return { kind: 'pod', pod: name };
  throw new UsageError(
    `The lab "${s.cluster}" has no node or pod named "${name}".`,
    `Nodes: ${s.plan.nodes.map((n) => n.role).join(', ')}; pods: ${s.pods.map((p) => p.name).join(', ') || 'none'}.`,
  );
}

/** Run argv with its stdout streamed to ours; stderr printed at the end; our exit code is its. */
async function stream(argv: string[], where: string): Promise<void> {
  const proc = spawnBackground(argv, { maxMs: 24 * 3600_000, where, graceMs: 10_000 });
  let shown = 0;
  const flush = () => {
    const text = proc.output();
    if (text.length > shown) {
      out(text.slice(shown));
      shown = text.length;
    }
  };
  while (proc.running()) {
    flush();
    await new Promise((r) => setTimeout(r, 50));
  }
  const res = await proc.stop();
  flush();
  if (res.stderr) process.stderr.write(res.stderr);
  process.exitCode = cancelled() ? 130 : res.exitCode;
}

async function exec(target: string, command: string[], opts: Common): Promise<void> {
  if (command.length === 0)
    throw new UsageError(
      '`hookpoint lab exec` needs a command after --.',
      'Example: hookpoint lab exec worker -- ip route',
    );
  const lab = attached(opts);
  // A person's command sees the node's own /sys too, as in `docker exec` into a kind node.
  const t = lab.targetArgv(resolveTarget(lab, target), command, { sysfs: true });
  // Lab nodes and pods share the host's filesystem: a program missing here is missing there, and
  // the exit status is the shell's for "command not found" (127), not `ip netns exec`'s 255.
  const program = command[0]!;
  if (program.includes('/') ? !isExecutable(program) : !which(program)) {
    process.stderr.write(`hookpoint: ${program}: command not found (on ${t.where}).\n`);
    process.exitCode = 127;
    return;
  }
  await stream(t.argv, t.where);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

async function agent(nodeName: string, command: string[], opts: Common): Promise<void> {
  await runAgent(attached(opts), nodeName, command, { out: say, err: (line) => process.stderr.write(`${line}\n`) });
}

async function down(opts: Common & { all?: boolean }): Promise<void> {
  requireRoot();
  if (opts.all && opts.cluster) throw new UsageError('Pass either --cluster NAME or --all, not both.');
  const root = stateRoot(opts);
  const names = opts.all ? listLabs(root) : [validateCluster(opts.cluster ?? DEFAULT_CLUSTER)];
  if (names.length === 0) say('No labs on this machine.');
  for (const name of names) {
    const started = Date.now();
    const rd = new RunDir(root, name);
    if (!rd.exists()) {
      say(`No lab named "${name}"; nothing to remove.`);
      continue;
    }
    try {
      await rd.acquireLock(`lab down (pid ${process.pid})`, 5000);
    } catch (err) {
      // --all skips a lab a live run holds; a named lab in use is the user's error to see.
      if (!opts.all || !(err instanceof UsageError)) throw err;
      say(`Lab "${name}" skipped: ${err.message}`);
      continue;
    }
    const report = await teardownLedger(rd);
    say(
      `Lab "${name}" removed in ${Date.now() - started} ms (${report.netns.length} namespaces, ${report.killed} processes, ${report.mounts.length} mounts).`,
    );
  }
}

export function register(program: Command): void {
  const lab = program
    .command('lab')
    .description('manage the embedded lab backend (a real-kernel reproduction of the seed cluster)');

  lab
    .command('up')
    .description('create the lab (idempotent)')
    .addOption(clusterOption())
    .option('--kind-config <file>', `kind config of the topology (default ${DEFAULT_KIND_CONFIG})`)
    .option('--iptables <mode>', 'iptables backend of kube-proxy: nft|legacy (default nft)')
    .option('--seed-workloads', "add the seed's workloads: deployment echo on every node, service echo, pod client")
    .option('--variant <list>', `datapath mutations, comma-separated: ${LAB_VARIANTS.join(', ')}`)
    .addOption(stateRootOption())
    .action(up);

  lab
    .command('status')
    .description("show the lab's nodes, pods, services and the datapath read from the kernel")
    .addOption(clusterOption())
    .option('--json', 'machine-readable output')
    .addOption(stateRootOption())
    .action(status);

  lab
    .command('exec')
    .description("run a command inside a node's or pod's network namespace")
    .argument('<node-or-pod>', 'node role (worker) or full name, or pod name')
    .argument('<command...>', 'command and arguments, after --')
    .addOption(clusterOption())
    .addOption(stateRootOption())
    .action((target: string, command: string[], opts: Common) => exec(target, command, opts));

  lab
    .command('agent')
    .description(
      "the lab's stand-in for a node's Cilium agent: cilium-dbg status | cilium-dbg monitor [--type trace] [--related-to ID] [-v] | cilium-dbg policy get [-o json] | cilium-dbg policy wait <revision>",
    )
    .argument('<node>', 'node role or full name')
    .argument('<command...>', 'cilium-dbg status or cilium-dbg monitor …, after --')
    .addOption(clusterOption())
    .addOption(stateRootOption())
    .action((node: string, command: string[], opts: Common) => agent(node, command, opts));

  lab
    .command('down')
    .description('remove a lab and everything its ledger lists')
    .addOption(clusterOption())
    .option('--all', 'remove every lab on this machine')
    .addOption(stateRootOption())
    .action(down);
}
