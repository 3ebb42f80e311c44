/**
 * Containers of the stand-in: an image is a directory holding only the programs that image has
 * (support/backends/images.ts owns those lists and their public sources), linked to this
 * machine's binaries; a command "in the container" runs in the container's network namespace
 * with PATH set to that directory alone, so a program the image lacks fails as it does in a real
 * container: the runtime refuses the first word (`executable file not found in $PATH`, 126), and
 * a wrapper (env, timeout, nsenter, sh) finds no program under it (127).
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { IMAGES, type ImageName } from '../../support/backends/images.ts';
import { type ContainerRecord, clusterDir, REPO } from './state.ts';

const OWN_BIN = path.join(import.meta.dirname, 'bin');

/** This machine's PATH without the stand-in's own bin directory. */
export function hostPath(): string {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .filter((d) => d && path.resolve(d) !== OWN_BIN)
    .join(':');
}

function findOnHost(tool: string): string | undefined {
  for (const d of hostPath().split(':')) {
    const f = path.join(d, tool);
    if (existsSync(f)) return f;
  }
  return undefined;
}

/** The agent CLI (`cilium-dbg`, `cilium`) of one node: the lab's agent stand-in for that node. */
function agentCli(cluster: string, labRoot: string, role: string): string {
  const argv = [
    process.execPath,
    path.join(REPO, 'bin', 'hookpoint.js'),
    'lab',
    'agent',
    '--cluster',
    cluster,
    '--state-root',
    labRoot,
    role,
    '--',
  ];
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  // The agent answers from its own process, not the container's PATH (cilium-dbg talks to the agent's socket).
  return `#!/bin/sh\nPATH=${q(hostPath())} exec ${argv.map(q).join(' ')} "$@"\n`;
}

/**
 * Build the image directories of a cluster: one per image, and one cilium-agent image per node
 * (its cilium-dbg answers for that node). Programs this machine lacks stay absent, so calling
 * them fails here as it would not on a real image; the API server log names them.
 */
export function buildImages(
  cluster: string,
  labRoot: string,
  nodes: ReadonlyArray<{ name: string; role: string }>,
): { dirs: Record<string, string>; missing: string[] } {
  const root = path.join(clusterDir(cluster), 'images');
  rmSync(root, { recursive: true, force: true });
  const dirs: Record<string, string> = {};
  const missing = new Set<string>();
  const make = (dirName: string, image: ImageName, role?: string) => {
    const dir = path.join(root, dirName);
    mkdirSync(dir, { recursive: true });
    for (const tool of IMAGES[image].has) {
      const file = path.join(dir, tool);
      if (image === 'cilium-agent' && (tool === 'cilium-dbg' || tool === 'cilium')) {
        writeFileSync(file, agentCli(cluster, labRoot, role!));
        chmodSync(file, 0o755);
        continue;
      }
      const host = findOnHost(tool);
      if (host) symlinkSync(host, file);
      else missing.add(`${tool} (${image})`);
    }
    dirs[dirName] = dir;
  };
  make('kind-node', 'kind-node');
  make('probe', 'probe');
  make('workload', 'workload');
  for (const n of nodes) make(`cilium-agent-${n.name}`, 'cilium-agent', n.role);
  return { dirs, missing: [...missing] };
}

/** How each runtime reports a program the image lacks. */
export function notFoundMessage(tool: string): string {
  return `OCI runtime exec failed: exec failed: unable to start container process: exec: "${tool}": executable file not found in $PATH: unknown`;
}

/** Is `tool` a program of this container's image? (An absolute path names a file in the image.) */
export function imageHas(c: ContainerRecord, tool: string): boolean {
  if (!tool) return false;
  const name = tool.includes('/') ? path.basename(tool) : tool;
  return existsSync(path.join(c.bin, name));
}

/**
 * Run argv in the container, stdio relayed (not inherited: killing this process, like killing a
 * local `kubectl exec`, does not stop what it started). Resolves with the exit code.
 */
export function execIn(c: ContainerRecord, argv: readonly string[], hostname: string): Promise<number> {
  const tool = argv[0]!.includes('/') ? path.join(c.bin, path.basename(argv[0]!)) : argv[0]!;
  const env = { PATH: c.bin, HOME: '/root', HOSTNAME: hostname, TERM: 'xterm' };
  // `ip`/`nsenter` are this machine's; the command they start finds programs in the image only.
  const full = [...enterArgv(c), ...withCapabilities(c.capabilities, [tool, ...argv.slice(1)])];
  const child = spawn(full[0]!, full.slice(1), {
    env,
    stdio: ['inherit', 'pipe', 'pipe'],
  });
  child.stdout.pipe(process.stdout);
  child.stderr.pipe(process.stderr);
  return new Promise((resolve) => {
    child.on('error', (err) => {
      process.stderr.write(`${err.message}\n`);
      resolve(126);
    });
    child.on('close', (code, signal) => resolve(code ?? 128 + (signal ? signalNumber(signal) : 0)));
  });
}

function signalNumber(sig: NodeJS.Signals): number {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 } as Record<string, number>)[sig] ?? 1;
}

/**
 * How to enter a container: its network namespace, and for the node and hostPID pods also the
 * node's PID and mount namespaces (the node's own /proc, where PID 1 is the node's init), under
 * the node init's root directory.
 */
export function enterArgv(c: Pick<ContainerRecord, 'netns' | 'nodeInit'>): string[] {
  if (c.nodeInit === undefined) return [ipBinary(), 'netns', 'exec', c.netns];
  return [
    findOnHost('nsenter') ?? '/usr/bin/nsenter',
    `--net=/run/netns/${c.netns}`,
    `--pid=/proc/${c.nodeInit}/ns/pid`,
    `--mount=/proc/${c.nodeInit}/ns/mnt`,
    // Entering a mount namespace resets the root to that namespace's root: in a chroot (a clean
    // room) that is the host's "/", where the images do not exist. Keep the node init's root.
    `--root=/proc/${c.nodeInit}/root`,
    '--',
  ];
}

/**
 * The capabilities a container's processes get, from its securityContext: every one when
 * privileged or when it names none (the stand-in's other containers), else exactly the added ones
 * after `drop: [ALL]` (as the Cilium chart sets its agent container). Pure.
 */
export function containerCapabilities(
  sc: { privileged?: boolean; capabilities?: { add?: string[]; drop?: string[] } } | undefined,
): string[] | undefined {
  if (!sc || sc.privileged || !sc.capabilities) return undefined;
  if (!(sc.capabilities.drop ?? []).includes('ALL')) return undefined;
  return [...(sc.capabilities.add ?? [])];
}

/** A command under a bounding set of just these capabilities (setpriv, as the runtime would start it). */
function withCapabilities(caps: readonly string[] | undefined, argv: string[]): string[] {
  if (!caps) return argv;
  const set = ['-all', ...caps.map((c) => `+${c.toLowerCase()}`)].join(',');
  return [findOnHost('setpriv') ?? '/usr/bin/setpriv', `--bounding-set=${set}`, '--', ...argv];
}

/** The `ip` binary itself is found on this machine's PATH, not the image's. */
export function ipBinary(): string {
  return findOnHost('ip') ?? '/usr/sbin/ip';
}
