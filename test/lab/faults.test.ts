/**
 * Faults on the lab (root): SIGINT and SIGTERM during provisioning, during traffic and during
 * report rendering. Each time: exit 130, cleanup complete (no namespace, mount, run directory or
 * process of the run left), the results written so far are kept and `hookpoint report` renders
 * them. Also: a hanging command ends at its timeout with an InfraError naming it, and a second
 * run on a lab whose lock is held is refused naming the holder's pid.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { InfraError } from '../../support/errors.ts';
import { run, spawnBackground } from '../../support/exec/index.ts';
import {
  BIN,
  cli,
  expectNothingLeft,
  expectParagraph,
  processesMentioning,
  REPO,
  scenario,
  tempDir,
  writeFeature,
} from '../unit/helpers/hardening.ts';

const root = process.getuid?.() === 0;
const skip = root ? false : 'the lab needs root';
const dir = tempDir('faults');
const STATE = process.env.HOOKPOINT_LAB_STATE || '/run/hookpoint/lab';
const clusters: string[] = [];
after(async () => {
  // Whatever a failed assertion left: remove it the supported way.
  for (const c of clusters)
    if (existsSync(path.join(STATE, c))) await cli(['lab', 'down', '--cluster', c], { timeoutMs: 60_000 });
  rmSync(dir, { recursive: true, force: true });
});

/** Every fault case's cluster name starts with this run's prefix. */
const CASE_PREFIX = `hphard-f${process.pid % 100000}-`;
let seq = 0;
function newCluster(): string {
  const c = `${CASE_PREFIX}${++seq}`;
  clusters.push(c);
  return c;
}

/** Pids of the descendants of pid (from /proc/<pid>/stat ppid fields). */
function descendants(pid: number): Array<{ pid: number; cmd: string }> {
  const parent = new Map<number, number>();
  const cmd = new Map<number, string>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      parent.set(Number(e), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      cmd.set(Number(e), readFileSync(`/proc/${e}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {}
  }
  const out: Array<{ pid: number; cmd: string }> = [];
  for (const [p] of parent) {
    let q = parent.get(p);
    while (q !== undefined && q > 1 && q !== pid) q = parent.get(q);
    if (q === pid) out.push({ pid: p, cmd: cmd.get(p) ?? '' });
  }
  return out;
}

async function until(what: string, fn: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

// Traffic that lasts, whatever the machine's speed: ping sends one echo request per 0.2 s
// (support/probes/ping.ts), so 1000 take 200 s, long after the second run below is refused. HTTP
// requests no longer do: a curl carries up to 100 of them, a few milliseconds each on the lab.
const TRAFFIC = `When pod "client" sends 1000 ICMP echo requests to the "echo" replica on node "worker"
Then all 1000 requests succeed`;
const SHORT = `When pod "client" sends 3 HTTP requests to service "echo"
Then all 3 requests succeed`;

type Phase = 'provisioning' | 'traffic' | 'report';
let faults = 0;

/** Start a run, signal it in the given phase, check exit 130 and that nothing of the run is left. */
async function interrupt(
  phase: Phase,
  signal: 'SIGINT' | 'SIGTERM',
  during?: (pid: number, cluster: string) => Promise<void>,
) {
  const cluster = newCluster();
  const reports = path.join(dir, cluster);
  const feature = writeFeature(dir, `${cluster}.feature`, scenario(phase === 'traffic' ? TRAFFIC : SHORT));
  const child = spawnBackground([process.execPath, BIN, 'run', feature, '--cluster', cluster, '--reports', reports], {
    maxMs: 120_000,
    cwd: REPO,
    where: 'test',
  });
  const pid = child.pid!;
  try {
    if (phase === 'provisioning') {
      // The janitor starts before the first namespace: signal once the lab has begun to exist.
      await until('the lab to start provisioning', () => existsSync(path.join(STATE, cluster, 'ledger.jsonl')), 30_000);
    } else if (phase === 'traffic') {
      await until('ping traffic', () => descendants(pid).some((d) => d.cmd.startsWith('ping ')), 60_000);
      await new Promise((r) => setTimeout(r, 300));
    } else {
      // The report is being built once its build directory exists (support/report/index.ts), whether
      // Allure renders cold or in the JVM warmed since the start (whose command names Allure from the start).
      await until(
        'the report build',
        () => existsSync(reports) && readdirSync(reports).some((n) => n.startsWith('.hookpoint-build-')),
        90_000,
      );
    }
    await during?.(pid, cluster);
    process.kill(pid, signal);
    faults += 1;
    const code = await child.exited;
    const out = child.output();
    assert.equal(code, 130, `exit ${code} after ${signal} during ${phase}:\n${out}`);
  } finally {
    if (child.running()) await child.stop();
  }
  await expectNothingLeft([cluster, path.join(STATE, cluster)], cluster, 15_000);
  await until('the run directory to go', () => !existsSync(path.join(STATE, cluster)), 15_000);
  assert.deepEqual(descendants(pid), [], 'a child of the run survived it');
  return { cluster, reports };
}

/** The results a run wrote before it was interrupted are there and `hookpoint report` renders them. */
async function reportRenders(reports: string): Promise<void> {
  const results = path.join(reports, 'allure-results');
  assert.ok(existsSync(results), `no results kept in ${results}`);
  assert.ok(
    readdirSync(results).some((f) => f.endsWith('-result.json')),
    `no scenario result kept in ${results}: ${readdirSync(results).join(', ')}`,
  );
  const out = path.join(reports, 'rerendered');
  const res = await cli(['report', '--results', results, '--out', out, '--no-history'], { timeoutMs: 120_000 });
  assert.equal(res.exitCode, 0, res.stderr);
  assert.ok(existsSync(path.join(out, 'summary.md')) && existsSync(path.join(out, 'hookpoint-report.html')));
}

describe('faults on the lab', { skip, concurrency: 1 }, () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} during provisioning: exit 130, nothing left`, async () => {
      await interrupt('provisioning', signal);
    });
  }

  test('SIGINT during traffic: a second run on the same lab is refused naming the holder; cleanup; results kept', async () => {
    const { reports } = await interrupt('traffic', 'SIGINT', async (pid, cluster) => {
      const second = writeFeature(dir, `${cluster}-second.feature`, scenario(SHORT));
      const res = await cli(['run', second, '--cluster', cluster, '--reports', path.join(dir, `${cluster}-second`)]);
      expectParagraph(
        res,
        2,
        [`"${cluster}" is in use by process ${pid}`],
        /wait for it, stop it, or pick another name/,
      );
    });
    await reportRenders(reports);
  });

  test('SIGTERM during traffic: cleanup; results kept and rendered later', async () => {
    const { reports } = await interrupt('traffic', 'SIGTERM');
    await reportRenders(reports);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${signal} during report rendering: no renderer left; results kept and rendered later`, async () => {
      const { reports } = await interrupt('report', signal);
      await reportRenders(reports);
    });
  }

  test('a hanging command ends at its timeout with an InfraError naming the command', async () => {
    const mark = `20.${process.pid}`;
    const started = Date.now();
    await assert.rejects(
      run(['sh', '-c', `trap '' TERM; sleep ${mark}`], { timeoutMs: 400, where: 'node hphard' }),
      (err: unknown) => {
        assert.ok(err instanceof InfraError, String(err));
        assert.match(err.message, /timed out after 400 ms on node hphard: sh -c/);
        assert.ok(err.message.includes(`sleep ${mark}`), err.message);
        return true;
      },
    );
    faults += 1;
    // It ignores SIGTERM: the runner escalates to SIGKILL after its grace.
    assert.ok(Date.now() - started < 5000);
    await expectNothingLeft([`sleep ${mark}`, `sleep\0${mark}`], undefined, 3000);
  });

  test('figures', () => {
    process.stdout.write(`faults injected: ${faults}\n`);
    assert.ok(faults >= 7);
    // Only this run's cases: other runs on a shared machine (other checkouts, a clean room) use other pids.
    assert.deepEqual(processesMentioning(CASE_PREFIX), [], 'a process of a fault case is still running');
  });
});
