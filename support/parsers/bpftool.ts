/**
 * bpftool → where programs hang, what they call and where they tail-call.
 *   - `bpftool net show` text and `-j` JSON, both attachment styles: clsact
 *     (`clsact/ingress bpf_lxc.o:[from-container] id 242` before Cilium 1.13,
 *     `cil_from_container-lxc… id 2832` after, `cil_from_container:[*fsobj] id 583` for a program
 *     tc attached from a pin, as the lab does) and tcx (`tcx/ingress cil_from_container prog_id N
 *     link_id M`, Cilium ≥ 1.16 on kernels ≥ 6.6; bookworm's bpftool 7.1 does not list it), xdp;
 *     `tc filter show` bpf lines are accepted too (interface unknown there).
 *   - `bpftool prog show` text (TAB-indented continuation lines, `pinned` with `-f`) and `-j`.
 *   - `bpftool map show`/`map list` text and `-j`; `bpftool map dump` of a program array.
 *   - `bpftool prog dump xlated` → helper calls (`call bpf_redirect#23` → `bpf_redirect`), also
 *     found inside verifier logs (`msg="2179: (85) call bpf_redirect#23"`), tail calls with their
 *     program array and slot (`r2 = map[id:313]`, `r3 = 7`, `call bpf_tail_call#12`), and `-j`.
 */

export interface BpfAttachment {
  interface: string | null;
  ifindex: number | null;
  hook: 'tc' | 'tcx' | 'xdp' | 'flow_dissector' | 'netfilter' | 'other';
  direction: 'ingress' | 'egress' | null;
  /** Program name without any `:[section]` suffix (and without the `-<ifname>` suffix of 1.13–1.15 tc names). */
  program: string;
  /** Legacy object/section form `bpf_lxc.o:[from-container]`; null for named programs. */
  object: string | null;
  /** ELF section of the legacy form (`from-container`). */
  section: string | null;
  /** Program id (`id N` / `prog_id N`). */
  id: number | null;
  linkId: number | null;
  /** xdp mode (`driver`, `generic`, `offload`) when listed under xdp. */
  mode: string | null;
  raw: string;
}

export interface BpftoolNet {
  attachments: BpfAttachment[];
  unknownLines: Array<{ line: number; text: string }>;
}

function num(s: string | undefined | null): number | null {
  if (s === undefined || s === null || !/^\d+$/.test(s)) return null;
  return Number(s);
}

function splitProgram(name: string, iface: string | null): Pick<BpfAttachment, 'program' | 'object' | 'section'> {
  const sec = name.indexOf(':[');
  if (sec >= 0 && name.endsWith(']')) {
    return { program: name.slice(0, sec), object: name, section: name.slice(sec + 2, -1) };
  }
  const program = iface && name.endsWith(`-${iface}`) ? name.slice(0, -(iface.length + 1)) : name;
  return { program, object: null, section: null };
}

function hookOf(kind: string, section: string): { hook: BpfAttachment['hook']; direction: BpfAttachment['direction'] } {
  const slash = kind.indexOf('/');
  const prefix = slash >= 0 ? kind.slice(0, slash) : kind;
  const dirText = slash >= 0 ? kind.slice(slash + 1) : '';
  const direction = dirText === 'ingress' || dirText === 'egress' ? dirText : null;
  if (section === 'xdp') return { hook: 'xdp', direction: null };
  if (prefix === 'tcx') return { hook: 'tcx', direction };
  if (prefix === 'clsact' || prefix === 'ingress' || prefix === 'egress' || section === 'tc')
    return { hook: 'tc', direction: direction ?? (prefix === 'ingress' || prefix === 'egress' ? prefix : null) };
  if (section === 'flow_dissector') return { hook: 'flow_dissector', direction: null };
  if (section === 'netfilter') return { hook: 'netfilter', direction: null };
  return { hook: 'other', direction };
}

const NET_LINE = /^(\S+?)\((\d+)\)\s+(\S+)\s+(.*)$/;
const TC_FILTER = /^filter .*\bbpf\b.*?\s(\S+)\s+direct-action.*?\bid (\d+)/;

/** `bpftool net show` (text or `-j` JSON) → attachments. */
export function parseBpftoolNet(text: string): BpftoolNet {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    try {
      const data: unknown = JSON.parse(trimmed);
      if (jsonError(data) !== null) return { attachments: [], unknownLines: failed(trimmed) };
      return { attachments: fromNetJson(data), unknownLines: [] };
    } catch {
      // not JSON after all: fall through to the text reader
    }
  }
  const attachments: BpfAttachment[] = [];
  const unknownLines: Array<{ line: number; text: string }> = [];
  let section = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const line = raw.trim();
    if (!line) continue;
    const sec = /^(xdp|tc|flow_dissector|netfilter|netkit|sk_lookup):$/.exec(line);
    if (sec) {
      section = sec[1]!;
      continue;
    }
    const m = NET_LINE.exec(line);
    if (m && section) {
      const iface = m[1]!;
      const kind = m[3]!;
      const rest = m[4]!;
      const words = rest.split(/\s+/);
      let name = kind;
      let mode: string | null = null;
      let hookKind = kind;
      if (section === 'xdp') {
        // eth0(2) driver id 123  |  eth0(2) generic name prog id 12
        mode = kind;
        name = words[0] === 'id' || words[0] === 'prog_id' ? '' : words[0]!;
        hookKind = 'xdp';
      } else name = words[0] === 'id' || words[0] === 'prog_id' ? '' : words[0]!; // a program without a name: bpftool prints none
      const at = (k: string) => {
        const idx = words.indexOf(k);
        return idx >= 0 ? num(words[idx + 1]) : null;
      };
      const { hook, direction } = hookOf(hookKind, section);
      attachments.push({
        interface: iface,
        ifindex: Number(m[2]),
        hook,
        direction,
        ...splitProgram(name, iface),
        id: at('prog_id') ?? at('id'),
        linkId: at('link_id'),
        mode,
        raw,
      });
      continue;
    }
    const f = TC_FILTER.exec(line);
    if (f) {
      attachments.push({
        interface: null,
        ifindex: null,
        hook: 'tc',
        direction: null,
        ...splitProgram(f[1]!, null),
        id: Number(f[2]),
        linkId: null,
        mode: null,
        raw,
      });
      continue;
    }
    if (/^filter protocol \S+ pref \d+ bpf( chain \d+)?\s*$/.test(line)) continue; // tc's header of a bpf filter
    unknownLines.push({ line: i + 1, text: raw });
  }
  return { attachments, unknownLines };
}

type Json = Record<string, unknown>;

/**
 * bpftool -j reports a failure as one object, `{"error":"can't get prog by id (7): No such file
 * or directory"}`, where the data would be: the message, so it is read as an unknown line, never
 * as an empty listing or a program without an id.
 */
function jsonError(data: unknown): string | null {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return null;
  const error = (data as Json).error;
  return typeof error === 'string' ? error : null;
}

/** What a parser returns for a bpftool -j error object: nothing read, the object one unknown line. */
function failed(text: string): Array<{ line: number; text: string }> {
  return [{ line: 1, text: text.trim() }];
}

function fromNetJson(data: unknown): BpfAttachment[] {
  const out: BpfAttachment[] = [];
  const roots = Array.isArray(data) ? data : [data];
  for (const root of roots) {
    if (!root || typeof root !== 'object') continue;
    for (const [section, list] of Object.entries(root as Json)) {
      if (!Array.isArray(list)) continue;
      for (const e of list as Json[]) {
        const iface = typeof e.devname === 'string' ? e.devname : null;
        const kind = typeof e.kind === 'string' ? e.kind : section === 'xdp' ? 'xdp' : section;
        const { hook, direction } = hookOf(section === 'xdp' ? 'xdp' : kind, section);
        const name = typeof e.name === 'string' ? e.name : '';
        const id = typeof e.prog_id === 'number' ? e.prog_id : typeof e.id === 'number' ? e.id : null;
        out.push({
          interface: iface,
          ifindex: typeof e.ifindex === 'number' ? e.ifindex : null,
          hook,
          direction,
          ...splitProgram(name, iface),
          id,
          linkId: typeof e.link_id === 'number' ? e.link_id : null,
          mode: typeof e.mode === 'string' ? e.mode : null,
          raw: JSON.stringify(e),
        });
      }
    }
  }
  return out;
}

export interface BpfProgram {
  id: number;
  type: string;
  name: string | null;
  tag: string | null;
  gpl: boolean;
  loadedAt: string | null;
  uid: number | null;
  xlatedBytes: number | null;
  jitedBytes: number | null;
  memlockBytes: number | null;
  mapIds: number[];
  btfId: number | null;
  /** Pin paths (`bpftool -f prog show`). */
  pinned: string[];
}

/** `bpftool prog show [id N]` text (or `-j`, or with `-f` pin paths) → programs. */
export function parseBpftoolProgShow(text: string): {
  programs: BpfProgram[];
  unknownLines: Array<{ line: number; text: string }>;
} {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    try {
      const data = JSON.parse(trimmed) as Json | Json[];
      if (jsonError(data) !== null) return { programs: [], unknownLines: failed(trimmed) };
      const list = Array.isArray(data) ? data : [data];
      return {
        programs: list.map((p) => ({
          id: Number(p.id),
          type: String(p.type ?? ''),
          name: typeof p.name === 'string' ? p.name : null,
          tag: typeof p.tag === 'string' ? p.tag : null,
          gpl: p.gpl_compatible === true,
          loadedAt: p.loaded_at === undefined ? null : String(p.loaded_at),
          uid: typeof p.uid === 'number' ? p.uid : null,
          xlatedBytes: typeof p.bytes_xlated === 'number' ? p.bytes_xlated : null,
          jitedBytes: typeof p.bytes_jited === 'number' ? p.bytes_jited : null,
          memlockBytes: typeof p.bytes_memlock === 'number' ? p.bytes_memlock : null,
          mapIds: Array.isArray(p.map_ids) ? (p.map_ids as number[]) : [],
          btfId: typeof p.btf_id === 'number' ? p.btf_id : null,
          pinned: Array.isArray(p.pinned) ? (p.pinned as string[]) : [],
        })),
        unknownLines: [],
      };
    } catch {
      // fall through to text
    }
  }
  const programs: BpfProgram[] = [];
  const unknownLines: Array<{ line: number; text: string }> = [];
  let cur: BpfProgram | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    if (!raw.trim()) continue;
    const head = /^(\d+): (\S+)\s+(.*)$/.exec(raw);
    // `bpftool map list` lines look alike ("35: percpu_hash  name cilium_metrics  flags 0x1"): maps carry flags, programs a tag.
    if (head && !/\btag [0-9a-f]+/.test(head[3]!) && /\bflags 0x/.test(head[3]!)) {
      cur = null;
      unknownLines.push({ line: i + 1, text: raw });
      continue;
    }
    if (head) {
      const rest = head[3]!;
      const name = /\bname (\S+)/.exec(rest);
      const tag = /\btag ([0-9a-f]+)/.exec(rest);
      cur = {
        id: Number(head[1]),
        type: head[2]!,
        name: name?.[1] ?? null,
        tag: tag?.[1] ?? null,
        gpl: /\bgpl\b/.test(rest),
        loadedAt: null,
        uid: null,
        xlatedBytes: null,
        jitedBytes: null,
        memlockBytes: null,
        mapIds: [],
        btfId: null,
        pinned: [],
      };
      programs.push(cur);
      continue;
    }
    if (cur && /^\s/.test(raw)) {
      const t = raw.trim();
      const get = (re: RegExp) => re.exec(t)?.[1];
      cur.loadedAt = get(/\bloaded_at (\S+)/) ?? cur.loadedAt;
      cur.uid = num(get(/\buid (\d+)/)) ?? cur.uid;
      cur.xlatedBytes = num(get(/\bxlated (\d+)B/)) ?? cur.xlatedBytes;
      cur.jitedBytes = num(get(/\bjited (\d+)B/)) ?? cur.jitedBytes;
      cur.memlockBytes = num(get(/\bmemlock (\d+)B/)) ?? cur.memlockBytes;
      const maps = get(/\bmap_ids ([\d,]+)/);
      if (maps) cur.mapIds = maps.split(',').map(Number);
      cur.btfId = num(get(/\bbtf_id (\d+)/)) ?? cur.btfId;
      const pin = /^pinned (\S+)$/.exec(t);
      if (pin) cur.pinned.push(pin[1]!);
      continue;
    }
    cur = null;
    unknownLines.push({ line: i + 1, text: raw });
  }
  return { programs, unknownLines };
}

export interface XlatedCall {
  /** Instruction index (`2179` of `2179: (85) call bpf_redirect#23`); null when not printed. */
  insn: number | null;
  helper: string;
}

/** A `call bpf_tail_call#12` site: the program array in r2 and the slot in r3. */
export interface XlatedTailCall {
  insn: number | null;
  /** Map id loaded into r2 (`r2 = map[id:313]`); null when the dump does not show it. */
  mapId: number | null;
  /** Constant slot loaded into r3 (`r3 = 7`); null when computed at run time (`r3 = r7`). */
  index: number | null;
}

export interface BpftoolXlated {
  /** Helper names called, in first-call order, each once (`bpf_redirect`, `bpf_redirect_neigh`, …). */
  calls: string[];
  /** Every helper call site in order, with its instruction index. */
  callSites: XlatedCall[];
  /** Every tail call, with the program array and slot it uses where the code shows them. */
  tailCalls: XlatedTailCall[];
  /** Ids of the maps the code loads (`map[id:N]`), in first-use order. */
  mapIds: number[];
  /** Number of translated instructions recognised. */
  instructions: number;
  /**
   * Instruction indexes of helper calls whose helper the kernel withheld (WITHHELD_HELPER): the
   * dump cannot tell which helpers these call.
   */
  withheldCalls: Array<number | null>;
  unknownLines: Array<{ line: number; text: string }>;
}

/**
 * How a helper call reads when the kernel withheld its address: it zeroes the call's immediate
 * for a reader that may not see kernel addresses (`bpf_dump_raw_ok`: no CAP_SYSLOG, and
 * `kernel.perf_event_paranoid` ≥ 2), and bpftool names helper 0 `bpf_unspec`. No program can
 * call helper 0 (the verifier refuses it), so the name always means "withheld". Tail calls keep
 * their helper. The cilium-agent container lacks CAP_SYSLOG by default (backends/k8s/tool-locations.ts).
 */
export const WITHHELD_HELPER = 'bpf_unspec';

const INSN = /(?:^|")\s*(\d+):\s+\(([0-9a-f]{2})\)\s+(.*?)(?:"|$)/;

interface Insn {
  insn: number | null;
  opcode: string;
  disasm: string;
}

/** `bpftool prog dump xlated` (text, with or without BTF source lines, or `-j`) → helper and tail calls. */
export function parseBpftoolXlated(text: string): BpftoolXlated {
  const insns: Insn[] = [];
  const unknownLines: Array<{ line: number; text: string }> = [];
  const trimmed = text.trimStart();
  let json = false;
  if (trimmed.startsWith('[')) {
    try {
      const data = JSON.parse(trimmed) as Json[];
      json = true;
      // -j prints no instruction index; count it (a 64-bit load, opcode 18, takes two slots).
      let at = 0;
      for (const e of data) {
        if (typeof e.disasm !== 'string') continue;
        const m = /^\(([0-9a-f]{2})\)\s+(.*)$/.exec(e.disasm.trim());
        const opcode = m ? m[1]! : /^call /.test(e.disasm.trim()) ? '85' : '';
        insns.push({ insn: m ? at : null, opcode, disasm: (m ? m[2]! : e.disasm).trim() });
        at += opcode === '18' ? 2 : 1;
      }
    } catch {
      // not JSON after all: read it as text
    }
  }
  if (!json) {
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!.replace(/\r$/, '');
      const t = raw.trim();
      if (!t) continue;
      const m = INSN.exec(raw);
      if (m) {
        let disasm = m[3]!;
        const cmt = disasm.indexOf('//');
        if (cmt >= 0) disasm = disasm.slice(0, cmt);
        insns.push({ insn: Number(m[1]), opcode: m[2]!, disasm: disasm.trim() });
        continue;
      }
      // BTF source annotations ("; return bpf_redirect(…);"), function headers ("int f(…):"), "..." ends.
      if (t.startsWith(';') || /^[\w ]+\*?\s*\w+\(.*\):$/.test(t) || t === '...') continue;
      unknownLines.push({ line: i + 1, text: raw });
    }
  }
  const callSites: XlatedCall[] = [];
  const tailCalls: XlatedTailCall[] = [];
  const withheldCalls: Array<number | null> = [];
  const mapIds: number[] = [];
  const targets = jumpTargets(insns);
  insns.forEach((ins, k) => {
    const map = /\bmap\[id:(\d+)\]/.exec(ins.disasm);
    if (map && !mapIds.includes(Number(map[1]))) mapIds.push(Number(map[1]));
    if (ins.opcode !== '85') return;
    // "call bpf_redirect#23" (helper) vs "call pc+12" (bpf-to-bpf) vs "call unknown#195896080".
    const m = /^call ([A-Za-z_][A-Za-z0-9_]*)(?:#-?\d+)?\s*$/.exec(ins.disasm);
    if (!m || m[1] === 'pc') return;
    if (m[1] === WITHHELD_HELPER) {
      withheldCalls.push(ins.insn);
      return;
    }
    callSites.push({ insn: ins.insn, helper: m[1]! });
    if (m[1] === 'bpf_tail_call') tailCalls.push({ insn: ins.insn, ...tailCallArgs(insns, k, targets) });
  });
  return {
    calls: unique(callSites),
    callSites,
    tailCalls,
    mapIds,
    instructions: insns.length,
    withheldCalls,
    unknownLines,
  };
}

/** Instruction indexes some jump lands on (`goto pc+N` at i lands on i+1+N). */
function jumpTargets(insns: readonly Insn[]): Set<number> {
  const out = new Set<number>();
  for (const ins of insns) {
    const m = /\bgoto pc([+-]\d+)/.exec(ins.disasm);
    if (m && ins.insn !== null) out.add(ins.insn + 1 + Number(m[1]));
  }
  return out;
}

/**
 * r2 and r3 of a tail call, read backwards from the call over straight-line code: the scan
 * stops where another path jumps in, or at an earlier call (it clobbers r1-r5).
 */
function tailCallArgs(insns: readonly Insn[], at: number, targets: ReadonlySet<number>): Omit<XlatedTailCall, 'insn'> {
  let mapId: number | null | undefined;
  let index: number | null | undefined;
  for (let k = at - 1; k >= 0 && (mapId === undefined || index === undefined); k--) {
    // Another path enters below this instruction: what it set is not the only value.
    const below = insns[k + 1]!.insn;
    if (below !== null && targets.has(below)) break;
    const ins = insns[k]!;
    if (ins.opcode === '85') break;
    // Older bpftool prints 32-bit moves as "(u32) r3 = (u32) 7".
    const w = /^([rw])([0-9]+) (\S*=) (.*)$/.exec(ins.disasm.replace(/\(u32\) /g, ''));
    if (w && w[2] === '2' && mapId === undefined) {
      const m = /^map\[id:(\d+)\]$/.exec(w[4]!.trim());
      mapId = w[3] === '=' && m ? Number(m[1]) : null;
    }
    if (w && w[2] === '3' && index === undefined) {
      const c = /^(0x[0-9a-f]+|-?\d+)$/i.exec(w[4]!.trim());
      index = w[3] === '=' && c ? Number(c[1]) : null;
    }
  }
  return { mapId: mapId ?? null, index: index ?? null };
}

function unique(sites: XlatedCall[]): string[] {
  const seen = new Set<string>();
  for (const s of sites) seen.add(s.helper);
  return [...seen];
}

export interface BpfMap {
  id: number;
  /** `prog_array`, `hash`, `percpu_array`, … */
  type: string;
  /** Kernel name: at most 15 characters (`cilium_calls_01573` is listed as `cilium_calls_01`). */
  name: string | null;
  flags: number | null;
  keyBytes: number | null;
  valueBytes: number | null;
  maxEntries: number | null;
  memlockBytes: number | null;
  btfId: number | null;
  /** Program type a program array is bound to (`sched_cls`). */
  ownerProgType: string | null;
}

/** `bpftool map show [id N]` / `map list` text (or `-j`) → maps. Comment lines (`# …`) are skipped. */
export function parseBpftoolMapShow(text: string): {
  maps: BpfMap[];
  unknownLines: Array<{ line: number; text: string }>;
} {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    try {
      const data = JSON.parse(trimmed) as Json | Json[];
      if (jsonError(data) !== null) return { maps: [], unknownLines: failed(trimmed) };
      const list = Array.isArray(data) ? data : [data];
      const n = (v: unknown) => (typeof v === 'number' ? v : null);
      return {
        maps: list.map((m) => ({
          id: Number(m.id),
          type: String(m.type ?? ''),
          name: typeof m.name === 'string' ? m.name : null,
          flags: n(m.flags),
          keyBytes: n(m.bytes_key),
          valueBytes: n(m.bytes_value),
          maxEntries: n(m.max_entries),
          memlockBytes: n(m.bytes_memlock),
          btfId: n(m.btf_id),
          ownerProgType: typeof m.owner_prog_type === 'string' ? m.owner_prog_type : null,
        })),
        unknownLines: [],
      };
    } catch {
      // fall through to text
    }
  }
  const maps: BpfMap[] = [];
  const unknownLines: Array<{ line: number; text: string }> = [];
  let cur: BpfMap | null = null;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const t = raw.trim();
    if (!t || t.startsWith('#')) continue;
    const head = /^(\d+): (\S+)\s+(.*)$/.exec(raw);
    if (head && /\bflags 0x[0-9a-f]+/.test(head[3]!) && !/\btag [0-9a-f]+/.test(head[3]!)) {
      const rest = head[3]!;
      cur = {
        id: Number(head[1]),
        type: head[2]!,
        name: /\bname (\S+)/.exec(rest)?.[1] ?? null,
        flags: Number.parseInt(/\bflags (0x[0-9a-f]+)/.exec(rest)![1]!, 16),
        keyBytes: null,
        valueBytes: null,
        maxEntries: null,
        memlockBytes: null,
        btfId: null,
        ownerProgType: null,
      };
      maps.push(cur);
      continue;
    }
    if (cur && /^\s/.test(raw)) {
      const get = (re: RegExp) => num(re.exec(t)?.[1]);
      cur.keyBytes = get(/\bkey (\d+)B/) ?? cur.keyBytes;
      cur.valueBytes = get(/\bvalue (\d+)B/) ?? cur.valueBytes;
      cur.maxEntries = get(/\bmax_entries (\d+)/) ?? cur.maxEntries;
      cur.memlockBytes = get(/\bmemlock (\d+)B/) ?? cur.memlockBytes;
      cur.btfId = get(/\bbtf_id (\d+)/) ?? cur.btfId;
      cur.ownerProgType = /\bowner_prog_type (\S+)/.exec(t)?.[1] ?? cur.ownerProgType;
      continue;
    }
    cur = null;
    unknownLines.push({ line: i + 1, text: raw });
  }
  return { maps, unknownLines };
}

export interface BpfMapEntry {
  key: number[];
  value: number[];
}

export interface BpftoolMapDump {
  entries: BpfMapEntry[];
  /** The count bpftool states (`Found 3 elements`), when printed. */
  found: number | null;
  unknownLines: Array<{ line: number; text: string }>;
}

function hexBytes(text: string): number[] | null {
  const words = text.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0 || words.some((w) => !/^(0x)?[0-9a-f]{2}$/i.test(w))) return null;
  return words.map((w) => Number.parseInt(w.replace(/^0x/i, ''), 16));
}

/**
 * `bpftool map dump` of a map without BTF formatting — every program array — as text
 * (`key: 07 00 00 00  value: 0f 00 00 00`, or `key:`/`value:` on their own lines before long
 * byte runs) or `-j` (`[{"key":["0x07",…],"value":[…]}]`). Empty slots of a program array are
 * not listed (`<no entry>` lines are skipped).
 */
export function parseBpftoolMapDump(text: string): BpftoolMapDump {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    try {
      const data = JSON.parse(trimmed) as Json[];
      const bytes = (v: unknown) =>
        Array.isArray(v) ? v.map((h) => Number.parseInt(String(h).replace(/^0x/i, ''), 16)) : null;
      const entries: BpfMapEntry[] = [];
      for (const e of data) {
        const key = bytes(e.key);
        const value = bytes(e.value);
        if (key && value) entries.push({ key, value });
      }
      return { entries, found: null, unknownLines: [] };
    } catch {
      // fall through to text
    }
  }
  const entries: BpfMapEntry[] = [];
  const unknownLines: Array<{ line: number; text: string }> = [];
  let found: number | null = null;
  let pending: { key: number[] | null; value: number[] | null; reading: 'key' | 'value' } | null = null;
  const flush = () => {
    if (pending?.key && pending.value) entries.push({ key: pending.key, value: pending.value });
    pending = null;
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const t = raw.trim();
    if (!t) continue;
    const one = /^key:\s+(.*?)\s+value:\s+(.*)$/.exec(t);
    if (one) {
      flush();
      const key = hexBytes(one[1]!);
      const value = hexBytes(one[2]!);
      if (key && value) entries.push({ key, value });
      else if (!(key && /^<no entry>$/.test(one[2]!.trim()))) unknownLines.push({ line: i + 1, text: raw });
      continue;
    }
    if (t === 'key:') {
      flush();
      pending = { key: null, value: null, reading: 'key' };
      continue;
    }
    if (t === 'value:' && pending) {
      pending.reading = 'value';
      continue;
    }
    const f = /^Found (\d+) elements?$/.exec(t);
    if (f) {
      flush();
      found = Number(f[1]);
      continue;
    }
    const b = pending ? hexBytes(t) : null;
    if (pending && b) {
      const p = pending as { key: number[] | null; value: number[] | null; reading: 'key' | 'value' };
      p[p.reading] = [...(p[p.reading] ?? []), ...b];
      continue;
    }
    unknownLines.push({ line: i + 1, text: raw });
  }
  flush();
  return { entries, found, unknownLines };
}

/** A little-endian u32 of a key or value (program-array slots and program ids on x86 and arm64 hosts). */
export function u32le(bytes: readonly number[]): number {
  return ((bytes[0] ?? 0) | ((bytes[1] ?? 0) << 8) | ((bytes[2] ?? 0) << 16) | ((bytes[3] ?? 0) << 24)) >>> 0;
}

/** A program array's slots: slot → program id. */
export function programArraySlots(dump: BpftoolMapDump): Map<number, number> {
  return new Map(dump.entries.filter((e) => e.key.length === 4).map((e) => [u32le(e.key), u32le(e.value)]));
}
