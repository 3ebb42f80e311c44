/**
 * `hookpoint parse <kind> <file|-> [--json] [--strict]` — read one tool output with Hookpoint's
 * own parsers (support/parsers/registry.ts) and print what they understood: a readable table, or
 * JSON (the contract of the parsers issue). Input with no readable line is bad input (exit 2);
 * binary input is refused unless the kind reads it (pcap, tcpdump); when most lines are
 * unreadable a warning says so, and `--strict` fails (exit 1) on the first one, quoting it.
 * Files are read with node:fs only; nothing is spawned.
 */
import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { HookpointError, UsageError } from '../errors.ts';
import {
  entryOf,
  isParseKind,
  looksBinary,
  looksLikePcap,
  PARSE_KINDS,
  PARSERS,
  type ParseKind,
  type UnknownLine,
  UnreadablePcapError,
} from '../parsers/registry.ts';

export { columns, isParseKind, PARSE_KINDS, type ParseKind } from '../parsers/registry.ts';

/** `--strict` found a line it could not read: exit 1, the line quoted. */
export class UnreadableInputError extends HookpointError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: 1, hint });
  }
}

export interface ParseOutcome {
  kind: ParseKind;
  /** The JSON document of `--json`. */
  json: unknown;
  /** The readable table. */
  table: () => string;
  unknownLines: UnknownLine[];
  /** A reason the whole input is not what the kind expects (empty, another tool's format). */
  mismatch: string | null;
  /** Non-empty lines of the input (text kinds), to judge the unreadable share. */
  lines: number;
}

function kindsList(): string {
  return PARSE_KINDS.join(', ');
}

/** Parse bytes as one kind. Pure: no I/O here (runParse reads the file). */
export function parseInput(kind: ParseKind, data: Uint8Array, source = 'input'): ParseOutcome {
  const entry = entryOf(kind);
  if (looksBinary(data) && (entry.reads === 'text' || (entry.reads === 'either' && !looksLikePcap(data))))
    throw new UsageError(
      `${source} is binary data, not ${kind} output (${entry.what}).`,
      `Give the saved text output of the tool; only the pcap and tcpdump kinds read binary (.pcap) files.`,
    );
  let r: ReturnType<typeof entry.parse>;
  try {
    r = entry.parse(data);
  } catch (err) {
    if (err instanceof UnreadablePcapError)
      throw new UsageError(
        `Cannot read ${source} as a pcap file: ${err.message}.`,
        'Give a classic .pcap written by tcpdump -w.',
      );
    throw err;
  }
  const binary = entry.reads !== 'text' && looksBinary(data);
  return {
    kind,
    json: entry.json(r),
    table: () => entry.table(r),
    unknownLines: entry.unknownLines(r),
    mismatch: entry.nothing(r, source),
    lines: binary
      ? 0
      : new TextDecoder()
          .decode(data)
          .split('\n')
          .filter((l) => l.trim()).length,
  };
}

/** A warning when most lines of a text input are unreadable (printed even without --strict). */
export function unreadableWarning(outcome: ParseOutcome, source: string): string | null {
  const n = outcome.unknownLines.length;
  if (outcome.lines === 0 || n * 2 <= outcome.lines) return null;
  const first = outcome.unknownLines[0]!;
  return `hookpoint: warning: ${n} of ${outcome.lines} lines of ${source} are not readable as ${outcome.kind} output (first: line ${first.line}, ${JSON.stringify(first.text.trim().slice(0, 80))}); is it the right kind? --strict fails on them.`;
}

// ---------------------------------------------------------------------------------------------
// Command

function readInput(file: string): Uint8Array {
  if (file === '-') {
    try {
      return readFileSync(0);
    } catch (err) {
      throw new UsageError(`Cannot read standard input: ${(err as Error).message}.`);
    }
  }
  let isDir = false;
  try {
    isDir = statSync(file).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? `The file "${file}" does not exist.` : `Cannot read "${file}": ${(err as Error).message}.`,
      'Give the path of a saved tool output, or - to read standard input.',
    );
  }
  if (isDir) throw new UsageError(`"${file}" is a directory, not a tool output file.`);
  return readFileSync(file);
}

export interface ParseCommandOptions {
  json?: boolean;
  strict?: boolean;
  /** Where the "most lines unreadable" warning goes (default: standard error). */
  warn?: (line: string) => void;
}

/** The command body, separated from commander for tests and the bench. Returns the text to print. */
export function runParse(kind: string, file: string, opts: ParseCommandOptions): string {
  if (!isParseKind(kind))
    throw new UsageError(
      `"${kind}" is not a kind \`hookpoint parse\` knows.`,
      `Kinds: ${kindsList()}. Example: hookpoint parse iptables nat.txt --json`,
    );
  const source = file === '-' ? 'standard input' : `"${file}"`;
  const outcome = parseInput(kind, readInput(file), source);
  if (outcome.mismatch)
    throw new UsageError(
      `Nothing readable as ${kind} output: ${outcome.mismatch}.`,
      `\`hookpoint parse ${kind}\` reads ${PARSERS[kind].what}; the kinds are ${kindsList()}.`,
    );
  if (opts.strict) {
    const first = outcome.unknownLines[0];
    if (first)
      throw new UnreadableInputError(
        `Line ${first.line} of ${source} is not readable as ${kind} output: ${JSON.stringify(first.text.trim().slice(0, 200))}${outcome.unknownLines.length > 1 ? ` (and ${outcome.unknownLines.length - 1} more unreadable lines)` : ''}.`,
        'Without --strict such lines are skipped and listed under "unknownLines".',
      );
  }
  const warning = unreadableWarning(outcome, source);
  if (warning) (opts.warn ?? ((l: string) => process.stderr.write(`${l}\n`)))(warning);
  return opts.json ? JSON.stringify(outcome.json) : outcome.table();
}

export function register(program: Command): void {
  program
    .command('parse')
    .description(`parse a saved tool output into typed data (kinds: ${kindsList()})`)
    .argument('<kind>', `what produced the file: ${kindsList()}`)
    .argument('<file>', 'the saved output, or - for standard input (tcpdump: text or .pcap; pcap: .pcap)')
    .option('--json', 'print the parsed data as JSON')
    .option('--strict', 'fail (exit 1) on the first line that cannot be read, quoting it')
    .action((kind: string, file: string, opts: ParseCommandOptions) => {
      const text = runParse(kind, file, opts);
      process.stdout.write(`${text}\n`);
    });
}
