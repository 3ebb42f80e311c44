/**
 * Bounded waits with progress: poll a condition until it holds or the deadline passes, printing
 * a line when the state changes (and every 15 s while it does not).
 */
import { InfraError } from '../../errors.ts';

export interface WaitDeps {
  sleep: (ms: number) => Promise<void>;
  now: () => number;
  progress: (line: string) => void;
}

export const realWaitDeps: WaitDeps = {
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  now: Date.now,
  progress: (line) => process.stderr.write(`hookpoint: ${line}\n`),
};

export interface Poll {
  done: boolean;
  /** Current state in a few words: "1/2 agents ready". */
  state: string;
}

export async function waitUntil(
  what: string,
  check: () => Promise<Poll>,
  o: { timeoutMs: number; intervalMs: number; deps: WaitDeps; hint?: string },
): Promise<void> {
  const start = o.deps.now();
  let lastState = '';
  let lastPrinted = start;
  for (;;) {
    let poll: Poll;
    try {
      poll = await check();
    } catch (err) {
      // An API hiccup while waiting is a state, not the end: keep polling until the deadline.
      poll = { done: false, state: `check failed: ${(err as Error).message}` };
    }
    const elapsed = o.deps.now() - start;
    if (poll.done) {
      o.deps.progress(`${what}: ${poll.state} (${Math.round(elapsed / 1000)} s)`);
      return;
    }
    if (poll.state !== lastState || o.deps.now() - lastPrinted >= 15_000) {
      o.deps.progress(
        `waiting for ${what}: ${poll.state} (${Math.round(elapsed / 1000)} s of ${Math.round(o.timeoutMs / 1000)} s)`,
      );
      lastState = poll.state;
      lastPrinted = o.deps.now();
    }
    if (elapsed >= o.timeoutMs)
      throw new InfraError(
        `Timed out after ${Math.round(o.timeoutMs / 1000)} s waiting for ${what}; last state: ${poll.state}.`,
        {
          hint: o.hint,
        },
      );
    await o.deps.sleep(Math.min(o.intervalMs, Math.max(1, o.timeoutMs - elapsed)));
  }
}
