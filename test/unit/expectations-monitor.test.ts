import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { AssertionError } from 'chai';
import { InconclusiveError } from '../../support/errors.ts';
import type { CitedEvidence } from '../../support/expectations/evidence-ref.ts';
import { expectNoTranslation, expectRedirect, expectTranslation } from '../../support/expectations/monitor.ts';
import { type MonitorEvent, parseMonitor } from '../../support/parsers/monitor.ts';

const CLIENT = '10.244.0.10';
const VIP = '10.96.94.95';
const BACKENDS = ['10.244.0.20', '10.244.1.30'];
const CLAIM = { endpoint: 1573, clientIp: CLIENT, clusterIP: VIP, port: 80, backends: BACKENDS };

/** Lines in the lab's monitor shape (lab-findings §5e). */
const TRANSLATED = `[cp] -> stack from-container ep 1573 (lxcd2a04d71301a) orig-ip 10.96.94.95:80: 10.244.0.10:40001 -> 10.244.1.30:80 tcp SYN  [svc DNAT backend 2/2]
[cp] -> endpoint 1573 to-container (lxcd2a04d71301a) orig-ip 10.244.1.30:80: 10.96.94.95:80 -> 10.244.0.10:40001 tcp SYN, ACK  [rev-NAT]
[cp] -> endpoint 2103 from-container ep 1573 (lxcd2a04d71301a) orig-ip 10.96.94.95:80: 10.244.0.10:40003 -> 10.244.0.20:80 tcp SYN  [svc DNAT backend 1/2] bpf_redirect->lxc2420d7527a95
[cp] -> endpoint 1573 to-container (lxcd2a04d71301a) orig-ip 0.0.0.0: 10.96.94.95:80 -> 10.244.0.10:40003 tcp SYN, ACK
`;
/** The same traffic with the tc program detached: kube-proxy DNATs after tc, nothing is translated at tc. */
const UNTRANSLATED = `[cp] -> endpoint 2103 to-container (lxc2420d7527a95) orig-ip 0.0.0.0: 10.244.0.10:40003 -> 10.244.0.20:80 tcp SYN
[cp] -> stack from-container ep 2103 (lxc2420d7527a95) orig-ip 0.0.0.0: 10.244.0.20:80 -> 10.244.0.10:40003 tcp SYN, ACK
`;
/** Translated, but to an address that is not a backend of the service. */
const WRONG_BACKEND = `[cp] -> stack from-container ep 1573 (lxcd2a04d71301a) orig-ip 10.96.94.95:80: 10.244.0.10:40001 -> 10.244.9.9:80 tcp SYN  [svc DNAT backend 1/1]
`;
/** Same-node backend reached through the stack, not by bpf_redirect. */
const NO_REDIRECT = `[cp] -> stack from-container ep 1573 (lxcd2a04d71301a) orig-ip 10.96.94.95:80: 10.244.0.10:40003 -> 10.244.0.20:80 tcp SYN  [svc DNAT backend 1/1]
`;

function ev(text: string): CitedEvidence<MonitorEvent[]> {
  return {
    kind: 'monitor',
    where: 'node cilium-kubeproxy-control-plane',
    commands: ['cilium-dbg monitor --type trace'],
    raw: text,
    data: parseMonitor(text).events,
    summary: 'monitor',
    attachment: '06-monitor-node-cilium-kubeproxy-control-plane.txt',
  };
}

test('translation: the forward DNAT event (orig-ip = ClusterIP, dst = a backend) proves it', () => {
  const proof = expectTranslation(ev(TRANSLATED), CLAIM);
  assert.ok(proof.length >= 2);
  assert.ok(proof.every((e) => BACKENDS.includes(e.dst!.ip) || e.dst!.ip === CLIENT));
  // without the endpoint id the client IP alone attributes the events
  expectTranslation(ev(TRANSLATED), { ...CLAIM, endpoint: undefined });
});

test('translation: untranslated client traffic fails, naming the monitor, the lines and the evidence', () => {
  assert.throws(
    () => expectTranslation(ev(UNTRANSLATED), CLAIM),
    (err: unknown) => {
      assert.ok(err instanceof AssertionError);
      const m = (err as Error).message;
      assert.match(
        m,
        /^Expected cilium monitor on node cilium-kubeproxy-control-plane to show 10\.244\.0\.10 \(endpoint 1573\) → 10\.96\.94\.95:80 translated to a backend \(10\.244\.0\.20, 10\.244\.1\.30\)/,
      );
      assert.match(m, /none with orig-ip 10\.96\.94\.95 \(untranslated: `\[cp\] -> endpoint 2103 to-container/);
      assert.match(m, /evidence 06-monitor-node-cilium-kubeproxy-control-plane\.txt/);
      return true;
    },
  );
});

test('translation: a translation to an address that is not a backend fails', () => {
  assert.throws(
    () => expectTranslation(ev(WRONG_BACKEND), CLAIM),
    (err: unknown) =>
      err instanceof AssertionError && /translated to 10\.244\.9\.9, which is not a backend/.test(err.message),
  );
});

test('translation: events of another endpoint do not count for the client', () => {
  assert.throws(
    () => expectTranslation(ev(TRANSLATED.split('\n')[0]!), { ...CLAIM, endpoint: 999 }),
    (err: unknown) =>
      err instanceof AssertionError &&
      /none of its 1 trace event comes from 10\.244\.0\.10 \(endpoint 999\)/.test(err.message),
  );
});

test('translation: a monitor that printed no trace event is inconclusive', () => {
  const header = 'Listening for events on 4 CPUs with 64x4096 of shared memory\nPress Ctrl-C to quit\n';
  for (const text of ['', header]) {
    assert.throws(
      () => expectTranslation(ev(text), CLAIM),
      (err: unknown) =>
        err instanceof InconclusiveError && /printed no trace event during the window/.test(err.message),
    );
  }
});

test('real-world cilium-dbg monitor: the reverse-NAT reply (orig-ip = backend) proves a ClusterIP translation', () => {
  const file = new URL(
    '../../../shared/fixtures/real-world/cilium-dbg-monitor-related-to-dns-proxy-orig-ip-clusterip-cilium-docs-rst-idx4273197192.txt',
    import.meta.url,
  );
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (process.env.CI === 'true') throw err;
    return;
  }
  const dns = { endpoint: 3459, clientIp: '10.60.0.182', clusterIP: '10.63.240.10', port: 53 };
  const proof = expectTranslation(ev(text), { ...dns, backends: ['10.60.1.115'] });
  assert.equal(proof[0]!.origIp, '10.60.1.115');
  assert.throws(
    () => expectTranslation(ev(text), { ...dns, backends: ['10.60.1.116'] }),
    /translated to 10\.60\.1\.115, which is not a backend/,
  );
  assert.throws(() => expectNoTranslation(ev(text), dns), AssertionError);
});

test('no translation: passes when the client traffic was seen untranslated; fails on a translation', () => {
  expectNoTranslation(ev(UNTRANSLATED), CLAIM);
  assert.throws(
    () => expectNoTranslation(ev(TRANSLATED), CLAIM),
    (err: unknown) =>
      err instanceof AssertionError &&
      /Expected no translation of 10\.244\.0\.10 → 10\.96\.94\.95:80, but cilium monitor on node cilium-kubeproxy-control-plane shows \d+ translated events: `\[cp\] -> stack from-container ep 1573/.test(
        err.message,
      ) &&
      /evidence 06-monitor/.test(err.message),
  );
});

test('no translation: without any event of the client it is inconclusive (positive control)', () => {
  const other =
    '[cp] -> endpoint 388 to-container (lxcc2f25b3ad380) orig-ip 0.0.0.0: 10.244.1.5:40001 -> 10.244.1.30:80 tcp SYN\n';
  assert.throws(
    () => expectNoTranslation(ev(other), CLAIM),
    (err: unknown) => err instanceof InconclusiveError && /saw none of the traffic of 10\.244\.0\.10/.test(err.message),
  );
});

test('redirect: a bpf_redirect of the client traffic to the backend proves same-node delivery', () => {
  const proof = expectRedirect(ev(TRANSLATED), { clientIp: CLIENT, backendIp: '10.244.0.20' });
  assert.equal(proof[0]!.redirect, 'lxc2420d7527a95');
  expectRedirect(ev(TRANSLATED), { clientIp: CLIENT, backendIps: BACKENDS, viaInterface: 'lxc2420d7527a95' });
});

test('redirect: delivery through the stack fails, and so does an absent flow or another interface', () => {
  assert.throws(
    () => expectRedirect(ev(NO_REDIRECT), { clientIp: CLIENT, backendIp: '10.244.0.20' }),
    (err: unknown) =>
      err instanceof AssertionError &&
      /delivered by bpf_redirect, but 1 event show it passed on without a redirect: `\[cp\] -> stack from-container/.test(
        err.message,
      ) &&
      /evidence 06-monitor/.test(err.message),
  );
  assert.throws(
    () => expectRedirect(ev(UNTRANSLATED.split('\n')[1]!), { clientIp: CLIENT, backendIp: '10.244.0.20' }),
    (err: unknown) =>
      err instanceof AssertionError &&
      /none of its 1 trace event goes from 10\.244\.0\.10 to 10\.244\.0\.20/.test(err.message),
  );
  assert.throws(
    () => expectRedirect(ev(TRANSLATED), { clientIp: CLIENT, backendIp: '10.244.0.20', viaInterface: 'lxcOTHER' }),
    /redirected to lxc2420d7527a95/,
  );
  assert.throws(() => expectRedirect(ev(''), { clientIp: CLIENT, backendIp: '10.244.0.20' }), InconclusiveError);
});
