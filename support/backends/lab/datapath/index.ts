/** The lab's eBPF datapath: compile, load/attach per node, maps, trace stream, status. */
export { type CompiledProgram, clangArgs, compileLabProgram, LAB_PROGRAM_SOURCE, programHash } from './compile.ts';
export {
  decodeTraceRecord,
  EventPipeDecoder,
  type FormatContext,
  formatTraceRecord,
  startMonitor,
  TRACE_RECORD_SIZE,
  type TraceRecord,
  type TraceStream,
  tcpFlagsText,
  traceHeader,
} from './monitor.ts';
export {
  type AttachedProgram,
  type DatapathEndpoint,
  type DatapathOptions,
  type DatapathService,
  isBpffs,
  type MapCounts,
  mountBpffs,
  NodeDatapath,
  type NodeDatapathConfig,
  unmountBpffs,
} from './node-datapath.ts';
