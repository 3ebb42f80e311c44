/**
 * Test support: curl outcomes as the traffic probe reads them (support/probes/traffic.ts), from
 * the write-out line and the echo body: an answer from a named pod (request n from local port
 * 40000 + n, its write-out line on its own), a refused connection, a timeout.
 */
import { parseCurlOutcome, type RequestOutcome } from '../../../support/probes/traffic.ts';

export const writeOut = (n: number) =>
  `\nhookpoint-curl code=200 local=10.244.0.10:${40000 + n} remote=10.96.94.95:80\n`;

export const okFrom = (pod: string, n: number): RequestOutcome =>
  parseCurlOutcome(n, 0, `pod=${pod} client=10.244.0.10:${40000 + n} host=10.96.94.95\n${writeOut(n)}`, '');

export const refused = (n: number): RequestOutcome =>
  parseCurlOutcome(
    n,
    7,
    '\nhookpoint-curl code=000 local=:0 remote=:0\n',
    'curl: (7) Failed to connect to 10.96.94.95 port 80 after 0 ms: Connection refused\n',
  );

export const timedOut = (n: number): RequestOutcome =>
  parseCurlOutcome(
    n,
    28,
    '\nhookpoint-curl code=000 local=10.244.0.10:40100 remote=:0\n',
    'curl: (28) Connection timed out after 2001 milliseconds\n',
  );
