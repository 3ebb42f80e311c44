/**
 * Shared by the hardening tests (bad input, faults, fuzz): run the real CLI as a child process
 * through support/exec, and check the one-paragraph error contract and that nothing of a case is
 * left running.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RunResult, run } from '../../../support/exec/index.ts';

export const REPO = path.resolve(import.meta.dirname, '../../..');
export const BIN = path.join(REPO, 'bin', 'hookpoint.js');

export function tempDir(tag: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `hphard-${tag}-`));
}

export function writeFeature(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** `hookpoint …` as a child process (argv only), from the repository unless cwd is given. */
export function cli(
  args: string[],
  opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number; prefix?: string[] } = {},
): Promise<RunResult> {
  return run([...(opts.prefix ?? []), process.execPath, BIN, ...args], {
    timeoutMs: opts.timeoutMs ?? 60_000,
    cwd: opts.cwd ?? REPO,
    env: opts.env,
    check: false,
    where: 'test',
  });
}

/** Informational lines the CLI prints before its work (not errors). */
const INFO = /^hookpoint: (backend \S+ \(|provisioning |installing )/;

/**
 * The error contract: the documented exit code, one paragraph on stderr (a single line) that names
 * the input and says how to fix it, and no stack trace.
 */
export function expectParagraph(res: RunResult, code: number, names: Array<string | RegExp>, fix: RegExp): string {
  const all = `${res.stdout}\n${res.stderr}`;
  assert.equal(res.exitCode, code, `exit code ${res.exitCode}, expected ${code}:\n${all}`);
  assert.doesNotMatch(all, /^\s+at .+[:(]\d+/m, `a stack trace was printed:\n${all}`);
  const lines = res.stderr
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l && !INFO.test(l));
  // One paragraph: a single line from Hookpoint; commander's usage errors add a suggestion and a help line.
  assert.ok(lines.length >= 1 && lines.length <= 3, `expected one paragraph on stderr, got:\n${res.stderr}`);
  assert.doesNotMatch(res.stderr.trim(), /\n\s*\n/, `more than one paragraph on stderr:\n${res.stderr}`);
  const paragraph = lines.join(' ');
  for (const n of names)
    if (typeof n === 'string') assert.ok(paragraph.includes(n), `the error does not name "${n}": ${paragraph}`);
    else assert.match(paragraph, n);
  assert.match(paragraph, fix, `the error gives no fix: ${paragraph}`);
  return paragraph;
}

/** Pids of processes whose command line mentions marker (the case's temp dir or lab name). */
export function processesMentioning(marker: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && cmd.includes(marker)) out.push(Number(e));
    } catch {}
  }
  return out;
}

/** Network namespaces of a lab (by its run prefix). */
export function labNetns(cluster: string): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(`hp.${cluster}.`));
  } catch {
    return [];
  }
}

/** Mount points of a lab's run directory. */
export function labMounts(cluster: string): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  return text
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m.includes(`/hookpoint/lab/${cluster}`));
}

/** Nothing of the case left: no process mentioning the markers, no namespace or mount of the lab. */
export async function expectNothingLeft(markers: string[], cluster?: string, waitMs = 5000): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const procs = markers.flatMap(processesMentioning);
    const ns = cluster ? labNetns(cluster) : [];
    const mounts = cluster ? labMounts(cluster) : [];
    if (procs.length === 0 && ns.length === 0 && mounts.length === 0) return;
    if (Date.now() > deadline)
      assert.fail(
        `left behind: processes ${procs.join(',') || 'none'}, netns ${ns.join(',') || 'none'}, mounts ${mounts.join(',') || 'none'}`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The seed-like Background every run case starts from. */
export const BACKGROUND = `Feature: hardening
  Background:
    Given a cluster from kind config "two-node.yaml"
    And Cilium is installed with:
      | routingMode           | native     |
      | kubeProxyReplacement  | false      |
      | autoDirectNodeRoutes  | true       |
      | ipam.mode             | kubernetes |
      | ipv4NativeRoutingCIDR | 10.0.0.0/8 |
    And an echo deployment "echo" with a replica on every node behind ClusterIP service "echo" port 80
    And a client pod "client" on node "control-plane"
`;

export function scenario(steps: string, background = BACKGROUND): string {
  return `${background}\n  Scenario: case\n${steps
    .trim()
    .split('\n')
    .map((l) => `    ${l.trim()}`)
    .join('\n')}\n`;
}
