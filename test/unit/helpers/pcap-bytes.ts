/** Byte builders for pcap tests: frames are written here byte by byte, in the real formats' layouts. */

/** Network byte order. */
export const be16 = (v: number) => [(v >> 8) & 255, v & 255];
export const be32 = (v: number) => [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];

export interface PcapRecord {
  sec: number;
  frac: number;
  frame: number[];
  /** Bytes captured (the snaplen cut); the whole frame when absent. */
  incl?: number;
}

/** A classic pcap file as libpcap writes it (version 2.4, snaplen 262144), in either byte order and time resolution. */
export function pcapBytes(
  recs: readonly PcapRecord[],
  opts: { little?: boolean; nano?: boolean; linkType?: number } = {},
): Uint8Array {
  const little = opts.little ?? true;
  const out: number[] = [];
  const u32 = (v: number) => out.push(...(little ? be32(v).reverse() : be32(v)));
  const u16 = (v: number) => out.push(...(little ? be16(v).reverse() : be16(v)));
  u32(opts.nano ? 0xa1b23c4d : 0xa1b2c3d4);
  u16(2);
  u16(4);
  u32(0);
  u32(0);
  u32(262144);
  u32(opts.linkType ?? 1);
  for (const r of recs) {
    const incl = r.incl ?? r.frame.length;
    u32(r.sec);
    u32(r.frac);
    u32(incl);
    u32(r.frame.length);
    out.push(...r.frame.slice(0, incl));
  }
  return new Uint8Array(out);
}
