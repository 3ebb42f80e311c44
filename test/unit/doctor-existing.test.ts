/**
 * `hookpoint doctor --backend existing` checks what that backend needs — kubectl and a kubeconfig
 * whose cluster answers (with --context), helm optional — and not Docker or kind. What it checks
 * is the backend's declaration (its descriptor); the kubeconfig check runs kubectl.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EXISTING_DESCRIPTOR } from '../../support/backends/existing/descriptor.ts';
import { checkKubeconfig } from '../../support/backends/kind/host-checks.ts';
import { blocking, type Check } from '../../support/run/prerequisites.ts';
import { ScriptedExecutor } from './helpers/kind/scripted-executor.ts';

describe('doctor checks for existing', () => {
  it('declares kubectl and a kubeconfig as required, helm and Java optional, no docker or kind', () => {
    assert.deepEqual(
      EXISTING_DESCRIPTOR.doctor.map((r) => [r.check, r.required]),
      [
        ['node', true],
        ['java', false],
        ['kubectl', true],
        ['kubeconfig', true],
        ['helm', false],
      ],
    );
    assert.match(EXISTING_DESCRIPTOR.doctor.find((r) => r.check === 'helm')!.withoutIt!, /values are not checked/);
  });

  it('a reachable kubeconfig with its context passes; a missing helm does not block', async () => {
    const exec = new ScriptedExecutor().on(['kubectl', '--kubeconfig', '/k/config', '--context', 'prod', 'version'], {
      stdout: 'Client Version: v1.30.0\nServer Version: v1.29.4\n',
    });
    const ok = await checkKubeconfig({ kubeconfig: '/k/config', context: 'prod' }, exec);
    assert.deepEqual([ok.name, ok.ok], ['kubeconfig', true]);
    assert.match(ok.detail, /\/k\/config \(context prod\): cluster reachable, Kubernetes v1\.29\.4/);
    const helm: Check = { name: 'helm', ok: false, detail: 'helm is not installed or not on PATH' };
    assert.deepEqual(blocking([ok, helm], 'existing'), [], 'helm is optional on existing');
    assert.deepEqual(
      blocking([ok, helm], 'kind').map((c) => c.name),
      ['helm'],
      'but required on kind',
    );
  });

  it('a cluster that does not answer, or no kubeconfig at all, blocks with the fix', async () => {
    const exec = new ScriptedExecutor().on(['kubectl', '--kubeconfig', '/k/config', 'version'], {
      exitCode: 1,
      stderr: 'Unable to connect to the server: dial tcp 10.0.0.1:6443: i/o timeout\n',
    });
    const down = await checkKubeconfig({ kubeconfig: '/k/config' }, exec);
    assert.equal(down.ok, false);
    assert.match(down.detail, /\/k\/config: the cluster does not answer: Unable to connect/);
    assert.match(down.install!, /--kubeconfig FILE/);
    assert.deepEqual(blocking([down], 'existing'), [down]);
    const none = await checkKubeconfig({}, new ScriptedExecutor());
    assert.deepEqual([none.ok, none.detail], [false, 'no kubeconfig given (--kubeconfig or KUBECONFIG)']);
  });
});
