/**
 * One grammar for real and lab monitor output: every line the lab's agent stand-in can print
 * (the formatter over every kind of trace record lab_lb.c emits) is read by the parser that
 * reads the real fixtures, into the same structure, and carries no field the real corpus lacks.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { agentView, RESERVED_IDENTITIES } from '../../../support/backends/lab/agent/identities.ts';
import { formatRecord, type Verbosity } from '../../../support/backends/lab/agent/monitor-format.ts';
import type { TraceRecord } from '../../../support/backends/lab/datapath/index.ts';
import { runParse } from '../../../support/cli/parse.ts';
import { type MonitorEvent, parseMonitor } from '../../../support/parsers/monitor.ts';
import { REAL_WORLD_DIR } from '../helpers/real-world.ts';

const REAL = REAL_WORLD_DIR;
const realFiles = existsSync(REAL)
  ? readdirSync(REAL).filter((f) => /^(cilium-monitor|cilium-dbg-monitor|mixed-cilium)/.test(f))
  : [];
const skip = realFiles.length === 0 ? 'real-world monitor fixtures not found next to the repo' : false;

const NODES = [
  { name: 'cp', ip: '172.18.0.2', ciliumHostIP: '10.244.0.1' },
  { name: 'worker', ip: '172.18.0.3', ciliumHostIP: '10.244.1.1' },
];
const PODS = [
  {
    name: 'client',
    node: 'cp',
    ip: '10.244.0.10',
    endpointId: 1573,
    hostVeth: 'lxcd2a04d71301a',
    kind: 'client' as const,
  },
  {
    name: 'echo-a',
    node: 'cp',
    ip: '10.244.0.20',
    endpointId: 2103,
    hostVeth: 'lxc2420d7527a95',
    kind: 'echo' as const,
    app: 'echo',
  },
  {
    name: 'echo-b',
    node: 'worker',
    ip: '10.244.1.30',
    endpointId: 388,
    hostVeth: 'lxcc2f25b3ad380',
    kind: 'echo' as const,
    app: 'echo',
  },
].map((p) => ({ ...p, namespace: 'default' }));
const view = agentView('cp', NODES, PODS);
const NAMES = new Map([
  [5, 'lxcd2a04d71301a'],
  [6, 'lxc2420d7527a95'],
]);
const ifname = (i: number) => NAMES.get(i);

/** Every kind of record lab_lb.c emits: each observation point, translation, state, protocol, address class. */
function everyRecord(): TraceRecord[] {
  const addrs = [
    '10.244.0.10',
    '10.244.0.20',
    '10.244.1.30',
    '172.18.0.2',
    '172.18.0.3',
    '10.244.0.1',
    '10.96.94.95',
    '8.8.8.8',
  ];
  const protos: Array<[number, number]> = [
    [6, 0x02],
    [6, 0x12],
    [6, 0x10],
    [6, 0x11],
    [6, 0x14],
    [17, 0],
    [1, 8],
    [1, 0],
    [1, 3],
    [1, 11],
  ];
  const states = ['unknown', 'new', 'established', 'reply'] as const;
  const out: TraceRecord[] = [];
  let i = 0;
  for (const obs of [1, 2, 3])
    for (const xlate of [0, 1, 2])
      for (const [proto, flags] of protos)
        for (const saddr of addrs) {
          const daddr = addrs[(i++ * 3) % addrs.length]!;
          out.push({
            tsNs: 1n,
            ifindex: i % 3 === 0 ? 9 : 5,
            targetIfindex: obs === 2 ? 6 : 0,
            srcEndpoint: saddr === '10.244.0.10' ? 1573 : 0,
            dstEndpoint: obs === 1 ? 0 : i % 4 === 0 ? 0 : 2103,
            obs,
            proto,
            tcpFlags: flags,
            xlate,
            state: states[i % 4]!,
            slot: 1,
            count: 2,
            version: 1,
            orig: { saddr, daddr: xlate === 1 ? '10.96.94.95' : daddr, sport: 40000 + (i % 7), dport: 80 },
            saddr: xlate === 2 ? '10.96.94.95' : saddr,
            daddr,
            sport: 40000 + (i % 7),
            dport: 8080,
            len: 60 + (i % 40),
            cpu: i % 2,
          });
        }
  return out;
}

function labLines(): string[] {
  const lines: string[] = [];
  for (const rec of everyRecord())
    for (const verbosity of ['info', 'debug', 'verbose'] as Verbosity[])
      for (const numeric of [false, true]) lines.push(...formatRecord(rec, view, ifname, { verbosity, numeric }));
  return lines;
}

/** Field names an event fills (non-null), with `raw` and `line` left out. */
function filled(e: MonitorEvent): string[] {
  return Object.entries(e)
    .filter(([k, v]) => k !== 'raw' && k !== 'line' && v !== null)
    .map(([k]) => k);
}

let dir: string | undefined;
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('monitor grammar: lab lines and real lines, one parser', { skip }, () => {
  const real = realFiles.flatMap((f) => parseMonitor(readFileSync(path.join(REAL, f), 'utf8')).events);
  const lab = parseMonitor(`${labLines().join('\n')}\n`);

  it('reads every line the lab can print as a trace event (or the -vv separator), none unknown', () => {
    assert.ok(lab.events.length > 1000, `${lab.events.length} lab lines`);
    assert.deepEqual(lab.unknownLines, []);
    for (const e of lab.events) assert.ok(e.type === 'trace' || (e.type === 'info' && /^-{78}$/.test(e.raw)), e.raw);
  });

  it('no lab-only field: every field the parser fills for lab lines it also fills for some real line', () => {
    const realFields = new Set(real.filter((e) => e.type === 'trace').flatMap(filled));
    const labFields = new Set(lab.events.filter((e) => e.type === 'trace').flatMap(filled));
    assert.ok(realFields.size >= 12, `real trace fields: ${[...realFields].join(', ')}`);
    assert.deepEqual(
      [...labFields].filter((f) => !realFields.has(f)),
      [],
      `lab fields: ${[...labFields].join(', ')}; real: ${[...realFields].join(', ')}`,
    );
  });

  it('no lab-only value: observation points, states and identity names are ones Cilium prints', () => {
    const realPoints = new Set(real.map((e) => e.observationPoint).filter(Boolean));
    const realStates = new Set(real.map((e) => e.state).filter(Boolean));
    const reserved = new Set(Object.keys(RESERVED_IDENTITIES));
    const reservedIds = new Set<number>(Object.values(RESERVED_IDENTITIES));
    for (const e of lab.events.filter((x) => x.type === 'trace')) {
      assert.ok(realPoints.has(e.observationPoint!), `${e.observationPoint} in ${e.raw}`);
      assert.ok(realStates.has(e.state!) || e.state === 'unknown', `${e.state} in ${e.raw}`);
      for (const id of [e.identities!.src, e.identities!.dst])
        assert.ok(typeof id === 'number' ? id >= 256 || reservedIds.has(id) : reserved.has(id), `${id} in ${e.raw}`);
      if (e.cpu === null) assert.match(e.flowId ?? '', /^0x[0-9a-f]+$/, e.raw);
    }
    assert.ok(realStates.has('new') && realStates.has('reply') && realStates.has('established'));
  });

  it("every one-line lab event has DumpInfo's shape, which the real ≥1.14 lines have too", () => {
    const shape =
      /^-> (endpoint \d+|stack) flow 0x[0-9a-f]+ , identity \S+->\S+ state \S+ ifindex \S+ orig-ip \S+: \S+ -> \S+ (tcp( [A-Z]+(, [A-Z]+)*)?|udp|icmp [A-Za-z]+)$/;
    for (const e of lab.events.filter((x) => x.type === 'trace' && x.cpu === null)) assert.match(e.raw, shape);
    const realEndpointOrStack = real.filter(
      (e) => e.type === 'trace' && e.cpu === null && /^-> (endpoint \d+|stack) flow 0x[0-9a-f]+ , /.test(e.raw.trim()),
    );
    assert.ok(realEndpointOrStack.length >= 5);
    for (const e of realEndpointOrStack) assert.match(e.raw.trim(), shape);
  });

  it('`hookpoint parse monitor --json` gives lab output and a real fixture the same structure, through one code path', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'hp-grammar-'));
    const labFile = path.join(dir, 'lab-monitor.txt');
    writeFileSync(labFile, `${labLines().slice(0, 200).join('\n')}\n`);
    const realFile = path.join(REAL, 'cilium-monitor-v-t-trace-socklb-1.18.6-kind-native-idx60285825367.txt');
    const a = JSON.parse(runParse('monitor', labFile, { json: true, strict: true }));
    const b = JSON.parse(runParse('monitor', realFile, { json: true }));
    const keys = (doc: { events: Array<Record<string, unknown>> }) => [
      ...new Set(doc.events.filter((e) => e.type === 'trace').map((e) => Object.keys(e).sort().join(','))),
    ];
    assert.deepEqual(keys(a), keys(b));
    assert.equal(keys(a).length, 1);
  });
});
