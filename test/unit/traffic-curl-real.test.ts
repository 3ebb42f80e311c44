/**
 * The traffic probe's curl command against a real curl and a keep-alive HTTP server: every request
 * a process carries opens its own connection (the server sees as many connections as requests, each
 * from its own port), and each write-out line gives that request's outcome, failures included.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { run } from '../../support/exec/index.ts';
import { connectFailures, curlArgv, curlComplaints, parseCurlTransfers } from '../../support/probes/traffic.ts';

const curlMissing = await run(['curl', '--version'], { timeoutMs: 5000, check: false }).then(
  (r) => r.exitCode !== 0,
  () => true,
);
// The lab installs curl (host-tools.ts), so CI has it; a bare checkout may not.
const skip = curlMissing && process.env.CI !== 'true' ? 'curl is not installed' : false;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

test('curl: requests in one process each open a connection of their own and get their own outcome', {
  skip,
}, async () => {
  const connections: number[] = [];
  // Node's server keeps connections alive unless the request says otherwise.
  const server = createServer((req, res) => {
    res.end(`pod=real-echo client=${req.socket.remoteAddress}:${req.socket.remotePort}\n`);
  });
  server.on('connection', (s) => connections.push(s.remotePort!));
  const port = await listen(server);
  try {
    const res = await run(curlArgv({ ip: '127.0.0.1', port }, { maxTimeSec: 2 }, 4), {
      timeoutMs: 20_000,
      check: false,
    });
    const outcomes = parseCurlTransfers([5, 6, 7, 8], res);
    assert.deepEqual(
      outcomes.map((o) => [o.seq, o.ok, o.httpStatus, o.answeredBy, o.exitCode]),
      [
        [5, true, 200, 'real-echo', 0],
        [6, true, 200, 'real-echo', 0],
        [7, true, 200, 'real-echo', 0],
        [8, true, 200, 'real-echo', 0],
      ],
    );
    assert.equal(connections.length, 4, 'one connection per request, none reused');
    assert.deepEqual(
      outcomes.map((o) => o.localPort),
      connections,
      'each outcome names the source port its connection had',
    );
    assert.deepEqual(
      outcomes.map((o) => o.clientSeen),
      connections.map((p) => `127.0.0.1:${p}`),
    );
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('curl: a refused request among answered ones is its own failure, with curl’s exit code and message', {
  skip,
}, async () => {
  const server = createServer((_req, res) => res.end('pod=real-echo\n'));
  const up = await listen(server);
  const closed = createServer();
  const down = await listen(closed);
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  try {
    // Two processes as the probe would run them, their outputs read the same way.
    const ok = await run(curlArgv({ ip: '127.0.0.1', port: up }, {}, 2), { timeoutMs: 20_000, check: false });
    const refused = await run(curlArgv({ ip: '127.0.0.1', port: down }, {}, 2), { timeoutMs: 20_000, check: false });
    assert.equal(refused.exitCode, 7, refused.stderr);
    const outcomes = [...parseCurlTransfers([1, 2], ok), ...parseCurlTransfers([3, 4], refused)];
    assert.deepEqual(
      outcomes.map((o) => [o.seq, o.ok, o.exitCode]),
      [
        [1, true, 0],
        [2, true, 0],
        [3, false, 7],
        [4, false, 7],
      ],
    );
    for (const o of outcomes.slice(2)) {
      assert.equal(o.httpStatus, null);
      assert.equal(o.localPort, null);
      assert.match(o.detail, new RegExp(`port ${down}`), 'the message is the request’s own, from its write-out line');
    }
  } finally {
    server.close();
  }
});

test('curl: a process that ended early leaves its remaining requests as failures that say so', () => {
  const one = 'pod=e\n\nhookpoint-curl #0 code=200 exit=0 local=10.244.0.9:41000 remote=10.96.0.10:80 error=\n';
  const outcomes = parseCurlTransfers([1, 2, 3], { exitCode: 143, stdout: one, stderr: 'Terminated\n' });
  assert.deepEqual(
    outcomes.map((o) => [o.seq, o.ok]),
    [
      [1, true],
      [2, false],
      [3, false],
    ],
  );
  assert.match(outcomes[1]!.detail, /^curl ended before this request: Terminated$/);
});

test('curl: a refused connect is "refused" although curl 7.87+ says only "Couldn\'t connect to server"', {
  skip,
}, async () => {
  const closed = createServer();
  const down = await listen(closed);
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const res = await run(curlArgv({ ip: '127.0.0.1', port: down }, {}, 2), { timeoutMs: 20_000, check: false });
  const outcomes = parseCurlTransfers([1, 2], res);
  assert.deepEqual(
    outcomes.map((o) => [o.seq, o.ok, o.error]),
    [
      [1, false, 'refused'],
      [2, false, 'refused'],
    ],
    res.stderr,
  );
  assert.match(outcomes[0]!.detail, /Connection refused/);
});

// Verbose stderr of curl 7.88.1 (Debian bookworm) for `http://127.0.0.1:18080/ http://127.0.0.1:1/`
// and, from a namespace with an unreachable route, `http://10.9.2.3:80/`, recorded on this machine.
const VERBOSE = `*   Trying 127.0.0.1:18080...
* Connected to 127.0.0.1 (127.0.0.1) port 18080 (#0)
> GET / HTTP/1.1
> Host: 127.0.0.1:18080
> Connection: close
>${' '}
< HTTP/1.0 200 OK
< Content-Length: 4237
<${' '}
{ [4237 bytes data]
* Closing connection 0
*   Trying 127.0.0.1:1...
* connect to 127.0.0.1 port 1 failed: Connection refused
* Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server
* Closing connection 1
curl: (7) Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server
*   Trying 10.9.2.3:80...
* Immediate connect fail for 10.9.2.3: No route to host
* Failed to connect to 10.9.2.3 port 80 after 0 ms: Couldn't connect to server
* Closing connection 2
curl: (7) Failed to connect to 10.9.2.3 port 80 after 0 ms: Couldn't connect to server
`;

test('curl: each failed connect gets its own reason from the verbose trace, in request order', () => {
  assert.deepEqual(connectFailures(VERBOSE), ['Connection refused', 'No route to host']);
  const line = (n: number, code: string, exit: number, error: string) =>
    `\nhookpoint-curl #${n} code=${code} exit=${exit} local=:0 remote=:0 error=${error}\n`;
  const stdout = `pod=e\n${line(0, '200', 0, '')}${line(1, '000', 7, "Failed to connect to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server")}${line(2, '000', 7, "Failed to connect to 10.9.2.3 port 80 after 0 ms: Couldn't connect to server")}`;
  const outcomes = parseCurlTransfers([1, 2, 3], { exitCode: 7, stdout, stderr: VERBOSE });
  assert.deepEqual(
    outcomes.map((o) => [o.seq, o.ok, o.error]),
    [
      [1, true, null],
      [2, false, 'refused'],
      [3, false, 'other'],
    ],
  );
  assert.match(outcomes[2]!.detail, /\(No route to host\)$/);
  // The trace's header lines are not complaints: a process that ended early is judged by curl's own line.
  assert.equal(curlComplaints(VERBOSE).split('\n').length, 2);
});
