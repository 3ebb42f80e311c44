/** Backend liveness probe: ss output → listener state; a pod without a listener breaks the window as "backend exited". */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend, ExecTarget } from '../../support/backends/types.ts';
import { InfraError } from '../../support/errors.ts';
import { checkListeners, expectBackendsAlive, listenerState, ssArgv } from '../../support/probes/listeners.ts';

const LISTEN = 'LISTEN 0      511          0.0.0.0:80        0.0.0.0:*\n';

describe('listener probe', () => {
  it('reads ss: a LISTEN line is alive, no line is exited, a failed ss is unchecked', () => {
    assert.equal(listenerState('echo-a', 80, 0, LISTEN, '').state, 'listening');
    assert.equal(listenerState('echo-a', 80, 0, '', '').state, 'exited');
    assert.equal(listenerState('echo-a', 80, 127, '', 'ss: not found').state, 'unchecked');
    assert.deepEqual(ssArgv(8080), ['ss', '-H', '-t', '-l', '-n', 'sport', '=', ':8080']);
  });

  it('asks each pod in its own namespace and names the dead one as "backend exited" with the evidence', async () => {
    const asked: string[] = [];
    const backend = {
      async exec(t: ExecTarget, argv: readonly string[]) {
        const pod = t.kind === 'pod' ? t.pod : '?';
        asked.push(`${pod} ${argv.join(' ')}`);
        return {
          argv: [...argv],
          exitCode: 0,
          stdout: pod === 'echo-b' ? '' : LISTEN,
          stderr: '',
          durationMs: 1,
          record: { argv: [...argv] },
        };
      },
    } as unknown as Backend;
    const ev = await checkListeners(backend, [
      { pod: 'echo-a', port: 80 },
      { pod: 'echo-b', port: 80 },
    ]);
    assert.equal(asked.length, 2);
    assert.match(ev.summary, /1 of 2 backend pods have no listener: echo-b:80/);
    assert.throws(
      () => expectBackendsAlive({ ...ev, attachment: '05-listeners-backend-pods.txt' }),
      (err: unknown) =>
        err instanceof InfraError &&
        /^backend exited: .*pod echo-b .*evidence 05-listeners-backend-pods\.txt/.test(err.message) &&
        !/echo-a/.test(err.message),
    );
    expectBackendsAlive({ ...ev, data: ev.data.filter((s) => s.pod === 'echo-a') });
  });
});
