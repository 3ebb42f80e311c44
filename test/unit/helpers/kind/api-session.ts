/** A started FakeApiServer with a kubeconfig file for it, and the pods a created DaemonSet gets. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FakeApiServer } from './fake-apiserver.ts';

export interface ApiSession {
  api: FakeApiServer;
  /** A temporary directory holding the kubeconfig; removed by stop(). */
  dir: string;
  kubeconfig: string;
  stop(): Promise<void>;
}

/** Starts a fake API server and writes a kubeconfig for `context` into a fresh `prefix*` temp dir. */
export async function startApiSession(prefix: string, context: string): Promise<ApiSession> {
  const api = new FakeApiServer();
  await api.start();
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, api.kubeconfig(context));
  return {
    api,
    dir,
    kubeconfig,
    async stop() {
      await api.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Plays the DaemonSet controller: one Running pod `probe-<node suffix>` of `ds` on each node. */
// biome-ignore lint/suspicious/noExplicitAny: the fake server's objects are untyped JSON
export function putProbePods(api: FakeApiServer, ds: any, nodes: readonly string[]): void {
  for (const n of nodes)
    api.put('api/v1', 'pods', {
      metadata: {
        name: `probe-${n.slice(-3)}`,
        namespace: ds.metadata.namespace,
        labels: ds.spec.template.metadata.labels,
      },
      spec: { nodeName: n },
      status: { phase: 'Running' },
    });
}
