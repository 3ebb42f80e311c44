/**
 * `hookpoint lab agent [--cluster NAME] [--state-root DIR] <node> -- <command…>` as a thin client of
 * the lab's agent server (socket.ts), the way `cilium-dbg` talks to a real agent: no CLI, no
 * backend, no execa loaded, so a status read or a monitor starts in a fraction of the time.
 * Anything it cannot serve exactly as the CLI would (another argument shape, no server, a server
 * running older code) returns undefined before printing a byte, and the full CLI runs instead.
 */
import { connect } from 'node:net';
import path from 'node:path';
import { ExitCode, interruptedLine } from '../../../errors.ts';
import { DEFAULT_CLUSTER, stateRootDefault } from '../names.ts';
import { type AgentRequest, agentSocketPath, codeStamp, decodeFrame } from './socket.ts';

export interface AgentInvocation {
  stateRoot: string;
  cluster: string;
  node: string;
  argv: string[];
}

/** The canonical argument shape after `lab agent` (what the lab's exec targets build), else undefined. Pure. */
export function parseAgentInvocation(args: readonly string[], env = process.env): AgentInvocation | undefined {
  const dash = args.indexOf('--');
  if (dash < 0 || dash === args.length - 1) return undefined;
  let cluster: string | undefined;
  let stateRoot: string | undefined;
  const positional: string[] = [];
  const head = args.slice(0, dash);
  for (let i = 0; i < head.length; i++) {
    const a = head[i]!;
    const [flag, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    if (flag === '--cluster' || flag === '--state-root') {
      const v = inline ?? head[++i];
      if (!v) return undefined;
      if (flag === '--cluster') cluster = v;
      else stateRoot = v;
    } else if (a.startsWith('-')) return undefined;
    else positional.push(a);
  }
  if (positional.length !== 1) return undefined;
  const root = stateRoot ?? (env.HOOKPOINT_LAB_STATE || stateRootDefault());
  return {
    stateRoot: path.resolve(root),
    cluster: cluster ?? DEFAULT_CLUSTER,
    node: positional[0]!,
    argv: args.slice(dash + 1),
  };
}

/** Serve the command through the lab's agent server: its exit code, or undefined to run the CLI instead. */
export async function agentThroughSocket(args: readonly string[]): Promise<number | undefined> {
  const inv = parseAgentInvocation(args);
  if (!inv || !/^[a-z0-9-]+$/.test(inv.cluster)) return undefined;
  const request: AgentRequest = { node: inv.node, argv: inv.argv, stamp: codeStamp() };
  return new Promise((resolve) => {
    const sock = connect(agentSocketPath(inv.stateRoot, inv.cluster));
    let printed = false;
    let done = false;
    let interrupted = false;
    let buffer = '';
    const finish = (code: number | undefined) => {
      if (done) return;
      done = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      sock.destroy();
      resolve(code);
    };
    // As the CLI does: say so once, stop the command (end of input tells the server), exit 130.
    const onSignal = (sig: NodeJS.Signals) => {
      if (interrupted) return;
      interrupted = true;
      process.stderr.write(`${interruptedLine(sig)}\n`);
      sock.end();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // A closed pipe (`… | head`) ends the output quietly, as the CLI's own output does.
    for (const std of [process.stdout, process.stderr])
      std.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EPIPE') throw err;
      });
    sock.on('connect', () => sock.write(`${JSON.stringify(request)}\n`));
    sock.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const frame = decodeFrame(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf('\n');
        if (!frame) continue;
        if (frame.kind === 'stale') return finish(printed ? 1 : undefined);
        if (frame.kind === 'exit') return finish(interrupted ? ExitCode.interrupted : frame.code);
        printed = true;
        (frame.kind === 'out' ? process.stdout : process.stderr).write(`${frame.text}\n`);
      }
    });
    // No server (no socket, nobody listening): the CLI serves it. A server gone mid-command is an error.
    sock.on('error', () => finish(printed ? 1 : undefined));
    sock.on('close', () => {
      if (!done && printed) process.stderr.write("hookpoint: the lab's agent server closed the connection early\n");
      finish(printed ? (interrupted ? ExitCode.interrupted : 1) : undefined);
    });
  });
}
