import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Backend, ExecTarget, Topology } from '../../support/backends/types.ts';
import { InfraError, UsageError } from '../../support/errors.ts';
import type { BackgroundProcess, RunResult } from '../../support/exec/index.ts';
import { type CapturePoint, startCapture } from '../../support/probes/capture.ts';

const TOPO: Topology = {
  cluster: 'cilium-kubeproxy',
  nodes: [
    { name: 'cilium-kubeproxy-control-plane', role: 'control-plane', ip: '172.18.0.2', podCIDR: '10.244.0.0/24' },
    { name: 'cilium-kubeproxy-worker', role: 'worker', ip: '172.18.0.3', podCIDR: '10.244.1.0/24' },
  ],
  pods: [
    {
      name: 'client',
      namespace: 'default',
      node: 'cilium-kubeproxy-control-plane',
      ip: '10.244.0.10',
      hostVeth: 'lxcd2a04d71301a',
    },
    { name: 'nohost', namespace: 'default', node: 'cilium-kubeproxy-worker', ip: '10.244.1.9' },
  ],
  services: [],
};

const dir = mkdtempSync(join(tmpdir(), 'hookpoint-capture-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A classic little-endian pcap with one Ethernet/IPv4/TCP SYN 10.244.0.10:40001 → 10.244.1.30:80. */
function synPcap(): Buffer {
  const head = Buffer.alloc(24);
  head.writeUInt32LE(0xa1b2c3d4, 0);
  head.writeUInt16LE(2, 4);
  head.writeUInt16LE(4, 6);
  head.writeUInt32LE(262144, 16);
  head.writeUInt32LE(1, 20);
  const frame = Buffer.alloc(54);
  Buffer.from([0x76, 0xf0, 0xbd, 0x76, 0x76, 0x77, 0x12, 0x94, 0x43, 0xde, 0xb3, 0xc0, 0x08, 0x00]).copy(frame, 0);
  const ip = Buffer.from([0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 244, 0, 10, 10, 244, 1, 30]);
  ip.copy(frame, 14);
  frame.writeUInt16BE(40001, 34);
  frame.writeUInt16BE(80, 36);
  frame.writeUInt32BE(1, 38);
  frame.writeUInt8(0x50, 46);
  frame.writeUInt8(0x02, 47);
  frame.writeUInt16BE(64240, 48);
  const rec = Buffer.alloc(16);
  rec.writeUInt32LE(1_700_000_000, 0);
  rec.writeUInt32LE(370478, 4);
  rec.writeUInt32LE(frame.length, 8);
  rec.writeUInt32LE(frame.length, 12);
  return Buffer.concat([head, rec, frame]);
}

const PRINTED =
  '04:08:00.370478 12:94:43:de:b3:c0 > 76:f0:bd:76:76:77, ethertype IPv4 (0x0800), length 54: 10.244.0.10.40001 > 10.244.1.30.80: Flags [S], seq 1, win 64240, length 0\n';

function fakeTcpdump(opts: { writePcap: boolean; listening?: boolean; stderr?: string }) {
  const spawned: Array<{ target: ExecTarget; argv: string[]; stops: number }> = [];
  let topologyCalls = 0;
  const backend = {
    name: 'lab',
    scratchDir: () => dir,
    async topology() {
      topologyCalls++;
      return TOPO;
    },
    spawn(target: ExecTarget, argv: readonly string[]): BackgroundProcess {
      const rec = { target, argv: [...argv], stops: 0 };
      spawned.push(rec);
      const pcap = argv[argv.indexOf('-w') + 1]!;
      const listening = opts.listening !== false;
      let alive = listening;
      const err = listening
        ? `tcpdump: listening on ${argv[2]}, link-type EN10MB (Ethernet), snapshot length 262144 bytes\n`
        : (opts.stderr ?? '');
      const res = (): RunResult => ({
        argv: [...argv],
        exitCode: listening ? -1 : 1,
        stdout: listening ? PRINTED : '',
        stderr: listening ? `${err}1 packet captured\n1 packet received by filter\n0 packets dropped by kernel\n` : err,
        durationMs: 3,
        record: {
          seq: 1,
          where: 'x',
          argv: ['ip', 'netns', 'exec', 'ns', ...argv],
          exitCode: null,
          signal: 'SIGTERM',
          timedOut: false,
          durationMs: 3,
          startedAt: new Date(0).toISOString(),
          stdout: '',
          stderr: '',
          background: true,
        },
      });
      return {
        pid: 1,
        output: () => '',
        running: () => alive,
        exited: Promise.resolve(null),
        async waitFor(re: RegExp) {
          if (re.test(err)) return;
          throw new InfraError('exited before printing');
        },
        async stop() {
          rec.stops++;
          if (alive && opts.writePcap) writeFileSync(pcap, synPcap());
          alive = false;
          return res();
        },
      };
    },
  } as unknown as Backend;
  return { backend, spawned, topologyCalls: () => topologyCalls };
}

test('capture: tcpdump argv per capture point, run in the right namespace', async () => {
  const { backend, spawned } = fakeTcpdump({ writePcap: true });
  const filter = ['tcp', 'port', '80'];
  const points: CapturePoint[] = [
    { kind: 'pod-eth0', pod: 'client' },
    { kind: 'host-veth', pod: 'client' },
    { kind: 'node-eth0', node: 'cilium-kubeproxy-worker' },
    { kind: 'cilium-host', node: 'cilium-kubeproxy-control-plane' },
  ];
  for (const p of points) await (await startCapture(backend, p, { filter, topology: TOPO, settleMs: 0 })).stop();
  assert.deepEqual(
    spawned.map((s) => s.target),
    [
      { kind: 'pod', pod: 'client', namespace: 'default' },
      { kind: 'node', node: 'cilium-kubeproxy-control-plane' },
      { kind: 'node', node: 'cilium-kubeproxy-worker' },
      { kind: 'node', node: 'cilium-kubeproxy-control-plane' },
    ],
  );
  assert.deepEqual(
    spawned.map((s) => s.argv[2]),
    ['eth0', 'lxcd2a04d71301a', 'eth0', 'cilium_host'],
  );
  for (const s of spawned) {
    const a = s.argv;
    assert.deepEqual(a.slice(0, 2), ['tcpdump', '-i']);
    for (const flag of ['-nn', '-e', '-l', '-U', '--print']) assert.ok(a.includes(flag), `${flag} in ${a.join(' ')}`);
    assert.ok(a[a.indexOf('-w') + 1]!.startsWith(`${dir}/capture-`));
    assert.deepEqual(a.slice(-3), filter, 'the filter is argv tokens at the end');
    assert.equal(s.stops, 1);
  }
  assert.equal(new Set(spawned.map((s) => s.argv[s.argv.indexOf('-w') + 1])).size, 4, 'one pcap per capture');
});

test('capture: stop() returns the packets read back from the pcap, with the text and file', async () => {
  const { backend, spawned, topologyCalls } = fakeTcpdump({ writePcap: true });
  const running = await startCapture(
    backend,
    { kind: 'node-eth0', node: 'cilium-kubeproxy-control-plane' },
    { settleMs: 0 },
  );
  assert.equal(topologyCalls(), 1, 'the topology is fetched when not given');
  const ev = await running.stop();
  assert.equal(ev.kind, 'capture');
  assert.equal(ev.where, 'node cilium-kubeproxy-control-plane eth0');
  assert.equal(ev.data.pcapFile, spawned[0]!.argv[spawned[0]!.argv.indexOf('-w') + 1]);
  assert.equal(ev.file, ev.data.pcapFile);
  assert.equal(ev.raw, PRINTED);
  assert.deepEqual(
    ev.data.packets.map((p) => [p.src?.ip, p.src?.port, p.dst?.ip, p.dst?.port, p.flags]),
    [['10.244.0.10', 40001, '10.244.1.30', 80, 'S']],
  );
  assert.match(ev.summary, /1 packets from the pcap \(tcpdump: 1 captured\); destinations 10\.244\.1\.30 ×1/);
  assert.match(ev.commands[0]!, /^ip netns exec ns tcpdump -i eth0/);
  assert.strictEqual(await running.stop(), ev, 'stop is idempotent');
});

test('capture: an unreadable pcap falls back to the printed lines and says so', async () => {
  const { backend } = fakeTcpdump({ writePcap: false });
  const ev = await (
    await startCapture(backend, { kind: 'pod-eth0', pod: 'client' }, { topology: TOPO, settleMs: 0 })
  ).stop();
  assert.equal(ev.data.packets.length, 1);
  assert.equal(ev.data.packets[0]!.dst?.ip, '10.244.1.30');
  assert.match(ev.summary, /from the printed lines \(pcap unreadable/);
});

test('capture: a tcpdump that never listens is an InfraError naming the point and command', async () => {
  const { backend } = fakeTcpdump({
    writePcap: false,
    listening: false,
    stderr: 'tcpdump: lxcd2a04d71301a: No such device exists\n',
  });
  await assert.rejects(
    startCapture(backend, { kind: 'host-veth', pod: 'client' }, { topology: TOPO }),
    (e: unknown) =>
      e instanceof InfraError &&
      /capture on host veth of pod client did not start: `ip netns exec ns tcpdump -i lxcd2a04d71301a .*` exited with 1 — tcpdump: lxcd2a04d71301a: No such device exists/.test(
        (e as Error).message,
      ),
  );
  await assert.rejects(
    startCapture(backend, { kind: 'host-veth', pod: 'nohost' }, { topology: TOPO }),
    /does not report the host-side veth of pod nohost/,
  );
  await assert.rejects(
    startCapture(backend, { kind: 'pod-eth0', pod: 'client' }, { topology: TOPO, filter: ['-w', '/etc/passwd'] }),
    UsageError,
  );
});
