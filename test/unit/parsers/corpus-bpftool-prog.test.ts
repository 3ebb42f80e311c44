/** The real-world corpus read as bpftool-prog output: facts per file, typed by the parser's result (corpus-harness.ts). */
import assert from 'node:assert/strict';
import { type Any, corpusSuite } from './corpus-harness.ts';

corpusSuite('bpftool-prog', {
  'bpftool-net-show-prog-show-tcx-1.17.5-native-endpointroutes-idx7258039410.txt': [
    {
      lines: [[23, 35]],
      facts: (r) => {
        assert.deepEqual(
          r.programs.map((p: Any) => [p.id, p.name, p.xlatedBytes, p.mapIds]),
          [
            [1998, 'cil_from_container', 752, [312, 313, 35]],
            [2003, 'cil_to_container', 1448, [312, 35, 313]],
          ],
        );
        assert.equal(r.programs[0].btfId, 667);
      },
    },
  ],
});
