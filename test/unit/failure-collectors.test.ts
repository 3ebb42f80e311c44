/**
 * Failure collectors after a failed or broken scenario: the node collectors each backend's
 * descriptor declares, then the backend's own collectors — with a recording stand-in backend.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKEND_DESCRIPTORS } from '../../support/backends/descriptors.ts';
import type { Backend, BackendName, ExecTarget } from '../../support/backends/types.ts';
import { type Attachment, type Evidence, EvidenceRecorder } from '../../support/evidence/index.ts';
import type { RunResult } from '../../support/exec/index.ts';
import { collectFailureEvidence } from '../../support/scenario/failure-collectors.ts';
import type { HookpointWorld } from '../../support/scenario/world.ts';

function standIn(name: BackendName, o: { own?: Array<Evidence<string>>; topologyFails?: boolean } = {}) {
  const calls: Array<{ target: ExecTarget; argv: readonly string[] }> = [];
  const ownAsked: Array<readonly string[] | undefined> = [];
  const backend = {
    name,
    exec: async (target: ExecTarget, argv: readonly string[]) => {
      calls.push({ target, argv });
      return { argv: [...argv], exitCode: 0, stdout: `${argv.join(' ')} output\n`, stderr: '' } as unknown as RunResult;
    },
    ...(o.own
      ? {
          collectEvidence: async (nodes?: readonly string[]) => {
            ownAsked.push(nodes);
            return o.own!;
          },
        }
      : {}),
  } as unknown as Backend;
  const attached: Attachment[] = [];
  const world = {
    backend,
    evidence: new EvidenceRecorder((a) => {
      attached.push(a);
    }),
    topology: async () => {
      if (o.topologyFails) throw new Error('the API server did not answer');
      return { cluster: 'c', nodes: [{ name: 'n1' }, { name: 'n2' }], pods: [], services: [] };
    },
  } as unknown as HookpointWorld;
  return { world, calls, ownAsked, attached };
}

test('the lab collects its declared node commands on every node (bpftool on the node) and has no own collectors', async () => {
  const s = standIn('lab');
  await collectFailureEvidence(s.world, []);
  const lab = BACKEND_DESCRIPTORS.lab.nodeCollectors;
  assert.equal(s.calls.length, lab.length * 2, 'every collector on both nodes');
  const bpf = s.calls.find((c) => c.argv[0] === 'bpftool')!;
  assert.deepEqual(bpf.target, { kind: 'node', node: 'n1' });
  assert.ok(s.attached.some((a) => a.name.includes('failure-bpftool-net-node-n1')));
});

test('kind and existing ask the node for bpftool (their tool locations send it to the agent image), the agent for cilium-dbg, and add their own collectors', async () => {
  for (const name of ['kind', 'existing'] as const) {
    const own: Evidence<string> = {
      kind: 'agent-log',
      where: 'node n2',
      commands: ['kubectl logs cilium-x --container cilium-agent --tail=200'],
      raw: 'level=info msg="agent started"',
      data: '',
      summary: 'agent-log on node n2: 1 lines',
    };
    const s = standIn(name, { own: [own] });
    await collectFailureEvidence(s.world, ['n2']);
    assert.deepEqual(s.calls.find((c) => c.argv[0] === 'bpftool')!.target, { kind: 'node', node: 'n2' }, name);
    assert.ok(s.calls.every((c) => c.argv[0] !== 'cilium-dbg' || c.target.kind === 'agent'));
    assert.deepEqual(s.ownAsked, [['n2']]);
    const log = s.attached.find((a) => a.name.includes('failure-agent-log'))!;
    assert.match(String(log.body), /# \$ kubectl logs cilium-x --container cilium-agent --tail=200/);
    assert.match(String(log.body), /agent started/);
  }
});

test('when the nodes cannot be listed, that is noted and the backend’s own collectors still run', async () => {
  const s = standIn('kind', { own: [], topologyFails: true });
  await collectFailureEvidence(s.world, []);
  assert.equal(s.calls.length, 0);
  assert.deepEqual(s.ownAsked, [[]]);
  const note = s.attached.find((a) => a.name.includes('failure-collectors'))!;
  assert.match(String(note.body), /could not be listed.*did not answer/);
});
