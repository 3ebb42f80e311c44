/**
 * The targeted counter read gives the same rule table as the whole-table read, filtered to the
 * service: on real nat tables from the corpus and on a generated table of 10,000 services. The
 * probe (support/probes/counters.ts) runs its real `sh -c` commands here, through support/exec,
 * with a stand-in for `iptables-legacy-save` that prints the table under test (the on-node
 * filter is then real grep). The nft read (`iptables-nft -L` per chain) is compared with the
 * whole table on the lab's real iptables: test/lab/counters-targeted.test.ts and the bench.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { type ProxyService, proxyRules, renderRestore } from '../../support/backends/lab/kube-proxy.ts';
import type { Backend, ExecTarget } from '../../support/backends/types.ts';
import { run } from '../../support/exec/command.ts';
import type { WatchedService } from '../../support/kube-proxy/read.ts';
import { serviceRefOf, serviceRules } from '../../support/kube-proxy/rules.ts';
import { type IptablesDump, parseIptablesSave } from '../../support/parsers/iptables.ts';
import { snapshotCounters } from '../../support/probes/counters.ts';
import { realWorld } from './helpers/real-world.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'hp-read-tables-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A backend whose node exec runs the command here, the iptables tools replaced by stand-ins printing `table`. */
function localBackend(table: string): { backend: Backend; commands: string[][] } {
  const file = path.join(dir, `table-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, table);
  const save = `${file}.save`;
  writeFileSync(save, `#!/bin/sh\n[ "$1 $2 $3" = "-c -t nat" ] || exit 2\ncat "${file}"\n`);
  // `-t nat -L <chain> -n -v -x`: the chain's block, from its `Chain` line to the next blank or `Chain` line.
  const list = `${file}.list`;
  writeFileSync(
    list,
    `#!/bin/sh\nawk -v c="$4" '/^Chain /{on = ($2 == c); if (on) found = 1} /^$/{on = 0} on' "${file}"\n` +
      `grep -q "^Chain $4 " "${file}" || { echo "iptables: No chain/target/match by that name." >&2; exit 1; }\n`,
  );
  chmodSync(save, 0o755);
  chmodSync(list, 0o755);
  const tools: Record<string, string> = { 'iptables-legacy-save': save, 'iptables-nft': list };
  const commands: string[][] = [];
  const backend = {
    name: 'lab',
    async exec(_target: ExecTarget, argv: readonly string[], opts?: { timeoutMs?: number }) {
      commands.push([...argv]);
      return run(
        argv.map((a) => tools[a] ?? a),
        { timeoutMs: opts?.timeoutMs ?? 10_000, check: false, quietStdout: true },
      );
    },
    kubeProxyIptables: () => undefined,
  } as unknown as Backend;
  return { backend, commands };
}

/** The service's rule table as the counter steps show it: each watched rule with its counters, and the chains. */
function ruleTable(dump: IptablesDump, s: { namespace: string; name: string }) {
  const r = serviceRules(dump, { namespace: s.namespace, service: s.name });
  const row = (x: (typeof r.svcJumps)[number]) => `${x.chain} ${x.spec} → ${x.target} [${x.packets}:${x.bytes}]`;
  return {
    svc: r.svcJumps.map(row),
    nodePort: r.nodePortJumps.map(row),
    sep: r.sepDnat.map(row),
    chains: [...r.svcChains, ...r.extChains, ...r.sepChains].sort(),
  };
}

/** Every service a table's kube-proxy comments name, as a window knows it before reading (no endpoints: the read follows the rules). */
function servicesOf(dump: IptablesDump): WatchedService[] {
  const seen = new Map<string, WatchedService>();
  for (const c of dump.chains)
    for (const r of c.rules) {
      const ref = serviceRefOf(r.comment);
      if (ref && !seen.has(`${ref.namespace}/${ref.name}`))
        seen.set(`${ref.namespace}/${ref.name}`, {
          namespace: ref.namespace,
          name: ref.name,
          portName: ref.port ?? '',
          protocol: 'TCP',
          nodePort: null,
          endpoints: [],
        });
    }
  return [...seen.values()];
}

/** The targeted read of each service, compared with the whole table filtered to it. */
async function compare(table: string, mode: 'legacy' | 'nft', whole: IptablesDump, services: WatchedService[]) {
  assert.ok(services.length > 0, 'the table names services');
  let rules = 0;
  for (const s of services) {
    const { backend, commands } = localBackend(table);
    const snap = (await snapshotCounters(backend, ['node'], { services: [s], mode })).get('node')!;
    const want = ruleTable(whole, s);
    assert.deepEqual(ruleTable(snap.data, s), want, `${s.namespace}/${s.name}`);
    rules += want.svc.length + want.nodePort.length + want.sep.length;
    const read = commands.filter((c) => c[0] === 'sh');
    assert.ok(read.length >= 1 && read.length <= 2, 'one read, a second for chains the rules lead to');
    const others = snap.data.chains.flatMap((c) =>
      c.rules.filter((r) => {
        const ref = serviceRefOf(r.comment);
        return ref && (ref.namespace !== s.namespace || ref.name !== s.name);
      }),
    );
    assert.deepEqual(
      others.map((r) => r.comment),
      [],
      `no rule of another service is read with ${s.namespace}/${s.name}`,
    );
  }
  return rules;
}

/**
 * A corpus file's nat rules as `iptables-save -c -t nat` prints them: the file's `-A` lines (some
 * are fragments or restore input), declared chains, and a counter on every rule that has none
 * (distinct, so a rule of another service read by mistake shows).
 */
function asSave(text: string): string {
  const nat = text.includes('*nat') ? text.slice(text.indexOf('*nat')) : text;
  const lines = nat.split('\n').filter((l) => /^(\[\d+:\d+\] )?-A /.test(l) || l.startsWith(':'));
  const declared = new Set(lines.filter((l) => l.startsWith(':')).map((l) => l.slice(1).split(' ')[0]));
  const used = lines.filter((l) => !l.startsWith(':')).map((l) => l.replace(/^\[\d+:\d+\] /, '').split(' ')[1]!);
  let n = 0;
  return [
    '*nat',
    ...[...new Set(['KUBE-SERVICES', ...used])].filter((c) => !declared.has(c)).map((c) => `:${c} - [0:0]`),
    ...lines.map((l) => (l.startsWith(':') || l.startsWith('[') ? l : `[${++n}:${n * 60}] ${l}`)),
    'COMMIT',
    '',
  ].join('\n');
}

describe('targeted read vs the whole table on real nat tables', () => {
  const SAVES = [
    'iptables-save-c-counters-kube-sep-submariner-pr1205-partial.txt',
    'iptables-save-nat-fragment-kind-kubeproxy-KUBE-EXT-POSTROUTING-k8s-pr114470-partial.txt',
    'iptables-nft-save-t-nat-grep-svc-kubeproxy-minikube-idx71145198530.txt',
    'kubeproxy-iptables-restore-input-fixture-k8s-proxier_test-TestOverallIPTablesRules.txt',
  ];
  for (const name of SAVES)
    it(`legacy (save filtered on the node): ${name}`, async (t) => {
      const text = realWorld(t, name);
      if (text === null) return;
      const save = asSave(text);
      const whole = parseIptablesSave(save);
      const rules = await compare(save, 'legacy', whole, servicesOf(whole));
      assert.ok(rules > 0, 'some service has watched rules');
    });
});

describe('targeted read vs the whole table with 10,000 services', () => {
  it('legacy: every rule of the sampled services, with exact counters, from a 10k-service table', async () => {
    const services: ProxyService[] = [];
    for (let i = 0; i < 10_000; i++)
      services.push({
        namespace: `bulk${i % 50}`,
        name: `svc${i}`,
        portName: i % 3 ? 'http' : '',
        protocol: i % 7 ? 'TCP' : 'UDP',
        clusterIP: `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`,
        port: 80,
        nodePort: i % 10 === 0 ? 30100 + i / 10 : null,
        endpoints: [
          { ip: `10.250.${(i >> 8) & 255}.${i & 255}`, port: 8080 },
          { ip: `10.251.${(i >> 8) & 255}.${i & 255}`, port: 8080 },
        ],
      });
    const restore = renderRestore(proxyRules(services, { clusterCIDR: '10.244.0.0/16' }));
    // As iptables-save -c prints it: a distinct counter on every rule, so a rule of another service read by mistake shows.
    let n = 0;
    const save = restore
      .slice(restore.indexOf('*nat'))
      .split('\n')
      .map((l) => (l.startsWith('-A ') ? `[${++n}:${n * 60}] ${l}` : l))
      .join('\n');
    const whole = parseIptablesSave(save);
    assert.ok(whole.chains.find((c) => c.name === 'KUBE-SERVICES')!.rules.length > 10_000);
    const sample = [0, 1, 7, 10, 4_999, 9_990, 9_999].map((i) => services[i]!);
    const watched = sample.map((s) => ({ ...s, endpoints: s.endpoints }));
    const rules = await compare(save, 'legacy', whole, watched);
    // ClusterIP jump + 2 SEP DNATs each, and a NodePort jump for the NodePort ones (0, 10, 9990).
    assert.equal(rules, sample.length * 3 + 3);
  });
});
