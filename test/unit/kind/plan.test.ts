import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parseCiliumVersion } from '../../../support/backends/k8s/cilium-versions.ts';
import {
  flattenValues,
  keyPath,
  loadValuesFile,
  parseSetFlags,
} from '../../../support/backends/k8s/helm-value-maps.ts';
import { agentExecArgv } from '../../../support/backends/k8s/kubectl-commands.ts';
import {
  helmUpgradeInstallArgv,
  kindCreateArgv,
  kindDeleteArgv,
  kindProvisionPlan,
  wrapCommand,
} from '../../../support/backends/kind/plan.ts';
import { buildPlan } from '../../../support/cli/plan.ts';
import { UsageError } from '../../../support/errors.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const SEED_VALUES = {
  routingMode: 'native',
  kubeProxyReplacement: 'false',
  autoDirectNodeRoutes: 'true',
  'ipam.mode': 'kubernetes',
  ipv4NativeRoutingCIDR: '10.0.0.0/8',
};

/** The `--set` pairs of an argv, in order. */
function sets(argv: readonly string[]): string[] {
  return argv.flatMap((a, i) => (argv[i - 1] === '--set' ? [a] : []));
}

describe('argv builders', () => {
  it('kind create cluster pins the node image and writes a per-run kubeconfig', () => {
    assert.deepEqual(
      kindCreateArgv({
        cluster: 'c1',
        k8sVersion: '1.27.3',
        kindConfig: 'kind-configs/two-node.yaml',
        kubeconfig: '/r/k',
      }),
      [
        'kind',
        'create',
        'cluster',
        '--name',
        'c1',
        '--image',
        'kindest/node:v1.27.3@sha256:3966ac761ae0136263ffdb6cfd4db23ef8a83cba8a463690e98317add2c9ba72',
        '--config',
        'kind-configs/two-node.yaml',
        '--kubeconfig',
        '/r/k',
      ],
    );
    assert.deepEqual(kindDeleteArgv('c1'), ['kind', 'delete', 'cluster', '--name', 'c1']);
  });

  it('helm upgrade --install from the repo or a local chart', () => {
    const repo = helmUpgradeInstallArgv({
      chart: { kind: 'repo' },
      version: '1.17.15',
      kubeconfig: 'k',
      values: SEED_VALUES,
    });
    assert.deepEqual(repo.slice(0, 11), [
      'helm',
      'upgrade',
      '--install',
      'cilium',
      'cilium/cilium',
      '--version',
      '1.17.15',
      '--namespace',
      'kube-system',
      '--kubeconfig',
      'k',
    ]);
    assert.deepEqual(
      sets(repo),
      Object.entries(SEED_VALUES).map(([k, v]) => `${k}=${v}`),
    );
    const local = helmUpgradeInstallArgv({
      chart: { kind: 'local', path: './cilium-1.17.15.tgz' },
      version: '1.17.15',
      kubeconfig: 'k',
      values: {},
      context: 'ctx',
    });
    assert.equal(local[4], './cilium-1.17.15.tgz');
    assert.ok(!local.includes('--version'), 'a local chart has no --version');
    assert.deepEqual(local.slice(-2), ['--kube-context', 'ctx']);
  });

  it('agent commands go to the cilium-agent container with the CLI of that version', () => {
    const base = { kubeconfig: 'k', pod: 'cilium-tjsld', argv: ['cilium', 'status', '--brief'] };
    const a17 = agentExecArgv({ ...base, version: parseCiliumVersion('1.17.15') });
    assert.deepEqual(a17, [
      'kubectl',
      '--kubeconfig',
      'k',
      '--namespace',
      'kube-system',
      'exec',
      'cilium-tjsld',
      '--container',
      'cilium-agent',
      '--',
      'cilium-dbg',
      'status',
      '--brief',
    ]);
    const a14 = agentExecArgv({ ...base, argv: ['cilium-dbg', 'monitor'], version: parseCiliumVersion('1.14.5') });
    assert.deepEqual(a14.slice(-2), ['cilium', 'monitor']);
  });
});

describe('kind provisioning plan', () => {
  it('orders chart, key check, cluster, Cilium, readiness', () => {
    const plan = kindProvisionPlan({
      cluster: 'cilium-kubeproxy',
      k8sVersion: 'v1.27.3',
      ciliumVersion: '1.17.15',
      kindConfig: 'kind-configs/two-node.yaml',
      kubeconfig: 'reports/kind/cilium-kubeproxy/kubeconfig',
      values: SEED_VALUES,
      chart: { kind: 'repo' },
    });
    const heads = plan.commands.map((c) => c.argv.slice(0, 3).join(' '));
    assert.deepEqual(heads, [
      'helm repo add',
      'helm repo update',
      'helm show values',
      'kind create cluster',
      'helm upgrade --install',
      'kubectl --kubeconfig reports/kind/cilium-kubeproxy/kubeconfig',
      'kubectl --kubeconfig reports/kind/cilium-kubeproxy/kubeconfig',
    ]);
    const helm = plan.commands[4]!.argv;
    assert.deepEqual(sets(helm).slice(-2), ['k8sServiceHost=cilium-kubeproxy-control-plane', 'k8sServicePort=6443']);
  });

  it('translates values for older versions and says so', () => {
    const plan = kindProvisionPlan({
      cluster: 'c',
      k8sVersion: 'v1.27.3',
      ciliumVersion: '1.13.4',
      kindConfig: 'k.yaml',
      kubeconfig: 'kc',
      values: { routingMode: 'native', kubeProxyReplacement: 'false' },
      chart: { kind: 'local', path: 'charts/cilium' },
    });
    assert.equal(plan.commands[0]!.argv.join(' '), 'helm show values charts/cilium');
    assert.deepEqual(sets(plan.commands[2]!.argv).slice(0, 2), ['tunnel=disabled', 'kubeProxyReplacement=disabled']);
    assert.equal(plan.notes.length, 2);
  });

  it('wraps one --set per line so the text stays pasteable', () => {
    const text = wrapCommand(['helm', 'x', '--set', 'a=1', '--set', "b=it's"]);
    assert.equal(text, "helm x \\\n  --set a=1 \\\n  --set 'b=it'\\''s'");
  });
});

describe('hookpoint plan (seed configuration)', () => {
  it('prints the seed commands without running anything', () => {
    const out = buildPlan({}, ROOT);
    const text = out.text;
    assert.match(
      text,
      /^kind create cluster --name cilium-kubeproxy --image kindest\/node:v1\.27\.3@sha256:3966ac761ae0136263ffdb6cfd4db23ef8a83cba8a463690e98317add2c9ba72 --config kind-configs\/two-node\.yaml --kubeconfig \S+$/m,
    );
    assert.match(text, /^helm upgrade --install cilium cilium\/cilium --version 1\.17\.15 --namespace kube-system /m);
    for (const s of [
      'routingMode=native',
      'kubeProxyReplacement=false',
      'autoDirectNodeRoutes=true',
      'ipam.mode=kubernetes',
      'ipv4NativeRoutingCIDR=10.0.0.0/8',
      'k8sServiceHost=cilium-kubeproxy-control-plane',
      'k8sServicePort=6443',
    ])
      assert.match(text, new RegExp(`^  --set ${s.replace(/[.]/g, '\\.')}( \\\\)?$`, 'm'), s);
    // kind create comes after the key check and before helm install
    const order = ['helm show values', 'kind create cluster', 'helm upgrade --install'].map((s) => text.indexOf(s));
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
    );
    assert.ok(order.every((i) => i >= 0));
  });

  it('honours --cilium, --k8s, --cluster and --set', () => {
    const out = buildPlan({ cilium: '1.16.5', k8s: 'v1.30.0', cluster: 'ci-a', set: ['ipam.mode=kubernetes'] }, ROOT);
    assert.match(out.text, /--image kindest\/node:v1\.30\.0/);
    assert.match(out.text, /--version 1\.16\.5/);
    assert.match(out.text, /k8sServiceHost=ci-a-control-plane/);
    assert.doesNotMatch(out.text, /routingMode/, '--set alone replaces the default values file');
  });

  it('refuses malformed versions, other backends and a missing explicit kind config', () => {
    assert.throws(() => buildPlan({ cilium: '1.17' }, ROOT), UsageError);
    assert.throws(() => buildPlan({ k8s: '1.27' }, ROOT), UsageError);
    assert.throws(() => buildPlan({ backend: 'existing' }, ROOT), /provisions nothing/);
    assert.throws(() => buildPlan({ cluster: 'Bad_Name' }, ROOT), UsageError);
    assert.throws(() => buildPlan({ kindConfig: 'kind-configs/nope.yaml' }, ROOT), /does not exist/);
    assert.throws(() => buildPlan({ set: ['novalue'] }, ROOT), UsageError);
  });
});

describe('values', () => {
  it('flattens nested values files the way --set writes them', () => {
    assert.deepEqual(flattenValues({ ipam: { mode: 'kubernetes' }, a: [1, 2], b: [{ c: true }], 'k.io/x': 1 }), {
      'ipam.mode': 'kubernetes',
      a: '{1,2}',
      'b[0].c': 'true',
      'k\\.io/x': '1',
    });
    assert.deepEqual(keyPath('nodeSelector.kubernetes\\.io/os'), ['nodeSelector', 'kubernetes.io/os']);
    assert.deepEqual(parseSetFlags(['a.b=c=d']), { 'a.b': 'c=d' });
  });

  it('reads the seed values file', () => {
    assert.deepEqual(loadValuesFile(path.join(ROOT, 'kind-configs/values/seed-native-routing.yaml')), SEED_VALUES);
  });

  it('names a bad values file in one paragraph', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'hp-values-'));
    const f = path.join(dir, 'bad.yaml');
    writeFileSync(f, '- a\n- b\n');
    assert.throws(
      () => loadValuesFile(f),
      (e: unknown) => e instanceof UsageError && e.message.includes(f),
    );
    assert.throws(() => loadValuesFile(path.join(dir, 'missing.yaml')), /cannot be read \(ENOENT\)/);
  });
});
