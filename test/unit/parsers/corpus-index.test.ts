/**
 * Every file of the real-world corpus is read by a parser (a corpus-<kind>.test.ts names it) or is
 * out of scope with the reason; and every named file exists. The per-parser files are read as
 * text here (importing them would run their tests twice).
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PARSE_KINDS } from '../../../support/parsers/registry.ts';
import { corpusDir } from './corpus-harness.ts';

const OUT_OF_SCOPE: Record<string, string> = {
  'INDEX.md': 'the corpus index (provenance and quirks), not tool output',
  'iptables-tracer-host-cilium-kpr-false-1.14.0rc0-wcnikind.txt':
    'iptables-tracer output (netfilter hook trace with tracer columns) and kubectl; not iptables-save/-S/-L nor plain tcpdump',
  'nft-list-table-kube-proxy-nftables-mode-minikube-idx71145198530.txt':
    'nft ruleset of kube-proxy nftables mode: nftables syntax, not one of the iptables formats',
  'conntrack-L-clusterip-dnat-kubeproxy-minikube-idx71145198530.txt': 'conntrack -L: not among the six formats',
  'bpftool-cgroup-tree-socklb-1.18.6-kind-idx60285825367.txt':
    '`bpftool cgroup tree` (socket-LB programs on cgroups): not net show, prog show or dump xlated',
  'cilium-dbg-bpf-lb-list-1.18.6-kind-idx60285825367.txt': '`cilium bpf lb list`: not among the six formats',
  'cilium-dbg-map-get-ipcache-1.17.5-native-idx7258039410.txt': 'Cilium ipcache map dump: not among the six formats',
  'kind-config-and-helm-kubeproxy-nativerouting-1.15.0rc1-wcnikind.sh.txt':
    'kind cluster config and helm command (a shell script): not tool output of the six formats',
  'kind-config-cilium-docs-kind-config.yaml.txt': 'kind config YAML: not among the six formats',
  'kind-create-cluster-output-kind-docs-working-offline.txt': '`kind create cluster` output: not among the six formats',
  'kubectl-get-nodes-pods-svc-wide-kind-1.27-wcnikind.txt': 'kubectl tables: not among the six formats',
  'helm-values-excerpt-cilium-1.14.0-rc.0-chart-tgz-wcnikind.yaml.txt': 'Cilium Helm values: not among the six formats',
};

const here = path.dirname(new URL(import.meta.url).pathname);

/** Corpus files each per-parser test names (its top-level keys). */
function mapped(): Map<string, string[]> {
  const byFile = new Map<string, string[]>();
  for (const f of readdirSync(here).filter((n) => /^corpus-.+\.test\.ts$/.test(n) && n !== 'corpus-index.test.ts')) {
    const kind = /^corpus-(.+)\.test\.ts$/.exec(f)![1]!;
    assert.ok((PARSE_KINDS as readonly string[]).includes(kind), `${f} is named after no parser kind`);
    for (const m of readFileSync(path.join(here, f), 'utf8').matchAll(/^ {2}'([^']+)': \[/gm))
      byFile.set(m[1]!, [...(byFile.get(m[1]!) ?? []), kind]);
  }
  return byFile;
}

describe('real-world corpus: every file mapped', () => {
  it('maps every file of the corpus to a parser or a reason, and only files that exist', (t) => {
    if (!existsSync(corpusDir)) {
      if (process.env.CI === 'true') assert.fail(`The corpus directory ${corpusDir} is missing (CI=true).`);
      t.skip(`corpus not found at ${corpusDir}`);
      return;
    }
    const files = readdirSync(corpusDir).sort();
    const byFile = mapped();
    assert.ok(byFile.size >= 40, `only ${byFile.size} files mapped: is the key pattern still right?`);
    const unmapped = files.filter((f) => !byFile.has(f) && !(f in OUT_OF_SCOPE));
    const missing = [...byFile.keys(), ...Object.keys(OUT_OF_SCOPE)].filter((f) => !files.includes(f));
    const both = Object.keys(OUT_OF_SCOPE).filter((f) => byFile.has(f));
    assert.deepEqual(unmapped, [], `corpus files without a parser or an out-of-scope reason: ${unmapped.join(', ')}`);
    assert.deepEqual(missing, [], `mapped files not in the corpus: ${missing.join(', ')}`);
    assert.deepEqual(both, [], 'a file is either read or out of scope');
  });
});
