/**
 * bpftool on a node: which programs are attached where (`bpftool net show`, per network
 * namespace, so it runs in the node), what a program's translated code calls
 * (`bpftool prog dump xlated id N`), and the tail calls a packet takes from the program at a
 * hook (program arrays read with `bpftool map show/dump id N`).
 */
import type { Backend } from '../backends/types.ts';
import { InfraError } from '../errors.ts';
import type { Evidence } from '../evidence/index.ts';
import type { RunResult } from '../exec/index.ts';
import {
  type BpfAttachment,
  type BpftoolXlated,
  parseBpftoolMapDump,
  parseBpftoolMapShow,
  parseBpftoolNet,
  parseBpftoolProgShow,
  parseBpftoolXlated,
  programArraySlots,
} from '../parsers/bpftool.ts';
import { IPV4_HOOK_SLOTS } from '../parsers/cilium-programs.ts';
import { chainText, type TailCallClosure, walkTailCalls, withheldOnPath } from '../parsers/tail-calls.ts';
import { commandEvidence, commandOf, tail } from './common.ts';

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
  return commandEvidence(
    'bpftool-net',
    `node ${node}`,
    res,
    list,
    `bpftool net show on node ${node}: ${list.length} attachments on ${ifaces.size} interfaces`,
  );
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
  return commandEvidence(
    'bpftool-xlated',
    `node ${node} prog ${progId}`,
    res,
    x,
    `program ${progId} on node ${node}: ${x.instructions} instructions; helpers ${x.calls.join(', ') || 'none'}${x.withheldCalls.length ? `; ${x.withheldCalls.length} helper calls withheld by the kernel` : ''}`,
  );
}

/** What to follow: the hook (lxc and direction) and the endpoints the traffic was addressed to. */
export interface TailCallQuery {
  ifname: string;
  direction: 'ingress' | 'egress';
  /** Endpoint ids of the same-node destinations (their slots in the policy array are on the path). */
  destinations: readonly number[];
}

/** The kernel's limit of chained tail calls: the walk never needs more rounds. */
const MAX_ROUNDS = 33;

/**
 * The tail calls an IPv4 packet takes from the program at tc `direction` of `ifname`: reads
 * `bpftool net show`, then, as the walk of support/parsers/tail-calls.ts asks for them, each
 * program on the path (`prog show id`, `prog dump xlated id`) and each program array it
 * tail-calls through (`map show id`, `map dump id`). Programs off the path are not read.
 */
export async function bpftoolTailCalls(
  backend: Backend,
  node: string,
  query: TailCallQuery,
): Promise<Evidence<TailCallClosure>> {
  const commands: string[] = [];
  const log: string[] = [];
  // Reads of one round run side by side; their commands and output are logged in a fixed order
  // (programs, then maps, each as the walk named them), so the evidence reads the same every time.
  const read = async (argv: string[], what: string) => {
    const res = await bpftool(backend, node, argv, what);
    return { command: commandOf(res), stdout: res.stdout };
  };
  const logged = (...reads: Array<{ command: string; stdout: string }>) => {
    for (const r of reads) {
      commands.push(r.command);
      log.push(`$ ${r.command}\n${r.stdout.trimEnd()}`);
    }
  };
  const net = await read(['bpftool', 'net', 'show'], 'the BPF attachments');
  logged(net);
  const attachments = parseBpftoolNet(net.stdout).attachments;
  const at = attachments.find(
    (a) => a.interface === query.ifname && (a.hook === 'tc' || a.hook === 'tcx') && a.direction === query.direction,
  );
  const closure: TailCallClosure = {
    interface: query.ifname,
    direction: query.direction,
    hook:
      at && at.id !== null
        ? { interface: query.ifname, direction: query.direction, programId: at.id, program: at.program }
        : null,
    destinations: [...query.destinations],
    programs: [],
    maps: [],
  };
  const hookSlots = IPV4_HOOK_SLOTS[query.direction];
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const { missing } = walkTailCalls(closure, { hookSlots });
    if (missing.programs.length === 0 && missing.maps.length === 0) break;
    const programs = missing.programs.map((id) =>
      Promise.all([
        read(['bpftool', 'prog', 'show', 'id', String(id)], `program ${id}`),
        read(['bpftool', 'prog', 'dump', 'xlated', 'id', String(id)], `the translated code of program ${id}`),
      ]),
    );
    const maps = missing.maps.map(async (id) => {
      const show = await read(['bpftool', 'map', 'show', 'id', String(id)], `map ${id}`);
      const shown = parseBpftoolMapShow(show.stdout).maps[0];
      const dump =
        shown?.type === 'prog_array'
          ? await read(['bpftool', 'map', 'dump', 'id', String(id)], `the slots of map ${id}`)
          : undefined;
      return { show, shown, dump };
    });
    for (const [i, [show, xlated]] of (await Promise.all(programs)).entries()) {
      logged(show, xlated);
      const x = parseBpftoolXlated(xlated.stdout);
      closure.programs.push({
        id: missing.programs[i]!,
        name: parseBpftoolProgShow(show.stdout).programs[0]?.name ?? null,
        callSites: x.callSites,
        tailCalls: x.tailCalls,
        instructions: x.instructions,
        withheldCalls: x.withheldCalls.length,
      });
    }
    for (const [i, { show, shown, dump }] of (await Promise.all(maps)).entries()) {
      logged(show, ...(dump ? [dump] : []));
      const slots = dump ? programArraySlots(parseBpftoolMapDump(dump.stdout)) : new Map<number, number>();
      closure.maps.push({
        id: missing.maps[i]!,
        name: shown?.name ?? null,
        type: shown?.type ?? 'unknown',
        slots: [...slots].map(([slot, programId]) => ({ slot, programId })),
      });
    }
  }
  const walk = walkTailCalls(closure, { hookSlots });
  const where = `node ${node} ${query.ifname}`;
  const path = walk.redirects[0]
    ? `${chainText(walk.redirects[0].chain)}: call ${walk.redirects[0].helper}${walk.redirects[0].insn !== null ? ` at insn ${walk.redirects[0].insn}` : ''}`
    : walk.chains.length
      ? `${walk.chains.map(chainText).join('; ')}: no redirect helper on the path${withheldOnPath(closure, walk).length ? ' (some helper calls withheld by the kernel)' : ''}`
      : 'nothing attached';
  return {
    kind: 'bpftool-tail-calls',
    where,
    commands,
    raw: `${log.join('\n\n')}\n`,
    data: closure,
    summary: `tail calls from tc ${query.direction} of ${query.ifname} on node ${node}: ${path}`,
  };
}
