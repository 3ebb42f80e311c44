/** support/kube-proxy: the one detector of where kube-proxy's chains live, and tool naming. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InfraError } from '../../support/errors.ts';
import type { RunResult } from '../../support/exec/index.ts';
import { base32, chainsOfService } from '../../support/kube-proxy/chains.ts';
import {
  findKubeProxyChains,
  iptablesCommand,
  nftChainCounts,
  variantOfVersion,
} from '../../support/kube-proxy/mode.ts';
import { counterDelta, serviceRefOf, serviceRules } from '../../support/kube-proxy/rules.ts';
import { parseIptablesSave } from '../../support/parsers/iptables.ts';

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
    assert.deepEqual(found, {
      mode: 'legacy',
      command: 'iptables-legacy',
      nftOnly: false,
      why: 'KUBE-SERVICES in the legacy tables',
      commands: ['iptables-legacy -t nat -S KUBE-SERVICES 1'],
    });
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
    assert.deepEqual(found, {
      mode: 'nft',
      command: 'iptables-nft',
      nftOnly: true,
      why: 'KUBE-SERVICES in nftables (iptables-nft refuses the mixed nat table; nft lists it)',
      commands: [
        'iptables-legacy -t nat -S KUBE-SERVICES 1',
        'iptables-nft -t nat -S KUBE-SERVICES 1',
        'nft list chain ip nat KUBE-SERVICES',
      ],
    });
  });

  it('null when no table holds the chain (kube-proxy absent), nft the reader to use', async () => {
    const n = node({
      'iptables-legacy': NO_CHAIN,
      'iptables-nft': INCOMPATIBLE,
      nft: { exitCode: 1, stderr: 'Error: No such file or directory' },
    });
    const found = await findKubeProxyChains(n.run);
    assert.deepEqual(
      [found.mode, found.command, found.nftOnly, found.why],
      [null, 'iptables-nft', false, 'no KUBE-SERVICES chain in the legacy or nft tables'],
    );
    // Without nft on the node the reader to use is iptables-legacy.
    const noNft = node({ 'iptables-legacy': NO_CHAIN, 'iptables-nft': 'missing' });
    const none = await findKubeProxyChains(noNft.run);
    assert.deepEqual([none.mode, none.command, none.nftOnly], [null, 'iptables-legacy', false]);
    assert.ok(!noNft.ran.some((c) => c.startsWith('nft ')), noNft.ran.join('; '));
  });

  it('single-iptables images: the variant from `iptables -V`', async () => {
    const n = node({
      'iptables-legacy': 'missing',
      'iptables-nft': { exitCode: 127, stderr: 'sh: iptables-nft: not found' },
      'iptables -t nat -S KUBE-SERVICES 1': { stdout: '' },
      'iptables -V': { stdout: 'iptables v1.8.4 (legacy)\n' },
    });
    const found = await findKubeProxyChains(n.run);
    assert.deepEqual(found, {
      mode: 'legacy',
      command: 'iptables',
      nftOnly: false,
      why: "KUBE-SERVICES via the image's only iptables (legacy)",
      commands: ['iptables-nft -t nat -S KUBE-SERVICES 1', 'iptables -t nat -S KUBE-SERVICES 1', 'iptables -V'],
    });
    const unknownVariant = node({
      'iptables-legacy': 'missing',
      'iptables-nft': 'missing',
      'iptables -t nat -S KUBE-SERVICES 1': { stdout: '' },
      'iptables -V': { stdout: 'iptables v1.8.4\n' },
    });
    const guessed = await findKubeProxyChains(unknownVariant.run);
    assert.deepEqual(
      [guessed.mode, guessed.why],
      ['nft', "KUBE-SERVICES via the image's only iptables (variant unknown)"],
    );
    const noChain = node({
      'iptables-legacy': 'missing',
      'iptables-nft': 'missing',
      'iptables -t nat -S KUBE-SERVICES 1': NO_CHAIN,
      'iptables -V': { stdout: 'iptables v1.8.4 (legacy)\n' },
    });
    const absent = await findKubeProxyChains(noChain.run);
    assert.deepEqual(
      [absent.mode, absent.command, absent.nftOnly, absent.why],
      [null, 'iptables', false, 'no KUBE-SERVICES chain'],
    );
  });

  it('tools that are missing (thrown, exit 127, or nft absent) are no answer, never a crash', async () => {
    const none = node({ 'iptables-legacy': 'missing', 'iptables-nft': { exitCode: 127 }, iptables: 'missing' });
    assert.deepEqual(await findKubeProxyChains(none.run), {
      mode: null,
      command: 'iptables',
      nftOnly: false,
      why: 'no KUBE-SERVICES chain',
      commands: ['iptables-nft -t nat -S KUBE-SERVICES 1'],
    });
    const noNft = node({ 'iptables-legacy': NO_CHAIN, 'iptables-nft': INCOMPATIBLE, nft: 'missing' });
    const found = await findKubeProxyChains(noNft.run);
    assert.deepEqual([found.mode, found.command, found.nftOnly], [null, 'iptables-nft', false]);
    const nftOnlyTables = node({
      'iptables-legacy': NO_CHAIN,
      'iptables-nft -t nat -S KUBE-SERVICES 1': { stdout: '' },
    });
    assert.deepEqual(await findKubeProxyChains(nftOnlyTables.run), {
      mode: 'nft',
      command: 'iptables-nft',
      nftOnly: false,
      why: 'KUBE-SERVICES in nftables',
      commands: ['iptables-legacy -t nat -S KUBE-SERVICES 1', 'iptables-nft -t nat -S KUBE-SERVICES 1'],
    });
  });

  it('a forced mode runs nothing', async () => {
    const n = node({});
    assert.deepEqual(await findKubeProxyChains(n.run, 'legacy'), {
      mode: 'legacy',
      command: 'iptables-legacy',
      nftOnly: false,
      why: 'forced',
      commands: [],
    });
    assert.deepEqual(n.ran, []);
  });

  it('an unexpected failure of the node is not hidden', async () => {
    const run = async (): Promise<RunResult> => {
      throw new InfraError('kubectl exec: connection refused');
    };
    await assert.rejects(findKubeProxyChains(run), /connection refused/);
  });
});

describe('nftChainCounts: a nat table only nft can read', () => {
  it('counts KUBE-SVC and KUBE-SEP chains from `nft list chains` and the NodePort jumps', async () => {
    const n = node({
      'nft list chains ip': {
        stdout: [
          'table ip nat {',
          '\tchain PREROUTING {',
          '\t\ttype nat hook prerouting priority dstnat; policy accept;',
          '\t}',
          '\tchain KUBE-SERVICES {',
          '\t}',
          '\tchain KUBE-SVC-ZJMBFACUQCTMIK2C {',
          '\t}',
          '\tchain KUBE-SVC-TCOU7JCQXEZGVUNU {',
          '\t}',
          '\tchain KUBE-SEP-GKX2UC7VFHO7SJQN {',
          '\t}',
          '\tchain KUBE-EXT-ZJMBFACUQCTMIK2C {',
          '\t}',
          '}',
          '',
        ].join('\n'),
      },
      'nft list chain ip nat KUBE-NODEPORTS': {
        stdout: [
          'table ip nat {',
          '\tchain KUBE-NODEPORTS {',
          '\t\tmeta l4proto tcp tcp dport 30080 counter packets 0 bytes 0 jump KUBE-EXT-ZJMBFACUQCTMIK2C',
          '\t\tmeta l4proto tcp tcp dport 30081 counter packets 0 bytes 0 goto KUBE-EXT-LOCALEXTCHAIN0000',
          '\t\tcounter packets 0 bytes 0 return',
          '\t}',
          '}',
          '',
        ].join('\n'),
      },
    });
    assert.deepEqual(await nftChainCounts(n.run), { serviceChains: 2, endpointChains: 1, nodePortRules: 2 });
    assert.deepEqual(n.ran.sort(), ['nft list chain ip nat KUBE-NODEPORTS', 'nft list chains ip']);
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

describe('serviceRefOf: the service a kube-proxy comment is about', () => {
  it('reads ns/name:port and ns/name, skipping words that only look like one', () => {
    assert.deepEqual(serviceRefOf('default/echo:http cluster IP'), {
      namespace: 'default',
      name: 'echo',
      port: 'http',
    });
    assert.deepEqual(serviceRefOf('masquerade traffic for a/b external destinations'), {
      namespace: 'a',
      name: 'b',
      port: null,
    });
    assert.deepEqual(serviceRefOf('/x default/echo:http -> 10.244.1.5:80'), {
      namespace: 'default',
      name: 'echo',
      port: 'http',
    });
  });

  it('refuses names that are not DNS labels and an empty port', () => {
    for (const c of ['Default/echo:http', 'default_/echo:http', 'default/echo_:http', 'default/echo: x', '/echo', null])
      assert.equal(serviceRefOf(c), null, String(c));
  });
});

describe('serviceRules: the rules that count a service', () => {
  const ids = (rules: Array<{ chain: string; target: string | null }>) => rules.map((r) => `${r.chain}>${r.target}`);
  it('modern kube-proxy: ClusterIP jump, NodePort → KUBE-EXT, one DNAT per endpoint, LoadBalancer → KUBE-EXT', () => {
    const d = parseIptablesSave(
      [
        '*nat',
        ':KUBE-SERVICES - [0:0]',
        ':KUBE-NODEPORTS - [0:0]',
        '[0:0] -A KUBE-NODEPORTS -p tcp -m comment --comment "default/echo:http" -m tcp --dport 30080 -j KUBE-EXT-ZJMBFACUQCTMIK2C',
        '[0:0] -A KUBE-SERVICES -d 10.96.94.95/32 -p tcp -m comment --comment "default/echo:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-ZJMBFACUQCTMIK2C',
        '[0:0] -A KUBE-SERVICES -d 172.18.255.200/32 -p tcp -m comment --comment "default/echo:http loadbalancer IP" -m tcp --dport 80 -j KUBE-EXT-ZJMBFACUQCTMIK2C',
        '[0:0] -A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU',
        '[0:0] -A KUBE-EXT-ZJMBFACUQCTMIK2C -m comment --comment "masquerade traffic for default/echo:http external destinations" -j KUBE-MARK-MASQ',
        '[0:0] -A KUBE-EXT-ZJMBFACUQCTMIK2C -j KUBE-SVC-ZJMBFACUQCTMIK2C',
        '[0:0] -A KUBE-SVC-ZJMBFACUQCTMIK2C -m comment --comment "default/echo:http -> 10.244.0.20:80" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-GKX2UC7VFHO7SJQN',
        '[0:0] -A KUBE-SVC-ZJMBFACUQCTMIK2C -m comment --comment "default/echo:http -> 10.244.1.30:80" -j KUBE-SEP-7DHTXQBGUJIEXMRO',
        '[0:0] -A KUBE-SEP-GKX2UC7VFHO7SJQN -s 10.244.0.20/32 -m comment --comment "default/echo:http" -j KUBE-MARK-MASQ',
        '[0:0] -A KUBE-SEP-GKX2UC7VFHO7SJQN -p tcp -m comment --comment "default/echo:http" -m tcp -j DNAT --to-destination 10.244.0.20:80',
        '[0:0] -A KUBE-SEP-7DHTXQBGUJIEXMRO -s 10.244.1.30/32 -m comment --comment "default/echo:http" -j KUBE-MARK-MASQ',
        '[0:0] -A KUBE-SEP-7DHTXQBGUJIEXMRO -p tcp -m comment --comment "default/echo:http" -m tcp -j DNAT --to-destination 10.244.1.30:80',
        'COMMIT',
      ].join('\n'),
    );
    const r = serviceRules(d, { namespace: 'default', service: 'echo', portName: 'http' });
    assert.deepEqual(ids(r.svcJumps), ['KUBE-SERVICES>KUBE-SVC-ZJMBFACUQCTMIK2C']);
    assert.deepEqual(ids(r.nodePortJumps), ['KUBE-NODEPORTS>KUBE-EXT-ZJMBFACUQCTMIK2C']);
    assert.deepEqual(ids(r.sepDnat), ['KUBE-SEP-GKX2UC7VFHO7SJQN>DNAT', 'KUBE-SEP-7DHTXQBGUJIEXMRO>DNAT']);
    assert.deepEqual(r.svcChains, ['KUBE-SVC-ZJMBFACUQCTMIK2C']);
    assert.deepEqual(r.sepChains.sort(), ['KUBE-SEP-7DHTXQBGUJIEXMRO', 'KUBE-SEP-GKX2UC7VFHO7SJQN']);
    assert.deepEqual(r.extChains, ['KUBE-EXT-ZJMBFACUQCTMIK2C']);
    assert.deepEqual(ids(serviceRules(d, { namespace: 'default', service: 'echo', portName: 'https' }).svcJumps), []);
    assert.equal(serviceRules(d, { namespace: 'kube-system', service: 'kube-dns' }).svcJumps.length, 1);
  });

  it('older kube-proxy: NodePort → KUBE-SVC or KUBE-XLB, LoadBalancer → KUBE-FW, DNAT rules without comments', () => {
    const d = parseIptablesSave(
      [
        '*nat',
        '[0:0] -A KUBE-NODEPORTS -p tcp -m comment --comment "default/echo:http" -m tcp --dport 30080 -j KUBE-SVC-ZJMBFACUQCTMIK2C',
        '[0:0] -A KUBE-NODEPORTS -p tcp -m comment --comment "default/local:http" -m tcp --dport 30081 -j KUBE-XLB-LOCALXLBCHAIN0000',
        '[0:0] -A KUBE-SERVICES -d 10.96.94.95/32 -p tcp -m comment --comment "default/echo:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-ZJMBFACUQCTMIK2C',
        '[0:0] -A KUBE-SERVICES -d 172.18.255.200/32 -p tcp -m comment --comment "default/echo:http loadbalancer IP" -m tcp --dport 80 -j KUBE-FW-ZJMBFACUQCTMIK2C',
        '[0:0] -A KUBE-XLB-LOCALXLBCHAIN0000 -m comment --comment "default/local:http" -j KUBE-SVL-LOCALSVLCHAIN0000',
        '[0:0] -A KUBE-SVL-LOCALSVLCHAIN0000 -j KUBE-SEP-LOCALSEPCHAIN0000',
        '[0:0] -A KUBE-SEP-LOCALSEPCHAIN0000 -p tcp -m tcp -j DNAT --to-destination 10.244.1.40:80',
        '[0:0] -A KUBE-SVC-ZJMBFACUQCTMIK2C -j KUBE-SEP-GKX2UC7VFHO7SJQN',
        '[0:0] -A KUBE-SEP-GKX2UC7VFHO7SJQN -s 10.244.0.20/32 -j KUBE-MARK-MASQ',
        '[0:0] -A KUBE-SEP-GKX2UC7VFHO7SJQN -p tcp -m tcp -j DNAT --to-destination 10.244.0.20:80',
        'COMMIT',
      ].join('\n'),
    );
    const echo = serviceRules(d, { namespace: 'default', service: 'echo', portName: 'http' });
    assert.deepEqual(ids(echo.nodePortJumps), ['KUBE-NODEPORTS>KUBE-SVC-ZJMBFACUQCTMIK2C']);
    assert.deepEqual(ids(echo.sepDnat), ['KUBE-SEP-GKX2UC7VFHO7SJQN>DNAT']);
    assert.deepEqual(echo.extChains, ['KUBE-FW-ZJMBFACUQCTMIK2C']);
    assert.deepEqual(echo.svcChains, ['KUBE-SVC-ZJMBFACUQCTMIK2C']);
    const local = serviceRules(d, { namespace: 'default', service: 'local' });
    assert.deepEqual(ids(local.nodePortJumps), ['KUBE-NODEPORTS>KUBE-XLB-LOCALXLBCHAIN0000']);
    assert.deepEqual(local.extChains, ['KUBE-XLB-LOCALXLBCHAIN0000']);
    assert.deepEqual(local.svcChains, ['KUBE-SVL-LOCALSVLCHAIN0000']);
    assert.deepEqual(ids(local.sepDnat), ['KUBE-SEP-LOCALSEPCHAIN0000>DNAT']);
  });
});

describe('kube-proxy naming and rule matching: the edges', () => {
  it('base32 is RFC 4648 (the test vectors of section 10)', () => {
    const enc = (s: string) => base32(new TextEncoder().encode(s));
    assert.deepEqual(['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar'].map(enc), [
      '',
      'MY======',
      'MZXQ====',
      'MZXW6===',
      'MZXW6YQ=',
      'MZXW6YTB',
      'MZXW6YTBOI======',
    ]);
  });

  it('a service without a NodePort has no KUBE-EXT chain', () => {
    const s = { namespace: 'default', name: 'echo', portName: 'http', protocol: 'TCP', endpoints: [] };
    assert.deepEqual(chainsOfService({ ...s, nodePort: null }), ['KUBE-SVC-ZJMBFACUQCTMIK2C']);
    assert.deepEqual(chainsOfService({ ...s, nodePort: 30080 }), [
      'KUBE-SVC-ZJMBFACUQCTMIK2C',
      'KUBE-EXT-ZJMBFACUQCTMIK2C',
    ]);
  });

  it('comments trimmed everywhere but KUBE-SERVICES: the chains are followed from the jumps', () => {
    const d = parseIptablesSave(
      [
        '*filter',
        '[0:0] -A KUBE-SERVICES -d 10.96.94.96/32 -p tcp -m comment --comment "default/echo:http has no endpoints" -m tcp --dport 8080 -j REJECT --reject-with icmp-port-unreachable',
        'COMMIT',
        '*nat',
        '[0:0] -A KUBE-SERVICES -d 10.96.94.95/32 -p tcp -m comment --comment "default/echo:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-ZJMBFACUQCTMIK2C',
        '[0:0] -A KUBE-SERVICES -d 172.18.255.200/32 -p tcp -m comment --comment "default/echo:http loadbalancer IP" -m tcp --dport 80 -j KUBE-EXT-ZJMBFACUQCTMIK2C',
        '[0:0] -A KUBE-SERVICES -d 10.96.94.95/32 -p tcp -m comment --comment "default/echo:http cluster IP"',
        '[0:0] -A KUBE-EXT-ZJMBFACUQCTMIK2C -j KUBE-SVC-ZJMBFACUQCTMIK2C',
        '[0:0] -A KUBE-SVC-ZJMBFACUQCTMIK2C -j KUBE-SEP-GKX2UC7VFHO7SJQN',
        '[7:420] -A KUBE-SEP-GKX2UC7VFHO7SJQN -p tcp -m tcp -j DNAT --to-destination 10.244.0.20:80',
        'COMMIT',
      ].join('\n'),
    );
    const r = serviceRules(d, { namespace: 'default', service: 'echo', portName: 'http' });
    assert.deepEqual(
      r.svcJumps.map((x) => x.target),
      ['KUBE-SVC-ZJMBFACUQCTMIK2C'],
    );
    assert.deepEqual(r.svcChains, ['KUBE-SVC-ZJMBFACUQCTMIK2C']);
    assert.deepEqual(r.extChains, ['KUBE-EXT-ZJMBFACUQCTMIK2C'], 'REJECT (filter table) is no chain of the service');
    assert.deepEqual(r.sepChains, ['KUBE-SEP-GKX2UC7VFHO7SJQN']);
    assert.deepEqual(
      r.sepDnat.map((x) => [x.chain, x.packets]),
      [['KUBE-SEP-GKX2UC7VFHO7SJQN', 7]],
    );
  });

  it('counterDelta refuses an after snapshot without counters', () => {
    const withCounters = parseIptablesSave(
      '*nat\n[3:180] -A KUBE-SEP-GKX2UC7VFHO7SJQN -p tcp -m comment --comment "default/echo:http" -m tcp -j DNAT --to-destination 10.244.0.20:80\nCOMMIT\n',
    );
    const without = parseIptablesSave(
      '*nat\n-A KUBE-SEP-GKX2UC7VFHO7SJQN -p tcp -m comment --comment "default/echo:http" -m tcp -j DNAT --to-destination 10.244.0.20:80\nCOMMIT\n',
    );
    const rules = withCounters.chains.flatMap((c) => c.rules);
    assert.throws(
      () => counterDelta(rules, without),
      /^Error: The "after" snapshot has no counters for rule KUBE-SEP-GKX2UC7VFHO7SJQN \(line 2\): take snapshots with `iptables-save -c`\.$/,
    );
    assert.deepEqual(
      counterDelta(rules, withCounters).map((d) => [d.before, d.after, d.delta, d.gone]),
      [[3, 3, 0, false]],
    );
  });
});
