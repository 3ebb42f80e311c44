/**
 * The command transcript: every external command the run executes, with where it ran, its exit
 * code, duration and (redacted) output — attached to the report so any check can be rerun by hand.
 */
import { redact } from './redact.ts';

export interface CommandRecord {
  seq: number;
  /** Human label of where it ran: "host", "node cilium-kubeproxy-worker", "pod client". */
  where: string;
  argv: string[];
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  durationMs: number;
  startedAt: string;
  stdout: string;
  stderr: string;
  background: boolean;
  /** Standard input given to the command (batch files), so the command can be replayed exactly. */
  input?: string;
}

const MAX_KEPT = 64 * 1024;

function cap(text: string): string {
  return text.length > MAX_KEPT
    ? `${text.slice(0, MAX_KEPT)}\n… (${text.length - MAX_KEPT} more characters cut)`
    : text;
}

/** Quote one argument so the printed command can be pasted into a POSIX shell. */
export function shellQuote(arg: string): string {
  if (arg === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function formatArgv(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

export class Transcript {
  readonly records: CommandRecord[] = [];
  private seq = 0;

  add(
    rec: Omit<CommandRecord, 'seq' | 'stdout' | 'stderr' | 'argv'> & {
      argv: readonly string[];
      stdout: string;
      stderr: string;
    },
  ): CommandRecord {
    const full: CommandRecord = {
      ...rec,
      seq: ++this.seq,
      argv: rec.argv.map(redact),
      stdout: cap(redact(rec.stdout)),
      stderr: cap(redact(rec.stderr)),
      input: rec.input === undefined ? undefined : cap(redact(rec.input)),
    };
    this.records.push(full);
    return full;
  }

  /** Records added since a mark, for attaching one step's commands. */
  mark(): number {
    return this.records.length;
  }

  since(mark: number): CommandRecord[] {
    return this.records.slice(mark);
  }

  static render(records: readonly CommandRecord[]): string {
    return records
      .map((r) => {
        const status = r.timedOut ? 'TIMED OUT' : r.signal ? `signal ${r.signal}` : `exit ${r.exitCode}`;
        const head = `# [${r.seq}] ${r.where} · ${status} · ${r.durationMs} ms${r.background ? ' · background' : ''} · ${r.startedAt}`;
        const parts = [
          head,
          r.input === undefined
            ? `$ ${formatArgv(r.argv)}`
            : `$ ${formatArgv(r.argv)} <<'EOF'\n${r.input.replace(/\n$/, '')}\nEOF`,
        ];
        if (r.stdout) parts.push(r.stdout.replace(/\n$/, ''));
        if (r.stderr) parts.push(`[stderr]\n${r.stderr.replace(/\n$/, '')}`);
        return parts.join('\n');
      })
      .join('\n\n');
  }
}

/** The transcript commands are recorded into. The World swaps it per scenario; scenarios on one cluster run one at a time. */
let active = new Transcript();

export function activeTranscript(): Transcript {
  return active;
}

export function useTranscript(t: Transcript): void {
  active = t;
}
