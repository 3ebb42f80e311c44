/**
 * `npm run test:kind-standin`: the kind backend's own code runs the seed suite
 * (`hookpoint run --backend kind --tags @seed`) against the kind stand-in — its `docker`, `kind`,
 * `helm` and `kubectl` first on PATH, its API server and the lab's kernel behind them. Afterwards
 * nothing of the cluster may be left (API server, network namespaces, processes): leftovers fail
 * the run. Extra arguments go to `hookpoint run` (`--reports DIR`, `--name REGEX`, `--tags EXPR`
 * instead of @seed).
 * Needs root (network namespaces), like the lab.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { clusterDir, ownCgroupHierarchy, REPO, STANDIN_DIR, standinCgroup } from './state.ts';

export const STANDIN_CLUSTER = 'kind-standin';
const BIN = path.join(STANDIN_DIR, 'bin');

export function standinEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${BIN}:${process.env.PATH ?? ''}`,
    HOOKPOINT_STANDIN_NODE: process.execPath,
    ...extra,
  };
}

/** What the cluster may have left: its API server's directory, network namespaces, processes. */
export function leftovers(cluster = STANDIN_CLUSTER): string[] {
  const found: string[] = [];
  if (existsSync(clusterDir(cluster))) found.push(`run directory ${clusterDir(cluster)}`);
  const prefix = `hp.${cluster}.`;
  if (existsSync('/run/netns'))
    for (const n of readdirSync('/run/netns')) if (n.startsWith(prefix)) found.push(`netns ${n}`);
  const cg = standinCgroup(cluster);
  if (cg && existsSync(cg)) found.push(`cgroup ${cg}`);
  return found;
}

/** Lines of the run's transcripts where a container refused a program its image lacks. */
export function refusals(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((f) => path.join(dir, f))
    .filter((f) => statSync(f).isFile())
    .flatMap((f) =>
      readFileSync(f, 'utf8')
        .split('\n')
        .filter((l) => /executable file not found in \$PATH/.test(l))
        .map((l) => `${path.basename(f)}: ${l.slice(0, 200)}`),
    );
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    process.stderr.write(
      'test:kind-standin needs root: the stand-in builds its nodes and pods in network namespaces.\n',
    );
    return 2;
  }
  const env = standinEnv();
  const argv = [
    path.join(REPO, 'bin', 'hookpoint.js'),
    'run',
    '--backend',
    'kind',
    // The seed suite unless the arguments name their own tags (`--tags @policy`).
    ...(process.argv.includes('--tags') ? [] : ['--tags', '@seed']),
    '--cluster',
    STANDIN_CLUSTER,
    '--values',
    path.join(STANDIN_DIR, 'legacy-tc.yaml'),
    ...process.argv.slice(2),
  ];
  const releaseCgroups = ownCgroupHierarchy();
  const child = spawn(process.execPath, argv, { cwd: REPO, env, stdio: 'inherit' });
  // Ctrl-C reaches the run through the terminal's process group; the run tears the cluster down.
  const code: number = await new Promise((resolve) => child.on('close', (c, sig) => resolve(c ?? (sig ? 130 : 1))));
  // The run deletes the cluster it created; should it have died first, delete it here.
  if (existsSync(clusterDir(STANDIN_CLUSTER)))
    spawnSync('kind', ['delete', 'cluster', '--name', STANDIN_CLUSTER], { env, stdio: 'inherit' });
  const left = leftovers();
  releaseCgroups();
  // The kind backend never asks an image for a program it lacks: no such refusal in the transcript.
  const reports = process.argv.includes('--reports')
    ? path.resolve(REPO, process.argv[process.argv.indexOf('--reports') + 1]!)
    : path.join(REPO, 'reports');
  const asked = refusals(path.join(reports, 'transcripts'));
  if (asked.length) {
    process.stderr.write(
      `test:kind-standin: the kind backend asked an image for a program it lacks:\n${asked.join('\n')}\n`,
    );
    return code || 1;
  }
  if (left.length) {
    process.stderr.write(`test:kind-standin: left behind after the run: ${left.join(', ')}\n`);
    return code || 1;
  }
  return code;
}

if (import.meta.main) process.exitCode = await main();
