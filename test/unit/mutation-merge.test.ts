import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeReports, score } from '../../scripts/mutation-merge.ts';

const part = (
  file: string,
  tests: string[],
  mutants: Array<{ status: string; coveredBy?: string[]; killedBy?: string[] }>,
) => ({
  schemaVersion: '2',
  files: { [file]: { language: 'typescript', source: '', mutants: mutants.map((m, i) => ({ id: String(i), ...m })) } },
  testFiles: Object.fromEntries(tests.map((t, i) => [t, { source: t, tests: [{ id: String(i), name: t }] }])),
});

test('merge: test ids renumbered by name, so each mutant still names the tests that covered and killed it', () => {
  const a = part(
    'support/a.ts',
    ['test/x.test.ts', 'test/y.test.ts'],
    [
      { status: 'Killed', coveredBy: ['0', '1'], killedBy: ['1'] },
      { status: 'Survived', coveredBy: ['0'] },
    ],
  );
  // The same numbers mean other tests in the second run.
  const b = part(
    'support/b.ts',
    ['test/y.test.ts', 'test/z.test.ts'],
    [
      { status: 'Timeout', coveredBy: ['1'], killedBy: ['1'] },
      { status: 'NoCoverage', coveredBy: [] },
    ],
  );
  const m = mergeReports([a, b]);
  const name = (id: string) =>
    Object.values(m.testFiles!)
      .flatMap((f) => f.tests)
      .find((t) => t.id === id)!.name;
  assert.deepEqual(Object.keys(m.files).sort(), ['support/a.ts', 'support/b.ts']);
  assert.deepEqual(m.files['support/a.ts']!.mutants[0]!.killedBy!.map(name), ['test/y.test.ts']);
  assert.deepEqual(m.files['support/a.ts']!.mutants[0]!.coveredBy!.map(name), ['test/x.test.ts', 'test/y.test.ts']);
  assert.deepEqual(m.files['support/b.ts']!.mutants[0]!.killedBy!.map(name), ['test/z.test.ts']);
  const ids = Object.values(m.testFiles!).flatMap((f) => f.tests.map((t) => t.id));
  assert.equal(new Set(ids).size, 3, `one id per test: ${ids}`);
  assert.deepEqual(score(m), { detected: 2, scored: 4, percent: 50 });
});

test('merge: a later part replaces an earlier part of the same file; a dangling test id is an error', () => {
  const old = part('support/a.ts', ['test/x.test.ts'], [{ status: 'Survived', coveredBy: ['0'] }]);
  const now = part('support/a.ts', ['test/x.test.ts'], [{ status: 'Killed', coveredBy: ['0'], killedBy: ['0'] }]);
  assert.equal(score(mergeReports([old, now])).percent, 100);
  assert.throws(() => mergeReports([part('support/a.ts', [], [{ status: 'Killed', killedBy: ['7'] }])]), /test 7/);
  assert.throws(() => mergeReports([]), /no reports/);
});
