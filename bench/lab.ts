/**
 * `npm run bench -- lab`: how long the lab takes to come up and go down (goal: up ≤ 2 s,
 * down ≤ 1 s). Measured two ways: through the Backend interface in this process (provision +
 * the seed's workloads; teardown), with and without the tc datapath, and end to end through the
 * CLI (`hookpoint lab up --seed-workloads` / `hookpoint lab down`, Node start-up included).
 */
import path from 'node:path';
import { LabBackend } from '../support/backends/lab/backend.ts';
import { run } from '../support/exec/index.ts';
import { provisionTwoNodeEcho } from '../test/lab/helpers/echo-lab.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const RUNS = 5;
const GOAL = { up: 2000, down: 1000 };

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)]} ms (min ${s[0]}, max ${s.at(-1)}, n=${s.length})`;
}

function verdict(what: 'up' | 'down', ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)]!;
  return median <= GOAL[what] ? `within the ${GOAL[what]} ms goal` : `OVER the ${GOAL[what]} ms goal`;
}

/** Tunnel mode (VXLAN): cilium_vxlan, tunnel routes and the node's overlay programs on top. */
const TUNNEL = { routingMode: 'tunnel', tunnelProtocol: 'vxlan', autoDirectNodeRoutes: 'false' };

async function inProcess(
  variants: string,
  opts: { kpr?: boolean; values?: Record<string, string> } = {},
): Promise<{ up: number[]; down: number[] }> {
  const up: number[] = [];
  const down: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const lab = new LabBackend({ cluster: `hpt-bench-${process.pid}`, variants });
    let t = Date.now();
    try {
      const nodes = await provisionTwoNodeEcho(lab, opts);
      await lab.runClient({ name: 'client', node: nodes[0]! });
      up.push(Date.now() - t);
    } finally {
      t = Date.now();
      await lab.teardown();
      down.push(Date.now() - t);
    }
  }
  return { up, down };
}

async function cli(): Promise<{ up: number[]; down: number[] }> {
  const up: number[] = [];
  const down: number[] = [];
  const bin = [process.execPath, path.join(REPO, 'bin/hookpoint.js'), 'lab'];
  const cluster = ['--cluster', `hpt-bench-cli-${process.pid}`];
  for (let i = 0; i < 3; i++) {
    let t = Date.now();
    try {
      await run([...bin, 'up', ...cluster, '--seed-workloads'], { timeoutMs: 60_000, where: 'host' });
      up.push(Date.now() - t);
    } finally {
      t = Date.now();
      await run([...bin, 'down', ...cluster], { timeoutMs: 60_000, where: 'host' });
      down.push(Date.now() - t);
    }
  }
  return { up, down };
}

export async function bench(): Promise<void> {
  if (process.getuid?.() !== 0) {
    process.stdout.write('lab: skipped (needs root: network namespaces)\n');
    return;
  }
  for (const [label, variants, opts] of [
    ['Backend, kube-proxy only (no-tc)', 'no-tc', {}],
    ['Backend, with the tc datapath', '', {}],
    ['Backend, kube-proxy replacement (socket LB, NodePort at eth0)', '', { kpr: true }],
    ['Backend, tunnel mode (VXLAN)', '', { values: TUNNEL }],
  ] as const) {
    const r = await inProcess(variants, opts);
    process.stdout.write(`lab up   · ${label}: ${stats(r.up)} — ${verdict('up', r.up)}\n`);
    process.stdout.write(`lab down · ${label}: ${stats(r.down)} — ${verdict('down', r.down)}\n`);
  }
  const c = await cli();
  process.stdout.write(
    `hookpoint lab up --seed-workloads (CLI, Node start-up included): ${stats(c.up)} — ${verdict('up', c.up)}\n`,
  );
  process.stdout.write(
    `hookpoint lab down (CLI, Node start-up included): ${stats(c.down)} — ${verdict('down', c.down)}\n`,
  );
}
