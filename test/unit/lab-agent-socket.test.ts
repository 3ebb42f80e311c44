/**
 * The lab agent's socket protocol and its thin client's argument parsing (pure). The server and
 * the client together are tested on the kernel (test/lab/lab-backend.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAgentInvocation } from '../../support/backends/lab/agent/client.ts';
import { agentSocketPath, decodeFrame, encodeFrame, frameLines } from '../../support/backends/lab/agent/socket.ts';

describe('lab agent socket', () => {
  it('round-trips every frame kind, and refuses lines that are not frames', () => {
    for (const f of [
      { kind: 'out', text: 'KubeProxyReplacement:    False' },
      { kind: 'err', text: '' },
      { kind: 'exit', code: 130 },
      { kind: 'stale' },
    ] as const)
      assert.deepEqual(decodeFrame(encodeFrame(f).slice(0, -1)), f);
    assert.equal(decodeFrame('x1a'), undefined);
    assert.equal(decodeFrame('sx'), undefined);
    assert.equal(decodeFrame('?'), undefined);
  });

  it('splits multi-line output into one frame per line', () => {
    assert.equal(frameLines('out', 'a\nb'), 'oa\nob\n');
    assert.equal(frameLines('err', 'hookpoint: x'), 'ehookpoint: x\n');
  });

  it('places the socket in the lab run directory', () => {
    assert.equal(agentSocketPath('/run/hookpoint/lab', 'hpt-1'), '/run/hookpoint/lab/hpt-1/agent.sock');
  });
});

describe('lab agent client: the argument shapes it serves', () => {
  const env = {};
  it('reads the shape the lab builds: --cluster, --state-root, the node, then the command after --', () => {
    assert.deepEqual(
      parseAgentInvocation(
        ['--cluster', 'hpt-1', '--state-root', '/tmp/s', 'worker', '--', 'cilium-dbg', 'status'],
        env,
      ),
      {
        stateRoot: '/tmp/s',
        cluster: 'hpt-1',
        node: 'worker',
        argv: ['cilium-dbg', 'status'],
      },
    );
    assert.deepEqual(
      parseAgentInvocation(['--cluster=hpt-2', 'control-plane', '--', 'cilium-dbg', 'monitor', '-v'], env),
      {
        stateRoot: '/run/hookpoint/lab',
        cluster: 'hpt-2',
        node: 'control-plane',
        argv: ['cilium-dbg', 'monitor', '-v'],
      },
    );
  });

  it('defaults the cluster and takes the state root from HOOKPOINT_LAB_STATE', () => {
    const inv = parseAgentInvocation(['worker', '--', 'cilium-dbg', 'status'], { HOOKPOINT_LAB_STATE: '/srv/labs' });
    assert.equal(inv?.stateRoot, '/srv/labs');
    assert.equal(inv?.cluster, 'cilium-kubeproxy');
  });

  it('leaves every other shape to the CLI (help, unknown options, no command, two nodes)', () => {
    for (const args of [
      ['--help'],
      ['worker', 'status'],
      ['worker', '--'],
      ['--debug', 'worker', '--', 'cilium-dbg', 'status'],
      ['worker', 'control-plane', '--', 'cilium-dbg', 'status'],
      ['--cluster', '--', 'cilium-dbg', 'status'],
    ])
      assert.equal(parseAgentInvocation(args, env), undefined, args.join(' '));
  });
});
