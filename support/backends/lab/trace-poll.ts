/**
 * How often the lab's trace stream hands new records to a `cilium-dbg monitor` reader (ms): the
 * longest a monitor line waits after its packet, so the lab's monitor settle time follows it.
 */
export const TRACE_POLL_MS = 50;
