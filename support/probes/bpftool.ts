/**
 * bpftool on a node: which programs are attached where (`bpftool net show`, per network
 * namespace, so it runs in the node) and what a program's translated code calls
 * (`bpftool prog dump xlated id N`).
 */
import type { Backend } from '../backends/types.ts';
import { InfraError } from '../errors.ts';
import type { Evidence } from '../evidence/index.ts';
import type { RunResult } from '../exec/index.ts';
import { type BpfAttachment, type BpftoolXlated, parseBpftoolNet, parseBpftoolXlated } from '../parsers/bpftool.ts';
import { commandOf, tail } from './common.ts';

const TIMEOUT_MS = 15_000;

async function bpftool(backend: Backend, node: string, argv: string[], what: string): Promise<RunResult> {
  const res = await backend.exec({ kind: 'node', node }, argv, { timeoutMs: TIMEOUT_MS, check: false });
  if (res.exitCode !== 0) {
    throw new InfraError(
      `Could not read ${what} on node ${node}: \`${commandOf(res)}\` exited with ${res.exitCode}${tail(res.stderr) ? ` — ${tail(res.stderr)}` : ''}.`,
      { hint: 'bpftool must be installed on the node and run as root.' },
    );
  }
  return res;
}

function describe(a: BpfAttachment): string {
  return `${a.interface ?? '?'} ${a.hook}${a.direction ? `/${a.direction}` : ''} ${a.program}${a.id !== null ? ` id ${a.id}` : ''}`;
}

/** `bpftool net show` in the node: every attachment (tc, tcx, xdp …). */
export async function bpftoolNet(backend: Backend, node: string): Promise<Evidence<BpfAttachment[]>> {
  const res = await bpftool(backend, node, ['bpftool', 'net', 'show'], 'the BPF attachments');
  const list = parseBpftoolNet(res.stdout).attachments;
  const ifaces = new Set(list.map((a) => a.interface).filter(Boolean));
  return {
    kind: 'bpftool-net',
    where: `node ${node}`,
    commands: [commandOf(res)],
    raw: res.stdout,
    data: list,
    summary: `bpftool net show on node ${node}: ${list.length} attachments on ${ifaces.size} interfaces`,
  };
}

/** The attachments of one interface of the node. */
export async function programsOn(backend: Backend, node: string, ifname: string): Promise<Evidence<BpfAttachment[]>> {
  const all = await bpftoolNet(backend, node);
  const mine = all.data.filter((a) => a.interface === ifname);
  return {
    ...all,
    where: `node ${node} ${ifname}`,
    data: mine,
    summary: `programs on ${ifname} of node ${node}: ${mine.length ? mine.map(describe).join(', ') : 'none'}`,
  };
}

/** `bpftool prog dump xlated id N`: the helper calls of a program. */
export async function bpftoolXlated(backend: Backend, node: string, progId: number): Promise<Evidence<BpftoolXlated>> {
  if (!Number.isInteger(progId) || progId <= 0) throw new RangeError(`bpftoolXlated: not a program id: ${progId}`);
  const res = await bpftool(
    backend,
    node,
    ['bpftool', 'prog', 'dump', 'xlated', 'id', String(progId)],
    `the translated code of program ${progId}`,
  );
  const x = parseBpftoolXlated(res.stdout);
  return {
    kind: 'bpftool-xlated',
    where: `node ${node} prog ${progId}`,
    commands: [commandOf(res)],
    raw: res.stdout,
    data: x,
    summary: `program ${progId} on node ${node}: ${x.instructions} instructions; helpers ${x.calls.join(', ') || 'none'}`,
  };
}
