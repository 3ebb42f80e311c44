/**
 * `hookpoint report`: every review artifact from allure-results — the Allure site, the
 * single-file HTML, summary.md, summary.json and junit.xml — carrying the previous report's
 * history so consecutive runs show a trend. It reports; it does not judge: failed scenarios do
 * not make it exit non-zero.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { plural } from '../expectations/evidence-ref.ts';
import { buildReports } from '../report/index.ts';
import { checkReportsDir } from '../run/reports-dir.ts';

const HELP_AFTER = `
Artifacts (in --out):
  allure-report/          the Allure site (serve it over http; trends carry over between runs)
  hookpoint-report.html   one file that opens from file:// — attach it to a change review
  summary.md              scenario table with the first evidence line of each failure (paste into a review)
  summary.json            the same, machine-readable
  junit.xml               one file for CI, also for merged runs

Exit status: 0 when the reports were written, even if scenarios failed (\`hookpoint run\` is the
command whose exit status reflects the scenarios); 2 on bad input, 3 when Java is missing.

Examples:
  hookpoint report
  hookpoint report --merge runs/cilium-1.16/allure-results runs/cilium-1.17/allure-results --out reports/matrix
`;

interface ReportFlags {
  results: string;
  merge?: string[];
  out: string;
  history: boolean;
}

/** `out` receives the printed lines (tests pass their own; default stdout). */
export function register(program: Command, out: (text: string) => void = (t) => process.stdout.write(t)): void {
  program
    .command('report')
    .description('render the Allure site, single-file HTML, Markdown summary and JUnit XML from allure-results')
    .option('--results <dir>', 'allure-results directory to read', 'reports/allure-results')
    .option('--merge <dirs...>', 'merge several allure-results directories into one report (as if one run)')
    .option('--out <dir>', 'directory for the artifacts', 'reports')
    .option('--no-history', 'do not carry the previous report history (no trend)')
    .addHelpText('after', HELP_AFTER)
    .action(async (flags: ReportFlags, cmd: Command) => {
      const explicitResults = cmd.getOptionValueSource('results') === 'cli';
      const dirs = flags.merge?.length
        ? [...(explicitResults ? [flags.results] : []), ...flags.merge]
        : [flags.results];
      checkReportsDir(flags.out, '--out');
      const built = await buildReports({ resultsDirs: dirs, reportsDir: flags.out, history: flags.history });
      const rel = (p: string) => path.relative(process.cwd(), p) || '.';
      const c = built.summary.counts;
      const lines = [
        `Allure site:      ${rel(built.site!)}/ (trend: ${built.trend} run${built.trend === 1 ? '' : 's'})`,
        `Single file:      ${rel(built.singleFile!)}`,
        `Review summary:   ${rel(built.markdown)}`,
        `Summary (JSON):   ${rel(built.json)}`,
        `JUnit XML:        ${rel(built.junit)}`,
        `${plural(c.total, 'scenario')}: ${c.passed} passed, ${c.failed} failed, ${c.broken} broken, ${c.skipped} skipped` +
          `${c.retries ? `, ${c.retries} retried attempts` : ''} (from ${dirs.length} results director${dirs.length === 1 ? 'y' : 'ies'})`,
      ];
      out(`${lines.join('\n')}\n`);
    });
}
