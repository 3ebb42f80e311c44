/**
 * Which programs does the code run? A static scan of the repository's own sources (TypeScript and
 * the shell scripts) for argv arrays and command lines, so that a new `run(['ethtool', …])` shows
 * up without anyone remembering to list it. It reads literal program names only: an argv built
 * from a variable is not seen (the lists of support/exec/host-tools.ts still name such programs).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export type Found = Map<string, string[]>;

/** A program name as written in an argv: no spaces, no option, no path. */
const PROGRAM = /^[a-z][\w.+-]*$/;

/** TypeScript shapes that hold an argv whose first element is a literal. */
const TS_PATTERNS: RegExp[] = [
  // run([...]), spawnBackground([...]), backend.exec(target, [...]), exec_.run([...]), inNs(ns, [...]), sh(h, t, [...])
  /\b(?:run|spawnBackground|spawn|exec|inNs|sh)\s*\(\s*(?:[\w.]+\s*,\s*)?(?:\{[^{}]*\}\s*,\s*)?\[\s*'([^']+)'/g,
  // argv builders: return [...], => [...], argv: [...], const argv = [...]
  /(?:\breturn|=>|\bargv\s*[:=]|\bconst \w*(?:argv|Argv|cmd|command)\w*\s*=)\s*\[\s*'([^']+)'/g,
  // a program behind a wrapper: `ip netns exec <ns> prog`, `docker exec <node> prog`, `nsenter … -- prog`, `kubectl exec … -- prog`
  /'exec'\s*,\s*(?:'-i'\s*,\s*)?[\w.]+(?:\.[\w]+)*\s*,\s*'([^']+)'/g,
  /'--'\s*,\s*'([^']+)'/g,
  // helpers that take the program alone: save('iptables-legacy-save'), natOf('iptables-nft-save')
  /\b(?:save|natOf)\(\s*'([^']+)'\s*\)/g,
];

function add(found: Found, program: string, where: string): void {
  if (!PROGRAM.test(program)) return;
  const list = found.get(program);
  if (list) list.push(where);
  else found.set(program, [where]);
}

function lineOf(text: string, index: number): number {
  let n = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

export function scanTypeScript(text: string, file: string, found: Found = new Map()): Found {
  for (const re of TS_PATTERNS)
    for (const m of text.matchAll(re)) add(found, m[1]!, `${file}:${lineOf(text, m.index)}`);
  return found;
}

/** Shell words that are not programs: keywords, builtins, and this repository's own functions. */
const SHELL_WORDS = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'for',
  'in',
  'do',
  'done',
  'while',
  'case',
  'esac',
  'function',
  'cd',
  'set',
  'export',
  'local',
  'read',
  'shift',
  'return',
  'exit',
  'echo',
  'printf',
  'true',
  'false',
  'command',
  'trap',
  'wait',
  'test',
  '[',
  '[[',
  ']]',
  'exec',
  'eval',
  'source',
]);

/** The program at the start of each command of a shell script (after ;, &&, ||, |, $( and keywords). */
export function scanShell(text: string, file: string, found: Found = new Map(), own: readonly string[] = []): Found {
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw
      .replace(/(^|\s)#.*$/, '')
      .replace(/'[^']*'/g, "''")
      .replace(/"[^"]*"/g, '""')
      .replace(/\$\(\([^)]*\)\)/g, '0');
    for (const part of line.split(/;|&&|\|\||\||\$\(|\(|\bthen\b|\bdo\b|\belse\b|!/)) {
      const words = part
        .trim()
        .split(/\s+/)
        .filter((w) => !/^\w+=/.test(w));
      while (words[0] && /^(if|elif|while|until|then|do|else|time)$/.test(words[0])) words.shift();
      const w = words[0];
      if (!w || SHELL_WORDS.has(w) || own.includes(w) || w.includes('$') || w.startsWith('-')) continue;
      add(found, w, `${file}:${i + 1}`);
    }
  });
  return found;
}

/** Every program the repository's sources run, with where (file:line). */
export function scanRepository(root: string, tsFiles: readonly string[], shellFiles: readonly string[]): Found {
  const found: Found = new Map();
  for (const f of tsFiles) scanTypeScript(readFileSync(path.join(root, f), 'utf8'), f, found);
  for (const f of shellFiles) {
    const text = readFileSync(path.join(root, f), 'utf8');
    const own = [...text.matchAll(/^(\w+)\(\)\s*\{/gm)].map((m) => m[1]!);
    scanShell(text, f, found, own);
  }
  return found;
}

/** Programs found but named by no list, with where they are called. */
export function uncovered(found: Found, known: ReadonlySet<string>): Array<{ program: string; where: string[] }> {
  return [...found]
    .filter(([p]) => !known.has(p))
    .map(([program, where]) => ({ program, where }))
    .sort((a, b) => a.program.localeCompare(b.program));
}
