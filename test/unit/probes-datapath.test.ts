/** bpftool, ip and status probes against a fake Backend (recorded outputs, no processes). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExecTarget } from '../../support/backends/types.ts';
import { InfraError } from '../../support/errors.ts';
import { bpftoolNet, bpftoolXlated, programsOn } from '../../support/probes/bpftool.ts';
import { links, neighbours, routes } from '../../support/probes/net.ts';
import { agentStatus } from '../../support/probes/status.ts';
import { fakeBackend, type Reply } from './helpers/fake-backend.ts';

/** Answers by argv and target; the transcript records the call as run through nsenter. */
function fake(reply: (argv: string[], target: ExecTarget) => Reply) {
  return fakeBackend(
    (c) => reply(c.argv, c.target),
    (_target, argv) => ({ where: 'x', argv: ['nsenter', ...argv] }),
  );
}

const NET_SHOW = `tc:
lxcd2a04d71301a(5) clsact/ingress cil_from_container:[*fsobj] id 337
lxcd2a04d71301a(5) clsact/egress cil_to_container:[*fsobj] id 339
lxc2420d7527a95(6) clsact/ingress cil_from_container:[*fsobj] id 337
`;

test('bpftool: net show and dump xlated run in the node, bounded, and parse', async () => {
  const { backend, calls } = fake((argv) =>
    argv[1] === 'net' ? { stdout: NET_SHOW } : { stdout: ' 521: (85) call bpf_redirect#10289728\n 522: (95) exit\n' },
  );
  const net = await bpftoolNet(backend, 'cilium-kubeproxy-control-plane');
  assert.deepEqual(calls[0]!.argv, ['bpftool', 'net', 'show']);
  assert.deepEqual(calls[0]!.target, { kind: 'node', node: 'cilium-kubeproxy-control-plane' });
  assert.ok((calls[0]!.opts?.timeoutMs ?? 0) > 0);
  assert.equal(net.data.length, 3);
  assert.equal(net.kind, 'bpftool-net');
  assert.deepEqual(net.commands, ['nsenter bpftool net show']);
  assert.match(net.summary, /3 attachments on 2 interfaces/);

  const mine = await programsOn(backend, 'cilium-kubeproxy-control-plane', 'lxcd2a04d71301a');
  assert.deepEqual(
    mine.data.map((a) => [a.direction, a.id]),
    [
      ['ingress', 337],
      ['egress', 339],
    ],
  );
  assert.match(
    mine.summary,
    /programs on lxcd2a04d71301a of node cilium-kubeproxy-control-plane: lxcd2a04d71301a tc\/ingress cil_from_container id 337/,
  );

  const x = await bpftoolXlated(backend, 'cilium-kubeproxy-control-plane', 337);
  assert.deepEqual(calls.at(-1)!.argv, ['bpftool', 'prog', 'dump', 'xlated', 'id', '337']);
  assert.deepEqual(x.data.calls, ['bpf_redirect']);
  assert.equal(x.where, 'node cilium-kubeproxy-control-plane prog 337');
  await assert.rejects(bpftoolXlated(backend, 'n', 0), RangeError);
});

test('bpftool: a failing bpftool is an InfraError naming node and command', async () => {
  const { backend } = fake(() => ({
    exitCode: 255,
    stderr: "Error: can't get prog by id (337): No such file or directory",
  }));
  await assert.rejects(
    bpftoolXlated(backend, 'cilium-kubeproxy-worker', 337),
    (e: unknown) =>
      e instanceof InfraError &&
      /on node cilium-kubeproxy-worker: `nsenter bpftool prog dump xlated id 337` exited with 255 — Error: can't get prog/.test(
        (e as Error).message,
      ),
  );
});

test('ip: routes, neighbours and links are read as JSON in the target namespace', async () => {
  const { backend, calls } = fake((argv) => {
    if (argv.includes('route'))
      return { stdout: '[{"dst":"default","gateway":"10.244.0.26","dev":"eth0","flags":[]}]' };
    if (argv.includes('neigh'))
      return { stdout: '[{"dst":"10.244.0.26","dev":"eth0","lladdr":"76:f0:bd:76:76:77","state":["REACHABLE"]}]' };
    return {
      stdout:
        '[{"ifindex":2,"ifname":"eth0","flags":["UP"],"mtu":1500,"operstate":"UP","address":"12:94:43:de:b3:c0","addr_info":[{"family":"inet","local":"10.244.0.10","prefixlen":32}]}]',
    };
  });
  const pod: ExecTarget = { kind: 'pod', pod: 'client', namespace: 'default' };
  const r = await routes(backend, pod);
  const n = await neighbours(backend, pod);
  const l = await links(backend, { kind: 'node', node: 'cilium-kubeproxy-worker' });
  assert.deepEqual(
    calls.map((c) => c.argv.join(' ')),
    ['ip -j route show', 'ip -j neigh show', 'ip -j addr show'],
  );
  assert.deepEqual(calls[0]!.target, pod);
  assert.equal(r.where, 'pod client');
  assert.match(r.summary, /default via 10\.244\.0\.26 dev eth0/);
  assert.equal(n.data[0]!.lladdr, '76:f0:bd:76:76:77');
  assert.equal(l.data[0]!.name, 'eth0');
  assert.equal(l.where, 'node cilium-kubeproxy-worker');
});

test('ip: an ip without -j is asked again in text; a failure is an InfraError', async () => {
  const { backend, calls } = fake((argv) =>
    argv[1] === '-j'
      ? { exitCode: 1, stderr: 'Option "-j" is unknown, try "ip -help".' }
      : { stdout: 'default via 10.244.0.26 dev eth0\n' },
  );
  const r = await routes(backend, { kind: 'pod', pod: 'client' });
  assert.deepEqual(
    calls.map((c) => c.argv.join(' ')),
    ['ip -j route show', 'ip route show'],
  );
  assert.equal(r.commands.length, 2);
  assert.equal(r.data[0]!.gateway, '10.244.0.26');
  const broken = fake(() => ({ exitCode: 1, stderr: 'Cannot open network namespace "x": No such file or directory' }));
  await assert.rejects(routes(broken.backend, { kind: 'pod', pod: 'ghost' }), /Could not read the routes of pod ghost/);
});

const STATUS = `KVStore:                 Ok   Disabled
Kubernetes:              Ok   1.27 (v1.27.3) [linux/amd64]
KubeProxyReplacement:    False
Cilium:                  Ok   1.17.15 (v1.17.15-abc)
Routing:                 Network: Native   Host: Legacy
`;

test('status: cilium-dbg status on the agent of the node; unhealthy exit codes still give evidence', async () => {
  const { backend, calls } = fake(() => ({ exitCode: 1, stdout: STATUS }));
  const ev = await agentStatus(backend, 'cilium-kubeproxy-worker');
  assert.deepEqual(calls[0]!.target, { kind: 'agent', node: 'cilium-kubeproxy-worker' });
  assert.deepEqual(calls[0]!.argv, ['cilium-dbg', 'status']);
  assert.equal(ev.data.routing?.network, 'Native');
  assert.match(ev.summary, /routing Native, host Legacy; KubeProxyReplacement False; exit 1 \(unhealthy component\)/);
  const none = fake(() => ({ exitCode: 1, stderr: 'Error: cannot connect to the agent' }));
  await assert.rejects(
    agentStatus(none.backend, 'cilium-kubeproxy-worker'),
    (e: unknown) =>
      e instanceof InfraError &&
      /agent status on node cilium-kubeproxy-worker: `nsenter cilium-dbg status` exited with 1/.test(
        (e as Error).message,
      ),
  );
});
