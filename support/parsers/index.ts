/** Parsers: pure text (or bytes) → typed data, one module per tool format. */
export * from './iptables.ts';
export * from './monitor.ts';
