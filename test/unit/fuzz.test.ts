/**
 * Feature text and CLI names never reach a shell: names with shell metacharacters, quotes,
 * newlines and unicode are rejected by validation (exit 2, one paragraph) or passed only as argv;
 * no marker file ever appears. Secrets (kubeconfig keys and tokens, Helm values under secret keys)
 * are redacted in transcripts and attachments.
 */
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { setFlags } from '../../support/backends/kind/plan.ts';
import { validateName } from '../../support/backends/lab/names.ts';
import { UsageError } from '../../support/errors.ts';
import { EvidenceRecorder, MediaType } from '../../support/evidence/index.ts';
import { redact, run, shellQuote, Transcript, useTranscript } from '../../support/exec/index.ts';
import { k8sName } from '../../support/scenario/parameter-types.ts';
import {
  BACKGROUND,
  cli,
  expectNothingLeft,
  expectParagraph,
  REPO,
  scenario,
  tempDir,
  writeFeature,
} from './helpers/hardening.ts';

const dir = tempDir('fuzz');
const MARK = `hphard-pwned-${process.pid}`;
/** Where a shell-injected `touch MARK` would land. */
const LANDING = [REPO, dir, os.tmpdir(), process.cwd(), path.join(REPO, 'reports')].map((d) => path.join(d, MARK));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

const PAYLOADS = [
  `x;touch ${MARK}`,
  `$(touch ${MARK})`,
  `\`touch ${MARK}\``,
  `x|touch ${MARK}`,
  `x&&touch ${MARK}`,
  `x'y`,
  'x"y',
  'x\ny',
  `x\ntouch ${MARK}`,
  'pod-🙂',
  'שלום-\u202epod',
  'x y',
  '-rf',
  '../../etc',
];

function assertNoMarker(): void {
  for (const f of LANDING) assert.ok(!existsSync(f), `a shell ran injected text: ${f} exists`);
}

describe('shell metacharacters in CLI names', () => {
  for (const p of PAYLOADS) {
    test(`run --cluster ${JSON.stringify(p)} is rejected`, async () => {
      const file = writeFeature(dir, 'ok.feature', scenario('Then all 3 requests succeed'));
      const res = await cli(['run', file, '--reports', path.join(dir, 'r'), '--cluster', p]);
      expectParagraph(res, 2, ['Invalid --cluster'], /DNS-1123.*Fix the flag/);
      assertNoMarker();
    });
  }
  for (const p of PAYLOADS.slice(0, 5)) {
    test(`lab status / down --backend kind with ${JSON.stringify(p)} are rejected`, async () => {
      expectParagraph(await cli(['lab', 'status', '--cluster', p]), 2, ['cluster name'], /For example|DNS-1123/);
      expectParagraph(await cli(['down', '--backend', 'kind', '--cluster', p]), 2, ['--cluster'], /DNS-1123/);
      assertNoMarker();
    });
  }
  test('parse reads a file whose name has metacharacters as a plain path', async () => {
    const res = await cli(['parse', 'iptables', path.join(dir, `$(touch ${MARK});x`)]);
    expectParagraph(res, 2, ['does not exist'], /Give the path/);
    assertNoMarker();
  });
});

describe('shell metacharacters in feature text', () => {
  const cases = PAYLOADS.filter((p) => !p.includes('\n'));
  for (const p of cases) {
    test(`pod name ${JSON.stringify(p)} in a step`, async () => {
      const text = scenario(
        'Then all 3 requests succeed',
        BACKGROUND.replace('a client pod "client"', `a client pod "${p}"`),
      );
      const file = writeFeature(dir, 'pod.feature', text);
      const res = await cli(['run', file, '--reports', path.join(dir, 'r'), '--cluster', `hphard-z${process.pid}`]);
      // A quote ends the parameter early: no step matches (undefined); anything else fails the name check.
      if (p.includes('"')) expectParagraph(res, 2, ['Undefined step'], /Closest known steps/);
      else expectParagraph(res, 2, [/Invalid pod name/], /DNS-1123/);
      await expectNothingLeft([dir, `hphard-z${process.pid}`], `hphard-z${process.pid}`, 1000);
      assertNoMarker();
    });
  }
  test('a newline (table escape) in a Helm value', async () => {
    const text = scenario(
      'Then all 3 requests succeed',
      BACKGROUND.replace('| native     |', `| native\\ntouch ${MARK} |`),
    );
    const res = await cli(['run', writeFeature(dir, 'nl.feature', text), '--reports', path.join(dir, 'r')]);
    expectParagraph(res, 2, ['routingMode'], /Fix the row "routingMode"/);
    assertNoMarker();
  });
});

describe('argv only', () => {
  test('every payload reaches the program verbatim through run()', async () => {
    for (const p of PAYLOADS) {
      const res = await run(['printf', '%s', p], { timeoutMs: 5000 });
      assert.equal(res.stdout, p);
    }
    assertNoMarker();
  });

  test('transcript commands are quoted so pasting them into a shell gives the same argv', async () => {
    for (const p of [...PAYLOADS, '', "'", '\\', '$HOME', '!x', '*', '~']) {
      const res = await run(['sh', '-c', `printf '%s' ${shellQuote(p)}`], { timeoutMs: 5000 });
      assert.equal(res.stdout, p, `shellQuote(${JSON.stringify(p)}) = ${shellQuote(p)}`);
    }
    assertNoMarker();
  });

  test('random names: validation accepts only [a-z0-9-] (1000 strings)', () => {
    const alphabet = 'abz09-_;|&$`\'"\\ \n\t(){}<>*?!~#.:/🙂ש\u202eA';
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    let accepted = 0;
    for (let i = 0; i < 1000; i++) {
      const s = Array.from({ length: 1 + rnd(12) }, () => [...alphabet][rnd([...alphabet].length)]).join('');
      for (const check of [() => validateName('pod', s), () => k8sName('pod', s)]) {
        try {
          check();
          assert.match(s, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, `accepted ${JSON.stringify(s)}`);
          accepted += 1;
        } catch (err) {
          assert.ok(err instanceof UsageError, `not a UsageError for ${JSON.stringify(s)}: ${err}`);
        }
      }
    }
    assert.ok(accepted > 0, 'the generator never produced a valid name (the property would be vacuous)');
  });
});

describe('redaction', () => {
  const KEY = 'LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQpNSUlFb3dJQkFBS0NBUUVB';
  const TOKEN = 'eyJhbGciOiJSUzI1NiIsImtpZCI6Imh1bnRlcjIifQ.c2VjcmV0.c2ln';
  const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1\n-----END RSA PRIVATE KEY-----';
  const kubeconfig = `apiVersion: v1
kind: Config
users:
- name: kind-admin
  user:
    client-certificate-data: Q0VSVElGSUNBVEU=
    client-key-data: ${KEY}
    token: ${TOKEN}
`;

  test('kubeconfig client keys and tokens, bearer headers and PEM keys', () => {
    const text = `${kubeconfig}\n{"token":"${TOKEN}"}\nAuthorization: Bearer ${TOKEN}\nkubectl --token=${TOKEN} get pods\n${PEM}\n`;
    const out = redact(text);
    for (const secret of [KEY, TOKEN, 'MIIEowIBAAKCAQEAu1'])
      assert.ok(!out.includes(secret), `${secret} survived:\n${out}`);
    assert.match(out, /client-key-data: <redacted>/);
    assert.match(out, /kind-admin/, 'redaction removed more than the secrets');
  });

  test('Helm values under secret keys are registered and redacted from helm argv, output and attachments', async () => {
    const values = {
      'etcd.password': 'hunter2-etcd',
      'hubble.tls.server.key': 'S3CR3T-KEY-PEM',
      routingMode: 'native',
    };
    const argv = ['helm', 'upgrade', '--install', 'cilium', 'cilium/cilium', ...setFlags(values)];
    const transcript = new Transcript();
    useTranscript(transcript);
    const attached: string[] = [];
    try {
      const res = await run(['printf', '%s\n', ...argv, kubeconfig], { timeoutMs: 5000 });
      assert.ok(res.stdout.includes('hunter2-etcd'), 'the caller still gets the real output to parse');
      const rendered = Transcript.render(transcript.records);
      for (const secret of ['hunter2-etcd', 'S3CR3T-KEY-PEM', KEY, TOKEN])
        assert.ok(!rendered.includes(secret), `${secret} in the transcript:\n${rendered}`);
      assert.match(rendered, /routingMode=native/, 'a value that is not secret stays');
      const ev = new EvidenceRecorder((a) => {
        attached.push(String(a.body));
      });
      await ev.attach('helm', 'host', MediaType.text, `values: ${JSON.stringify(values)}\n${kubeconfig}`);
      for (const secret of ['hunter2-etcd', 'S3CR3T-KEY-PEM', KEY, TOKEN])
        assert.ok(!attached.join('\n').includes(secret), `${secret} in an attachment`);
    } finally {
      useTranscript(new Transcript());
    }
  });
});
