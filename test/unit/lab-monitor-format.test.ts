/** The lab trace stream decoder: bpftool event_pipe hex → records → cilium-monitor-shaped lines. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  decodeTraceRecord,
  EventPipeDecoder,
  formatTraceRecord,
  OBS,
  TRACE_RECORD_SIZE,
  type TraceRecord,
  tcpFlagsText,
  traceHeader,
  XLATE,
} from '../../support/backends/lab/datapath/index.ts';

/** Build a record the way lab_lb.c lays out struct trace_ev (little-endian host). */
function encode(r: {
  ifindex: number;
  target?: number;
  src?: number;
  dst?: number;
  obs: number;
  proto: number;
  flags: number;
  xlate: number;
  state: number;
  slot?: number;
  count?: number;
  orig: [string, string, number, number];
  now: [string, string, number, number];
}): Uint8Array {
  const b = new Uint8Array(TRACE_RECORD_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, 123456789n, true);
  v.setUint32(8, r.ifindex, true);
  v.setUint32(12, r.target ?? 0, true);
  v.setUint32(16, r.src ?? 0, true);
  v.setUint32(20, r.dst ?? 0, true);
  b.set([r.obs, r.proto, r.flags, r.xlate, r.state, r.slot ?? 0, r.count ?? 0, 1], 24);
  const put = (off: number, t: [string, string, number, number]) => {
    b.set(t[0].split('.').map(Number), off);
    b.set(t[1].split('.').map(Number), off + 4);
    v.setUint16(off + 8, t[2], false);
    v.setUint16(off + 10, t[3], false);
  };
  put(32, r.orig);
  put(44, r.now);
  v.setUint32(56, 74, true);
  return b;
}

function hexDump(bytes: Uint8Array, cpu = 0): string {
  const rows: string[] = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const row = [...bytes.slice(i, i + 16)].map((x) => x.toString(16).padStart(2, '0'));
    rows.push(`${row.slice(0, 8).join(' ')}  ${row.slice(8).join(' ')}`.trim());
  }
  return `== @702.848552981 CPU: ${cpu} index: ${cpu} =====\n${rows.join('\n')}\n00 00 00 00\n`;
}

const names = new Map([
  [5, 'lxcd2a04d71301a'],
  [6, 'lxc2420d7527a95'],
]);
const ctx = { node: 'cilium-kubeproxy-control-plane', ifname: (i: number) => names.get(i) };

const dnatRedirect = encode({
  ifindex: 5,
  target: 6,
  src: 1573,
  dst: 2103,
  obs: OBS.toEndpointRedirect,
  proto: 6,
  flags: 0x02,
  xlate: XLATE.dnat,
  state: 1,
  slot: 1,
  count: 2,
  orig: ['10.244.0.10', '10.96.94.95', 40003, 80],
  now: ['10.244.0.10', '10.244.0.20', 40003, 8080],
});

describe('lab trace records', () => {
  it('decodes the fixed layout: endpoints, ifindexes, original and translated tuple', () => {
    const r = decodeTraceRecord(dnatRedirect);
    assert.equal(r.ifindex, 5);
    assert.equal(r.targetIfindex, 6);
    assert.equal(r.srcEndpoint, 1573);
    assert.equal(r.dstEndpoint, 2103);
    assert.equal(r.state, 'new');
    assert.equal(r.version, 1);
    assert.deepEqual(r.orig, { saddr: '10.244.0.10', daddr: '10.96.94.95', sport: 40003, dport: 80 });
    assert.equal(r.daddr, '10.244.0.20');
    assert.equal(r.dport, 8080);
    assert.equal(r.len, 74);
  });

  it('rejects a short record', () => {
    assert.throws(() => decodeTraceRecord(new Uint8Array(20)), /20 bytes, expected 64/);
  });

  it('formats a same-node DNAT with bpf_redirect as "-> endpoint <backend>" with orig-ip, source endpoint and target', () => {
    assert.equal(
      formatTraceRecord(decodeTraceRecord(dnatRedirect), ctx),
      '[cilium-kubeproxy-control-plane] -> endpoint 2103 from-container ep 1573 flow 0x0 , identity 0->0 state new ifindex lxcd2a04d71301a orig-ip 10.96.94.95:80: 10.244.0.10:40003 -> 10.244.0.20:8080 tcp SYN  [svc DNAT backend 1/2] bpf_redirect->lxc2420d7527a95',
    );
  });

  it('formats a DNAT to a remote backend as "-> stack" without redirect', () => {
    const rec = encode({
      ifindex: 5,
      src: 1573,
      obs: OBS.toStack,
      proto: 6,
      flags: 0x10,
      xlate: XLATE.dnat,
      state: 2,
      slot: 2,
      count: 2,
      orig: ['10.244.0.10', '10.96.94.95', 40001, 80],
      now: ['10.244.0.10', '10.244.1.30', 40001, 80],
    });
    assert.equal(
      formatTraceRecord(decodeTraceRecord(rec), ctx),
      '[cilium-kubeproxy-control-plane] -> stack from-container ep 1573 flow 0x0 , identity 0->0 state established ifindex lxcd2a04d71301a orig-ip 10.96.94.95:80: 10.244.0.10:40001 -> 10.244.1.30:80 tcp ACK  [svc DNAT backend 2/2]',
    );
  });

  it('formats a reverse NAT at to-container: orig-ip is the backend, the tuple carries the ClusterIP', () => {
    const rec = encode({
      ifindex: 5,
      dst: 1573,
      obs: OBS.toEndpoint,
      proto: 6,
      flags: 0x12,
      xlate: XLATE.revnat,
      state: 3,
      orig: ['10.244.1.30', '10.244.0.10', 80, 40001],
      now: ['10.96.94.95', '10.244.0.10', 80, 40001],
    });
    assert.equal(
      formatTraceRecord(decodeTraceRecord(rec), ctx),
      '[cilium-kubeproxy-control-plane] -> endpoint 1573 to-container flow 0x0 , identity 0->0 state reply ifindex lxcd2a04d71301a orig-ip 10.244.1.30:80: 10.96.94.95:80 -> 10.244.0.10:40001 tcp SYN, ACK  [rev-NAT]',
    );
  });

  it('formats untranslated UDP and ICMP, and unknown interfaces as numbers', () => {
    const udp = encode({
      ifindex: 9,
      src: 7,
      obs: OBS.toStack,
      proto: 17,
      flags: 0,
      xlate: XLATE.none,
      state: 0,
      orig: ['10.244.0.10', '10.244.1.30', 5353, 53],
      now: ['10.244.0.10', '10.244.1.30', 5353, 53],
    });
    assert.equal(
      formatTraceRecord(decodeTraceRecord(udp), { node: 'w' }),
      '[w] -> stack from-container ep 7 flow 0x0 , identity 0->0 state unknown ifindex 9 orig-ip 0.0.0.0: 10.244.0.10:5353 -> 10.244.1.30:53 udp',
    );
    const icmp = encode({
      ifindex: 5,
      dst: 1573,
      obs: OBS.toEndpoint,
      proto: 1,
      flags: 0,
      xlate: XLATE.none,
      state: 0,
      orig: ['10.244.1.30', '10.244.0.10', 0, 0],
      now: ['10.244.1.30', '10.244.0.10', 0, 0],
    });
    assert.match(formatTraceRecord(decodeTraceRecord(icmp), ctx), / 10\.244\.1\.30 -> 10\.244\.0\.10 icmp EchoReply$/);
  });

  it('prints TCP flags in cilium monitor order', () => {
    assert.equal(tcpFlagsText(0x02), 'SYN');
    assert.equal(tcpFlagsText(0x12), 'SYN, ACK');
    assert.equal(tcpFlagsText(0x11), 'ACK, FIN');
    assert.equal(tcpFlagsText(0x14), 'ACK, RST');
    assert.equal(tcpFlagsText(0x18), 'ACK');
  });

  it('has a header line naming the lab, never claiming to be Cilium', () => {
    const h = traceHeader('cp');
    assert.match(h, /^\[cp\] Listening for events of the Hookpoint lab \(kernel reproduction, not Cilium\)/);
  });
});

describe('bpftool event_pipe decoder', () => {
  it('emits a record once 64 bytes arrived, across chunk boundaries, and counts lost samples', () => {
    const d = new EventPipeDecoder();
    const text = `${hexDump(dnatRedirect)}== @703.1 CPU: 1 index: 1 =====\nlost 3 events\n${hexDump(dnatRedirect, 1)}`;
    const out: Uint8Array[] = [];
    for (let i = 0; i < text.length; i += 37) out.push(...d.push(text.slice(i, i + 37)));
    out.push(...d.end());
    assert.equal(out.length, 2);
    assert.equal(d.lost, 3);
    const r: TraceRecord = decodeTraceRecord(out[1]!);
    assert.equal(r.srcEndpoint, 1573);
    assert.deepEqual([...out[0]!], [...dnatRedirect]);
  });

  it('emits a record before the next header arrives (streaming), and ignores other lines', () => {
    const d = new EventPipeDecoder();
    // Header and the 4 rows of 16 bytes, without the padding row and without a next header.
    const withoutTail = `${hexDump(dnatRedirect).split('\n').slice(0, 5).join('\n')}\n`;
    assert.equal(d.push(`Stopping...\n${withoutTail}`).length, 1);
    assert.deepEqual(d.other, ['Stopping...']);
  });

  it('drops a truncated record instead of inventing bytes', () => {
    const d = new EventPipeDecoder();
    const dump = hexDump(dnatRedirect).split('\n').slice(0, 3).join('\n');
    assert.equal([...d.push(`${dump}\n== @1 CPU: 0 index: 0 =====\n`), ...d.end()].length, 0);
  });
});
