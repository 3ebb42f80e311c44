/**
 * `hookpoint doctor --backend existing` checks what that backend needs — kubectl and a kubeconfig
 * whose cluster answers (with --context), helm optional — and not Docker or kind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkExisting } from '../../support/backends/kind/host-checks.ts';
import { ScriptedExecutor } from '../../support/backends/kind/testing/scripted-executor.ts';
import { InfraError } from '../../support/errors.ts';
import { blocking } from '../../support/run/prerequisites.ts';

const missing = (tool: string) => () => {
  throw new InfraError(`Could not run ${tool} version on host: ${tool} is not installed or not on PATH.`);
};

describe('doctor checks for existing', () => {
  it('kubectl and a reachable kubeconfig with its context; helm missing is a warning; no docker or kind', async () => {
    const exec = new ScriptedExecutor()
      .on(['kubectl', 'version', '--client'], { stdout: 'Client Version: v1.30.0\n' })
      .on(['kubectl', '--kubeconfig', '/k/config', '--context', 'prod', 'version'], {
        stdout: 'Client Version: v1.30.0\nServer Version: v1.29.4\n',
      })
      .on(['helm', 'version'], missing('helm'));
    const checks = await checkExisting({ kubeconfig: '/k/config', context: 'prod' }, exec);
    assert.deepEqual(
      checks.map((c) => [c.name, c.ok, Boolean(c.optional)]),
      [
        ['kubectl', true, false],
        ['kubeconfig', true, false],
        ['helm', false, true],
      ],
    );
    assert.match(checks[1]!.detail, /\/k\/config \(context prod\): cluster reachable, Kubernetes v1\.29\.4/);
    assert.match(checks[2]!.detail, /values are not checked/);
    assert.deepEqual(blocking(checks), [], 'helm is optional');
    assert.equal(exec.matching(['docker']).length + exec.matching(['kind']).length, 0, 'no docker, no kind');
  });

  it('a cluster that does not answer, or no kubeconfig at all, blocks with the fix', async () => {
    const exec = new ScriptedExecutor()
      .on(['kubectl', 'version', '--client'], { stdout: 'Client Version: v1.30.0\n' })
      .on(['kubectl', '--kubeconfig', '/k/config', 'version'], {
        exitCode: 1,
        stderr: 'Unable to connect to the server: dial tcp 10.0.0.1:6443: i/o timeout\n',
      })
      .on(['helm', 'version'], { stdout: 'v3.14.4\n' });
    const down = await checkExisting({ kubeconfig: '/k/config' }, exec);
    assert.deepEqual(
      blocking(down).map((c) => c.name),
      ['kubeconfig'],
    );
    assert.match(down[1]!.detail, /does not answer: Unable to connect/);
    assert.match(down[1]!.install!, /--kubeconfig FILE/);
    const none = await checkExisting(
      {},
      new ScriptedExecutor().on(['kubectl'], { stdout: 'v1\n' }).on(['helm'], { stdout: 'v3\n' }),
    );
    assert.deepEqual(
      blocking(none).map((c) => [c.name, c.detail]),
      [['kubeconfig', 'no kubeconfig given (--kubeconfig or KUBECONFIG)']],
    );
  });
});
