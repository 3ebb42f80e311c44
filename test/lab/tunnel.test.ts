/**
 * Kernel tests of the lab's tunnel mode (root, real namespaces): the cilium_vxlan device is an
 * external (collect_md) VXLAN device on port 8472 with no FDB entries, other nodes' pod CIDRs
 * go via cilium_host with mtu 1450, the pod path's program calls bpf_skb_set_tunnel_key, and
 * node eth0 carries the pods' traffic as UDP 8472 between node IPs with the pod addresses
 * inside (read back from the pcap). Variant no-encap takes all of that away; tunnel with
 * autoDirectNodeRoutes is refused before anything exists; nothing is left after teardown.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { LabBackend } from '../../support/backends/lab/backend.ts';
import { nodeNetns } from '../../support/backends/lab/names.ts';
import { UsageError } from '../../support/errors.ts';
import { run, spawnBackground } from '../../support/exec/index.ts';
import { readPcap } from '../../support/parsers/pcap.ts';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root (network namespaces)';
const REPO = path.resolve(import.meta.dirname, '../..');
const TWO = path.join(REPO, 'kind-configs/two-node.yaml');
const TUNNEL = {
  routingMode: 'tunnel',
  tunnelProtocol: 'vxlan',
  autoDirectNodeRoutes: 'false',
  kubeProxyReplacement: 'false',
};
const spec = (values: Record<string, string>) => ({
  kindConfig: TWO,
  ciliumValues: values,
  ciliumVersion: '1.17.15',
  k8sVersion: 'v1.27.3',
});

function leftovers(cluster: string): string[] {
  const prefix = `hp.${cluster}.`;
  const out: string[] = [];
  for (const n of existsSync('/run/netns') ? readdirSync('/run/netns') : [])
    if (n.startsWith(prefix)) out.push(`netns ${n}`);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n'))
    if (line.includes(`/lab/${cluster}/`)) out.push(`mount ${line.split(' ')[4]}`);
  return out;
}

async function inNode(cluster: string, node: string, argv: string[]) {
  return run(['ip', 'netns', 'exec', nodeNetns(cluster, node), ...argv], { timeoutMs: 15_000, where: `node ${node}` });
}

async function seedWorkloads(lab: LabBackend) {
  const nodes = lab.labState.plan.nodes;
  await lab.deployEcho({ name: 'echo', nodes: nodes.map((n) => n.name), port: 80 });
  await lab.exposeService({ name: 'echo', app: 'echo', port: 80, type: 'NodePort', nodePort: 30080 });
  await lab.runClient({ name: 'client', node: nodes[0]!.name });
  return nodes;
}

describe('lab tunnel mode', { skip }, () => {
  const cluster = `hptun-${process.pid}`;
  const lab = new LabBackend({ cluster });
  after(async () => {
    await lab.teardown();
  });

  it('builds cilium_vxlan, tunnel routes and the tunnel key, and carries pod traffic inside VXLAN', async () => {
    await lab.provision(spec(TUNNEL));
    const nodes = await seedWorkloads(lab);
    const [cp, worker] = [nodes[0]!, nodes[1]!];

    const link = JSON.parse(
      (await inNode(cluster, cp.name, ['ip', '-d', '-j', 'link', 'show', 'cilium_vxlan'])).stdout,
    )[0];
    assert.equal(link.linkinfo.info_kind, 'vxlan');
    assert.equal(link.linkinfo.info_data.external, true, 'collect_md (external) device');
    assert.equal(link.linkinfo.info_data.port, 8472);
    const fdb = await inNode(cluster, cp.name, ['bridge', 'fdb', 'show', 'dev', 'cilium_vxlan']);

    const routes = JSON.parse((await inNode(cluster, cp.name, ['ip', '-j', 'route', 'show'])).stdout) as Array<{
      dst: string;
      dev?: string;
      gateway?: string;
      metrics?: Array<{ mtu?: number }>;
    }>;
    const toWorker = routes.find((r) => r.dst === worker.podCIDR);
    assert.equal(toWorker?.dev, 'cilium_host', JSON.stringify(toWorker));
    assert.equal(toWorker?.gateway, cp.ciliumHostIP);
    assert.equal(toWorker?.metrics?.[0]?.mtu, 1450);

    // The pod path's program (tail_handle_ipv4 of the client's endpoint) calls the helper.
    const client = (await lab.topology()).pods.find((p) => p.name === 'client')!;
    const pin = lab.datapath(cp.name)!.programPin(client.endpointId!, 'tail_handle_ipv4');
    const xlated = await run(['bpftool', 'prog', 'dump', 'xlated', 'pinned', pin], { timeoutMs: 15_000 });
    assert.match(xlated.stdout, /call bpf_skb_set_tunnel_key#/);

    // A capture on node eth0 while the client talks to the pod on the other node and to a NodePort there.
    const pcap = path.join(os.tmpdir(), `hptun-${process.pid}.pcap`);
    const cap = spawnBackground(
      [
        'ip',
        'netns',
        'exec',
        nodeNetns(cluster, cp.name),
        'tcpdump',
        '-i',
        'eth0',
        '-nn',
        '-U',
        '-w',
        pcap,
        'udp',
        'port',
        '8472',
      ],
      { maxMs: 60_000, where: `node ${cp.name}` },
    );
    await new Promise((r) => setTimeout(r, 700));
    const remote = (await lab.topology()).pods.find((p) => p.node === worker.name && p.name.startsWith('echo'))!;
    const podTarget = { kind: 'pod' as const, pod: 'client', namespace: 'default' };
    const direct = await lab.exec(podTarget, ['curl', '-s', '-m', '3', `http://${remote.ip}/`], { timeoutMs: 10_000 });
    assert.match(direct.stdout, /pod=/);
    for (let i = 0; i < 4; i++) {
      const np = await lab.exec(podTarget, ['curl', '-s', '-m', '3', `http://${worker.ip}:30080/`], {
        timeoutMs: 10_000,
      });
      assert.match(np.stdout, /pod=/, 'NodePort on the other node answers through the tunnel');
    }
    await new Promise((r) => setTimeout(r, 300));
    await cap.stop();
    const packets = readPcap(readFileSync(pcap)).packets;
    const outer = packets.filter(
      (p) => p.protocol === 'udp' && p.dst?.port === 8472 && p.src?.ip === cp.ip && p.dst?.ip === worker.ip,
    );
    assert.ok(
      outer.some((p) => p.inner?.src?.ip === client.ip && p.inner?.dst?.ip === remote.ip),
      `expected UDP 8472 ${cp.ip} > ${worker.ip} carrying ${client.ip} > ${remote.ip}; saw ${packets
        .map((p) => p.raw)
        .slice(0, 5)
        .join(' | ')}`,
    );
    assert.equal(fdb.stdout.trim(), '', 'no FDB entries on cilium_vxlan, even after traffic');
    const fdbAfter = await inNode(cluster, cp.name, ['bridge', 'fdb', 'show', 'dev', 'cilium_vxlan']);
    assert.equal(fdbAfter.stdout.trim(), '', 'no FDB entries learned from the traffic');

    await lab.teardown();
    assert.deepEqual(leftovers(cluster), []);
  });

  it('variant no-encap: no cilium_vxlan, native routes via the node IPs, traffic unencapsulated', async () => {
    const broken = new LabBackend({ cluster: `${cluster}n`, variants: 'no-encap' });
    try {
      await broken.provision(spec(TUNNEL));
      const [cp, worker] = broken.labState.plan.nodes;
      const links = await inNode(`${cluster}n`, cp!.name, ['ip', '-j', 'link', 'show']);
      assert.ok(!links.stdout.includes('cilium_vxlan'));
      const routes = await inNode(`${cluster}n`, cp!.name, ['ip', 'route', 'show', worker!.podCIDR]);
      assert.match(routes.stdout, new RegExp(`via ${worker!.ip.replace(/\./g, '\\.')} dev eth0`));
      // The agent reports its configuration, as Cilium does: the broken tunnel shows in routes and captures.
      const status = await broken.exec({ kind: 'agent', node: cp!.name }, ['cilium-dbg', 'status']);
      assert.match(status.stdout, /^Routing: +Network: Tunnel \[vxlan\] {3}Host: Legacy$/m);
    } finally {
      await broken.teardown();
    }
    assert.deepEqual(leftovers(`${cluster}n`), []);
  });

  it('refuses tunnel mode with autoDirectNodeRoutes=true before creating anything', async () => {
    const refused = new LabBackend({ cluster: `${cluster}r` });
    await assert.rejects(
      refused.provision(spec({ ...TUNNEL, autoDirectNodeRoutes: 'true' })),
      (e: unknown) => e instanceof UsageError && e.exitCode === 2 && /autoDirectNodeRoutes/.test(e.message),
    );
    assert.deepEqual(leftovers(`${cluster}r`), []);
  });
});
