/** Per-run files of the kind backend, all under the reports directory (git-ignored). */
import path from 'node:path';

/** The kubeconfig Kind writes for this cluster; the user's ~/.kube/config is never touched. */
export function kubeconfigPathFor(reportsDir: string, cluster: string): string {
  return path.join(reportsDir, 'kind', cluster, 'kubeconfig');
}

/** `helm show values` cache, one file per chart version. */
export function chartCacheDir(reportsDir: string): string {
  return path.join(reportsDir, 'kind', '.chart-values');
}
