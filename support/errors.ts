/**
 * Error taxonomy. Datapath mismatches are chai AssertionErrors (Allure: failed); everything
 * here is either the user's input (usage), the machine (environment) or the infrastructure
 * under test misbehaving (Allure: broken). Messages are one paragraph: what, where, expected,
 * found, how to fix.
 */

export const ExitCode = {
  ok: 0,
  scenarioFailed: 1,
  usage: 2,
  environment: 3,
  interrupted: 130,
} as const;

export class HookpointError extends Error {
  readonly exitCode: number;
  readonly hint?: string;
  constructor(message: string, opts: { exitCode: number; hint?: string; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.exitCode = opts.exitCode;
    this.hint = opts.hint;
  }
  /** The one paragraph shown to users. */
  paragraph(): string {
    return this.hint ? `${this.message} ${this.hint}` : this.message;
  }
}

/** Bad input: flags, names, feature text, files. Exit 2. */
export class UsageError extends HookpointError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.usage, hint });
  }
}

/** The machine cannot run the chosen backend: missing tool, not root, no Docker engine. Exit 3. */
export class EnvironmentError extends HookpointError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.environment, hint });
  }
}

/** Infrastructure trouble during a run (a command failed or hung, provisioning broke). Allure: broken. */
export class InfraError extends HookpointError {
  constructor(message: string, opts: { hint?: string; cause?: unknown } = {}) {
    super(message, { exitCode: ExitCode.scenarioFailed, ...opts });
  }
}

/** A probe could not prove anything (no positive control). Allure: broken, category "inconclusive evidence". */
export class InconclusiveError extends InfraError {}

/** Render any error as one paragraph; stack only with --debug. */
export function describeError(err: unknown, debug = false): string {
  if (err instanceof HookpointError) {
    const text = `hookpoint: ${err.paragraph()}`;
    return debug && err.stack ? `${text}\n${err.stack}` : text;
  }
  if (err instanceof Error) {
    return debug && err.stack
      ? `hookpoint: ${err.stack}`
      : `hookpoint: ${err.message} (run with --debug for the stack trace)`;
  }
  return `hookpoint: ${String(err)}`;
}

/** What the CLI prints when a signal stops it (the agent socket's client prints the same). */
export function interruptedLine(sig: string): string {
  return `hookpoint: ${sig} received — stopping commands and cleaning up…`;
}

export function exitCodeOf(err: unknown): number {
  return err instanceof HookpointError ? err.exitCode : ExitCode.scenarioFailed;
}
