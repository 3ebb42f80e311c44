/**
 * Expectations over routes and neighbours (ip -j route / neigh). Pure: no I/O.
 */
import type { Neighbour, Route } from '../parsers/ip.ts';
import { citeAll, dataOf, type EvidenceOr, fail, inconclusive, isEvidence, listSome } from './evidence-ref.ts';

export { expectStatusField, STATUS_FIELD_OF_WORDS } from './status.ts';

/** `10.244.1.0/24 via 172.18.0.3 dev eth0` (the same shape for text and JSON input). */
function routeText(r: Route): string {
  const hops = r.nexthops.length
    ? ` ${r.nexthops.map((n) => `nexthop via ${n.gateway ?? '-'} dev ${n.dev ?? '-'}`).join(' ')}`
    : '';
  return `${r.dst}${r.gateway ? ` via ${r.gateway}` : ''}${r.dev ? ` dev ${r.dev}` : ''}${hops}`;
}

/** `10.244.1.0/24` and `10.244.1.0/24` match; a host address matches its /32 (or /128). */
function sameDst(a: string, b: string): boolean {
  const norm = (s: string) => (s.includes('/') || s === 'default' ? s : `${s}/${s.includes(':') ? 128 : 32}`);
  return norm(a) === norm(b);
}

function gatewaysOf(r: Route): string[] {
  return [r.gateway, ...r.nexthops.map((n) => n.gateway)].filter((g): g is string => g !== null);
}

function place(v: EvidenceOr<unknown>, what: string): string {
  return isEvidence(v) ? `the ${what} of ${v.where}` : `the ${what}`;
}

/** A route for `cidr` via `gateway` (the gateway itself or one of its nexthops). Returns it. */
export function expectRouteVia(routes: EvidenceOr<Route[]>, cidr: string, gateway: string): Route {
  const list = dataOf(routes);
  const ev = citeAll(routes);
  const forCidr = list.filter((r) => sameDst(r.dst, cidr));
  const hit = forCidr.find((r) => gatewaysOf(r).includes(gateway));
  if (hit) return hit;
  const found = forCidr.length
    ? `the route for ${cidr} is \`${forCidr.map(routeText).join('`, `')}\``
    : `there is no route for ${cidr} (routes: ${listSome(
        list.map((r) => `\`${routeText(r)}\``),
        6,
      )})`;
  fail(`Expected ${place(routes, 'routes')} to send ${cidr} via ${gateway}, but ${found}${ev}.`, {
    expected: `${cidr} via ${gateway}`,
    actual: forCidr.map(routeText),
  });
}

/** The default route goes via `ip`. */
export function expectDefaultGateway(routes: EvidenceOr<Route[]>, ip: string): Route {
  const list = dataOf(routes);
  const ev = citeAll(routes);
  const defaults = list.filter((r) => r.dst === 'default' || r.dst === '0.0.0.0/0' || r.dst === '::/0');
  const hit = defaults.find((r) => gatewaysOf(r).includes(ip));
  if (hit) return hit;
  const found = defaults.length
    ? `the default route is \`${defaults.map(routeText).join('`, `')}\``
    : 'there is no default route';
  fail(`Expected ${place(routes, 'routes')} to have its default gateway at ${ip}, but ${found}${ev}.`, {
    expected: `default via ${ip}`,
    actual: defaults.map(routeText),
  });
}

/**
 * The neighbour entry of `ip` resolves to `mac` (case-insensitive). `macOwner` names what the
 * MAC belongs to in messages (the host veth `lxc…`). No entry for `ip` at all is inconclusive:
 * the cache holds an address only after traffic to it.
 */
export function expectNeighbourMac(
  neigh: EvidenceOr<Neighbour[]>,
  ip: string,
  mac: string,
  macOwner?: string,
): Neighbour {
  const list = dataOf(neigh);
  const ev = citeAll(neigh);
  const owner = macOwner ? ` (${macOwner})` : '';
  const entries = list.filter((n) => n.ip === ip);
  const hit = entries.find((n) => n.lladdr !== null && n.lladdr.toLowerCase() === mac.toLowerCase());
  if (hit) return hit;
  if (entries.length === 0) {
    inconclusive(
      `${place(neigh, 'neighbour table')} has no entry for ${ip} (entries: ${listSome(list.map((n) => n.ip)) || 'none'})${ev}, so the MAC it resolves to cannot be judged.`,
      'The entry appears after traffic to that address; send traffic in the scenario first.',
    );
  }
  const found = entries.map(
    (n) => `${n.lladdr ?? 'no MAC'}${n.state ? ` ${n.state}` : ''}${n.dev ? ` on ${n.dev}` : ''}`,
  );
  fail(
    `Expected ${place(neigh, 'neighbour table')} to resolve ${ip} to ${mac}${owner}, but it resolves to ${found.join(', ')}${ev}.`,
    { expected: mac, actual: entries.map((n) => n.lladdr) },
  );
}

/**
 * A route for `cidr` through device `dev` (with `mtu` when given), never via a gateway on
 * another device — tunnel mode's `<pod CIDR> via <cilium_host address> dev cilium_host mtu 1450`.
 */
export function expectRouteThroughDevice(routes: EvidenceOr<Route[]>, cidr: string, dev: string, mtu?: number): Route {
  const list = dataOf(routes);
  const ev = citeAll(routes);
  const forCidr = list.filter((r) => sameDst(r.dst, cidr));
  const hit = forCidr.find((r) => r.dev === dev && (mtu === undefined || r.mtu === mtu));
  if (hit) return hit;
  const want = `${cidr} dev ${dev}${mtu === undefined ? '' : ` mtu ${mtu}`}`;
  const found = forCidr.length
    ? `the route for ${cidr} is \`${forCidr.map((r) => `${routeText(r)}${r.mtu ? ` mtu ${r.mtu}` : ''}`).join('`, `')}\``
    : `there is no route for ${cidr} (routes: ${listSome(
        list.map((r) => `\`${routeText(r)}\``),
        6,
      )})`;
  fail(`Expected ${place(routes, 'routes')} to send ${want}, but ${found}${ev}.`, {
    expected: want,
    actual: forCidr.map(routeText),
  });
}
