/** Parsers: pure text (or bytes) → typed data, one module per tool format. No I/O, no processes. */
export * from './bpftool.ts';
export * from './cilium-programs.ts';
export * from './ip.ts';
export * from './iptables.ts';
export * from './monitor.ts';
export * from './pcap.ts';
export * from './status.ts';
export * from './tail-calls.ts';
export * from './tcpdump.ts';
