/**
 * Helper calls the kernel withholds: a bpftool without CAP_SYSLOG (the cilium-agent container's
 * default capabilities) on a kernel with perf_event_paranoid ≥ 2 reads every helper call as
 * `call bpf_unspec#0`, tail calls excepted. The fixture was produced here, on the lab's same-node
 * scenario, with bpftool run under `setpriv` and the agent container's bounding set (its README).
 * Such a dump must not be read as "no redirect": the verdict is inconclusive and says why.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InconclusiveError } from '../../support/errors.ts';
import { expectHelperCall, expectHelperOnPath } from '../../support/expectations/bpftool.ts';
import { parseBpftoolXlated, WITHHELD_HELPER } from '../../support/parsers/bpftool.ts';
import { bpftoolTailCalls } from '../../support/probes/bpftool.ts';
import { readRecorded, replayBackend } from './helpers/bpftool-replay.ts';
import { realWorld } from './helpers/real-world.ts';

const WITHHELD = 'test/fixtures/lab-bpftool/tail-calls-same-node-without-cap-syslog.txt';
const NAMED = 'test/fixtures/lab-bpftool/tail-calls-same-node.txt';
const NODE = 'hpprof-control-plane';
const CLIENT_LXC = 'lxc0f2dcb4d18dd';
/** The echo backend's endpoint id in that run: its slot of cilium_call_policy is on the path. */
const BACKEND_EP = 2392;

const inconclusiveWith =
  (...res: RegExp[]) =>
  (e: unknown) =>
    e instanceof InconclusiveError && res.every((re) => re.test(`${e.message}\n${e.hint ?? ''}`));

describe('withheld helper calls', () => {
  it('the parser counts `call bpf_unspec#0` as withheld, not as a helper; tail calls stay named', () => {
    const x = parseBpftoolXlated(readRecorded(WITHHELD).get('bpftool prog dump xlated id 50')!);
    assert.equal(WITHHELD_HELPER, 'bpf_unspec');
    assert.deepEqual(x.calls, []);
    assert.equal(x.withheldCalls.length, 32);
    assert.equal(x.withheldCalls[0], 74);
    assert.equal(x.unknownLines.length, 0);
    const y = parseBpftoolXlated(readRecorded(WITHHELD).get('bpftool prog dump xlated id 67')!);
    assert.deepEqual(y.calls, ['bpf_tail_call']);
    assert.equal(y.tailCalls.length, 2);
    assert.equal(y.withheldCalls.length, 58);
    assert.ok(!y.callSites.some((c) => c.helper === WITHHELD_HELPER));
  });

  it('the same program read with CAP_SYSLOG names every helper (positive control)', () => {
    const x = parseBpftoolXlated(readRecorded(NAMED).get('bpftool prog dump xlated id 563')!);
    assert.deepEqual(x.withheldCalls, []);
    assert.ok(x.calls.includes('bpf_redirect'));
  });

  it('real bpftool output with named helpers has nothing withheld (real-world)', (t) => {
    const text = realWorld(t, 'bpftool-prog-dump-xlated-generic-socketfilter-format-idx21415374477.txt');
    if (text === null) return;
    const x = parseBpftoolXlated(text);
    assert.deepEqual(x.withheldCalls, []);
    assert.ok(x.calls.includes('bpf_map_lookup_elem'));
  });

  it('-j output: a withheld call is counted the same way', () => {
    const x = parseBpftoolXlated(
      JSON.stringify([{ disasm: '(b7) r2 = 0' }, { disasm: '(85) call bpf_unspec#0' }, { disasm: '(95) exit' }]),
    );
    assert.deepEqual(x.withheldCalls, [1]);
    assert.deepEqual(x.calls, []);
  });

  it('the tail-call path is followed all the way, and the verdict is inconclusive, naming why and the fix', async () => {
    const { backend } = replayBackend(readRecorded(WITHHELD));
    const ev = await bpftoolTailCalls(backend, NODE, {
      ifname: CLIENT_LXC,
      direction: 'ingress',
      destinations: [BACKEND_EP],
    });
    assert.deepEqual(
      ev.data.programs.map((p) => [p.id, p.withheldCalls]),
      [
        [66, 0],
        [67, 58],
        [47, 0],
        [50, 32],
      ],
    );
    assert.match(ev.summary, /no redirect helper on the path \(some helper calls withheld by the kernel\)$/);
    assert.throws(
      () => expectHelperOnPath(ev, 'bpf_redirect'),
      inconclusiveWith(
        /^No program on the path of an IPv4 packet from tc ingress of lxc0f2dcb4d18dd to endpoint 2392 shows a call of bpf_redirect, bpf_redirect_peer, bpf_redirect_neigh, but the dump of tail_handle_ipv4 \(id 67\), tail_ipv4_policy \(id 50\) shows 90 helper calls as `call bpf_unspec#0`: the kernel withholds helper addresses from a bpftool without CAP_SYSLOG/,
        /tail_ipv4_policy \(id 50\) \(evidence: bpftool-tail-calls node hpprof-control-plane lxc0f2dcb4d18dd\)\./,
        /securityContext\.capabilities\.ciliumAgent/,
        /kernel\.perf_event_paranoid to 1/,
      ),
    );
  });

  it('one program: a helper not among the named ones is inconclusive while calls are withheld, a failure once none are', () => {
    const x = parseBpftoolXlated(readRecorded(WITHHELD).get('bpftool prog dump xlated id 50')!);
    assert.throws(
      () => expectHelperCall(x, 'bpf_redirect'),
      inconclusiveWith(/^The translated code calls no named helper and shows 32 helper calls as `call bpf_unspec#0`/),
    );
    assert.throws(() => expectHelperCall({ ...x, withheldCalls: [] }, 'bpf_redirect'), /Expected the translated code/);
    const y = parseBpftoolXlated(readRecorded(WITHHELD).get('bpftool prog dump xlated id 67')!);
    assert.doesNotThrow(() => expectHelperCall(y, 'bpf_tail_call'));
  });
});
