import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend, ExecTarget } from '../../support/backends/types.ts';
import { InfraError } from '../../support/errors.ts';
import type { BackgroundProcess, RunResult } from '../../support/exec/index.ts';
import { startMonitor } from '../../support/probes/monitor.ts';

interface Script {
  /** Printed right away (the reader's ready line), or nothing. */
  first?: string;
  /** Printed during the window (after start). */
  later?: string;
  /** When `later` is printed, ms after the start (default 5). */
  laterMs?: number;
  /** The backend's name (default lab): its descriptor gives the default settle time. */
  backend?: 'lab' | 'kind';
  /** Printed on stderr right away. */
  errFirst?: string;
  /** The process dies right away with this exit code. */
  dies?: number;
  stderr?: string;
}

function fakeSpawner(script: Script) {
  const spawned: Array<{ target: ExecTarget; argv: string[]; maxMs?: number; stopped: number }> = [];
  const backend = {
    name: script.backend ?? 'lab',
    spawn(target: ExecTarget, argv: readonly string[], opts?: { maxMs?: number }): BackgroundProcess {
      const rec = { target, argv: [...argv], maxMs: opts?.maxMs, stopped: 0 };
      spawned.push(rec);
      let out = script.first ?? '';
      let alive = script.dies === undefined;
      const result = (): RunResult => ({
        argv: [...argv],
        exitCode: script.dies ?? -1,
        stdout: out,
        stderr: (script.errFirst ?? '') + (script.stderr ?? ''),
        durationMs: 5,
        record: {
          seq: 1,
          where: 'agent',
          argv: ['ip', 'netns', 'exec', 'cp', ...argv],
          exitCode: script.dies ?? null,
          signal: script.dies === undefined ? 'SIGTERM' : null,
          timedOut: false,
          durationMs: 5,
          startedAt: new Date(0).toISOString(),
          stdout: out,
          stderr: '',
          background: true,
        },
      });
      setTimeout(() => {
        if (alive) out += script.later ?? '';
      }, script.laterMs ?? 5);
      return {
        pid: 1,
        output: () => out,
        running: () => alive,
        exited: Promise.resolve(null),
        async waitFor(re: RegExp, timeoutMs: number) {
          if (re.test(out + (script.errFirst ?? ''))) return;
          if (!alive) throw new InfraError('exited before printing');
          await new Promise((r) => setTimeout(r, timeoutMs));
          if (!re.test(out)) throw new InfraError(`Timed out after ${timeoutMs} ms`);
        },
        async stop() {
          rec.stopped++;
          alive = false;
          return result();
        },
      };
    },
  } as unknown as Backend;
  return { backend, spawned };
}

const EVENTS = `-> stack flow 0x9d1c2a07 , identity 41467->20391 state new ifindex 0 orig-ip 0.0.0.0: 10.244.0.10:40001 -> 10.244.1.30:80 tcp SYN
-> endpoint 2103 flow 0x5e0f4c11 , identity 41467->20391 state new ifindex lxc2420d7527a95 orig-ip 10.244.0.10: 10.244.0.10:40003 -> 10.244.0.20:80 tcp SYN
`;

const BANNER = 'Listening for events on 2 CPUs with 64x4096 of shared memory\nPress Ctrl-C to quit\n';

test('monitor: cilium-dbg monitor --type trace on the agent of the node; ready at its "Press Ctrl-C to quit" (stderr)', async () => {
  const { backend, spawned } = fakeSpawner({ errFirst: BANNER, later: EVENTS });
  const t0 = Date.now();
  const mon = await startMonitor(backend, 'cilium-kubeproxy-control-plane', { settleMs: 20 });
  assert.ok(Date.now() - t0 < 500, 'resolves at the ready line, without waiting for the bounded delay');
  assert.deepEqual(spawned[0]!.target, { kind: 'agent', node: 'cilium-kubeproxy-control-plane' });
  assert.deepEqual(spawned[0]!.argv, ['cilium-dbg', 'monitor', '--type', 'trace']);
  assert.ok((spawned[0]!.maxMs ?? 0) > 0, 'the reader is bounded');
  const ev = await mon.stop();
  assert.equal(spawned[0]!.stopped, 1);
  assert.equal(ev.kind, 'monitor');
  assert.equal(ev.where, 'node cilium-kubeproxy-control-plane');
  assert.deepEqual(ev.commands, ['ip netns exec cp cilium-dbg monitor --type trace']);
  const traces = ev.data.filter((e) => e.type === 'trace');
  assert.equal(traces.length, 2);
  assert.match(ev.summary, /2 trace events \(1 -> endpoint, 1 -> stack\)$/);
  assert.strictEqual(await mon.stop(), ev, 'stop is idempotent');
  assert.equal(spawned[0]!.stopped, 1);
});

test('monitor: by default it reads on for the settle time of the backend, so events still in flight when the traffic ends are kept', async () => {
  // The lab's events reach the reader within two polls of its trace stream; kind's cross the agent and the exec stream.
  for (const [backend, laterMs] of [
    ['lab', 60],
    ['kind', 180],
  ] as const) {
    const { backend: b } = fakeSpawner({ errFirst: BANNER, later: EVENTS, laterMs, backend });
    const mon = await startMonitor(b, 'cilium-kubeproxy-control-plane');
    const ev = await mon.stop();
    assert.equal(ev.data.filter((e) => e.type === 'trace').length, 2, `${backend}: events ${laterMs} ms late are read`);
  }
  const { backend: late } = fakeSpawner({ errFirst: BANNER, later: EVENTS, laterMs: 400, backend: 'lab' });
  const ev = await (await startMonitor(late, 'cilium-kubeproxy-control-plane')).stop();
  assert.equal(ev.data.length, 0, 'the reader stops after the settle time, not at the end of the stream');
});

test('monitor: --related-to is passed through; no ready line → starts after the bounded delay and says so', async () => {
  const { backend, spawned } = fakeSpawner({ later: '' });
  const mon = await startMonitor(backend, 'cilium-kubeproxy-worker', { relatedTo: 1573, readyMs: 30, settleMs: 0 });
  assert.deepEqual(spawned[0]!.argv, ['cilium-dbg', 'monitor', '--type', 'trace', '--related-to', '1573']);
  const ev = await mon.stop();
  assert.match(ev.summary, /no ready line within 30 ms/);
});

test('monitor: a reader that dies at start is an InfraError naming the node and the command', async () => {
  const { backend } = fakeSpawner({ dies: 1, stderr: 'Error: cannot connect to the agent socket' });
  await assert.rejects(startMonitor(backend, 'cilium-kubeproxy-worker'), (err: unknown) => {
    assert.ok(err instanceof InfraError);
    assert.match(
      err.message,
      /monitor on node cilium-kubeproxy-worker exited before it was ready: `ip netns exec cp cilium-dbg monitor --type trace` exited with 1 — Error: cannot connect/,
    );
    return true;
  });
});

test('monitor: a complaint on stderr followed by an exit is not mistaken for the ready line', async () => {
  const { backend } = fakeSpawner({
    errFirst: 'hookpoint: Lab "x" runs without the tc datapath (variant no-tc): there is no trace stream\n',
    dies: 2,
  });
  await assert.rejects(startMonitor(backend, 'cilium-kubeproxy-control-plane'), (err: unknown) => {
    assert.ok(err instanceof InfraError);
    assert.match(
      err.message,
      /exited before it was ready: .* exited with 2 — hookpoint: Lab "x" runs without the tc datapath/,
    );
    return true;
  });
});
