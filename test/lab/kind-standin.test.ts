/**
 * The kind stand-in (test/kind-standin) is faithful to the images: a program an image lacks is
 * refused the way the container runtime refuses it, and the kind backend never asks an image for
 * one; and a fault in the stand-in's kernel turns the kind backend's checks red, naming the
 * evidence. Needs root (network namespaces); nothing may be left behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IMAGES } from '../../support/backends/images.ts';
import {
  CILIUM_AGENT_CAPABILITIES,
  HOME_IMAGE,
  K8S_TOOL_LOCATIONS,
} from '../../support/backends/k8s/tool-locations.ts';
import { run } from '../../support/exec/index.ts';
import { leftovers, standinEnv } from '../kind-standin/run.ts';
import { ownCgroupHierarchy, REPO, STANDIN_DIR } from '../kind-standin/state.ts';

const isRoot = process.getuid?.() === 0;
/** Capability numbers (linux/capability.h) of the chart's agent set. */
const CAP_BITS: Record<(typeof CILIUM_AGENT_CAPABILITIES)[number], number> = {
  CHOWN: 0,
  DAC_OVERRIDE: 1,
  FOWNER: 3,
  KILL: 5,
  SETGID: 6,
  SETUID: 7,
  NET_ADMIN: 12,
  NET_RAW: 13,
  IPC_LOCK: 14,
  SYS_MODULE: 16,
  SYS_ADMIN: 21,
  SYS_RESOURCE: 24,
};
const skip = isRoot ? false : 'needs root (network namespaces)';

// A bare machine (a fresh chroot) has no cgroup hierarchy for the stand-in's pods: mount one for these tests.
let releaseCgroups = () => {};
before(() => {
  if (isRoot) releaseCgroups = ownCgroupHierarchy();
});
after(() => releaseCgroups());
const CLUSTER = `hpsi-${process.pid % 100000}`;
const env = standinEnv();
const tmp = mkdtempSync(path.join(tmpdir(), 'hp-standin-'));
const kubeconfig = path.join(tmp, 'kubeconfig');

async function sh(argv: string[], extraEnv: Record<string, string> = {}, timeoutMs = 120_000) {
  const r = await run(argv, {
    env: { ...(env as Record<string, string>), ...extraEnv },
    timeoutMs,
    cwd: REPO,
    check: false,
    where: 'host',
  });
  return { code: r.exitCode, out: r.stdout, err: r.stderr };
}

after(async () => {
  await sh(['kind', 'delete', 'cluster', '--name', CLUSTER]);
  rmSync(tmp, { recursive: true, force: true });
});

describe('kind stand-in: each image offers only its own programs', { skip }, () => {
  it('refuses bpftool and tcpdump in the node, runs them where the images have them, and leaves nothing', async () => {
    const create = await sh([
      'kind',
      'create',
      'cluster',
      '--name',
      CLUSTER,
      '--config',
      path.join(REPO, 'kind-configs/two-node.yaml'),
      '--kubeconfig',
      kubeconfig,
    ]);
    assert.equal(create.code, 0, create.err);
    const install = await sh(
      [
        'helm',
        'upgrade',
        '--install',
        'cilium',
        'cilium/cilium',
        '--namespace',
        'kube-system',
        '--kubeconfig',
        kubeconfig,
        '--set',
        'routingMode=native',
        '--set',
        'bpf.enableTCX=false',
      ],
      {},
      300_000,
    );
    assert.equal(install.code, 0, install.err + install.out);
    const node = `${CLUSTER}-control-plane`;

    // kindest/node has no bpftool and no tcpdump: the runtime refuses the program itself (126).
    for (const tool of IMAGES['kind-node'].lacks) {
      const r = await sh(['docker', 'exec', node, tool, '--version']);
      assert.equal(r.code, 126, `${tool} in the node: ${r.err}`);
      assert.match(r.err, new RegExp(`exec: "${tool}": executable file not found in \\$PATH`));
    }
    // Under a wrapper of the image (env, timeout), the wrapper finds no program: 127.
    const wrapped = await sh(['docker', 'exec', node, 'timeout', '5', 'bpftool', 'net', 'show']);
    assert.equal(wrapped.code, 127, wrapped.err);
    // The node's own programs run, in the node's network namespace.
    const ipt = await sh(['docker', 'exec', node, 'iptables-save', '-t', 'nat']);
    assert.equal(ipt.code, 0, ipt.err);
    assert.match(ipt.out, /\*nat/);

    // The cilium-agent container has bpftool, and runs it in the node's network namespace.
    const server = /server: (\S+)/.exec(readFileSync(kubeconfig, 'utf8'))![1];
    const pods = (await (await fetch(`${server}/api/v1/namespaces/kube-system/pods`)).json()) as {
      items: Array<{ metadata: { name: string }; spec: { nodeName: string } }>;
    };
    const agent = pods.items.find((p) => p.spec.nodeName === node)!.metadata.name;
    const agentExec = (...argv: string[]) =>
      sh([
        'kubectl',
        '--kubeconfig',
        kubeconfig,
        '--namespace',
        'kube-system',
        'exec',
        agent,
        '--container',
        'cilium-agent',
        '--',
        ...argv,
      ]);
    const bpf = await agentExec('bpftool', 'net', 'show');
    assert.equal(bpf.code, 0, bpf.err);
    assert.match(bpf.out, /tc:/);
    // With the chart's capabilities only (those this machine's root has): no CAP_SYSLOG (34), so the
    // kernel would withhold helper calls from its xlated dumps; the kind backend's bpftool runs elsewhere.
    const bound = (text: string) => BigInt(`0x${/CapBnd:\s+([0-9a-f]+)/.exec(text)![1]}`);
    const own = bound(readFileSync('/proc/self/status', 'utf8'));
    const chart = CILIUM_AGENT_CAPABILITIES.reduce((m, c) => m | (1n << BigInt(CAP_BITS[c])), 0n);
    const agentCaps = await agentExec('grep', 'CapBnd', '/proc/self/status');
    assert.equal(agentCaps.code, 0, agentCaps.err);
    assert.equal(bound(agentCaps.out), chart & own);
    assert.equal(bound(agentCaps.out) & (1n << 34n), 0n);
    assert.match((await agentExec('cilium-dbg', 'status')).out, /Attach Mode:\s+Legacy TC/);
    // ... and no tcpdump (the agent image has none).
    const td = await agentExec('tcpdump', '--version');
    assert.equal(td.code, 126, td.err);
    assert.match(td.err, /executable file not found in \$PATH/);

    const del = await sh(['kind', 'delete', 'cluster', '--name', CLUSTER]);
    assert.equal(del.code, 0, del.err);
    assert.deepEqual(leftovers(CLUSTER), []);
  });

  it('the kind backend sends each tool to an image that has it (its routing table against the image lists)', () => {
    for (const [tool, loc] of Object.entries(K8S_TOOL_LOCATIONS)) {
      const image = HOME_IMAGE[loc.home];
      assert.ok(IMAGES[image].has.includes(tool), `${tool} is routed to ${image}, which lacks it`);
    }
  });
});

describe('kind stand-in: a fault in its kernel turns the kind backend red', { skip }, () => {
  it('the tc program removed from the client veth: the ClusterIP scenario fails naming the KUBE-SVC counters', async () => {
    const reports = path.join(tmp, 'fault');
    const r = await sh(
      [
        process.execPath,
        path.join(STANDIN_DIR, 'run.ts'),
        '--reports',
        reports,
        '--name',
        'Pod to ClusterIP succeeds and the KUBE-SVC and KUBE-SEP counters stay flat',
      ],
      { HOOKPOINT_STANDIN_FAULT: 'tc-removed' },
      600_000,
    );
    assert.notEqual(r.code, 0, 'the run with the fault must fail');
    const summary = JSON.parse(readFileSync(path.join(reports, 'summary.json'), 'utf8')) as {
      counts: Record<string, number>;
    };
    assert.equal(summary.counts.failed, 1, `${JSON.stringify(summary.counts)}\n${(r.out + r.err).slice(-3000)}`);
    const text = r.out + r.err;
    assert.match(text, /KUBE-SVC.*rose from \d+ to \d+ packets.*evidence/);
    // The counters were read on the node with docker exec: the transcript holds the command.
    const transcripts = path.join(reports, 'transcripts');
    const commands = readdirSync(transcripts).flatMap((f) =>
      (
        JSON.parse(readFileSync(path.join(transcripts, f), 'utf8')) as { records: Array<{ argv: string[] }> }
      ).records.map((r) => r.argv.join(' ')),
    );
    assert.ok(
      commands.some((c) => /^docker exec kind-standin-control-plane iptables/.test(c)),
      commands.join('\n'),
    );
    assert.deepEqual(leftovers(), []);
  });
});
