/**
 * Backend liveness probe: ss output → listener state. A pod without any listener breaks the window
 * as "backend exited"; a pod listening elsewhere than the target port is "nothing listening on the
 * target port", naming the service's port, target port and the listeners seen — never "exited".
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Backend, ExecTarget } from '../../support/backends/types.ts';
import { InfraError } from '../../support/errors.ts';
import {
  checkListeners,
  expectBackendsAlive,
  listenerState,
  parseListeners,
  ssArgv,
} from '../../support/probes/listeners.ts';

const LISTEN = 'tcp LISTEN 0      511          0.0.0.0:80        0.0.0.0:*\n';
const UDP = 'udp UNCONN 0      0            0.0.0.0:5353      0.0.0.0:*\n';

function fakeBackend(out: Record<string, string>, asked: string[] = []): Backend {
  return {
    async exec(t: ExecTarget, argv: readonly string[]) {
      const pod = t.kind === 'pod' ? t.pod : '?';
      asked.push(`${pod} ${argv.join(' ')}`);
      return {
        argv: [...argv],
        exitCode: 0,
        stdout: out[pod] ?? '',
        stderr: '',
        durationMs: 1,
        record: { argv: [...argv] },
      };
    },
  } as unknown as Backend;
}

describe('listener probe', () => {
  it('reads ss: the port listening, other ports only, none at all, a failed ss', () => {
    assert.deepEqual(parseListeners(LISTEN + UDP), ['tcp 80', 'udp 5353']);
    assert.equal(listenerState({ pod: 'echo-a', port: 80 }, 0, LISTEN, '').state, 'listening');
    assert.equal(listenerState({ pod: 'echo-a', port: 5353, protocol: 'UDP' }, 0, LISTEN + UDP, '').state, 'listening');
    assert.equal(listenerState({ pod: 'echo-a', port: 5353 }, 0, LISTEN + UDP, '').state, 'not-listening');
    assert.equal(listenerState({ pod: 'echo-a', port: 80 }, 0, '', '').state, 'exited');
    assert.equal(listenerState({ pod: 'echo-a', port: 80 }, 127, '', 'ss: not found').state, 'unchecked');
    assert.deepEqual(ssArgv(), ['ss', '-H', '-l', '-n', '-t', '-u']);
  });

  it('asks each pod in its own namespace and names the dead one as "backend exited" with the evidence', async () => {
    const asked: string[] = [];
    const ev = await checkListeners(fakeBackend({ 'echo-a': LISTEN }, asked), [
      { pod: 'echo-a', port: 80 },
      { pod: 'echo-b', port: 80 },
    ]);
    assert.equal(asked.length, 2);
    assert.match(ev.summary, /1 of 2 backend pods have no listener on the port: echo-b:80\/TCP/);
    assert.throws(
      () => expectBackendsAlive({ ...ev, attachment: '05-listeners-backend-pods.txt' }),
      (err: unknown) =>
        err instanceof InfraError &&
        /^backend exited: .*pod echo-b .*evidence 05-listeners-backend-pods\.txt/.test(err.message) &&
        !/echo-a/.test(err.message),
    );
    expectBackendsAlive({ ...ev, data: ev.data.filter((s) => s.pod === 'echo-a') });
  });

  it('a service whose target port nothing serves: "nothing listening on the target port", never "exited"', async () => {
    const service = { name: 'web', port: 8080, targetPort: 8080 };
    const ev = await checkListeners(fakeBackend({ 'echo-a': LISTEN + UDP, 'echo-b': LISTEN }), [
      { pod: 'echo-a', port: 8080, service },
      { pod: 'echo-b', port: 8080, service },
    ]);
    assert.throws(
      () => expectBackendsAlive({ ...ev, attachment: '05-listeners-backend-pods.txt' }),
      (err: unknown) =>
        err instanceof InfraError &&
        /^nothing listening on the target port: service "web" sends port 8080 to target port 8080\/TCP/.test(
          err.message,
        ) &&
        /pod echo-a listens only on tcp 80, udp 5353; pod echo-b listens only on tcp 80/.test(err.message) &&
        /evidence 05-listeners/.test(err.message) &&
        !/exited/.test(err.message) &&
        /target port 80/.test(err.hint ?? ''),
    );
  });
});
