/**
 * Kernel test of the lab's eBPF datapath module (root). Builds its own throwaway two-node
 * topology (every namespace prefixed `hpdp-<run>`), loads/attaches through NodeDatapath, and
 * checks service translation, reverse NAT, bpf_redirect, the trace stream and the
 * no-local-redirect variant. Everything is removed in `after`, also on failure.
 *
 *  hpdp-X-c1 (client 10.244.0.10) ─ lxc ─┐                        ┌─ lxc ─ hpdp-X-e2 (echo 10.244.1.30)
 *  hpdp-X-e1 (echo   10.244.0.20) ─ lxc ─┤ hpdp-X-n1 ══ eth0 ══ hpdp-X-n2 │
 *                                        172.18.0.2          172.18.0.3
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { agentView } from '../../support/backends/lab/agent/identities.ts';
import { formatRecord } from '../../support/backends/lab/agent/monitor-format.ts';
import {
  compileLabProgram,
  type DatapathService,
  gatherDatapathState,
  NodeDatapath,
  renderStatus,
  startMonitor,
  type TraceStream,
} from '../../support/backends/lab/datapath/index.ts';
import { SEED_MODES } from '../../support/backends/lab/modes.ts';
import { type BackgroundProcess, run, spawnBackground } from '../../support/exec/index.ts';
import { expectSameNodeDelivery } from '../../support/expectations/monitor.ts';
import { parseMonitor } from '../../support/parsers/monitor.ts';

const isRoot = process.getuid?.() === 0;
const RUN = randomBytes(2).toString('hex');
const P = `hpdp-${RUN}`;
const T = 10_000;

const ns = {
  n1: `${P}-n1`,
  n2: `${P}-n2`,
  c1: `${P}-c1`,
  e1: `${P}-e1`,
  e2: `${P}-e2`,
};

interface Pod {
  netns: string;
  node: 'n1' | 'n2';
  ip: string;
  lxc: string;
  endpointId: number;
  mac?: string;
  lxcMac?: string;
  ifindex?: number;
}

const pods: Record<'c1' | 'e1' | 'e2', Pod> = {
  c1: { netns: ns.c1, node: 'n1', ip: '10.244.0.10', lxc: `lxc${RUN}c1aaaa`, endpointId: 1573 },
  e1: { netns: ns.e1, node: 'n1', ip: '10.244.0.20', lxc: `lxc${RUN}e1bbbb`, endpointId: 2103 },
  e2: { netns: ns.e2, node: 'n2', ip: '10.244.1.30', lxc: `lxc${RUN}e2cccc`, endpointId: 388 },
};
const nodes = {
  n1: { netns: ns.n1, ip: '172.18.0.2', gw: '10.244.0.1', cidr: '10.244.0.0/24', name: `${P}-control-plane` },
  n2: { netns: ns.n2, ip: '172.18.0.3', gw: '10.244.1.1', cidr: '10.244.1.0/24', name: `${P}-worker` },
};
const VIP_BOTH = '10.96.0.10';
const VIP_LOCAL = '10.96.0.11';
const VIP_REMOTE = '10.96.0.12';
const VIP_UDP = '10.96.0.13';
const ECHO_PORT = 8080;
const UDP_PORT = 5353;

/** Backends on both echo pods (e1 on n1, e2 on n2) at `port`. */
const onBothEchoPods = (port: number) => [pods.e1, pods.e2].map((p) => ({ ip: p.ip, port }));

const services: DatapathService[] = [
  {
    vip: VIP_BOTH,
    port: 80,
    protocol: 'TCP',
    backends: onBothEchoPods(ECHO_PORT),
  },
  { vip: VIP_LOCAL, port: 80, protocol: 'TCP', backends: [{ ip: pods.e1.ip, port: ECHO_PORT }] },
  { vip: VIP_REMOTE, port: 80, protocol: 'TCP', backends: [{ ip: pods.e2.ip, port: ECHO_PORT }] },
  {
    vip: VIP_UDP,
    port: 53,
    protocol: 'UDP',
    backends: onBothEchoPods(UDP_PORT),
  },
];

const ECHO_SCRIPT = `
const http = require('node:http');
const name = process.argv[1];
http.createServer((req, res) => {
  res.end('pod=' + name + ' client=' + req.socket.remoteAddress + ':' + req.socket.remotePort + ' local=' + req.socket.localAddress + ':' + req.socket.localPort + '\\n');
}).listen(${ECHO_PORT}, '0.0.0.0', () => {
  const u = require('node:dgram').createSocket('udp4');
  u.on('message', (msg, r) => u.send('pod=' + name + ' client=' + r.address + ':' + r.port, r.port, r.address));
  u.bind(${UDP_PORT}, '0.0.0.0', () => console.log('listening ' + name));
});
`;

/** UDP client: one datagram to VIP:53; prints the reply and the address it came from. */
const UDP_CLIENT = `
const u = require('node:dgram').createSocket('udp4');
u.on('message', (msg, r) => { console.log('from=' + r.address + ':' + r.port + ' ' + msg); process.exit(0); });
u.send('ping', 53, process.argv[1]);
setTimeout(() => process.exit(1), 2000);
`;

const sh = (argv: string[], where = 'host') => run(argv, { timeoutMs: T, where });
const inNs = (netns: string, argv: string[]) => sh(['ip', 'netns', 'exec', netns, ...argv], `netns ${netns}`);

let runDir = '';
const dps: NodeDatapath[] = [];
const echoes: BackgroundProcess[] = [];
const monitors: TraceStream[] = [];
const timings: string[] = [];

async function linkInfo(netns: string, dev: string): Promise<{ ifindex: number; mac: string }> {
  const res = await sh(['ip', '-n', netns, '-j', 'link', 'show', 'dev', dev]);
  const [l] = JSON.parse(res.stdout) as Array<{ ifindex: number; address: string }>;
  return { ifindex: l!.ifindex, mac: l!.address };
}

async function buildTopology(): Promise<void> {
  for (const n of Object.values(ns)) await sh(['ip', 'netns', 'add', n]);
  for (const n of Object.values(ns)) {
    await sh(['ip', '-n', n, 'link', 'set', 'lo', 'up']);
    await inNs(n, ['sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  }
  // Node "docker network": one veth pair named eth0 at both ends.
  await sh(['ip', 'link', 'add', 'eth0', 'netns', ns.n1, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns.n2]);
  for (const [key, node] of Object.entries(nodes)) {
    const other = key === 'n1' ? nodes.n2 : nodes.n1;
    await sh(['ip', '-n', node.netns, 'addr', 'add', `${node.ip}/16`, 'dev', 'eth0']);
    await sh(['ip', '-n', node.netns, 'link', 'set', 'eth0', 'up']);
    await inNs(node.netns, [
      'sysctl',
      '-q',
      '-w',
      'net.ipv4.ip_forward=1',
      'net.ipv4.conf.all.rp_filter=0',
      'net.ipv4.conf.default.rp_filter=0',
    ]);
    await sh(['ip', '-n', node.netns, 'link', 'add', 'cilium_host', 'type', 'veth', 'peer', 'name', 'cilium_net']);
    await sh(['ip', '-n', node.netns, 'link', 'set', 'cilium_net', 'up']);
    await sh(['ip', '-n', node.netns, 'link', 'set', 'cilium_host', 'up']);
    await sh(['ip', '-n', node.netns, 'addr', 'add', `${node.gw}/32`, 'dev', 'cilium_host']);
    await sh(['ip', '-n', node.netns, 'route', 'add', other.cidr, 'via', other.ip, 'dev', 'eth0']);
  }
  for (const pod of Object.values(pods)) {
    const node = nodes[pod.node];
    await sh([
      'ip',
      'link',
      'add',
      pod.lxc,
      'netns',
      node.netns,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      pod.netns,
    ]);
    await inNs(node.netns, ['sysctl', '-q', '-w', `net.ipv4.conf.${pod.lxc}.rp_filter=0`]);
    await sh(['ip', '-n', node.netns, 'link', 'set', pod.lxc, 'up']);
    await sh(['ip', '-n', pod.netns, 'addr', 'add', `${pod.ip}/32`, 'dev', 'eth0']);
    await sh(['ip', '-n', pod.netns, 'link', 'set', 'eth0', 'up']);
    await sh(['ip', '-n', pod.netns, 'route', 'add', node.gw, 'dev', 'eth0', 'scope', 'link']);
    await sh(['ip', '-n', pod.netns, 'route', 'add', 'default', 'via', node.gw, 'dev', 'eth0']);
    await sh(['ip', '-n', node.netns, 'route', 'add', `${pod.ip}/32`, 'dev', pod.lxc]);
    const lxc = await linkInfo(node.netns, pod.lxc);
    const eth0 = await linkInfo(pod.netns, 'eth0');
    pod.ifindex = lxc.ifindex;
    pod.lxcMac = lxc.mac;
    pod.mac = eth0.mac;
  }
}

async function teardown(): Promise<void> {
  for (const m of monitors) await m.stop().catch(() => undefined);
  for (const e of echoes) await e.stop().catch(() => undefined);
  for (const dp of dps) await dp.unload().catch((err) => console.error(`unload ${dp.node}: ${err.message}`));
  for (const n of Object.values(ns)) await run(['ip', 'netns', 'del', n], { timeoutMs: T, check: false });
  if (runDir) rmSync(runDir, { recursive: true, force: true });
}

async function curl(vip: string, port?: number): Promise<{ ok: boolean; body: string; localPort: number }> {
  const localPort = port ?? 20000 + Math.floor(Math.random() * 30000);
  const res = await run(
    [
      'ip',
      'netns',
      'exec',
      ns.c1,
      'curl',
      '--max-time',
      '2',
      '-s',
      '--local-port',
      String(localPort),
      `http://${vip}/`,
    ],
    { timeoutMs: T, where: `pod ${ns.c1}`, check: false },
  );
  return { ok: res.exitCode === 0, body: res.stdout.trim(), localPort };
}

describe('lab eBPF datapath (kernel)', { skip: isRoot ? false : 'needs root (network namespaces, bpffs, tc)' }, () => {
  let dp1: NodeDatapath;
  let dp2: NodeDatapath;
  let mon1: TraceStream;
  const streamed2: string[] = [];
  /** What the agent stand-in of each node knows (identities, endpoint ids), as `lab agent` builds it. */
  const agentNodes = Object.values(nodes).map((n) => ({ name: n.name, ip: n.ip, ciliumHostIP: n.gw }));
  const agentPods = Object.entries(pods).map(([key, p]) => ({
    name: key,
    namespace: 'default',
    node: nodes[p.node].name,
    ip: p.ip,
    endpointId: p.endpointId,
    hostVeth: p.lxc,
    kind: key === 'c1' ? ('client' as const) : ('echo' as const),
    app: key === 'c1' ? undefined : 'echo',
  }));
  const view1 = agentView(nodes.n1.name, agentNodes, agentPods);
  const view2 = agentView(nodes.n2.name, agentNodes, agentPods);
  const CLIENT_ID = view1.identityOf(pods.c1.ip);
  const ECHO_ID = view1.identityOf(pods.e1.ip);
  /** `cilium-dbg monitor` lines of node 1 so far, as the agent stand-in prints them. */
  const lines1 = () => mon1.records().flatMap((r) => formatRecord(r, view1, (i) => dp1.interfaceName(i)));
  const FLOW = '0x[0-9a-f]+';

  before(async () => {
    runDir = mkdtempSync(join(tmpdir(), `${P}-`));
    try {
      await buildTopology();
      const compiled = await compileLabProgram({ stateDir: runDir });
      timings.push(`compile ${compiled.durationMs} ms (cached=${compiled.cached})`);
      const again = await compileLabProgram({ stateDir: runDir });
      assert.equal(again.cached, true, 'the second compile comes from the cache');
      assert.equal(again.objectPath, compiled.objectPath);
      for (const key of ['n1', 'n2'] as const) {
        const node = nodes[key];
        const dp = new NodeDatapath({
          node: node.name,
          netns: node.netns,
          bpffs: join(runDir, 'bpffs', key),
          objectPath: compiled.objectPath,
          options: { localRedirect: true },
        });
        dps.push(dp);
        const local = Object.values(pods).filter((p) => p.node === key);
        const t0 = performance.now();
        await dp.load();
        const t1 = performance.now();
        for (const pod of local) await dp.attach({ ifname: pod.lxc, endpointId: pod.endpointId });
        const t2 = performance.now();
        await dp.setEndpoints(
          local.map((p) => ({
            ip: p.ip,
            ifindex: p.ifindex!,
            endpointId: p.endpointId,
            podMac: p.mac!,
            lxcMac: p.lxcMac!,
          })),
        );
        await dp.setServices(services);
        const t3 = performance.now();
        timings.push(
          `${key}: load ${(t1 - t0).toFixed(0)} ms, attach ${local.length} lxc ${(t2 - t1).toFixed(0)} ms, maps ${(t3 - t2).toFixed(0)} ms`,
        );
      }
      [dp1, dp2] = dps as [NodeDatapath, NodeDatapath];
      for (const pod of ['e1', 'e2'] as const) {
        const e = spawnBackground(['ip', 'netns', 'exec', pods[pod].netns, process.execPath, '-e', ECHO_SCRIPT, pod], {
          maxMs: 300_000,
          where: `pod ${pods[pod].netns}`,
        });
        echoes.push(e);
        await e.waitFor(/listening/, 10_000);
      }
      mon1 = await startMonitor(dp1);
      monitors.push(mon1);
      monitors.push(
        await startMonitor(dp2, {
          onRecord: (r) => streamed2.push(...formatRecord(r, view2, (i) => dp2.interfaceName(i))),
          pollMs: 20,
        }),
      );
    } catch (err) {
      await teardown();
      runDir = '';
      throw err;
    }
  });

  after(async () => {
    if (timings.length) console.log(`# timings: ${timings.join('; ')}`);
    if (process.env.HPDP_SHOW_TRACE && mon1) console.log(lines1().slice(0, 40).join('\n'));
    await teardown();
  });

  it('laid out like Cilium: per-endpoint programs and cilium_calls, shared node maps, cilium_call_policy', async () => {
    const ids = await dp1.programIds();
    const find = (endpointId: number, program: string) =>
      [...ids.values()].find((p) => p.endpointId === endpointId && p.program === program)?.id;
    const show = async (id: number | undefined) => {
      assert.ok(id, 'program pinned');
      return JSON.parse((await sh(['bpftool', '-j', 'prog', 'show', 'id', String(id)])).stdout) as {
        name: string;
        map_ids: number[];
      };
    };
    const mapName = async (id: number) =>
      (JSON.parse((await sh(['bpftool', '-j', 'map', 'show', 'id', String(id)])).stdout) as { name: string }).name;
    const hookC1 = await show(find(pods.c1.endpointId, 'cil_from_container'));
    const hookE1 = await show(find(pods.e1.endpointId, 'cil_from_container'));
    assert.equal(hookC1.name, 'cil_from_container');
    assert.equal(hookC1.map_ids.length, 1, 'the hook program only tail-calls: one map, its cilium_calls');
    assert.notDeepEqual(hookC1.map_ids, hookE1.map_ids, 'each endpoint has its own cilium_calls');
    assert.equal(await mapName(hookC1.map_ids[0]!), 'cilium_calls_01', 'cilium_calls_01573 as the kernel lists it');
    const a = await show(find(pods.c1.endpointId, 'tail_handle_ipv4'));
    const b = await show(find(pods.e1.endpointId, 'tail_ipv4_to_endpoint'));
    const shared = a.map_ids.filter((m) => b.map_ids.includes(m));
    assert.ok(shared.length >= 3, `the endpoints' tail programs share the node maps (${a.map_ids} vs ${b.map_ids})`);
    assert.deepEqual(
      await dp1.policySlots(),
      [pods.c1.endpointId, pods.e1.endpointId].sort((x, y) => x - y),
    );
    const calls = JSON.parse(
      (await sh(['bpftool', '-j', 'map', 'dump', 'pinned', dp1.callsMapPin(1573)])).stdout,
    ) as Array<{
      key: string[];
    }>;
    assert.deepEqual(
      calls.map((e) => Number.parseInt(e.key[0]!, 16)),
      [7, 11, 13],
      'cilium_calls holds Cilium slots 7, 11, 13',
    );
    const ids2 = await dp2.programIds();
    assert.ok(
      [...ids2.keys()].every((id) => !ids.has(id)),
      'each node has its own programs',
    );
    const counts = await dp1.mapCounts();
    assert.equal(counts.services, 4);
    assert.equal(counts.backends, 6);
    assert.equal(counts.endpoints, 2);
  });

  it('pod → ClusterIP with a same-node backend: translated, redirected, reply from the ClusterIP', async () => {
    const r = await curl(VIP_LOCAL);
    assert.ok(r.ok, `curl http://${VIP_LOCAL}/ from the client failed: ${r.body}`);
    assert.match(r.body, /^pod=e1 client=10\.244\.0\.10:\d+ local=10\.244\.0\.20:8080$/);
    // The TCP handshake completing proves the SYN-ACK came from VIP:80; the trace shows the rev-NAT.
    const lines = lines1().filter((l) => l.includes(`:${r.localPort} `));
    const fwd = `^-> endpoint 2103 flow ${FLOW} , identity ${CLIENT_ID}->${ECHO_ID} state new ifindex ${pods.e1.lxc} orig-ip 10\\.244\\.0\\.10: 10\\.244\\.0\\.10:${r.localPort} -> 10\\.244\\.0\\.20:8080 tcp SYN$`;
    assert.ok(
      lines.some((l) => new RegExp(fwd).test(l)),
      `delivered to the backend's endpoint, as Cilium prints it:\n${lines.join('\n')}`,
    );
    assert.ok(
      !lines.some((l) => l.startsWith('-> stack') && l.includes(`10.244.0.10:${r.localPort} ->`)),
      lines.join('\n'),
    );
    const rev = `^-> endpoint 1573 flow ${FLOW} , identity ${ECHO_ID}->${CLIENT_ID} state reply ifindex ${pods.c1.lxc} orig-ip 10\\.244\\.0\\.20: ${VIP_LOCAL.replaceAll('.', '\\.')}:80 -> 10\\.244\\.0\\.10:${r.localPort} tcp SYN, ACK$`;
    assert.ok(
      lines.some((l) => new RegExp(rev).test(l)),
      `the reply reverse-NATed to the ClusterIP, orig-ip = the backend:\n${lines.join('\n')}`,
    );
    const parsed = parseMonitor(lines1().join('\n'));
    assert.deepEqual(parsed.unknownLines, [], 'the real grammar reads every line of the run');
    expectSameNodeDelivery(parsed.events, { clientIp: pods.c1.ip, backends: [{ ip: pods.e1.ip, endpoint: 2103 }] });
  });

  it('pod → ClusterIP with a remote backend: handed to the kernel, reply reverse-NATed at the client lxc egress', async () => {
    const r = await curl(VIP_REMOTE);
    assert.ok(r.ok, `curl http://${VIP_REMOTE}/ from the client failed: ${r.body}`);
    assert.match(
      r.body,
      /^pod=e2 client=10\.244\.0\.10:\d+ local=10\.244\.1\.30:8080$/,
      'source IP preserved (no SNAT)',
    );
    const lines = lines1().filter((l) => l.includes(`:${r.localPort} `));
    const fwd = `-> stack flow ${FLOW} , identity ${CLIENT_ID}->${ECHO_ID} state new ifindex 0 orig-ip 0\\.0\\.0\\.0: 10\\.244\\.0\\.10:${r.localPort} -> 10\\.244\\.1\\.30:8080 tcp SYN$`;
    assert.ok(
      lines.some((l) => new RegExp(fwd).test(l)),
      `translated SYN to the stack:\n${lines.join('\n')}`,
    );
    const rev = `^-> endpoint 1573 flow ${FLOW} , identity ${ECHO_ID}->${CLIENT_ID} state reply ifindex ${pods.c1.lxc} orig-ip 10\\.244\\.1\\.30: ${VIP_REMOTE.replaceAll('.', '\\.')}:80 -> 10\\.244\\.0\\.10:${r.localPort} tcp SYN, ACK$`;
    assert.ok(
      lines.some((l) => new RegExp(rev).test(l)),
      `remote reply reverse-NATed at to-container:\n${lines.join('\n')}`,
    );
    // The backend's node sees the already translated packet arrive (no translation there), streamed via onRecord.
    const deadline = Date.now() + 2000;
    const want = new RegExp(
      `^-> endpoint 388 flow ${FLOW} , identity ${CLIENT_ID}->${ECHO_ID} state new ifindex ${pods.e2.lxc} orig-ip 10\\.244\\.0\\.10: 10\\.244\\.0\\.10:${r.localPort} -> 10\\.244\\.1\\.30:8080 tcp SYN$`,
    );
    while (!streamed2.some((l) => want.test(l)) && Date.now() < deadline) await new Promise((x) => setTimeout(x, 50));
    assert.ok(
      streamed2.some((l) => want.test(l)),
      `worker stream:\n${streamed2.join('\n')}`,
    );
  });

  it('a service with backends on both nodes: every connection works, both backends answer', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 2; i++) {
      const r = await curl(VIP_BOTH);
      assert.ok(r.ok, `curl ${i + 1} to http://${VIP_BOTH}/ failed`);
      seen.add(/^pod=(\w+)/.exec(r.body)?.[1] ?? '?');
    }
    assert.deepEqual([...seen].sort(), ['e1', 'e2']);
  });

  it('UDP ClusterIP: port translated, replies come from the ClusterIP for both backends', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12 && seen.size < 2; i++) {
      const res = await run(['ip', 'netns', 'exec', ns.c1, process.execPath, '-e', UDP_CLIENT, VIP_UDP], {
        timeoutMs: T,
        where: `pod ${ns.c1}`,
        check: false,
      });
      assert.equal(res.exitCode, 0, `UDP request ${i + 1} to ${VIP_UDP}:53 got no reply`);
      const m = /^from=(\S+) pod=(\w+) client=10\.244\.0\.10:\d+$/.exec(res.stdout.trim());
      assert.ok(m, `unexpected UDP reply: ${res.stdout}`);
      assert.equal(m[1], `${VIP_UDP}:53`, 'the reply is reverse-NATed to the ClusterIP:port');
      seen.add(m[2]!);
    }
    assert.deepEqual([...seen].sort(), ['e1', 'e2']);
  });

  it('full checksums (checksum offload off everywhere): the incremental L3/L4 updates are exact', async () => {
    // veth marks CHECKSUM_NONE packets CHECKSUM_UNNECESSARY when the receiving side has rx
    // checksumming on, so a receiver only verifies when rx and tx offload are off on every hop.
    const devs: Array<[string, string]> = [
      ...Object.values(pods).flatMap(
        (p): Array<[string, string]> => [
          [p.netns, 'eth0'],
          [nodes[p.node].netns, p.lxc],
        ],
      ),
      [ns.n1, 'eth0'],
      [ns.n2, 'eth0'],
    ];
    const offload = (state: 'on' | 'off') =>
      Promise.all(devs.map(([n, d]) => inNs(n, ['ethtool', '-K', d, 'rx', state, 'tx', state])));
    await offload('off');
    try {
      for (const vip of [VIP_LOCAL, VIP_REMOTE]) {
        const r = await curl(vip);
        assert.ok(r.ok, `curl http://${vip}/ with full checksums failed (a wrong checksum update is dropped)`);
      }
      const res = await run(['ip', 'netns', 'exec', ns.c1, process.execPath, '-e', UDP_CLIENT, VIP_UDP], {
        timeoutMs: T,
        where: `pod ${ns.c1}`,
        check: false,
      });
      assert.equal(res.exitCode, 0, 'UDP with full checksums');
    } finally {
      await offload('on');
    }
  });

  it('refuses a second reader of the same perf event array (it would steal the events)', async () => {
    await assert.rejects(startMonitor(dp1), /single consumer/);
    assert.ok(mon1.running());
  });

  it('bpftool net show lists the hook programs; they tail-call, the delivery program calls bpf_redirect', async () => {
    const net = await inNs(ns.n1, ['bpftool', 'net', 'show']);
    for (const pod of [pods.c1, pods.e1]) {
      assert.match(
        net.stdout,
        new RegExp(`${pod.lxc}\\(\\d+\\) clsact/ingress cil_from_container:\\[\\*fsobj\\] id \\d+`),
      );
      assert.match(
        net.stdout,
        new RegExp(`${pod.lxc}\\(\\d+\\) clsact/egress cil_to_container:\\[\\*fsobj\\] id \\d+`),
      );
    }
    const attached = await dp1.attachedPrograms();
    assert.equal(attached.filter((a) => a.ours).length, 4);
    const xlated = (program: string) =>
      sh(['bpftool', 'prog', 'dump', 'xlated', 'pinned', dp1.programPin(pods.c1.endpointId, program)]).then(
        (r) => r.stdout,
      );
    const hook = await xlated('cil_from_container');
    assert.match(hook, /r3 = 7\n.*call bpf_tail_call#12/s);
    assert.doesNotMatch(hook, /call bpf_redirect/);
    assert.doesNotMatch(await xlated('tail_handle_ipv4'), /call bpf_redirect/);
    assert.match(await xlated('tail_ipv4_policy'), /call bpf_redirect#/);
  });

  it('no-local-redirect: the same-node connection still works, without bpf_redirect', async () => {
    await dp1.setFlags({ localRedirect: false });
    try {
      assert.deepEqual(await dp1.readFlags(), { trace: true, localRedirect: false, policy: true });
      assert.deepEqual(await dp1.policySlots(), [], 'no delivery program in cilium_call_policy');
      const r = await curl(VIP_LOCAL);
      assert.ok(r.ok, `curl http://${VIP_LOCAL}/ without local redirect failed: ${r.body}`);
      assert.match(r.body, /^pod=e1 client=10\.244\.0\.10:/);
      const lines = lines1().filter((l) => l.includes(`:${r.localPort} `));
      const tuple = `10.244.0.10:${r.localPort} -> 10.244.0.20:8080 tcp SYN`;
      assert.ok(
        lines.some((l) => l.startsWith('-> stack flow ') && l.endsWith(`ifindex 0 orig-ip 0.0.0.0: ${tuple}`)),
        `the translated SYN goes to the stack:\n${lines.join('\n')}`,
      );
      assert.ok(
        lines.some((l) => l.startsWith('-> endpoint 2103 flow ') && l.endsWith(`orig-ip 10.244.0.10: ${tuple}`)),
        `then reaches the backend's endpoint through its lxc:\n${lines.join('\n')}`,
      );
      assert.ok(
        lines.some((l) =>
          l.endsWith(
            `state reply ifindex ${pods.c1.lxc} orig-ip 10.244.0.20: ${VIP_LOCAL}:80 -> 10.244.0.10:${r.localPort} tcp SYN, ACK`,
          ),
        ),
        `the reply is reverse-NATed (at the client's to-container):\n${lines.join('\n')}`,
      );
      const events = parseMonitor(lines.join('\n')).events;
      assert.throws(
        () => expectSameNodeDelivery(events, { clientIp: pods.c1.ip, backends: [{ ip: pods.e1.ip, endpoint: 2103 }] }),
        /follows a `-> stack` event of the same connection/,
      );
    } finally {
      await dp1.setFlags({ localRedirect: true });
    }
    assert.deepEqual(
      await dp1.policySlots(),
      [pods.c1.endpointId, pods.e1.endpointId].sort((x, y) => x - y),
    );
  });

  it('status is read from the real state (programs, maps) and the configuration (routing, KPR)', async () => {
    const opts = { modes: SEED_MODES, podCIDR: nodes.n1.cidr };
    const st = await gatherDatapathState(dp1, opts);
    assert.equal(st.programsAttached, 4);
    assert.deepEqual(st.interfacesWithPrograms, [pods.c1.lxc, pods.e1.lxc].sort());
    assert.equal(st.servicesInMaps, 4);
    assert.equal(st.endpointsInMaps, 2);
    assert.equal(st.routingNetwork, 'Native');
    assert.equal(st.localRedirect, true);
    const text = renderStatus(st);
    assert.match(text, /^KVStore: +Disabled$/m);
    assert.match(text, /^Attach Mode: +Legacy TC$/m);
    assert.match(text, /^Routing: +Network: Native {3}Host: Legacy$/m);
    assert.match(text, /^KubeProxyReplacement: +False$/m);
    // Cilium reports routingMode as configured, whatever the routes: a missing native route shows in
    // `ip route`, never as a status value real agents do not print.
    await sh(['ip', '-n', ns.n1, 'route', 'del', nodes.n2.cidr]);
    try {
      const broken = await gatherDatapathState(dp1, opts);
      assert.equal(broken.routingNetwork, 'Native');
      assert.match(renderStatus(broken), /^Routing: +Network: Native {3}Host: Legacy$/m);
    } finally {
      await sh(['ip', '-n', ns.n1, 'route', 'add', nodes.n2.cidr, 'via', nodes.n2.ip, 'dev', 'eth0']);
    }
  });

  it('setServices replaces the whole content; detach leaves kube-proxy-less ClusterIP unreachable', async () => {
    await dp1.setServices([services[1]!]);
    assert.deepEqual(await dp1.mapCounts().then((c) => [c.services, c.backends]), [1, 1]);
    const gone = await curl(VIP_REMOTE);
    assert.equal(gone.ok, false, 'a service removed from the maps is not translated any more');
    await dp1.setServices(services);
    await dp1.detach(pods.c1.lxc);
    assert.equal((await dp1.attachedPrograms()).filter((a) => a.interface === pods.c1.lxc).length, 0);
    assert.equal(existsSync(dp1.callsMapPin(pods.c1.endpointId)), false, "the endpoint's cilium_calls is unpinned");
    assert.deepEqual(await dp1.policySlots(), [pods.e1.endpointId], 'and its cilium_call_policy slot emptied');
    assert.deepEqual(dp1.loadedEndpoints(), [pods.e1.endpointId]);
    assert.equal((await gatherDatapathState(dp1, { modes: SEED_MODES })).programsAttached, 2);
    const byName = await gatherDatapathState({ node: nodes.n1.name, netns: ns.n1 }, { modes: SEED_MODES });
    assert.deepEqual([byName.programsAttached, byName.servicesInMaps, byName.routingNetwork], [2, 0, 'Native']);
    const untranslated = await curl(VIP_LOCAL);
    assert.equal(
      untranslated.ok,
      false,
      'without the tc programs nothing translates the ClusterIP (no kube-proxy here)',
    );
    await dp1.attach({ ifname: pods.c1.lxc, endpointId: pods.c1.endpointId });
    const back = await curl(VIP_LOCAL);
    assert.ok(back.ok, 're-attached: works again');
  });
});
