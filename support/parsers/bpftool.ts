/**
 * bpftool → where programs hang and what they call.
 *   - `bpftool net show` text (legacy `clsact/ingress bpf_lxc.o:[from-container] id 242`, newer
 *     `cil_*` names, tcx `tcx/ingress cil_from_container prog_id N link_id M`, xdp) and `-j` JSON;
 *     `tc filter show` bpf lines are accepted too (interface unknown there).
 *   - `bpftool prog show` text (TAB-indented continuation lines) and `-j` JSON.
 *   - `bpftool prog dump xlated` → helper calls (`call bpf_redirect#23` → `bpf_redirect`),
 *     also found inside verifier logs (`msg="2179: (85) call bpf_redirect#23"`), and `-j` JSON.
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
      return { attachments: fromNetJson(JSON.parse(trimmed)), unknownLines: [] };
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
      } else name = words[0]!;
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
}

/** `bpftool prog show [id N]` text (or `-j`) → programs. */
export function parseBpftoolProgShow(text: string): {
  programs: BpfProgram[];
  unknownLines: Array<{ line: number; text: string }>;
} {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    try {
      const data = JSON.parse(trimmed) as Json | Json[];
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

export interface BpftoolXlated {
  /** Helper names called, in first-call order, each once (`bpf_redirect`, `bpf_redirect_neigh`, …). */
  calls: string[];
  /** Every helper call site in order, with its instruction index. */
  callSites: XlatedCall[];
  /** Number of translated instructions recognised. */
  instructions: number;
  unknownLines: Array<{ line: number; text: string }>;
}

const INSN = /(?:^|")\s*(\d+):\s+\(([0-9a-f]{2})\)\s+(.*?)(?:"|$)/;

/** `bpftool prog dump xlated` (text, with or without BTF source lines, or `-j`) → helper calls. */
export function parseBpftoolXlated(text: string): BpftoolXlated {
  const callSites: XlatedCall[] = [];
  const unknownLines: Array<{ line: number; text: string }> = [];
  let instructions = 0;
  const addCall = (insn: number | null, disasm: string) => {
    // "call bpf_redirect#23" (helper) vs "call pc+12" (bpf-to-bpf) vs "call unknown#195896080".
    const m = /^call ([A-Za-z_][A-Za-z0-9_]*)(?:#-?\d+)?\s*$/.exec(disasm.trim());
    if (m && m[1] !== 'pc') callSites.push({ insn, helper: m[1]! });
  };
  const trimmed = text.trimStart();
  if (trimmed.startsWith('[')) {
    try {
      const data = JSON.parse(trimmed) as Json[];
      for (const e of data) {
        if (typeof e.disasm !== 'string') continue;
        instructions++;
        addCall(null, e.disasm);
      }
      return { calls: unique(callSites), callSites, instructions, unknownLines };
    } catch {
      // fall through
    }
  }
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const t = raw.trim();
    if (!t) continue;
    const m = INSN.exec(raw);
    if (m) {
      instructions++;
      let disasm = m[3]!;
      const cmt = disasm.indexOf('//');
      if (cmt >= 0) disasm = disasm.slice(0, cmt);
      if (m[2] === '85') addCall(Number(m[1]), disasm);
      continue;
    }
    // BTF source annotations ("; return bpf_redirect(…);"), function headers ("int f(…):"), "..." ends.
    if (t.startsWith(';') || /^[\w ]+\*?\s*\w+\(.*\):$/.test(t) || t === '...') continue;
    unknownLines.push({ line: i + 1, text: raw });
  }
  return { calls: unique(callSites), callSites, instructions, unknownLines };
}

function unique(sites: XlatedCall[]): string[] {
  const seen = new Set<string>();
  for (const s of sites) seen.add(s.helper);
  return [...seen];
}
