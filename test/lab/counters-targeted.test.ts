/**
 * Counter snapshots that read only the scenario's services (support/kube-proxy/read.ts) give
 * the same rules, counters, verdicts and rendered rule tables as the whole-table read, on nft
 * and on legacy iptables, with traffic between the snapshots — and with unrelated services in
 * the table that the targeted read leaves out.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LabBackend } from '../../support/backends/lab/backend.ts';
import { expectCountersRise } from '../../support/expectations/counters.ts';
import { serviceRules } from '../../support/kube-proxy/rules.ts';
import type { IptablesDump } from '../../support/parsers/index.ts';
import { snapshotCounters } from '../../support/probes/counters.ts';
import { sendRequests } from '../../support/probes/traffic.ts';
import { provisionTwoNodeEcho } from './helpers/echo-lab.ts';

const labs: LabBackend[] = [];
after(async () => {
  for (const l of labs) await l.teardown().catch(() => undefined);
});

/** The service's watched rules as the report shows them: chain, target, comment, counters. */
function watched(dump: IptablesDump, name: string) {
  const r = serviceRules(dump, { namespace: 'default', service: name });
  const row = (x: (typeof r.svcJumps)[number]) => [x.chain, x.target, x.comment, x.packets, x.bytes];
  return {
    svc: r.svcJumps.map(row),
    nodePort: r.nodePortJumps.map(row),
    sep: r.sepDnat.map(row).sort(),
    chains: [...r.svcChains, ...r.extChains, ...r.sepChains].sort(),
  };
}

for (const mode of ['nft', 'legacy'] as const) {
  describe(`targeted counter reads on iptables-${mode}`, () => {
    it('match the whole-table read rule for rule, and give the same verdict and table', async () => {
      const lab = new LabBackend({
        cluster: `hpt-kp${mode[0]}-${process.pid}`.slice(0, 20),
        variants: 'no-tc',
        iptables: mode,
      });
      labs.push(lab);
      const nodes = await provisionTwoNodeEcho(lab);
      // A second service the targeted read must leave out, and whose rules must not leak in.
      await lab.exposeService({ name: 'other', app: 'echo', port: 81, type: 'ClusterIP' });
      await lab.runClient({ name: 'client', node: nodes[0]! });
      const topo = await lab.topology();
      const echo = topo.services.find((s) => s.name === 'echo')!;
      const services = [echo];

      const fullBefore = await snapshotCounters(lab, nodes);
      // Targeted even where the seed-size table is cheaper read whole (nft): the targeted read is what is compared.
      const targetedBefore = await snapshotCounters(lab, nodes, { services, targeted: true });
      const traffic = await sendRequests(
        lab,
        { kind: 'pod', pod: 'client' },
        { ip: echo.clusterIP, port: echo.port },
        4,
      );
      const fullAfter = await snapshotCounters(lab, nodes);
      const targetedAfter = await snapshotCounters(lab, nodes, { services, targeted: true });

      for (const n of nodes) {
        for (const [full, targeted] of [
          [fullBefore, targetedBefore],
          [fullAfter, targetedAfter],
        ] as const) {
          const f = full.get(n)!;
          const t = targeted.get(n)!;
          assert.deepEqual(watched(t.data, 'echo'), watched(f.data, 'echo'), `node ${n}`);
          assert.ok(t.data.exactCounters);
          assert.ok(watched(f.data, 'echo').sep.length === 2 && watched(f.data, 'echo').nodePort.length === 1);
          assert.equal(watched(t.data, 'other').svc.length, 0, 'other services are not read');
          assert.ok(watched(f.data, 'other').svc.length === 1, 'the whole table has them');
          assert.ok(t.raw.length < f.raw.length);
          assert.equal(t.commands.length, 1, 'one command per node');
          assert.match(t.commands[0]!, new RegExp(`^nsenter --net=\\S+ -- sh -c .*iptables-${mode}`, 's'));
        }
      }
      const verdict = (before: typeof fullBefore, after: typeof fullAfter) =>
        expectCountersRise({
          before,
          after,
          service: { namespace: 'default', name: 'echo' },
          nodes,
          traffic: traffic.data,
          atLeast: 4,
          which: 'svc',
          scope: 'sum',
        });
      const full = verdict(fullBefore, fullAfter);
      const targeted = verdict(targetedBefore, targetedAfter);
      assert.equal(targeted.text, full.text);
      assert.deepEqual(targeted.rows, full.rows);
      assert.ok(full.rows.some((r) => r.delta >= 4));
    });
  });
}
