/** The lab's layout from kind configs: Kind's node names, node IPs, pod CIDRs, service range. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { clusterNamespacesPlan, nodePlan } from '../../support/backends/lab/netns.ts';
import { findNode, planFromKindConfig } from '../../support/backends/lab/topology.ts';
import { UsageError } from '../../support/errors.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const read = (f: string) => readFileSync(path.join(REPO, f), 'utf8');
const SHARED = path.resolve(REPO, '../shared/fixtures/real-world/kind-config-cilium-docs-kind-config.yaml.txt');
if (!existsSync(SHARED) && process.env.CI === 'true') throw new Error(`CI=true and ${SHARED} is missing`);

describe('planFromKindConfig', () => {
  it('reads the seed’s two-node config with Kind’s names and defaults', () => {
    const plan = planFromKindConfig(read('kind-configs/two-node.yaml'));
    assert.equal(plan.cluster, 'cilium-kubeproxy');
    assert.deepEqual(
      plan.nodes.map((n) => [n.name, n.role, n.ip, n.podCIDR]),
      [
        ['cilium-kubeproxy-control-plane', 'control-plane', '172.18.0.2', '10.244.0.0/24'],
        ['cilium-kubeproxy-worker', 'worker', '172.18.0.3', '10.244.1.0/24'],
      ],
    );
    assert.equal(plan.serviceSubnet, '10.96.0.0/16');
    assert.equal(plan.network.gateway, '172.18.0.1');
    for (const n of plan.nodes) {
      assert.ok(n.ciliumHostIP.startsWith(n.podCIDR.slice(0, n.podCIDR.lastIndexOf('.'))), n.ciliumHostIP);
      assert.notEqual(n.ciliumHostIP.split('.')[3], '0');
    }
  });

  it('names a second worker worker2 (three-node config)', () => {
    const plan = planFromKindConfig(read('kind-configs/three-node.yaml'), { cluster: 'hpt-three' });
    assert.deepEqual(
      plan.nodes.map((n) => [n.name, n.role, n.ip, n.podCIDR]),
      [
        ['hpt-three-control-plane', 'control-plane', '172.18.0.2', '10.244.0.0/24'],
        ['hpt-three-worker', 'worker', '172.18.0.3', '10.244.1.0/24'],
        ['hpt-three-worker2', 'worker2', '172.18.0.4', '10.244.2.0/24'],
      ],
    );
    assert.equal(findNode(plan.nodes, 'worker2')?.name, 'hpt-three-worker2');
    assert.equal(findNode(plan.nodes, 'hpt-three-worker')?.role, 'worker');
    assert.equal(findNode(plan.nodes, 'worker3'), undefined);
  });

  it('reads Cilium’s documented kind config (1 control plane, 3 workers)', { skip: !existsSync(SHARED) }, () => {
    const plan = planFromKindConfig(readFileSync(SHARED, 'utf8'));
    assert.deepEqual(
      plan.nodes.map((n) => n.role),
      ['control-plane', 'worker', 'worker2', 'worker3'],
    );
  });

  it('takes pod and service subnets from networking, and the name: --cluster over config name over default', () => {
    const text = [
      'kind: Cluster',
      'apiVersion: kind.x-k8s.io/v1alpha4',
      'name: from-config',
      'networking:',
      '  podSubnet: 10.10.0.0/16',
      '  serviceSubnet: 10.20.0.0/16',
      'nodes:',
      '- role: worker',
      '- role: control-plane',
    ].join('\n');
    const plan = planFromKindConfig(text);
    assert.equal(plan.cluster, 'from-config');
    assert.equal(plan.serviceSubnet, '10.20.0.0/16');
    assert.deepEqual(
      plan.nodes.map((n) => [n.role, n.podCIDR]),
      [
        ['control-plane', '10.10.0.0/24'],
        ['worker', '10.10.1.0/24'],
      ],
    );
    assert.equal(planFromKindConfig(text, { cluster: 'flag-wins' }).nodes[0]!.name, 'flag-wins-control-plane');
  });

  it('reads kubeProxyMode none (no kube-proxy on the nodes) into the plan; iptables is the default', () => {
    assert.equal(planFromKindConfig('networking:\n  kubeProxyMode: none').kubeProxyMode, 'none');
    assert.equal(planFromKindConfig('networking:\n  kubeProxyMode: iptables').kubeProxyMode, undefined);
    assert.equal(planFromKindConfig('nodes:\n- role: control-plane').kubeProxyMode, undefined);
  });

  for (const [what, text, re] of [
    ['IPv6', 'networking:\n  ipFamily: ipv6\nnodes:\n- role: control-plane', /IPv4 clusters only/],
    ['ipvs', 'networking:\n  kubeProxyMode: ipvs', /iptables mode, or none/],
    ['an unknown role', 'nodes:\n- role: master', /Kind knows control-plane and worker/],
    ['no control plane', 'nodes:\n- role: worker', /no control-plane/],
    ['a bad CIDR', 'networking:\n  podSubnet: 10.244.0.1/16', /host bits set/],
    ['overlapping ranges', 'networking:\n  podSubnet: 10.0.0.0/8\n  serviceSubnet: 10.96.0.0/16', /overlap/],
    ['not YAML', 'nodes: [', /not valid YAML/],
    ['a bad name', 'name: Bad_Name', /DNS-1123/],
  ] as const)
    it(`refuses ${what} with one paragraph`, () => {
      assert.throws(
        () => planFromKindConfig(text, { source: 'x.yaml' }),
        (e: unknown) => e instanceof UsageError && re.test(e.message) && !e.message.includes('\n    at '),
      );
    });
});

describe('netns plans', () => {
  const plan = planFromKindConfig(read('kind-configs/two-node.yaml'), { cluster: 'hpt-plan' });

  it('creates every link directly in its namespace, all names carrying the lab prefix', () => {
    const { namespaces, lines } = clusterNamespacesPlan(plan);
    assert.deepEqual(namespaces, [
      'hp.hpt-plan.kind',
      'hp.hpt-plan.hpt-plan-control-plane',
      'hp.hpt-plan.hpt-plan-worker',
    ]);
    for (const l of lines.filter((x) => x.startsWith('link add'))) assert.match(l, / netns hp\.hpt-plan\./);
    assert.ok(
      lines.every((l) => !/sysctl.*kernel\./.test(l)),
      'no kernel.* sysctl',
    );
  });

  it('routes the other node’s pod CIDR via its node IP, unless native routes are off', () => {
    const [cp, worker] = plan.nodes;
    assert.ok(nodePlan(plan, cp!, { nativeRoutes: true }).includes('route add 10.244.1.0/24 via 172.18.0.3 dev eth0'));
    assert.ok(
      nodePlan(plan, worker!, { nativeRoutes: true }).includes('route add 10.244.0.0/24 via 172.18.0.2 dev eth0'),
    );
    assert.ok(!nodePlan(plan, cp!, { nativeRoutes: false }).some((l) => l.includes('10.244.1.0/24')));
    assert.ok(nodePlan(plan, cp!, { nativeRoutes: false }).includes('route add default via 172.18.0.1 dev eth0'));
  });
});
