import type { Command } from 'commander';
import { BACKENDS, DEFAULT_NODE_READS, KEEP, LAB_VARIANTS, loadConfig, type RawOptions } from '../config.ts';
import { HookpointError } from '../errors.ts';

async function retireBeforeStart(reports: string, paths: string[], err: unknown): Promise<void> {
  if (!(err instanceof HookpointError)) return;
  const { checkReportsDir } = await import('../run/reports-dir.ts');
  try {
    checkReportsDir(reports);
  } catch {
    return;
  }
  const { newRunId, retireOutputs } = await import('../report/index.ts');
  const now = new Date();
  await retireOutputs(
    reports,
    { id: newRunId(now), started: now.toISOString(), selection: paths.join(' ') || 'features' },
    { exitCode: err.exitCode, reason: err.paragraph() },
  ).catch(() => undefined);
}

/** Options shared by run and matrix. */
export function runOptions(cmd: Command): Command {
  return cmd
    .option(
      '--backend <name>',
      `backend: ${BACKENDS.join('|')} (default: kind where a Docker engine, kind and helm are available, else lab)`,
    )
    .option('--cilium <version>', 'Cilium version (default 1.17.15, as in the seed)')
    .option('--k8s <version>', 'Kubernetes version (default v1.27.3)')
    .option('--cluster <name>', 'cluster / lab name (default cilium-kubeproxy)')
    .option('--kind-config <file>', 'kind config (default kind-configs/two-node.yaml)')
    .option('--values <files>', 'extra Helm values files, comma-separated')
    .option(
      '--configuration <[name=]file>',
      "a configuration file (docs/configurations.md): its Helm values override the Background's rows with the same key, its kindConfig replaces the Background's",
    )
    .option('--keep <policy>', `keep the cluster: ${KEEP.join('|')} (default never)`)
    .option(
      '--reuse',
      'reuse an existing cluster after checking its fingerprint (agents restarted after a values change)',
    )
    .option(
      '--image <role=ref,...>',
      'kind/existing: use these images (roles node, cilium, operator, probe, echo, client), comma-separated, repeatable',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--kind-load',
      "kind: load the run's images present in the local Docker into the nodes (kind load docker-image)",
    )
    .option(
      '--iptables <mode>',
      'nft|legacy: the iptables kube-proxy writes to (lab: where it writes; default nft there, detected per node elsewhere)',
    )
    .option(
      '--node-reads <n>',
      `nodes whose counters are read at once (default ${DEFAULT_NODE_READS}; env HOOKPOINT_NODE_READS)`,
    )
    .option('--variant <list>', `lab datapath variants, comma-separated: ${LAB_VARIANTS.join(', ')}`)
    .option('--tags <expression>', 'cucumber tag expression, e.g. "@seed and not @flaky"')
    .option('--name <regex>', 'only scenarios whose name matches')
    .option('--shard <i/n>', 'run a deterministic slice: every n-th scenario from the i-th')
    .option('--retry <n>', 'retries for scenarios tagged @flaky (each attempt shows in the report)')
    .option('--reports <dir>', 'output directory (default reports)')
    .option('--kubeconfig <file>', 'existing backend: kubeconfig')
    .option('--context <name>', 'existing backend: kubeconfig context');
}

export function register(program: Command): void {
  runOptions(program.command('run'))
    .description('run features on a backend and render the report (exit 0 all passed, 1 a scenario failed or broke)')
    .argument('[paths...]', 'feature files or folders (default features/)')
    .option('--list', 'print the scenarios that would run, and exit')
    .option('--dry-run', 'check that every step is defined, without running anything')
    .option('--no-report', 'skip rendering the report')
    .action(async (paths: string[], opts: RawOptions & { list?: boolean; dryRun?: boolean; report?: boolean }) => {
      // Lab-only flags name the backend themselves.
      if (!opts.backend && (opts.variant || opts.iptables)) opts.backend = 'lab';
      if (!opts.backend && !process.env.HOOKPOINT_BACKEND && !opts.list && !opts.dryRun) {
        const { detectDefaultBackend } = await import('../run/prerequisites.ts');
        const chosen = await detectDefaultBackend();
        opts.backend = chosen.backend;
        process.stdout.write(`hookpoint: backend ${chosen.backend} (${chosen.why}; choose with --backend)\n`);
      }
      let config: ReturnType<typeof loadConfig>;
      try {
        config = loadConfig({ ...opts, debug: program.opts().debug });
      } catch (err) {
        // A run refused before it starts still leaves nothing in reports/ that could pass for current.
        if (!opts.list && !opts.dryRun) await retireBeforeStart(opts.reports ?? 'reports', paths, err);
        throw err;
      }
      // Allure warms up while the run loads and runs (support/report/allure-warm.ts).
      if (!opts.list && !opts.dryRun && opts.report !== false) (await import('../report/render.ts')).warmAllure();
      const { runFeatures } = await import('../run/run-suite.ts');
      try {
        process.exitCode = await runFeatures({
          config,
          paths,
          list: opts.list,
          dryRun: opts.dryRun,
          report: opts.report,
        });
      } finally {
        // Unused (a run that ended before its report, or rendered it cold): stopped, nothing left.
        await (await (await import('../report/allure-warm.ts')).takeWarmAllure())?.stop();
      }
    });
}
