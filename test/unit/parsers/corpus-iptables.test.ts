/** The real-world corpus read as iptables output: facts per file, typed by the parser's result (corpus-harness.ts). */
import assert from 'node:assert/strict';
import { serviceRules } from '../../../support/kube-proxy/rules.ts';
import { type Any, chain, corpusSuite } from './corpus-harness.ts';

corpusSuite('iptables', {
  'iptables-nat-L-kube-services-svc-1.15.0rc1-kind-wcnikind.txt': [
    {
      author: /^\d+\.\d+: /, // the author's step headings
      facts: (d) => {
        assert.equal(d.format, 'list');
        const svc = chain(d, 'KUBE-SERVICES');
        assert.deepEqual([svc.references, svc.rules.length], [2, 8]);
        const s = serviceRules(d, { namespace: 'default', service: 'serversvc' });
        assert.deepEqual(
          s.svcJumps.map((r: Any) => r.target),
          ['KUBE-SVC-SWRT7AX63WBUEU6W'],
        );
        assert.equal(s.svcJumps[0].comment, 'default/serversvc cluster IP');
        assert.deepEqual(s.sepChains, ['KUBE-SEP-Q7ITRINEDXC7ONHS']);
        assert.equal(
          svc.rules.find((r: Any) => r.target === 'KUBE-SVL-NZTS37XDTDNXGCKJ')!.comment,
          'kube-system/hubble-peer:peer-service cluster IP',
        );
        assert.equal(chain(d, 'PREROUTING').policy, 'ACCEPT');
        assert.equal(chain(d, 'PREROUTING').rules[0].packets, null);
      },
    },
  ],
  'iptables-nat-L-n-v-kind-kubeproxy-KUBE-SERVICES-SVC-SEP-idx16035165759.txt': [
    {
      facts: (d) => {
        const pre = chain(d, 'PREROUTING');
        assert.deepEqual([pre.packets, pre.bytes], [18999, 3_902_000]);
        assert.deepEqual([pre.rules[0].packets, pre.rules[0].bytes], [18955, 3_898_000]);
        assert.equal(d.exactCounters, false);
        const np = chain(d, 'KUBE-SERVICES').rules.find((r: Any) => r.target === 'KUBE-NODEPORTS');
        assert.deepEqual([np!.packets, np!.bytes], [417, 25020]);
        const s = serviceRules(d, { namespace: 'default', service: 'mysvc' });
        assert.deepEqual(
          s.sepDnat.map((r: Any) => r.dnatTo),
          ['10.244.1.2:8080'],
        );
        assert.equal(chain(d, 'KUBE-SVC-BM6F4AVTDKG47F3K').rules.length, 4);
        assert.match(chain(d, 'KUBE-SVC-BM6F4AVTDKG47F3K').rules[1].matches, /probability 0\.33333333349/);
      },
    },
  ],
  'iptables-mangle-nvL-cilium-chains-1.18.6-kind-idx60285825367.txt': [
    {
      facts: (d) => {
        assert.deepEqual([chain(d, 'PREROUTING').packets, chain(d, 'PREROUTING').bytes], [9386, 1_544_000]);
        // kindest/node's iptables 1.8.9 prints the protocol column as numbers (0, 6, 17): read as names
        const pre = chain(d, 'CILIUM_PRE_mangle').rules;
        assert.deepEqual(
          pre.map((r: Any) => [r.target, r.protocol]),
          [
            ['MARK', 'all'],
            ['TPROXY', 'tcp'],
            ['TPROXY', 'udp'],
          ],
        );
        assert.match(pre[1].comment ?? '', /TPROXY to host cilium-dns-egress proxy/);
        assert.equal(chain(d, 'KUBE-IPTABLES-HINT').references, 0);
        assert.equal(d.chains.length, 9);
      },
    },
  ],
  'iptables-S-nat-cilium-plus-kubeproxy-node-CILIUM_POST_nat-idx49537655284.txt': [
    {
      facts: (d) => {
        assert.equal(d.format, 'rules');
        assert.equal(d.chains.length, 37);
        const dns = serviceRules(d, { namespace: 'kube-system', service: 'kube-dns', portName: 'dns' });
        assert.deepEqual(
          dns.svcJumps.map((r: Any) => r.target),
          ['KUBE-SVC-TCOU7JCQXEZGVUNU'],
        );
        assert.deepEqual(dns.sepDnat.map((r: Any) => r.dnatTo).sort(), ['10.0.0.61:53', '10.0.1.248:53']);
        const x = serviceRules(d, { namespace: 'default', service: 'x-tools-svc-1' });
        assert.deepEqual(
          x.nodePortJumps.map((r: Any) => r.target),
          ['KUBE-SVC-XXQFMBX2TZG6LPU6'],
          'NodePort jumps straight into KUBE-SVC (no KUBE-EXT)',
        );
        assert.equal(chain(d, 'CILIUM_POST_nat').rules.length, 5);
        assert.equal(chain(d, 'KUBE-POSTROUTING').rules[2].target, 'MASQUERADE');
      },
    },
  ],
  'iptables-S-filter-cilium-plus-kubeproxy-node-idx49537655284.txt': [
    {
      facts: (d) => {
        assert.equal(chain(d, 'FORWARD').policy, 'DROP');
        const fwd = chain(d, 'CILIUM_FORWARD').rules;
        assert.equal(fwd.length, 4);
        assert.ok(fwd.every((r: Any) => r.target === 'ACCEPT'));
        assert.equal(chain(d, 'KUBE-FIREWALL').rules[1].matches.includes('! -s 127.0.0.0/8'), true);
      },
    },
  ],
  'iptables-nft-save-t-nat-grep-svc-kubeproxy-minikube-idx71145198530.txt': [
    {
      author: /^(mode: iptables|I\d{4} )/, // kube-proxy's mode and log line pasted above the grep
      facts: (d) => {
        const s = serviceRules(d, { namespace: 'ch40', service: 'web', portName: 'http' });
        assert.deepEqual(
          s.svcJumps.map((r: Any) => r.target),
          ['KUBE-SVC-LJMWSUCFDC3EU5W3'],
        );
        assert.deepEqual(s.sepDnat.map((r: Any) => r.dnatTo).sort(), [
          '10.244.0.9:8080',
          '10.244.1.7:8080',
          '10.244.1.8:8080',
        ]);
        assert.equal(s.sepChains.length, 3);
      },
    },
  ],
  'iptables-save-c-counters-kube-sep-submariner-pr1205-partial.txt': [
    {
      facts: (d) => {
        assert.equal(d.exactCounters, true);
        const s = serviceRules(d, { namespace: 'kube-system', service: 'kube-dns', portName: 'dns' });
        assert.deepEqual(
          s.sepDnat.map((r: Any) => [r.chain, r.packets, r.bytes, r.dnatTo]),
          [
            ['KUBE-SEP-EHRALZ2IVFLIEMXK', 102, 8638, '10.131.0.2:53'],
            ['KUBE-SEP-EWDMSLOSUEG5PNZG', 90, 7626, '10.131.0.4:53'],
          ],
        );
      },
    },
  ],
  'iptables-save-t-filter-c-chain-vs-rule-counters-k8s-pr110328.txt': [
    {
      facts: (d) => {
        const foo = chain(d, 'FOO');
        assert.deepEqual([foo.policy, foo.packets, foo.bytes], [null, 0, 0], 'user chain headers are always [0:0]');
        assert.deepEqual([foo.rules[0].packets, foo.rules[0].bytes, foo.rules[0].target], [1, 60, 'REJECT']);
        assert.deepEqual([chain(d, 'OUTPUT').rules[0].packets, chain(d, 'OUTPUT').rules[0].bytes], [53, 9070]);
      },
    },
  ],
  'iptables-save-nat-fragment-kind-kubeproxy-KUBE-EXT-POSTROUTING-k8s-pr114470-partial.txt': [
    {
      facts: (d) => {
        const s = serviceRules(d, { namespace: 'default', service: 'nodeport-service' });
        assert.deepEqual(
          s.nodePortJumps.map((r: Any) => r.target),
          ['KUBE-EXT-QATUYZLPU4I4HE4S'],
        );
        assert.deepEqual(s.extChains, ['KUBE-EXT-QATUYZLPU4I4HE4S']);
        assert.deepEqual(s.svcChains, ['KUBE-SVC-QATUYZLPU4I4HE4S']);
        assert.equal(
          chain(d, 'KUBE-POSTROUTING').rules[2].matches,
          '-m comment --comment "kubernetes service traffic requiring SNAT"',
        );
      },
    },
  ],
  'kubeproxy-iptables-restore-input-fixture-k8s-proxier_test-TestOverallIPTablesRules.txt': [
    {
      facts: (d) => {
        assert.deepEqual(
          d.chains.filter((c: Any) => c.table === 'filter').map((c: Any) => c.name),
          [
            'KUBE-NODEPORTS',
            'KUBE-SERVICES',
            'KUBE-EXTERNAL-SERVICES',
            'KUBE-FIREWALL',
            'KUBE-FORWARD',
            'KUBE-PROXY-FIREWALL',
          ],
        );
        const s2 = serviceRules(d, { namespace: 'ns2', service: 'svc2' });
        assert.deepEqual(
          s2.svcJumps.map((r: Any) => r.target),
          ['KUBE-SVC-GNZBNJ2PO5MGZ6GT'],
        );
        assert.equal(s2.nodePortJumps.length, 2);
        assert.deepEqual(s2.extChains, ['KUBE-EXT-GNZBNJ2PO5MGZ6GT']);
        assert.deepEqual(
          s2.sepDnat.map((r: Any) => r.dnatTo),
          ['10.180.0.2:80'],
        );
        const s5 = serviceRules(d, { namespace: 'ns5', service: 'svc5' });
        assert.deepEqual(
          s5.sepDnat.map((r: Any) => r.dnatTo),
          ['10.180.0.3:80'],
        );
        assert.ok(s5.extChains.includes('KUBE-FW-NUKIZ6OKUXPJNT4C'));
        const fw = chain(d, 'KUBE-FW-NUKIZ6OKUXPJNT4C', 'nat').rules[1];
        assert.equal(fw.target, null, 'a rule with no -j');
        assert.equal(chain(d, 'KUBE-MARK-MASQ', 'nat').rules[0].raw, '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000');
      },
    },
  ],
  'iptables-tracer-pod-cilium-kpr-false-1.14.0rc0-wcnikind.txt': [
    {
      lines: [[12, 20]], // the `iptables -nvL` run inside the pod; the rest is kubectl and iptables-tracer
      facts: (d) => {
        assert.deepEqual(
          d.chains.map((c: Any) => [c.name, c.policy, c.packets, c.rules.length]),
          [
            ['INPUT', 'ACCEPT', 0, 0],
            ['FORWARD', 'ACCEPT', 0, 0],
            ['OUTPUT', 'ACCEPT', 0, 0],
          ],
        );
      },
    },
  ],
  'mixed-kubeproxy-nativerouting-service-datapath-1.15.0rc1-kind-wcnikind.txt': [
    {
      lines: [[20, 48]],
      author: /^\d+\.\d+: /,
      facts: (d) => {
        const s = serviceRules(d, { namespace: 'default', service: 'serversvc' });
        assert.deepEqual(s.svcChains, ['KUBE-SVC-SWRT7AX63WBUEU6W']);
        assert.deepEqual(s.sepChains, ['KUBE-SEP-Q7ITRINEDXC7ONHS']);
      },
    },
  ],
});
