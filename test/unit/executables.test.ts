/**
 * The executable inventory: every program the code runs (found by a static scan of the sources,
 * test/unit/helpers/executables.ts) must be named by a list that installs or checks it — this
 * machine's apt lists (support/exec/host-tools.ts), the kind/existing host tools `hookpoint doctor`
 * checks, or, for commands routed into a container on kind/existing, that image's tool list
 * (support/backends/images.ts). So the next `run(['ethtool', …])` is caught on any machine, not
 * only on a brand-new one.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { IMAGES, type ImageName } from '../../support/backends/images.ts';
import { HOME_IMAGE, toolLocation } from '../../support/backends/k8s/tool-locations.ts';
import { KIND_HOST_TOOLS } from '../../support/backends/kind/host-checks.ts';
import type { ExecTarget } from '../../support/backends/types.ts';
import { HOST_TOOLS, type HostTool, packagesFor, RUN_PURPOSES, TEST_PURPOSES } from '../../support/exec/host-tools.ts';
import { tcpdumpArgv } from '../../support/probes/capture.ts';
import { saveArgv } from '../../support/probes/counters.ts';
import { socatUdpArgv } from '../../support/probes/datagrams.ts';
import { ssArgv } from '../../support/probes/listeners.ts';
import { monitorArgv } from '../../support/probes/monitor.ts';
import { pingArgv } from '../../support/probes/ping.ts';
import { curlArgv } from '../../support/probes/traffic.ts';
import { type Found, scanRepository, scanShell, scanTypeScript, uncovered } from './helpers/executables.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SHELL_SCRIPTS = ['.ci/run', 'test/all.sh'];

function sources(): string[] {
  return ['support', 'steps', 'bench', 'scripts', 'test'].flatMap((dir) =>
    readdirSync(path.join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => `${dir}/${f}`)
      .sort(),
  );
}

/** Files whose commands run only on kind/existing: their programs live on the host (doctor) or in an image. */
const CLUSTER_ONLY =
  /^(support\/backends\/(k8s|kind|existing)\/|support\/cli\/plan\.ts|test\/unit\/(kind|helpers\/kind)\/|test\/kind-standin\/run\.ts|test\/lab\/kind-standin\.test\.ts)/;

/** Programs that are no list's business, and why. */
const NOT_INSTALLED: Record<string, string> = {
  node: 'the project brings its own Node 22 (npm package "node"); .ci/run bootstraps nodejs and npm',
  npm: '.ci/run bootstraps it with apt (nodejs npm) before anything of the project runs',
  npx: 'ships with npm',
  'cilium-dbg': "on the lab the agent's commands are answered by the lab's stand-in (`hookpoint lab agent`)",
  cilium: "on the lab the agent's commands are answered by the lab's stand-in (`hookpoint lab agent`)",
  'hookpoint-no-such-tool-xyz': 'a test of the runner that calls a missing program on purpose',
  'no-such-program-hp': 'a lab test of `lab exec` that calls a missing program on purpose',
  run: "`hookpoint run`'s arguments in a CLI test, not a program",
  map: "a fragment of bpftool's argv (`map name … pinned …` reusing the lab's maps), not a program",
};

/** Files whose argv literals are data, never run. */
// fuzz: a helm argv printed by printf for a redaction test; this test's own examples.
const NOT_RUN = /^test\/unit\/(fuzz\.test\.ts|executables\.test\.ts|helpers\/executables\.ts):/;

function hostKnown(tools: readonly HostTool[]): Set<string> {
  return new Set([...tools.map((t) => t.tool), ...Object.keys(NOT_INSTALLED)]);
}

function clusterKnown(): Set<string> {
  return new Set([...KIND_HOST_TOOLS, ...Object.values(IMAGES).flatMap((i) => i.has), ...Object.keys(NOT_INSTALLED)]);
}

/** Every program the scan finds, checked against the lists; returns what no list names. */
function check(found: Found, tools: readonly HostTool[]): Array<{ program: string; where: string[] }> {
  const host: Found = new Map();
  const cluster: Found = new Map();
  for (const [program, all] of found) {
    const where = all.filter((w) => !NOT_RUN.test(w));
    const h = where.filter((w) => !CLUSTER_ONLY.test(w));
    const c = where.filter((w) => CLUSTER_ONLY.test(w));
    if (h.length) host.set(program, h);
    if (c.length) cluster.set(program, c);
  }
  return [...uncovered(host, hostKnown(tools)), ...uncovered(cluster, clusterKnown())];
}

const found = scanRepository(ROOT, sources(), SHELL_SCRIPTS);

describe('executable inventory', () => {
  it('finds the programs the code runs (the scan itself works)', () => {
    for (const p of ['ip', 'tc', 'bpftool', 'clang', 'tcpdump', 'curl', 'ethtool', 'sysctl', 'kubectl', 'npm'])
      assert.ok(found.has(p), `the scan did not find ${p}`);
    const ts = scanTypeScript("await run(['ip', 'netns', 'exec', ns, 'conntrack', '-L'], { timeoutMs: 1 });", 'x.ts');
    assert.deepEqual([...ts.keys()].sort(), ['conntrack', 'ip']);
    const sh = scanShell('if foo --x; then bar | baz; fi # qux\necho "not a program"', 'x.sh');
    assert.deepEqual([...sh.keys()].sort(), ['bar', 'baz', 'foo']);
  });

  it('every program the code runs is named by an install or doctor list', () => {
    const missing = check(found, HOST_TOOLS);
    assert.deepEqual(
      missing.map((m) => `${m.program} (${m.where.slice(0, 3).join(', ')})`),
      [],
      'add each to support/exec/host-tools.ts (this machine), support/backends/kind/host-checks.ts (kind/existing host) or support/backends/images.ts',
    );
  });

  it('fails when an install list loses a tool (a test of the test)', () => {
    for (const lost of ['ethtool', 'sysctl', 'bpftool', 'chromium']) {
      const missing = check(
        found,
        HOST_TOOLS.filter((t) => t.tool !== lost),
      );
      if (lost === 'chromium') continue; // the browser path comes from an environment variable: not scanned, see below
      assert.deepEqual(
        missing.map((m) => m.program),
        [lost],
        `dropping ${lost} from the list must be reported`,
      );
    }
    // An unknown program in new code is reported with where it is called.
    const extra = scanTypeScript("await run(['xq-unknown', '.'], { timeoutMs: 1 });", 'support/new.ts', new Map(found));
    assert.deepEqual(check(extra, HOST_TOOLS), [{ program: 'xq-unknown', where: ['support/new.ts:1'] }]);
  });

  it('the install path covers every listed tool: apt packages for the run and the tests', () => {
    for (const t of HOST_TOOLS.filter((x) => x.purpose !== 'base'))
      assert.ok(
        packagesFor(TEST_PURPOSES).includes(t.pkg),
        `${t.tool}: package ${t.pkg} is not installed for the tests`,
      );
    for (const t of HOST_TOOLS.filter((x) => x.purpose === 'lab' || x.purpose === 'report'))
      assert.ok(
        packagesFor(RUN_PURPOSES).includes(t.pkg),
        `${t.tool}: package ${t.pkg} is not installed by hookpoint run`,
      );
    assert.ok(packagesFor(TEST_PURPOSES).includes('chromium'), 'the browser checks need Chromium');
    const browserTest = readFileSync(path.join(ROOT, 'test/browser/report-browser.test.ts'), 'utf8');
    assert.match(
      browserTest,
      /'\/usr\/bin\/chromium'/,
      'the browser test runs the Chromium the chromium package installs',
    );
  });

  it('.ci/run and npm test install through support/exec/host-tools.ts, with no list of their own', () => {
    const ci = readFileSync(path.join(ROOT, '.ci/run'), 'utf8');
    const all = readFileSync(path.join(ROOT, 'test/all.sh'), 'utf8');
    assert.match(ci, /scripts\/prerequisites\.ts install test/);
    assert.match(all, /scripts\/prerequisites\.ts install test/);
    const ciApt = [...ci.matchAll(/apt-get install[^\n]*/g)].map((m) => m[0]);
    assert.deepEqual(
      ciApt.map((l) => l.replace(/.*--no-install-recommends\s+/, '').replace(/\s*>.*/, '')),
      ['nodejs npm ca-certificates'],
      '.ci/run installs only the bootstrap (npm); every other package comes from support/exec/host-tools.ts',
    );
    const scriptsFound = scanShell(ci, '.ci/run');
    assert.ok(scriptsFound.has('npm'));
  });
});

// ---------------------------------------------------------------------------------------------
// Commands routed into containers on kind and existing

/** Which image a command runs in on kind/existing, by the Kubernetes backend's own routing (tool-locations.ts). */
function imageOf(target: ExecTarget['kind'], program: string): ImageName | 'host' {
  if (target === 'host') return 'host';
  if (target === 'agent') return 'cilium-agent';
  const home = toolLocation(program).home;
  if (home === 'probe') return 'probe';
  if (target === 'node') return HOME_IMAGE[home];
  return 'workload';
}

/** Every probe's command, from the probes' own argv builders where they export one. */
const PROBE_COMMANDS: Array<{ probe: string; target: ExecTarget['kind']; argv: string[] }> = [
  { probe: 'counters (nft)', target: 'node', argv: saveArgv('nft') },
  { probe: 'counters (legacy)', target: 'node', argv: saveArgv('legacy') },
  { probe: 'counters (plain)', target: 'node', argv: saveArgv('plain') },
  { probe: 'capture at a node', target: 'node', argv: tcpdumpArgv('eth0', '/tmp/x.pcap') },
  { probe: 'capture in a pod', target: 'pod', argv: tcpdumpArgv('eth0', '/tmp/x.pcap') },
  { probe: 'monitor', target: 'agent', argv: monitorArgv() },
  { probe: 'status', target: 'agent', argv: ['cilium-dbg', 'status'] },
  { probe: 'listeners', target: 'pod', argv: ssArgv() },
  { probe: 'traffic', target: 'pod', argv: curlArgv({ ip: '10.96.0.10', port: 80 }) },
  { probe: 'datagrams', target: 'pod', argv: socatUdpArgv({ ip: '10.96.0.53', port: 53 }) },
  { probe: 'datagrams from a node', target: 'node', argv: socatUdpArgv({ ip: '10.96.0.53', port: 53 }) },
  { probe: 'ping', target: 'pod', argv: pingArgv('10.244.1.5', 3) },
  { probe: 'ping from a node', target: 'node', argv: pingArgv('10.244.1.5', 3) },
  { probe: 'routes', target: 'node', argv: ['ip', '-j', 'route', 'show'] },
  { probe: 'neighbours', target: 'node', argv: ['ip', '-j', 'neigh', 'show'] },
  { probe: 'collector iptables-save', target: 'node', argv: ['iptables-save', '-c'] },
  { probe: 'bpftool net show', target: 'node', argv: ['bpftool', 'net', 'show'] },
  { probe: 'bpftool prog dump', target: 'node', argv: ['bpftool', 'prog', 'dump', 'xlated', 'id', '1'] },
];

describe('commands routed into containers (kind, existing)', () => {
  it('names every program the probes run', () => {
    const probes: Found = new Map();
    for (const f of sources().filter((s) => s.startsWith('support/probes/')))
      scanTypeScript(readFileSync(path.join(ROOT, f), 'utf8'), f, probes);
    const listed = new Set(PROBE_COMMANDS.map((c) => c.argv[0]!));
    const unlisted = [...probes.keys()].filter((p) => !listed.has(p));
    assert.deepEqual(unlisted, [], 'a probe runs a program this test does not place in a container: add it above');
  });

  for (const c of PROBE_COMMANDS) {
    const program = c.argv[0]!;
    const image = imageOf(c.target, program);
    it(`${c.probe}: ${program} on ${c.target} runs in ${image}, which has it`, () => {
      if (image === 'host') return;
      const list = IMAGES[image];
      assert.ok(
        list.has.includes(program),
        `${program} runs in ${list.image} on kind/existing, but that image ${list.lacks.includes(program) ? 'lacks' : 'does not list'} it (${list.source})`,
      );
    });
  }

  it('a command routed into an image without the program is reported (a test of the test)', () => {
    assert.equal(imageOf('node', 'tcpdump'), 'probe', 'tcpdump on a node runs in the probe pod');
    assert.equal(imageOf('node', 'bpftool'), 'cilium-agent', "bpftool on a node runs in the agent's image");
    assert.equal(IMAGES['kind-node'].has.includes('bpftool'), false);
    assert.equal(IMAGES['kind-node'].lacks.includes('tcpdump'), true);
  });
});
