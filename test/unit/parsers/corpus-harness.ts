/**
 * The real-output corpus (../shared/fixtures/real-world, read in place, never copied), one test
 * file per parser (corpus-<kind>.test.ts) with facts typed by the parser's result, all read through
 * the parser registry (support/parsers/registry.ts) as `hookpoint parse` reads them. Every use
 * parses without throwing and leaves at most a capped share of its lines unknown; lines that are
 * the author's, not the tool's (shell prompts, `=====` separators added by the corpus editor, `#`
 * notes), are set aside first, as INDEX.md allows. corpus-index.test.ts checks that every corpus
 * file is mapped to a parser or to "out of scope" with a reason.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { findChain, type IptablesChain, type IptablesDump, type MonitorEvent } from '../../../support/parsers/index.ts';
import { entryOf, type ParsedAs, type ParseKind, parseAs } from '../../../support/parsers/registry.ts';
import { REAL_WORLD_DIR } from '../helpers/real-world.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const corpusDir = REAL_WORLD_DIR;

export interface Use<K extends ParseKind> {
  /** 1-based inclusive line ranges of a mixed notebook that hold this tool's output. */
  lines?: Array<[number, number]>;
  /** Share of (non-author) lines allowed to stay unknown; default 0. */
  maxUnknown?: number;
  /** Why a non-zero share is accepted. */
  why?: string;
  /** Extra author lines for this file (beyond prompts, `=====`, `#` notes). */
  author?: RegExp;
  facts: (r: ParsedAs<K>) => void;
}

/** Lines written by the person who pasted the output, not by the tool. */
const AUTHOR_LINES = [
  /^\s*=====\s*$/, // separators added by the corpus editor
  /^\s*#(\s|$)/, // notes and `# command` prompts
  /^\s*\$ /, // `$ command`
  /^\s*\[[^\]]+\][$#]/, // [root@host dir]$ command
  /^\s*[\w.-]+@[\w.-]+:[^\s]*[#$]/, // root@node:~# command
  /^\s*\S*~\$/, // client~$command
  /^\s*(⬢|›|c0bpf |c2 |kubectl |sudo |Themis)/, // other prompts seen in the corpus
];

function isAuthorLine(line: string, extra?: RegExp): boolean {
  return AUTHOR_LINES.some((r) => r.test(line)) || (extra?.test(line) ?? false);
}

function select(text: string, ranges?: Array<[number, number]>): string {
  if (!ranges) return text;
  const all = text.split('\n');
  return ranges.map(([a, b]) => all.slice(a - 1, b).join('\n')).join('\n');
}

/** One parser's share of the corpus: file → the uses of that file by this parser. */
export function corpusSuite<K extends ParseKind>(kind: K, files: Record<string, Array<Use<K>>>): void {
  describe(`real-world corpus → ${kind}`, () => {
    if (!existsSync(corpusDir)) {
      it('needs ../shared/fixtures/real-world', (t) => {
        if (process.env.CI === 'true')
          assert.fail(`The corpus directory ${corpusDir} is missing; with CI=true the corpus test must run.`);
        t.skip(`corpus not found at ${corpusDir} (outside CI the corpus test is skipped)`);
      });
      return;
    }
    const entry = entryOf(kind);
    for (const [file, uses] of Object.entries(files)) {
      for (const use of uses) {
        const where = use.lines ? ` lines ${use.lines.map(([a, b]) => `${a}-${b}`).join(',')}` : '';
        it(`${file}${where}`, () => {
          const text = select(readFileSync(path.join(corpusDir, file), 'utf8'), use.lines);
          const result = parseAs(kind, text);
          const toolLines = text.split('\n').filter((l) => l.trim() && !isAuthorLine(l, use.author));
          const unread = entry.unknownLines(result).filter((u) => !isAuthorLine(u.text, use.author));
          const share = toolLines.length === 0 ? 0 : unread.length / toolLines.length;
          const cap = use.maxUnknown ?? 0;
          assert.ok(
            share <= cap,
            `${(share * 100).toFixed(0)}% of the tool lines are unknown (cap ${(cap * 100).toFixed(0)}%): ${unread
              .slice(0, 3)
              .map((u) => JSON.stringify(u.text.slice(0, 100)))
              .join(', ')}`,
          );
          use.facts(result);
        });
      }
    }
  });
}

// biome-ignore lint/suspicious/noExplicitAny: fact helpers dig into nested parsed data
export type Any = any;

/** A chain of a parsed dump; the facts fail loudly on a missing chain. */
export function chain(d: IptablesDump, name: string, table?: string): IptablesChain {
  const c = findChain(d, name, table);
  assert.ok(c, `chain ${name} not found`);
  return c;
}

export function ofType(r: { events: MonitorEvent[] }, t: MonitorEvent['type']): Any[] {
  return r.events.filter((e) => e.type === t);
}
