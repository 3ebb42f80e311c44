/**
 * Tools where the images have them, on the kind backend (scripted executor + fake API server):
 * bpftool runs in the agent's image, in the probe pod's privileged container of it (the
 * kindest/node image has none; the agent container lacks CAP_SYSLOG), the
 * cilium_host address comes from the node's CiliumNode, and after a failed scenario every
 * collector — the descriptor's node collectors and the backend's own — runs where its tool is.
 * The test double refuses any node-container command for a tool the node image lacks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { KIND_DESCRIPTOR } from '../../../support/backends/kind/descriptor.ts';
import { type Attachment, EvidenceRecorder } from '../../../support/evidence/index.ts';
import { expectDefaultGateway } from '../../../support/expectations/net.ts';
import { bpftoolNet, bpftoolXlated } from '../../../support/probes/bpftool.ts';
import { snapshotCounters } from '../../../support/probes/counters.ts';
import { routes } from '../../../support/probes/net.ts';
import { collectFailureEvidence } from '../../../support/scenario/failure-collectors.ts';
import type { HookpointWorld } from '../../../support/scenario/world.ts';
import { CLUSTER, runCleanups, SEED, setup, type World } from '../helpers/kind/kind-cluster-world.ts';
import { realWorld } from '../helpers/real-world.ts';

afterEach(runCleanups);

const ROOT = path.resolve(import.meta.dirname, '../../..');
/** Hand-written from Cilium's cilium.io/v2 CiliumNode types (test/fixtures/hand-written/README.md). */
const CILIUM_NODE = JSON.parse(
  readFileSync(path.join(ROOT, 'test/fixtures/hand-written/ciliumnode-cilium-kubeproxy-control-plane.json'), 'utf8'),
);
const TCX = 'bpftool-net-show-prog-show-tcx-1.17.5-native-endpointroutes-idx7258039410.txt';
const XLATED = 'bpftool-prog-dump-xlated-generic-socketfilter-format-idx21415374477.txt';
const POD_ROUTE = 'ip-route-node-and-pod-1.18.6-kind-native-autodirectnoderoutes-idx60285825367.txt';

/** The `bpftool net show` block of the tcx sample (its prompt line `c0bpf net show` up to the blank line). */
function netShowBlock(text: string): string {
  const lines = text.split('\n');
  const from = lines.findIndex((l) => /bpf net show$/.test(l.trim()));
  const to = lines.findIndex((l, i) => i > from && l.trim() === '');
  return `${lines.slice(from + 1, to).join('\n')}\n`;
}

/** The pod's `ip route` answer of the kind sample (the line after `nsenter -t … -n ip route`). */
function podRouteBlock(text: string): string {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /-n ip route$/.test(l.trim()));
  return `${lines[at + 1]}\n`;
}

const probeBpftool = ['-c', 'bpftool', '--', 'bpftool'];

async function provisioned(t: Parameters<typeof setup>[0]): Promise<World | null> {
  const w = await setup(t);
  if (!w) return null;
  await w.backend.provision(SEED);
  return w;
}

describe('tools where the images have them (kind)', () => {
  it("runs bpftool in the probe's container of the agent's image on the node, and reads the real tcx output", async (t) => {
    const tcx = realWorld(t, TCX);
    const xlated = realWorld(t, XLATED);
    if (tcx === null || xlated === null) return;
    const w = await provisioned(t);
    if (!w) return;
    w.exec
      .on([...probeBpftool, 'net', 'show'], { stdout: netShowBlock(tcx) })
      .on([...probeBpftool, 'prog', 'dump', 'xlated', 'id', '1998'], { stdout: xlated });

    const net = await bpftoolNet(w.backend, 'worker');
    const call = w.exec.matching([...probeBpftool, 'net', 'show'])[0]!.argv;
    assert.deepEqual(call.slice(call.indexOf('exec')), [
      'exec',
      'hookpoint-probe-worker',
      '-c',
      'bpftool',
      '--',
      'bpftool',
      'net',
      'show',
    ]);
    assert.ok(call.includes(w.backend.kubeconfig));
    // The probe's bpftool container runs the installed agent's image, privileged; `probe` stays the default container.
    const probe = w.api.get('apis/apps/v1', 'daemonsets', 'hookpoint-probe', call[call.indexOf('--namespace') + 1])!;
    const agentImage = w.api.get('apis/apps/v1', 'daemonsets', 'cilium', 'kube-system')!.spec.template.spec
      .containers[0].image;
    assert.deepEqual(
      probe.spec.template.spec.containers.map((c: { name: string; image: string; securityContext: unknown }) => [
        c.name,
        c.name === 'bpftool' ? c.image === agentImage : true,
        c.securityContext,
      ]),
      [
        ['probe', true, { privileged: true }],
        ['bpftool', true, { privileged: true }],
      ],
    );
    assert.equal(probe.spec.template.metadata.annotations['kubectl.kubernetes.io/default-container'], 'probe');
    const lxc = net.data.find((a) => a.interface === 'lxc016a899bb2f4' && a.direction === 'ingress');
    assert.deepEqual(lxc && { hook: lxc.hook, program: lxc.program, id: lxc.id, linkId: lxc.linkId }, {
      hook: 'tcx',
      program: 'cil_from_container',
      id: 1998,
      linkId: 30,
    });
    const prog = await bpftoolXlated(w.backend, 'worker', 1998);
    assert.ok(prog.data.instructions > 0, prog.summary);
    assert.equal(w.exec.matching(['docker', 'exec', `${CLUSTER}-worker`, 'bpftool']).length, 0);
    assert.deepEqual(w.exec.refused, []);
    // The exec target states which image the tool came from.
    assert.match(
      w.exec.matching([...probeBpftool])[0]!.opts.where ?? '',
      /bpftool container \(Cilium agent image\) of the probe on node/,
    );
  });

  it('refuses bpftool or tcpdump asked of a node container (the test double is strict)', async (t) => {
    const w = await provisioned(t);
    if (!w) return;
    for (const tool of ['bpftool', 'tcpdump'])
      await assert.rejects(
        w.exec.run(['docker', 'exec', `${CLUSTER}-worker`, tool, 'net', 'show'], { timeoutMs: 1000 }),
        new RegExp(`${tool} asked of a node container, whose image has no ${tool}`),
      );
    assert.equal(w.exec.refused.length, 2);
    // iptables and iproute2 are in the node image: those still run there.
    const r = await w.backend.exec({ kind: 'node', node: 'worker' }, ['ip', 'route', 'show']);
    assert.deepEqual(r.argv.slice(0, 3), ['docker', 'exec', `${CLUSTER}-worker`]);
  });

  it("reads cilium_host's address from the CiliumNode; the gateway check passes or fails on it", async (t) => {
    const route = realWorld(t, POD_ROUTE);
    if (route === null) return;
    const w = await setup(t);
    if (!w) return;
    w.api.put('apis/cilium.io/v2', 'ciliumnodes', structuredClone(CILIUM_NODE));
    await w.backend.provision(SEED);
    await w.backend.runClient({ name: 'client', node: 'control-plane' });
    w.exec
      .on(['exec', 'client', '--', 'ip', '-j', 'route'], {
        exitCode: 255,
        stderr: 'Option "-j" is unknown, try "ip -help".\n',
      })
      .on(['exec', 'client', '--', 'ip', 'route', 'show'], { stdout: podRouteBlock(route) });

    const topo = await w.backend.topology();
    const cp = topo.nodes.find((n) => n.role === 'control-plane')!;
    const worker = topo.nodes.find((n) => n.role === 'worker')!;
    assert.equal(cp.ciliumHostIP, '10.244.0.154', 'spec.addresses[type=CiliumInternalIP]');
    assert.equal(worker.ciliumHostIP, undefined, 'no CiliumNode: unknown, so the step says inconclusive');
    assert.ok(
      w.api.requests.some(
        (r) => r.method === 'GET' && r.path === `/apis/cilium.io/v2/ciliumnodes/${CLUSTER}-control-plane`,
      ),
    );

    const ev = await routes(w.backend, { kind: 'pod', pod: 'client' });
    assert.equal(expectDefaultGateway(ev, cp.ciliumHostIP!).dev, 'eth0');

    // Another cilium_host address in the CiliumNode: the same evidence now fails the check.
    const moved = structuredClone(CILIUM_NODE);
    moved.spec.addresses[1].ip = '10.244.0.1';
    w.api.put('apis/cilium.io/v2', 'ciliumnodes', moved);
    const again = (await w.backend.topology()).nodes.find((n) => n.role === 'control-plane')!;
    assert.equal(again.ciliumHostIP, '10.244.0.1');
    assert.throws(() => expectDefaultGateway(ev, again.ciliumHostIP!), /default gateway at 10\.244\.0\.1/);
  });

  it('after a failed scenario runs the node collectors where the tools are and its own collectors too', async (t) => {
    const tcx = realWorld(t, TCX);
    if (tcx === null) return;
    const w = await provisioned(t);
    if (!w) return;
    w.exec.on([...probeBpftool, 'net', 'show'], { stdout: netShowBlock(tcx) });
    const attached: Attachment[] = [];
    const world = {
      backend: w.backend,
      evidence: new EvidenceRecorder((a) => {
        attached.push(a);
      }),
      topology: () => w.backend.topology(),
    } as unknown as HookpointWorld;

    await collectFailureEvidence(world, [`${CLUSTER}-worker`]);

    const names = attached.map((a) => a.name);
    for (const c of KIND_DESCRIPTOR.nodeCollectors)
      assert.ok(
        names.some((n) => n.includes(`failure-${c.name}-node-${CLUSTER}-worker`)),
        `${c.name}: ${names}`,
      );
    for (const kind of KIND_DESCRIPTOR.ownCollectors)
      assert.ok(
        names.some((n) => n.includes(`failure-${kind}`)),
        `${kind}: ${names}`,
      );
    const bpf = attached.find((a) => a.name.includes('failure-bpftool-net'))!;
    assert.match(String(bpf.body), /lxc016a899bb2f4\(15\) tcx\/ingress cil_from_container prog_id 1998/);
    assert.doesNotMatch(String(bpf.body), /could not run/);
    assert.deepEqual(w.exec.refused, [], 'no collector asked a node container for bpftool');
    const logs = w.exec.matching(['logs', 'cilium-x7k2p', '--container', 'cilium-agent', '--tail=200']);
    assert.equal(logs.length, 1, 'the agent log of the failed scenario’s node');
    assert.equal(w.exec.matching(['logs', 'cilium-tjsld']).length, 0, 'not of uninvolved nodes');
  });
});

describe('counter reads on kind: the same targeted path, through docker exec on the node', () => {
  const LIST_HEAD = '    pkts      bytes target     prot opt in     out     source               destination';
  it("counts KUBE-SERVICES once, then reads the service's chains in one docker exec per node and snapshot", async (t) => {
    const w = await provisioned(t);
    if (!w) return;
    const node = `${CLUSTER}-worker`;
    w.exec.on(['docker', 'exec', node, 'sh', '-c'], (argv) =>
      argv[2]!.includes('grep -c ^')
        ? { stdout: '10003\n' }
        : {
            stdout: [
              'Chain KUBE-SERVICES (2 references)',
              LIST_HEAD,
              '       5      300 KUBE-SVC-ZJMBFACUQCTMIK2C  6    --  *      *       0.0.0.0/0            10.96.94.95          /* default/echo:http cluster IP */ tcp dpt:80',
              'Chain KUBE-NODEPORTS (1 references)',
              LIST_HEAD,
              'Chain KUBE-SVC-ZJMBFACUQCTMIK2C (1 references)',
              LIST_HEAD,
              '       5      300 KUBE-SEP-GKX2UC7VFHO7SJQN  0    --  *      *       0.0.0.0/0            0.0.0.0/0            /* default/echo:http -> 10.244.0.20:80 */',
              'Chain KUBE-SEP-GKX2UC7VFHO7SJQN (1 references)',
              LIST_HEAD,
              '       5      300 DNAT       6    --  *      *       0.0.0.0/0            0.0.0.0/0            /* default/echo:http */ tcp to:10.244.0.20:80',
              '',
            ].join('\n'),
          },
    );
    const echo = {
      namespace: 'default',
      name: 'echo',
      portName: 'http',
      protocol: 'TCP',
      nodePort: null,
      endpoints: [{ ip: '10.244.0.20', port: 80 }],
    };
    const before = await snapshotCounters(w.backend, ['worker'], { services: [echo], mode: 'nft' });
    await snapshotCounters(w.backend, ['worker'], { services: [echo], mode: 'nft' });
    const calls = w.exec.matching(['docker', 'exec', node, 'sh', '-c']);
    assert.equal(calls.length, 3, 'one count of KUBE-SERVICES, then one read per snapshot');
    assert.deepEqual(calls[1]!.argv.slice(calls[1]!.argv.indexOf('sh') + 3, calls[1]!.argv.indexOf('sh') + 5), [
      'sh',
      'iptables-nft',
    ]);
    assert.equal(w.exec.matching(['iptables-nft-save']).length, 0, 'the whole table is not read');
    const ev = before.get('worker')!;
    assert.match(ev.commands.at(-1)!, new RegExp(`^docker exec ${node} sh -c `));
    assert.equal(ev.data.chains.find((c) => c.name === 'KUBE-SEP-GKX2UC7VFHO7SJQN')!.rules[0]!.packets, 5);
    assert.deepEqual(w.exec.refused, []);
  });
});
