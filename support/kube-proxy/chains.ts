/**
 * kube-proxy's chain names (iptables mode), as its proxier computes them (documented in its
 * source comments and visible in every iptables-save of a cluster):
 *   KUBE-SVC-/KUBE-EXT- + first 16 chars of base32(sha256(servicePortName + protocol)),
 *   KUBE-SEP- + first 16 chars of base32(sha256(servicePortName + protocol + "ip:port")),
 * with servicePortName = "ns/svc:portName" (":portName" left out when the port has no name)
 * and protocol in lower case ("tcp"). Checked against kube-proxy's own test fixture in
 * test/unit/lab-kube-proxy.test.ts. The lab's rule writer and the counter reads both name
 * chains through this module.
 */
import { createHash } from 'node:crypto';

/** The nat chains every service's traffic enters through: the ClusterIP jumps and the NodePort jumps. */
export const SERVICES_CHAIN = 'KUBE-SERVICES';
export const NODEPORTS_CHAIN = 'KUBE-NODEPORTS';

/** A service port as kube-proxy names it (structural: the backends' ServiceInfo fits). */
export interface ServicePortRef {
  namespace: string;
  name: string;
  /** Port name; '' (or null) for an unnamed port. */
  portName: string | null;
  protocol: string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 (standard alphabet), the encoding Go's base32.StdEncoding produces. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = ((value << 8) | b) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}

function hash16(text: string): string {
  return base32(createHash('sha256').update(text).digest()).slice(0, 16);
}

/** "ns/svc:port" — kube-proxy's ServicePortName as it appears in its comments. */
export function servicePortName(s: { namespace: string; name: string; portName: string | null }): string {
  return `${s.namespace}/${s.name}${s.portName ? `:${s.portName}` : ''}`;
}

export function serviceChain(spn: string, protocol: string): string {
  return `KUBE-SVC-${hash16(spn + protocol.toLowerCase())}`;
}

export function externalChain(spn: string, protocol: string): string {
  return `KUBE-EXT-${hash16(spn + protocol.toLowerCase())}`;
}

export function endpointChain(spn: string, protocol: string, endpoint: string): string {
  return `KUBE-SEP-${hash16(spn + protocol.toLowerCase() + endpoint)}`;
}

/** The per-service chains kube-proxy writes for one service port: its KUBE-SVC, KUBE-EXT (NodePort) and KUBE-SEP chains. */
export function chainsOfService(
  s: ServicePortRef & { nodePort: number | null; endpoints: ReadonlyArray<{ ip: string; port: number }> },
): string[] {
  const spn = servicePortName(s);
  const chains = [serviceChain(spn, s.protocol)];
  if (s.nodePort !== null) chains.push(externalChain(spn, s.protocol));
  for (const e of s.endpoints) chains.push(endpointChain(spn, s.protocol, `${e.ip}:${e.port}`));
  return chains;
}
