/**
 * Kind cluster lifecycle through the executor: does it exist, create, export its kubeconfig,
 * delete. The thin part that needs Docker; everything here is an argv from plan.ts.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { InfraError } from '../../errors.ts';
import type { Executor } from '../k8s/executor.ts';
import { KubeApi } from '../k8s/kube-api.ts';
import { TIMEOUTS } from '../k8s/kubectl-commands.ts';
import { currentHolder, LOCK_NAME, LOCK_NAMESPACE } from '../k8s/run-lock.ts';
import { kubeconfigPathFor } from './paths.ts';
import { kindCreateArgv, kindDeleteArgv, kindExportKubeconfigArgv, kindGetClustersArgv } from './plan.ts';

/** `kind get clusters` prints one name a line (or "No kind clusters found." on stderr). */
export function parseKindClusters(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !/^No kind clusters found/i.test(l));
}

export function kindLifecycle(exec: Executor) {
  return {
    async exists(cluster: string): Promise<boolean> {
      const res = await exec.run(kindGetClustersArgv(), { timeoutMs: TIMEOUTS.kindQuery, where: 'host' });
      return parseKindClusters(res.stdout).includes(cluster);
    },
    async create(o: {
      cluster: string;
      k8sVersion: string;
      kindConfig: string;
      kubeconfig: string;
      nodeImage?: string;
    }): Promise<void> {
      mkdirSync(path.dirname(o.kubeconfig), { recursive: true });
      await exec.run(kindCreateArgv(o), { timeoutMs: TIMEOUTS.kindCreate, where: 'host' });
    },
    async exportKubeconfig(cluster: string, kubeconfig: string): Promise<void> {
      mkdirSync(path.dirname(kubeconfig), { recursive: true });
      await exec.run(kindExportKubeconfigArgv(cluster, kubeconfig), { timeoutMs: TIMEOUTS.kindQuery, where: 'host' });
    },
    async delete(cluster: string): Promise<void> {
      await exec.run(kindDeleteArgv(cluster), { timeoutMs: TIMEOUTS.kindDelete, where: 'host', cleanup: true });
    },
    /** Refuse to delete a cluster a live run holds (best effort: an unreachable API does not block). */
    async refuseIfLocked(cluster: string, reportsDir: string, api?: KubeApi): Promise<void> {
      let kube = api;
      if (!kube) {
        const file = path.join(path.dirname(kubeconfigPathFor(reportsDir, cluster)), 'down.kubeconfig');
        try {
          await this.exportKubeconfig(cluster, file);
          kube = KubeApi.fromFile(file, undefined, { timeoutMs: 5_000 });
        } catch {
          return;
        }
      }
      let st: Awaited<ReturnType<typeof currentHolder>> = null;
      try {
        st = await currentHolder(kube);
      } catch {
        return;
      }
      if (st)
        throw new InfraError(
          `Cluster "${cluster}" is in use by a Hookpoint run (${st.holder}; Lease ${LOCK_NAMESPACE}/${LOCK_NAME}), so it was not deleted.`,
          { hint: 'Wait for that run to finish, or pass --force to delete it anyway.' },
        );
    },
  };
}
