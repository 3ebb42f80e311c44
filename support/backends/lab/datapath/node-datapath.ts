/**
 * The eBPF datapath of one lab node: the compiled lab_lb.o loaded once per node with its maps
 * pinned in the node's private bpffs (shared by every lxc of that node — lab-findings pitfall 2),
 * attached at tc ingress (from_container) and egress (to_container) of each lxc, and fed with
 * the node's endpoints and the cluster's services.
 *
 * bpffs layout (one private mount per node, pitfall 1: `ip netns exec` hides /sys/fs/bpf):
 *   <bpffs>/progs/from_container, <bpffs>/progs/to_container
 *   <bpffs>/maps/{lab_config,lb4_services,lxc_endpoints,ct4,events}
 * load() mounts the bpffs on <bpffs> when it is not one already; unload() unmounts it.
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, statfsSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { InfraError } from '../../../errors.ts';
import { type RunResult, run } from '../../../exec/index.ts';

/** BPF_FS_MAGIC from linux/magic.h. */
const BPF_FS_MAGIC = 0xcafe4a11;
const TIMEOUT_MS = 15_000;

export const PROGRAM_NAMES = { ingress: 'from_container', egress: 'to_container' } as const;
export const MAP_NAMES = ['lab_config', 'lb4_services', 'lxc_endpoints', 'ct4', 'events'] as const;
export type MapName = (typeof MAP_NAMES)[number];

/** Flags of the lab_config map (see lab_lb.c). */
export const LAB_F_TRACE = 0x1;
export const LAB_F_LOCAL_REDIRECT = 0x2;

export interface DatapathEndpoint {
  /** Pod IPv4 address. */
  ip: string;
  /** ifindex of the pod's host-side lxc veth, in the node netns. */
  ifindex: number;
  endpointId: number;
  /** MAC of the pod's eth0. */
  podMac: string;
  /** MAC of the host-side lxc veth. */
  lxcMac: string;
}

export interface DatapathService {
  /** ClusterIP. */
  vip: string;
  port: number;
  protocol: 'TCP' | 'UDP';
  backends: Array<{ ip: string; port: number }>;
}

export interface DatapathOptions {
  /** bpf_redirect to same-node backends (false: the `no-local-redirect` variant). */
  localRedirect: boolean;
  /** Emit trace records into the `events` perf array (default true). */
  trace?: boolean;
}

export interface NodeDatapathConfig {
  /** Full node name (cilium-kubeproxy-control-plane). */
  node: string;
  /** ip-netns name of the node. */
  netns: string;
  /** Directory for this node's private bpffs mount, under the run dir. */
  bpffs: string;
  /** Compiled lab_lb.o (compileLabProgram). */
  objectPath: string;
  options: DatapathOptions;
}

export interface AttachedProgram {
  interface: string;
  ifindex: number;
  direction: 'ingress' | 'egress';
  /** Program name as the kernel reports it. */
  program: string;
  id: number;
  /** True when the program is this node's pinned from_container/to_container. */
  ours: boolean;
}

export interface MapCounts {
  services: number;
  backends: number;
  endpoints: number;
  connections: number;
}

/** True when dir is the root of a bpffs mount. */
export function isBpffs(dir: string): boolean {
  try {
    return Number(statfsSync(dir).type) === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

/** Mount a private bpffs on dir (created when missing). Returns false when it already was one. */
export async function mountBpffs(dir: string): Promise<boolean> {
  mkdirSync(dir, { recursive: true });
  if (isBpffs(dir)) return false;
  await run(['mount', '-t', 'bpf', 'bpf', dir], { timeoutMs: TIMEOUT_MS, where: 'host' });
  return true;
}

/** Unmount the bpffs on dir (lazily when busy) and remove the empty directory. Idempotent. */
export async function unmountBpffs(dir: string): Promise<void> {
  if (isBpffs(dir)) {
    const res = await run(['umount', dir], { timeoutMs: TIMEOUT_MS, where: 'host', check: false });
    if (res.exitCode !== 0) await run(['umount', '-l', dir], { timeoutMs: TIMEOUT_MS, where: 'host' });
  }
  try {
    if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
  } catch {
    // Not empty or already gone: leave it to the run dir's own cleanup.
  }
}

// ---------------------------------------------------------------------------------------------
// Byte encoding of map keys and values (layouts of lab_lb.c, host byte order where marked).

const LE = endianness() === 'LE';

function ipv4Bytes(ip: string, what: string): number[] {
  const parts = ip.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255))
    throw new InfraError(`internal: ${what} "${ip}" is not an IPv4 address.`);
  return parts.map(Number);
}

function macBytes(mac: string, what: string): number[] {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p)))
    throw new InfraError(`internal: ${what} "${mac}" is not a MAC address.`);
  return parts.map((p) => Number.parseInt(p, 16));
}

function be16(n: number, what: string): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new InfraError(`internal: ${what} ${n} is not a port.`);
  return [(n >> 8) & 0xff, n & 0xff];
}

function host16(n: number): number[] {
  const b = [n & 0xff, (n >> 8) & 0xff];
  return LE ? b : b.reverse();
}

function host32(n: number, what: string): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new InfraError(`internal: ${what} ${n} is out of range.`);
  const b = [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
  return LE ? b : b.reverse();
}

const PROTO = { TCP: 6, UDP: 17 } as const;

export function hex(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** lb4_services key: vip(be32) port(be16) proto(u8) slot(u8). */
export function serviceKey(vip: string, port: number, protocol: 'TCP' | 'UDP', slot: number): number[] {
  return [...ipv4Bytes(vip, 'ClusterIP'), ...be16(port, 'service port'), PROTO[protocol], slot];
}

/** lb4_services value: backend_ip(be32) backend_port(be16) count(u16) svc_id(u32). */
export function serviceValue(backendIp: string | null, backendPort: number, count: number, svcId: number): number[] {
  return [
    ...(backendIp ? ipv4Bytes(backendIp, 'backend IP') : [0, 0, 0, 0]),
    ...be16(backendPort, 'backend port'),
    ...host16(count),
    ...host32(svcId, 'service id'),
  ];
}

/** lxc_endpoints key: pod ip (be32); value: ifindex(u32) ep_id(u32) pod_mac[6] lxc_mac[6]. */
export function endpointEntry(ep: DatapathEndpoint): { key: number[]; value: number[] } {
  return {
    key: ipv4Bytes(ep.ip, 'pod IP'),
    value: [
      ...host32(ep.ifindex, 'ifindex'),
      ...host32(ep.endpointId, 'endpoint id'),
      ...macBytes(ep.podMac, 'pod MAC'),
      ...macBytes(ep.lxcMac, 'lxc MAC'),
    ],
  };
}

interface DumpedEntry {
  key: number[];
  value: number[];
}

function parseDump(stdout: string): DumpedEntry[] {
  const text = stdout.trim();
  if (!text) return [];
  const rows = JSON.parse(text) as Array<{ key?: string[]; value?: string[] }>;
  return rows
    .filter((r) => Array.isArray(r.key))
    .map((r) => ({
      key: (r.key ?? []).map((h) => Number.parseInt(h, 16)),
      value: (r.value ?? []).map((h) => Number.parseInt(h, 16)),
    }));
}

// ---------------------------------------------------------------------------------------------

export class NodeDatapath {
  readonly node: string;
  readonly netns: string;
  readonly bpffs: string;
  readonly objectPath: string;
  readonly options: Required<DatapathOptions>;
  private readonly attached = new Set<string>();
  private progIds: { ingress: number; egress: number } | undefined;
  private ifnames = new Map<number, string>();

  constructor(cfg: NodeDatapathConfig) {
    this.node = cfg.node;
    this.netns = cfg.netns;
    this.bpffs = cfg.bpffs;
    this.objectPath = cfg.objectPath;
    this.options = { localRedirect: cfg.options.localRedirect, trace: cfg.options.trace ?? true };
    if (/\s/.test(cfg.bpffs)) throw new InfraError(`internal: the bpffs path "${cfg.bpffs}" contains whitespace.`);
  }

  get where(): string {
    return `node ${this.node}`;
  }

  programPin(direction: 'ingress' | 'egress'): string {
    return join(this.bpffs, 'progs', PROGRAM_NAMES[direction]);
  }

  mapPin(name: MapName): string {
    return join(this.bpffs, 'maps', name);
  }

  /** Pinned perf event array the trace stream reads (one reader at a time — pitfall 12). */
  get eventsMapPath(): string {
    return this.mapPin('events');
  }

  loaded(): boolean {
    return isBpffs(this.bpffs) && existsSync(this.programPin('ingress')) && existsSync(this.programPin('egress'));
  }

  /**
   * Mount the node's private bpffs (when not mounted yet), load the object once and pin its
   * programs and maps there, and write the config flags. Idempotent: existing pins are reused.
   */
  async load(): Promise<void> {
    await mountBpffs(this.bpffs);
    if (!this.loaded()) {
      if (!existsSync(this.objectPath))
        throw new InfraError(`internal: the lab datapath object ${this.objectPath} does not exist (compile it first).`);
      const res = await run(
        [
          'bpftool',
          'prog',
          'loadall',
          this.objectPath,
          join(this.bpffs, 'progs'),
          'type',
          'classifier',
          'pinmaps',
          join(this.bpffs, 'maps'),
        ],
        { timeoutMs: 30_000, where: 'host', check: false },
      );
      if (res.exitCode !== 0) {
        rmSync(join(this.bpffs, 'progs'), { recursive: true, force: true });
        rmSync(join(this.bpffs, 'maps'), { recursive: true, force: true });
        const tail = (res.stderr || res.stdout).trim().split('\n').slice(-8).join(' | ');
        throw new InfraError(
          `The kernel rejected the lab datapath ${this.objectPath} for node ${this.node} (bpftool prog loadall exit ${res.exitCode}): ${tail}.`,
          { hint: 'The verifier log is in the transcript of this command.' },
        );
      }
    }
    await this.setFlags({});
  }

  /** Rewrite the config flags (trace, local redirect); omitted fields keep their value. */
  async setFlags(change: Partial<DatapathOptions>): Promise<void> {
    if (change.localRedirect !== undefined) this.options.localRedirect = change.localRedirect;
    if (change.trace !== undefined) this.options.trace = change.trace;
    const flags = (this.options.trace ? LAB_F_TRACE : 0) | (this.options.localRedirect ? LAB_F_LOCAL_REDIRECT : 0);
    await this.bpftool(
      [
        'map',
        'update',
        'pinned',
        this.mapPin('lab_config'),
        'key',
        'hex',
        '00',
        '00',
        '00',
        '00',
        'value',
        'hex',
        ...hex(host32(flags, 'flags')).split(' '),
      ],
      'host',
    );
  }

  /** Read the flags really in the config map. */
  async readFlags(): Promise<{ trace: boolean; localRedirect: boolean }> {
    const entries = await this.dump('lab_config');
    const v = entries[0]?.value ?? [0, 0, 0, 0];
    const flags = LE ? v[0]! | (v[1]! << 8) : v[3]! | (v[2]! << 8);
    return { trace: (flags & LAB_F_TRACE) !== 0, localRedirect: (flags & LAB_F_LOCAL_REDIRECT) !== 0 };
  }

  /** Attach from_container at tc ingress and to_container at tc egress of an lxc (replaces earlier filters). */
  async attach(lxcIfname: string): Promise<void> {
    await this.attachAll([lxcIfname]);
  }

  /** attach() for several lxc interfaces in one tc process. */
  async attachAll(lxcIfnames: readonly string[]): Promise<void> {
    if (lxcIfnames.length === 0) return;
    if (!this.loaded()) throw new InfraError(`internal: attach on node ${this.node} before load().`);
    const lines: string[] = [];
    for (const dev of lxcIfnames) {
      if (!/^[\w.@-]{1,15}$/.test(dev)) throw new InfraError(`internal: "${dev}" is not an interface name.`);
      lines.push(`qdisc replace dev ${dev} clsact`);
      lines.push(`filter replace dev ${dev} ingress pref 1 handle 1 bpf da pinned ${this.programPin('ingress')}`);
      lines.push(`filter replace dev ${dev} egress pref 1 handle 1 bpf da pinned ${this.programPin('egress')}`);
    }
    const res = await run(['tc', '-n', this.netns, '-batch', '-'], {
      timeoutMs: TIMEOUT_MS,
      where: this.where,
      input: `${lines.join('\n')}\n`,
      check: false,
    });
    if (res.exitCode !== 0)
      throw new InfraError(
        `Could not attach the lab datapath to ${lxcIfnames.join(', ')} on node ${this.node}: ${(res.stderr || res.stdout).trim()}.`,
      );
    for (const dev of lxcIfnames) this.attached.add(dev);
  }

  /** Remove the clsact qdisc (and with it both programs) from an lxc. Missing device or qdisc is fine. */
  async detach(lxcIfname: string): Promise<void> {
    const res = await run(['tc', '-n', this.netns, 'qdisc', 'del', 'dev', lxcIfname, 'clsact'], {
      timeoutMs: TIMEOUT_MS,
      where: this.where,
      check: false,
    });
    this.attached.delete(lxcIfname);
    if (
      res.exitCode !== 0 &&
      !/Cannot find device|Invalid handle|No such file|Cannot open network namespace|Cannot find specified qdisc/i.test(
        res.stderr,
      )
    )
      throw new InfraError(
        `Could not detach the lab datapath from ${lxcIfname} on node ${this.node}: ${res.stderr.trim()}.`,
      );
  }

  /** Replace the whole lxc_endpoints map with these endpoints (one bpftool process). */
  async setEndpoints(eps: readonly DatapathEndpoint[]): Promise<void> {
    const desired = new Map<string, number[]>();
    for (const ep of eps) {
      const e = endpointEntry(ep);
      desired.set(hex(e.key), e.value);
    }
    await this.replaceMap('lxc_endpoints', desired, () => 0);
  }

  /**
   * Replace the whole lb4_services map: for each service, slot 0 holds the backend count and
   * slots 1..n the backends. Backends are written before counts, stale entries deleted last.
   */
  async setServices(svcs: readonly DatapathService[]): Promise<void> {
    const desired = new Map<string, number[]>();
    const seen = new Set<string>();
    svcs.forEach((svc, i) => {
      if (svc.protocol !== 'TCP' && svc.protocol !== 'UDP')
        throw new InfraError(`internal: protocol ${String(svc.protocol)} of ${svc.vip}:${svc.port} is not TCP or UDP.`);
      const id = `${svc.vip}:${svc.port}/${svc.protocol}`;
      if (seen.has(id)) throw new InfraError(`internal: service ${id} is listed twice.`);
      seen.add(id);
      if (svc.backends.length > 255)
        throw new InfraError(`internal: service ${id} has ${svc.backends.length} backends; the lab supports 255.`);
      svc.backends.forEach((b, j) => {
        desired.set(hex(serviceKey(svc.vip, svc.port, svc.protocol, j + 1)), serviceValue(b.ip, b.port, 0, i + 1));
      });
      desired.set(
        hex(serviceKey(svc.vip, svc.port, svc.protocol, 0)),
        serviceValue(null, 0, svc.backends.length, i + 1),
      );
    });
    // Order: backend slots first, then the count slots (last key byte = slot).
    await this.replaceMap('lb4_services', desired, (key) => (key.endsWith(' 00') ? 1 : 0));
  }

  private async replaceMap(
    name: MapName,
    desired: Map<string, number[]>,
    order: (key: string) => number,
  ): Promise<void> {
    const current = await this.dump(name);
    const currentKeys = new Map(current.map((e) => [hex(e.key), hex(e.value)]));
    const cmds: string[] = [];
    const keys = [...desired.keys()].sort((a, b) => order(a) - order(b));
    for (const key of keys) {
      const value = hex(desired.get(key)!);
      if (currentKeys.get(key) === value) continue;
      cmds.push(`map update pinned ${this.mapPin(name)} key hex ${key} value hex ${value}`);
    }
    const stale = [...currentKeys.keys()].filter((k) => !desired.has(k)).sort((a, b) => order(b) - order(a));
    for (const key of stale) cmds.push(`map delete pinned ${this.mapPin(name)} key hex ${key}`);
    if (cmds.length === 0) return;
    await this.bpftool(['batch', 'file', '-'], 'host', `${cmds.join('\n')}\n`);
  }

  /** Raw entries of a pinned map. */
  async dump(name: MapName): Promise<DumpedEntry[]> {
    const res = await this.bpftool(['-j', 'map', 'dump', 'pinned', this.mapPin(name)], 'host', undefined, true);
    return parseDump(res.stdout);
  }

  /** Counts of what is in the maps now (services = slot-0 entries, backends = other slots). */
  async mapCounts(): Promise<MapCounts> {
    const [svc, eps, ct] = await Promise.all([this.dump('lb4_services'), this.dump('lxc_endpoints'), this.dump('ct4')]);
    const services = svc.filter((e) => e.key[7] === 0).length;
    return { services, backends: svc.length - services, endpoints: eps.length, connections: ct.length };
  }

  /** ids of this node's pinned programs. */
  async programIds(): Promise<{ ingress: number; egress: number }> {
    if (this.progIds) return this.progIds;
    const id = async (dir: 'ingress' | 'egress') => {
      const res = await this.bpftool(['-j', 'prog', 'show', 'pinned', this.programPin(dir)], 'host');
      return (JSON.parse(res.stdout) as { id: number }).id;
    };
    this.progIds = { ingress: await id('ingress'), egress: await id('egress') };
    return this.progIds;
  }

  /** What `bpftool net show` reports on tc inside the node netns (the real state). */
  async attachedPrograms(): Promise<AttachedProgram[]> {
    const res = await run(['ip', 'netns', 'exec', this.netns, 'bpftool', '-j', 'net', 'show'], {
      timeoutMs: TIMEOUT_MS,
      where: this.where,
    });
    const ids = this.loaded() ? await this.programIds() : undefined;
    const out: AttachedProgram[] = [];
    const sections = JSON.parse(res.stdout || '[]') as Array<{
      tc?: Array<{ devname: string; ifindex: number; kind: string; name?: string; id: number }>;
    }>;
    for (const section of sections) {
      for (const t of section.tc ?? []) {
        const direction = /egress/.test(t.kind) ? 'egress' : 'ingress';
        out.push({
          interface: t.devname,
          ifindex: t.ifindex,
          direction,
          program: (t.name ?? '').replace(/:\[.*$/, ''),
          id: t.id,
          ours: ids !== undefined && (t.id === ids.ingress || t.id === ids.egress),
        });
      }
    }
    return out;
  }

  /** ifindex → name of the node's interfaces (cached; refresh=true rereads). */
  async interfaceNames(refresh = false): Promise<Map<number, string>> {
    if (refresh || this.ifnames.size === 0) {
      const res = await run(['ip', '-n', this.netns, '-j', 'link', 'show'], {
        timeoutMs: TIMEOUT_MS,
        where: this.where,
      });
      const links = JSON.parse(res.stdout || '[]') as Array<{ ifindex: number; ifname: string }>;
      this.ifnames = new Map(links.map((l) => [l.ifindex, l.ifname]));
    }
    return this.ifnames;
  }

  /** Cached name of an ifindex (no process); undefined when unknown. */
  interfaceName(ifindex: number): string | undefined {
    return this.ifnames.get(ifindex);
  }

  /**
   * Detach from every lxc that carries this node's programs, unpin programs and maps, and unmount
   * the private bpffs. Idempotent, and works from a fresh instance (reads the real state);
   * a node netns that is already gone is fine.
   */
  async unload(): Promise<void> {
    const devices = new Set(this.attached);
    if (this.loaded()) {
      try {
        for (const a of await this.attachedPrograms()) if (a.ours) devices.add(a.interface);
      } catch {
        // The node netns is gone: its interfaces and filters went with it.
      }
    }
    const errors: string[] = [];
    for (const dev of devices) {
      try {
        await this.detach(dev);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (isBpffs(this.bpffs)) {
      rmSync(join(this.bpffs, 'progs'), { recursive: true, force: true });
      rmSync(join(this.bpffs, 'maps'), { recursive: true, force: true });
    }
    this.progIds = undefined;
    await unmountBpffs(this.bpffs);
    if (errors.length) throw new InfraError(`Unloading the lab datapath of node ${this.node}: ${errors.join(' ')}`);
  }

  private async bpftool(args: string[], where: string, input?: string, quietStdout = false): Promise<RunResult> {
    return run(['bpftool', ...args], { timeoutMs: TIMEOUT_MS, where, input, quietStdout });
  }
}
