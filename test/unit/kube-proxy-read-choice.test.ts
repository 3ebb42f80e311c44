/**
 * kube-proxy reads: which read is cheaper for a table's size (legacy always targeted, nft only
 * above TARGETED_READ_ABOVE lines), and the size count run through a real shell.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { run as exec } from '../../support/exec/command.ts';
import { servicesSizeCommand, TARGETED_READ_ABOVE, targetedReadCheaper } from '../../support/kube-proxy/read.ts';

test('on iptables-legacy the targeted read is always the cheaper one, however small the table', () => {
  assert.equal(targetedReadCheaper('legacy', 12), true);
  assert.equal(targetedReadCheaper('legacy', 0), true);
  assert.equal(targetedReadCheaper('nft', 12), false);
});

test('on nft the whole table is read up to and including TARGETED_READ_ABOVE lines, targeted above', () => {
  assert.equal(targetedReadCheaper('nft', TARGETED_READ_ABOVE), false);
  assert.equal(targetedReadCheaper('nft', TARGETED_READ_ABOVE + 1), true);
  assert.equal(targetedReadCheaper('nft', null), true);
});

const dir = mkdtempSync(path.join(tmpdir(), 'hookpoint-kp-size-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the size command counts the lines of `iptables -t nat -S KUBE-SERVICES` through sh', async () => {
  // A stand-in for iptables-nft that prints the chain the way `-S` does.
  const fake = path.join(dir, 'iptables-nft');
  writeFileSync(
    fake,
    [
      '#!/bin/sh',
      '[ "$1 $2 $3 $4" = "-t nat -S KUBE-SERVICES" ] || exit 2',
      "echo '-N KUBE-SERVICES'",
      'echo \'-A KUBE-SERVICES -d 10.96.0.10/32 -p udp -m comment --comment "kube-system/kube-dns:dns cluster IP" -m udp --dport 53 -j KUBE-SVC-TCOU7JCQXEZGVUNU\'',
      'echo \'-A KUBE-SERVICES -d 10.96.94.95/32 -p tcp -m comment --comment "default/echo:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-ZJMBFACUQCTMIK2C\'',
      '',
    ].join('\n'),
  );
  chmodSync(fake, 0o755);
  const argv = servicesSizeCommand({ command: fake });
  const r = await exec(argv, { timeoutMs: 10_000, check: false });
  assert.equal(r.exitCode, 0);
  assert.equal(r.stdout.trim(), '3');
});
