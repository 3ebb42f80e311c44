import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HOOK_POINTS, type Hop, type PacketPath, packetPathSvg } from '../../support/report/packet-path-svg.ts';

function path(
  over: Partial<Record<(typeof HOOK_POINTS)[number], Partial<Hop>>>,
  title = 'ClusterIP via KUBE-SERVICES',
) {
  const base: Record<string, Hop> = {
    'pod eth0': {
      point: 'pod eth0',
      where: 'pod client',
      observed: ['dst 10.96.12.7:80 (ClusterIP)'],
      verdict: 'seen',
    },
    'host veth / tc': {
      point: 'host veth / tc',
      where: 'node cilium-worker',
      observed: ['lxc1a2b ingress'],
      verdict: 'seen',
    },
    'iptables nat': {
      point: 'iptables nat',
      where: 'node cilium-worker',
      observed: ['KUBE-SEP-7IQZ3XW 0 → 3 packets (+3)', 'DNAT 10.96.12.7:80 → 10.244.2.9:8080'],
      verdict: 'translated',
    },
    routing: {
      point: 'routing',
      where: 'node cilium-worker',
      observed: ['10.244.2.0/24 via 172.18.0.3'],
      verdict: 'seen',
    },
    'node eth0': {
      point: 'node eth0',
      where: 'node cilium-worker',
      observed: ['dst 10.244.2.9:8080'],
      verdict: 'seen',
    },
    'other node': {
      point: 'other node',
      where: 'node cilium-worker2',
      observed: ['dst 10.244.2.9:8080'],
      verdict: 'seen',
    },
    'backend veth': {
      point: 'backend veth',
      where: 'pod backend',
      observed: ['SYN 10.244.1.5 → 10.244.2.9:8080'],
      verdict: 'seen',
    },
  };
  return {
    title,
    subtitle: 'cilium 1.16.5 · kind',
    hops: HOOK_POINTS.map((p) => ({ ...base[p]!, ...(over[p] ?? {}) })),
  } satisfies PacketPath;
}

const passing = path({});
const failing = path({
  'iptables nat': { observed: ['KUBE-SEP-7IQZ3XW 0 → 0 packets (flat)'], verdict: 'not-seen' },
  routing: { observed: [], verdict: 'no-evidence' },
  'node eth0': { observed: [], verdict: 'not-seen' },
  'other node': { observed: [], verdict: 'not-seen' },
  'backend veth': { observed: ['no SYN in 3 s'], verdict: 'not-seen' },
});
const redirected = path({
  'host veth / tc': { observed: ['socket LB: 10.96.12.7:80 → 10.244.2.9:8080 at connect()'], verdict: 'redirected' },
  'iptables nat': { observed: ['KUBE-SEP-7IQZ3XW 0 → 0 packets (flat)'], verdict: 'no-evidence' },
});

const count = (svg: string, re: RegExp) => (svg.match(re) ?? []).length;

test('hook points are drawn in order with what was observed at each', () => {
  const svg = packetPathSvg(passing);
  let at = 0;
  for (const p of HOOK_POINTS) {
    const i = svg.indexOf(`. ${p.replace('/', '/')}`.replace('&', '&amp;'));
    assert.ok(i > at, `${p} after the previous hook point`);
    at = i;
  }
  assert.ok(svg.includes('KUBE-SEP-7IQZ3XW 0 → 3 packets (+3)'));
  assert.ok(svg.includes('DNAT 10.96.12.7:80 → 10.244.2.9:8080'));
  assert.equal(count(svg, /class="hop verdict-/g), 7);
  assert.match(svg, /^<\?xml[^>]*>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
});

test('counters rising vs flat: the failing path is visibly different (red, stopped connectors)', () => {
  // The scenario expected the KUBE-SEP counters to rise; they stayed flat: contradicted.
  const contradicted = {
    ...failing,
    hops: failing.hops.map((h) => (h.point === 'iptables nat' ? { ...h, expectation: 'contradicted' as const } : h)),
  };
  const a = packetPathSvg(passing);
  const b = packetPathSvg(contradicted);
  assert.notEqual(a, b);
  assert.equal(count(a, /verdict-not-seen/g), 0);
  assert.equal(count(b, /class="hop verdict-not-seen/g), 4);
  assert.equal(count(b, /class="hop [^"]*contradicted"/g), 1);
  assert.equal(count(a, /connector stopped/g), 0);
  assert.ok(count(b, /connector stopped/g) >= 4, 'connectors after the contradicted hop are drawn as stopped');
  for (const line of b.match(/<line class="connector stopped"[^>]*>/g) ?? []) assert.match(line, /stroke="#c62828"/);
  assert.ok(b.includes('0 → 0 packets (flat)') && !a.includes('(flat)'));
  assert.ok(b.includes('not seen — contradicts the scenario'));
});

test('hops not crossed as the scenario expected are neutral: red only where an expectation is contradicted', () => {
  // Pod to ClusterIP at tc: the counters stay flat (judged, held), the other node answers nothing.
  const expected = path({
    'iptables nat': { observed: ['KUBE-SVC/KUBE-SEP counters flat'], verdict: 'not-seen', expectation: 'held' },
    'other node': { observed: ['no answer from another node'], verdict: 'not-seen' },
  });
  const svg = packetPathSvg(expected);
  const hops = svg.match(/<g class="hop[\s\S]*?<\/g>/g) ?? [];
  assert.equal(hops.length, 7);
  for (const g of hops) assert.doesNotMatch(g, /#c62828|#ffebee/, 'no hop of a passing scenario is red');
  assert.equal(count(svg, /connector stopped/g), 0);
  assert.ok(svg.includes('not seen (as expected)'));
  assert.ok(svg.includes('class="hop verdict-not-seen expected"'));
});

test('a redirect draws a bypass arc; no redirect draws none', () => {
  const a = packetPathSvg(passing);
  const r = packetPathSvg(redirected);
  assert.equal(count(a, /connector redirect/g), 0);
  assert.equal(count(r, /connector redirect/g), 1);
  assert.ok(r.includes('class="hop verdict-redirected"'));
  assert.ok(r.includes('>redirect</text>'));
  // iptables nat was bypassed by the redirect: not a stop of the path.
  assert.ok(r.includes('class="hop verdict-no-evidence bypassed"'));
  assert.equal(count(r, /connector stopped/g), 0);
});

test('all text is escaped: feature text cannot inject markup', () => {
  const evil = '<script>alert(1)</script> & "x" \'y\'';
  const svg = packetPathSvg({
    title: evil,
    subtitle: evil,
    hops: [{ point: evil, where: evil, observed: [evil, 'ok\u0000\u0007'], verdict: 'seen' }],
  });
  assert.ok(!svg.includes('<script'));
  assert.ok(!/"x"|'y'/.test(svg.replace(/<[^>]*>/g, '')));
  assert.ok(svg.includes('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot; &apos;y&apos;'));
  assert.ok(!svg.includes('\u0000') && !svg.includes('\u0007'));
});

test('no hops: says so instead of drawing an empty picture', () => {
  const svg = packetPathSvg({ title: 'empty', hops: [] });
  assert.ok(svg.includes('No hook point was observed'));
});
