/**
 * The capture verdicts' failures word for word: message, expected/actual pair, hint. A person reads
 * these when a scenario fails (which packets, how many, where they went, which evidence), so a
 * changed count, address or citation is a changed verdict. Also the edges the verdicts draw:
 * replies vs the client's own packets, inner vs outer headers, the witness of "sees none".
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  expectDestinationSeen,
  expectEncapsulated,
  expectNothingTo,
  expectOnlyDestinations,
} from '../../support/expectations/capture.ts';
import type { CitedEvidence } from '../../support/expectations/evidence-ref.ts';
import { type Packet, parseTcpdump } from '../../support/parsers/tcpdump.ts';
import type { CaptureData } from '../../support/probes/capture.ts';
import { thrown } from './helpers/thrown.ts';

const CLIENT = '10.244.0.10';
const VIP = '10.96.94.95';
const B1 = '10.244.1.30';
const B2 = '10.244.0.20';

/** One tcpdump line per packet: `src.port > dst.port`, SYN. */
function syn(n: number, src: string, dst: string): string {
  return `04:08:00.${String(n).padStart(6, '0')} IP ${src} > ${dst}: Flags [S], seq 1, win 64240, length 0`;
}
/** A VXLAN (OTV-decoded) outer line and its inner packet line. */
function vxlan(n: number, outerSrc: string, outerDst: string, inner: string): string {
  return `04:08:00.${String(n).padStart(6, '0')} IP ${outerSrc}.36121 > ${outerDst}.8472: OTV, flags [I] (0x08), overlay 0, instance 22446\nIP ${inner}: Flags [S], seq 1, win 64240, length 0`;
}
const q = (line: string) => `\`${line}\``;

function packets(...lines: string[]): Packet[] {
  return parseTcpdump(`${lines.join('\n')}\n`).packets;
}

function cap(where: string, lines: string[], attachment?: string): CitedEvidence<CaptureData> {
  return {
    kind: 'capture',
    where,
    commands: [],
    raw: lines.join('\n'),
    data: { packets: packets(...lines), pcapFile: '/tmp/x.pcap' },
    summary: '',
    ...(attachment ? { attachment } : {}),
  };
}

test('destination seen: an empty capture is inconclusive, naming the place, the address and the evidence', () => {
  assert.deepEqual(
    thrown(() => expectDestinationSeen(cap('pod client eth0', [], '05-capture-pod-client-eth0.txt'), VIP)),
    {
      kind: 'inconclusive',
      message: `the capture on pod client eth0 saw no packet at all during the window (evidence 05-capture-pod-client-eth0.txt), so it cannot show whether ${VIP} was a destination.`,
      hint: 'Check the capture point and filter; the traffic must cross that interface.',
    },
  );
  // Bare data (no evidence): "the capture", no citation.
  assert.equal(
    thrown(() => expectDestinationSeen([], VIP)).message,
    `the capture saw no packet at all during the window, so it cannot show whether ${VIP} was a destination.`,
  );
});

test('destination seen: the failure counts destinations (most first), shows three lines and how many more', () => {
  const lines = [
    syn(1, `${CLIENT}.40001`, `${B2}.80`),
    syn(2, `${CLIENT}.40002`, `${B1}.80`),
    syn(3, `${CLIENT}.40003`, `${B1}.80`),
    syn(4, `${CLIENT}.40004`, `${B1}.80`),
    syn(5, `${CLIENT}.40005`, `${B2}.80`),
  ];
  assert.deepEqual(
    thrown(() => expectDestinationSeen(cap('node cp eth0', lines), VIP, { clientIps: [CLIENT] })),
    {
      kind: 'AssertionError',
      message: `Expected the capture on node cp eth0 to see ${VIP} as a destination, but none of its 5 packets goes to ${VIP} (destinations: ${B1} ×3, ${B2} ×2): ${q(lines[0]!)}, ${q(lines[1]!)}, ${q(lines[2]!)} … and 2 more (evidence: capture node cp eth0).`,
      expected: VIP,
      actual: [B2, B1],
    },
  );
  // Three packets: all shown, no "more"; one packet: singular.
  assert.equal(
    thrown(() => expectDestinationSeen(packets(...lines.slice(0, 3)), VIP)).message,
    `Expected the capture to see ${VIP} as a destination, but none of its 3 packets goes to ${VIP} (destinations: ${B1} ×2, ${B2} ×1): ${q(lines[0]!)}, ${q(lines[1]!)}, ${q(lines[2]!)}.`,
  );
  assert.match(thrown(() => expectDestinationSeen(packets(lines[0]!), VIP)).message, /none of its 1 packet goes to/);
});

test('destination seen: the client counts as seen as source or as destination; the hits are returned', () => {
  const reply = syn(1, `${B1}.80`, `${CLIENT}.40001`);
  const sent = syn(2, `${CLIENT}.40001`, `${B1}.80`);
  // The client only as destination (a reply), or only as source: a failure, not inconclusive.
  assert.equal(
    thrown(() => expectDestinationSeen(packets(reply), VIP, { clientIps: [CLIENT] })).kind,
    'AssertionError',
  );
  assert.equal(thrown(() => expectDestinationSeen(packets(sent), VIP, { clientIps: [CLIENT] })).kind, 'AssertionError');
  // Neither: inconclusive, naming how many packets it saw and the client.
  assert.deepEqual(
    thrown(() =>
      expectDestinationSeen(packets(syn(3, '172.18.0.2.5000', '172.18.0.4.6443')), VIP, {
        clientIps: [CLIENT, '10.244.0.11'],
      }),
    ),
    {
      kind: 'inconclusive',
      message: `the capture saw 1 packet but none from or to the client (${CLIENT}, 10.244.0.11), so it cannot show where the client's traffic went.`,
    },
  );
  // An empty client list is no positive control: the verdict fails on the destinations.
  assert.equal(thrown(() => expectDestinationSeen(packets(reply), VIP, { clientIps: [] })).kind, 'AssertionError');
  assert.deepEqual(
    expectDestinationSeen(packets(sent, reply, syn(3, `${CLIENT}.40009`, `${B1}.80`)), B1).map((p) => p.line),
    [1, 3],
  );
});

test('only destinations: no packet from the client is inconclusive, with the hint', () => {
  assert.deepEqual(
    thrown(() => expectOnlyDestinations(packets(syn(1, `${B1}.80`, `${CLIENT}.40001`)), [B1, B2], [CLIENT])),
    {
      kind: 'inconclusive',
      message: `the capture saw no packet from the client (${CLIENT}) among its 1 packet, so "only ${B1}, ${B2} as destination" cannot be judged.`,
      hint: 'A "sees only" verdict needs the capture to see the scenario\'s own traffic.',
    },
  );
});

test("only destinations: the client's packets to elsewhere fail with counts, lines and the pair; replies are not judged", () => {
  const lines = [
    syn(1, `${CLIENT}.40001`, `${VIP}.80`),
    syn(2, `${B2}.80`, `${CLIENT}.40001`), // a reply from elsewhere: not judged
    syn(3, `${CLIENT}.40002`, `${B1}.80`),
    syn(4, `${CLIENT}.40003`, `${VIP}.80`),
    syn(5, `${CLIENT}.40004`, '10.96.0.10.53'),
  ];
  assert.deepEqual(
    thrown(() => expectOnlyDestinations(cap('node cp eth0', lines, '07-capture.txt'), [B1], [CLIENT])),
    {
      kind: 'AssertionError',
      message: `Expected the capture on node cp eth0 to see only ${B1} as destination of the client's packets, but 3 of 4 went to ${VIP} ×2, 10.96.0.10 ×1: ${q(lines[0]!)}, ${q(lines[3]!)}, ${q(lines[4]!)} (evidence 07-capture.txt).`,
      expected: [B1],
      actual: [VIP, '10.96.0.10'],
    },
  );
  const ok = [syn(1, `${CLIENT}.40001`, `${B1}.80`), syn(2, `${B2}.80`, `${CLIENT}.40001`)];
  assert.deepEqual(
    expectOnlyDestinations(packets(...ok), [B1], [CLIENT]).map((p) => p.raw),
    [ok[0]],
  );
});

test('only destinations: a client packet inside a tunnel to a node that is not allowed fails naming the outer header', () => {
  const lines = [
    vxlan(1, '172.18.0.2', '172.18.0.3', `${CLIENT}.40001 > ${B1}.80`),
    vxlan(2, '172.18.0.2', '172.18.0.4', `${CLIENT}.40002 > ${B1}.80`),
    syn(3, `${CLIENT}.40003`, `${B1}.80`),
  ];
  const c = cap('node cp eth0', lines, '08-capture.txt');
  const [o1, i1] = lines[0]!.split('\n');
  const [o2, i2] = lines[1]!.split('\n');
  assert.deepEqual(
    thrown(() => expectOnlyDestinations(c, [B1, '172.18.0.3'], [CLIENT])),
    {
      kind: 'AssertionError',
      message: `Expected the capture on node cp eth0 to see only ${B1}, 172.18.0.3 as destination of the client's packets, but 1 of 3 crossed it inside a tunnel whose outer header goes to 172.18.0.4: ${q(o2!)} carrying ${q(i2!)} (evidence 08-capture.txt).`,
      expected: [B1, '172.18.0.3'],
      actual: ['172.18.0.4'],
    },
  );
  assert.deepEqual(
    thrown(() => expectOnlyDestinations(c, [B1], [CLIENT])),
    {
      kind: 'AssertionError',
      message: `Expected the capture on node cp eth0 to see only ${B1} as destination of the client's packets, but 2 of 3 crossed it inside a tunnel whose outer header goes to 172.18.0.3, 172.18.0.4: ${q(o1!)} carrying ${q(i1!)}, ${q(o2!)} carrying ${q(i2!)} (evidence 08-capture.txt).`,
      expected: [B1],
      actual: ['172.18.0.3', '172.18.0.4'],
    },
  );
  // All carriers allowed: the inner packets (and the bare one) are what is returned.
  assert.deepEqual(
    expectOnlyDestinations(c, [B1, '172.18.0.3', '172.18.0.4'], [CLIENT]).map((p) => p.src?.port),
    [40001, 40002, 40003],
  );
});

test('nothing to: a packet of that traffic fails with the count; a witness elsewhere lets silence pass', () => {
  const lines = [syn(1, `${B2}.80`, `${CLIENT}.40001`), syn(2, '172.18.0.2.5000', '172.18.0.4.6443')];
  assert.deepEqual(
    thrown(() => expectNothingTo(cap('node cp eth0', lines, '07-capture.txt'), [CLIENT, '10.244.0.11'])),
    {
      kind: 'AssertionError',
      message: `Expected the capture on node cp eth0 to see none of the traffic of ${CLIENT}, 10.244.0.11, but it saw 1 packet: ${q(lines[0]!)} (evidence 07-capture.txt).`,
      expected: 0,
      actual: 1,
    },
  );
  // The inner packet of a tunnel is traffic too.
  assert.equal(
    thrown(() => expectNothingTo(packets(vxlan(1, '172.18.0.2', '172.18.0.3', `${CLIENT}.40001 > ${B1}.80`)), [B1]))
      .actual,
    1,
  );
  const silent = cap('node cp eth0', [lines[1]!]);
  // A witness as source or as destination of that traffic.
  expectNothingTo(silent, [CLIENT], [cap('pod a eth0', [lines[1]!]), cap('pod b eth0', [lines[0]!])]);
  expectNothingTo(silent, [B2], [cap('pod b eth0', [lines[0]!])]);
});

test('nothing to: without a witness it is inconclusive, naming the other captures and all the evidence', () => {
  const other = syn(1, '172.18.0.2.5000', '172.18.0.4.6443');
  assert.deepEqual(
    thrown(() =>
      expectNothingTo(
        cap('node cp eth0', [], '07-capture.txt'),
        [CLIENT],
        [
          cap('pod a eth0', [other], '05-capture.txt'),
          cap('pod b eth0', [], '06-capture.txt'),
          cap('pod c eth0', [], '05-capture.txt'),
        ],
      ),
    ),
    {
      kind: 'inconclusive',
      message: `the capture on node cp eth0 saw no packet of ${CLIENT}, but none of the 3 other captures of the window (the capture on pod a eth0, the capture on pod b eth0, the capture on pod c eth0) saw it either (evidence 07-capture.txt; evidence 05-capture.txt; evidence 06-capture.txt): without a capture that saw the traffic, "sees none" proves nothing.`,
      hint: 'Arm a capture where the traffic must pass (e.g. the client pod eth0) in the same scenario.',
    },
  );
  assert.deepEqual(
    thrown(() => expectNothingTo([], [CLIENT])),
    {
      kind: 'inconclusive',
      message: `the capture saw no packet of ${CLIENT}, but no other capture of the window was armed to see it: without a capture that saw the traffic, "sees none" proves nothing.`,
      hint: 'Arm a capture where the traffic must pass (e.g. the client pod eth0) in the same scenario.',
    },
  );
});

const NODES = ['172.18.0.2', '172.18.0.3'];

test('encapsulated: the client traffic inside a UDP tunnel between nodes passes and returns each carrier once', () => {
  const lines = [
    vxlan(1, '172.18.0.2', '172.18.0.3', `${CLIENT}.40001 > ${B1}.80`),
    vxlan(2, '172.18.0.3', '172.18.0.2', `${B1}.80 > ${CLIENT}.40001`),
    syn(3, '172.18.0.2.5000', '172.18.0.4.6443'),
  ];
  const outer = expectEncapsulated(packets(...lines), [CLIENT], NODES);
  assert.deepEqual(
    outer.map((p) => p.raw),
    [lines[0]!.split('\n')[0], lines[1]!.split('\n')[0]],
  );
});

test('encapsulated: no client traffic is inconclusive; bare packets fail with their count', () => {
  const other = syn(3, '172.18.0.2.5000', '172.18.0.4.6443');
  assert.deepEqual(
    thrown(() => expectEncapsulated(cap('node cp eth0', [other, other], '08-capture.txt'), [CLIENT], NODES)),
    {
      kind: 'inconclusive',
      message: `the capture on node cp eth0 saw none of the traffic of ${CLIENT}, neither bare nor inside a tunnel (2 packets in all) (evidence 08-capture.txt), so it cannot show how that traffic crossed it.`,
      hint: 'The traffic must cross this capture point: capture on the eth0 of a node the traffic leaves or enters.',
    },
  );
  const bare = [syn(1, `${CLIENT}.40001`, `${B1}.80`), syn(2, `${B1}.80`, `${CLIENT}.40001`)];
  const tunnelled = vxlan(3, '172.18.0.2', '172.18.0.3', `${CLIENT}.40002 > ${B1}.80`);
  assert.deepEqual(
    thrown(() => expectEncapsulated(packets(tunnelled, ...bare), [CLIENT], NODES)),
    {
      kind: 'AssertionError',
      message: `Expected the capture to see the traffic of ${CLIENT} only inside a tunnel between node IPs, but 2 of 3 of its packets crossed it unencapsulated: ${q(bare[0]!)}, ${q(bare[1]!)}.`,
      expected: 'encapsulated',
      actual: '2 unencapsulated packets',
    },
  );
});

test('encapsulated: a carrier from or to a non-node address, or not UDP, fails naming the outer pair', () => {
  const fromElsewhere = vxlan(1, '172.18.0.9', '172.18.0.3', `${CLIENT}.40001 > ${B1}.80`);
  const toElsewhere = vxlan(2, '172.18.0.2', '172.18.0.9', `${CLIENT}.40002 > ${B1}.80`);
  for (const [line, pair] of [
    [fromElsewhere, '172.18.0.9 > 172.18.0.3'],
    [toElsewhere, '172.18.0.2 > 172.18.0.9'],
  ] as const) {
    const [o, i] = line.split('\n');
    assert.deepEqual(
      thrown(() => expectEncapsulated(cap('node cp eth0', [line], '08-capture.txt'), [CLIENT], NODES)),
      {
        kind: 'AssertionError',
        message: `Expected the capture on node cp eth0 to see the traffic of ${CLIENT} inside a UDP tunnel between node IPs (172.18.0.2, 172.18.0.3), but 1 of its packets were carried otherwise: ${q(o!)} carrying ${q(i!)} (evidence 08-capture.txt).`,
        expected: NODES,
        actual: [pair],
      },
    );
  }
  const [carrier] = packets(vxlan(3, '172.18.0.2', '172.18.0.3', `${CLIENT}.40003 > ${B1}.80`));
  const notUdp = { ...carrier!, protocol: 'tcp' };
  assert.deepEqual(thrown(() => expectEncapsulated([notUdp], [CLIENT], NODES)).actual, ['172.18.0.2 > 172.18.0.3']);
  // Carriers without addresses (a tunnel tcpdump could not decode): carried otherwise.
  const noAddr = { ...carrier!, src: null };
  assert.equal(thrown(() => expectEncapsulated([noAddr], [CLIENT], NODES)).kind, 'AssertionError');
  const noDst = { ...carrier!, dst: null };
  assert.equal(thrown(() => expectEncapsulated([noDst], [CLIENT], NODES)).kind, 'AssertionError');
});

/** ARP from and to the client, as tcpdump -e prints it: a reply carries no destination address. */
const ARP_REQUEST = `04:08:00.000010 ARP, Request who-has ${B1} tell ${CLIENT}, length 28`;
const ARP_REPLY = `04:08:00.000011 ARP, Reply ${CLIENT} is-at 12:94:43:de:b3:c0, length 28`;

test('packets without a destination (an ARP reply) are counted but never named as a destination', () => {
  const lines = [ARP_REPLY, syn(1, `${CLIENT}.40001`, `${B1}.80`), syn(2, '172.18.0.2.5000', '172.18.0.4.6443')];
  assert.deepEqual(
    thrown(() => expectDestinationSeen(packets(...lines), VIP, { clientIps: [CLIENT] })),
    {
      kind: 'AssertionError',
      message: `Expected the capture to see ${VIP} as a destination, but none of its 3 packets goes to ${VIP} (destinations: ${B1} ×1, 172.18.0.4 ×1): ${q(lines[0]!)}, ${q(lines[1]!)}, ${q(lines[2]!)}.`,
      expected: VIP,
      actual: [B1, '172.18.0.4'],
    },
  );
  // The client's ARP reply is the client's but goes to no address: not judged, not returned.
  assert.deepEqual(
    expectOnlyDestinations(packets(ARP_REPLY, ARP_REQUEST, lines[1]!), [B1], [CLIENT]).map((p) => p.line),
    [2, 3],
  );
  // A packet without a source is nobody's.
  const [sent] = packets(lines[1]!);
  assert.equal(thrown(() => expectOnlyDestinations([{ ...sent!, src: null }], [B1], [CLIENT])).kind, 'inconclusive');
});

test('lines are quoted without the blanks tcpdump left around them; more than three are counted', () => {
  const padded = `${syn(1, `${CLIENT}.40001`, `${VIP}.80`)}   `;
  assert.match(
    thrown(() => expectOnlyDestinations(packets(padded), [B1], [CLIENT])).message,
    new RegExp(`: \`${syn(1, `${CLIENT}.40001`, `${VIP}.80`).replace(/[.[\]]/g, '\\$&')}\`\\.$`),
  );
  const carrier = `04:08:00.000001 IP 172.18.0.9.36121 > 172.18.0.3.8472: OTV, flags [I] (0x08), overlay 0, instance 1   `;
  const inner = `    IP ${CLIENT}.40001 > ${B1}.80: Flags [S], seq 1, win 64240, length 0`;
  assert.equal(
    thrown(() => expectEncapsulated(packets(carrier, inner), [CLIENT], NODES)).message,
    `Expected the capture to see the traffic of ${CLIENT} inside a UDP tunnel between node IPs (172.18.0.2, 172.18.0.3), but 1 of its packets were carried otherwise: ${q(carrier.trim())} carrying ${q(inner.trim())}.`,
  );
  const bare = [1, 2, 3, 4].map((n) => syn(n, `${CLIENT}.4000${n}`, `${B1}.80`));
  assert.equal(
    thrown(() => expectEncapsulated(packets(...bare), [CLIENT], NODES)).message,
    `Expected the capture to see the traffic of ${CLIENT} only inside a tunnel between node IPs, but 4 of 4 of its packets crossed it unencapsulated: ${q(bare[0]!)}, ${q(bare[1]!)}, ${q(bare[2]!)} … and 1 more.`,
  );
  // Exactly three: no "more".
  assert.doesNotMatch(thrown(() => expectEncapsulated(packets(...bare.slice(0, 3)), [CLIENT], NODES)).message, /more/);
});

test("destination seen: a capture where only some packets are the client's fails rather than being inconclusive", () => {
  const lines = [syn(1, '172.18.0.2.5000', '172.18.0.4.6443'), syn(2, `${CLIENT}.40001`, `${B1}.80`)];
  assert.equal(
    thrown(() => expectDestinationSeen(packets(...lines), VIP, { clientIps: [CLIENT] })).kind,
    'AssertionError',
  );
});

test('a carrier without a destination is named "?"; a bare padded line is quoted trimmed', () => {
  const [carrier] = packets(vxlan(1, '172.18.0.2', '172.18.0.3', `${CLIENT}.40001 > ${B1}.80`));
  assert.deepEqual(thrown(() => expectOnlyDestinations([{ ...carrier!, dst: null }], [B1], [CLIENT])).actual, ['?']);
  const bare = `${syn(1, `${CLIENT}.40001`, `${B1}.80`)}  `;
  assert.match(thrown(() => expectEncapsulated(packets(bare), [CLIENT], NODES)).message, /length 0`\.$/);
});
