/**
 * Bad input of the vocabulary beyond the seed, refused before anything is provisioned (exit 2, one
 * paragraph naming the step, its line and the fix): ICMP to a ClusterIP, "at least N different
 * backends" with too few requests (the false-failure formula, unit-tested in
 * expectations-traffic.test.ts), lists of nodes with an unknown or repeated node. The boundary cases that must pass are checked too (a refusal that always fires
 * would pass the bad cases alone). Runs the real CLI with --dry-run: no root, no lab.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { cli, expectParagraph, scenario, tempDir, writeFeature } from './helpers/hardening.ts';

const dir = tempDir('vocab');
after(() => rmSync(dir, { recursive: true, force: true }));

async function dryRun(name: string, steps: string) {
  const file = writeFeature(dir, `${name}.feature`, scenario(steps));
  const res = await cli(['run', file, '--dry-run', '--backend', 'lab', '--reports', path.join(dir, 'reports')]);
  return { res, file: path.basename(file) };
}

describe('refused before provisioning: exit 2', () => {
  test('ICMP echo requests to a ClusterIP service', async () => {
    const { res, file } = await dryRun(
      'icmp-service',
      'When pod "client" sends 3 ICMP echo requests to service "echo"\nThen all 3 requests succeed',
    );
    expectParagraph(res, 2, [file, 'ICMP echo requests to service "echo"', 'virtual address'], /replica|node/);
  });

  test('at least 2 different backends of 2 after 14 requests; 15 pass the check', async () => {
    const judge = 'Then the requests are answered by at least 2 different backends of service "echo"';
    const few = await dryRun('few', `When pod "client" sends 14 HTTP requests to service "echo"\n${judge}`);
    expectParagraph(few.res, 2, [few.file, '14 requests over 2 backends', 'send at least 15'], /hookpoint steps/);
    const enough = await dryRun('enough', `When pod "client" sends 15 HTTP requests to service "echo"\n${judge}`);
    assert.equal(enough.res.exitCode, 0, enough.res.stderr);
  });

  test('at least 3 different backends of a service with 2', async () => {
    const { res, file } = await dryRun(
      'three',
      'When pod "client" sends 100 HTTP requests to service "echo"\nThen the requests are answered by at least 3 different backends of service "echo"',
    );
    expectParagraph(res, 2, [file, 'has 2 backends', '3 different ones can never answer'], /hookpoint steps/);
  });

  test('a list of nodes naming an unknown node, or one node twice; a good list passes', async () => {
    const step = (nodes: string) =>
      `When pod "client" sends 3 HTTP requests to service "echo"\nThen the KUBE-SVC counters of service "echo" stay flat on nodes ${nodes}`;
    const unknown = await dryRun('unknown-node', step('"control-plane" and "worker9"'));
    expectParagraph(unknown.res, 2, ['Unknown node "worker9"', unknown.file], /kind config has the nodes/);
    const twice = await dryRun('twice', step('"worker" and "worker"'));
    expectParagraph(twice.res, 2, ['Node "worker" is named twice'], /feature file|hookpoint steps/);
    const good = await dryRun('good-list', step('"control-plane" and "worker"'));
    assert.equal(good.res.exitCode, 0, good.res.stderr);
  });
});
