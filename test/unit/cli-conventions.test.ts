/**
 * CLI conventions: `--version`; counts that read "1 scenario"; `doctor --backend existing` checks
 * kubectl and a kubeconfig, not Docker or kind. The real CLI as a child process.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cli, REPO, scenario, tempDir, writeFeature } from './helpers/hardening.ts';

const dir = tempDir('conventions');
after(() => rmSync(dir, { recursive: true, force: true }));

describe('CLI conventions', () => {
  it('--version prints the version of package.json and exits 0', async () => {
    const res = await cli(['--version']);
    const { version } = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    assert.equal(res.exitCode, 0, res.stderr);
    assert.equal(res.stdout.trim(), version);
  });

  it('counts read "1 scenario" (list and dry run)', async () => {
    const file = writeFeature(
      dir,
      'one.feature',
      scenario('When pod "client" sends 3 HTTP requests to service "echo"\nThen all 3 requests succeed'),
    );
    const list = await cli(['run', file, '--list', '--backend', 'lab']);
    assert.equal(list.exitCode, 0, list.stderr);
    assert.match(list.stdout, /^1 scenario$/m);
    const dry = await cli(['run', file, '--dry-run', '--backend', 'lab']);
    assert.equal(dry.exitCode, 0, dry.stderr);
    assert.match(dry.stdout, /dry run: 1 scenario, \d+ steps, every step defined/);
  });

  it('doctor --backend existing checks kubectl and the kubeconfig (with its context), not docker or kind', async () => {
    const res = await cli(
      ['doctor', '--backend', 'existing', '--kubeconfig', path.join(dir, 'no-such-config'), '--context', 'prod'],
      {
        env: { PATH: path.join(dir, 'empty-bin') },
      },
    );
    assert.equal(res.exitCode, 3, res.stderr);
    const names = res.stdout
      .split('\n')
      .filter((l) => /^(ok {2}|MISS|warn) /.test(l))
      .map((l) => l.slice(5).split(/\s+/)[0]);
    assert.deepEqual(names.slice(2), ['kubectl', 'kubeconfig', 'helm'], res.stdout);
    assert.match(res.stdout, /^warn helm .*optional/m);
    assert.match(res.stdout, /cannot run here: kubectl, kubeconfig missing/);
    assert.doesNotMatch(res.stdout, /docker|\bkind\b/);
  });
});
