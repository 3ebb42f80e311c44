/** The lab's eBPF datapath: compile, load/attach per node, maps, trace stream, status. */
export {
  type CompiledProgram,
  clangArgs,
  compileLabProgram,
  LAB_KPR_SOURCE,
  LAB_PROGRAM_SOURCE,
  programHash,
} from './compile.ts';
export {
  type CgroupProgram,
  cgroupPrograms,
  KPR_NETDEV_DEFINE,
  NETDEV_PROGRAMS,
  NodeKpr,
  SOCK_PROGRAMS,
} from './kpr.ts';
export {
  decodeTraceRecord,
  EventPipeDecoder,
  type MonitorOptions,
  OBS,
  possibleCpus,
  startMonitor,
  TRACE_RECORD_SIZE,
  type TraceRecord,
  type TraceStream,
  XLATE,
} from './monitor.ts';
export {
  type AttachedProgram,
  CALLS_MAP_SIZE,
  type DatapathEndpoint,
  type DatapathOptions,
  type DatapathService,
  type EndpointAttachment,
  endpointKey,
  isBpffs,
  LAB_F_LOCAL_REDIRECT,
  LAB_F_TRACE,
  MAP_NAMES,
  type MapCounts,
  mountBpffs,
  NodeDatapath,
  type NodeDatapathConfig,
  type PinnedProgram,
  POLICY_PROGRAM,
  PROGRAM_NAMES,
  TAIL_CALLS,
  unmountBpffs,
} from './node-datapath.ts';
export { type DatapathState, gatherDatapathState, renderStatus, routingFromState } from './status.ts';
