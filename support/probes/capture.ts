/**
 * Packet captures at capture points: a pod's eth0 (in the pod's namespace), the pod's host-side
 * veth, a node's eth0 and a node's cilium_host (in the node). tcpdump writes a classic pcap and
 * prints each packet (`--print`), line-buffered, without name resolution, with link headers:
 *
 *   tcpdump -i IF -nn -e -l -U --immediate-mode -w <scratch>/capture-….pcap --print <filter tokens…>
 *
 * startCapture() resolves only once tcpdump printed "listening on" (the socket is open, so
 * traffic sent afterwards is seen). stop() waits a moment for the last packets, stops tcpdump
 * and returns the packets read back from the pcap (the text output when the pcap is unreadable).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend, ExecTarget, PodInfo, Topology } from '../backends/types.ts';
import { InfraError, UsageError } from '../errors.ts';
import type { Evidence } from '../evidence/index.ts';
import { slug } from '../evidence/index.ts';
import { readPcap } from '../parsers/pcap.ts';
import { type Packet, parseTcpdump } from '../parsers/tcpdump.ts';
import { commandOf, sleep, tail } from './common.ts';

export type CapturePoint =
  | { kind: 'pod-eth0'; pod: string }
  | { kind: 'host-veth'; pod: string }
  | { kind: 'node-eth0'; node: string }
  | { kind: 'cilium-host'; node: string };

export interface CaptureData {
  packets: Packet[];
  /** The pcap tcpdump wrote (attach it as application/vnd.tcpdump.pcap). */
  pcapFile: string;
  /** The pcap bytes as read back (attached as application/vnd.tcpdump.pcap), when readable. */
  pcap?: Uint8Array;
}

export interface RunningCapture {
  readonly point: CapturePoint;
  readonly where: string;
  readonly argv: readonly string[];
  /** Stop tcpdump and read what it saw. Idempotent. */
  stop(): Promise<Evidence<CaptureData>>;
}

export interface CaptureOptions {
  /** tcpdump filter as argv tokens, e.g. ['tcp', 'port', '80']. */
  filter?: readonly string[];
  /** Topology to resolve pods and nodes (fetched from the backend when absent). */
  topology?: Topology;
  /** Wait at most this long for "listening on" (default 5000 ms). */
  readyMs?: number;
  /** Pause before stopping so the last packets are written (default 100 ms). */
  settleMs?: number;
  /** Hard bound on tcpdump's life (default 10 minutes). */
  maxMs?: number;
}

/** "pod client eth0", "host veth of pod client", "node cilium-kubeproxy-worker eth0", "node … cilium_host". */
export function describeCapturePoint(p: CapturePoint): string {
  switch (p.kind) {
    case 'pod-eth0':
      return `pod ${p.pod} eth0`;
    case 'host-veth':
      return `host veth of pod ${p.pod}`;
    case 'node-eth0':
      return `node ${p.node} eth0`;
    case 'cilium-host':
      return `node ${p.node} cilium_host`;
  }
}

/** Where tcpdump runs and on which interface. */
export function captureTarget(point: CapturePoint, topology: Topology): { target: ExecTarget; iface: string } {
  const pod = (name: string): PodInfo => {
    const p = topology.pods.find((x) => x.name === name);
    if (!p)
      throw new InfraError(`Cannot capture on ${describeCapturePoint(point)}: pod ${name} is not in the topology.`);
    return p;
  };
  switch (point.kind) {
    case 'pod-eth0': {
      const p = pod(point.pod);
      return { target: { kind: 'pod', pod: p.name, namespace: p.namespace }, iface: 'eth0' };
    }
    case 'host-veth': {
      const p = pod(point.pod);
      if (!p.hostVeth)
        throw new InfraError(
          `Cannot capture on ${describeCapturePoint(point)}: the backend does not report the host-side veth of pod ${p.name}.`,
        );
      return { target: { kind: 'node', node: p.node }, iface: p.hostVeth };
    }
    case 'node-eth0':
      return { target: { kind: 'node', node: point.node }, iface: 'eth0' };
    case 'cilium-host':
      return { target: { kind: 'node', node: point.node }, iface: 'cilium_host' };
  }
}

export function tcpdumpArgv(iface: string, pcapFile: string, filter: readonly string[] = []): string[] {
  for (const tok of filter) {
    if (/^-/.test(tok) || tok.length === 0)
      throw new UsageError(`The capture filter token "${tok}" is not a filter word (it must not start with "-").`);
  }
  return ['tcpdump', '-i', iface, '-nn', '-e', '-l', '-U', '--immediate-mode', '-w', pcapFile, '--print', ...filter];
}

let counter = 0;

export async function startCapture(
  backend: Backend,
  point: CapturePoint,
  opts: CaptureOptions = {},
): Promise<RunningCapture> {
  const topology = opts.topology ?? (await backend.topology());
  const { target, iface } = captureTarget(point, topology);
  const where = describeCapturePoint(point);
  const pcapFile = join(
    backend.scratchDir(),
    `capture-${slug(where)}-${process.pid}-${Date.now().toString(36)}-${++counter}.pcap`,
  );
  const argv = tcpdumpArgv(iface, pcapFile, opts.filter);
  const proc = backend.spawn(target, argv, { maxMs: opts.maxMs ?? 600_000 });
  const readyMs = opts.readyMs ?? 5000;
  try {
    await proc.waitFor(/listening on /, readyMs);
  } catch (err) {
    const stillRunning = proc.running();
    const res = await proc.stop();
    const complaint = tail(res.stderr || res.stdout);
    throw new InfraError(
      `The capture on ${where} did not start: \`${commandOf(res)}\` ${stillRunning ? `printed no "listening on" within ${readyMs} ms` : `exited with ${res.exitCode}`}${complaint ? ` — ${complaint}` : ''}.`,
      { hint: 'Rerun the command by hand from the transcript; the interface must exist there.', cause: err },
    );
  }
  let result: Promise<Evidence<CaptureData>> | undefined;
  const finish = async (): Promise<Evidence<CaptureData>> => {
    const diedEarly = !proc.running();
    if (!diedEarly && (opts.settleMs ?? 100) > 0) await sleep(opts.settleMs ?? 100);
    const res = await proc.stop();
    if (diedEarly) {
      throw new InfraError(
        `The capture on ${where} stopped by itself during the window (exit ${res.exitCode}), so it may have missed packets: \`${commandOf(res)}\`${tail(res.stderr) ? ` — ${tail(res.stderr)}` : ''}.`,
      );
    }
    let packets: Packet[];
    let source = 'pcap';
    let pcap: Uint8Array | undefined;
    try {
      pcap = backend.readFile ? await backend.readFile(target, pcapFile) : await readFile(pcapFile);
      packets = readPcap(pcap).packets;
    } catch (err) {
      // The printed lines carry the same packets; say which one the data came from.
      packets = parseTcpdump(res.stdout).packets;
      source = `printed lines (pcap unreadable: ${(err as Error).message.split('\n')[0]})`;
    }
    const stats = /(\d+) packets? captured/.exec(res.stderr)?.[1];
    const dropped = Number(/(\d+) packets? dropped by kernel/.exec(res.stderr)?.[1] ?? 0);
    const dsts = new Map<string, number>();
    for (const p of packets) if (p.dst) dsts.set(p.dst.ip, (dsts.get(p.dst.ip) ?? 0) + 1);
    const top = [...dsts]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([ip, n]) => `${ip} ×${n}`)
      .join(', ');
    return {
      kind: 'capture',
      where,
      commands: [commandOf(res)],
      raw: res.stdout,
      file: pcapFile,
      data: { packets, pcapFile, pcap },
      summary: `capture on ${where}: ${packets.length} packets from the ${source}${stats !== undefined ? ` (tcpdump: ${stats} captured${dropped ? `, ${dropped} dropped by kernel` : ''})` : ''}${top ? `; destinations ${top}` : ''}`,
    };
  };
  return {
    point,
    where,
    argv,
    stop() {
      result ??= finish();
      return result;
    },
  };
}
