/**
 * Kube-proxy replacement's socket translation records (lab_kpr.c struct sock_ev): decoded from
 * their 64 bytes, told apart from packet traces by the layout version, and printed as
 * `cilium-dbg monitor` prints trace-sock notifications (the real 1.18.6 fixture's lines).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { formatSockRecord } from '../../support/backends/lab/agent/monitor-format.ts';
import { cgroup2Mount, inCgroup, ownsCgroup } from '../../support/backends/lab/cgroups.ts';
import { decodeSockTraceRecord, isSockTrace, TRACE_RECORD_SIZE } from '../../support/backends/lab/datapath/monitor.ts';

const REAL = path.resolve(import.meta.dirname, '../../../shared/fixtures/real-world');

/** A record laid out as lab_kpr.c's struct sock_ev (little-endian host). */
function encode(point: number, cgroup: bigint, cookie: bigint, ip: string, port: number, proto = 6): Uint8Array {
  const b = new Uint8Array(TRACE_RECORD_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, 42n, true);
  v.setBigUint64(8, cgroup, true);
  v.setBigUint64(16, cookie, true);
  b[24] = point;
  b[25] = proto;
  b[31] = 2;
  ip.split('.').forEach((o, i) => {
    b[32 + i] = Number(o);
  });
  v.setUint16(36, port, false);
  return b;
}

describe('socket translation records', () => {
  it('decode and print exactly as the real agent prints them', () => {
    const real = readFileSync(
      path.join(REAL, 'cilium-monitor-v-t-trace-socklb-1.18.6-kind-native-idx60285825367.txt'),
      'utf8',
    )
      .split('\n')
      .filter((l) => /\[(pre|post)-xlate-(fwd|rev)\]/.test(l));
    const pre = decodeSockTraceRecord(encode(0, 16761n, 72480n, '10.96.211.254', 80));
    const post = decodeSockTraceRecord(encode(1, 16761n, 72480n, '10.244.2.148', 80));
    const rev = decodeSockTraceRecord(encode(3, 16761n, 72480n, '10.96.211.254', 80));
    assert.equal(formatSockRecord({ ...pre, cpu: 3 }), real[0]);
    assert.equal(formatSockRecord({ ...post, cpu: 3 }), real[1]);
    assert.equal(formatSockRecord({ ...rev, cpu: 3 }), real[3]);
    assert.equal(pre.point, 'pre-xlate-fwd');
    assert.equal(rev.point, 'post-xlate-rev');
  });

  it('are told apart from packet traces (version byte), and a short record is refused', () => {
    assert.ok(isSockTrace(encode(0, 1n, 1n, '10.96.0.1', 53, 17)));
    const packet = new Uint8Array(TRACE_RECORD_SIZE);
    packet[31] = 1;
    assert.equal(isSockTrace(packet), false);
    assert.match(
      formatSockRecord(decodeSockTraceRecord(encode(0, 1n, 1n, '10.96.0.10', 53, 17))),
      /dst \[10\.96\.0\.10\]:53 udp$/,
    );
    assert.throws(() => decodeSockTraceRecord(new Uint8Array(10)), /10 bytes, expected 64/);
  });
});

describe("the lab's cgroups", () => {
  it('finds the cgroup2 mount in mountinfo (not the v1 hierarchies)', () => {
    const info = [
      '30 25 0:26 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755',
      '31 30 0:27 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu',
      '40 30 0:35 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw',
    ].join('\n');
    assert.equal(cgroup2Mount(info), '/sys/fs/cgroup/unified');
    assert.equal(cgroup2Mount('31 30 0:27 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu'), null);
  });

  it('owns only hookpoint-<cluster> and its node children, never the root or another lab', () => {
    assert.ok(ownsCgroup('lab1', '/sys/fs/cgroup/hookpoint-lab1'));
    assert.ok(ownsCgroup('lab1', '/sys/fs/cgroup/hookpoint-lab1/control-plane'));
    assert.equal(ownsCgroup('lab1', '/sys/fs/cgroup'), false);
    assert.equal(ownsCgroup('lab1', '/sys/fs/cgroup/hookpoint-lab2/worker'), false);
    assert.equal(ownsCgroup('lab1', '/sys/fs/cgroup/hookpoint-lab1/worker/deeper'), false);
    assert.equal(ownsCgroup('lab1', '/sys/fs/cgroup/hookpoint-lab1/../system.slice'), false);
  });

  it('runs a command in a cgroup with a fixed script: the words are arguments, never script text', () => {
    const argv = inCgroup('/sys/fs/cgroup/hookpoint-lab1/worker', ['curl', '$(reboot)']);
    assert.deepEqual(argv.slice(0, 4), [
      'sh',
      '-c',
      'echo $$ > "$0" && exec "$@"',
      '/sys/fs/cgroup/hookpoint-lab1/worker/cgroup.procs',
    ]);
    assert.deepEqual(argv.slice(4), ['curl', '$(reboot)']);
  });
});
