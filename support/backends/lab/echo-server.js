/**
 * The lab's echo workload: an HTTP server run inside a pod's network namespace that answers
 * every request with `pod=<name> client=<ip:port>` — which endpoint (backend pod) answered and
 * the source address it saw (so a test can tell SNAT from a preserved pod IP).
 *
 * Started daemonised (`setsid -f nsenter --net=<pod netns> -- <node> echo-server.js …`, see
 * pod-netns.ts): once listening it writes its pid file, prints `ready pid=<n>` and then moves
 * its stdio to the log file, so the launcher sees end-of-output and returns while the server
 * lives on in its own session. No imports beyond Node's own modules, and plain JavaScript: a
 * TypeScript entry point starts Node's type stripper first, which tripled its start here
 * (0.30 s against 0.09 s for a bare Node).
 *
 * Further listeners (`--listen tcp:8080 --listen udp:5353`) serve the same answer over HTTP on
 * another TCP port, or as the reply to every UDP datagram.
 *
 *   echo-server.js --pod NAME --port 80 [--listen PROTO:PORT …] --pid-file FILE --log FILE
 */

import { createSocket } from 'node:dgram';
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) {
    writeSync(2, `echo-server: missing --${name}\n`);
    process.exit(2);
  }
  return v;
}

const pod = arg('pod');
const port = Number(arg('port'));
const pidFile = arg('pid-file');
const log = arg('log');

const answer = (ip, port) => `pod=${pod} client=${ip}:${port}\n`;
const listens = process.argv.flatMap((a, i) => (a === '--listen' ? [process.argv[i + 1] ?? ''] : []));
const extra = listens.map((l) => {
  const m = /^(tcp|udp):(\d+)$/.exec(l);
  if (!m) {
    writeSync(2, `echo-server: --listen wants tcp:PORT or udp:PORT, got "${l}"\n`);
    process.exit(2);
  }
  return { proto: m[1], port: Number(m[2]) };
});

const failed = (err) => {
  writeSync(2, `echo-server ${pod}: ${err.message}\n`);
  process.exit(1);
};

function httpServer() {
  const server = createServer((req, res) => {
    const body = answer(req.socket.remoteAddress, req.socket.remotePort);
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  server.keepAliveTimeout = 1000;
  server.on('error', failed);
  return server;
}

const servers = [];
const sockets = [];
const listening = [];
for (const l of [{ proto: 'tcp', port }, ...extra]) {
  if (l.proto === 'tcp') {
    const server = httpServer();
    servers.push(server);
    listening.push(new Promise((resolve) => server.listen(l.port, '0.0.0.0', resolve)));
  } else {
    const sock = createSocket('udp4');
    sock.on('error', failed);
    sock.on('message', (_msg, from) => sock.send(answer(from.address, from.port), from.port, from.address));
    sockets.push(sock);
    listening.push(new Promise((resolve) => sock.bind(l.port, '0.0.0.0', resolve)));
  }
}
void Promise.all(listening).then(() => {
  writeFileSync(pidFile, `${process.pid}\n`);
  writeSync(1, `ready pid=${process.pid} pod=${pod} port=${port}${listens.map((l) => ` ${l}`).join('')}\n`);
  // Detach from the launcher's pipes: fd 0 → /dev/null, fds 1 and 2 → the log file.
  closeSync(0);
  openSync('/dev/null', 'r');
  closeSync(1);
  openSync(log, 'a');
  closeSync(2);
  openSync(log, 'a');
});

const stop = () => {
  for (const server of servers) {
    server.close();
    server.closeAllConnections();
  }
  for (const sock of sockets) sock.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGHUP', () => {});
