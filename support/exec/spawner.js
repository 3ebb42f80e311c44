/**
 * The spawner: a small process that starts Hookpoint's commands on behalf of the run (run() in
 * command.ts, through spawner-client.ts). Node starts a child with fork(), whose cost grows with
 * the parent's memory: measured here, 2.6 ms a start from a bare Node process against 22 ms from
 * one holding 200 MB (10 ms of it on the parent's own thread). A run's process holds 150-180 MB
 * (cucumber, the report, evidence) and starts some 150 commands, so it hands them to this
 * process, which stays small.
 *
 * Plain JavaScript (no type stripping on its start). Messages over the IPC channel:
 *   in:  {kind:'run', id, argv, opts}  {kind:'cancel', reason}
 *   out: {kind:'pid', id, pid}  {kind:'done', id, result}
 * It decides nothing: timeouts, the process tree and the transcript stay with the caller. It
 * ignores SIGINT (a terminal's Ctrl-C reaches the whole process group; the run decides how to
 * stop) and exits when the run's process goes away.
 */
import { execa } from 'execa';
import { outcomeOf, startWithExeca } from './execa-start.js';

const cancel = new AbortController();

process.on('SIGINT', () => {});
process.on('disconnect', () => {
  cancel.abort('the run ended');
  process.exit(0);
});

const send = (m) => {
  if (process.connected) process.send(m);
};

process.on('message', (m) => {
  if (m.kind === 'cancel') cancel.abort(m.reason ?? 'interrupted');
  else if (m.kind === 'run') start(m);
});

function start({ id, argv, opts }) {
  let child;
  try {
    child = startWithExeca(execa, argv, opts, opts.cancellable ? cancel.signal : undefined);
  } catch (err) {
    send({ kind: 'done', id, result: { failed: true, shortMessage: String(err?.message ?? err) } });
    return;
  }
  send({ kind: 'pid', id, pid: child.pid });
  child.then((r) => send({ kind: 'done', id, result: outcomeOf(r) }));
}
