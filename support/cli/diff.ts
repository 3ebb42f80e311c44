/**
 * `hookpoint diff <baseline> <current>`: what changed between two runs, for a change review —
 * Markdown on stdout, diff.html in --out. Exit 0 when no scenario got worse, 1 when one went from
 * passed to failed or broken, 2 on bad input.
 */
import type { Command } from 'commander';
import { ExitCode } from '../errors.ts';
import { diffRuns } from '../report/diff.ts';
import { checkReportsDir } from '../run/reports-dir.ts';

const HELP_AFTER = `
Each of <baseline> and <current> is a reports directory (with allure-results/) or an
allure-results directory. Prints the scenarios whose status changed and, per scenario, the
evidence that changed (counter deltas, capture destinations, monitor event kinds, status fields,
redirect chain) as Markdown; writes the same as diff.html in --out.

Exit status: 0 when no scenario got worse, 1 when one went from passed to failed or broken,
2 on bad input.

Example:
  hookpoint diff runs/cilium-1.16 runs/cilium-1.17 > review.md
`;

export function register(program: Command): void {
  program
    .command('diff')
    .description('compare two runs: status changes and changed evidence per scenario (exit 1 when one got worse)')
    .argument('<baseline>', 'reports or allure-results directory of the run before')
    .argument('<current>', 'reports or allure-results directory of the run after')
    .option('--out <dir>', 'directory for diff.html', 'reports')
    .addHelpText('after', HELP_AFTER)
    .action(async (baseline: string, current: string, flags: { out: string }) => {
      checkReportsDir(flags.out, '--out');
      const { diff, markdown } = await diffRuns(baseline, current, flags.out);
      process.stdout.write(markdown);
      process.exitCode = diff.worse ? ExitCode.scenarioFailed : ExitCode.ok;
    });
}
