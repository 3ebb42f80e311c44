/**
 * The nightly GitHub Actions workflow: its YAML parses, it is triggered nightly and by hand,
 * the suite job sets up Kind and Helm and runs every Cilium version × shard, and every `run:`
 * line calls an npm script from package.json or a built `hookpoint` subcommand with options that
 * subcommand accepts (parsed by the real CLI, values checked by the real validation). The only
 * other lines allowed are `npm ci` and appending summary.md to the job summary.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { testedCombination } from '../../support/backends/k8s/tested-versions.ts';
import { pinnedNodeImage } from '../../support/backends/kind/node-images.ts';
import { buildProgram } from '../../support/cli/main.ts';
import { CILIUM_VERSION, loadConfig } from '../../support/config.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
const WORKFLOW = path.join(ROOT, '.github', 'workflows', 'nightly.yml');
const PACKAGE = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  scripts: Record<string, string>;
};

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  if?: string;
}
interface Job {
  needs?: string | string[];
  'runs-on': string;
  strategy?: { matrix: Record<string, unknown[]> };
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  jobs: Record<string, Job>;
}

const wf = parse(readFileSync(WORKFLOW, 'utf8')) as Workflow;

/** Split one shell command line into words (quotes and backslash escapes; no expansion). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      inWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += ch;
      inWord = true;
    }
  }
  assert.equal(quote, null, `unterminated quote in: ${line}`);
  if (inWord) words.push(cur);
  return words;
}

/** The command lines of a `run:` block: continuation lines joined, comments and blanks dropped, `&&` split. */
function commandLines(run: string): string[] {
  return run
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .flatMap((l) => l.split('&&').map((x) => x.trim()));
}

/**
 * Every assignment of the job's matrix (cartesian product of its lists, then GitHub's `include`:
 * an entry whose keys that are matrix lists match a row adds its other keys to that row); one
 * empty assignment without a matrix.
 */
export function matrixRows(job: Job): Array<Record<string, string>> {
  let rows: Array<Record<string, string>> = [{}];
  const lists = Object.entries(job.strategy?.matrix ?? {}).filter(([k, v]) => k !== 'include' && Array.isArray(v));
  for (const [k, values] of lists) rows = rows.flatMap((r) => values.map((v) => ({ ...r, [k]: String(v) })));
  const include = (job.strategy?.matrix.include ?? []) as Array<Record<string, unknown>>;
  const listKeys = new Set(lists.map(([k]) => k));
  return rows.map((r) => {
    let out = r;
    for (const inc of include) {
      const matches = Object.entries(inc).every(([k, v]) => !listKeys.has(k) || r[k] === String(v));
      if (matches) out = { ...out, ...Object.fromEntries(Object.entries(inc).map(([k, v]) => [k, String(v)])) };
    }
    return out;
  });
}

/** Substitute `${{ matrix.x }}`; any other expression in a run line is an error (it would be shell-injected). */
function expand(text: string, row: Record<string, string>): string {
  return text.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expr: string) => {
    const m = /^matrix\.(\w+)$/.exec(expr);
    assert.ok(
      m && row[m[1]!] !== undefined,
      `run lines may only use \${{ matrix.* }} of their job, found \${{ ${expr} }}`,
    );
    return row[m![1]!]!;
  });
}

/** Parse `hookpoint <argv>` with the real CLI, without running the action; returns the subcommand and its options. */
async function parseHookpoint(
  argv: string[],
): Promise<{ name: string; opts: Record<string, unknown>; args: unknown[] }> {
  const program = await buildProgram();
  const silent = { writeOut: () => {}, writeErr: () => {} };
  program.configureOutput(silent);
  let got: { name: string; opts: Record<string, unknown>; args: unknown[] } | undefined;
  for (const cmd of program.commands) {
    cmd.configureOutput(silent);
    cmd.action(function (this: Command, ...args: unknown[]) {
      got = { name: this.name(), opts: this.opts(), args: args.slice(0, -2) };
    });
  }
  await program.parseAsync(argv, { from: 'user' });
  assert.ok(got, `hookpoint ${argv.join(' ')} ran no subcommand`);
  return got;
}

const allSteps = Object.entries(wf.jobs).flatMap(([id, job]) => job.steps.map((s) => ({ id, job, step: s })));

test('nightly workflow: nightly cron and manual trigger', () => {
  const schedule = wf.on.schedule as Array<{ cron: string }>;
  assert.ok(Array.isArray(schedule) && schedule.length >= 1, 'a schedule trigger');
  for (const s of schedule) assert.equal(s.cron.trim().split(/\s+/).length, 5, `cron "${s.cron}" has five fields`);
  assert.ok('workflow_dispatch' in wf.on, 'a workflow_dispatch trigger');
});

test('nightly workflow: a suite job over valid Cilium versions × shards, Kind and Helm set up, results uploaded', async () => {
  const suites = Object.entries(wf.jobs).filter(([, j]) => j.steps.some((s) => /hookpoint run\b/.test(s.run ?? '')));
  assert.equal(suites.length, 1, 'exactly one job runs the suite');
  const [, job] = suites[0]!;
  const versions = (job.strategy?.matrix.cilium ?? []).map(String);
  assert.ok(versions.length >= 2, 'the matrix lists several Cilium versions');
  for (const v of versions) assert.match(v, CILIUM_VERSION);
  const uses = job.steps.map((s) => s.uses?.split('@')[0]);
  for (const a of [
    'actions/checkout',
    'actions/setup-node',
    'azure/setup-helm',
    'helm/kind-action',
    'actions/upload-artifact',
  ])
    assert.ok(uses.includes(a), `the suite job uses ${a}`);
  assert.ok(
    job.steps.some((s) => s.run?.trim() === 'npm ci'),
    'npm ci',
  );
  const runIdx = job.steps.findIndex((s) => /hookpoint run\b/.test(s.run ?? ''));
  const uploadIdx = job.steps.findIndex((s) => s.uses?.startsWith('actions/upload-artifact'));
  assert.ok(uploadIdx > runIdx, 'the upload comes after the run');
  assert.ok(
    job.steps[uploadIdx]!.if && !/success\(\)/.test(job.steps[uploadIdx]!.if!),
    'results are uploaded when scenarios fail too',
  );
  const shards = (job.strategy?.matrix.shard ?? []).map(Number);

  const seen = new Set<string>();
  for (const row of matrixRows(job)) {
    const line = expand(commandLines(job.steps[runIdx]!.run!).find((l) => /hookpoint run\b/.test(l))!, row);
    const words = shellWords(line);
    const { opts } = await parseHookpoint(words.slice(words.indexOf('hookpoint') + 1));
    const config = loadConfig(opts as never, {});
    assert.equal(config.backend, 'kind');
    assert.equal(config.cilium, row.cilium);
    // Each Cilium version on a node image inside its e2e-tested Kubernetes versions, created by the kind that built it.
    assert.notEqual(
      testedCombination(config.cilium, config.k8s).verdict,
      'untested',
      `${config.cilium} on ${config.k8s}`,
    );
    const pinned = pinnedNodeImage(config.k8s);
    assert.ok(pinned, `the nightly node image ${config.k8s} is pinned by digest`);
    const kindStep = job.steps.find((s) => s.uses?.startsWith('helm/kind-action'))!;
    assert.equal(expand(String(kindStep.with?.version), row), pinned.kind, `kind ${pinned.kind} built ${config.k8s}`);
    assert.equal(opts.report, false, 'each slice skips the report (--no-report); the merge job renders it');
    if (shards.length) {
      assert.equal(config.shard, `${row.shard}/${shards.length}`, 'shard i/n with n = the number of shards');
      seen.add(`${config.cilium} ${config.shard}`);
    }
    // What is uploaded is exactly what the run wrote.
    const upload = job.steps[uploadIdx]!.with!;
    assert.equal(path.normalize(expand(String(upload.path), row)), path.join(config.reportsDir, 'allure-results'));
  }
  if (shards.length) {
    assert.deepEqual(
      [...shards].sort((a, b) => a - b),
      shards.map((_, i) => i + 1),
      'shards 1..n, so the slices cover the suite',
    );
    assert.equal(seen.size, versions.length * shards.length, 'every version × shard runs once');
  }
});

test('nightly workflow: the merge job restores history, merges every artifact, uploads the report, writes the job summary', async () => {
  const suiteId = Object.entries(wf.jobs).find(([, j]) => j.steps.some((s) => /hookpoint run\b/.test(s.run ?? '')))![0];
  const suite = wf.jobs[suiteId]!;
  const merges = Object.entries(wf.jobs).filter(([, j]) => j.steps.some((s) => /hookpoint report\b/.test(s.run ?? '')));
  assert.equal(merges.length, 1, 'exactly one job renders the report');
  const [, job] = merges[0]!;
  assert.ok([job.needs].flat().includes(suiteId), `the merge job needs ${suiteId}`);
  const idx = (pred: (s: Step) => boolean) => job.steps.findIndex(pred);
  const download = idx((s) => Boolean(s.uses?.startsWith('actions/download-artifact')));
  const restore = idx((s) => Boolean(s.uses?.startsWith('actions/cache')) && String(s.with?.path).includes('history'));
  const report = idx((s) => /hookpoint report\b/.test(s.run ?? ''));
  const summary = idx((s) => /GITHUB_STEP_SUMMARY/.test(s.run ?? ''));
  assert.ok(download >= 0 && restore >= 0 && summary >= 0, 'download, history restore and job summary steps');
  assert.ok(
    download < report && restore < report && report < summary,
    'download and restore before the merge, summary after',
  );

  const words = shellWords(commandLines(job.steps[report]!.run!).find((l) => /hookpoint report\b/.test(l))!);
  const { opts } = await parseHookpoint(words.slice(words.indexOf('hookpoint') + 1));
  const out = String(opts.out);
  const merge = (opts.merge as string[]) ?? [];
  assert.ok(merge.length >= 1, 'hookpoint report --merge …');
  // The merge globs cover every uploaded artifact as the download lays them out (<path>/<artifact name>/).
  const dl = job.steps[download]!.with!;
  const uploadName = String(suite.steps.find((s) => s.uses?.startsWith('actions/upload-artifact'))!.with!.name);
  const globRe = (g: string) => new RegExp(`^${g.replace(/[.+^$()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
  const patternRe = globRe(String(dl.pattern ?? '*'));
  for (const row of matrixRows(suite)) {
    const name = expand(uploadName, row);
    assert.match(name, patternRe, `the download pattern takes artifact ${name}`);
    const where = path.join(String(dl.path), name);
    assert.ok(
      merge.some((g) => globRe(path.normalize(g)).test(where)),
      `--merge ${merge.join(' ')} covers ${where}`,
    );
  }
  assert.equal(path.normalize(String(job.steps[restore]!.with!.path)), path.join(out, 'allure-report', 'history'));
  const restoreWith = job.steps[restore]!.with!;
  assert.ok(restoreWith['restore-keys'], "restore-keys, so last night's history is found under a new key");
  assert.ok(
    job.steps.some(
      (s, i) => i > report && s.uses?.startsWith('actions/cache') && String(s.with?.path) === String(restoreWith.path),
    ) || !job.steps[restore]!.uses!.startsWith('actions/cache/restore'),
    "tonight's history is saved for tomorrow",
  );
  assert.ok(
    job.steps.some(
      (s, i) => i > report && s.uses?.startsWith('actions/upload-artifact') && String(s.with?.path).includes(out),
    ),
    'the report is uploaded',
  );
  const summaryWords = shellWords(commandLines(job.steps[summary]!.run!)[0]!);
  assert.equal(path.normalize(summaryWords[1]!), path.join(out, 'summary.md'));
});

test('nightly workflow: every run line is an npm script or a built hookpoint subcommand with options it accepts', async () => {
  const program = await buildProgram();
  const built = new Set(program.commands.filter((c) => !/not built yet/.test(c.description())).map((c) => c.name()));
  let checked = 0;
  for (const { id, job, step } of allSteps) {
    if (step.run === undefined) continue;
    const run: string = step.run;
    for (const row of matrixRows(job)) {
      const lines: string[] = commandLines(expand(run, row));
      for (const line of lines) {
        const w: string[] = shellWords(line);
        const where: string = `job ${id}: ${line}`;
        checked++;
        if (w[0] === 'npm' && w[1] === 'ci') {
          assert.equal(w.length, 2, where);
        } else if (w[0] === 'npm' && w[1] === 'run') {
          assert.ok(w[2] && w[2] in PACKAGE.scripts, `${where}: no npm script "${w[2]}" in package.json`);
        } else if (w[0] === 'npx' && w[1] === 'hookpoint') {
          assert.ok(built.has(w[2]!), `${where}: "${w[2]}" is not a built hookpoint subcommand`);
          await assert.doesNotReject(parseHookpoint(w.slice(2)), `${where}: options not accepted`);
        } else if (w[0] === 'cat') {
          // The one shell line: appending the Markdown summary to the job summary.
          assert.deepEqual(w.slice(2), ['>>', '$GITHUB_STEP_SUMMARY'], where);
        } else {
          assert.fail(`${where}: neither an npm script nor a hookpoint subcommand`);
        }
      }
    }
  }
  assert.ok(checked >= 4, `run lines checked: ${checked}`);
});

test('the run-line checker rejects what it should (unknown subcommand, unknown option, bad value)', async () => {
  await assert.rejects(parseHookpoint(['run', '--no-such-flag']));
  await assert.rejects(parseHookpoint(['nonexistent']));
  const { opts } = await parseHookpoint(['run', '--backend', 'kind', '--cilium', '1.17']);
  assert.throws(() => loadConfig(opts as never, {}), /Invalid --cilium "1\.17"/);
  assert.deepEqual(shellWords(`cat "a b" 'c d' e\\ f`), ['cat', 'a b', 'c d', 'e f']);
  assert.throws(() => expand(['x $', '{{ github.event.inputs.x }}'].join(''), {}), /only use/);
});
