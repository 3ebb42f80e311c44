/**
 * The eBPF datapath of one lab node, laid out like Cilium's (support/parsers/cilium-programs.ts):
 * lab_lb.c is loaded once per endpoint, each load with its own program array
 * `cilium_calls_<endpoint id>` and the node's shared maps, and attached at tc ingress
 * (`cil_from_container`) and egress (`cil_to_container`) of the endpoint's lxc. Those only
 * tail-call: the endpoint's `cilium_calls` holds the programs that translate
 * (`tail_handle_ipv4`, `tail_ipv4_to_endpoint`) and deliver (`tail_ipv4_policy`), and the node's
 * `cilium_call_policy` holds, at slot <endpoint id>, each endpoint's `cil_lxc_policy` when local
 * redirect is on (the `no-local-redirect` variant leaves it empty, so same-node traffic goes
 * through the stack).
 *
 * Network policy: the node's `cilium_ipcache` (address → security identity) and `lab_policy_ct`,
 * and per endpoint its own `cilium_policy_<endpoint id>` (replaced per load like cilium_calls),
 * written by setIpcache/setPolicy from what support/policy/ resolved.
 *
 * bpffs layout (one private mount per node, pitfall 1: `ip netns exec` hides /sys/fs/bpf):
 *   <bpffs>/maps/{lab_config,lb4_services,lxc_endpoints,ct4,events,cilium_call_policy,lab_pending_ev,
 *                 cilium_ipcache,lab_policy_ct}
 *   <bpffs>/maps/cilium_calls_<EEEEE>      one per endpoint (5-digit endpoint id)
 *   <bpffs>/maps/cilium_policy_<EEEEE>     one per endpoint
 *   <bpffs>/progs/<EEEEE>/<program>         the endpoint's programs
 * The pins keep the program arrays filled: the kernel empties a program array once no file
 * descriptor or pin refers to it, so the pins live as long as the attachment.
 * load() mounts the bpffs on <bpffs> when it is not one already and creates the shared maps;
 * unload() detaches, unpins and unmounts.
 *
 * Tunnel mode (an object built with programOptions tunnel): the node's programs
 * `cil_from_host` (cilium_host egress) and `cil_from_overlay` (cilium_vxlan ingress) are
 * pinned under <bpffs>/progs/overlay with their own <bpffs>/maps/cilium_calls_overlay, and the
 * maps cilium_tunnel_map (each other node's pod CIDR → its IP) and lab_overlay (the devices)
 * are filled by load().
 */
import { existsSync, mkdirSync, readdirSync, rmdirSync, rmSync, statfsSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { InfraError } from '../../../errors.ts';
import { type RunResult, run } from '../../../exec/index.ts';
import { CILIUM_CALL, LXC_HOOK_PROGRAMS } from '../../../parsers/cilium-programs.ts';
import { inNetns } from '../netns-exec.ts';

/** BPF_FS_MAGIC from linux/magic.h. */
const BPF_FS_MAGIC = 0xcafe4a11;
const TIMEOUT_MS = 15_000;

/** Programs at the lxc hook (Cilium's names). */
export const PROGRAM_NAMES = LXC_HOOK_PROGRAMS;
/** An endpoint's entry in cilium_call_policy. */
export const POLICY_PROGRAM = 'cil_lxc_policy';
/** What each endpoint's cilium_calls holds: slot → program (lab_lb.c's CILIUM_CALL_* slots). */
export const TAIL_CALLS: ReadonlyArray<{ slot: number; program: string }> = [
  { slot: CILIUM_CALL.IPV4_FROM_LXC, program: 'tail_handle_ipv4' },
  { slot: CILIUM_CALL.IPV4_TO_LXC_POLICY_ONLY, program: 'tail_ipv4_policy' },
  { slot: CILIUM_CALL.IPV4_TO_ENDPOINT, program: 'tail_ipv4_to_endpoint' },
];
/** max_entries of cilium_calls (lab_lb.c's CILIUM_CALL_SIZE; a mismatch fails the load). */
export const CALLS_MAP_SIZE = 48;
/** The endpoint's own program array, replaced in each per-endpoint load. */
const CALLS_MAP = 'cilium_calls';
/** The endpoint's own policy map, replaced in each per-endpoint load. */
const POLICY_MAP = 'cilium_policy';
/** max_entries of an endpoint's policy map (lab_lb.c's cilium_policy). */
const POLICY_MAP_SIZE = 16384;
/** Maps shared by all endpoints of a node. */
export const MAP_NAMES = [
  'lab_config',
  'lb4_services',
  'lxc_endpoints',
  'ct4',
  'events',
  'cilium_call_policy',
  'lab_pending_ev',
  'cilium_ipcache',
  'lab_policy_ct',
] as const;
/** Maps only a tunnel-mode object has (lab_lb.c's LAB_TUNNEL section). */
export const TUNNEL_MAP_NAMES = ['cilium_tunnel_map', 'lab_overlay'] as const;
export type MapName = (typeof MAP_NAMES)[number] | (typeof TUNNEL_MAP_NAMES)[number];

/** Tunnel-mode programs on the node's own devices (Cilium's names and hooks). */
export const OVERLAY_PROGRAMS = [
  { program: 'cil_from_host', ifname: 'cilium_host', direction: 'egress' },
  { program: 'cil_from_overlay', ifname: 'cilium_vxlan', direction: 'ingress' },
] as const;
/** The VXLAN device of tunnel mode. */
export const VXLAN_DEVICE = 'cilium_vxlan';
/** Where the node's own (non-endpoint) programs are pinned, under progs/. */
const OVERLAY_DIR = 'overlay';

/** Cilium's 5-digit form of an endpoint id (`cilium_calls_01573`). */
export function endpointKey(endpointId: number): string {
  if (!Number.isInteger(endpointId) || endpointId < 1 || endpointId > 0xffff)
    throw new InfraError(`internal: endpoint id ${endpointId} is not between 1 and 65535.`);
  return String(endpointId).padStart(5, '0');
}

/** Flags of the lab_config map (see lab_lb.c). */
export const LAB_F_TRACE = 0x1;
export const LAB_F_LOCAL_REDIRECT = 0x2;
export const LAB_F_POLICY = 0x4;

/** Directions of a policy map key (lab_lb.c's POLICY_INGRESS/POLICY_EGRESS, Cilium's numbers). */
export const POLICY_DIR = { ingress: 1, egress: 2 } as const;
/** Protocol of the key that marks a direction no policy selects (lab_lb.c). */
export const POLICY_PROTO_NOT_ENFORCED = 0xff;

/** One entry of an endpoint's policy map; 0 in identity, port or protocol is a wildcard. */
export interface PolicyMapEntry {
  identity: number;
  port: number;
  /** IP protocol number (6 TCP, 17 UDP; 0 any; POLICY_PROTO_NOT_ENFORCED). */
  proto: number;
  direction: keyof typeof POLICY_DIR;
}

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
  /** Enforce network policy (default true; false: the `no-policy` variant). */
  policy?: boolean;
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
  /** Tunnel mode: the other nodes' pod CIDRs and IPs (the object must be built for tunnel mode). */
  tunnel?: { peers: ReadonlyArray<{ podCIDR: string; nodeIP: string }> };
}

export interface AttachedProgram {
  interface: string;
  ifindex: number;
  direction: 'ingress' | 'egress';
  /** Program name as the kernel reports it, without tc's `:[*fsobj]` suffix. */
  program: string;
  id: number;
  /** True when the program is one of this node's pinned endpoint programs. */
  ours: boolean;
}

/** Where a lab endpoint's programs go: its lxc and its endpoint id. */
export interface EndpointAttachment {
  ifname: string;
  endpointId: number;
}

/** A program pinned under this node's bpffs. */
export interface PinnedProgram {
  id: number;
  endpointId: number;
  program: string;
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

/** A host-order u32 map key or value. */
function u32(bytes: readonly number[]): number {
  const b = LE ? bytes.slice(0, 4) : bytes.slice(0, 4).reverse();
  return ((b[0] ?? 0) | ((b[1] ?? 0) << 8) | ((b[2] ?? 0) << 16) | ((b[3] ?? 0) << 24)) >>> 0;
}

const PROTO = { TCP: 6, UDP: 17 } as const;

export function hex(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** cilium_ipcache entry: key address (be32), value sec_identity(u32) pad(u32). */
export function ipcacheEntry(ip: string, identity: number): { key: number[]; value: number[] } {
  return { key: ipv4Bytes(ip, 'address'), value: [...host32(identity, 'identity'), 0, 0, 0, 0] };
}

/** cilium_policy key: sec_identity(u32) dport(be16) proto(u8) dir(u8); value: packets(u64). */
export function policyKey(e: PolicyMapEntry): number[] {
  if (!Number.isInteger(e.proto) || e.proto < 0 || e.proto > 255)
    throw new InfraError(`internal: protocol ${e.proto} is not an IP protocol number.`);
  return [...host32(e.identity, 'identity'), ...be16(e.port, 'policy port'), e.proto, POLICY_DIR[e.direction]];
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

/** cilium_tunnel_map key (LPM trie): prefix length (host u32), network address (be32). */
export function tunnelKey(cidr: string): number[] {
  const [ip, bits] = cidr.split('/');
  const n = Number(bits);
  if (!ip || !Number.isInteger(n) || n < 0 || n > 32) throw new InfraError(`internal: "${cidr}" is not an IPv4 CIDR.`);
  return [...host32(n, 'prefix length'), ...ipv4Bytes(ip, 'pod CIDR')];
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
  readonly tunnel: NodeDatapathConfig['tunnel'];
  /** lxc → endpoint id of what this instance attached. */
  private readonly attached = new Map<string, number>();
  private ifnames = new Map<number, string>();

  constructor(cfg: NodeDatapathConfig) {
    this.node = cfg.node;
    this.netns = cfg.netns;
    this.bpffs = cfg.bpffs;
    this.objectPath = cfg.objectPath;
    this.options = {
      localRedirect: cfg.options.localRedirect,
      trace: cfg.options.trace ?? true,
      policy: cfg.options.policy ?? true,
    };
    this.tunnel = cfg.tunnel;
    if (/\s/.test(cfg.bpffs)) throw new InfraError(`internal: the bpffs path "${cfg.bpffs}" contains whitespace.`);
  }

  get where(): string {
    return `node ${this.node}`;
  }

  /** Pin of one of an endpoint's programs (`<bpffs>/progs/01573/cil_from_container`). */
  programPin(endpointId: number, program: string): string {
    return join(this.bpffs, 'progs', endpointKey(endpointId), program);
  }

  /** Pin of an endpoint's own policy map (`<bpffs>/maps/cilium_policy_01573`). */
  policyMapPin(endpointId: number): string {
    return join(this.bpffs, 'maps', `${POLICY_MAP}_${endpointKey(endpointId)}`);
  }

  /** Pin of an endpoint's own program array (`<bpffs>/maps/cilium_calls_01573`). */
  callsMapPin(endpointId: number): string {
    return join(this.bpffs, 'maps', `${CALLS_MAP}_${endpointKey(endpointId)}`);
  }

  mapPin(name: MapName): string {
    return join(this.bpffs, 'maps', name);
  }

  /** The maps every program of this node shares (the tunnel's too in tunnel mode). */
  private get sharedMaps(): readonly MapName[] {
    return this.tunnel ? [...MAP_NAMES, ...TUNNEL_MAP_NAMES] : MAP_NAMES;
  }

  /** Pinned perf event array the trace stream reads (one reader at a time — pitfall 12). */
  get eventsMapPath(): string {
    return this.mapPin('events');
  }

  /** The node's shared maps exist (load() ran). */
  loaded(): boolean {
    return (
      isBpffs(this.bpffs) && existsSync(this.mapPin('lab_config')) && existsSync(this.mapPin('cilium_call_policy'))
    );
  }

  /** Endpoint ids whose programs are pinned on this node (read from the bpffs). */
  loadedEndpoints(): number[] {
    const dir = join(this.bpffs, 'progs');
    if (!isBpffs(this.bpffs) || !existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((d) => /^\d{5}$/.test(d))
      .map(Number)
      .sort((a, b) => a - b);
  }

  /**
   * Mount the node's private bpffs (when not mounted yet), create the shared maps from the
   * object (one load whose programs are dropped again: it also proves the verifier accepts
   * them before any pod depends on it), and write the config flags. Idempotent.
   */
  async load(): Promise<void> {
    await mountBpffs(this.bpffs);
    if (!this.loaded()) {
      if (!existsSync(this.objectPath))
        throw new InfraError(`internal: the lab datapath object ${this.objectPath} does not exist (compile it first).`);
      const template = join(this.bpffs, 'template');
      const res = await run(
        [
          'bpftool',
          'prog',
          'loadall',
          this.objectPath,
          template,
          'type',
          'classifier',
          'pinmaps',
          join(this.bpffs, 'maps'),
        ],
        { timeoutMs: 30_000, where: 'host', check: false },
      );
      rmSync(template, { recursive: true, force: true });
      // The template's own cilium_calls and cilium_policy: every endpoint gets its own.
      rmSync(join(this.bpffs, 'maps', CALLS_MAP), { force: true });
      rmSync(join(this.bpffs, 'maps', POLICY_MAP), { force: true });
      if (res.exitCode !== 0) {
        rmSync(join(this.bpffs, 'maps'), { recursive: true, force: true });
        throw this.rejected(res, 'bpftool prog loadall');
      }
    }
    await this.setFlags({});
    if (this.tunnel) await this.loadOverlay(this.tunnel.peers);
  }

  /**
   * Tunnel mode: fill cilium_tunnel_map and lab_overlay, load the node's own programs and attach
   * cil_from_host to cilium_host egress and cil_from_overlay to cilium_vxlan ingress. Idempotent.
   */
  private async loadOverlay(peers: ReadonlyArray<{ podCIDR: string; nodeIP: string }>): Promise<void> {
    const links = await run(['ip', '-n', this.netns, '-j', 'link', 'show'], {
      timeoutMs: TIMEOUT_MS,
      where: this.where,
    });
    const byName = new Map(
      (JSON.parse(links.stdout || '[]') as Array<{ ifname: string; ifindex: number; address?: string }>).map((l) => [
        l.ifname,
        l,
      ]),
    );
    const vxlan = byName.get(VXLAN_DEVICE);
    const host = byName.get('cilium_host');
    if (!vxlan || !host?.address)
      throw new InfraError(
        `internal: node ${this.node} has no ${vxlan ? 'cilium_host' : VXLAN_DEVICE} device for the tunnel datapath.`,
      );
    const calls = join(this.bpffs, 'maps', `${CALLS_MAP}_${OVERLAY_DIR}`);
    const progs = join(this.bpffs, 'progs', OVERLAY_DIR);
    if (!existsSync(join(progs, OVERLAY_PROGRAMS[0].program))) {
      rmSync(progs, { recursive: true, force: true });
      rmSync(calls, { force: true });
      mkdirSync(join(this.bpffs, 'progs'), { recursive: true });
      await this.createCallsMap(calls, `${CALLS_MAP}_${OVERLAY_DIR}`);
      const shared = this.sharedMaps.flatMap((m) => ['map', 'name', m, 'pinned', this.mapPin(m)]);
      const res = await run(
        ['bpftool', 'prog', 'loadall', this.objectPath, progs, 'type', 'classifier']
          .concat(['map', 'name', CALLS_MAP, 'pinned', calls])
          .concat(shared),
        { timeoutMs: 30_000, where: 'host', check: false },
      );
      if (res.exitCode !== 0) {
        rmSync(progs, { recursive: true, force: true });
        rmSync(calls, { force: true });
        throw this.rejected(res, 'bpftool prog loadall of the overlay programs');
      }
    }
    const overlay = [
      ...host32(vxlan.ifindex, 'ifindex'),
      ...host32(host.ifindex, 'ifindex'),
      ...macBytes(host.address, 'cilium_host MAC'),
      0,
      0,
    ];
    const cmds = [`map update pinned ${this.mapPin('lab_overlay')} key hex 00 00 00 00 value hex ${hex(overlay)}`];
    // Each other node's pod CIDR, and its own IP: as in Cilium's ipcache, a pod's packets for
    // another node (a NodePort there) take the tunnel too, so the replies that come back through
    // the tunnel meet a connection that never passed this node's conntrack either.
    const entries = peers.flatMap((p) => [
      { cidr: p.podCIDR, node: p.nodeIP },
      { cidr: `${p.nodeIP}/32`, node: p.nodeIP },
    ]);
    for (const e of entries)
      cmds.push(
        `map update pinned ${this.mapPin('cilium_tunnel_map')} key hex ${hex(tunnelKey(e.cidr))} value hex ${hex(ipv4Bytes(e.node, 'node IP'))}`,
      );
    await this.bpftool(['batch', 'file', '-'], 'host', `${cmds.join('\n')}\n`);
    const lines = OVERLAY_PROGRAMS.flatMap((o) => [
      `qdisc replace dev ${o.ifname} clsact`,
      `filter replace dev ${o.ifname} ${o.direction} pref 1 handle 1 bpf da pinned ${join(progs, o.program)}`,
    ]);
    const tc = await run(['tc', '-n', this.netns, '-batch', '-'], {
      timeoutMs: TIMEOUT_MS,
      where: this.where,
      input: `${lines.join('\n')}\n`,
      check: false,
    });
    if (tc.exitCode !== 0)
      throw new InfraError(
        `Could not attach the tunnel datapath to cilium_host and ${VXLAN_DEVICE} on node ${this.node}: ${(tc.stderr || tc.stdout).trim()}.`,
      );
  }

  /** Remove the tunnel programs from cilium_host and cilium_vxlan (missing devices are fine). */
  private async detachOverlay(): Promise<void> {
    for (const dev of new Set(OVERLAY_PROGRAMS.map((o) => o.ifname))) {
      const res = await run(['tc', '-n', this.netns, 'qdisc', 'del', 'dev', dev, 'clsact'], {
        timeoutMs: TIMEOUT_MS,
        where: this.where,
        check: false,
      });
      if (
        res.exitCode !== 0 &&
        !/Cannot find device|Invalid handle|No such file|Cannot open network namespace|Cannot find specified qdisc/i.test(
          res.stderr,
        )
      )
        throw new InfraError(
          `Could not detach the tunnel datapath from ${dev} on node ${this.node}: ${res.stderr.trim()}.`,
        );
    }
  }

  private rejected(res: RunResult, what: string): InfraError {
    const tail = (res.stderr || res.stdout).trim().split('\n').slice(-8).join(' | ');
    return new InfraError(
      `The kernel rejected the lab datapath ${this.objectPath} for node ${this.node} (${what} exit ${res.exitCode}): ${tail}.`,
      { hint: 'The verifier log is in the transcript of this command.' },
    );
  }

  /**
   * Load an endpoint's programs (once): its own cilium_calls, the object's programs with the
   * node's shared maps, and the tail-call slots filled. Idempotent.
   */
  async loadEndpoint(endpointId: number): Promise<void> {
    if (!this.loaded()) throw new InfraError(`internal: endpoint ${endpointId} on node ${this.node} before load().`);
    const calls = this.callsMapPin(endpointId);
    const progs = join(this.bpffs, 'progs', endpointKey(endpointId));
    const policy = this.policyMapPin(endpointId);
    if (existsSync(calls) && existsSync(policy) && existsSync(join(progs, PROGRAM_NAMES.ingress))) return;
    rmSync(progs, { recursive: true, force: true });
    rmSync(calls, { force: true });
    rmSync(policy, { force: true });
    mkdirSync(join(this.bpffs, 'progs'), { recursive: true });
    const name = `${CALLS_MAP}_${endpointKey(endpointId)}`;
    // The kernel keeps 15 characters of the name (cilium_calls_01), as it does for Cilium's.
    await this.createCallsMap(calls, name);
    // Until the agent side writes the endpoint's policy, both directions are not enforced.
    await this.bpftool(
      [
        'map',
        'create',
        policy,
        'type',
        'hash',
        'key',
        '8',
        'value',
        '8',
        'entries',
        String(POLICY_MAP_SIZE),
        'name',
        `${POLICY_MAP}_${endpointKey(endpointId)}`,
      ],
      'host',
    );
    await this.writePolicy(endpointId, { enforced: [], entries: [] });
    const shared = this.sharedMaps.flatMap((m) => ['map', 'name', m, 'pinned', this.mapPin(m)]);
    const res = await run(
      [
        'bpftool',
        'prog',
        'loadall',
        this.objectPath,
        progs,
        'type',
        'classifier',
        'map',
        'name',
        CALLS_MAP,
        'pinned',
        calls,
        'map',
        'name',
        POLICY_MAP,
        'pinned',
        policy,
        ...shared,
      ],
      { timeoutMs: 30_000, where: 'host', check: false },
    );
    if (res.exitCode !== 0) {
      rmSync(progs, { recursive: true, force: true });
      rmSync(calls, { force: true });
      rmSync(policy, { force: true });
      throw this.rejected(res, `bpftool prog loadall for endpoint ${endpointId}`);
    }
    const fill = TAIL_CALLS.map(
      (t) =>
        `map update pinned ${calls} key hex ${hex(host32(t.slot, 'slot'))} value pinned ${this.programPin(endpointId, t.program)}`,
    );
    await this.bpftool(['batch', 'file', '-'], 'host', `${fill.join('\n')}\n`);
  }

  /** Remove an endpoint's programs, its cilium_calls and its cilium_call_policy slot. */
  async unloadEndpoint(endpointId: number): Promise<void> {
    if (this.loaded()) await this.setPolicySlots(new Set(), [endpointId]);
    rmSync(join(this.bpffs, 'progs', endpointKey(endpointId)), { recursive: true, force: true });
    rmSync(this.callsMapPin(endpointId), { force: true });
    rmSync(this.policyMapPin(endpointId), { force: true });
  }

  /**
   * Replace an endpoint's policy map: the entries of the directions it enforces; a direction not
   * enforced gets the marker key that allows everything (one bpftool process).
   */
  async setPolicy(
    endpointId: number,
    policy: { enforced: ReadonlyArray<keyof typeof POLICY_DIR>; entries: readonly PolicyMapEntry[] },
  ): Promise<void> {
    if (!existsSync(this.policyMapPin(endpointId))) return;
    await this.writePolicy(endpointId, policy);
  }

  private async writePolicy(
    endpointId: number,
    policy: { enforced: ReadonlyArray<keyof typeof POLICY_DIR>; entries: readonly PolicyMapEntry[] },
  ): Promise<void> {
    const desired = new Map<string, number[]>();
    const full = policy.entries.filter((e) => policy.enforced.includes(e.direction));
    for (const direction of ['ingress', 'egress'] as const)
      if (!policy.enforced.includes(direction))
        full.push({ identity: 0, port: 0, proto: POLICY_PROTO_NOT_ENFORCED, direction });
    for (const e of full) desired.set(hex(policyKey(e)), [0, 0, 0, 0, 0, 0, 0, 0]);
    await this.replacePinned(this.policyMapPin(endpointId), desired, () => 0, true);
  }

  /** The entries of an endpoint's policy map (with their packet counters). */
  async policyEntries(endpointId: number): Promise<Array<PolicyMapEntry & { packets: number }>> {
    const res = await this.bpftool(['-j', 'map', 'dump', 'pinned', this.policyMapPin(endpointId)], 'host');
    return parseDump(res.stdout).map((e) => ({
      identity: u32(e.key),
      port: ((e.key[4] ?? 0) << 8) | (e.key[5] ?? 0),
      proto: e.key[6] ?? 0,
      direction: e.key[7] === POLICY_DIR.egress ? 'egress' : 'ingress',
      packets: u32(e.value),
    }));
  }

  /** Replace the node's cilium_ipcache (address → security identity). */
  async setIpcache(entries: ReadonlyArray<{ ip: string; identity: number }>): Promise<void> {
    const desired = new Map<string, number[]>();
    for (const e of entries) {
      const x = ipcacheEntry(e.ip, e.identity);
      desired.set(hex(x.key), x.value);
    }
    await this.replaceMap('cilium_ipcache', desired, () => 0);
  }

  /** Forget the connections policy allowed (a changed policy decides new packets afresh). */
  async flushPolicyConnections(): Promise<void> {
    const entries = await this.dump('lab_policy_ct');
    if (entries.length === 0) return;
    const cmds = entries.map((e) => `map delete pinned ${this.mapPin('lab_policy_ct')} key hex ${hex(e.key)}`);
    await this.bpftool(['batch', 'file', '-'], 'host', `${cmds.join('\n')}\n`);
  }

  /** Endpoint ids that have a program in cilium_call_policy. */
  async policySlots(): Promise<number[]> {
    const entries = await this.dump('cilium_call_policy');
    return entries.map((e) => u32(e.key)).sort((a, b) => a - b);
  }

  /**
   * Make cilium_call_policy hold `want` for the given endpoints: endpoints in `want` get their
   * cil_lxc_policy, the others of `endpoints` lose their slot.
   */
  private async setPolicySlots(want: ReadonlySet<number>, endpoints: readonly number[]): Promise<void> {
    // Only a slot to empty needs reading first (a batch stops at a delete of a missing key), and
    // it is looked up alone: a dump walks all 65 536 slots (0.3–0.6 s here).
    const emptying = endpoints.filter((id) => !want.has(id));
    const filled = await Promise.all(emptying.map((id) => this.hasPolicySlot(id)));
    const present = new Set(emptying.filter((_, i) => filled[i]));
    const cmds: string[] = [];
    for (const id of endpoints) {
      const key = hex(host32(id, 'endpoint id'));
      if (want.has(id))
        cmds.push(
          `map update pinned ${this.mapPin('cilium_call_policy')} key hex ${key} value pinned ${this.programPin(id, POLICY_PROGRAM)}`,
        );
      else if (present.has(id)) cmds.push(`map delete pinned ${this.mapPin('cilium_call_policy')} key hex ${key}`);
    }
    if (cmds.length) await this.bpftool(['batch', 'file', '-'], 'host', `${cmds.join('\n')}\n`);
  }

  /** Whether an endpoint's cilium_call_policy slot holds a program (bpftool answers a missing key with exit 254). */
  private async hasPolicySlot(endpointId: number): Promise<boolean> {
    const key = hex(host32(endpointId, 'endpoint id')).split(' ');
    const res = await run(
      ['bpftool', 'map', 'lookup', 'pinned', this.mapPin('cilium_call_policy'), 'key', 'hex', ...key],
      {
        timeoutMs: TIMEOUT_MS,
        where: 'host',
        check: false,
      },
    );
    if (res.exitCode === 0) return true;
    if (/Not found/.test(res.stdout + res.stderr)) return false;
    throw new InfraError(
      `Could not read endpoint ${endpointId}'s cilium_call_policy slot on node ${this.node} (bpftool map lookup exit ${res.exitCode}): ${(res.stderr || res.stdout).trim()}.`,
    );
  }

  /**
   * Rewrite the config flags (trace, local redirect); omitted fields keep their value. Local
   * redirect also fills or empties cilium_call_policy for the loaded endpoints.
   */
  async setFlags(change: Partial<DatapathOptions>): Promise<void> {
    if (change.localRedirect !== undefined) this.options.localRedirect = change.localRedirect;
    if (change.trace !== undefined) this.options.trace = change.trace;
    if (change.policy !== undefined) this.options.policy = change.policy;
    const flags =
      (this.options.trace ? LAB_F_TRACE : 0) |
      (this.options.localRedirect ? LAB_F_LOCAL_REDIRECT : 0) |
      (this.options.policy ? LAB_F_POLICY : 0);
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
    const eps = this.loadedEndpoints();
    await this.setPolicySlots(new Set(this.options.localRedirect ? eps : []), eps);
  }

  /** Read the flags really in the config map. */
  async readFlags(): Promise<{ trace: boolean; localRedirect: boolean; policy: boolean }> {
    const entries = await this.dump('lab_config');
    const v = entries[0]?.value ?? [0, 0, 0, 0];
    const flags = LE ? v[0]! | (v[1]! << 8) : v[3]! | (v[2]! << 8);
    return {
      trace: (flags & LAB_F_TRACE) !== 0,
      localRedirect: (flags & LAB_F_LOCAL_REDIRECT) !== 0,
      policy: (flags & LAB_F_POLICY) !== 0,
    };
  }

  /** Load an endpoint's programs and attach them to its lxc (replaces earlier filters). */
  async attach(ep: EndpointAttachment): Promise<void> {
    await this.attachAll([ep]);
  }

  /**
   * attach() for several endpoints: their programs loaded, cil_from_container at tc ingress and
   * cil_to_container at tc egress of each lxc (one tc process), and, with local redirect, their
   * cil_lxc_policy in cilium_call_policy.
   */
  async attachAll(eps: readonly EndpointAttachment[]): Promise<void> {
    if (eps.length === 0) return;
    if (!this.loaded()) throw new InfraError(`internal: attach on node ${this.node} before load().`);
    const lines: string[] = [];
    for (const { ifname: dev, endpointId } of eps) {
      if (!/^[\w.@-]{1,15}$/.test(dev)) throw new InfraError(`internal: "${dev}" is not an interface name.`);
      await this.loadEndpoint(endpointId);
      lines.push(`qdisc replace dev ${dev} clsact`);
      lines.push(
        `filter replace dev ${dev} ingress pref 1 handle 1 bpf da pinned ${this.programPin(endpointId, PROGRAM_NAMES.ingress)}`,
      );
      lines.push(
        `filter replace dev ${dev} egress pref 1 handle 1 bpf da pinned ${this.programPin(endpointId, PROGRAM_NAMES.egress)}`,
      );
    }
    const res = await run(['tc', '-n', this.netns, '-batch', '-'], {
      timeoutMs: TIMEOUT_MS,
      where: this.where,
      input: `${lines.join('\n')}\n`,
      check: false,
    });
    if (res.exitCode !== 0)
      throw new InfraError(
        `Could not attach the lab datapath to ${eps.map((e) => e.ifname).join(', ')} on node ${this.node}: ${(res.stderr || res.stdout).trim()}.`,
      );
    for (const e of eps) this.attached.set(e.ifname, e.endpointId);
    const ids = eps.map((e) => e.endpointId);
    await this.setPolicySlots(new Set(this.options.localRedirect ? ids : []), ids);
  }

  /**
   * Remove the clsact qdisc (and with it both programs) from an lxc, then the endpoint's
   * programs and slots. Missing device or qdisc is fine; works from a fresh instance (the
   * endpoint is found through the program attached there).
   */
  async detach(lxcIfname: string): Promise<void> {
    let endpointId = this.attached.get(lxcIfname);
    if (endpointId === undefined && this.loaded()) {
      try {
        const on = (await this.attachedPrograms()).find((a) => a.interface === lxcIfname && a.ours);
        if (on) endpointId = (await this.programIds()).get(on.id)?.endpointId;
      } catch {
        // The node netns is gone: nothing is attached any more.
      }
    }
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
    if (endpointId !== undefined) await this.unloadEndpoint(endpointId);
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
    await this.replacePinned(this.mapPin(name), desired, order);
  }

  /** keepValues: an existing key keeps its value (a counter), only missing keys are written. */
  private async replacePinned(
    pin: string,
    desired: Map<string, number[]>,
    order: (key: string) => number,
    keepValues = false,
  ): Promise<void> {
    const res = await this.bpftool(['-j', 'map', 'dump', 'pinned', pin], 'host', undefined, true);
    const current = parseDump(res.stdout);
    const currentKeys = new Map(current.map((e) => [hex(e.key), hex(e.value)]));
    const cmds: string[] = [];
    const keys = [...desired.keys()].sort((a, b) => order(a) - order(b));
    for (const key of keys) {
      const value = hex(desired.get(key)!);
      if (currentKeys.get(key) === value || (keepValues && currentKeys.has(key))) continue;
      cmds.push(`map update pinned ${pin} key hex ${key} value hex ${value}`);
    }
    const stale = [...currentKeys.keys()].filter((k) => !desired.has(k)).sort((a, b) => order(b) - order(a));
    for (const key of stale) cmds.push(`map delete pinned ${pin} key hex ${key}`);
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

  /** This node's pinned programs by id (one `bpftool -f prog show`, which lists pin paths). */
  async programIds(): Promise<Map<number, PinnedProgram>> {
    const out = new Map<number, PinnedProgram>();
    if (!this.loaded()) return out;
    const res = await run(['bpftool', '-j', '-f', 'prog', 'show'], {
      timeoutMs: TIMEOUT_MS,
      where: 'host',
      quietStdout: true,
      check: false,
    });
    const prefix = `${join(this.bpffs, 'progs')}/`;
    if (res.exitCode !== 0) {
      // `-f` walks every bpffs of the machine (another lab's may vanish meanwhile): ask per pin.
      for (const endpointId of this.loadedEndpoints()) {
        const dir = join(this.bpffs, 'progs', endpointKey(endpointId));
        for (const program of readdirSync(dir)) {
          const one = await this.bpftool(['-j', 'prog', 'show', 'pinned', join(dir, program)], 'host');
          const id = (JSON.parse(one.stdout) as { id: number }).id;
          out.set(id, { id, endpointId, program });
        }
      }
      return out;
    }
    for (const p of JSON.parse(res.stdout || '[]') as Array<{ id: number; pinned?: string[] }>) {
      for (const pin of p.pinned ?? []) {
        if (!pin.startsWith(prefix)) continue;
        const [dir, program] = pin.slice(prefix.length).split('/');
        if (dir && program && /^\d{5}$/.test(dir)) out.set(p.id, { id: p.id, endpointId: Number(dir), program });
      }
    }
    return out;
  }

  /** What `bpftool net show` reports on tc inside the node netns (the real state). */
  async attachedPrograms(): Promise<AttachedProgram[]> {
    const res = await run(inNetns(this.netns, ['bpftool', '-j', 'net', 'show']), {
      timeoutMs: TIMEOUT_MS,
      where: this.where,
    });
    const ids = await this.programIds();
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
          ours: ids.has(t.id),
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
    const devices = new Set(this.attached.keys());
    if (this.loaded()) {
      try {
        for (const a of await this.attachedPrograms()) if (a.ours) devices.add(a.interface);
      } catch {
        // The node netns is gone: its interfaces and filters went with it.
      }
    }
    const errors: string[] = [];
    if (this.tunnel) await this.detachOverlay().catch((err: Error) => errors.push(err.message));
    for (const dev of devices) {
      try {
        await this.detach(dev);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
    if (isBpffs(this.bpffs)) {
      for (const dir of ['progs', 'maps', 'template']) rmSync(join(this.bpffs, dir), { recursive: true, force: true });
    }
    await unmountBpffs(this.bpffs);
    if (errors.length) throw new InfraError(`Unloading the lab datapath of node ${this.node}: ${errors.join(' ')}`);
  }

  /** A tail-call map (prog_array) pinned at `pin`; the kernel keeps 15 characters of the name, as for Cilium's. */
  private async createCallsMap(pin: string, name: string): Promise<void> {
    const args = ['map', 'create', pin, 'type', 'prog_array', 'key', '4', 'value', '4', 'entries'];
    await this.bpftool([...args, String(CALLS_MAP_SIZE), 'name', name], 'host');
  }

  private async bpftool(args: string[], where: string, input?: string, quietStdout = false): Promise<RunResult> {
    return run(['bpftool', ...args], { timeoutMs: TIMEOUT_MS, where, input, quietStdout });
  }
}
