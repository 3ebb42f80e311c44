/**
 * The kind stand-in's run directory, shared by its separate processes: the API server (which owns
 * the lab and writes this state) and each `docker`, `kind`, `helm`, `kubectl` call (which read it).
 *
 *   <root>/<cluster>/cluster.json     the cluster: API server URL and pid, nodes, kind config
 *   <root>/<cluster>/containers.json  every pod's containers: where each runs and from which image
 *   <root>/<cluster>/images/<name>/   one directory per image with only that image's programs
 *   <root>/<cluster>/lab/             the lab's own state root (support/backends/lab)
 *   <root>/<cluster>/apiserver.log    what the API server did
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ImageName } from '../../support/backends/images.ts';
import { cgroup2Mount } from '../../support/backends/lab/cgroups.ts';

export const STANDIN_ROOT = path.resolve(process.env.HOOKPOINT_STANDIN_DIR || '/run/hookpoint/kind-standin');
export const STANDIN_DIR = import.meta.dirname;
export const REPO = path.resolve(STANDIN_DIR, '../..');

/**
 * Where the stand-in's pod cgroups live (a pod's processes sit in a cgroup named after its
 * container id, as on a real node, so the probe finds them): under the machine's cgroup2 mount,
 * else its systemd hierarchy; null on a machine with neither (a bare root: see ownCgroupHierarchy).
 */
export function standinCgroup(cluster: string): string | null {
  const parent =
    cgroup2Mount() ?? (existsSync('/sys/fs/cgroup/systemd/cgroup.procs') ? '/sys/fs/cgroup/systemd' : null);
  return parent && path.join(parent, `hookpoint-standin-${cluster}`);
}

/**
 * On a machine without any cgroup hierarchy (a fresh chroot), mount a cgroup2 of the stand-in's
 * own for the duration of a run; returns what undoes it (nothing when the machine had one).
 */
export function ownCgroupHierarchy(): () => void {
  if (standinCgroup('probe') !== null) return () => {};
  const mnt = path.join(STANDIN_ROOT, '.cgroup2');
  mkdirSync(mnt, { recursive: true });
  const res = spawnSync('mount', ['-t', 'cgroup2', 'none', mnt], { timeout: 10_000, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`kind stand-in: cannot mount a cgroup2 hierarchy at ${mnt}: ${res.stderr}`);
  return () => {
    spawnSync('umount', [mnt], { timeout: 10_000 });
    try {
      rmdirSync(mnt);
    } catch {}
  };
}

/** What the stand-in says it is wherever the real tools state their identity. */
export const IDENTITY = {
  engine: 'Hookpoint kind stand-in (lab kernel, not Docker)',
  version: '0.1.0-standin',
  kind: 'v0.20.0',
} as const;

export interface NodeRecord {
  name: string;
  role: string;
  netns: string;
  /** Host PID of the node's init (PID 1 of the node's PID namespace), once the node runs. */
  init?: number;
}

export interface ClusterRecord {
  name: string;
  url: string;
  pid: number;
  kindConfig: string;
  nodeImage: string;
  createdAt: string;
  nodes: NodeRecord[];
}

/** A container: the network namespace it runs in and the image directory whose programs it has. */
export interface ContainerRecord {
  netns: string;
  image: ImageName;
  /** Directory of the image's programs (PATH inside the container). */
  bin: string;
  /** Host PID of the node's init when the container shares the node's PID namespace (node, hostPID pods). */
  nodeInit?: number;
  /** The capabilities its processes may hold (from its securityContext); absent: all of them. */
  capabilities?: string[];
}

export interface PodRecord {
  namespace: string;
  name: string;
  node: string;
  containers: Record<string, ContainerRecord>;
}

export function clusterDir(cluster: string): string {
  return path.join(STANDIN_ROOT, cluster);
}

function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Written whole, then renamed: a reader never sees half a file. */
export function writeJson(file: string, value: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

export function readCluster(cluster: string): ClusterRecord | undefined {
  return readJson<ClusterRecord>(path.join(clusterDir(cluster), 'cluster.json'));
}

export function writeCluster(rec: ClusterRecord): void {
  writeJson(path.join(clusterDir(rec.name), 'cluster.json'), rec);
}

export function listClusters(): ClusterRecord[] {
  if (!existsSync(STANDIN_ROOT)) return [];
  return readdirSync(STANDIN_ROOT)
    .map((n) => readCluster(n))
    .filter((c): c is ClusterRecord => !!c);
}

export function readPods(cluster: string): Record<string, PodRecord> {
  return readJson<Record<string, PodRecord>>(path.join(clusterDir(cluster), 'containers.json')) ?? {};
}

export function writePods(cluster: string, pods: Record<string, PodRecord>): void {
  writeJson(path.join(clusterDir(cluster), 'containers.json'), pods);
}

/** The cluster a kubeconfig points at (its server URL), if it is one of the stand-in's. */
export function clusterOfKubeconfig(file: string): ClusterRecord | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const server = /server:\s*(\S+)/.exec(text)?.[1];
  return listClusters().find((c) => c.url === server);
}

/** The kubeconfig kind writes for a cluster (context kind-<name>). */
export function kubeconfigText(c: ClusterRecord): string {
  const ctx = `kind-${c.name}`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${ctx}`,
    '  cluster:',
    `    server: ${c.url}`,
    // client-node 2.x refuses plain http unless TLS verification is explicitly off.
    '    insecure-skip-tls-verify: true',
    'contexts:',
    `- name: ${ctx}`,
    '  context:',
    `    cluster: ${ctx}`,
    `    user: ${ctx}`,
    `current-context: ${ctx}`,
    'users:',
    `- name: ${ctx}`,
    '  user:',
    '    token: kind-standin',
    '',
  ].join('\n');
}
