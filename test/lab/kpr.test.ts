/**
 * Kernel tests of kube-proxy replacement on the lab (kubeProxyReplacement=true, kind's
 * kubeProxyMode: none): no kube-proxy chains on any node; ClusterIP and NodePort from pods and
 * nodes translated at connect() by the lab's socket hooks (a capture on the pod's eth0 sees the
 * backend, never the ClusterIP); NodePort from outside the cluster translated at the node's
 * eth0; the socket hooks attached to the lab's own cgroups only (the machine's root cgroup as
 * before); status and monitor as Cilium prints them; nothing left after teardown. The same lab
 * under variant no-socket-lb: node-side service traffic has nothing to translate it.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LabBackend } from '../../support/backends/lab/backend.ts';
import { cgroup2Mount, labCgroupName } from '../../support/backends/lab/cgroups.ts';
import { cgroupPrograms, SOCK_PROGRAMS } from '../../support/backends/lab/datapath/index.ts';
import { RunDir } from '../../support/backends/lab/ledger.ts';
import { networkNetns, nodeNetns, podNetns } from '../../support/backends/lab/names.ts';
import { netnsRun } from '../../support/backends/lab/node-run.ts';
import type { ExecTarget, ServiceInfo } from '../../support/backends/types.ts';
import { run, spawnBackground } from '../../support/exec/index.ts';
import { findKubeProxyChains } from '../../support/kube-proxy/mode.ts';
import { parseCiliumStatus } from '../../support/parsers/index.ts';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root (network namespaces, cgroups)';

// A machine without a cgroup2 mount (a fresh chroot) gets one for these tests, as any systemd
// machine has: the root-cgroup checks need a root to compare, and the lab then uses it.
let ownCgroupMount: string | null = null;
before(async () => {
  if (!isRoot || cgroup2Mount()) return;
  ownCgroupMount = mkdtempSync('/tmp/hp-kpr-cgroup2-');
  await run(['mount', '-t', 'cgroup2', 'none', ownCgroupMount], { timeoutMs: 10_000, where: 'host' });
});
after(async () => {
  if (!ownCgroupMount) return;
  await run(['umount', ownCgroupMount], { timeoutMs: 10_000, where: 'host', check: false });
  rmSync(ownCgroupMount, { recursive: true, force: true });
});
const REPO = path.resolve(import.meta.dirname, '../..');
const KPR_KIND = path.join(REPO, 'kind-configs/two-node-kpr.yaml');
const spec = {
  kindConfig: KPR_KIND,
  ciliumValues: { kubeProxyReplacement: 'true', routingMode: 'native', autoDirectNodeRoutes: 'true' },
  ciliumVersion: '1.18.6',
  k8sVersion: 'v1.33.7',
};

function leftovers(cluster: string): string[] {
  const prefix = `hp.${cluster}.`;
  const out: string[] = [];
  for (const n of existsSync('/run/netns') ? readdirSync('/run/netns') : [])
    if (n.startsWith(prefix)) out.push(`netns ${n}`);
  const dir = new RunDir('/run/hookpoint/lab', cluster).dir;
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n'))
    if (line.includes(dir)) out.push(`mount ${line.split(' ')[4]}`);
  const cg = cgroup2Mount();
  if (cg && existsSync(path.join(cg, labCgroupName(cluster)))) out.push(`cgroup ${labCgroupName(cluster)}`);
  if (existsSync(dir)) out.push(`run dir ${dir}`);
  return out;
}

async function curl(b: LabBackend, from: ExecTarget, url: string) {
  const res = await b.exec(from, ['curl', '-sS', '--noproxy', '*', '-m', '3', url], { timeoutMs: 8000, check: false });
  const m = /pod=(\S+) client=(\S+)/.exec(res.stdout);
  return { ok: res.exitCode === 0 && !!m, pod: m?.[1], client: m?.[2], err: res.stderr };
}

/** The same through the kind network's namespace: a client outside the cluster. */
async function curlOutside(cluster: string, url: string) {
  const res = await run(
    ['ip', 'netns', 'exec', networkNetns(cluster), 'curl', '-sS', '--noproxy', '*', '-m', '3', url],
    { timeoutMs: 8000, where: 'kind network', check: false },
  );
  const m = /pod=(\S+) client=(\S+)/.exec(res.stdout);
  return { ok: res.exitCode === 0 && !!m, pod: m?.[1], client: m?.[2], err: res.stderr };
}

const rootPrograms = async () => {
  const root = cgroup2Mount();
  assert.ok(root, 'this machine has a cgroup2 mount');
  const res = await run(['bpftool', '-j', 'cgroup', 'show', root], { timeoutMs: 10_000, where: 'host' });
  return res.stdout.trim();
};

describe('kube-proxy replacement on the lab', { skip, concurrency: 1 }, () => {
  const cluster = `hpk-${process.pid}`;
  const lab = new LabBackend({ cluster });
  let svc: ServiceInfo;
  let rootBefore = '';
  let upMs = 0;

  before(async () => {
    rootBefore = await rootPrograms();
    const t0 = Date.now();
    await lab.provision(spec);
    upMs = Date.now() - t0;
    await lab.deployEcho({ name: 'echo', nodes: ['control-plane', 'worker'] });
    svc = await lab.exposeService({ name: 'echo', app: 'echo', port: 80, type: 'NodePort', nodePort: 30080 });
    await lab.runClient({ name: 'client', node: 'control-plane' });
  });
  after(async () => {
    await lab.teardown();
  });

  it('comes up (provision timed for the transcript; speed goals live in bench/)', () => {
    assert.ok(upMs > 0);
  });

  it('writes no kube-proxy chains on any node', async () => {
    const s = lab.labState;
    for (const n of s.plan.nodes) {
      const chains = await findKubeProxyChains(netnsRun(nodeNetns(cluster, n.name), n.name));
      assert.equal(chains.mode, null, `node ${n.name}: ${chains.why}`);
    }
  });

  it('pod to ClusterIP: translated at connect(), the pod eth0 capture sees only backends', async () => {
    const backends = new Set(svc.endpoints.map((e) => e.ip));
    const cap = spawnBackground(
      ['ip', 'netns', 'exec', podNetns(cluster, 'client'), 'tcpdump', '-i', 'eth0', '-nn', '-l', 'tcp', 'port', '80'],
      { maxMs: 20_000, where: 'pod client' },
    );
    await new Promise((r) => setTimeout(r, 500));
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await curl(lab, { kind: 'pod', pod: 'client' }, `http://${svc.clusterIP}:80/`);
      assert.ok(r.ok, `request ${i + 1} to the ClusterIP failed: ${r.err}`);
      seen.add(r.pod!);
    }
    await new Promise((r) => setTimeout(r, 300));
    const res = await cap.stop();
    const dsts = [...res.stdout.matchAll(/> (\d+\.\d+\.\d+\.\d+)\.80:/g)].map((m) => m[1]!);
    assert.ok(dsts.length > 0, `the capture saw the requests: ${res.stdout.slice(0, 400)}`);
    assert.ok(!dsts.includes(svc.clusterIP), `pod eth0 saw the ClusterIP ${svc.clusterIP}: ${dsts.join(' ')}`);
    assert.ok(
      dsts.every((d) => backends.has(d)),
      `pod eth0 saw only backends ${[...backends].join(', ')}: ${dsts.join(' ')}`,
    );
  });

  it('node to ClusterIP and NodePort, pod to NodePort on the other node: all translated at the socket', async () => {
    const nodes = lab.labState.plan.nodes;
    for (const from of ['control-plane', 'worker']) {
      const r = await curl(lab, { kind: 'node', node: from }, `http://${svc.clusterIP}:80/`);
      assert.ok(r.ok, `node ${from} to the ClusterIP: ${r.err}`);
      for (const n of nodes) {
        const np = await curl(lab, { kind: 'node', node: from }, `http://${n.ip}:30080/`);
        assert.ok(np.ok, `node ${from} to the NodePort on ${n.name}: ${np.err}`);
      }
    }
    const worker = nodes.find((n) => n.role === 'worker')!;
    const r = await curl(lab, { kind: 'pod', pod: 'client' }, `http://${worker.ip}:30080/`);
    assert.ok(r.ok, `pod to the NodePort on the worker: ${r.err}`);
  });

  it('NodePort from outside the cluster: translated at each node eth0, local and remote backends', async () => {
    const nodes = lab.labState.plan.nodes;
    for (const n of nodes) {
      const answered = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const r = await curlOutside(cluster, `http://${n.ip}:30080/`);
        assert.ok(r.ok, `kind network to the NodePort on ${n.name} (request ${i + 1}): ${r.err}`);
        answered.add(r.pod!);
      }
      assert.equal(answered.size, 2, `both backends answered through ${n.name}: ${[...answered].join(', ')}`);
    }
  });

  it('socket hooks on the lab cgroups only; the root cgroup as before', async () => {
    const root = cgroup2Mount()!;
    const labCg = path.join(root, labCgroupName(cluster));
    const progs = await cgroupPrograms(labCg);
    for (const role of ['control-plane', 'worker']) {
      const here = progs.filter((p) => p.cgroup.endsWith(`/${labCgroupName(cluster)}/${role}`));
      assert.deepEqual(
        here.map((p) => p.name).sort(),
        SOCK_PROGRAMS.map((s) => s.program).sort(),
        `cgroup of ${role}: ${JSON.stringify(here)}`,
      );
    }
    assert.equal(await rootPrograms(), rootBefore, 'the root cgroup has the programs it had before');
  });

  it('status reads KubeProxyReplacement: True with eth0 and its address', async () => {
    const res = await lab.exec({ kind: 'agent', node: 'worker' }, ['cilium-dbg', 'status']);
    const st = parseCiliumStatus(res.stdout);
    assert.equal(st.kubeProxyReplacement, 'True', res.stdout);
    const worker = lab.labState.plan.nodes.find((n) => n.role === 'worker')!;
    assert.match(st.kubeProxyReplacementDevices.join(' '), new RegExp(`^eth0 ${worker.ip.replace(/\./g, '\\.')} `));
  });

  it('monitor shows the socket translation as [pre-xlate-fwd] / [post-xlate-fwd]', async () => {
    const mon = lab.spawn({ kind: 'agent', node: 'control-plane' }, ['cilium-dbg', 'monitor', '-t', 'trace-sock'], {
      maxMs: 20_000,
    });
    await mon.waitFor(/Press Ctrl-C to quit/, 10_000);
    const r = await curl(lab, { kind: 'pod', pod: 'client' }, `http://${svc.clusterIP}:80/`);
    assert.ok(r.ok);
    await new Promise((r) => setTimeout(r, 800));
    const out = (await mon.stop()).stdout;
    const pre = new RegExp(
      `^CPU \\d{2}: \\[pre-xlate-fwd\\] cgroup_id: \\d+ sock_cookie: \\d+, dst \\[${svc.clusterIP.replace(/\./g, '\\.')}\\]:80 tcp$`,
      'm',
    );
    assert.match(out, pre);
    assert.match(
      out,
      /^CPU \d{2}: \[post-xlate-fwd\] cgroup_id: \d+ sock_cookie: \d+, dst \[10\.244\.\d+\.\d+\]:80 tcp$/m,
    );
  });

  it('leaves nothing behind after teardown', async () => {
    await lab.teardown();
    assert.deepEqual(leftovers(cluster), []);
    assert.equal(await rootPrograms(), rootBefore);
  });
});

describe('kube-proxy replacement: Ctrl-C', { skip, concurrency: 1 }, () => {
  it('leaves no cgroup, netns or mount behind after a SIGINT once the socket hooks are attached', async () => {
    const cluster = `hpc-${process.pid}`;
    const root = cgroup2Mount()!;
    const labCg = path.join(root, labCgroupName(cluster));
    const reports = path.join('/tmp', `hp-kpr-sigint-${process.pid}`);
    const cli = spawnBackground(
      [
        process.execPath,
        path.join(REPO, 'bin/hookpoint.js'),
        'run',
        path.join(REPO, 'features/modes/kube-proxy-replacement.feature'),
        '--backend',
        'lab',
        '--cluster',
        cluster,
        '--reports',
        reports,
      ],
      { maxMs: 120_000, where: 'host' },
    );
    try {
      const deadline = Date.now() + 60_000;
      let attached = 0;
      while (Date.now() < deadline && cli.running()) {
        if (existsSync(labCg)) attached = (await cgroupPrograms(labCg).catch(() => [])).length;
        if (attached > 0) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(attached > 0 && cli.running(), `the run attached its socket hooks and still runs: ${cli.output()}`);
      process.kill(cli.pid!, 'SIGINT');
      await cli.exited;
    } finally {
      await cli.stop();
      rmSync(reports, { recursive: true, force: true });
    }
    const deadline = Date.now() + 10_000;
    let left = leftovers(cluster);
    while (left.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      left = leftovers(cluster);
    }
    assert.deepEqual(left, []);
  });
});

describe('kube-proxy replacement under variant no-socket-lb', { skip, concurrency: 1 }, () => {
  const cluster = `hpn-${process.pid}`;
  const lab = new LabBackend({ cluster, variants: 'no-socket-lb' });
  let svc: ServiceInfo;

  before(async () => {
    await lab.provision(spec);
    await lab.deployEcho({ name: 'echo', nodes: ['control-plane', 'worker'] });
    svc = await lab.exposeService({ name: 'echo', app: 'echo', port: 80, type: 'NodePort', nodePort: 30080 });
  });
  after(async () => {
    await lab.teardown();
  });

  it('node to ClusterIP has nothing to translate it (no kube-proxy, no socket LB)', async () => {
    const root = cgroup2Mount()!;
    assert.deepEqual(await cgroupPrograms(path.join(root, labCgroupName(cluster))), []);
    const r = await curl(lab, { kind: 'node', node: 'control-plane' }, `http://${svc.clusterIP}:80/`);
    assert.equal(r.ok, false);
  });

  it('leaves nothing behind', async () => {
    await lab.teardown();
    assert.deepEqual(leftovers(cluster), []);
  });
});
