/**
 * The lab's janitor: a small daemon started (setsid -f) when a process begins to provision a
 * lab. It watches that owner; when the owner is gone (finished, Ctrl-C, SIGTERM, crash, even
 * SIGKILL) and the lab is not marked to be kept, it takes the lock and removes everything the
 * ledger lists. This is how `lab up` interrupted half-way leaves nothing behind: once SIGINT
 * has cancelled the owner's command runner, the owner itself can start no cleanup command.
 * It exits as soon as the run directory is gone or the lab is kept ready.
 *
 *   janitor.ts --root DIR --cluster NAME --owner PID --owner-start TICKS
 */
import { writeSync } from 'node:fs';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (!v) {
    writeSync(2, `janitor: missing --${name}\n`);
    process.exit(2);
  }
  return v;
}

const root = arg('root');
const cluster = arg('cluster');
const owner = Number(arg('owner'));
const ownerStart = arg('owner-start');

// Tell the launcher we run, then leave its pipes (see echo-server.js for the same dance).
writeSync(1, `janitor pid=${process.pid} watching=${owner}\n`);
const { closeSync, openSync } = await import('node:fs');
closeSync(0);
openSync('/dev/null', 'r');
closeSync(1);
openSync('/dev/null', 'w');
closeSync(2);
openSync('/dev/null', 'w');
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

const { RunDir, processAlive, teardownLedger } = await import('./ledger.ts');
const rd = new RunDir(root, cluster);

interface Watched {
  keep?: boolean;
  phase?: string;
  owner?: { pid: number; start: string };
}

for (;;) {
  await new Promise((r) => setTimeout(r, 100));
  if (!rd.exists()) process.exit(0);
  const state = rd.readState<Watched>();
  // Another process took the lab over (a later `lab up` reusing it): it started its own janitor.
  if (state?.owner && (state.owner.pid !== owner || state.owner.start !== ownerStart)) process.exit(0);
  if (processAlive(owner, ownerStart)) continue;
  if (state?.keep && state.phase === 'ready') process.exit(0);
  try {
    await rd.acquireLock('lab janitor (owner gone)', 10_000);
    await teardownLedger(rd, { where: 'host (lab janitor)' });
  } catch {
    // Leave what could not be removed to `hookpoint lab down`, which reads the same ledger.
  }
  process.exit(0);
}
