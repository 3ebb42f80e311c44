/**
 * Rendering with Allure 2 (allure-commandline): the multi-file site `allure-report/` and the
 * single file `hookpoint-report.html` that opens from file://. Always through allure-commandline's
 * own launcher (node_modules/allure-commandline/dist/bin/allure): `npx allure` may resolve to
 * Allure 3, which installs a bin of the same name. History: the previous report's `history/`
 * is copied into the results before generating, so consecutive runs build a trend.
 */
import { access, constants, cp, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { EnvironmentError } from '../errors.ts';
import { JAVA_APT_PACKAGE } from '../exec/host-tools.ts';
import { run } from '../exec/index.ts';
import { type AllureRuntime, startWarmAllure, takeWarmAllure } from './allure-warm.ts';
import { classArchive, existingArchive } from './jvm-archive.ts';
import { writeSingleFile } from './single-file.ts';

export { JAVA_APT_PACKAGE };

const GENERATE_TIMEOUT_MS = 180_000;
/**
 * Reports are attached to change reviews and opened offline: no Google Analytics tag in them.
 * Allure 2 honours `ALLURE_NO_ANALYTICS=true` in both the generator and the HTML template
 * (allure2 Analytics.md; `=1` only disables half of it, allure2 PR #3333).
 */
/**
 * `allure generate` is a short-lived JVM: the C1 compiler only, the serial collector and shared
 * class archives (the JDK's, and Allure's own: ./jvm-archive.ts) start it about twice as fast on a
 * small machine, with the same output. A user's own JAVA_OPTS come after ours, so they win.
 */
const FAST_JVM = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-Xshare:auto'];

function allureEnv(archiveOptions: readonly string[]): Record<string, string> {
  const opts = [...FAST_JVM, ...archiveOptions, ...(process.env.JAVA_OPTS ? [process.env.JAVA_OPTS] : [])];
  return { ALLURE_NO_ANALYTICS: 'true', JAVA_OPTS: opts.join(' ') };
}

/** How `allure generate` runs here (for the warm one, allure-warm.ts): java, launcher, JVM options, environment. */
async function allureRuntime(): Promise<AllureRuntime> {
  const java = await findJava();
  const launcher = await allureLauncher();
  const version = await allureVersion(launcher);
  const env = allureEnv(await existingArchive(java, version));
  return {
    java,
    launcher,
    version,
    // Ours only: a user's own JAVA_OPTS keeps the run on the launcher (allure-warm.ts).
    jvmOptions: env.JAVA_OPTS!.split(' ').filter(Boolean),
    env: { ALLURE_NO_ANALYTICS: env.ALLURE_NO_ANALYTICS! },
  };
}

/**
 * Start warming Allure for this run's report (allure-warm.ts), early in `hookpoint run`; the
 * report uses it when it is ready, else renders cold.
 */
export function warmAllure(): void {
  startWarmAllure(allureRuntime);
}

/** allure-commandline's version (its package.json), which names the class archive. */
async function allureVersion(launcher: string): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(path.join(path.dirname(launcher), '..', '..', 'package.json'), 'utf8'));
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

async function executable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** The java the launcher will use (JAVA_HOME first, then PATH), or an EnvironmentError. */
export async function findJava(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (env.JAVA_HOME) {
    const j = path.join(env.JAVA_HOME, 'bin', 'java');
    if (await executable(j)) return j;
    throw new EnvironmentError(
      `JAVA_HOME is set to ${env.JAVA_HOME}, but ${j} is not an executable, so Allure cannot render the report.`,
      `Unset JAVA_HOME or point it at a Java 17 runtime (Debian/Ubuntu: \`apt-get install -y ${JAVA_APT_PACKAGE}\`).`,
    );
  }
  for (const dir of (env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const j = path.join(dir, 'java');
    if (await executable(j)) return j;
  }
  throw new EnvironmentError(
    'Java is not installed (no `java` on PATH and no JAVA_HOME), and Allure 2 needs it to render the report; summary.md, summary.json and junit.xml were still written.',
    `Install a Java 17 runtime: \`apt-get install -y ${JAVA_APT_PACKAGE}\` (Debian/Ubuntu), then rerun \`hookpoint report\`.`,
  );
}

/** Path of allure-commandline's own launcher script. */
export async function allureLauncher(): Promise<string> {
  let pkg: string;
  try {
    pkg = createRequire(import.meta.url).resolve('allure-commandline/package.json');
  } catch {
    throw new EnvironmentError(
      'The npm package allure-commandline is not installed, so the Allure report cannot be rendered.',
      'Run `npm ci` in the Hookpoint directory.',
    );
  }
  const launcher = path.join(path.dirname(pkg), 'dist', 'bin', 'allure');
  if (!(await executable(launcher))) {
    throw new EnvironmentError(
      `allure-commandline's launcher ${launcher} is missing or not executable.`,
      'Reinstall the dependencies with `npm ci`.',
    );
  }
  return launcher;
}

/** Whether a path exists (any kind of file). */
export async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** Copy `<reportDir>/history/` into `<resultsDir>/history/`; true when there was one. */
export async function carryHistory(reportDir: string, resultsDir: string): Promise<boolean> {
  const from = path.join(reportDir, 'history');
  if (!(await exists(path.join(from, 'history-trend.json')))) return false;
  const to = path.join(resultsDir, 'history');
  await rm(to, { recursive: true, force: true });
  await cp(from, to, { recursive: true });
  return true;
}

/** Number of builds in a report's trend (0 when there is none). */
export async function trendLength(reportDir: string): Promise<number> {
  try {
    const t = JSON.parse(await readFile(path.join(reportDir, 'history', 'history-trend.json'), 'utf8'));
    return Array.isArray(t) ? t.length : 0;
  } catch {
    return 0;
  }
}

export interface RenderOptions {
  /** A writable results directory (the report build's staging copy; history/ is written into it). */
  resultsDir: string;
  /** Where allure-report/ and hookpoint-report.html are written. */
  reportsDir: string;
  /** A report directory whose history/ is carried into this one (none: no trend carried). */
  historyFrom?: string;
  timeoutMs?: number;
  /** Still render while the run shuts down after Ctrl-C (the partial results' report). */
  cleanup?: boolean;
}

export interface Rendered {
  site: string;
  singleFile: string;
  historyCarried: boolean;
}

/**
 * One `allure generate` for the site; the single file is packed from that site in Node
 * (single-file.ts: Allure 2's own single-file layout), so a report costs one JVM, not two.
 */
export async function renderAllure(opts: RenderOptions): Promise<Rendered> {
  const java = await findJava();
  const launcher = await allureLauncher();
  const timeoutMs = opts.timeoutMs ?? GENERATE_TIMEOUT_MS;
  const site = path.join(opts.reportsDir, 'allure-report');
  const singleFile = path.join(opts.reportsDir, 'hookpoint-report.html');
  const historyCarried = opts.historyFrom ? await carryHistory(opts.historyFrom, opts.resultsDir) : false;
  // The run's warm Allure, when one was started and is ready (not while shutting down: cold only).
  const warm = await takeWarmAllure();
  if (warm && !opts.cleanup && (await warm.render(opts.resultsDir, site, timeoutMs))) {
    await writeSingleFile(site, singleFile);
    return { site, singleFile, historyCarried };
  }
  await warm?.stop();
  const archive = await classArchive(java, await allureVersion(launcher));
  const how = { timeoutMs, where: 'host', env: allureEnv(archive.jvmOptions), cleanup: opts.cleanup };
  try {
    await run([launcher, 'generate', opts.resultsDir, '-o', site, '--clean'], how);
  } catch (err) {
    await archive.discard();
    throw err;
  }
  await archive.commit();
  await writeSingleFile(site, singleFile);
  return { site, singleFile, historyCarried };
}
