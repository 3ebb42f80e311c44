/** A lab node's commands for the kube-proxy module: argv run inside the node's network namespace, whatever the exit code. */
import { run } from '../../exec/index.ts';
import type { NodeRun } from '../../kube-proxy/mode.ts';
import { inNetns } from './netns-exec.ts';

export function netnsRun(netns: string, where: string): NodeRun {
  return (argv) => run(inNetns(netns, argv), { timeoutMs: 15_000, where, check: false, quietStdout: true });
}
