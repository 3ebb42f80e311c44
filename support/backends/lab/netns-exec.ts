/**
 * The argv that runs a program inside a lab network namespace: `nsenter --net=/run/netns/<ns> --`.
 * It only joins the network namespace, then executes the program (same pid, same exit status).
 * `ip netns exec` also unshares a mount namespace and remounts /sys for the namespace on every
 * call: 6.7 ms against 5.6 ms a command on this machine idle (100 × `true`), 36 ms against 25 ms
 * with its 2 cores loaded. No lab command needs that: they reach the network through netlink,
 * sockets and /proc/net, which all follow the network namespace, and the lab's bpffs is a mount
 * of its own (lab-findings pitfall 1). The command stays one a person can paste and rerun.
 */
import path from 'node:path';
import { NETNS_DIR } from './ledger.ts';

export function inNetns(netns: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=${path.join(NETNS_DIR, netns)}`, '--', ...argv];
}

/**
 * The same with the namespace's own /sys (`ip netns exec`): for what a person types into a node
 * (`hookpoint lab exec`), where `ls /sys/class/net` or `tcpdump -D` must list the node's devices,
 * as `docker exec` into a kind node does.
 */
export function inNetnsWithSysfs(netns: string, argv: readonly string[]): string[] {
  return ['ip', 'netns', 'exec', netns, ...argv];
}
