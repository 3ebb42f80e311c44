/** The lab's trace records: bpftool event_pipe hex → records → `cilium-dbg monitor` lines of the agent stand-in. */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { type AgentLab, parseMonitorArgs, runAgent } from '../../support/backends/lab/agent/agent.ts';
import { agentView, identityText } from '../../support/backends/lab/agent/identities.ts';
import {
  flowHash,
  formatRecord,
  monitorBanner,
  tcpFlagsText,
  toNotification,
} from '../../support/backends/lab/agent/monitor-format.ts';
import type { NodeDatapath } from '../../support/backends/lab/datapath/index.ts';
import {
  decodeTraceRecord,
  EventPipeDecoder,
  OBS,
  TRACE_RECORD_SIZE,
  type TraceRecord,
  XLATE,
} from '../../support/backends/lab/datapath/index.ts';
import { SEED_MODES } from '../../support/backends/lab/modes.ts';
import type { LabPod } from '../../support/backends/lab/pod-netns.ts';
import type { LabNodePlan } from '../../support/backends/lab/topology.ts';
import { InfraError } from '../../support/errors.ts';
import { REAL_WORLD_DIR, realWorldPath, skipUnlessRealWorld } from './helpers/real-world.ts';

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
const ifname = (i: number) => names.get(i);
const NODES = [
  { name: 'cp', ip: '172.18.0.2', ciliumHostIP: '10.244.0.1' },
  { name: 'worker', ip: '172.18.0.3', ciliumHostIP: '10.244.1.1' },
];
const pod = (name: string, node: string, ip: string, endpointId: number, hostVeth: string, app?: string) => ({
  name,
  namespace: 'default',
  node,
  ip,
  endpointId,
  hostVeth,
  kind: app ? ('echo' as const) : ('client' as const),
  app,
});
const view = agentView('cp', NODES, [
  pod('client', 'cp', '10.244.0.10', 1573, 'lxcd2a04d71301a'),
  pod('echo-a', 'cp', '10.244.0.20', 2103, 'lxc2420d7527a95', 'echo'),
  pod('echo-b', 'worker', '10.244.1.30', 388, 'lxcc2f25b3ad380', 'echo'),
]);
const CLIENT_ID = view.identityOf('10.244.0.10');
const ECHO_ID = view.identityOf('10.244.0.20');
const hash = (r: TraceRecord) => `0x${flowHash(r).toString(16)}`;

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

const revNat = encode({
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

  it('formats a same-node delivery by bpf_redirect as Cilium does: -> endpoint <backend>, ifindex = its lxc, orig-ip = the client', () => {
    const rec = decodeTraceRecord(dnatRedirect);
    assert.equal(
      formatRecord(rec, view, ifname)[0],
      `-> endpoint 2103 flow ${hash(rec)} , identity ${CLIENT_ID}->${ECHO_ID} state new ifindex lxc2420d7527a95 orig-ip 10.244.0.10: 10.244.0.10:40003 -> 10.244.0.20:8080 tcp SYN`,
    );
  });

  it('formats a DNAT to a remote backend as "-> stack", ifindex 0, orig-ip 0.0.0.0, the translated tuple', () => {
    const rec = decodeTraceRecord(
      encode({
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
      }),
    );
    assert.equal(
      formatRecord(rec, view, ifname)[0],
      `-> stack flow ${hash(rec)} , identity ${CLIENT_ID}->${ECHO_ID} state established ifindex 0 orig-ip 0.0.0.0: 10.244.0.10:40001 -> 10.244.1.30:80 tcp ACK`,
    );
  });

  it('formats a reverse NAT at to-container: -> endpoint <client>, state reply, orig-ip = the backend, source = the ClusterIP', () => {
    const rec = decodeTraceRecord(revNat);
    assert.equal(
      formatRecord(rec, view, ifname)[0],
      `-> endpoint 1573 flow ${hash(rec)} , identity ${ECHO_ID}->${CLIENT_ID} state reply ifindex lxcd2a04d71301a orig-ip 10.244.1.30: 10.96.94.95:80 -> 10.244.0.10:40001 tcp SYN, ACK`,
    );
  });

  it('-vv prints the separator and "CPU nn: MARK … FROM <ep> to-endpoint: …", with (0 captured) since records carry no packet bytes', () => {
    const rec = decodeTraceRecord(revNat);
    rec.cpu = 1;
    assert.deepEqual(formatRecord(rec, view, ifname, { verbosity: 'verbose' }), [
      '-'.repeat(78),
      `CPU 01: MARK ${hash(rec)} FROM 1573 to-endpoint: 74 bytes (0 captured), state reply, interface lxcd2a04d71301a, , identity ${ECHO_ID}->${CLIENT_ID}, orig-ip 10.244.1.30, to endpoint 1573`,
    ]);
    assert.deepEqual(formatRecord(rec, view, ifname, { verbosity: 'debug' }), formatRecord(rec, view, ifname));
  });

  it('names reserved identities (host, remote-node, world) and prints numbers with --numeric', () => {
    const toNode = decodeTraceRecord(
      encode({
        ifindex: 5,
        src: 1573,
        obs: OBS.toStack,
        proto: 17,
        flags: 0,
        xlate: XLATE.none,
        state: 0,
        orig: ['10.244.0.10', '172.18.0.3', 5353, 53],
        now: ['10.244.0.10', '172.18.0.3', 5353, 53],
      }),
    );
    assert.match(
      formatRecord(toNode, view, ifname)[0]!,
      new RegExp(
        `identity ${CLIENT_ID}->remote-node state unknown ifindex 0 orig-ip 0\\.0\\.0\\.0: 10\\.244\\.0\\.10:5353 -> 172\\.18\\.0\\.3:53 udp$`,
      ),
    );
    assert.match(formatRecord(toNode, view, ifname, { numeric: true })[0]!, new RegExp(`identity ${CLIENT_ID}->6 `));
    assert.equal(view.identityOf('172.18.0.2'), 1, 'own node: host');
    assert.equal(view.identityOf('10.244.0.1'), 1, 'own cilium_host: host');
    assert.equal(view.identityOf('8.8.8.8'), 2, 'world');
    assert.equal(identityText(2), 'world');
    assert.ok(CLIENT_ID >= 256 && ECHO_ID >= 256 && CLIENT_ID !== ECHO_ID);
    assert.equal(view.identityOf('10.244.1.30'), view.identityOf('10.244.0.20'), 'one identity per label set');
  });

  it('formats ICMP like Cilium ("icmp EchoReply") and an unknown interface as its number', () => {
    const icmp = decodeTraceRecord(
      encode({
        ifindex: 9,
        dst: 1573,
        obs: OBS.toEndpoint,
        proto: 1,
        flags: 0,
        xlate: XLATE.none,
        state: 0,
        orig: ['10.244.1.30', '10.244.0.10', 0, 0],
        now: ['10.244.1.30', '10.244.0.10', 0, 0],
      }),
    );
    assert.match(
      formatRecord(icmp, view, ifname)[0]!,
      / ifindex 9 orig-ip 10\.244\.1\.30: 10\.244\.1\.30 -> 10\.244\.0\.10 icmp EchoReply$/,
    );
  });

  it('filters like cilium-dbg monitor: --from = emitting endpoint, --to = destination endpoint, --related-to = either', () => {
    const fwd = decodeTraceRecord(dnatRedirect); // -> endpoint 2103, emitted by 2103's program
    const rev = decodeTraceRecord(revNat); // -> endpoint 1573
    const f = (from: number[], to: number[], relatedTo: number[]) => ({ filter: { from, to, relatedTo } });
    assert.equal(formatRecord(fwd, view, ifname, f([], [], [2103])).length, 1);
    assert.equal(formatRecord(fwd, view, ifname, f([], [], [1573])).length, 0);
    assert.equal(formatRecord(rev, view, ifname, f([1573], [], [])).length, 1);
    assert.equal(formatRecord(rev, view, ifname, f([], [2103], [])).length, 0);
    const n = toNotification(fwd, view);
    assert.deepEqual([n.source, n.dstId, n.observationPoint], [2103, 2103, 'to-endpoint']);
  });

  it('prints TCP flags in cilium monitor order', () => {
    assert.equal(tcpFlagsText(0x02), 'SYN');
    assert.equal(tcpFlagsText(0x12), 'SYN, ACK');
    assert.equal(tcpFlagsText(0x11), 'ACK, FIN');
    assert.equal(tcpFlagsText(0x14), 'ACK, RST');
    assert.equal(tcpFlagsText(0x18), 'ACK');
  });

  it("prints cilium-dbg monitor's banner (stderr), nothing lab-only", () => {
    assert.deepEqual(monitorBanner(2), [
      'Listening for events on 2 CPUs with 64x4096 of shared memory',
      'Press Ctrl-C to quit',
    ]);
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
    assert.deepEqual(d.cpus, [0, 1], 'the CPU of each record, from its header');
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

describe("the agent stand-in's `cilium-dbg monitor` flags", () => {
  it('reads --type/-t, --from, --to, --related-to (both spellings), -v, -vv, -v -v and -n as cilium-dbg does', () => {
    assert.deepEqual(parseMonitorArgs(['--type', 'trace', '--related-to', '1573']), {
      types: ['trace'],
      filter: { from: [], to: [], relatedTo: [1573] },
      verbosity: 'info',
      numeric: false,
    });
    const a = parseMonitorArgs(['-t', 'drop', '--from=12', '--to', '34', '-v', '-n']);
    assert.deepEqual(
      [a.types, a.filter.from, a.filter.to, a.verbosity, a.numeric],
      [['drop'], [12], [34], 'debug', true],
    );
    assert.equal(parseMonitorArgs(['-vv']).verbosity, 'verbose');
    assert.equal(parseMonitorArgs(['-v', '-v']).verbosity, 'verbose');
  });

  it('refuses an unknown type, a non-numeric endpoint, --json and unknown flags with a clear message', () => {
    assert.throws(() => parseMonitorArgs(['--type', 'traces']), /Unknown type \(traces\)/);
    assert.throws(() => parseMonitorArgs(['--related-to', 'client']), /--related-to needs an endpoint id/);
    assert.throws(() => parseMonitorArgs(['-j']), /not --json/);
    assert.throws(() => parseMonitorArgs(['--follow']), /does not know "--follow"/);
  });
});

describe("the agent stand-in's `status --brief` and `endpoint list -o json`", () => {
  const node = { name: 'kind-x-worker', role: 'worker' } as unknown as LabNodePlan;
  const pod = {
    name: 'client',
    namespace: 'default',
    node: 'kind-x-worker',
    ip: '10.244.1.7',
    mac: '0a:00:00:00:00:01',
    hostVeth: 'lxc0123456789ab',
    hostVethMac: '0a:00:00:00:00:02',
    endpointId: 812,
    kind: 'client',
  } as LabPod;
  const lab = (loaded: boolean): AgentLab => ({
    labState: {
      cluster: 'x',
      plan: { nodes: [node] },
      pods: [pod, { ...pod, name: 'other', node: 'elsewhere' }],
      modes: SEED_MODES,
    },
    node: () => node,
    datapath: () => (loaded ? ({} as NodeDatapath) : undefined),
    datapathReader: () => ({}) as NodeDatapath,
  });
  const io = () => {
    const out: string[] = [];
    return { out, io: { out: (l: string) => out.push(l), err: () => {} } };
  };

  it('status --brief says OK when the datapath is loaded, and fails when it is not', async () => {
    const a = io();
    await runAgent(lab(true), 'worker', ['cilium-dbg', 'status', '--brief'], a.io);
    assert.deepEqual(a.out, ['OK']);
    await assert.rejects(
      runAgent(lab(false), 'worker', ['cilium-dbg', 'status', '--brief'], io().io),
      (e: unknown) =>
        e instanceof InfraError &&
        e.exitCode === 1 &&
        /^error in cilium: .*not loaded$/.test(e.message) &&
        !/lab/.test(e.message),
    );
  });

  it("endpoint list -o json lists the node's endpoints with the networking fields Cilium's model names", async () => {
    const a = io();
    await runAgent(lab(true), 'worker', ['cilium-dbg', 'endpoint', 'list', '-o', 'json'], a.io);
    const eps = JSON.parse(a.out.join('\n'));
    assert.equal(eps.length, 1, 'only the pods of this node');
    assert.equal(eps[0].id, 812);
    assert.deepEqual(eps[0].status.networking, {
      addressing: [{ ipv4: '10.244.1.7' }],
      'interface-name': 'lxc0123456789ab',
      mac: '0a:00:00:00:00:01',
      'host-mac': '0a:00:00:00:00:02',
    });
    await assert.rejects(runAgent(lab(true), 'worker', ['cilium-dbg', 'endpoint', 'list'], io().io), /-o json/);
  });
});

/** The words of a monitor line: what is left without numbers, addresses, ids and punctuation. */
const wordsOf = (line: string) => line.split(/[\s,:()[\]]+/).filter((w) => w && !/\d/.test(w) && !/^[-=.]+$/.test(w));
/**
 * Words real Cilium prints that the corpus's samples happen not to show: `auth: disabled` in
 * policy verdicts (pkg/monitor/datapath_policy.go, Cilium ≥ 1.14; the corpus's verdicts are
 * older) and the reserved identity `remote-node` (pkg/identity's reserved names).
 */
const REAL_BUT_NOT_IN_CORPUS = new Set(['auth', 'disabled', 'remote-node']);

describe("the lab's monitor lines use real Cilium's words only", { skip: skipUnlessRealWorld() }, () => {
  it('every word of its trace, -vv, overlay, drop and verdict lines appears in a real monitor line of the corpus', () => {
    const real = new Set<string>();
    for (const f of readdirSync(REAL_WORLD_DIR).filter((x) => /monitor/.test(x)))
      for (const l of readFileSync(realWorldPath(f), 'utf8').split('\n'))
        if (/^\s*(->|xx drop|Policy verdict log|CPU \d+: MARK)/.test(l)) for (const w of wordsOf(l.trim())) real.add(w);
    assert.ok(real.has('orig-ip') && real.has('endpoint'), 'the corpus was read');
    const policy = (obs: number, over: Partial<TraceRecord> = {}): TraceRecord => ({
      ...decodeTraceRecord(dnatRedirect),
      obs,
      policy: {
        direction: 'ingress',
        action: obs === OBS.drop ? 'deny' : 'allow',
        match: 2,
        peerIdentity: 2,
        line: 979,
      },
      ...over,
    });
    const overlay = { ...decodeTraceRecord(dnatRedirect), obs: OBS.toOverlay, dstEndpoint: 0, targetIfindex: 0 };
    const lines = [
      ...formatRecord(decodeTraceRecord(dnatRedirect), view, ifname),
      ...formatRecord(decodeTraceRecord(revNat), view, ifname),
      ...formatRecord(decodeTraceRecord(revNat), view, ifname, { verbosity: 'verbose' }).slice(1),
      ...formatRecord(overlay, view, (i) => (i === 5 ? 'lxcd2a04d71301a' : 'cilium_vxlan')),
      ...formatRecord(policy(OBS.drop), view, ifname),
      ...formatRecord(policy(OBS.policyVerdict), view, ifname),
    ];
    assert.equal(lines.length, 6, lines.join('\n'));
    for (const line of lines)
      for (const w of wordsOf(line))
        assert.ok(
          real.has(w) || REAL_BUT_NOT_IN_CORPUS.has(w),
          `"${w}" of the lab's line "${line}" is in no real line`,
        );
  });
});
