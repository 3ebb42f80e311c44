/**
 * The lab's program layout is stated twice — in lab_lb.c (what the kernel runs) and in
 * node-datapath.ts (what the loader fills in) — and both must be Cilium's (parsers/cilium-programs.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import {
  CALLS_MAP_SIZE,
  endpointKey,
  LAB_KPR_SOURCE,
  LAB_PROGRAM_SOURCE,
  MAP_NAMES,
  OVERLAY_PROGRAMS,
  POLICY_PROGRAM,
  PROGRAM_NAMES,
  SHARED_MAPS,
  SOCK_PROGRAMS,
  sourceText,
  TAIL_CALLS,
  TUNNEL_MAP_NAMES,
} from '../../support/backends/lab/datapath/index.ts';
import { CILIUM_CALL, IPV4_HOOK_SLOTS, LXC_HOOK_PROGRAMS } from '../../support/parsers/cilium-programs.ts';

/** lab_lb.c with the headers it includes (lab_common.h), as clang reads it. */
const fullSource = sourceText(LAB_PROGRAM_SOURCE);
/** The object of the seed's native routing: the LAB_TUNNEL sections left out, as clang does. */
const source = fullSource.replace(/^#ifdef LAB_TUNNEL\n[\s\S]*?^#endif[^\n]*\n/gm, '');
const tunnelPrograms = [...fullSource.matchAll(/^SEC\("tc"\)\nint (\w+)\(struct __sk_buff \*skb\)$/gm)]
  .map((m) => m[1])
  .filter((p) => !source.includes(`int ${p}(`));
const define = (name: string) => Number(new RegExp(`^#define ${name} (\\d+)$`, 'm').exec(source)?.[1]);
const programs = [...source.matchAll(/^SEC\("tc"\)\nint (\w+)\(struct __sk_buff \*skb\)$/gm)].map((m) => m[1]);
const tailCallsIn = (fn: string) => {
  const body = source.slice(source.indexOf(`int ${fn}(`));
  return [...body.slice(0, body.indexOf('\n}\n')).matchAll(/bpf_tail_call\(skb, &(\w+), (\w+)\)/g)].map((m) => [
    m[1],
    m[2],
  ]);
};

test('lab_lb.c uses Cilium’s slot numbers and the loader fills the slots with the programs the C names', () => {
  assert.equal(define('CILIUM_CALL_IPV4_FROM_LXC'), CILIUM_CALL.IPV4_FROM_LXC);
  assert.equal(define('CILIUM_CALL_IPV4_TO_LXC_POLICY_ONLY'), CILIUM_CALL.IPV4_TO_LXC_POLICY_ONLY);
  assert.equal(define('CILIUM_CALL_IPV4_TO_ENDPOINT'), CILIUM_CALL.IPV4_TO_ENDPOINT);
  assert.equal(define('CILIUM_CALL_SIZE'), CALLS_MAP_SIZE);
  assert.deepEqual(PROGRAM_NAMES, LXC_HOOK_PROGRAMS);
  assert.deepEqual(
    programs.sort(),
    [...TAIL_CALLS.map((t) => t.program), POLICY_PROGRAM, ...Object.values(PROGRAM_NAMES)].sort(),
  );
  for (const m of MAP_NAMES) assert.match(source, new RegExp(`^\\} ${m} SEC\\("\\.maps"\\);$`, 'm'), m);
  // Tunnel mode adds the node's own programs and maps, and nothing else.
  assert.deepEqual(tunnelPrograms.sort(), OVERLAY_PROGRAMS.map((o) => o.program).sort());
  for (const m of TUNNEL_MAP_NAMES) {
    assert.match(fullSource, new RegExp(`^\\} ${m} SEC\\("\\.maps"\\);$`, 'm'), m);
    assert.doesNotMatch(source, new RegExp(`^\\} ${m} SEC`, 'm'), `${m} only in tunnel mode`);
  }
});

test('the hook programs only tail-call, into the slots the loader fills; the policy entry into its own array', () => {
  const slotOf = (name: string) => TAIL_CALLS.find((t) => t.program === name)!.slot;
  assert.deepEqual(tailCallsIn('cil_from_container'), [['cilium_calls', 'CILIUM_CALL_IPV4_FROM_LXC']]);
  assert.equal(slotOf('tail_handle_ipv4'), IPV4_HOOK_SLOTS.ingress[0]);
  assert.deepEqual(tailCallsIn('cil_to_container'), [['cilium_calls', 'CILIUM_CALL_IPV4_TO_ENDPOINT']]);
  assert.ok(IPV4_HOOK_SLOTS.egress.includes(slotOf('tail_ipv4_to_endpoint')));
  assert.deepEqual(tailCallsIn(POLICY_PROGRAM), [['cilium_calls', 'CILIUM_CALL_IPV4_TO_LXC_POLICY_ONLY']]);
  assert.equal(slotOf('tail_ipv4_policy'), CILIUM_CALL.IPV4_TO_LXC_POLICY_ONLY);
  // The only bpf_redirect is in the delivery program.
  const redirects = programs.filter((p) => {
    const body = source.slice(source.indexOf(`int ${p}(`));
    return /bpf_redirect\(/.test(body.slice(0, body.indexOf('\n}\n')));
  });
  assert.deepEqual(redirects, ['tail_ipv4_policy']);
});

test('endpoint ids take Cilium’s 5-digit form; out-of-range ids are refused', () => {
  assert.equal(endpointKey(1573), '01573');
  assert.equal(endpointKey(7), '00007');
  assert.throws(() => endpointKey(0), /between 1 and 65535/);
  assert.throws(() => endpointKey(70000), /between 1 and 65535/);
});

test('lab_lb.c and lab_kpr.c share one definition of their common maps and packet helpers (lab_common.h)', () => {
  const header = readFileSync(path.join(path.dirname(LAB_PROGRAM_SOURCE), 'lab_common.h'), 'utf8');
  const mapDef = (m: string) => new RegExp(`^\\} ${m} SEC\\("\\.maps"\\);$`, 'm');
  for (const file of [LAB_PROGRAM_SOURCE, LAB_KPR_SOURCE]) {
    const own = readFileSync(file, 'utf8');
    assert.match(own, /^#include "lab_common\.h"$/m, file);
    for (const m of SHARED_MAPS) assert.doesNotMatch(own, mapDef(m), `${m} defined again in ${file}`);
    for (const fn of ['parse', 'rewrite_addr', 'rewrite_port', 'cfg_flags'])
      assert.doesNotMatch(own, new RegExp(`^static __always_inline \\S+ \\*?${fn}\\(`, 'm'), `${fn} in ${file}`);
    // The compile cache key covers the header: a changed header is a changed object.
    assert.ok(sourceText(file).includes(header), file);
  }
  for (const m of SHARED_MAPS) assert.match(header, mapDef(m), m);
  // lab_kpr.c keeps its programs and sections.
  const kpr = sourceText(LAB_KPR_SOURCE);
  for (const s of SOCK_PROGRAMS)
    assert.match(kpr, new RegExp(`^SEC\\("cgroup/${s.attach}"\\)\\nint ${s.program}\\(`, 'm'));
});
