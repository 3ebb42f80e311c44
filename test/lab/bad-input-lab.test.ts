/**
 * Bad input that needs root or the lab to show: not root (run as nobody through setpriv),
 * missing tools (a PATH without them), Helm values the lab cannot reproduce, names unknown to a
 * lab. Same contract as test/unit/bad-input.test.ts: documented exit code, one paragraph naming
 * the input and a fix, no stack, nothing left (no namespace, mount, run directory or process).
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { which } from '../../support/exec/index.ts';
import {
  BACKGROUND,
  cli,
  expectNothingLeft,
  expectParagraph,
  scenario,
  tempDir,
  writeFeature,
} from '../unit/helpers/hardening.ts';

const root = process.getuid?.() === 0;
const dir = tempDir('badlab');
chmodSync(dir, 0o755);
const reports = path.join(dir, 'reports');
mkdirSync(reports);
chmodSync(reports, 0o777);
const STATE = process.env.HOOKPOINT_LAB_STATE || '/run/hookpoint/lab';
const cluster = `hphard-l${process.pid % 100000}`;
after(async () => {
  if (existsSync(path.join(STATE, cluster))) await cli(['lab', 'down', '--cluster', cluster]);
  rmSync(dir, { recursive: true, force: true });
});

const STEPS = 'When pod "client" sends 3 HTTP requests to service "echo"\nThen all 3 requests succeed';

async function nothingLeft(): Promise<void> {
  await expectNothingLeft([dir, cluster], cluster, 10_000);
  if (existsSync(path.join(STATE, cluster))) throw new Error(`the run directory ${path.join(STATE, cluster)} is left`);
}

describe('bad input on the lab', { skip: root ? false : 'needs root', concurrency: 1 }, () => {
  test('lab not root (run as nobody): exit 3, says to rerun as root', {
    skip: which('setpriv') ? false : 'no setpriv',
  }, async () => {
    const file = writeFeature(dir, 'nobody.feature', scenario(STEPS));
    chmodSync(file, 0o644);
    const res = await cli(['run', file, '--reports', path.join(reports, 'nobody'), '--cluster', cluster], {
      prefix: ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'],
    });
    expectParagraph(res, 3, ['lab backend', 'root'], /sudo -E npx hookpoint/);
    await nothingLeft();
  });

  test('missing tools (PATH without them): exit 3, names the tools and the apt command', async () => {
    const file = writeFeature(dir, 'path.feature', scenario(STEPS));
    const res = await cli(['run', file, '--reports', reports, '--cluster', cluster], {
      env: { PATH: path.join(dir, 'empty-bin') },
    });
    expectParagraph(
      res,
      3,
      ['lab backend cannot run', 'tcpdump'],
      /apt-get install -y .*hookpoint doctor --backend lab/,
    );
    await nothingLeft();
  });

  test('the tag the refusal names exists: @requires:helm-values skips the scenario on the lab, nothing provisioned', async () => {
    const file = writeFeature(
      dir,
      'kpr-tagged.feature',
      scenario(STEPS, BACKGROUND.replace('| false      |', '| true       |')).replace(
        '  Scenario: case',
        '  @requires:helm-values\n  Scenario: case',
      ),
    );
    const res = await cli(['run', file, '--reports', path.join(reports, 'tagged'), '--cluster', cluster]);
    assert.equal(res.exitCode, 0, res.stderr);
    assert.match(res.stdout, /1 scenario — 0 passed, 0 failed, 0 broken, 1 skipped/);
    assert.doesNotMatch(res.stdout, /provisioning/);
    await nothingLeft();
  });

  test("routingMode=tunnel with the seed's autoDirectNodeRoutes=true is refused as Cilium's agent refuses it: exit 2", async () => {
    const file = writeFeature(
      dir,
      'tunnel.feature',
      scenario(STEPS, BACKGROUND.replace('| native     |', '| tunnel     |')),
    );
    const res = await cli(['run', file, '--reports', reports, '--cluster', cluster]);
    expectParagraph(res, 2, ['routingMode=tunnel', 'autoDirectNodeRoutes=true'], /Set autoDirectNodeRoutes to false/);
    await nothingLeft();
  });

  test("lab exec exits with the command's own status, 127 when the program does not exist", async () => {
    const up = await cli(['lab', 'up', '--cluster', cluster], { timeoutMs: 120_000 });
    assert.equal(up.exitCode, 0, up.stderr);
    try {
      const own = await cli(['lab', 'exec', '--cluster', cluster, 'worker', '--', 'sh', '-c', 'echo out; exit 3']);
      assert.equal(own.exitCode, 3, own.stderr);
      assert.equal(own.stdout.trim(), 'out');
      const none = await cli(['lab', 'exec', '--cluster', cluster, 'worker', '--', 'no-such-program-hp', '-x']);
      assert.equal(none.exitCode, 127);
      assert.match(none.stderr, /^hookpoint: no-such-program-hp: command not found \(on node /);
      assert.equal(none.stderr.trim().split('\n').length, 1, 'one line');
      // The node's own /sys, as in `docker exec` into a kind node: its devices, not the host's.
      const sys = await cli(['lab', 'exec', '--cluster', cluster, 'worker', '--', 'sh', '-c', 'ls /sys/class/net']);
      const ip = await cli(['lab', 'exec', '--cluster', cluster, 'worker', '--', 'ip', '-o', 'link', 'show']);
      assert.equal(sys.exitCode, 0, sys.stderr);
      const names = ip.stdout.split('\n').flatMap((l) => /^\d+: ([^:@]+)/.exec(l)?.[1] ?? []);
      assert.ok(names.includes('cilium_host'), ip.stdout);
      assert.deepEqual(sys.stdout.trim().split(/\s+/).sort(), names.sort());
    } finally {
      const down = await cli(['lab', 'down', '--cluster', cluster]);
      assert.equal(down.exitCode, 0, down.stderr);
    }
    await nothingLeft();
  });

  test('lab exec on a lab that does not exist: exit 2, says how to create it', async () => {
    const res = await cli(['lab', 'exec', '--cluster', cluster, 'worker', '--', 'ip', 'link']);
    expectParagraph(res, 2, [`"${cluster}"`], /hookpoint lab up/);
    await nothingLeft();
  });
});
