/**
 * The lab's agent server: one long-lived process per lab serving `hookpoint lab agent` commands
 * over the lab's agent socket (socket.ts), with the agent's code loaded once. Each command runs
 * runAgent() against the lab's state as it is now (state.json re-read per command), exactly as
 * the in-process CLI would; its output and exit code travel back as frames.
 *
 * Started daemonised by the lab (agent-server.ts), like the echo servers: once listening it
 * writes its pid file, prints `ready pid=<n>` and moves its stdio to the log file. Teardown
 * stops it through the pid file the ledger lists.
 *
 *   server.ts --state-root DIR --cluster NAME --pid-file FILE --log FILE
 */
import { closeSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { describeError, exitCodeOf } from '../../../errors.ts';
import { Transcript, useTranscript } from '../../../exec/index.ts';
import { LabBackend } from '../backend.ts';
import { runAgent } from './agent.ts';
import { type AgentRequest, agentSocketPath, codeStamp, encodeFrame, frameLines } from './socket.ts';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) {
    writeSync(2, `agent server: missing --${name}\n`);
    process.exit(2);
  }
  return v;
}

const stateRoot = arg('state-root');
const cluster = arg('cluster');
const pidFile = arg('pid-file');
const log = arg('log');
const socketPath = agentSocketPath(stateRoot, cluster);
const stamp = codeStamp();

async function serve(sock: Socket, req: AgentRequest): Promise<void> {
  if (req.stamp !== stamp) {
    // Older code than the client's: the client runs the command itself; a new server starts with the next run.
    sock.end(encodeFrame({ kind: 'stale' }));
    server.close();
    return;
  }
  let stopped = false;
  sock.on('end', () => {
    stopped = true;
  });
  sock.on('close', () => {
    stopped = true;
  });
  const write = (text: string) => {
    if (!sock.destroyed) sock.write(text);
  };
  let code = 0;
  try {
    const lab = new LabBackend({ stateRoot });
    lab.attach(cluster);
    await runAgent(lab, req.node, req.argv, {
      out: (line) => write(frameLines('out', line)),
      err: (line) => write(frameLines('err', line)),
      stopped: () => stopped,
    });
  } catch (err) {
    write(frameLines('err', describeError(err)));
    code = exitCodeOf(err);
  } finally {
    // The commands this server ran are not a scenario's: start each command with an empty transcript.
    useTranscript(new Transcript());
  }
  if (!sock.destroyed) sock.end(encodeFrame({ kind: 'exit', code }));
}

// allowHalfOpen: a client's end-of-input asks a monitor to stop; the events it flushes and the exit
// code still travel back on the same connection.
const server = createServer({ allowHalfOpen: true }, (sock) => {
  let buffer = '';
  const onData = (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    const nl = buffer.indexOf('\n');
    if (nl < 0) return;
    sock.off('data', onData);
    let req: AgentRequest;
    try {
      req = JSON.parse(buffer.slice(0, nl)) as AgentRequest;
      if (typeof req.node !== 'string' || !Array.isArray(req.argv)) throw new Error('not a request');
    } catch {
      sock.end(frameLines('err', 'hookpoint: not an agent request') + encodeFrame({ kind: 'exit', code: 2 }));
      return;
    }
    void serve(sock, req);
  };
  sock.on('data', onData);
  sock.on('error', () => undefined);
});

server.on('error', (err) => {
  writeSync(2, `agent server of lab ${cluster}: ${err.message}\n`);
  process.exit(1);
});

const shutdown = () => {
  server.close();
  rmSync(socketPath, { force: true });
  process.exit(0);
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

rmSync(socketPath, { force: true });
server.listen(socketPath, () => {
  writeFileSync(pidFile, `${process.pid}\n`);
  writeSync(1, `ready pid=${process.pid}\n`);
  // Hand stdio to the log: the launcher sees end-of-output and returns; the server lives on.
  // Each close frees the lowest descriptor, which the next open takes.
  closeSync(0);
  openSync('/dev/null', 'r');
  closeSync(1);
  openSync(log, 'a');
  closeSync(2);
  openSync(log, 'a');
});
server.on('close', () => {
  rmSync(socketPath, { force: true });
  process.exit(0);
});
