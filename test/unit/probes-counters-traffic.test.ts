import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend } from '../../support/backends/types.ts';
import { DEFAULT_NODE_READS } from '../../support/config.ts';
import { InfraError } from '../../support/errors.ts';
import { forgetIptablesModes, snapshotCounters } from '../../support/probes/counters.ts';
import { MAX_REQUESTS_PER_PROCESS, processShares, sendRequests } from '../../support/probes/traffic.ts';
import { fakeBackend, type Reply } from './helpers/fake-backend.ts';

const NAT_WITH_KUBE = `*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
[0:0] -A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
[3:180] -A KUBE-SERVICES -d 10.96.94.95/32 -p tcp -m comment --comment "default/echo:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-ZJMBFACUQCTMIK2C
COMMIT
`;
const NODES = ['cilium-kubeproxy-control-plane', 'cilium-kubeproxy-worker'];

/** `iptables-<variant> -t nat -S KUBE-SERVICES 1`: the detector's check, answered per variant. */
function chainCheck(argv: string[], where: 'legacy' | 'nft' | 'none'): Reply | null {
  if (argv[2] !== 'nat' || argv[3] !== '-S' || argv[4] !== 'KUBE-SERVICES') return null;
  const variant = argv[0] === 'iptables-legacy' ? 'legacy' : argv[0] === 'iptables-nft' ? 'nft' : null;
  return variant === where ? { stdout: '' } : { exitCode: 1, stderr: 'iptables: No chain/target/match by that name.' };
}

test('counters: nft nodes are detected once, then snapshotted with one iptables-save -c -t nat per node', async () => {
  const { backend, calls } = fakeBackend(({ argv }) => chainCheck(argv, 'nft') ?? { stdout: NAT_WITH_KUBE });
  const first = await snapshotCounters(backend, NODES);
  assert.deepEqual([...first.keys()], NODES);
  assert.deepEqual(calls.map((c) => c.argv.join(' ')).sort(), [
    'iptables-legacy -t nat -S KUBE-SERVICES 1',
    'iptables-legacy -t nat -S KUBE-SERVICES 1',
    'iptables-nft -t nat -S KUBE-SERVICES 1',
    'iptables-nft -t nat -S KUBE-SERVICES 1',
    'iptables-nft-save -c -t nat',
    'iptables-nft-save -c -t nat',
  ]);
  for (const c of calls) {
    assert.equal(c.target.kind, 'node');
    assert.ok(!c.argv.includes('-Z'), 'never zero');
    assert.ok((c.opts?.timeoutMs ?? 0) > 0, 'every call has a timeout');
  }
  const cp = first.get(NODES[0]!)!;
  assert.equal(cp.kind, 'iptables');
  assert.equal(cp.where, 'node cilium-kubeproxy-control-plane');
  assert.match(cp.summary, /via iptables-nft \(KUBE-SERVICES in nftables\)/);
  assert.equal(cp.commands.at(-1), 'ip netns exec cilium-kubeproxy-control-plane iptables-nft-save -c -t nat');
  assert.equal(cp.data.chains.find((c) => c.name === 'KUBE-SERVICES')?.rules[0]?.packets, 3);

  calls.length = 0;
  const second = await snapshotCounters(backend, NODES);
  assert.equal(second.size, 2);
  assert.deepEqual(
    calls.map((c) => `${(c.target as { node: string }).node} ${c.argv.join(' ')}`).sort(),
    NODES.map((n) => `${n} iptables-nft-save -c -t nat`),
    'exactly one read per node per snapshot once detected',
  );
});

test('counters: KUBE-SERVICES in the legacy tables makes legacy the mode', async () => {
  const { backend, calls } = fakeBackend(({ argv }) => chainCheck(argv, 'legacy') ?? { stdout: NAT_WITH_KUBE });
  const snaps = await snapshotCounters(backend, [NODES[1]!]);
  assert.deepEqual(
    calls.map((c) => c.argv.join(' ')),
    ['iptables-legacy -t nat -S KUBE-SERVICES 1', 'iptables-legacy-save -c -t nat'],
  );
  assert.match(snaps.get(NODES[1]!)!.summary, /via iptables-legacy \(KUBE-SERVICES in the legacy tables\)/);
});

test('counters: a mode passed by the caller or known to the backend skips detection', async () => {
  const { backend, calls } = fakeBackend(() => ({ stdout: NAT_WITH_KUBE }));
  await snapshotCounters(backend, NODES, { mode: 'legacy' });
  assert.deepEqual(
    calls.map((c) => c.argv[0]),
    ['iptables-legacy-save', 'iptables-legacy-save'],
  );
  calls.length = 0;
  (backend as { kubeProxyIptables?: () => string }).kubeProxyIptables = () => 'legacy';
  await snapshotCounters(backend, NODES);
  assert.deepEqual(
    calls.map((c) => c.argv[0]),
    ['iptables-legacy-save', 'iptables-legacy-save'],
  );
});

test('counters: an unreadable snapshot is an InfraError naming node and command', async () => {
  const { backend } = fakeBackend(
    ({ argv }) =>
      chainCheck(argv, 'nft') ?? { exitCode: 4, stderr: 'iptables-nft-save: Permission denied (you must be root)' },
  );
  await assert.rejects(snapshotCounters(backend, [NODES[1]!]), (err: unknown) => {
    assert.ok(err instanceof InfraError);
    assert.match(
      err.message,
      /on node cilium-kubeproxy-worker: `ip netns exec cilium-kubeproxy-worker iptables-nft-save -c -t nat` exited with 4 — iptables-nft-save: Permission denied/,
    );
    return true;
  });
  forgetIptablesModes(backend);
  const garbled = fakeBackend(({ argv }) => chainCheck(argv, 'nft') ?? { stdout: 'Fatal: no table\n' });
  await assert.rejects(snapshotCounters(garbled.backend, ['n1']), /printed no nat table/);
  const uncounted = fakeBackend(
    ({ argv }) => chainCheck(argv, 'nft') ?? { stdout: NAT_WITH_KUBE.replace(/^\[\d+:\d+\] /gm, '') },
  );
  await assert.rejects(snapshotCounters(uncounted.backend, ['n1']), /rules without counters/);
});

test('counters: a node without the -nft/-legacy tools falls back to plain iptables, its variant from iptables -V', async () => {
  const { backend, calls } = fakeBackend(({ argv }) =>
    argv[0] === 'iptables' && argv[1] === '-V'
      ? { stdout: 'iptables v1.8.7 (legacy)\n' }
      : argv[0] === 'iptables'
        ? { stdout: '' }
        : argv[0] === 'iptables-save'
          ? { stdout: NAT_WITH_KUBE }
          : { exitCode: 127, stderr: 'executable file not found in $PATH' },
  );
  const snaps = await snapshotCounters(backend, ['n1']);
  assert.deepEqual(
    calls.map((c) => c.argv[0]),
    ['iptables-legacy', 'iptables-nft', 'iptables', 'iptables', 'iptables-save'],
  );
  assert.match(snaps.get('n1')!.summary, /via iptables \(KUBE-SERVICES via the image's only iptables \(legacy\)\)/);
  calls.length = 0;
  await snapshotCounters(backend, ['n1']);
  assert.deepEqual(
    calls.map((c) => c.argv[0]),
    ['iptables-save'],
    'the fallback is remembered too',
  );
});

const echo = (pod: string, port: number, urlnum = 0) =>
  `pod=${pod} client=10.244.0.10:${port} host=10.96.94.95\n\nhookpoint-curl #${urlnum} code=200 exit=0 local=10.244.0.10:${port} remote=10.96.94.95:80 error=\n`;

test('traffic: three curl processes share the requests, each a fresh connection, bounded, in the source namespace', async () => {
  let port = 40000;
  const { backend, calls } = fakeBackend(({ argv }) => {
    const urls = argv.filter((a) => a.startsWith('http://'));
    return { stdout: urls.map((_, i) => echo(++port % 2 ? 'echo-cp' : 'echo-worker', port, i)).join('') };
  });
  const ev = await sendRequests(backend, { kind: 'pod', pod: 'client' }, { ip: '10.96.94.95', port: 80 }, 4);
  assert.equal(calls.length, 3, 'one process per lane (HTTP_LANES), not one per request');
  assert.deepEqual(
    calls.map((c) => c.argv.filter((a) => a === 'http://10.96.94.95:80/hostname').length),
    [1, 1, 2],
  );
  for (const c of calls) {
    assert.deepEqual(c.target, { kind: 'pod', pod: 'client' });
    assert.equal(c.argv[0], 'curl');
    assert.ok(c.argv.includes('-sS'));
    assert.equal(c.argv[c.argv.indexOf('--max-time') + 1], '2');
    assert.equal(c.argv[c.argv.indexOf('-H') + 1], 'Connection: close', 'no connection is reused');
    assert.match(
      c.argv[c.argv.indexOf('-w') + 1]!,
      /%\{urlnum\}.*%\{http_code\}.*%\{exitcode\}.*%\{local_port\}.*%\{errormsg\}\n$/,
    );
    assert.ok(!c.argv.includes('--keepalive') && !c.argv.includes('--local-port'));
    assert.equal(c.opts?.check, false, 'a failed request is an outcome, not an exec error');
  }
  // Bounded: above curl's own --max-time for every request it carries, yet a hung exec ends within seconds.
  assert.deepEqual(
    calls.map((c) => c.opts?.timeoutMs),
    [12_000, 12_000, 14_000],
  );
  assert.equal(ev.kind, 'traffic');
  assert.equal(ev.where, 'pod client');
  assert.equal(ev.commands.length, 3);
  assert.match(ev.commands[0]!, /^ip netns exec client curl -sS/);
  assert.deepEqual(
    ev.data.map((o) => [o.seq, o.ok, o.answeredBy, o.localPort]),
    [
      [1, true, 'echo-cp', 40001],
      [2, true, 'echo-worker', 40002],
      [3, true, 'echo-cp', 40003],
      [4, true, 'echo-worker', 40004],
    ],
  );
  assert.equal(
    ev.summary,
    '4/4 HTTP requests from pod client to 10.96.94.95:80 succeeded (answered by echo-cp ×2, echo-worker ×2)',
  );
  // Each command once, the requests it carried beneath it.
  assert.match(ev.raw, /^\$ ip netns exec client curl [\s\S]*?\/hostname\n {2}#1 ok HTTP 200 answered by echo-cp/);
  assert.match(ev.raw, /\n {2}#3 ok .*\n {2}#4 ok .*\n$/);
});

test('traffic: requests are shared out as runs of consecutive numbers, one per lane, at most 100 per process', () => {
  const sizes = (g: number[][]) => g.map((x) => x.length);
  assert.deepEqual(processShares(4, 3), [[1], [2], [3, 4]]);
  assert.deepEqual(sizes(processShares(10, 3)), [3, 3, 4]);
  assert.deepEqual(processShares(1, 3), [[1]]);
  assert.deepEqual(sizes(processShares(250, 3)), [83, 83, 84]);
  assert.deepEqual(sizes(processShares(301, 3)), [75, 75, 75, 76]);
  const many = processShares(3000, 3);
  assert.equal(many.length, 30);
  assert.ok(many.every((g) => g.length === MAX_REQUESTS_PER_PROCESS));
  assert.deepEqual(
    many.flat(),
    Array.from({ length: 3000 }, (_, i) => i + 1),
    'every request once, in order',
  );
});

test('traffic: failures are outcomes; concurrency and max time are honoured; IPv6 is bracketed', async () => {
  const { backend, calls } = fakeBackend(() => ({
    exitCode: 28,
    stdout: '\nhookpoint-curl code=000 local=10.244.0.10:40100 remote=:0\n',
    stderr: 'curl: (28) Connection timed out after 1001 milliseconds\n',
  }));
  const ev = await sendRequests(
    backend,
    { kind: 'node', node: 'cilium-kubeproxy-control-plane' },
    { ip: '172.18.0.3', port: 30080 },
    3,
    {
      maxTimeSec: 1,
      concurrency: 3,
    },
  );
  assert.equal(calls[0]!.argv[calls[0]!.argv.indexOf('--max-time') + 1], '1');
  assert.deepEqual(
    ev.data.map((o) => o.error),
    ['timeout', 'timeout', 'timeout'],
  );
  assert.match(
    ev.summary,
    /^0\/3 HTTP requests from node cilium-kubeproxy-control-plane to 172\.18\.0\.3:30080 succeeded; failed: timeout ×3$/,
  );
  assert.match(ev.raw, /#1 timeout: curl: \(28\)/);

  const v6 = fakeBackend(() => ({ stdout: echo('e', 1) }));
  await sendRequests(v6.backend, { kind: 'pod', pod: 'c' }, { ip: 'fd00::1', port: 80 }, 1);
  assert.equal(v6.calls[0]!.argv.at(-1), 'http://[fd00::1]:80/hostname');
  await assert.rejects(sendRequests(v6.backend, { kind: 'pod', pod: 'c' }, { ip: 'fd00::1', port: 80 }, 0), RangeError);
});

test('traffic: an exec that could not run is infrastructure trouble (InfraError propagates)', async () => {
  const { backend } = fakeBackend(() => new InfraError('Command timed out after 5000 ms on pod client: curl …'));
  await assert.rejects(
    sendRequests(backend, { kind: 'pod', pod: 'client' }, { ip: '10.96.94.95', port: 80 }, 1),
    InfraError,
  );
});

// --- targeted reads: only the scenario's services ------------------------------------------

const ECHO_SVC = {
  namespace: 'default',
  name: 'echo',
  portName: 'http',
  protocol: 'TCP',
  nodePort: 30080,
  endpoints: [
    { ip: '10.244.0.5', port: 8080 },
    { ip: '10.244.1.5', port: 8080 },
  ],
};
// `iptables-nft -t nat -L <chain> -n -v -x` for the chains the read names (kube-proxy's naming of default/echo:http).
const LISTED = `Chain KUBE-SERVICES (2 references)
    pkts      bytes target     prot opt in     out     source               destination
       7      420 KUBE-SVC-ZJMBFACUQCTMIK2C  6    --  *      *       0.0.0.0/0            10.96.0.10           /* default/echo:http cluster IP */ tcp dpt:80
Chain KUBE-NODEPORTS (1 references)
    pkts      bytes target     prot opt in     out     source               destination
       2      120 KUBE-EXT-ZJMBFACUQCTMIK2C  6    --  *      *       0.0.0.0/0            0.0.0.0/0            /* default/echo:http */ tcp dpt:30080
Chain KUBE-SVC-ZJMBFACUQCTMIK2C (2 references)
    pkts      bytes target     prot opt in     out     source               destination
       0        0 KUBE-SEP-IVKD2I6QVM6VRT6E  0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* default/echo:http -> 10.244.0.5:8080 */ statistic mode random probability 0.50000000000
       0        0 KUBE-SEP-R66PQ5STIP4QDMXL  0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* default/echo:http -> 10.244.1.5:8080 */
Chain KUBE-SEP-IVKD2I6QVM6VRT6E (1 references)
    pkts      bytes target     prot opt in     out     source               destination
       4      240 DNAT       6    --  *      *       0.0.0.0/0            0.0.0.0/0            /* default/echo:http */ tcp to:10.244.0.5:8080
Chain KUBE-SEP-R66PQ5STIP4QDMXL (1 references)
    pkts      bytes target     prot opt in     out     source               destination
       3      180 DNAT       6    --  *      *       0.0.0.0/0            0.0.0.0/0            /* default/echo:http */ tcp to:10.244.1.5:8080
`;

/** `iptables-nft -t nat -S KUBE-SERVICES | grep -c ^` (how large the table is), answered with `lines`. */
function sizing(argv: string[], lines: number): { stdout: string } | null {
  return argv[0] === 'sh' && argv[2]!.includes('-S KUBE-SERVICES | grep -c ^') ? { stdout: `${lines}\n` } : null;
}

test('counters: with the scenario’s services, one command per node lists only their chains (nft), with exact counters', async () => {
  const { backend, calls } = fakeBackend(
    ({ argv }) => sizing(argv, 10_003) ?? (argv[0] === 'sh' ? { stdout: LISTED } : { exitCode: 1 }),
  );
  (backend as { kubeProxyIptables?: () => string }).kubeProxyIptables = () => 'nft';
  const snaps = await snapshotCounters(backend, NODES, { services: [ECHO_SVC] });
  assert.equal(calls.length, 4, 'per node: KUBE-SERVICES counted once, then one read; no detection');
  assert.deepEqual(
    calls.filter((c) => sizing(c.argv, 0)).map((c) => c.argv.at(-1)),
    ['iptables-nft', 'iptables-nft'],
  );
  calls.length = 0;
  await snapshotCounters(backend, NODES, { services: [ECHO_SVC] });
  assert.equal(calls.length, 2, 'then one read per node and snapshot');
  const argv = calls[0]!.argv;
  assert.deepEqual(argv.slice(0, 2), ['sh', '-c']);
  assert.equal(argv[4], 'iptables-nft');
  assert.deepEqual(argv[5]!.split('\n'), ['Chain ', 'bytes target', 'default/echo:', 'default/echo ', 'default/echo"']);
  assert.deepEqual(argv.slice(6), [
    'KUBE-SVC-ZJMBFACUQCTMIK2C',
    'KUBE-EXT-ZJMBFACUQCTMIK2C',
    'KUBE-SEP-IVKD2I6QVM6VRT6E',
    'KUBE-SEP-R66PQ5STIP4QDMXL',
  ]);
  assert.match(argv[2]!, /-t nat -L "\$c" -n -v -x/);
  assert.ok(!argv.includes('-Z') && !/ -Z\b/.test(argv[2]!), 'never zero');
  const ev = snaps.get(NODES[0]!)!;
  assert.equal(ev.data.exactCounters, true);
  assert.match(
    ev.summary,
    /kube-proxy rules of default\/echo on node cilium-kubeproxy-control-plane via iptables-nft: 6 rules/,
  );
  const services = ev.data.chains.find((c) => c.name === 'KUBE-SERVICES')!;
  assert.equal(services.rules[0]!.packets, 7);
});

test('counters: legacy reads the table once and filters it on the node to the services’ rules', async () => {
  const { backend, calls } = fakeBackend(({ argv }) =>
    argv[0] === 'sh' ? { stdout: NAT_WITH_KUBE } : { exitCode: 1 },
  );
  await snapshotCounters(backend, [NODES[0]!], { services: [ECHO_SVC], mode: 'legacy' });
  const argv = calls[0]!.argv;
  assert.equal(argv[2], '"$1" -c -t nat | grep -F -e "$2"');
  assert.equal(argv[4], 'iptables-legacy-save');
  const keep = argv[5]!.split('\n');
  for (const p of [
    '*nat',
    'COMMIT',
    ':KUBE-SERVICES ',
    'default/echo:',
    'default/echo"',
    '-A KUBE-SEP-IVKD2I6QVM6VRT6E ',
    ':KUBE-EXT-ZJMBFACUQCTMIK2C ',
  ])
    assert.ok(keep.includes(p), p);
});

test('counters: a chain the rules lead to that the read did not name is read by a second command', async () => {
  // kube-proxy knows a third endpoint the topology did not: its KUBE-SEP chain is read too.
  const third = LISTED.replace(
    '/* default/echo:http -> 10.244.1.5:8080 */\n',
    '/* default/echo:http -> 10.244.1.5:8080 */ statistic mode random probability 0.50000000000\n       0        0 KUBE-SEP-THIRDTHIRDTHIRD1  0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* default/echo:http -> 10.244.2.9:8080 */\n',
  );
  const { backend, calls } = fakeBackend(({ argv }) => ({
    stdout: sizing(argv, 600)
      ? '600\n'
      : argv.includes('KUBE-SEP-THIRDTHIRDTHIRD1')
        ? `${third}Chain KUBE-SEP-THIRDTHIRDTHIRD1 (1 references)\n    pkts      bytes target     prot opt in     out     source               destination\n       1       60 DNAT       6    --  *      *       0.0.0.0/0            0.0.0.0/0            /* default/echo:http */ tcp to:10.244.2.9:8080\n`
        : third,
  }));
  const snaps = await snapshotCounters(backend, ['n1'], { services: [ECHO_SVC], mode: 'nft' });
  assert.equal(calls.length, 3, 'the count of KUBE-SERVICES, then two reads');
  assert.equal(calls[2]!.argv.at(-1), 'KUBE-SEP-THIRDTHIRDTHIRD1');
  assert.equal(snaps.get('n1')!.commands.length, 2, 'both commands are in the evidence');
  assert.ok(snaps.get('n1')!.data.chains.some((c) => c.name === 'KUBE-SEP-THIRDTHIRDTHIRD1'));
});

test('counters: a failed targeted read is an InfraError naming the command', async () => {
  const { backend } = fakeBackend(() => ({
    exitCode: 1,
    stderr: "iptables v1.8.9 (nf_tables): chain `KUBE-SERVICES' in table `nat' is incompatible",
  }));
  await assert.rejects(
    snapshotCounters(backend, ['n1'], { services: [ECHO_SVC], mode: 'nft' }),
    /on node n1: `ip netns exec n1 sh -c .*exited with 1 — .*incompatible/s,
  );
});

test('counters: nodes are read side by side, at most `concurrency` at once', async () => {
  let inFlight = 0;
  let peak = 0;
  const nodes = Array.from({ length: 12 }, (_, i) => `n${i}`);
  const { backend } = fakeBackend(({ argv }) => sizing(argv, 10_003) ?? { stdout: LISTED });
  const exec = backend.exec.bind(backend);
  backend.exec = async (...args: Parameters<Backend['exec']>) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    return exec(...args);
  };
  const snaps = await snapshotCounters(backend, nodes, { services: [ECHO_SVC], mode: 'nft', concurrency: 3 });
  assert.deepEqual([...snaps.keys()], nodes);
  assert.equal(peak, 3);
  peak = 0;
  await snapshotCounters(backend, nodes, { services: [ECHO_SVC], mode: 'nft' });
  assert.equal(peak, DEFAULT_NODE_READS, 'default bound');
});

test('counters: a small nft table is read whole (cheaper than one iptables-nft per chain); counted once per node', async () => {
  const { backend, calls } = fakeBackend(
    ({ argv }) => sizing(argv, 40) ?? { stdout: argv[0] === 'sh' ? LISTED : NAT_WITH_KUBE },
  );
  const snaps = await snapshotCounters(backend, NODES, { services: [ECHO_SVC], mode: 'nft' });
  assert.deepEqual(calls.map((c) => (sizing(c.argv, 0) ? 'count' : c.argv.join(' '))).sort(), [
    'count',
    'count',
    'iptables-nft-save -c -t nat',
    'iptables-nft-save -c -t nat',
  ]);
  assert.match(snaps.get(NODES[0]!)!.summary, /^nat table of node .* via iptables-nft/);
  calls.length = 0;
  await snapshotCounters(backend, NODES, { services: [ECHO_SVC], mode: 'nft' });
  assert.deepEqual(
    calls.map((c) => c.argv.join(' ')),
    ['iptables-nft-save -c -t nat', 'iptables-nft-save -c -t nat'],
    'the after snapshot reads as the before one did',
  );
  // Asked for: targeted or whole, whatever the count says.
  calls.length = 0;
  await snapshotCounters(backend, [NODES[0]!], { services: [ECHO_SVC], mode: 'nft', targeted: true });
  assert.deepEqual(
    calls.map((c) => c.argv.slice(0, 2)),
    [['sh', '-c']],
  );
  calls.length = 0;
  await snapshotCounters(backend, [NODES[0]!], { services: [ECHO_SVC], mode: 'legacy', targeted: false });
  assert.deepEqual(
    calls.map((c) => c.argv.join(' ')),
    ['iptables-legacy-save -c -t nat'],
  );
  // Legacy never counts: every reader fetches the whole table from the kernel, the targeted one filters it on the node.
  const legacy = fakeBackend(({ argv }) => (argv[0] === 'sh' ? { stdout: NAT_WITH_KUBE } : { exitCode: 1 }));
  await snapshotCounters(legacy.backend, [NODES[0]!], { services: [ECHO_SVC], mode: 'legacy' });
  assert.deepEqual(
    legacy.calls.map((c) => c.argv[4]),
    ['iptables-legacy-save'],
  );
});
