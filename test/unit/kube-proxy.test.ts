/** support/kube-proxy: the one detector of where kube-proxy's chains live, and tool naming. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InfraError } from '../../support/errors.ts';
import type { RunResult } from '../../support/exec/index.ts';
import { findKubeProxyChains, iptablesCommand, variantOfVersion } from '../../support/kube-proxy/mode.ts';

type Answer = Partial<Pick<RunResult, 'exitCode' | 'stdout' | 'stderr'>> | 'missing';

/** A node whose commands answer from a table keyed by the argv's first words. */
function node(answers: Record<string, Answer>) {
  const ran: string[] = [];
  const run = async (argv: string[]): Promise<RunResult> => {
    const line = argv.join(' ');
    ran.push(line);
    const key = Object.keys(answers).find((k) => line.startsWith(k));
    const a = key ? answers[key]! : { exitCode: 1, stderr: 'unscripted' };
    if (a === 'missing') throw new InfraError(`${argv[0]} is not installed (not on PATH) on the node.`);
    return {
      argv,
      exitCode: a.exitCode ?? 0,
      stdout: a.stdout ?? '',
      stderr: a.stderr ?? '',
      durationMs: 1,
    } as RunResult;
  };
  return { run, ran };
}
const NO_CHAIN = { exitCode: 1, stderr: 'iptables: No chain/target/match by that name.' };
const INCOMPATIBLE = {
  exitCode: 1,
  stderr: "iptables v1.8.9 (nf_tables): chain `KUBE-SERVICES' in table `nat' is incompatible, use 'nft' tool.",
};

describe('findKubeProxyChains', () => {
  it('looks at the legacy tables first, one rule of KUBE-SERVICES', async () => {
    const n = node({ 'iptables-legacy -t nat -S KUBE-SERVICES 1': { stdout: '-A KUBE-SERVICES -j KUBE-SVC-X\n' } });
    const found = await findKubeProxyChains(n.run);
    assert.equal(found.mode, 'legacy');
    assert.equal(found.command, 'iptables-legacy');
    assert.deepEqual(n.ran, ['iptables-legacy -t nat -S KUBE-SERVICES 1']);
  });

  it('nft when only nftables holds the chain', async () => {
    const n = node({ 'iptables-legacy': NO_CHAIN, 'iptables-nft -t nat -S KUBE-SERVICES 1': { stdout: '' } });
    const found = await findKubeProxyChains(n.run);
    assert.deepEqual([found.mode, found.nftOnly, found.why], ['nft', false, 'KUBE-SERVICES in nftables']);
  });

  it('nft-only: iptables-nft refuses a mixed nat table, nft still lists KUBE-SERVICES', async () => {
    const n = node({
      'iptables-legacy': NO_CHAIN,
      'iptables-nft': INCOMPATIBLE,
      'nft list chain ip nat KUBE-SERVICES': { stdout: 'table ip nat {\n\tchain KUBE-SERVICES {\n\t}\n}\n' },
    });
    const found = await findKubeProxyChains(n.run);
    assert.equal(found.mode, 'nft');
    assert.equal(found.nftOnly, true);
    assert.equal(n.ran.at(-1), 'nft list chain ip nat KUBE-SERVICES');
  });

  it('null when no table holds the chain (kube-proxy absent), nft the reader to use', async () => {
    const n = node({
      'iptables-legacy': NO_CHAIN,
      'iptables-nft': INCOMPATIBLE,
      nft: { exitCode: 1, stderr: 'Error: No such file or directory' },
    });
    const found = await findKubeProxyChains(n.run);
    assert.equal(found.mode, null);
    assert.equal(found.command, 'iptables-nft');
  });

  it('single-iptables images: the variant from `iptables -V`', async () => {
    const n = node({
      'iptables-legacy': 'missing',
      'iptables-nft': { exitCode: 127, stderr: 'sh: iptables-nft: not found' },
      'iptables -t nat -S KUBE-SERVICES 1': { stdout: '' },
      'iptables -V': { stdout: 'iptables v1.8.4 (legacy)\n' },
    });
    const found = await findKubeProxyChains(n.run);
    assert.deepEqual([found.mode, found.command], ['legacy', 'iptables']);
  });

  it('a forced mode runs nothing', async () => {
    const n = node({});
    assert.equal((await findKubeProxyChains(n.run, 'legacy')).mode, 'legacy');
    assert.deepEqual(n.ran, []);
  });

  it('an unexpected failure of the node is not hidden', async () => {
    const run = async (): Promise<RunResult> => {
      throw new InfraError('kubectl exec: connection refused');
    };
    await assert.rejects(findKubeProxyChains(run), /connection refused/);
  });
});

describe('iptables tool names', () => {
  it('names each variant’s commands', () => {
    assert.equal(iptablesCommand('nft', 'save'), 'iptables-nft-save');
    assert.equal(iptablesCommand('legacy', 'restore'), 'iptables-legacy-restore');
    assert.equal(iptablesCommand('legacy'), 'iptables-legacy');
    assert.equal(iptablesCommand('plain', 'save'), 'iptables-save');
    assert.equal(variantOfVersion('iptables v1.8.9 (nf_tables)'), 'nft');
    assert.equal(variantOfVersion('iptables v1.6.1'), null);
  });
});
