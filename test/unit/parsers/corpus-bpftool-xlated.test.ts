/** The real-world corpus read as bpftool-xlated output: facts per file, typed by the parser's result (corpus-harness.ts). */
import assert from 'node:assert/strict';
import { type Any, corpusSuite } from './corpus-harness.ts';

corpusSuite('bpftool-xlated', {
  'bpftool-prog-dump-xlated-generic-socketfilter-format-idx21415374477.txt': [
    {
      facts: (r) => {
        assert.deepEqual(r.calls, ['bpf_skb_load_helper_8_no_cache', 'bpf_map_lookup_elem']);
        assert.deepEqual(
          r.callSites.map((c: Any) => c.insn),
          [3, 15],
        );
        assert.equal(r.instructions, 20);
      },
    },
  ],
  'bpftool-prog-dump-xlated-with-btf-source-lines-generic-idx27298049517.txt': [
    {
      facts: (r) => {
        assert.equal(r.instructions, 9);
        assert.deepEqual(r.calls, [], 'the excerpt stops before any call');
      },
    },
  ],
  'cilium-verifier-log-call-bpf_redirect-insn-format-idx22275592747-partial.txt': [
    {
      maxUnknown: 0.4,
      why: 'a verifier log, wrapped by a mail client: only its instruction lines are xlated text; the wrapped `subsys=` halves and verifier state lines are not',
      facts: (r) => {
        assert.deepEqual(r.calls, ['bpf_perf_event_output', 'bpf_redirect']);
        assert.deepEqual(r.callSites[1], { insn: 2179, helper: 'bpf_redirect' });
      },
    },
  ],
});
