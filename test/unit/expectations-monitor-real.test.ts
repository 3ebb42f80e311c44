/**
 * The monitor expectations on REAL `cilium(-dbg) monitor` output from the corpus
 * (../shared/fixtures/real-world, INDEX.md). The same checks on the lab's lines are in
 * expectations-monitor.test.ts. Gaps of the corpus are named where they matter:
 * - GAP 1: no real pod → ClusterIP trace in kube-proxy mode (KPR=false) with the client's
 *   `-> stack client -> backend` and its reverse-NATed reply together; the reverse NAT is
 *   proven on the DNS-docs sample (a reply from the kube-dns ClusterIP, orig-ip = the backend).
 * - GAP 2: no real same-node pod → ClusterIP delivery (`-> endpoint <backend ep>` of a
 *   service flow); the positive case uses a real pod → pod same-node delivery, which has the
 *   same event shape (`-> endpoint`, ifindex lxc…, orig-ip = the client, no `-> stack`).
 * - GAP 3: no real connection showing both `-> stack` and `-> endpoint` on one node (the
 *   through-the-stack delivery the no-local-redirect variant produces): that failure is tested
 *   on lab lines only (expectations-monitor.test.ts).
 * - The `-vv` form (`CPU 01: MARK … FROM 3006 to-stack: …`) prints no tuple, so none of these
 *   expectations can judge it; the probe reads the one-line form.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AssertionError } from 'chai';
import { InconclusiveError } from '../../support/errors.ts';
import {
  clientForward,
  endpointDeliveries,
  expectNoTranslation,
  expectPolicyDrop,
  expectPolicyVerdict,
  expectSameNodeDelivery,
  expectTranslation,
  reverseNatReplies,
  socketTranslations,
} from '../../support/expectations/monitor.ts';
import { type MonitorEvent, parseMonitor } from '../../support/parsers/monitor.ts';
import { realWorldPath, skipUnlessRealWorld } from './helpers/real-world.ts';

const DNS_DOC = 'cilium-dbg-monitor-related-to-dns-proxy-orig-ip-clusterip-cilium-docs-rst-idx4273197192.txt';
const SOCKLB = 'cilium-monitor-v-t-trace-socklb-1.18.6-kind-native-idx60285825367.txt';
const POD_TO_POD = 'cilium-monitor-network-flow-enp3s0-unknown-identity-idx18022035911.txt';
const VXLAN = 'mixed-cilium-1.20.1-minikube-vxlan-kpr-false-status-iproute-monitor-idx69598493232.txt';

const POLICY_DOCS = 'cilium-monitor-policy-verdict-cilium-docs-policy-creation-and-host-firewall.txt';
const POLICY_DROP = 'cilium-monitor-trace-policyverdict-drop-host-as-world-korean-blog-idx18039083204.txt';

const skip = skipUnlessRealWorld(DNS_DOC, SOCKLB, POD_TO_POD, VXLAN, POLICY_DOCS, POLICY_DROP);

function events(file: string): MonitorEvent[] {
  return parseMonitor(readFileSync(realWorldPath(file), 'utf8')).events;
}

describe('translation and reverse NAT on real cilium-dbg monitor output', { skip }, () => {
  const dns = { endpoint: 3459, clientIp: '10.60.0.182', clusterIP: '10.63.240.10', port: 53 };

  it('a reply from the ClusterIP whose orig-ip is a backend is a reverse NAT (docs sample, GAP 1)', () => {
    const list = events(DNS_DOC);
    const replies = reverseNatReplies(list, dns);
    assert.equal(replies.length, 2);
    assert.ok(replies.every((e) => e.endpoint === 3459 && e.origIp === '10.60.1.115' && e.state === 'reply'));
    const proof = expectTranslation(list, { ...dns, backends: ['10.60.1.115'] });
    assert.deepEqual([...new Set(proof.map((e) => e.origIp))], ['10.60.1.115']);
    assert.throws(
      () => expectTranslation(list, { ...dns, backends: ['10.60.1.116'] }),
      (err: unknown) =>
        err instanceof AssertionError &&
        /orig-ip is 10\.60\.1\.115, which is not a backend \(10\.60\.1\.116\)/.test(err.message),
    );
    assert.throws(() => expectNoTranslation(list, dns), AssertionError);
  });

  it('a reply whose orig-ip is its own source is no reverse NAT, although orig-ip ≠ destination', () => {
    const list = events(DNS_DOC);
    const world = { endpoint: 3459, clientIp: '10.60.0.182', clusterIP: '104.198.14.52', port: 80 };
    const replies = list.filter((e) => e.type === 'trace' && e.src?.ip === '104.198.14.52');
    assert.ok(replies.length >= 3 && replies.every((e) => e.origIp === '104.198.14.52' && e.dst?.ip !== e.origIp));
    assert.deepEqual(reverseNatReplies(list, world), []);
    expectNoTranslation(list, world);
  });

  it("the client's forward `-> stack` events are its own (ifindex 0, orig-ip 0.0.0.0)", () => {
    const fwd = clientForward(events(DNS_DOC), '10.60.0.182').filter((e) => e.observationPoint === 'to-stack');
    assert.ok(fwd.length >= 4);
    assert.ok(fwd.every((e) => e.ifindex === 0 && e.origIp === '0.0.0.0' && e.identities?.src === 323));
  });

  it('socket LB (KPR=true): the reply at the endpoint is not reverse-NATed at tc, so no tc translation is claimed', () => {
    const list = events(SOCKLB);
    const claim = { endpoint: 2927, clientIp: '10.244.1.56', clusterIP: '10.96.211.254', port: 80 };
    // Every reply carries orig-ip = its source (10.244.2.148) ≠ its destination: not a translation.
    assert.ok(list.some((e) => e.endpoint === 2927 && e.origIp === '10.244.2.148'));
    expectNoTranslation(list, claim);
    assert.throws(() => expectTranslation(list, { ...claim, backends: ['10.244.2.148'] }), AssertionError);
  });

  it('socket LB (KPR=true): [pre-xlate-fwd] of the ClusterIP and its [post-xlate-fwd] with the backend (1.18.6 kind)', () => {
    const pair = socketTranslations(events(SOCKLB), '10.96.211.254', 80);
    assert.deepEqual(
      pair.map((e) => [e.observationPoint, e.dst?.ip, e.dst?.port]),
      [
        ['pre-xlate-fwd', '10.96.211.254', 80],
        ['post-xlate-fwd', '10.244.2.148', 80],
      ],
    );
    // The reverse records are not forward translations, and another service has none.
    assert.deepEqual(socketTranslations(events(SOCKLB), '10.244.2.148'), []);
    assert.deepEqual(socketTranslations(events(SOCKLB), '10.96.211.254', 443), []);
    // A per-packet translation claim on that output fails naming the socket translation.
    assert.throws(
      () =>
        expectTranslation(events(SOCKLB), {
          clientIp: '10.244.1.56',
          clusterIP: '10.96.211.254',
          port: 80,
          backends: ['10.244.2.148'],
        }),
      (e: unknown) => e instanceof AssertionError && /translated at the socket.*pre-xlate-fwd/.test(e.message),
    );
  });
});

describe('policy drops and verdicts on real cilium monitor output', { skip }, () => {
  const flow = { srcIp: '172.26.50.201', dstIp: '10.0.1.185', dstEndpoint: 211 };

  it('a `xx drop (Policy denied) … to endpoint 211` of the flow is the drop (Korean blog sample)', () => {
    const drop = expectPolicyDrop(events(POLICY_DROP), flow);
    assert.equal(drop.endpoint, 211);
    assert.match(drop.raw, /^xx drop \(Policy denied\)/);
    // Another destination endpoint, or a flow the monitor did not drop, fails naming what it saw.
    assert.throws(
      () => expectPolicyDrop(events(POLICY_DROP), { ...flow, dstEndpoint: 212 }),
      (e: unknown) => e instanceof AssertionError && /other reasons or endpoints/.test(e.message),
    );
    assert.throws(
      () => expectPolicyDrop(events(POLICY_DROP), { srcIp: '172.26.50.201', dstIp: '10.0.1.184' }),
      (e: unknown) => e instanceof AssertionError && /it dropped other flows: .*10\.0\.1\.185:8082/.test(e.message),
    );
  });

  it('`Policy verdict log: … action deny` of the same flow is its verdict, and no allow', () => {
    assert.equal(expectPolicyVerdict(events(POLICY_DROP), flow, 'deny').verdict?.action, 'deny');
    assert.throws(() => expectPolicyVerdict(events(POLICY_DROP), flow, 'allow'), AssertionError);
  });

  it('host firewall docs: allow and deny verdicts, ICMP without ports; a verdict-free output is inconclusive', () => {
    const list = events(POLICY_DOCS);
    const allow = expectPolicyVerdict(list, { srcIp: '192.168.60.12', dstIp: '192.168.60.11' }, 'allow');
    assert.equal(allow.verdict?.action, 'allow');
    expectPolicyVerdict(list, { srcIp: '10.0.2.2', dstIp: '10.0.2.15' }, 'deny');
    assert.throws(
      () => expectPolicyVerdict(list, { srcIp: '192.168.60.12', dstIp: '192.168.60.11' }, 'deny'),
      AssertionError,
    );
    const statusOnly = list.filter((e) => e.type !== 'policy-verdict' && e.type !== 'drop' && e.type !== 'trace');
    assert.throws(() => expectPolicyDrop(statusOnly, flow), InconclusiveError);
  });
});

describe('same-node delivery on real cilium monitor output', { skip }, () => {
  it('a real pod → pod delivery to a local endpoint without `-> stack` is recognised (GAP 2: no service flow sample)', () => {
    const list = events(POD_TO_POD);
    const proof = expectSameNodeDelivery(list, {
      clientIp: '10.0.4.122',
      backends: [{ ip: '10.0.4.118', endpoint: 734 }],
    });
    assert.deepEqual(
      proof.map((e) => [e.endpoint, e.ifindex, e.origIp, e.state]),
      [[734, 'lxccc67e93f96bd', '10.0.4.122', 'new']],
    );
    assert.throws(
      () => expectSameNodeDelivery(list, { clientIp: '10.0.4.122', backends: [{ ip: '10.0.4.118', endpoint: 3344 }] }),
      AssertionError,
    );
  });

  it('a remote backend reached through `-> network` is no same-node delivery (1.18.6 kind sample)', () => {
    const list = events(SOCKLB);
    assert.deepEqual(
      endpointDeliveries(list, { clientIp: '10.244.1.56', backends: [{ ip: '10.244.2.148' }] }).direct,
      [],
    );
    assert.throws(
      () => expectSameNodeDelivery(list, { clientIp: '10.244.1.56', backends: [{ ip: '10.244.2.148' }] }),
      (err: unknown) =>
        err instanceof AssertionError && /events of the client: `-> network flow 0xd67215a2 /.test(err.message),
    );
  });

  it('a cross-node ping through `-> overlay` is no same-node delivery (1.20.1 VXLAN sample)', () => {
    const list = events(VXLAN);
    assert.throws(
      () => expectSameNodeDelivery(list, { clientIp: '10.244.1.87', backends: [{ ip: '10.244.0.132' }] }),
      AssertionError,
    );
  });
});
