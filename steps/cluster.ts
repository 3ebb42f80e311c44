/** Cluster setup: a kind config and Cilium's Helm values. The Cilium version comes from the run. */
import type { DataTable } from '@cucumber/cucumber';
import { ensureClusterFor } from '../support/scenario/cluster-setup.ts';
import { defineStep } from '../support/scenario/vocabulary.ts';
import type { HookpointWorld } from '../support/scenario/world.ts';

defineStep(
  'Given',
  'a cluster from kind config {string}',
  {
    example: 'Given a cluster from kind config "two-node.yaml"',
    doc: "Optional: the cluster built from kind-configs/<file> (the lab reads its nodes and subnets from it); without it, the run's --kind-config.",
    timeoutMs: 600_000,
  },
  async function (this: HookpointWorld, file: string) {
    this.clusterRequest = { kindConfig: file, values: this.clusterRequest?.values ?? {} };
  },
);

defineStep(
  'Given',
  'Cilium is installed with:',
  {
    example:
      'Given Cilium is installed with:\n  | routingMode          | native |\n  | kubeProxyReplacement | false  |',
    doc: 'Required in every feature: Helm values for the Cilium chart (key | value rows); the version comes from --cilium. Provisions the cluster once per configuration: features asking for other values (or another kind config) get their own cluster, provisioned in turn in the same run.',
    timeoutMs: 900_000,
  },
  async function (this: HookpointWorld, table: DataTable) {
    const values = Object.fromEntries(table.raw().map((r) => [String(r[0]).trim(), String(r[1] ?? '').trim()]));
    await ensureClusterFor(this, this.clusterRequest?.kindConfig, values);
  },
);
