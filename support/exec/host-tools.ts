/**
 * Every program Hookpoint runs on this machine, and the Debian package that provides it: the one
 * list behind `hookpoint doctor` (support/run/prerequisites.ts), the lab's environment check,
 * `hookpoint run`'s install step,
 * `npm test` and `.ci/run` (both through scripts/prerequisites.ts), and the executable-inventory
 * test (test/unit/executables.test.ts), which fails when the code calls a program no list names.
 * Nothing here spawns a process; installing goes through support/exec.
 */
import { existsSync } from 'node:fs';
import { run } from './command.ts';
import { which } from './which.ts';

/**
 * Why a program is needed: `lab` (the lab backend), `report` (Allure's Java), `browser` (the
 * headless-Chromium report checks), `tests` (kernel tests and the bench), `base` (Debian's
 * essential set: present on every install, listed so the inventory is complete).
 */
export type Purpose = 'lab' | 'report' | 'browser' | 'tests' | 'base';

export interface HostTool {
  tool: string;
  /** The Debian package that ships it. */
  pkg: string;
  purpose: Purpose;
}

/** Programs, by purpose. A program used for several purposes is listed once, under the first that needs it. */
export const HOST_TOOLS: readonly HostTool[] = [
  { tool: 'ip', pkg: 'iproute2', purpose: 'lab' },
  { tool: 'tc', pkg: 'iproute2', purpose: 'lab' },
  { tool: 'ss', pkg: 'iproute2', purpose: 'lab' },
  { tool: 'iptables-nft-restore', pkg: 'iptables', purpose: 'lab' },
  { tool: 'iptables-nft-save', pkg: 'iptables', purpose: 'lab' },
  { tool: 'iptables-legacy-restore', pkg: 'iptables', purpose: 'lab' },
  { tool: 'iptables-legacy-save', pkg: 'iptables', purpose: 'lab' },
  { tool: 'iptables-save', pkg: 'iptables', purpose: 'lab' },
  { tool: 'iptables-nft', pkg: 'iptables', purpose: 'lab' },
  { tool: 'iptables', pkg: 'iptables', purpose: 'lab' },
  { tool: 'nft', pkg: 'nftables', purpose: 'lab' },
  { tool: 'tcpdump', pkg: 'tcpdump', purpose: 'lab' },
  { tool: 'bpftool', pkg: 'bpftool', purpose: 'lab' },
  { tool: 'clang', pkg: 'clang', purpose: 'lab' },
  { tool: 'llc', pkg: 'llvm', purpose: 'lab' },
  { tool: 'curl', pkg: 'curl', purpose: 'lab' },
  { tool: 'socat', pkg: 'socat', purpose: 'lab' },
  { tool: 'ping', pkg: 'iputils-ping', purpose: 'lab' },
  { tool: 'nsenter', pkg: 'util-linux', purpose: 'lab' },
  { tool: 'setsid', pkg: 'util-linux', purpose: 'lab' },
  { tool: 'mount', pkg: 'mount', purpose: 'lab' },
  { tool: 'umount', pkg: 'mount', purpose: 'lab' },
  { tool: 'apt-get', pkg: 'apt', purpose: 'base' },
  { tool: 'dpkg-query', pkg: 'dpkg', purpose: 'base' },
  { tool: 'java', pkg: 'openjdk-17-jre-headless', purpose: 'report' },
  { tool: 'chromium', pkg: 'chromium', purpose: 'browser' },
  { tool: 'ethtool', pkg: 'ethtool', purpose: 'tests' },
  { tool: 'sysctl', pkg: 'procps', purpose: 'tests' },
  { tool: 'setpriv', pkg: 'util-linux', purpose: 'tests' },
  // The kind stand-in's nodes: each its own PID namespace with its own /proc (test/kind-standin).
  { tool: 'unshare', pkg: 'util-linux', purpose: 'tests' },
  // Programs kindest/node ships that the stand-in's node image offers from this machine.
  { tool: 'conntrack', pkg: 'conntrack', purpose: 'tests' },
  { tool: 'jq', pkg: 'jq', purpose: 'tests' },
  { tool: 'sh', pkg: 'dash', purpose: 'base' },
  { tool: 'bash', pkg: 'bash', purpose: 'base' },
  { tool: 'awk', pkg: 'mawk', purpose: 'base' },
  { tool: 'sleep', pkg: 'coreutils', purpose: 'base' },
  { tool: 'printf', pkg: 'coreutils', purpose: 'base' },
  { tool: 'echo', pkg: 'coreutils', purpose: 'base' },
  { tool: 'true', pkg: 'coreutils', purpose: 'base' },
  { tool: 'mkdir', pkg: 'coreutils', purpose: 'base' },
  { tool: 'rm', pkg: 'coreutils', purpose: 'base' },
  { tool: 'cat', pkg: 'coreutils', purpose: 'base' },
  { tool: 'cut', pkg: 'coreutils', purpose: 'base' },
  { tool: 'id', pkg: 'coreutils', purpose: 'base' },
  { tool: 'dirname', pkg: 'coreutils', purpose: 'base' },
];

/** Files (not programs) the lab's eBPF compile needs. */
export const HOST_FILES: ReadonlyArray<{ file: string; pkg: string; purpose: Purpose; why: string }> = [
  { file: '/usr/include/bpf/bpf_helpers.h', pkg: 'libbpf-dev', purpose: 'lab', why: 'eBPF compile' },
  { file: '/usr/include/asm/types.h', pkg: 'gcc-multilib', purpose: 'lab', why: 'eBPF compile' },
];

/** What each kind of run installs: `hookpoint run` on the lab needs the lab and the report; `npm test` everything. */
export const RUN_PURPOSES: readonly Purpose[] = ['lab', 'report'];
export const TEST_PURPOSES: readonly Purpose[] = ['lab', 'report', 'browser', 'tests'];

export const JAVA_APT_PACKAGE = HOST_TOOLS.find((t) => t.tool === 'java')!.pkg;

export function toolsFor(purposes: readonly Purpose[]): HostTool[] {
  return HOST_TOOLS.filter((t) => purposes.includes(t.purpose));
}

/** The apt packages of some purposes, in list order, each once. */
export function packagesFor(purposes: readonly Purpose[]): string[] {
  return [
    ...new Set([
      ...toolsFor(purposes).map((t) => t.pkg),
      ...HOST_FILES.filter((f) => purposes.includes(f.purpose)).map((f) => f.pkg),
    ]),
  ];
}

/** The lab's packages (named in its error messages). */
export const LAB_APT_PACKAGES: readonly string[] = packagesFor(['lab']);

/** Packages of these purposes whose program or file is missing here. */
export function missingPackages(purposes: readonly Purpose[]): string[] {
  const missing = new Set<string>();
  for (const t of toolsFor(purposes)) if (!which(t.tool)) missing.add(t.pkg);
  for (const f of HOST_FILES) if (purposes.includes(f.purpose) && !existsSync(f.file)) missing.add(f.pkg);
  return [...missing];
}

export function aptCommand(pkgs: readonly string[]): string {
  return `apt-get update && apt-get install -y ${pkgs.join(' ')}`;
}

/**
 * As root with apt: install the missing packages of these purposes, saying so. Returns what was
 * installed (empty when nothing was missing, when not root, or without apt: the checks that
 * follow then name what is missing). Throws when apt fails.
 */
export async function installMissing(
  purposes: readonly Purpose[],
  log: (line: string) => void,
  what = "the lab's prerequisites",
): Promise<string[]> {
  if (process.getuid?.() !== 0 || !which('apt-get')) return [];
  const missing = missingPackages(purposes);
  if (missing.length === 0) return [];
  log(`hookpoint: installing ${what} with apt: ${missing.join(' ')}`);
  await run(['apt-get', 'update', '-qq'], { timeoutMs: 300_000 });
  await run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing], {
    timeoutMs: 1_800_000,
    env: { DEBIAN_FRONTEND: 'noninteractive' },
  });
  return missing;
}
