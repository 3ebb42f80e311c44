/**
 * How a command is started with execa and what of its result is kept: one place for the spawner
 * (spawner.js, plain JavaScript) and the in-process fallback (spawner-client.ts).
 */

/** Start argv (opts: timeoutMs, input, cwd, env — the whole environment —, graceMs). */
export function startWithExeca(execa, argv, opts, cancelSignal) {
  return execa(argv[0], argv.slice(1), {
    timeout: opts.timeoutMs,
    reject: false,
    input: opts.input,
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: false,
    cancelSignal,
    stripFinalNewline: false,
    forceKillAfterDelay: opts.graceMs,
  });
}

/** The fields of execa's result the runner reads (command.ts), as plain data. */
export function outcomeOf(r) {
  return {
    exitCode: r.exitCode,
    signal: r.signal,
    timedOut: Boolean(r.timedOut),
    isCanceled: Boolean(r.isCanceled),
    failed: Boolean(r.failed),
    code: r.code,
    shortMessage: r.shortMessage,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
  };
}
