/**
 * Start and find a lab's agent server (server.ts): daemonised with `setsid -f`, its pid file
 * listed in the ledger before it starts, so teardown, the janitor and `lab down` stop it like
 * every other process of the lab.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../../../exec/index.ts';
import { processAlive, type RunDir } from '../ledger.ts';

const SERVER = path.join(import.meta.dirname, 'server.ts');

export function agentServerPidFile(rd: RunDir): string {
  return rd.file('agent-server.pid');
}

/** True while the lab's agent server (by its pid file, checked against its command line) runs. */
export function agentServerRunning(rd: RunDir): boolean {
  try {
    const pid = Number(readFileSync(agentServerPidFile(rd), 'utf8').trim());
    return (
      pid > 1 && processAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(agentServerPidFile(rd))
    );
  } catch {
    return false;
  }
}

/**
 * Start the agent server unless it runs. Not fatal when it cannot start (a state root whose
 * socket path is too long, say): every `lab agent` command then runs in its own process, as the
 * client falls back to the CLI. Returns whether a server is running.
 */
export async function ensureAgentServer(rd: RunDir, cluster: string, stateRoot: string): Promise<boolean> {
  if (agentServerRunning(rd)) return true;
  const pidFile = agentServerPidFile(rd);
  if (!rd.entries().some((e) => e.kind === 'pidfile' && e.path === pidFile))
    rd.record({ kind: 'pidfile', path: pidFile });
  const argv = [
    'setsid',
    '-f',
    process.execPath,
    SERVER,
    '--state-root',
    stateRoot,
    '--cluster',
    cluster,
    '--pid-file',
    pidFile,
    '--log',
    rd.file('agent-server.log'),
  ];
  const res = await run(argv, { timeoutMs: 30_000, where: 'host', check: false });
  return /ready pid=\d+/.test(res.stdout);
}
