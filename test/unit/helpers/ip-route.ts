/** Test support: a parsed `ip route` entry with every field absent but those given. */
import type { Route } from '../../../support/parsers/ip.ts';

export function route(r: Partial<Route> & Pick<Route, 'dst' | 'raw'>): Route {
  return {
    type: null,
    gateway: null,
    dev: null,
    protocol: null,
    scope: null,
    prefsrc: null,
    metric: null,
    mtu: null,
    table: null,
    nexthops: [],
    ...r,
  };
}
