/**
 * A warm Allure for `hookpoint run`: `allure generate` costs about a second at the end of every
 * run (a JVM starting, loading and compiling Jackson, Freemarker and the plugins before it reads a
 * result). The run starts allure-warm/AllureWarm.java at its beginning instead: it renders a small
 * sample once while the run loads and runs, then renders the run's results with Allure's own
 * CommandLine, the same home, classpath (the class appended, so Allure's class archive still
 * maps), JVM options and arguments as the launcher, so the outputs are the same. Measured here
 * (idle, 2 cores, with the class archive): the seed report's generate took 0.46 s warm against
 * 1.06 s cold, for 0.36 s more CPU time in all (the sample).
 *
 * The class is compiled once per JVM build and source (`java -m jdk.compiler/…`: Debian's Java
 * runtime image carries the compiler module, no JDK package needed) into Hookpoint's cache.
 * Anything that does not work (no Java, no compiler module, a JVM that died, a warm-up that is
 * not done when the results are) leaves the report to the cold launcher (render.ts), as does a
 * user's own JAVA_OPTS or ALLURE_OPTS (the launcher's shell splits those; they reach Allure as given).
 * `HOOKPOINT_ALLURE_WARM=0` turns it off.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { cacheDir } from '../cache-dir.js';
import { InfraError } from '../errors.ts';
import { type BackgroundProcess, run, spawnBackground } from '../exec/index.ts';
import { writeCategories } from './categories.ts';
import { executorDocument, writeEnvironment, writeExecutor } from './environment-properties.ts';

const SOURCE = path.join(import.meta.dirname, 'allure-warm', 'AllureWarm.java');
const MAIN_CLASS = 'AllureWarm';
/** The warm JVM lives as long as a run may (its own bound; the run stops it sooner). */
const MAX_LIFE_MS = 6 * 3600_000;
const COMPILE_TIMEOUT_MS = 120_000;
/** How long the end of a run waits for a warm-up still going before it renders cold. */
const READY_WAIT_MS = 3_000;

/** How render.ts runs Allure (its launcher, JVM options and environment): one owner, passed in. */
export interface AllureRuntime {
  java: string;
  launcher: string;
  version: string;
  jvmOptions: string[];
  env: Record<string, string>;
}

export interface WarmAllure {
  /**
   * Render `resultsDir` into `site` (`allure generate … --clean`); false when it must be done
   * cold (not warm within `readyWaitMs`, default READY_WAIT_MS).
   */
  render(resultsDir: string, site: string, timeoutMs: number, readyWaitMs?: number): Promise<boolean>;
  /** Stop the JVM and remove its exchange directory (idempotent). */
  stop(): Promise<void>;
}

let warming: Promise<WarmAllure | undefined> | undefined;

/** Start warming (no-op when off or already started); never throws. */
export function startWarmAllure(runtime: () => Promise<AllureRuntime>): void {
  if (warming || process.env.HOOKPOINT_ALLURE_WARM === '0' || process.env.JAVA_OPTS || process.env.ALLURE_OPTS) return;
  warming = runtime()
    .then(start)
    .catch(() => undefined);
}

/** The warm Allure of this run, if one was started and still runs (taken once). */
export async function takeWarmAllure(): Promise<WarmAllure | undefined> {
  const w = warming;
  warming = undefined;
  return w ? await w : undefined;
}

/**
 * The launcher's classpath, in its order (the `CLASSPATH=` line of allure-commandline's script,
 * `$APP_HOME` resolved): the JVM then loads the same classes from the same jars. Pure.
 */
export function launcherClasspath(script: string, appHome: string): string | undefined {
  const line = script.split('\n').find((l) => l.startsWith('CLASSPATH=$APP_HOME/'));
  return line?.slice('CLASSPATH='.length).replaceAll('$APP_HOME', appHome);
}

async function compiled(java: string, classpath: string, version: string): Promise<string> {
  const source = await readFile(SOURCE, 'utf8');
  const real = await realpath(java);
  const s = await stat(real);
  const key = createHash('sha256')
    .update(`${real}\0${s.size}\0${Math.trunc(s.mtimeMs)}\0${version}\0${source}`)
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(cacheDir(), 'allure-warm', key);
  try {
    await stat(path.join(dir, `${MAIN_CLASS}.class`));
    return dir;
  } catch {
    // not compiled yet for this JVM and source
  }
  const partial = `${dir}.${process.pid}.partial`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  try {
    await run([java, '-m', 'jdk.compiler/com.sun.tools.javac.Main', '-d', partial, '-cp', classpath, SOURCE], {
      timeoutMs: COMPILE_TIMEOUT_MS,
    });
    await rm(dir, { recursive: true, force: true });
    await rename(partial, dir);
  } finally {
    await rm(partial, { recursive: true, force: true });
  }
  return dir;
}

/** A small results directory shaped like a run's: two scenarios, steps, an attachment, the run's own files. */
async function writeSample(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const t = Date.now();
  const result = (n: number, status: 'passed' | 'failed') => ({
    uuid: `00000000-0000-4000-8000-00000000000${n}`,
    historyId: `warm-up-${n}`,
    name: `warm-up scenario ${n}`,
    fullName: `features/warm-up.feature:${n}`,
    status,
    statusDetails: status === 'failed' ? { message: 'AssertionError: expected 0 to equal 1', trace: 'at warm-up' } : {},
    stage: 'finished',
    start: t,
    stop: t + 10,
    labels: [
      { name: 'parentSuite', value: 'warm-up' },
      { name: 'suite', value: 'features/warm-up.feature' },
      { name: 'feature', value: 'warm-up' },
      { name: 'tag', value: '@warm-up' },
    ],
    parameters: [],
    links: [],
    attachments: [],
    steps: [
      {
        name: 'When a warm-up step runs',
        status,
        stage: 'finished',
        start: t,
        stop: t + 5,
        steps: [],
        parameters: [],
        attachments: [{ name: 'evidence', source: `warm-up-${n}-attachment.txt`, type: 'text/plain' }],
      },
    ],
  });
  for (const [n, status] of [
    [1, 'passed'],
    [2, 'failed'],
  ] as const) {
    await writeFile(path.join(dir, `warm-up-${n}-result.json`), JSON.stringify(result(n, status)));
    await writeFile(path.join(dir, `warm-up-${n}-attachment.txt`), 'warm-up evidence\n');
  }
  await writeEnvironment(dir, { backend: 'warm-up' });
  await writeCategories(dir);
  await writeExecutor(dir, executorDocument(1, { buildName: 'warm-up' }));
}

async function start(rt: AllureRuntime): Promise<WarmAllure | undefined> {
  const appHome = path.dirname(path.dirname(rt.launcher));
  const classpath = launcherClasspath(await readFile(rt.launcher, 'utf8'), appHome);
  if (!classpath) return undefined;
  const classes = await compiled(rt.java, classpath, rt.version);
  const exchange = await mkdtemp(path.join(os.tmpdir(), 'hookpoint-allure-warm-'));
  await writeSample(path.join(exchange, 'sample'));
  let proc: BackgroundProcess;
  try {
    proc = spawnBackground(
      [
        rt.java,
        ...rt.jvmOptions,
        `-Dallure.home=${appHome}`,
        '-classpath',
        `${classpath}:${classes}`,
        MAIN_CLASS,
        exchange,
      ],
      { maxMs: MAX_LIFE_MS, where: 'host', env: rt.env },
    );
  } catch {
    await rm(exchange, { recursive: true, force: true });
    return undefined;
  }
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      await proc.stop();
      await rm(exchange, { recursive: true, force: true });
    })();
    return stopped;
  };
  return {
    stop,
    async render(resultsDir, site, timeoutMs, readyWaitMs = READY_WAIT_MS) {
      try {
        await proc.waitFor(/^ready$/m, readyWaitMs);
      } catch {
        await stop();
        return false;
      }
      const request = path.join(exchange, 'request');
      await writeFile(`${request}.partial`, ['generate', resultsDir, '-o', site, '--clean'].join('\n'));
      await rename(`${request}.partial`, request);
      try {
        await proc.waitFor(/^done \d+$/m, timeoutMs);
      } catch (err) {
        await stop();
        throw new InfraError(`Allure did not render the report: ${(err as Error).message}`);
      }
      const code = Number(/^done (\d+)$/m.exec(proc.output())![1]);
      await proc.exited;
      await stop();
      if (code !== 0)
        throw new InfraError(
          `Allure failed with exit code ${code} rendering ${resultsDir}: ${proc.output().trim().split('\n').slice(-3).join(' | ')}.`,
        );
      return true;
    },
  };
}
