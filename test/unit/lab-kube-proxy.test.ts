/** kube-proxy reproduction: chain hashing checked against kube-proxy's own fixture, and the rules it generates. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type ProxyService, probability, proxyRules, renderRestore } from '../../support/backends/lab/kube-proxy.ts';
import {
  base32,
  endpointChain,
  externalChain,
  serviceChain,
  servicePortName,
} from '../../support/kube-proxy/chains.ts';
import { serviceRules } from '../../support/kube-proxy/rules.ts';
import { findChain, parseIptablesRules, parseIptablesSave } from '../../support/parsers/index.ts';
import { realWorldPath, skipUnlessRealWorld } from './helpers/real-world.ts';

const FIXTURE = realWorldPath('kubeproxy-iptables-restore-input-fixture-k8s-proxier_test-TestOverallIPTablesRules.txt');
const skipReal = skipUnlessRealWorld(path.basename(FIXTURE));

const echo: ProxyService = {
  namespace: 'default',
  name: 'echo',
  portName: 'http',
  protocol: 'TCP',
  clusterIP: '10.96.94.95',
  port: 80,
  nodePort: 30080,
  endpoints: [
    { ip: '10.244.1.30', port: 80 },
    { ip: '10.244.0.20', port: 80 },
  ],
};

describe('chain names (kube-proxy hash)', () => {
  it('base32 is RFC 4648 (Go base32.StdEncoding)', () => {
    assert.equal(base32(Buffer.from('foobar')), 'MZXW6YTBOI======');
    assert.equal(base32(Buffer.from('f')), 'MY======');
  });

  it('servicePortName leaves out an unnamed port', () => {
    assert.equal(servicePortName({ namespace: 'ns1', name: 'svc1', portName: 'p80' }), 'ns1/svc1:p80');
    assert.equal(servicePortName({ namespace: 'ns1', name: 'svc1', portName: '' }), 'ns1/svc1');
  });

  it('matches every KUBE-SVC/KUBE-EXT/KUBE-SEP name in kube-proxy’s TestOverallIPTablesRules fixture', {
    skip: skipReal,
  }, () => {
    const dump = parseIptablesRules(readFileSync(FIXTURE, 'utf8'));
    let checked = 0;
    for (const chain of dump.chains.filter((c) => c.table === 'nat' && c.name.startsWith('KUBE-SVC-'))) {
      for (const rule of chain.rules) {
        const m = /^(\S+) -> (\S+)$/.exec(rule.comment ?? '');
        if (!m || !rule.target?.startsWith('KUBE-SEP-')) continue;
        const [, spn, endpoint] = m;
        assert.equal(serviceChain(spn!, 'tcp'), chain.name, `KUBE-SVC of ${spn}`);
        assert.equal(endpointChain(spn!, 'TCP', endpoint!), rule.target, `KUBE-SEP of ${spn} -> ${endpoint}`);
        checked++;
      }
    }
    for (const chain of dump.chains.filter((c) => c.table === 'nat' && c.name.startsWith('KUBE-EXT-'))) {
      const jump = chain.rules.find((r) => r.target?.startsWith('KUBE-SVC-'));
      if (jump) assert.equal(chain.name.slice('KUBE-EXT-'.length), jump.target!.slice('KUBE-SVC-'.length));
    }
    assert.ok(checked >= 6, `only ${checked} endpoint rules checked`);
  });

  it('names the seed’s echo service as the lab prototype measured it (default/echo:http)', () => {
    assert.equal(serviceChain('default/echo:http', 'tcp'), 'KUBE-SVC-ZJMBFACUQCTMIK2C');
    assert.equal(externalChain('default/echo:http', 'tcp'), 'KUBE-EXT-ZJMBFACUQCTMIK2C');
    assert.equal(endpointChain('default/echo:http', 'tcp', '10.244.0.20:80'), 'KUBE-SEP-GKX2UC7VFHO7SJQN');
    assert.equal(endpointChain('default/echo:http', 'tcp', '10.244.1.30:80'), 'KUBE-SEP-7DHTXQBGUJIEXMRO');
  });
});

describe('rules', () => {
  const text = renderRestore(proxyRules([echo], { clusterCIDR: '10.244.0.0/16' }));
  const dump = parseIptablesSave(text);

  it('hooks KUBE-SERVICES from PREROUTING and OUTPUT, KUBE-POSTROUTING from POSTROUTING', () => {
    for (const base of ['PREROUTING', 'OUTPUT'])
      assert.ok(
        findChain(dump, base, 'nat')!.rules.some((r) => r.target === 'KUBE-SERVICES'),
        base,
      );
    assert.equal(findChain(dump, 'POSTROUTING', 'nat')!.rules[0]!.target, 'KUBE-POSTROUTING');
  });

  it('sends the ClusterIP to KUBE-SVC with statistic random, one KUBE-SEP per endpoint with KUBE-MARK-MASQ + DNAT', () => {
    const svc = findChain(dump, 'KUBE-SVC-ZJMBFACUQCTMIK2C', 'nat')!;
    assert.deepEqual(
      svc.rules.map((r) => r.target),
      ['KUBE-MARK-MASQ', 'KUBE-SEP-GKX2UC7VFHO7SJQN', 'KUBE-SEP-7DHTXQBGUJIEXMRO'],
    );
    assert.match(svc.rules[0]!.raw, /! -s 10\.244\.0\.0\/16 -d 10\.96\.94\.95\/32/);
    assert.match(svc.rules[1]!.raw, /-m statistic --mode random --probability 0\.5000000000 /);
    assert.doesNotMatch(svc.rules[2]!.raw, /statistic/);
    assert.equal(svc.rules[1]!.comment, 'default/echo:http -> 10.244.0.20:80');
    const sep = findChain(dump, 'KUBE-SEP-GKX2UC7VFHO7SJQN', 'nat')!;
    assert.deepEqual(
      sep.rules.map((r) => [r.target, r.comment]),
      [
        ['KUBE-MARK-MASQ', 'default/echo:http'],
        ['DNAT', 'default/echo:http'],
      ],
    );
    assert.equal(sep.rules[1]!.dnatTo, '10.244.0.20:80');
  });

  it('routes the NodePort KUBE-NODEPORTS → KUBE-EXT (mark for masquerade, then KUBE-SVC), from the last KUBE-SERVICES rule', () => {
    const services = findChain(dump, 'KUBE-SERVICES', 'nat')!.rules;
    assert.equal(services.at(-1)!.target, 'KUBE-NODEPORTS');
    assert.match(services.at(-1)!.raw, /--dst-type LOCAL/);
    const np = findChain(dump, 'KUBE-NODEPORTS', 'nat')!.rules;
    assert.equal(np.length, 1);
    assert.match(np[0]!.raw, /--dport 30080 -j KUBE-EXT-ZJMBFACUQCTMIK2C/);
    assert.deepEqual(
      findChain(dump, 'KUBE-EXT-ZJMBFACUQCTMIK2C', 'nat')!.rules.map((r) => r.target),
      ['KUBE-MARK-MASQ', 'KUBE-SVC-ZJMBFACUQCTMIK2C'],
    );
    assert.match(findChain(dump, 'KUBE-POSTROUTING', 'nat')!.rules.at(-1)!.raw, /MASQUERADE --random-fully/);
  });

  it('is found by the parsers’ serviceRules for default/echo', () => {
    const found = serviceRules(dump, { namespace: 'default', service: 'echo' });
    assert.deepEqual(found.svcChains, ['KUBE-SVC-ZJMBFACUQCTMIK2C']);
    assert.deepEqual([...found.sepChains].sort(), ['KUBE-SEP-7DHTXQBGUJIEXMRO', 'KUBE-SEP-GKX2UC7VFHO7SJQN']);
    assert.equal(found.sepDnat.length, 2);
    assert.equal(found.nodePortJumps.length, 1);
    assert.equal(found.svcJumps.length, 1);
  });

  it('writes probabilities 1/(n-i) with 10 decimals', () => {
    assert.deepEqual(
      [0, 1].map((i) => probability(i, 3)),
      ['0.3333333333', '0.5000000000'],
    );
  });

  it('rejects a service without endpoints in the filter table and writes no nat chain for it', () => {
    const empty = { ...echo, name: 'empty', clusterIP: '10.96.0.50', nodePort: null, endpoints: [] };
    const d = parseIptablesSave(renderRestore(proxyRules([empty], { clusterCIDR: '10.244.0.0/16' })));
    const reject = findChain(d, 'KUBE-SERVICES', 'filter')!.rules;
    assert.equal(reject.length, 1);
    assert.equal(reject[0]!.comment, 'default/empty:http has no endpoints');
    assert.equal(reject[0]!.target, 'REJECT');
    assert.equal(findChain(d, 'KUBE-SERVICES', 'nat')!.rules.length, 1);
  });

  it('partial sync rewrites the fixed chains and changed services only, and deletes stale chains', () => {
    const other: ProxyService = { ...echo, name: 'other', clusterIP: '10.96.0.60', nodePort: null };
    const before = proxyRules([echo, other], { clusterCIDR: '10.244.0.0/16' });
    const after = proxyRules([{ ...echo, endpoints: [echo.endpoints[0]!] }, other], { clusterCIDR: '10.244.0.0/16' });
    const partial = renderRestore(after, before);
    const otherSvc = serviceChain('default/other:http', 'tcp');
    assert.doesNotMatch(partial, new RegExp(`-A ${otherSvc} `), 'an unchanged service chain is not rewritten');
    assert.match(partial, /^:KUBE-SVC-ZJMBFACUQCTMIK2C - \[0:0\]$/m);
    assert.match(partial, /^-X KUBE-SEP-GKX2UC7VFHO7SJQN$/m);
    assert.match(partial, /^:KUBE-SERVICES - \[0:0\]$/m);
    assert.doesNotMatch(partial, /^:PREROUTING/m, 'no built-in chain in a --noflush restore');
  });
});
