import type { Command } from 'commander';
import { BACKENDS } from '../config.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { backendChecks, blocking } from '../run/prerequisites.ts';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('check that this machine can run a backend; prints what is missing and the exact install command')
    .option('--backend <name>', `backend to check: ${BACKENDS.join('|')}`, 'lab')
    .option('--json', 'machine-readable output')
    .option('--kubeconfig <file>', 'existing: the kubeconfig to check (default: KUBECONFIG)')
    .option('--context <name>', 'existing: the context of the kubeconfig to check')
    .action(async (opts: { backend: string; json?: boolean; kubeconfig?: string; context?: string }) => {
      if (!(BACKENDS as readonly string[]).includes(opts.backend))
        throw new UsageError(`Unknown backend "${opts.backend}".`, `Valid choices: ${BACKENDS.join(', ')}.`);
      const backend = opts.backend as (typeof BACKENDS)[number];
      const checks = await backendChecks(backend, {
        kubeconfig: opts.kubeconfig ?? (process.env.KUBECONFIG || undefined),
        context: opts.context,
      });
      const missing = blocking(checks, backend);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({ backend: opts.backend, ready: missing.length === 0, checks }, null, 2)}\n`,
        );
      } else {
        for (const c of checks)
          process.stdout.write(`${c.ok ? 'ok  ' : c.optional ? 'warn' : 'MISS'} ${c.name.padEnd(24)} ${c.detail}\n`);
        const fixes = [...new Set(checks.filter((c) => !c.ok && c.install).map((c) => c.install!))];
        if (fixes.length) process.stdout.write(`\nTo fix:\n${fixes.map((f) => `  ${f}`).join('\n')}\n`);
        process.stdout.write(
          missing.length === 0
            ? `\nThe ${opts.backend} backend can run on this machine.\n`
            : `\nThe ${opts.backend} backend cannot run here: ${missing.map((c) => c.name).join(', ')} missing.\n`,
        );
      }
      process.exitCode = missing.length === 0 ? ExitCode.ok : ExitCode.environment;
    });
}
