import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { main } from '../../support/cli/main.ts';
import { PARSE_KINDS, runParse, UnreadableInputError } from '../../support/cli/parse.ts';
import { UsageError } from '../../support/errors.ts';

let dir: string;
const file = (name: string, content: string | Uint8Array): string => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};

/** Run the real CLI entry in-process, capturing what it writes. */
async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const w1 = process.stdout.write;
  const w2 = process.stderr.write;
  process.stdout.write = ((s: string | Uint8Array) => {
    out += String(s);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => {
    err += String(s);
    return true;
  }) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
    process.exitCode = 0;
  }
}

const SAVE = [
  '*nat',
  ':PREROUTING ACCEPT [10:600]',
  ':KUBE-SEP-AAAA - [0:0]',
  '[3:180] -A KUBE-SERVICES -d 10.96.10.10/32 -p tcp -m comment --comment "default/echo:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-EEEE',
  '[2:120] -A KUBE-SEP-AAAA -p tcp -m comment --comment "default/echo:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080',
  'COMMIT',
].join('\n');

const MONITOR =
  '-> endpoint 2927 flow 0x8e37b814 , identity 60386->22196 state reply ifindex lxc61f83227c4ba orig-ip 10.244.2.148: 10.244.2.148:80 -> 10.244.1.56:56944 tcp SYN, ACK\n';

function pcap(): Uint8Array {
  const hdr = [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0];
  const ip = [0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 96, 0, 10];
  const tcp = [0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0xfa, 0xf0, 0, 0, 0, 0];
  const frame = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0, ...ip, ...tcp];
  const le = (v: number) => [v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255];
  return new Uint8Array([...hdr, ...le(1700000000), ...le(42), ...le(frame.length), ...le(frame.length), ...frame]);
}

before(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'hookpoint-cli-parse-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('hookpoint parse', () => {
  it('prints the iptables JSON contract', () => {
    const out = JSON.parse(runParse('iptables', file('nat.txt', SAVE), { json: true }));
    const sep = out.chains.find((c: { name: string }) => c.name === 'KUBE-SEP-AAAA');
    assert.deepEqual([sep.table, sep.policy, sep.packets, sep.bytes], ['nat', null, 0, 0]);
    assert.deepEqual(sep.rules[0], {
      packets: 2,
      bytes: 120,
      target: 'DNAT',
      protocol: 'tcp',
      comment: 'default/echo:http',
      dnatTo: '10.244.1.5:8080',
      raw: '[2:120] -A KUBE-SEP-AAAA -p tcp -m comment --comment "default/echo:http" -m tcp -j DNAT --to-destination 10.244.1.5:8080',
    });
    assert.equal(out.chains.find((c: { name: string }) => c.name === 'PREROUTING').policy, 'ACCEPT');
  });

  it('prints a readable iptables table without --json', () => {
    const out = runParse('iptables', file('nat2.txt', SAVE), {});
    assert.match(out, /\*nat KUBE-SEP-AAAA \[0 packets, 0 bytes\]/);
    assert.match(out, /2 +120 +DNAT +tcp +default\/echo:http +10\.244\.1\.5:8080/);
  });

  it('prints monitor events with the contract fields', () => {
    const out = JSON.parse(runParse('monitor', file('mon.txt', MONITOR), { json: true }));
    const e = out.events[0];
    assert.deepEqual(
      [e.type, e.observationPoint, e.endpoint, e.srcEndpoint, e.origIp, e.src, e.dst],
      [
        'trace',
        'to-endpoint',
        2927,
        null,
        '10.244.2.148',
        { ip: '10.244.2.148', port: 80 },
        { ip: '10.244.1.56', port: 56944 },
      ],
    );
    assert.equal(e.raw, MONITOR.trim());
  });

  it('reads a pcap given as tcpdump, recognised by its magic bytes', () => {
    const out = JSON.parse(runParse('tcpdump', file('cap.pcap', pcap()), { json: true }));
    assert.equal(out.packets.length, 1);
    assert.deepEqual(
      [out.packets[0].src, out.packets[0].dst, out.packets[0].flags, out.packets[0].length],
      [{ ip: '10.0.0.1', port: 40000 }, { ip: '10.96.0.10', port: 80 }, 'S.', 0],
    );
    assert.equal(out.packets[0].time, '22:13:20.000042');
  });

  it('reads tcpdump text, status, bpftool-net, bpftool-xlated, ip-route and ip-neigh', () => {
    const t = JSON.parse(
      runParse(
        'tcpdump',
        file('t.txt', '04:37:01.756170 IP 10.244.0.46.43336 > 10.102.39.104.80: Flags [S], seq 1, win 5, length 0\n'),
        {
          json: true,
        },
      ),
    );
    assert.deepEqual([t.packets[0].time, t.packets[0].flags, t.packets[0].length], ['04:37:01.756170', 'S', 0]);
    const s = JSON.parse(
      runParse('status', file('s.txt', 'KubeProxyReplacement:   False\nRouting:   Network: Native   Host: Legacy\n'), {
        json: true,
      }),
    );
    assert.deepEqual([s.kubeProxyReplacement, s.routing.network, s.routing.host], ['False', 'Native', 'Legacy']);
    assert.equal(s.fields.KubeProxyReplacement, 'False');
    const n = JSON.parse(
      runParse('bpftool-net', file('n.txt', 'tc:\nlxc1(9) tcx/ingress cil_from_container prog_id 12 link_id 3\n'), {
        json: true,
      }),
    );
    assert.deepEqual(
      [n.attachments[0].interface, n.attachments[0].hook, n.attachments[0].program, n.attachments[0].id],
      ['lxc1', 'tcx', 'cil_from_container', 12],
    );
    const x = JSON.parse(
      runParse('bpftool-xlated', file('x.txt', ' 521: (85) call bpf_redirect_peer#1234\n'), { json: true }),
    );
    assert.deepEqual(x.calls, ['bpf_redirect_peer']);
    const r = JSON.parse(
      runParse('ip-route', file('r.txt', 'default via 10.244.0.154 dev eth0 mtu 1500\n'), { json: true }),
    );
    assert.deepEqual([r.routes[0].dst, r.routes[0].gateway, r.routes[0].dev], ['default', '10.244.0.154', 'eth0']);
    const g = JSON.parse(
      runParse('ip-neigh', file('g.txt', '10.244.0.50 dev eth0 lladdr 7e:b5:77:fa:4c:e4 REACHABLE\n'), { json: true }),
    );
    assert.deepEqual(g.neighbours[0], {
      ip: '10.244.0.50',
      lladdr: '7e:b5:77:fa:4c:e4',
      dev: 'eth0',
      state: 'REACHABLE',
      router: false,
      raw: '10.244.0.50 dev eth0 lladdr 7e:b5:77:fa:4c:e4 REACHABLE',
    });
  });

  it('--strict quotes the first unreadable line; without it the line is only listed', () => {
    const p = file('bad.txt', `${MONITOR}this is not monitor output\n`);
    assert.throws(
      () => runParse('monitor', p, { strict: true }),
      (e: unknown) =>
        e instanceof UnreadableInputError &&
        e.exitCode === 1 &&
        /Line 2 of .* "this is not monitor output"/.test(e.message),
    );
    const lenient = JSON.parse(runParse('monitor', p, { json: true }));
    assert.deepEqual(lenient.unknownLines, [{ line: 2, text: 'this is not monitor output' }]);
    assert.throws(() => runParse('iptables', file('empty.txt', ''), { strict: true }), /no iptables chains/);
    assert.throws(
      () =>
        runParse('status', file('cli.txt', 'DaemonSet              cilium    Desired: 3, Ready: 3/3\n'), {
          strict: true,
        }),
      /cilium-cli/,
    );
  });

  it('rejects an unknown kind listing the kinds, a missing file, a directory and a broken pcap', () => {
    assert.throws(
      () => runParse('nft', 'x', {}),
      (e: unknown) => e instanceof UsageError && PARSE_KINDS.every((k) => e.paragraph().includes(k)),
    );
    assert.throws(() => runParse('iptables', path.join(dir, 'missing.txt'), {}), /does not exist/);
    assert.throws(() => runParse('iptables', dir, {}), /is a directory/);
    const broken = new Uint8Array(pcap().slice(0, 12));
    assert.throws(
      () => runParse('tcpdump', file('short.pcap', broken), {}),
      (e: unknown) => e instanceof UsageError && /24-byte/.test(e.message),
    );
  });

  it('warns, without --strict, when most lines are unreadable; not when most are read', () => {
    const warnings: string[] = [];
    const warn = (l: string) => warnings.push(l);
    const mostly = `${MONITOR}one\ntwo\nthree\nfour\nfive\n`;
    runParse('monitor', file('mostly.txt', mostly), { warn });
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0]!,
      /5 of \d+ lines of ".*mostly\.txt" are not readable as monitor output \(first: line \d+, "one"\)/,
    );
    runParse('monitor', file('fine.txt', `${MONITOR}one\n`), { warn });
    assert.equal(warnings.length, 1, 'one unreadable line among readable ones is no warning');
  });

  it('refuses binary input unless the kind reads it', () => {
    const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0]);
    assert.throws(() => runParse('monitor', file('bin1', elf), {}), /binary data, not monitor output/);
    assert.throws(() => runParse('tcpdump', file('bin2', elf), {}), /binary data, not tcpdump output/);
    assert.throws(() => runParse('pcap', file('bin3', elf), {}), /magic number of a classic pcap/);
  });

  it('through main(): exit 0 with output, 1 under --strict, 2 for an unknown kind, one paragraph on stderr', async () => {
    const ok = await cli(['parse', 'iptables', file('ok.txt', SAVE), '--json']);
    assert.equal(ok.code, 0);
    assert.equal(JSON.parse(ok.out).chains.length, 3);
    const strict = await cli(['parse', 'monitor', file('bad2.txt', `${MONITOR}garbage line\n`), '--strict']);
    assert.equal(strict.code, 1);
    assert.equal(strict.out, '');
    assert.match(strict.err, /^hookpoint: Line 2 of .* "garbage line"/);
    assert.equal(strict.err.trim().split('\n').length, 1, 'one paragraph, no stack');
    const usage = await cli(['parse', 'frob', 'x']);
    assert.equal(usage.code, 2);
    assert.match(
      usage.err,
      /Kinds: iptables, monitor, status, tcpdump, pcap, bpftool-net, bpftool-prog, bpftool-xlated, ip-route, ip-neigh, ip-addr/,
    );
  });
});
