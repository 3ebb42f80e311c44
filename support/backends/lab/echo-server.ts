/**
 * The lab's echo workload: an HTTP server run inside a pod's network namespace that answers
 * every request with `pod=<name> client=<ip:port>` — which endpoint (backend pod) answered and
 * the source address it saw (so a test can tell SNAT from a preserved pod IP).
 *
 * Started daemonised (`setsid -f ip netns exec <pod netns> <node> echo-server.ts …`, see
 * pod-netns.ts): once listening it writes its pid file, prints `ready pid=<n>` and then moves
 * its stdio to the log file, so the launcher sees end-of-output and returns while the server
 * lives on in its own session. No imports beyond Node's own modules: it starts in ~50 ms.
 *
 *   echo-server.ts --pod NAME --port 80 --pid-file FILE --log FILE
 */
import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:http';

function arg(name: string): string {
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

const server = createServer((req, res) => {
  const body = `pod=${pod} client=${req.socket.remoteAddress}:${req.socket.remotePort}\n`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 1000;
server.on('error', (err) => {
  writeSync(2, `echo-server ${pod}: ${err.message}\n`);
  process.exit(1);
});
server.listen(port, '0.0.0.0', () => {
  writeFileSync(pidFile, `${process.pid}\n`);
  writeSync(1, `ready pid=${process.pid} pod=${pod} port=${port}\n`);
  // Detach from the launcher's pipes: fd 0 → /dev/null, fds 1 and 2 → the log file.
  closeSync(0);
  openSync('/dev/null', 'r');
  closeSync(1);
  openSync(log, 'a');
  closeSync(2);
  openSync(log, 'a');
});

const stop = (): void => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('SIGHUP', () => {});
