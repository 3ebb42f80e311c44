/**
 * When the lab refuses Helm values, its message names the capability tag that skips such
 * scenarios; that tag exists: the lab lacks the capability, the Kubernetes backends have it, and
 * the run leaves scenarios carrying it out of the lab's cluster.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterBackend } from '../../support/backends/k8s/cluster-backend.ts';
import { LAB_SKIP_HINT, LabBackend } from '../../support/backends/lab/backend.ts';
import { LAB_DESCRIPTOR } from '../../support/backends/lab/descriptor.ts';
import { requiredCapabilities, requiresTag } from '../../support/backends/types.ts';
import { UsageError } from '../../support/errors.ts';
import { checkHelmValues } from '../../support/helm-values.ts';

const TAG = requiresTag('helm-values');

describe('the tag named when the lab refuses Helm values', () => {
  it('is named by both refusals (a key the lab does not know, a value it cannot reproduce)', () => {
    assert.throws(
      () => checkHelmValues({ 'hubble.enabled': 'true' }, LAB_DESCRIPTOR, TAG),
      (e: unknown) => e instanceof UsageError && e.paragraph().includes(TAG),
    );
    assert.match(LAB_SKIP_HINT, /tag its scenarios @requires:helm-values so the lab skips them/);
  });

  it('exists: the lab lacks the capability, the Kubernetes backends have it', () => {
    assert.deepEqual(requiredCapabilities(['@seed', TAG]), ['helm-values']);
    assert.equal(new LabBackend({}).capabilities().has('helm-values'), false);
    const k8s = new ClusterBackend({ name: 'existing', cluster: 'c', kubeconfig: '/dev/null', nodeAccess: 'probe' });
    assert.equal(k8s.capabilities().has('helm-values'), true);
  });
});
