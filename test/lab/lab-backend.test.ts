/**
 * Kernel tests of the lab backend through the Backend interface (root, real namespaces): the
 * seed's two-node cluster with kube-proxy only (variant no-tc), the same with the tc datapath,
 * a three-node kind config, and cleanup — after teardown and after a SIGINT in the middle of
 * `hookpoint lab up`. Cluster names start with `hpt-` plus this process's pid, so parallel
 * runs of other engineers never clash; each lab is removed in `after`, also on failure.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { agentServerRunning } from '../../support/backends/lab/agent/launch.ts';
import { agentSocketPath } from '../../support/backends/lab/agent/socket.ts';
import { LabBackend } from '../../support/backends/lab/backend.ts';
import { inspectDatapath } from '../../support/backends/lab/inspect.ts';
import { RunDir, teardownLedger } from '../../support/backends/lab/ledger.ts';
import type { Backend, ExecTarget, PodInfo, ServiceInfo } from '../../support/backends/types.ts';
import { UsageError } from '../../support/errors.ts';
import { spawnBackground } from '../../support/exec/index.ts';
import { counterDelta, serviceRules } from '../../support/kube-proxy/rules.ts';
import { type IptablesDump, type IptablesRule, parseIptablesSave } from '../../support/parsers/index.ts';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root (network namespaces)';
const REPO = path.resolve(import.meta.dirname, '../..');
const TWO = path.join(REPO, 'kind-configs/two-node.yaml');
const THREE = path.join(REPO, 'kind-configs/three-node.yaml');
const RUN = `hpt-${process.pid}`;
const spec = (kindConfig: string) => ({
  kindConfig,
  ciliumValues: {},
  ciliumVersion: '1.17.15',
  k8sVersion: 'v1.27.3',
});

/** Every trace of a lab on this machine: namespaces, mounts, processes, run directory. */
function leftovers(cluster: string): string[] {
  const prefix = `hp.${cluster}.`;
  const dir = new RunDir('/run/hookpoint/lab', cluster).dir;
  const out: string[] = [];
  for (const n of existsSync('/run/netns') ? readdirSync('/run/netns') : [])
    if (n.startsWith(prefix)) out.push(`netns ${n}`);
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n'))
    if (line.includes(prefix) || line.includes(dir)) out.push(`mount ${line.split(' ')[4]}`);
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
      if (state !== 'Z' && (cmd.includes(prefix) || cmd.includes(dir) || cmd.includes(`--cluster ${cluster} `)))
        out.push(`process ${pid}: ${cmd.trim()}`);
    } catch {}
  }
  if (existsSync(dir)) out.push(`run dir ${dir}`);
  return out;
}

async function eventually(what: () => string[], ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  let left = what();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = what();
  }
  return left;
}

async function curl(
  b: Backend,
  from: ExecTarget,
  url: string,
): Promise<{ ok: boolean; pod?: string; client?: string }> {
  const res = await b.exec(from, ['curl', '-sS', '--noproxy', '*', '-m', '3', url], { timeoutMs: 8000, check: false });
  const m = /pod=(\S+) client=(\S+)/.exec(res.stdout);
  return { ok: res.exitCode === 0 && !!m, pod: m?.[1], client: m?.[2] };
}

async function natDump(b: Backend, node: string, mode: 'nft' | 'legacy'): Promise<IptablesDump> {
  const res = await b.exec({ kind: 'node', node }, [`iptables-${mode}-save`, '-c', '-t', 'nat'], { quietStdout: true });
  return parseIptablesSave(res.stdout);
}

/** Packets counted, between two snapshots, by the service's rules of one kind on one node. */
function rose(
  beforeDump: IptablesDump,
  afterDump: IptablesDump,
  pick: (r: ReturnType<typeof serviceRules>) => IptablesRule[],
) {
  const rules = pick(serviceRules(beforeDump, { namespace: 'default', service: 'echo' }));
  assert.ok(rules.length > 0, 'the service has rules of that kind in the before snapshot');
  return counterDelta(rules, afterDump).reduce((n, d) => n + d.delta, 0);
}

describe('lab backend: seed cluster, kube-proxy only (variant no-tc)', { skip }, () => {
  const cluster = `${RUN}-kp`;
  const lab = new LabBackend({ cluster, variants: 'no-tc' });
  let svc: ServiceInfo;
  let client: PodInfo;
  let cp: string;
  let worker: string;

  before(async () => {
    await lab.provision(spec(TWO));
    const topo = await lab.topology();
    [cp, worker] = topo.nodes.map((n) => n.name) as [string, string];
    await lab.deployEcho({ name: 'echo', nodes: [cp, worker] });
    svc = await lab.exposeService({ name: 'echo', app: 'echo', port: 80, type: 'NodePort', nodePort: 30080 });
    client = await lab.runClient({ name: 'client', node: 'control-plane' });
  });
  after(async () => {
    await lab.teardown();
  });

  it('describes itself as a reproduction, never as Cilium, and has no monitor without tc', () => {
    assert.equal(lab.describe(), 'lab (kernel reproduction)');
    assert.ok(!/cilium/i.test(lab.describe()));
    assert.ok(lab.capabilities().has('iptables-counters'));
    assert.ok(!lab.capabilities().has('monitor'));
  });

  it('has Kind’s node names, node IPs and pod CIDRs, and the service’s two backends', async () => {
    const topo = await lab.topology();
    assert.deepEqual(
      topo.nodes.map((n) => [n.name, n.ip, n.podCIDR]),
      [
        [`${cluster}-control-plane`, '172.18.0.2', '10.244.0.0/24'],
        [`${cluster}-worker`, '172.18.0.3', '10.244.1.0/24'],
      ],
    );
    assert.equal(svc.endpoints.length, 2);
    assert.deepEqual(svc.endpoints.map((b) => b.node).sort(), [cp, worker].sort());
    assert.ok(svc.clusterIP.startsWith('10.96.'));
  });

  it('routes each node’s view of the other pod CIDR via the other node’s IP', async () => {
    const topo = await lab.topology();
    for (const [self, other] of [
      [topo.nodes[0]!, topo.nodes[1]!],
      [topo.nodes[1]!, topo.nodes[0]!],
    ]) {
      const res = await lab.exec({ kind: 'node', node: self.name }, ['ip', '-j', 'route', 'show', other.podCIDR]);
      const routes = JSON.parse(res.stdout) as Array<{ dst: string; gateway?: string; dev?: string }>;
      assert.deepEqual(
        routes.map((r) => [r.dst, r.gateway, r.dev]),
        [[other.podCIDR, other.ip, 'eth0']],
        `${self.name}: ${res.stdout}`,
      );
    }
  });

  it('pod → pod across nodes succeeds with the client’s own address', async () => {
    const remote = svc.endpoints.find((b) => b.node === worker)!;
    const r = await curl(lab, { kind: 'pod', pod: 'client' }, `http://${remote.ip}/`);
    assert.ok(r.ok, `curl from client to ${remote.ip} failed`);
    assert.equal(r.pod, remote.pod);
    assert.equal(r.client?.split(':')[0], client.ip, 'native routing preserves the pod source address');
  });

  it('pod → NodePort and node → NodePort succeed; KUBE-NODEPORTS and KUBE-SEP DNAT counters rise', async () => {
    const beforeDump = await natDump(lab, cp, 'nft');
    let ok = 0;
    for (let i = 0; i < 3; i++) {
      if ((await curl(lab, { kind: 'pod', pod: 'client' }, 'http://172.18.0.2:30080/')).ok) ok++;
      if ((await curl(lab, { kind: 'node', node: worker }, 'http://172.18.0.2:30080/')).ok) ok++;
    }
    assert.equal(ok, 6, 'all six NodePort requests succeed');
    const afterDump = await natDump(lab, cp, 'nft');
    assert.equal(
      rose(beforeDump, afterDump, (r) => r.nodePortJumps),
      6,
      'KUBE-NODEPORTS → KUBE-EXT rule on cp',
    );
    assert.equal(
      rose(beforeDump, afterDump, (r) => r.sepDnat),
      6,
      'KUBE-SEP DNAT rules on cp',
    );
  });

  it('pod → ClusterIP succeeds through kube-proxy: the KUBE-SVC jump and KUBE-SEP counters rise', async () => {
    const beforeDump = await natDump(lab, cp, 'nft');
    const answered = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await curl(lab, { kind: 'pod', pod: 'client' }, `http://${svc.clusterIP}/`);
      assert.ok(r.ok, `request ${i + 1} to ${svc.clusterIP}`);
      answered.add(r.pod!);
    }
    const afterDump = await natDump(lab, cp, 'nft');
    assert.equal(
      rose(beforeDump, afterDump, (r) => r.svcJumps),
      6,
    );
    assert.equal(
      rose(beforeDump, afterDump, (r) => r.sepDnat),
      6,
    );
    for (const p of answered)
      assert.ok(
        svc.endpoints.some((b) => b.pod === p),
        `${p} is a backend`,
      );
  });

  it('resolves the client’s gateway (cilium_host) to its lxc’s MAC', async () => {
    const topo = await lab.topology();
    const gw = topo.nodes.find((n) => n.name === cp)!.ciliumHostIP!;
    await curl(lab, { kind: 'pod', pod: 'client' }, `http://${svc.clusterIP}/`);
    const neigh = JSON.parse(
      (await lab.exec({ kind: 'pod', pod: 'client' }, ['ip', '-j', 'neigh', 'show', gw])).stdout,
    ) as Array<{ dst: string; lladdr?: string }>;
    const link = JSON.parse(
      (await lab.exec({ kind: 'node', node: cp }, ['ip', '-j', 'link', 'show', client.hostVeth!])).stdout,
    ) as Array<{ address: string }>;
    assert.equal(neigh[0]?.lladdr, link[0]?.address, `neighbour of ${gw}: ${JSON.stringify(neigh)}`);
    assert.equal(link[0]?.address, client.hostVethMac);
  });

  it('reports the datapath from the kernel: native routes, kube-proxy chains, no tc programs', async () => {
    const d = await inspectDatapath(lab);
    assert.equal(d.routing, 'native');
    assert.equal(d.clusterIPTranslation, 'kube-proxy');
    assert.equal(d.iptables, 'nft');
    for (const n of d.nodes) {
      assert.equal(n.tc.length, 0);
      assert.equal(n.kubeProxy.endpointChains, 2);
    }
  });

  it('drops a removed backend from kube-proxy’s rules', async () => {
    await lab.removeWorkload('service', 'echo');
    const d = await inspectDatapath(lab);
    assert.equal(d.nodes[0]!.kubeProxy.serviceChains, 0);
    assert.equal(d.nodes[0]!.kubeProxy.nodePortRules, 0);
  });
});

describe('lab backend: with the tc datapath', { skip }, () => {
  const cluster = `${RUN}-tc`;
  const lab = new LabBackend({ cluster });
  let svc: ServiceInfo;

  before(async () => {
    await lab.provision(spec(TWO));
    await lab.deployEcho({ name: 'echo', nodes: ['control-plane', 'worker'] });
    svc = await lab.exposeService({ name: 'echo', app: 'echo', port: 80, type: 'ClusterIP' });
    await lab.runClient({ name: 'client', node: 'control-plane' });
  });
  after(async () => {
    await lab.teardown();
  });

  it('translates pod → ClusterIP at tc: requests succeed while the KUBE-SVC jump stays flat', async () => {
    const cp = `${cluster}-control-plane`;
    const beforeDump = await natDump(lab, cp, 'nft');
    for (let i = 0; i < 6; i++)
      assert.ok((await curl(lab, { kind: 'pod', pod: 'client' }, `http://${svc.clusterIP}/`)).ok);
    const afterDump = await natDump(lab, cp, 'nft');
    assert.equal(
      rose(beforeDump, afterDump, (r) => r.svcJumps),
      0,
    );
    const d = await inspectDatapath(lab);
    assert.equal(d.clusterIPTranslation, 'tc');
    assert.ok(lab.capabilities().has('monitor'));
  });

  it('serves `cilium-dbg status` on the agent target in the real format', async () => {
    const res = await lab.exec({ kind: 'agent', node: 'worker' }, ['cilium-dbg', 'status']);
    assert.match(res.stdout, /^Attach Mode:\s+Legacy TC$/m);
    assert.doesNotMatch(res.stdout, /Hookpoint|lab/i);
    assert.match(res.stdout, /^Routing:\s+Network: Native/m);
    assert.match(res.stdout, /^KubeProxyReplacement:\s+False/m);
  });

  it("answers `lab agent` through the lab's agent server as the CLI does in-process (output, errors, monitor stop)", async () => {
    const rd = new RunDir('/run/hookpoint/lab', cluster);
    assert.ok(agentServerRunning(rd), 'provisioning started the agent server');
    const sock = agentSocketPath('/run/hookpoint/lab', cluster);
    const agent = (argv: string[]) => lab.exec({ kind: 'agent', node: 'worker' }, argv, { check: false });
    const viaServer = await agent(['cilium-dbg', 'status']);
    const refused = await agent(['cilium-dbg', 'status', '--bogus']);
    // Without the socket the client hands the command to the CLI, which runs it in its own process.
    renameSync(sock, `${sock}.aside`);
    let inProcess: Awaited<ReturnType<typeof agent>>;
    let refusedInProcess: Awaited<ReturnType<typeof agent>>;
    try {
      inProcess = await agent(['cilium-dbg', 'status']);
      refusedInProcess = await agent(['cilium-dbg', 'status', '--bogus']);
    } finally {
      renameSync(`${sock}.aside`, sock);
    }
    const stable = (s: string) => s.replace(/^(Controller Status|Proxy Status|Cluster health).*$/gm, '');
    assert.equal(viaServer.exitCode, 0);
    assert.equal(stable(viaServer.stdout), stable(inProcess.stdout));
    assert.equal(refused.exitCode, 2);
    assert.equal(refused.exitCode, refusedInProcess.exitCode);
    assert.equal(refused.stderr, refusedInProcess.stderr);
    // A monitor through the server streams events and ends on SIGTERM as the CLI's does (exit 130).
    const mon = lab.spawn({ kind: 'agent', node: 'control-plane' }, ['cilium-dbg', 'monitor', '--type', 'trace']);
    await mon.waitFor(/Press Ctrl-C to quit/, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < 3; i++)
      assert.ok((await curl(lab, { kind: 'pod', pod: 'client' }, `http://${svc.clusterIP}/`)).ok);
    await new Promise((r) => setTimeout(r, 500));
    const stopped = await mon.stop();
    assert.equal(stopped.exitCode, 130);
    assert.match(stopped.stdout, /-> endpoint \d+ flow/);
    assert.match(stopped.stderr, /SIGTERM received/);
    assert.doesNotMatch(stopped.stderr, /closed the connection/, 'the monitor ends with its exit frame');
  });
});

describe('lab backend: kube-proxy via iptables-legacy', { skip }, () => {
  const cluster = `${RUN}-lg`;
  const lab = new LabBackend({ cluster, variants: 'no-tc', iptables: 'legacy' });
  after(async () => {
    await lab.teardown();
  });

  it('loads the rules with iptables-legacy-restore: NodePort counters rise there, nft holds no KUBE chains', async () => {
    await lab.provision(spec(TWO));
    await lab.deployEcho({ name: 'echo', nodes: ['control-plane', 'worker'] });
    await lab.exposeService({ name: 'echo', app: 'echo', port: 80, type: 'NodePort', nodePort: 30080 });
    const worker = `${cluster}-worker`;
    const beforeDump = await natDump(lab, worker, 'legacy');
    for (let i = 0; i < 3; i++)
      assert.ok((await curl(lab, { kind: 'node', node: 'control-plane' }, 'http://172.18.0.3:30080/')).ok);
    const afterDump = await natDump(lab, worker, 'legacy');
    assert.equal(
      rose(beforeDump, afterDump, (r) => r.sepDnat),
      3,
    );
    const nft = await lab.exec({ kind: 'node', node: worker }, ['iptables-nft-save', '-t', 'nat'], { check: false });
    assert.doesNotMatch(nft.stdout, /KUBE-/);
    assert.equal((await inspectDatapath(lab)).iptables, 'legacy');
  });
});

describe('lab backend: three-node kind config', { skip }, () => {
  const cluster = `${RUN}-3n`;
  const lab = new LabBackend({ cluster, variants: 'no-tc' });
  after(async () => {
    await lab.teardown();
  });

  it('builds worker2 and reaches every node’s pod from a pod on worker2', async () => {
    await lab.provision(spec(THREE));
    const topo = await lab.topology();
    assert.deepEqual(
      topo.nodes.map((n) => n.role),
      ['control-plane', 'worker', 'worker2'],
    );
    await lab.deployEcho({ name: 'echo', nodes: topo.nodes.map((n) => n.name) });
    await lab.runClient({ name: 'client', node: 'worker2' });
    const pods = (await lab.topology()).pods.filter((p) => p.app === 'echo');
    assert.equal(pods.length, 3);
    for (const p of pods) {
      const r = await curl(lab, { kind: 'pod', pod: 'client' }, `http://${p.ip}/`);
      assert.ok(r.ok, `client on worker2 → ${p.name} on ${p.node}`);
      assert.equal(r.pod, p.name);
    }
    const routes = JSON.parse(
      (await lab.exec({ kind: 'node', node: 'worker2' }, ['ip', '-j', 'route'])).stdout,
    ) as Array<{
      dst: string;
      gateway?: string;
    }>;
    assert.equal(routes.find((r) => r.dst === '10.244.0.0/24')?.gateway, '172.18.0.2');
    assert.equal(routes.find((r) => r.dst === '10.244.1.0/24')?.gateway, '172.18.0.3');
  });
});

describe('lab backend: names and cleanup', { skip }, () => {
  it('refuses a cluster name that is not a DNS-1123 label before creating anything', async () => {
    const lab = new LabBackend({ cluster: 'x;touch p' });
    await assert.rejects(
      lab.provision(spec(TWO)),
      (e: unknown) => e instanceof UsageError && /DNS-1123/.test(e.message),
    );
    assert.ok(!existsSync(path.join(process.cwd(), 'p')));
  });

  it('leaves no namespace, mount, pin or process after teardown', async () => {
    const cluster = `${RUN}-td`;
    const lab = new LabBackend({ cluster });
    try {
      await lab.provision(spec(TWO));
      await lab.deployEcho({ name: 'echo', nodes: ['control-plane', 'worker'] });
      await lab.runClient({ name: 'client', node: 'worker' });
      assert.ok(leftovers(cluster).length > 0, 'positive control: the lab is visible while it runs');
    } finally {
      await lab.teardown();
    }
    assert.deepEqual(await eventually(() => leftovers(cluster), 3000), []);
  });

  it('reuses a kept lab (provision is idempotent) and hands it back without the reusing run’s workloads', async () => {
    const cluster = `${RUN}-keep`;
    const kept = new LabBackend({ cluster, variants: 'no-tc', keep: true });
    try {
      await kept.provision(spec(TWO));
      await kept.runClient({ name: 'client', node: 'control-plane' });
      await kept.teardown();
      const run2 = new LabBackend({ cluster, variants: 'no-tc' });
      await run2.provision(spec(TWO));
      assert.deepEqual(
        (await run2.topology()).pods.map((p) => p.name),
        ['client'],
        'the kept lab was reused, not rebuilt',
      );
      await run2.runClient({ name: 'client2', node: 'worker' });
      await run2.teardown();
      const after = new LabBackend({ cluster });
      assert.deepEqual(
        after.attach(cluster).pods.map((p) => p.name),
        ['client'],
      );
      assert.ok(!readdirSync('/run/netns').includes(`hp.${cluster}.pod.client2`));
      assert.ok(readdirSync('/run/netns').includes(`hp.${cluster}.pod.client`));
    } finally {
      await teardownLedger(new RunDir('/run/hookpoint/lab', cluster));
    }
    assert.deepEqual(await eventually(() => leftovers(cluster), 3000), []);
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    it(`leaves nothing behind after a ${signal} in the middle of \`hookpoint lab up\``, async () => {
      const cluster = `${RUN}-${signal.toLowerCase()}`;
      const prefix = `hp.${cluster}.`;
      const rd = new RunDir('/run/hookpoint/lab', cluster);
      const cli = spawnBackground(
        [process.execPath, path.join(REPO, 'bin/hookpoint.js'), 'lab', 'up', '--cluster', cluster, '--seed-workloads'],
        { maxMs: 60_000, where: 'host' },
      );
      let phase: string | undefined;
      try {
        const deadline = Date.now() + 30_000;
        while (Date.now() < deadline && cli.running()) {
          if (readdirSync('/run/netns').some((n) => n.startsWith(prefix))) break;
          await new Promise((r) => setTimeout(r, 5));
        }
        assert.ok(cli.running(), `lab up ended before creating anything: ${cli.output()}`);
        phase = rd.readState<{ phase: string }>()?.phase;
        process.kill(cli.pid!, signal);
        // 130/143 from main's handler; null (killed by the signal) when execa's signal-exit
        // re-raises it after main's one-shot handler — either way the janitor must clean up.
        const code = await cli.exited;
        assert.ok(code === null || code === 130 || code === 143, `lab up ended with ${code} after ${signal}`);
      } finally {
        await cli.stop();
      }
      assert.equal(phase, 'provisioning', 'the signal came in the middle of provisioning');
      assert.deepEqual(await eventually(() => leftovers(cluster), 8000), []);
    });
});
