// Mutation testing of the framework's own checks (docs/mutation-testing.md): `npm run test:mutation-score`.
// Stryker copies the repo into .stryker-tmp/; the corpus is found through HOOKPOINT_REAL_WORLD, set
// here from the one owner of its place so the sandboxed tests read the checkout's corpus.
import path from 'node:path';
import { REAL_WORLD_DIR } from './test/unit/helpers/real-world.ts';

const STRIP_CACHE = path.join(import.meta.dirname, 'scripts', 'stryker-strip-cache.mjs');

process.env.HOOKPOINT_REAL_WORLD = REAL_WORLD_DIR;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: ['support/parsers/**/*.ts', 'support/expectations/**/*.ts', 'support/kube-proxy/**/*.ts'],
  testRunner: 'tap',
  // Each test file runs in its own `node` (type stripping, as `npm run test:unit` does); per-file
  // coverage lets a mutant run only the files that reach it. The files: the unit tests of the
  // mutated layers, of the probes that feed them tool output, and of `hookpoint parse` (the parser
  // registry's renderings). Not fuzz.test.ts (74 s a run).
  tap: {
    testFiles: [
      'test/unit/parsers/**/*.test.ts',
      'test/unit/expectations-*.test.ts',
      'test/unit/*kube-proxy*.test.ts',
      'test/unit/probes-*.test.ts',
      'test/unit/*tail-calls*.test.ts',
      'test/unit/lab-{status,monitor-format,datapath-layout}.test.ts',
      // `hookpoint parse`: the parser registry's JSON and table renderings (support/parsers/registry.ts).
      'test/unit/cli-parse.test.ts',
      // The policy reachability matrix (support/expectations/reachability.ts).
      'test/unit/policy.test.ts',
    ],
    forceBail: true,
    // Node strips each module's TypeScript again in every test process (~40 % of its CPU); the
    // hook keeps the stripped JavaScript of the sandbox's unchanging sources and loads it from
    // there: about half the time per test process (scripts/stryker-strip-cache.mjs).
    nodeArgs: [
      '--test-reporter=tap',
      '--disable-warning=ExperimentalWarning',
      '--import',
      STRIP_CACHE,
      '-r',
      '{{hookFile}}',
      '{{testFile}}',
    ],
  },
  coverageAnalysis: 'perTest',
  // A static mutant (a module-level constant: a regex table, a lookup map) is reached while a
  // module loads, so it would run every test file: ~30 s each on 2 shared cores. They are left
  // out of the score (listed as Ignored in the report); docs/mutation-testing.md says so.
  ignoreStatic: true,
  // No type checker and no tsconfig rewrite: TypeScript 7 (the native port) has no JavaScript API
  // for them, the project's tsconfig needs no rewriting (no extends, no references), and Node
  // strips the types of the instrumented files as it does of the sources.
  checkers: [],
  tsconfigFile: 'no-tsconfig-rewrite',
  disableTypeChecks: false,
  concurrency: Number(process.env.HOOKPOINT_MUTATION_CONCURRENCY ?? 2),
  // A mutant that loops forever (a `while` whose index no longer moves) is cut off after the test
  // file's own time × 1.5 plus this; one test file runs well under a second, so 5 s is ample even
  // under load, and each hanging mutant costs 5 s instead of 20.
  timeoutMS: 5000,
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  thresholds: { high: 90, low: 85, break: 85 },
  tempDirName: '.stryker-tmp',
};
