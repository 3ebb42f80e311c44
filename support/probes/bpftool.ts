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
import { IPV4_HOOK_SLOTS, programArrayRole } from '../parsers/cilium-programs.ts';
import { chainText, type TailCallClosure, walkTailCalls, withheldOnPath } from '../parsers/tail-calls.ts';
import { commandEvidence, commandOf, tail } from './common.ts';

const TIMEOUT_MS = 15_000;

async function bpftool(
  backend: Backend,
  node: string,
  argv: string[],
  what: string,
  /** A non-zero exit that is an answer, not a failure (a lookup's "Not found"). */
  answers?: (res: RunResult) => boolean,
): Promise<RunResult> {
  const res = await backend.exec({ kind: 'node', node }, argv, { timeoutMs: TIMEOUT_MS, check: false });
  if (res.exitCode !== 0 && !answers?.(res)) {
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
/** Programs read ahead of the walk at most (see below). */
const READ_AHEAD_PROGRAMS = 6;

/** The bytes of a program array's slot for `key hex …`: a 4-byte index in the node's byte order (kind nodes: x86-64, arm64, little-endian). */
export function slotKey(slot: number): string[] {
  if (!Number.isInteger(slot) || slot < 0 || slot > 0xffff_ffff) throw new RangeError(`slotKey: not a slot: ${slot}`);
  return [0, 8, 16, 24].map((shift) => ((slot >>> shift) & 0xff).toString(16).padStart(2, '0'));
}

/** `bpftool map lookup` of an empty slot exits non-zero and says so: an answer, not a failure. */
const notFound = (res: RunResult) => /^Not found$/m.test(res.stdout) || /Not found/.test(res.stderr);

interface ReadText {
  command: string;
  stdout: string;
}

/**
 * The tail calls an IPv4 packet takes from the program at tc `direction` of `ifname`: reads
 * `bpftool net show`, then, as the walk of support/parsers/tail-calls.ts asks for them, each
 * program on the path (`prog show id`, `prog dump xlated id`) and each program array it
 * tail-calls through (`map show id`, then `map dump id`, or for the policy array, whose 65 536
 * slots a dump would walk one by one, `map lookup id … key` of each destination's slot).
 * Programs off the path are not read.
 *
 * Reading ahead: a translated dump is the slow read (bpftool parses all of /proc/kallsyms for
 * each, 0.15–0.3 s), and the walk learns the next program only from the previous dump. So while
 * it waits, cheap reads (`prog show` names the arrays a program uses, `map show` lists the node's
 * maps, then the slots) find the programs the walk is most likely to ask for next — the hook's
 * IPv4 slot in the endpoint's `cilium_calls`, the destinations' slots in `cilium_call_policy` —
 * and start their dumps side by side. The walk is unchanged: it takes a read already started or
 * starts it, and the evidence lists exactly the reads it used, in its own order. Reads ahead it
 * did not use still end before this returns, and stay in the transcript.
 */
export async function bpftoolTailCalls(
  backend: Backend,
  node: string,
  query: TailCallQuery,
): Promise<Evidence<TailCallClosure>> {
  const commands: string[] = [];
  const log: string[] = [];
  // One process per command: the walk and the read-ahead share them.
  const started = new Map<string, Promise<ReadText>>();
  const read = (argv: string[], what: string, answers?: (res: RunResult) => boolean): Promise<ReadText> => {
    const key = argv.join(' ');
    let p = started.get(key);
    if (!p) {
      p = bpftool(backend, node, argv, what, answers).then((res) => ({ command: commandOf(res), stdout: res.stdout }));
      // A read ahead that fails is the walk's to report, if the walk needs it.
      p.catch(() => {});
      started.set(key, p);
    }
    return p;
  };
  const logged = (...reads: ReadText[]) => {
    for (const r of reads) {
      commands.push(r.command);
      log.push(`$ ${r.command}\n${r.stdout.trimEnd()}`);
    }
  };
  const programReads = (id: number) =>
    Promise.all([
      read(['bpftool', 'prog', 'show', 'id', String(id)], `program ${id}`),
      read(['bpftool', 'prog', 'dump', 'xlated', 'id', String(id)], `the translated code of program ${id}`),
    ]);
  const showProgram = (id: number) => read(['bpftool', 'prog', 'show', 'id', String(id)], `program ${id}`);
  const slotRead = (id: number, slot: number) =>
    read(
      ['bpftool', 'map', 'lookup', 'id', String(id), 'key', 'hex', ...slotKey(slot)],
      `slot ${slot} of map ${id}`,
      notFound,
    );
  // The policy array has a slot per possible endpoint (65 536): a dump walks them all (0.2–0.5 s);
  // the walk asks for the slots it needs, read one by one. Other arrays are small: dumped whole.
  const mapReads = async (id: number) => {
    const show = await read(['bpftool', 'map', 'show', 'id', String(id)], `map ${id}`);
    const shown = parseBpftoolMapShow(show.stdout).maps[0];
    const bySlot = shown?.type === 'prog_array' && programArrayRole(shown.name) === 'policy';
    const dump =
      shown?.type === 'prog_array' && !bySlot
        ? await read(['bpftool', 'map', 'dump', 'id', String(id)], `the slots of map ${id}`)
        : undefined;
    return { show, shown, dump, bySlot };
  };
  const slotsOf = (...reads: ReadText[]) => {
    const held = new Map<number, number>();
    for (const r of reads)
      for (const [slot, prog] of programArraySlots(parseBpftoolMapDump(r.stdout))) held.set(slot, prog);
    return held;
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

  // The read-ahead: the hook's program, then what its arrays hold at the slots the walk will follow.
  const ahead = new Set<number>();
  const allMaps = closure.hook ? read(['bpftool', 'map', 'show'], "the node's maps") : undefined;
  const readAhead = async (id: number, atHook: boolean): Promise<void> => {
    if (ahead.has(id) || ahead.size >= READ_AHEAD_PROGRAMS) return;
    ahead.add(id);
    // Started, not awaited: each read carries its own catch, so one that fails waits for the walk.
    void read(['bpftool', 'prog', 'dump', 'xlated', 'id', String(id)], `the translated code of program ${id}`);
    const mapIds = parseBpftoolProgShow((await showProgram(id)).stdout).programs[0]?.mapIds ?? [];
    const maps = new Map(parseBpftoolMapShow((await allMaps!).stdout).maps.map((m) => [m.id, m]));
    await Promise.all(
      mapIds.map(async (m) => {
        const info = maps.get(m);
        const role = programArrayRole(info?.name);
        const wanted = role === 'policy' ? query.destinations : role === 'endpoint-calls' && atHook ? hookSlots : [];
        if (info?.type !== 'prog_array' || wanted.length === 0) return;
        const slots = slotsOf(
          ...(await (role === 'policy'
            ? Promise.all(wanted.map((slot) => slotRead(m, slot)))
            : Promise.all([read(['bpftool', 'map', 'dump', 'id', String(m)], `the slots of map ${m}`)]))),
        );
        await Promise.all(wanted.map((slot) => slots.get(slot)).map((next) => next && readAhead(next, false)));
      }),
    );
  };
  const readingAhead = closure.hook ? readAhead(closure.hook.programId, true).catch(() => {}) : undefined;

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const { missing } = walkTailCalls(closure, { hookSlots });
    if (missing.programs.length === 0 && missing.maps.length === 0 && missing.slots.length === 0) break;
    const programs = missing.programs.map(programReads);
    const maps = missing.maps.map(mapReads);
    const slots = missing.slots.map(({ mapId, slot }) => slotRead(mapId, slot));
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
    for (const [i, { show, shown, dump, bySlot }] of (await Promise.all(maps)).entries()) {
      logged(show, ...(dump ? [dump] : []));
      closure.maps.push({
        id: missing.maps[i]!,
        name: shown?.name ?? null,
        type: shown?.type ?? 'unknown',
        slots: [...slotsOf(...(dump ? [dump] : []))].map(([slot, programId]) => ({ slot, programId })),
        ...(bySlot ? { readSlots: [] } : {}),
      });
    }
    for (const [i, lookup] of (await Promise.all(slots)).entries()) {
      logged(lookup);
      const { mapId, slot } = missing.slots[i]!;
      const map = closure.maps.find((m) => m.id === mapId)!;
      map.readSlots = [...(map.readSlots ?? []), slot];
      const programId = slotsOf(lookup).get(slot);
      if (programId !== undefined) map.slots.push({ slot, programId });
    }
  }
  await Promise.allSettled([readingAhead, ...started.values()]);
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
