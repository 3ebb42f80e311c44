/**
 * The lab agent's API socket. Real `cilium-dbg` is a thin client of the agent's API socket; the
 * lab's stand-in has the same split: a long-lived server per lab (server.ts) keeps the agent's code
 * loaded, and `hookpoint lab agent <node> -- …` hands it the command through this socket instead
 * of starting the whole CLI each time. Output and exit code are what the in-process command gives.
 *
 * Wire format (one JSON request line, then frames, each one line):
 *   client → server  {"node": "...", "argv": ["status"], "stamp": "<code stamp>"}\n, then end-of-input to stop
 *   server → client  o<text>\n   a line of standard output
 *                    e<text>\n   a line of standard error
 *                    x<code>\n   the command's exit code; the server closes the connection
 *                    s\n         the server runs older code than the client: run the command in-process
 * Light on purpose (Node's own modules only): the client imports it before anything else.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** The socket of a lab's agent server, in its run directory. */
export function agentSocketPath(stateRoot: string, cluster: string): string {
  return path.join(stateRoot, cluster, 'agent.sock');
}

export interface AgentRequest {
  node: string;
  argv: string[];
  stamp: string;
}

export type AgentFrame = { kind: 'out' | 'err'; text: string } | { kind: 'exit'; code: number } | { kind: 'stale' };

/** One frame as a line (a line break inside text would split the frame, so text never holds one). */
export function encodeFrame(f: AgentFrame): string {
  switch (f.kind) {
    case 'out':
      return `o${f.text}\n`;
    case 'err':
      return `e${f.text}\n`;
    case 'exit':
      return `x${f.code}\n`;
    case 'stale':
      return 's\n';
  }
}

/** One line back into a frame (undefined: not a frame). */
export function decodeFrame(line: string): AgentFrame | undefined {
  const tag = line[0];
  const rest = line.slice(1);
  if (tag === 'o') return { kind: 'out', text: rest };
  if (tag === 'e') return { kind: 'err', text: rest };
  if (tag === 'x' && /^\d+$/.test(rest)) return { kind: 'exit', code: Number(rest) };
  if (tag === 's' && rest === '') return { kind: 'stale' };
  return undefined;
}

/** Split output text into frame-sized lines (the stand-in's io prints whole lines, some multi-line). */
export function frameLines(kind: 'out' | 'err', text: string): string {
  return text
    .split('\n')
    .map((t) => encodeFrame({ kind, text: t }))
    .join('');
}

const CODE_ROOT = path.resolve(import.meta.dirname, '../../../..');

/**
 * A stamp of the code the agent runs: the newest modification time under support/ and bin/. A
 * server started before an edit answers `s` (stale), so a kept lab never serves old formats.
 */
export function codeStamp(root = CODE_ROOT): string {
  let newest = 0;
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of ['support', 'bin']) walk(path.join(root, d));
  return String(Math.floor(newest));
}
