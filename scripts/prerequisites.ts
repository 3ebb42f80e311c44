/**
 * `node scripts/prerequisites.ts install|list [run|test]`: the apt packages of support/exec/host-tools.ts.
 * `install` (root, apt) installs what is missing, saying so — `npm test` and `.ci/run` call it, so a
 * fresh Debian gets every tool the tests call (the lab's, Java, Chromium, the kernel tests' own)
 * through the same path as `hookpoint run` installs the lab's. `list` prints the packages, one a line.
 */
import {
  installMissing,
  missingPackages,
  packagesFor,
  RUN_PURPOSES,
  TEST_PURPOSES,
} from '../support/exec/host-tools.ts';

const [verb = 'list', scope = 'test'] = process.argv.slice(2);
const purposes = scope === 'run' ? RUN_PURPOSES : scope === 'test' ? TEST_PURPOSES : null;
if (!purposes || (verb !== 'install' && verb !== 'list')) {
  process.stderr.write('usage: node scripts/prerequisites.ts install|list [run|test]\n');
  process.exit(2);
}
if (verb === 'list') process.stdout.write(`${packagesFor(purposes).join('\n')}\n`);
else {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  try {
    await installMissing(purposes, log, scope === 'test' ? "the tests' prerequisites" : "the lab's prerequisites");
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(3);
  }
  const left = missingPackages(purposes);
  if (left.length && process.getuid?.() === 0) log(`prerequisites still missing (no apt?): ${left.join(' ')}`);
}
