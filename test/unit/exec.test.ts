import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InfraError } from '../../support/errors.ts';
import {
  activeTranscript,
  formatArgv,
  redact,
  registerSecret,
  run,
  spawnBackground,
  Transcript,
  useTranscript,
} from '../../support/exec/index.ts';

test('run records argv, exit code, duration and output in the active transcript', async () => {
  const t = new Transcript();
  useTranscript(t);
  const res = await run(['sh', '-c', 'echo out; echo err >&2', 'x'], { timeoutMs: 5000, where: 'node worker' });
  assert.equal(res.exitCode, 0);
  assert.equal(res.stdout, 'out\n');
  assert.equal(t.records.length, 1);
  const rec = t.records[0]!;
  assert.equal(rec.where, 'node worker');
  assert.deepEqual(rec.argv, ['sh', '-c', 'echo out; echo err >&2', 'x']);
  assert.equal(rec.stderr, 'err\n');
  assert.match(Transcript.render(t.records), /# \[1\] node worker · exit 0 · \d+ ms/);
  assert.match(Transcript.render(t.records), /\$ sh -c 'echo out; echo err >&2' x/);
});

test('a non-zero exit is an InfraError naming the command and its stderr', async () => {
  await assert.rejects(
    run(['sh', '-c', 'echo boom >&2; exit 3'], { timeoutMs: 5000 }),
    (e: unknown) =>
      e instanceof InfraError && /exit code 3/.test(e.message) && /sh -c/.test(e.message) && /boom/.test(e.message),
  );
  const res = await run(['sh', '-c', 'exit 4'], { timeoutMs: 5000, check: false });
  assert.equal(res.exitCode, 4);
});

test('a hanging command ends at its timeout with an error naming it', async () => {
  const started = Date.now();
  await assert.rejects(
    run(['sleep', '30'], { timeoutMs: 300, where: 'pod client' }),
    (e: unknown) => e instanceof InfraError && /timed out after 300 ms on pod client: sleep 30/.test(e.message),
  );
  assert.ok(Date.now() - started < 5000);
  assert.equal(activeTranscript().records.at(-1)!.timedOut, true);
});

test('a missing tool says so and points at doctor', async () => {
  await assert.rejects(
    run(['hookpoint-no-such-tool-xyz'], { timeoutMs: 2000 }),
    (e: unknown) =>
      e instanceof InfraError && /not installed or not on PATH/.test(e.message) && /doctor/.test(e.paragraph()),
  );
});

test('arguments are passed as argv, never through a shell', async () => {
  const evil = 'x; touch /tmp/hookpoint-pwned-$$ && echo pwned';
  const res = await run(['printf', '%s', evil], { timeoutMs: 2000 });
  assert.equal(res.stdout, evil);
  await assert.rejects(run([], { timeoutMs: 100 }), /empty command/);
  await assert.rejects(run(['echo', 'a\0b'], { timeoutMs: 100 }), /NUL byte/);
  await assert.rejects(run(['echo'], { timeoutMs: 0 }), /no timeout given/);
});

test('secrets are redacted in transcripts', async () => {
  const t = new Transcript();
  useTranscript(t);
  registerSecret('s3cr3t-value');
  await run(
    [
      'printf',
      '%s\n',
      'token: abc.def.ghi',
      'Authorization: Bearer eyJhbGciOi',
      's3cr3t-value',
      'client-key-data: LS0tLS1CRUdJTg==',
    ],
    {
      timeoutMs: 2000,
    },
  );
  const text = Transcript.render(t.records);
  assert.doesNotMatch(text, /abc\.def\.ghi|eyJhbGciOi|s3cr3t-value|LS0tLS1CRUdJTg/);
  assert.match(text, /Bearer <redacted>/);
  assert.match(redact('password=hunter2 user=bob'), /password=<redacted> user=bob/);
  assert.match(
    redact('-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----'),
    /^-----BEGIN RSA PRIVATE KEY-----<redacted>-----END RSA PRIVATE KEY-----$/,
  );
});

test('formatArgv quotes what a shell would split', () => {
  assert.equal(
    formatArgv(['ip', 'netns', 'exec', 'hp-a', 'curl', "it's", 'a b', '']),
    "ip netns exec hp-a curl 'it'\\''s' 'a b' ''",
  );
});

test('background processes can be waited on and stopped, and are recorded', async () => {
  const t = new Transcript();
  useTranscript(t);
  const p = spawnBackground(['sh', '-c', 'echo ready; sleep 30'], { maxMs: 10_000, where: 'node cp' });
  await p.waitFor(/ready/, 3000);
  assert.equal(p.running(), true);
  const res = await p.stop();
  assert.equal(p.running(), false);
  assert.equal(res.stdout, 'ready\n');
  assert.equal(t.records[0]!.background, true);
  assert.equal(t.records[0]!.signal, 'SIGTERM');
});

test('waitFor fails clearly when the process exits first', async () => {
  const p = spawnBackground(['sh', '-c', 'echo nope >&2; exit 1'], { maxMs: 5000 });
  await assert.rejects(p.waitFor(/listening/, 3000), /exited before printing/);
  await p.stop();
});
