import type { MonitorEvent } from '../../../support/parsers/monitor.ts';

/** Every field of a parsed monitor event unset: a test spreads it under the fields a line sets. */
export const NO_FIELDS: Omit<MonitorEvent, 'type' | 'raw'> = {
  observationPoint: null,
  endpoint: null,
  srcEndpoint: null,
  origIp: null,
  src: null,
  dst: null,
  protocol: null,
  flags: null,
  flowId: null,
  identities: null,
  ifindex: null,
  interface: null,
  state: null,
  message: null,
  file: null,
  cpu: null,
  verdict: null,
  layer: null,
  line: 0,
};
