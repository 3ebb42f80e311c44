/**
 * `hookpoint` — one CLI, one module per subcommand (support/cli/<name>.ts exports register()).
 * Errors become one paragraph and an exit code (README: exit codes); stacks only with --debug.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { describeError, ExitCode, exitCodeOf, interruptedLine } from '../errors.ts';
import { cancelAll, prepareSpawner } from '../exec/index.ts';

export type Registrar = (program: Command) => void;

/** Subcommands, in help order. Each module registers itself; unbuilt ones say so and exit 2. */
const SUBCOMMANDS = ['run', 'matrix', 'report', 'diff', 'plan', 'doctor', 'steps', 'parse', 'lab', 'down'] as const;

/** Subcommands that run commands: their spawner starts before their modules load (support/exec/spawner-client.ts). */
const SPAWNING: ReadonlySet<string> = new Set(['run', 'matrix', 'report', 'doctor', 'lab', 'down']);

/** Load only the invoked subcommand's module (fast start for `lab agent`, which probes spawn); all of them for help. */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const invoked = argv.find((a) => !a.startsWith('-'));
  const only = (SUBCOMMANDS as readonly string[]).includes(invoked ?? '') ? [invoked!] : SUBCOMMANDS;
  const program = new Command('hookpoint')
    .description('Kubernetes datapath expectations in plain Gherkin, checked with evidence.')
    .version(packageVersion(), '--version', 'print the version of Hookpoint')
    .option('--debug', 'show stack traces and verbose diagnostics')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  if (only.length === 1 && SPAWNING.has(only[0]!)) prepareSpawner();
  for (const name of only) {
    const mod = (await import(`./${name}.ts`)) as { register: Registrar };
    mod.register(program);
  }
  for (const cmd of program.commands) cmd.exitOverride();
  return program;
}

/** The version in package.json (one owner). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

let interrupted = false;
function onSignal(sig: NodeJS.Signals): void {
  if (interrupted) return;
  interrupted = true;
  process.stderr.write(`${interruptedLine(sig)}\n`);
  process.exitCode = ExitCode.interrupted;
  cancelAll(sig);
}

export async function main(argv: string[]): Promise<number> {
  // `on`, not `once`: a second signal must not fall through to Node's default (die before cleanup).
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const debug = argv.includes('--debug');
  try {
    const program = await buildProgram(argv);
    if (argv.length === 0) {
      program.outputHelp();
      return ExitCode.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    if (interrupted) return ExitCode.interrupted;
    return typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; commander already printed its message otherwise.
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version')
        return ExitCode.ok;
      return ExitCode.usage;
    }
    process.stderr.write(`${describeError(err, debug)}\n`);
    return interrupted ? ExitCode.interrupted : exitCodeOf(err);
  }
}
