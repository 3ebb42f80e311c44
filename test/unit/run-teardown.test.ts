/**
 * The last configuration's teardown runs while the reports render (run-suite.ts): its error must
 * still decide the run's exit when nothing else failed, and must not hide an earlier failure.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InfraError } from '../../support/errors.ts';
import { afterTeardown } from '../../support/run/run-suite.ts';

describe('afterTeardown', () => {
  it('waits for the teardown: a clean one leaves the outcome as it was', async () => {
    let ended = false;
    const teardown = new Promise<undefined>((resolve) =>
      setTimeout(() => {
        ended = true;
        resolve(undefined);
      }, 20),
    );
    const lines: string[] = [];
    assert.equal(await afterTeardown(undefined, teardown, (l) => lines.push(l)), undefined);
    assert.ok(ended, 'it returned only once the teardown ended');
    const earlier = new InfraError('provisioning failed');
    assert.equal(await afterTeardown(earlier, Promise.resolve(undefined), (l) => lines.push(l)), earlier);
    assert.equal(await afterTeardown(undefined, undefined, (l) => lines.push(l)), undefined);
    assert.deepEqual(lines, []);
  });

  it('a teardown error is the failure of a run that had none', async () => {
    const err = new InfraError('ip netns delete failed');
    const lines: string[] = [];
    assert.equal(await afterTeardown(undefined, Promise.resolve(err), (l) => lines.push(l)), err);
    assert.deepEqual(lines, []);
  });

  it('a teardown error after another failure is logged, and the first failure stays', async () => {
    const first = new InfraError('the cluster did not come up');
    const lines: string[] = [];
    const got = await afterTeardown(first, Promise.resolve(new InfraError('kind delete failed')), (l) => lines.push(l));
    assert.equal(got, first);
    assert.deepEqual(lines, ['hookpoint: teardown also failed: kind delete failed']);
  });
});
