/**
 * Self-verification (issue 11): every check proves it can fail. The seed suite runs against the
 * unmutated lab (must be green) and against each datapath mutation of the table, each on
 * its own lab (`hpmut-<pid>-<n>`), two labs at a time; the named scenarios must turn red as the
 * table says while every other scenario keeps its verdict (see mutations/harness.ts for the
 * collateral and random cells). The kill matrix is printed and written to
 * reports/kill-matrix.md and reports/kill-matrix.json. Every lab is removed in `after`, also on
 * failure, and nothing of it may be left behind.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  judge,
  labDown,
  labUp,
  leftovers,
  MUTATIONS,
  type Mutation,
  type MutationOutcome,
  REPO,
  renderMatrix,
  runSuite,
  SCENARIO_KEYS,
  type ScenarioKey,
  type ScenarioResult,
} from './mutations/harness.ts';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root (network namespaces)';
const PREFIX = `hpmut-${process.pid}`;
/** Two labs at a time: the machine has two cores and most of a mutated run waits on timeouts. */
const LANES = 2;
/** Longest first (timeouts of dropped packets), so the two lanes end together. */
const ORDER = [
  'gateway-arp-wrong-mac',
  'native-route-removed',
  'echo-backend-killed',
  'sep-dnat-removed',
  'counters-unreadable',
  'capture-wrong-interface',
  'tc-removed',
  'local-redirect-off',
];

const created = new Set<string>();
const outcomes = new Map<string, MutationOutcome | Error>();
let baseline: { results: Record<ScenarioKey, ScenarioResult>; exitCode: number; output: string } | Error | undefined;

async function onLab<T>(name: string, body: (h: Awaited<ReturnType<typeof labUp>>) => Promise<T>): Promise<T> {
  created.add(name);
  try {
    return await body(await labUp(name));
  } finally {
    await labDown(name);
  }
}

async function runMutation(m: Mutation, n: number): Promise<void> {
  const started = Date.now();
  try {
    const res = await onLab(`${PREFIX}-${n}`, async (h) => {
      await m.apply?.(h);
      return runSuite(h.cluster, m.during ? () => m.during!(h) : undefined);
    });
    outcomes.set(m.id, judge(m, res.results, Date.now() - started));
  } catch (err) {
    outcomes.set(m.id, err as Error);
  }
}

describe('datapath mutations on the lab: every row of the kill matrix', { skip, timeout: 420_000 }, () => {
  before(async () => {
    const queue: Array<() => Promise<void>> = [
      async () => {
        try {
          baseline = await onLab(`${PREFIX}-0`, (h) => runSuite(h.cluster));
        } catch (err) {
          baseline = err as Error;
        }
      },
      ...[...MUTATIONS]
        .sort((a, b) => ORDER.indexOf(a.id) - ORDER.indexOf(b.id))
        .map((m) => () => runMutation(m, MUTATIONS.indexOf(m) + 1)),
    ];
    // The baseline goes last in the shorter lane: it is the quickest run.
    queue.push(queue.shift()!);
    await Promise.all(
      Array.from({ length: LANES }, async () => {
        for (let job = queue.shift(); job; job = queue.shift()) await job();
      }),
    );
    if (baseline && !(baseline instanceof Error)) {
      const done = MUTATIONS.map((m) => outcomes.get(m.id)).filter(
        (o): o is MutationOutcome => !!o && !(o instanceof Error),
      );
      const md = renderMatrix(baseline.results, done);
      const json = JSON.stringify(
        {
          baseline: baseline.results,
          mutations: done.map((o) => ({
            id: o.id,
            title: o.title,
            durationMs: o.durationMs,
            cells: o.cells,
            results: o.results,
            problems: o.problems,
          })),
        },
        null,
        2,
      );
      mkdirSync(path.join(REPO, 'reports'), { recursive: true });
      writeFileSync(path.join(REPO, 'reports', 'kill-matrix.md'), `# Kill matrix (mutation × scenario)\n\n${md}`);
      writeFileSync(path.join(REPO, 'reports', 'kill-matrix.json'), `${json}\n`);
      process.stdout.write(`\n${md}\n`);
    }
  });

  after(async () => {
    // Normally every lab is already down (onLab); this catches an interrupted before().
    for (const name of created) if (leftovers(name).length) await labDown(name);
  });

  it('the unmutated suite is green on the same machine, in the same run', () => {
    assert.ok(baseline, 'the baseline never ran');
    if (baseline instanceof Error) throw baseline;
    const { results } = baseline;
    const red = SCENARIO_KEYS.filter((k) => results[k].status !== 'passed');
    assert.deepEqual(
      red.map((k) => `${k}: ${results[k].status} ${results[k].message.slice(0, 200)}`),
      [],
    );
    assert.equal(baseline.exitCode, 0, baseline.output.slice(-2000));
  });

  for (const m of MUTATIONS) {
    it(`${m.id}: ${m.title}`, () => {
      const o = outcomes.get(m.id);
      assert.ok(o, `mutation ${m.id} never ran`);
      if (o instanceof Error) throw o;
      assert.deepEqual(o.problems, []);
      // The mutation really killed something: a check that cannot fail would pass here.
      assert.ok(SCENARIO_KEYS.some((k) => o.cells[k].expected === 'red' && o.results[k].status !== 'passed'));
    });
  }

  it('leaves nothing behind: no namespaces, run directories or mounts of its labs', () => {
    const left = [...created].flatMap(leftovers);
    assert.deepEqual(left, []);
    assert.equal(created.size, MUTATIONS.length + 1);
  });
});
