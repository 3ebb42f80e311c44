import type { Command } from 'commander';
import { type MatrixRaw, planMatrix, runMatrix } from '../run/matrix.ts';
import { runOptions } from './run.ts';

const HELP_AFTER = `
Each combination runs as its own \`hookpoint run\` process with its own cluster (or lab) name
<cluster>-c1-16-15 and its own results in <reports>/matrix/c1-16-15/ (the child's output is in
hookpoint-run.log there). At the end every combination's results are merged into one report in
<reports>/: the Allure site with the versions as parameters, hookpoint-report.html, junit.xml and
summary.md with a scenario × Cilium version table that shows the evidence where versions differ.

On the lab the Cilium version is only a label (the lab reproduces datapath modes, not versions): a version matrix there
proves the mechanics, and the report says so.

Exit status: 0 when every combination passed; otherwise non-zero (1 when a scenario failed or broke).

With --configs each configuration file (Helm values, optionally a kindConfig) is one column:
its values override the Background's rows with the same key and its kind config replaces the
Background's; summary.md then has a scenario × configuration table.

Examples:
  hookpoint matrix --backend lab --configs tunnel=kind-configs/modes/tunnel.yaml,kpr=kind-configs/modes/kpr.yaml
  hookpoint matrix --backend kind --cilium 1.16.15,1.17.15,1.18.6 --parallel 2
  hookpoint matrix --backend kind --cilium 1.17.15,1.18.6 --k8s v1.27.3,v1.29.2 --tags @seed
  hookpoint matrix --backend lab --cilium 1.16.15,1.17.15 --tags @native-routing --reports reports/matrix-lab
`;

export function register(program: Command): void {
  const cmd = runOptions(program.command('matrix'));
  // The run's single-version flags take lists here.
  for (const o of cmd.options) {
    if (o.long === '--cilium' || o.long === '--k8s') o.flags = `${o.long} <versions>`;
    if (o.long === '--cilium')
      o.description =
        'Cilium versions, comma-separated, e.g. 1.16.15,1.17.15,1.18.6 (required unless --configs is given)';
    if (o.long === '--k8s') o.description = 'Kubernetes versions, comma-separated (default v1.27.3)';
    if (o.long === '--cluster')
      o.description = 'base cluster / lab name; each combination appends its id (default cilium-kubeproxy)';
  }
  cmd
    .description('run the suite once per Cilium (× Kubernetes) version and merge the results into one report')
    .argument('[paths...]', 'feature files or folders (default features/)')
    .option(
      '--configs <name=file,...>',
      'configurations, comma-separated name=file (docs/configurations.md): the suite once per configuration, its values over the Background rows; with --cilium, once per configuration and version',
    )
    .option(
      '--parallel <n>',
      'combinations at once, 1–16 (default 1); lab and kind names differ, so they do not collide',
    )
    .addHelpText('after', HELP_AFTER)
    .action(async (paths: string[], opts: MatrixRaw) => {
      const plan = planMatrix({ ...opts, debug: program.opts().debug }, paths);
      process.exitCode = (await runMatrix({ plan })).exitCode;
    });
}
