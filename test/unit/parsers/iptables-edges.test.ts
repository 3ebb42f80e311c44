/**
 * iptables output at its edges: blanks and line ends on one side of a line, runs of blanks and
 * tabs between columns, counters that are not counters, options that only look like the ones
 * the rule shape reads, -L listings cut short or without their column line, comments placed
 * after other matches, and how far format detection reads. Each case is one the fast-path
 * scanners could get wrong while the common shapes (iptables-shapes.test.ts) still pass.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  detectIptablesFormat,
  type IptablesDump,
  parseIptables,
  parseIptablesList,
  parseIptablesNumber,
  parseIptablesRules,
  parseIptablesSave,
} from '../../../support/parsers/iptables.ts';
import { realWorld } from '../helpers/real-world.ts';

const rulesOf = (d: IptablesDump, name: string) => d.chains.find((c) => c.name === name)?.rules ?? [];

describe('iptables-save and -S: blanks, line ends, counters', () => {
  it('a blank, tab or CR on one side only of a line is trimmed off the rule', () => {
    const d = parseIptablesSave(['\t-A X -j A', '-A X -j B ', '-A X -j C\t', '-A X -j D\r', ' -A X -j E'].join('\n'));
    assert.deepEqual(d.unknownLines, []);
    assert.deepEqual(
      rulesOf(d, 'X').map((r) => [r.target, r.raw, r.spec, r.line]),
      [
        ['A', '-A X -j A', '-A X -j A', 1],
        ['B', '-A X -j B', '-A X -j B', 2],
        ['C', '-A X -j C', '-A X -j C', 3],
        ['D', '-A X -j D', '-A X -j D', 4],
        ['E', '-A X -j E', '-A X -j E', 5],
      ],
    );
  });

  it('a leading empty line does not swallow the dump', () => {
    const d = parseIptablesSave('\n*nat\n[1:2] -A X -j Y\n');
    assert.deepEqual(d.unknownLines, []);
    assert.deepEqual(
      d.chains.map((c) => [c.table, c.name, c.rules.map((r) => [r.target, r.packets, r.line])]),
      [['nat', 'X', [['Y', 1, 3]]]],
    );
  });

  it('runs of blanks inside table, chain header and -P/-N lines separate words', () => {
    const save = parseIptablesSave('* nat\n:INPUT  ACCEPT [1:2]\n-A INPUT -j X\n');
    assert.deepEqual(
      save.chains.map((c) => [c.table, c.name, c.policy, c.packets, c.bytes]),
      [['nat', 'INPUT', 'ACCEPT', 1, 2]],
    );
    const rules = parseIptablesRules('-P  INPUT   DROP  -c 12  3456\n-N  KUBE-X\n');
    assert.deepEqual(rules.unknownLines, []);
    assert.deepEqual(
      rules.chains.map((c) => [c.name, c.policy, c.packets, c.bytes]),
      [
        ['INPUT', 'DROP', 12, 3456],
        ['KUBE-X', null, null, null],
      ],
    );
  });

  it('a rule with no options only counts: its chain is the whole word after -A', () => {
    const d = parseIptablesSave('*filter\n[5:300] -A COUNT\n-A COUNT\n');
    assert.deepEqual(d.unknownLines, []);
    assert.deepEqual(
      d.chains.map((c) => [c.name, c.rules.map((r) => [r.target, r.matches, r.packets, r.spec])]),
      [
        [
          'COUNT',
          [
            [null, '', 5, '-A COUNT'],
            [null, '', null, '-A COUNT'],
          ],
        ],
      ],
    );
  });

  it('counters need digits on both sides of the colon, inside brackets', () => {
    const d = parseIptablesSave(
      [
        '*filter',
        ':INPUT ACCEPT [:5]',
        ':OUTPUT ACCEPT 12:34]',
        ':FORWARD DROP [1.5:30]',
        '[:0] -A INPUT -j A',
        '[1.5:30] -A INPUT -j B',
        '[0:] -A INPUT -j C',
        '[7:8] -A INPUT -j D',
      ].join('\n'),
    );
    assert.deepEqual(
      d.chains.map((c) => [c.name, c.policy, c.packets, c.bytes, c.rules.map((r) => [r.target, r.packets, r.bytes])]),
      [
        ['INPUT', 'ACCEPT', null, null, [['D', 7, 8]]],
        ['OUTPUT', 'ACCEPT', null, null, []],
        ['FORWARD', 'DROP', null, null, []],
      ],
    );
    assert.deepEqual(
      d.unknownLines.map((u) => u.line),
      [5, 6, 7],
    );
  });

  // iptables itself stops at 28 characters; the parser takes up to 64 and no more, so a long
  // word after `-A` or `:` (a pasted message, a path) does not become a chain.
  it('a chain name is 1 to 64 characters', () => {
    const n64 = 'C'.repeat(64);
    const n65 = 'C'.repeat(65);
    const d = parseIptablesSave(`:${n64} - [0:0]\n:${n65} - [0:0]\n-A ${n64} -j Y\n-A ${n65} -j Y\n`);
    assert.deepEqual(
      d.chains.map((c) => [c.name.length, c.rules.length]),
      [[64, 1]],
    );
    assert.deepEqual(
      d.unknownLines.map((u) => u.line),
      [2, 4],
    );
  });

  it('a header whose policy field is blank (a pasted no-break space) has no policy', () => {
    const d = parseIptablesSave(':KUBE-X \u00a0\n');
    assert.deepEqual(
      d.chains.map((c) => [c.name, c.policy, c.packets]),
      [['KUBE-X', null, null]],
    );
  });

  it('a dump without rules claims no exact counters', () => {
    assert.equal(parseIptablesSave('').exactCounters, false);
    assert.equal(parseIptablesSave('*nat\n:PREROUTING ACCEPT [1:2]\nCOMMIT\n').exactCounters, false);
    assert.equal(parseIptablesRules('-P INPUT ACCEPT -c 1 2\n').exactCounters, false);
  });
});

describe('a byte-order mark before the first line', () => {
  // An editor on another system may save a pasted dump with a BOM; the table and chains are still read.
  it('is skipped in iptables-save, -S and -L text', () => {
    const save = parseIptablesSave(
      '\uFEFF*nat\n:KUBE-SERVICES - [0:0]\n[3:180] -A KUBE-SERVICES -j KUBE-NODEPORTS\nCOMMIT\n',
    );
    assert.deepEqual(
      [save.unknownLines, save.chains.map((c) => c.name), rulesOf(save, 'KUBE-SERVICES')[0]?.table],
      [[], ['KUBE-SERVICES'], 'nat'],
    );
    const rules = parseIptablesRules('\uFEFF-N KUBE-SERVICES\n-A KUBE-SERVICES -j KUBE-NODEPORTS\n');
    assert.deepEqual([rules.unknownLines, rulesOf(rules, 'KUBE-SERVICES').length], [[], 1]);
    const list = parseIptablesList(
      '\uFEFFChain KUBE-SERVICES (2 references)\ntarget     prot opt source               destination\nKUBE-NODEPORTS  all  --  0.0.0.0/0            0.0.0.0/0\n',
    );
    assert.deepEqual(
      [list.unknownLines, rulesOf(list, 'KUBE-SERVICES').map((r) => r.target)],
      [[], ['KUBE-NODEPORTS']],
    );
    assert.equal(parseIptables('\uFEFF*nat\n-A X -j Y\n').chains[0]?.rules[0]?.table, 'nat');
  });
});

describe('iptables -S: policy and rule counters', () => {
  it('only -P CHAIN POLICY -c P B carries policy counters; -N sets neither policy nor counters', () => {
    const d = parseIptablesRules(
      [
        '-N KUBE-Y -c 1 2',
        '-N KUBE-Z DROP -c 7 8',
        '-P OUTPUT ACCEPT x 3 4',
        '-P FORWARD ACCEPT -c 5',
        '-P INPUT DROP -c 6',
      ].join('\n'),
    );
    assert.deepEqual(d.unknownLines, []);
    assert.deepEqual(
      d.chains.map((c) => [c.name, c.policy, c.packets, c.bytes]),
      [
        ['KUBE-Y', null, null, null],
        ['KUBE-Z', null, null, null],
        ['OUTPUT', 'ACCEPT', null, null],
        ['FORWARD', 'ACCEPT', null, null],
        ['INPUT', 'DROP', null, null],
      ],
    );
  });

  it('rule counters are the trailing -c P B only, of any width', () => {
    const d = parseIptablesRules(
      ['-A X -j Y -c 12 3456', '-A X -m comment --comment "retry -c 3 5 times" -j Z'].join('\n'),
    );
    assert.deepEqual(
      rulesOf(d, 'X').map((r) => [r.target, r.packets, r.bytes, r.spec]),
      [
        ['Y', 12, 3456, '-A X -j Y'],
        ['Z', null, null, '-A X -m comment --comment "retry -c 3 5 times" -j Z'],
      ],
    );
  });
});

describe('iptables-save: the rule spec scanner', () => {
  it('an empty quoted comment is an empty comment, and the rule goes on after it', () => {
    const d = parseIptablesSave('-A X -m comment --comment "" -p tcp -j Y\n');
    const r = rulesOf(d, 'X')[0]!;
    assert.deepEqual([r.comment, r.protocol, r.target], ['', 'tcp', 'Y']);
  });

  it('-p right after a value that was read, or after a lone word, is not negated', () => {
    const d = parseIptablesSave(
      [
        '-A X -m comment --comment "c" -p tcp -j ACCEPT',
        '-A X -j DNAT --to-destination 10.0.0.1:80 -p udp',
        '-I X 1 -p sctp -j ACCEPT',
        '-A X ! -p icmp -j DROP',
      ].join('\n'),
    );
    assert.deepEqual(
      rulesOf(d, 'X').map((r) => r.protocol),
      ['tcp', 'udp', 'sctp', '!icmp'],
    );
  });

  it('a two-letter value such as the interface wg is not the -g option', () => {
    const d = parseIptablesSave('-A FORWARD -i wg -p udp -j ACCEPT\n-A FORWARD -o up -j DROP\n');
    assert.deepEqual(
      rulesOf(d, 'FORWARD').map((r) => [r.target, r.protocol, r.matches]),
      [
        ['ACCEPT', 'udp', '-i wg -p udp'],
        ['DROP', null, '-o up'],
      ],
    );
  });

  it('other options of the same length are not --comment, --to-destination or --goto', () => {
    const d = parseIptablesSave(
      [
        '-A X -m conntrack --ctstate NEW -m comment --comment "new flows" -j ACCEPT',
        '-A X -m hashlimit --hashlimit-mode srcip --hashlimit-name lim -j DNAT --to-destination 10.0.0.1:80',
        '-A X --gotox G -j T',
      ].join('\n'),
    );
    assert.deepEqual(
      rulesOf(d, 'X').map((r) => [r.comment, r.dnatTo, r.target]),
      [
        ['new flows', null, 'ACCEPT'],
        [null, '10.0.0.1:80', 'DNAT'],
        [null, null, 'T'],
      ],
    );
  });

  it('real kube-proxy rules: --ctstate and --or-mark values are no comment', (t) => {
    const text = realWorld(t, 'kubeproxy-iptables-restore-input-fixture-k8s-proxier_test-TestOverallIPTablesRules.txt');
    if (text === null) return;
    const d = parseIptablesSave(text);
    const invalid = d.chains.find((c) => c.table === 'filter' && c.name === 'KUBE-FORWARD')!.rules[0]!;
    assert.deepEqual(
      [invalid.raw, invalid.target, invalid.comment],
      [
        '-A KUBE-FORWARD -m conntrack --ctstate INVALID -m nfacct --nfacct-name ct_state_invalid_dropped_pkts -j DROP',
        'DROP',
        null,
      ],
    );
    const masq = d.chains.find((c) => c.table === 'nat' && c.name === 'KUBE-MARK-MASQ')!.rules[0]!;
    assert.deepEqual([masq.target, masq.comment], ['MARK', null]);
  });
});

describe('iptables -L: line ends, columns, numbering', () => {
  it('unknown lines of CRLF output are reported without the CR', () => {
    const d = parseIptablesList(
      'Chain X (1 references)\r\ntarget prot opt source destination\r\nnot a row at all\r\nRETURN all -- 0.0.0.0/0 0.0.0.0/0\r\n',
    );
    assert.deepEqual(d.unknownLines, [{ line: 3, text: 'not a row at all' }]);
    assert.deepEqual(
      rulesOf(d, 'X').map((r) => [r.target, r.raw]),
      [['RETURN', 'RETURN all -- 0.0.0.0/0 0.0.0.0/0']],
    );
  });

  it('-v -x --line-numbers: wide counter columns, rule numbers of two digits', () => {
    const row = (n: number, p: string, b: string) =>
      `${String(n).padEnd(4)}${p.padStart(8)} ${b.padStart(10)} KUBE-SEP-${n}  all  --  *      *       0.0.0.0/0            0.0.0.0/0`;
    const lines = [
      'Chain KUBE-SVC-X (1 references)',
      'num      pkts      bytes target     prot opt in     out     source               destination',
    ];
    for (let n = 1; n <= 10; n++) lines.push(row(n, String(n * 1000), String(n * 60000)));
    const d = parseIptablesList(lines.join('\n'));
    assert.deepEqual(d.unknownLines, []);
    assert.equal(d.exactCounters, true);
    const rules = rulesOf(d, 'KUBE-SVC-X');
    assert.deepEqual(
      rules.map((r) => [r.target, r.packets, r.bytes, r.line]),
      Array.from({ length: 10 }, (_, i) => [`KUBE-SEP-${i + 1}`, (i + 1) * 1000, (i + 1) * 60000, i + 3]),
    );
    // The number column is gone from the row, blanks after it too.
    assert.equal(rules[9]!.raw, '10000     600000 KUBE-SEP-10  all  --  *      *       0.0.0.0/0            0.0.0.0/0');
    assert.equal(rules[9]!.spec, 'KUBE-SEP-10  all  --  *      *       0.0.0.0/0            0.0.0.0/0');
  });

  it('tabs between the columns of a row are separators', () => {
    const d = parseIptablesList(
      [
        'Chain X (1 references)',
        ' pkts bytes target     prot opt in     out     source               destination',
        '5\t300\tDNAT\ttcp\t--\t*\t*\t0.0.0.0/0\t0.0.0.0/0\t/* a/b */ tcp to:10.0.0.1:80',
      ].join('\n'),
    );
    assert.deepEqual(d.unknownLines, []);
    const r = rulesOf(d, 'X')[0]!;
    assert.deepEqual(
      [r.packets, r.bytes, r.target, r.protocol, r.comment, r.dnatTo, r.spec, r.matches],
      [
        5,
        300,
        'DNAT',
        'tcp',
        'a/b',
        '10.0.0.1:80',
        'DNAT\ttcp\t--\t*\t*\t0.0.0.0/0\t0.0.0.0/0\t/* a/b */ tcp to:10.0.0.1:80',
        'tcp\t--\t*\t*\t0.0.0.0/0\t0.0.0.0/0\t/* a/b */ tcp to:10.0.0.1:80',
      ],
    );
  });

  it('rows under a chain header without the column line read as plain rows', () => {
    const d = parseIptablesList(
      'Chain X (1 references)\nRETURN all -- 0.0.0.0/0 0.0.0.0/0\n6 -- 0.0.0.0/0 0.0.0.0/0\n',
    );
    assert.deepEqual(d.unknownLines, []);
    assert.deepEqual(
      rulesOf(d, 'X').map((r) => [r.target, r.protocol, r.packets]),
      [
        ['RETURN', 'all', null],
        [null, 'tcp', null],
      ],
    );
  });

  it('numeric protocols 1 and 58 read as icmp and ipv6-icmp', () => {
    const d = parseIptablesList(
      'Chain X (1 references)\ntarget prot opt source destination\nACCEPT 1 -- 0.0.0.0/0 0.0.0.0/0\nACCEPT !58 -- ::/0 ::/0\n',
    );
    assert.deepEqual(
      rulesOf(d, 'X').map((r) => r.protocol),
      ['icmp', '!ipv6-icmp'],
    );
  });
});

describe('iptables -L: rows that are not rules', () => {
  it('plain listing: rows cut short and a prompt line are unknown; four columns without target are a rule', () => {
    const text = [
      'Chain X (1 references)',
      'target     prot opt source               destination',
      'RETURN     all  --  0.0.0.0/0            0.0.0.0/0',
      '           all  --  0.0.0.0/0            0.0.0.0/0',
      'ACCEPT     all  --  0.0.0.0/0',
      'root@node:/# iptables -t nat -L -n',
    ].join('\n');
    const d = parseIptablesList(text);
    assert.deepEqual(
      rulesOf(d, 'X').map((r) => [r.target, r.protocol, r.line]),
      [
        ['RETURN', 'all', 3],
        [null, 'all', 4],
      ],
    );
    assert.deepEqual(
      d.unknownLines.map((u) => u.line),
      [5, 6],
    );
    assert.equal(d.exactCounters, false, 'plain rows carry no counters');
  });

  it('verbose listing: a prompt, a row cut short, a non-number counter, a line without opt column are unknown', () => {
    const text = [
      'Chain X (1 references)',
      ' pkts bytes target     prot opt in     out     source               destination',
      '    1    60 ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0',
      '    0     0 ACCEPT     all  --  *      *       0.0.0.0/0',
      '    x     0 ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0',
      '1 2 packets dropped since boot on eth0 and eth1',
      'root@kind-control-plane:/#',
    ].join('\n');
    const d = parseIptablesList(text);
    assert.deepEqual(
      rulesOf(d, 'X').map((r) => [r.target, r.packets, r.line]),
      [['ACCEPT', 1, 3]],
    );
    assert.deepEqual(
      d.unknownLines.map((u) => u.line),
      [4, 5, 6, 7],
    );
  });

  it('a DNAT row cut before its to: has no DNAT destination', () => {
    const d = parseIptablesList(
      'Chain X (1 references)\ntarget prot opt source destination\nDNAT tcp -- 0.0.0.0/0 0.0.0.0/0 tcp dpt:80\n',
    );
    const r = rulesOf(d, 'X')[0]!;
    assert.deepEqual([r.target, r.dnatTo], ['DNAT', null]);
  });
});

describe('iptables -L: comments', () => {
  it('blanks near the start of a comment are kept too, with or without target', () => {
    const rows = (pad: string) => [
      `    0     0 ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0            /*${pad}a  b */`,
      `    0     0            all  --  *      *       0.0.0.0/0            0.0.0.0/0            /* x  y */`,
    ];
    const d = parseIptablesList(
      [
        'Chain X (1 references)',
        ' pkts bytes target     prot opt in     out     source               destination',
        ...rows('   '),
      ].join('\n'),
    );
    assert.deepEqual(
      rulesOf(d, 'X').map((r) => r.comment),
      ['  a  b', 'x  y'],
    );
    const plain = parseIptablesList(
      [
        'Chain X (1 references)',
        'target     prot opt source               destination',
        '           all  --  0.0.0.0/0            0.0.0.0/0            /* p  q */',
        'ACCEPT     all  --  0.0.0.0/0            0.0.0.0/0            /*   r */',
      ].join('\n'),
    );
    assert.deepEqual(
      rulesOf(plain, 'X').map((r) => r.comment),
      ['p  q', '  r'],
    );
  });

  it('a comment keeps its runs of blanks, with or without target, verbose or plain', () => {
    const verbose = parseIptablesList(
      [
        'Chain X (1 references)',
        ' pkts bytes target     prot opt in     out     source               destination',
        '    0     0 ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0            /* keep  two  blanks */',
        '    0     0            all  --  *      *       0.0.0.0/0            0.0.0.0/0            /* no target  here */',
      ].join('\n'),
    );
    const plain = parseIptablesList(
      [
        'Chain X (1 references)',
        'target     prot opt source               destination',
        'ACCEPT     all  --  0.0.0.0/0            0.0.0.0/0            /* keep  two  blanks */',
        '           all  --  0.0.0.0/0            0.0.0.0/0            /* no target  here */',
      ].join('\n'),
    );
    for (const d of [verbose, plain])
      assert.deepEqual(
        rulesOf(d, 'X').map((r) => [r.target, r.comment]),
        [
          ['ACCEPT', 'keep  two  blanks'],
          [null, 'no target  here'],
        ],
      );
  });

  it('the comment is the /* … */ pair wherever it sits among the matches; an unclosed one is none', () => {
    const d = parseIptablesList(
      [
        'Chain X (1 references)',
        'target     prot opt source               destination',
        'ACCEPT     tcp  --  0.0.0.0/0            0.0.0.0/0            tcp dpt:80 /* web */',
        'DROP       tcp  --  0.0.0.0/0            0.0.0.0/0            STRING match  " */" ALGO name bm TO 65535',
        'ACCEPT     tcp  --  0.0.0.0/0            0.0.0.0/0            /* cut off by the termi',
        'ACCEPT     tcp  --  0.0.0.0/0            0.0.0.0/0            /* */ */',
      ].join('\n'),
    );
    // The last row is `--comment "*/"`: the closing ` */` is looked for after the opening one.
    assert.deepEqual(
      rulesOf(d, 'X').map((r) => r.comment),
      ['web', null, null, '*/'],
    );
  });

  it('real Cilium mangle rules: the comment after socket and mark matches, read whole', (t) => {
    const text = realWorld(t, 'iptables-mangle-nvL-cilium-chains-1.18.6-kind-idx60285825367.txt');
    if (text === null) return;
    const d = parseIptablesList(text);
    assert.deepEqual(
      rulesOf(d, 'CILIUM_PRE_mangle').map((r) => r.comment),
      [
        'cilium: any->pod redirect proxied traffic to host proxy',
        'cilium: TPROXY to host cilium-dns-egress proxy',
        'cilium: TPROXY to host cilium-dns-egress proxy',
      ],
    );
  });
});

describe('parseIptablesNumber', () => {
  it('a suffix alone is not a number', () => {
    assert.deepEqual(['K', 'M', '1K', '0'].map(parseIptablesNumber), [null, null, 1000, 0]);
  });
});

describe('detectIptablesFormat: which lines decide', () => {
  it('a last line without newline, a leading empty line and indented lines still decide', () => {
    assert.deepEqual(
      [
        detectIptablesFormat('Chain INPUT (policy DROP)'),
        detectIptablesFormat('\nChain INPUT (policy DROP)\ntarget prot opt source destination\n'),
        detectIptablesFormat('  -P INPUT ACCEPT\n'),
        detectIptablesFormat('  Chain INPUT (policy DROP)\n'),
      ],
      ['list', 'list', 'rules', 'list'],
    );
    assert.deepEqual(parseIptables('\nChain INPUT (policy DROP)\n').chains[0]!.policy, 'DROP');
  });

  it('the first deciding line wins; a line that only starts like a header decides nothing', () => {
    assert.deepEqual(
      [
        detectIptablesFormat('*nat\n-P INPUT ACCEPT\n'),
        detectIptablesFormat(':X - [0:0]\n-N Y\n'),
        detectIptablesFormat('[12:3456] -A X -j Y\n-N Y\n'),
        detectIptablesFormat('-N X\n*nat\n'),
        detectIptablesFormat('Chain BROKEN references\n*nat\n'),
        detectIptablesFormat("root@node:/# iptables -S | grep -v '[0:0] -A '\n-P INPUT ACCEPT\n"),
      ],
      ['save', 'save', 'save', 'rules', 'save', 'rules'],
    );
  });

  it('text where nothing decides reads as iptables-save', () => {
    assert.deepEqual([detectIptablesFormat(''), detectIptablesFormat('hello\n-A X -j Y\n')], ['save', 'save']);
  });

  // A large text of other output is not scanned whole: detection gives up after 5000 lines.
  it('reads at most 5000 non-blank lines before falling back to iptables-save', () => {
    const noise = (n: number) => Array.from({ length: n }, (_, i) => `noise ${i}`).join('\n');
    const header = 'Chain INPUT (policy DROP)';
    assert.deepEqual(
      [
        detectIptablesFormat(`${noise(4999)}\n${header}\n`),
        detectIptablesFormat(`${noise(4999)}\n\n\n${header}\n`),
        detectIptablesFormat(`${noise(5000)}\n${header}\n`),
      ],
      ['list', 'list', 'save'],
    );
  });
});
