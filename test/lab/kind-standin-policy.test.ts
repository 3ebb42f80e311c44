/**
 * Network policy on the kind backend, through the kind stand-in: the backend's own code creates
 * the NetworkPolicy / CiliumNetworkPolicy through the API, waits on every agent (`cilium-dbg
 * policy get -o json`, `policy wait <revision>`), and the stand-in applies it to the lab's
 * eBPF enforcement. Representative scenarios of features/policy/ (the full set takes ~9 min on
 * the stand-in): the label allow with an intruder in another namespace (its requests time out,
 * the policy-denied drop on the monitor) and the CiliumNetworkPolicy port allow with its verdict.
 * With the stand-in's enforcement off (HOOKPOINT_STANDIN_FAULT=policy-unenforced: agents import
 * the policy, the datapath enforces nothing) the reachability matrix of the label allow turns red
 * naming the wrong cells. (That matrix is not in the green run: it probes four cells at once, and
 * on a loaded machine a denied cell's `kubectl exec` through the stand-in can outlast the request
 * bound; see docs/backends-kind.md.) Needs root; nothing may be left behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../../support/exec/index.ts';
import { leftovers, standinEnv } from '../kind-standin/run.ts';
import { ownCgroupHierarchy, REPO, STANDIN_DIR } from '../kind-standin/state.ts';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root (network namespaces)';

let releaseCgroups = () => {};
before(() => {
  if (isRoot) releaseCgroups = ownCgroupHierarchy();
});
after(() => releaseCgroups());
const tmp = mkdtempSync(path.join(tmpdir(), 'hp-standin-policy-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const MATRIX = 'The client reaches every replica and the intruder none';
const INTRUDER_DROP = "The intruder's packets are dropped at delivery with a deny verdict";
const PORT_ALLOW = 'Port 80 allowed on its own is reached, with an allow verdict';

async function standinRun(name: string, scenarios: string[], fault?: string) {
  const reports = path.join(tmp, name);
  const r = await run(
    [
      process.execPath,
      path.join(STANDIN_DIR, 'run.ts'),
      '--tags',
      '@policy',
      '--reports',
      reports,
      '--name',
      scenarios.map((s) => `^${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`).join('|'),
    ],
    {
      env: { ...(standinEnv() as Record<string, string>), ...(fault ? { HOOKPOINT_STANDIN_FAULT: fault } : {}) },
      timeoutMs: 900_000,
      cwd: REPO,
      check: false,
      where: 'host',
    },
  );
  const summary = JSON.parse(readFileSync(path.join(reports, 'summary.json'), 'utf8')) as {
    counts: Record<string, number>;
  };
  const transcripts = path.join(reports, 'transcripts');
  const commands = readdirSync(transcripts).flatMap((f) =>
    (JSON.parse(readFileSync(path.join(transcripts, f), 'utf8')) as { records: Array<{ argv: string[] }> }).records.map(
      (x) => x.argv.join(' '),
    ),
  );
  return { code: r.exitCode, text: r.stdout + r.stderr, counts: summary.counts, commands };
}

describe('kind backend: network policy through the kind stand-in', { skip }, () => {
  it('the label allow (intruder in namespace "other", its drop on the monitor) and the CiliumNetworkPolicy port allow pass', async () => {
    const r = await standinRun('green', [INTRUDER_DROP, PORT_ALLOW]);
    assert.equal(r.code, 0, r.text.slice(-4000));
    assert.equal(r.counts.passed, 2, JSON.stringify(r.counts));
    // The backend waited on both agents with the real commands, and the intruder ran in "other".
    const agentCmd = (c: string) => r.commands.filter((x) => x.includes(`--container cilium-agent -- cilium-dbg ${c}`));
    assert.ok(agentCmd('policy get -o json').length >= 4, 'policy get -o json on both agents, apply and removal');
    assert.ok(
      agentCmd('policy wait').every((c) => /policy wait \d+$/.test(c)) && agentCmd('policy wait').length >= 4,
      r.commands.join('\n'),
    );
    assert.ok(r.commands.some((c) => /--namespace other exec intruder -- curl/.test(c)));
    assert.deepEqual(leftovers(), []);
  });

  it('with enforcement off in the stand-in, the matrix fails on evidence: the intruder reached the replicas', async () => {
    const r = await standinRun('unenforced', [MATRIX], 'policy-unenforced');
    assert.notEqual(r.code, 0, 'the run with the fault must fail');
    assert.equal(r.counts.failed, 1, `${JSON.stringify(r.counts)}\n${r.text.slice(-3000)}`);
    // The agents did import the policy (the backend's wait passed): the failure is the datapath's.
    assert.ok(r.commands.some((c) => /cilium-dbg policy wait \d+$/.test(c)));
    assert.match(r.text, /intruder → "echo" replica on node "(control-plane|worker)": expected ✗, observed ✓/);
    assert.deepEqual(leftovers(), []);
  });
});
