/**
 * The reachability matrix step's own window: every node's monitor (traces, drops, policy
 * verdicts) armed, one fresh connection per cell, every cell side by side, the monitors stopped.
 * Names in the table resolve like the rest of the vocabulary: a pod, `"<deployment>" replica on
 * node "<node>"`, or (as a destination) `service "<name>"`.
 */
import type { ExecTarget, Topology } from '../backends/types.ts';
import { UsageError } from '../errors.ts';
import type { CitedEvidence } from '../expectations/evidence-ref.ts';
import { MARK, type NodeEvents, type ReachCell } from '../expectations/reachability.ts';
import type { MonitorEvent } from '../parsers/monitor.ts';
import { POLICY_MONITOR_TYPES, startMonitor } from '../probes/monitor.ts';
import { sendRequests } from '../probes/traffic.ts';
import { resolveNode, resolvePod, resolveService } from './resolve.ts';
import type { HookpointWorld } from './world.ts';

interface Party {
  label: string;
  /** As a source: where its requests run and the address they leave with. */
  exec?: ExecTarget;
  ip?: string;
  /** As a destination: the address and port a request goes to, and every address its packets may carry. */
  target?: (port: number) => { ip: string; port: number };
  addresses: string[];
}

const REPLICA = /^"([^"]+)" replica on node "([^"]+)"$/;
const SERVICE = /^service "([^"]+)"$/;

function party(topo: Topology, cell: string, role: 'source' | 'destination'): Party {
  const text = cell.trim();
  const svc = SERVICE.exec(text);
  if (svc) {
    if (role === 'source') throw new UsageError(`A service cannot send traffic: "${text}" is in the first column.`);
    const s = resolveService(topo, svc[1]!);
    return {
      label: text,
      target: () => ({ ip: s.clusterIP, port: s.port }),
      addresses: [s.clusterIP, ...s.endpoints.map((e) => e.ip)],
    };
  }
  const rep = REPLICA.exec(text);
  const pod = rep
    ? (() => {
        const node = resolveNode(topo, rep[2]!);
        const p = topo.pods.find((x) => x.app === rep[1] && x.node === node.name);
        if (!p)
          throw new UsageError(
            `No replica of "${rep[1]}" on node ${node.name} (cell ${text}).`,
            `Declare one: Given an echo deployment "${rep[1]}" with a replica on node "${node.role}".`,
          );
        return p;
      })()
    : resolvePod(topo, text.replace(/^"(.*)"$/, '$1'));
  return {
    label: text,
    exec: { kind: 'pod', pod: pod.name, namespace: pod.namespace },
    ip: pod.ip,
    target: (port) => ({ ip: pod.ip, port }),
    addresses: [pod.ip],
  };
}

/** Table rows → sources, destinations and the expected cells; one paragraph for a malformed table. */
export function readMatrix(rows: readonly string[][]): {
  sources: string[];
  destinations: string[];
  expected: Map<string, boolean>;
} {
  const [head, ...body] = rows;
  if (!head || head.length < 2 || body.length === 0)
    throw new UsageError(
      'The reachability table needs a first row of destinations and one row per source.',
      'Example: | | "echo" replica on node "worker" |\\n| client | ✓ |',
    );
  const destinations = head.slice(1).map((c) => c.trim());
  const expected = new Map<string, boolean>();
  const sources: string[] = [];
  for (const row of body) {
    const source = row[0]!.trim();
    sources.push(source);
    row.slice(1).forEach((cell, i) => {
      const v = cell.trim();
      if (v !== MARK.yes && v !== MARK.no)
        throw new UsageError(
          `Cell ${source} → ${destinations[i]} of the reachability table is "${v}": write ${MARK.yes} (reaches) or ${MARK.no} (does not).`,
        );
      expected.set(`${source}\u0000${destinations[i]}`, v === MARK.yes);
    });
  }
  return { sources, destinations, expected };
}

/** Probe every cell in one window; returns the cells and the monitors' events per node. */
export async function probeMatrix(
  world: HookpointWorld,
  rows: readonly string[][],
  port: number,
  requestsPerCell = 1,
): Promise<{ cells: ReachCell[]; monitors: NodeEvents[] }> {
  const { sources, destinations, expected } = readMatrix(rows);
  const topo = await world.topology(true);
  const src = new Map(sources.map((s) => [s, party(topo, s, 'source')]));
  const dst = new Map(destinations.map((d) => [d, party(topo, d, 'destination')]));
  for (const n of topo.nodes) world.involvedNodes.add(n.name);
  const mons = await Promise.all(
    topo.nodes.map(async (n) => ({
      node: n.name,
      mon: await startMonitor(world.backend, n.name, { types: POLICY_MONITOR_TYPES }),
    })),
  );
  const cells: ReachCell[] = [];
  try {
    await Promise.all(
      sources.flatMap((s) =>
        destinations.map(async (d) => {
          const from = src.get(s)!;
          const to = dst.get(d)!;
          const ev = await sendRequests(world.backend, from.exec!, to.target!(port), requestsPerCell);
          cells.push({
            source: s,
            destination: d,
            expected: expected.get(`${s}\u0000${d}`)!,
            from: from.ip!,
            to: to.addresses,
            outcomes: ev.data,
          });
          await world.cite({ ...ev, summary: `${s} → ${d}: ${ev.summary}` }, { hold: true });
        }),
      ),
    );
  } finally {
    const stopped = await Promise.allSettled(mons.map(async (m) => ({ node: m.node, ev: await m.mon.stop() })));
    const monitors: NodeEvents[] = [];
    const evidence = new Map<string, CitedEvidence<MonitorEvent[]>>();
    for (const r of stopped)
      if (r.status === 'fulfilled') {
        const cited = await world.cite(r.value.ev, { hold: true });
        evidence.set(r.value.node, cited);
        monitors.push({ node: r.value.node, attachment: cited.attachment ?? 'monitor', events: r.value.ev.data });
      }
    world.reachability = { cells, monitors, evidence };
  }
  const order = (c: ReachCell) => sources.indexOf(c.source) * destinations.length + destinations.indexOf(c.destination);
  cells.sort((a, b) => order(a) - order(b));
  return { cells, monitors: world.reachability.monitors };
}
