/**
 * Evidence<T>: what a probe saw, where, by which commands, raw and parsed. Every attachment
 * is named `<nn>-<probe>-<where>.<ext>` with an explicit media type.
 */
import { redact } from '../exec/redact.ts';

export const MediaType = {
  text: 'text/plain',
  json: 'application/json',
  pcap: 'application/vnd.tcpdump.pcap',
  svg: 'image/svg+xml',
  markdown: 'text/markdown',
} as const;
export type MediaType = (typeof MediaType)[keyof typeof MediaType];

const EXT: Record<MediaType, string> = {
  'text/plain': 'txt',
  'application/json': 'json',
  'application/vnd.tcpdump.pcap': 'pcap',
  'image/svg+xml': 'svg',
  'text/markdown': 'md',
};

export interface Evidence<T> {
  /** Probe kind: "iptables", "monitor", "capture", "bpftool", "routes", "neigh", "status", "traffic". */
  kind: string;
  /** Where it was taken: "node cilium-kubeproxy-worker", "pod client eth0". */
  where: string;
  commands: string[];
  raw: string;
  /** Path of a binary file (pcap), when the evidence has one. */
  file?: string;
  data: T;
  summary: string;
}

/** A file-system and Allure safe slug of a place name. */
export function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9.]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'x'
  );
}

export function attachmentName(seq: number, probe: string, where: string, media: MediaType): string {
  return `${String(seq).padStart(2, '0')}-${slug(probe)}-${slug(where)}.${EXT[media]}`;
}

export interface Attachment {
  name: string;
  media: MediaType;
  body: string | Buffer;
}

/**
 * Collects a scenario's attachments with running numbers; the World flushes them to the
 * reporter (cucumber attach → Allure) as they are added. Evidence may also be held under its
 * name until the step that judges it shows it (`hold`, then `show`): the report then carries each
 * piece of evidence on the step whose verdict it supports, and a name stays the same wherever it
 * is shown, so a failure message that cites it finds it.
 */
export class EvidenceRecorder {
  private seq = 0;
  readonly attached: Attachment[] = [];
  private readonly held = new Map<string, { a: Attachment; companions: string[] }>();
  private readonly shownInStep = new Set<string>();
  private readonly sink: (a: Attachment) => void | Promise<void>;
  constructor(sink: (a: Attachment) => void | Promise<void>) {
    this.sink = sink;
  }

  private named(probe: string, where: string, media: MediaType, body: string | Buffer): Attachment {
    // Text evidence may quote a kubeconfig, a token or a secret Helm value: redact it like the transcript.
    const shown = typeof body === 'string' ? redact(body) : body;
    return { name: attachmentName(++this.seq, probe, where, media), media, body: shown };
  }

  async attach(probe: string, where: string, media: MediaType, body: string | Buffer): Promise<Attachment> {
    const a = this.named(probe, where, media, body);
    this.attached.push(a);
    this.shownInStep.add(a.name);
    await this.sink(a);
    return a;
  }

  /** Name a piece of evidence now and keep it until a step shows it; `companion` ties it to held evidence (a pcap to its capture). */
  hold(probe: string, where: string, media: MediaType, body: string | Buffer, companion?: string): Attachment {
    const a = this.named(probe, where, media, body);
    this.held.set(a.name, { a, companions: [] });
    if (companion) this.held.get(companion)?.companions.push(a.name);
    return a;
  }

  /** A new step starts: evidence shown before may be shown again on it. */
  stepStarted(): void {
    this.shownInStep.clear();
  }

  /** Show held (or earlier attached) evidence, with its companions, on the current step; once per step. */
  async show(name: string): Promise<void> {
    if (this.shownInStep.has(name)) return;
    const h = this.held.get(name);
    const a = h?.a ?? this.attached.find((x) => x.name === name);
    if (!a) return;
    this.shownInStep.add(name);
    if (!this.attached.includes(a)) this.attached.push(a);
    await this.sink(a);
    for (const c of h?.companions ?? []) await this.show(c);
  }

  /** Held evidence no step has shown yet (the scenario stopped before its judge ran). */
  unshown(): string[] {
    return [...this.held.values()].filter((h) => !this.attached.includes(h.a)).map((h) => h.a.name);
  }

  /** Attach the raw text and the parsed data of one piece of evidence. */
  async attachEvidence<T>(ev: Evidence<T>): Promise<void> {
    const header = `# ${ev.summary}\n# where: ${ev.where}\n${ev.commands.map((c) => `# $ ${c}`).join('\n')}\n`;
    await this.attach(ev.kind, ev.where, MediaType.text, `${header}\n${ev.raw}`);
  }
}
