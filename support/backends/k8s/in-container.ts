/**
 * Processes a window starts inside a container end with the window. Killing the local
 * `kubectl exec` (or `docker exec`) does not stop the process it started in the container
 * (kubernetes/kubernetes#89031, kubernetes/kubectl#1076), so every such process is
 *   - tagged with an environment variable naming the window (`env HOOKPOINT_WINDOW=<id> …`),
 *   - bounded by a deadline in the container (`timeout -s INT <s> …`: it outlives no window
 *     even when Hookpoint itself is killed), and
 *   - stopped at window end by a command in the same container that sends SIGINT to every
 *     process carrying the tag (SIGINT: tcpdump and cilium-dbg monitor flush and exit cleanly).
 * Only sh, env, timeout, tr, grep and kill are used: see IN_CONTAINER_HELPERS for which image
 * provides them.
 */

/** The tag variable (one value per started process). */
export const WINDOW_TAG = 'HOOKPOINT_WINDOW';

/**
 * Where the helpers come from in each place a window process runs (public sources):
 * - kindest/node: a Debian slim base (essential packages coreutils — timeout, env, tr — and
 *   grep; kind images/base/Dockerfile: debian:bullseye-slim at v0.20.0, bookworm-slim later);
 * - the cilium-agent container: an Ubuntu root filesystem (coreutils and grep are essential
 *   packages; cilium images/runtime/Dockerfile, `FROM ${UBUNTU_IMAGE} as rootfs`);
 * - the probe pod, nicolaka/netshoot:v0.13: Alpine 3.19 with BusyBox 1.36 applets timeout
 *   (`timeout [-s SIG] SECS PROG ARGS`), env, tr, grep, kill (netshoot Dockerfile).
 */
export const IN_CONTAINER_HELPERS = ['sh', 'env', 'timeout', 'tr', 'grep', 'kill'] as const;

/** The deadline in whole seconds for a process bounded by maxMs (at least 1). */
export function deadlineSeconds(maxMs: number): number {
  return Math.max(1, Math.ceil(maxMs / 1000));
}

/** argv run inside the container instead of `inner`: tagged and bounded by a deadline. */
export function boundedArgv(tag: string, maxMs: number, inner: readonly string[]): string[] {
  return ['env', `${WINDOW_TAG}=${tag}`, 'timeout', '-s', 'INT', String(deadlineSeconds(maxMs)), ...inner];
}

/**
 * A fixed script, the tag passed as $1: SIGINT to every process whose environment carries
 * HOOKPOINT_WINDOW=<tag> (the timeout wrapper and the tool under it); exit 0 either way.
 */
const STOP_SCRIPT =
  'for p in /proc/[0-9]*; do ' +
  'if tr "\\000" "\\n" < "$p/environ" 2>/dev/null | grep -qx "HOOKPOINT_WINDOW=$1"; then ' +
  // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a JS template
  'kill -INT "${p#/proc/}" 2>/dev/null; fi; done; exit 0';

/** argv run in the same container at window end: stop what the window started there. */
export function stopTaggedArgv(tag: string): string[] {
  return ['sh', '-c', STOP_SCRIPT, 'sh', tag];
}

/**
 * Split a resolved command into the part that reaches the container (`kubectl … exec … --`,
 * `docker exec <node>`, `… nsenter -t <pid> -n --`) and the command run there. The resolved
 * argv ends with the requested argv (its first word possibly renamed, cilium → cilium-dbg).
 */
export function splitResolved(
  resolved: readonly string[],
  requested: readonly string[],
): {
  prefix: string[];
  inner: string[];
} {
  const at = resolved.length - requested.length;
  const same = at >= 0 && requested.slice(1).every((a, i) => resolved[at + 1 + i] === a);
  if (!same) throw new Error(`internal: resolved command does not end with ${requested.join(' ')}`);
  return { prefix: resolved.slice(0, at), inner: resolved.slice(at) };
}
