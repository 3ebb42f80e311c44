/** Small glue for Then steps: the window they read, with a clear error when there is none. */
import { UsageError } from '../errors.ts';
import type { ObservationWindow } from './window.ts';
import type { HookpointWorld } from './world.ts';

export function requireWindow(world: HookpointWorld): ObservationWindow {
  if (!world.window)
    throw new UsageError(
      'This Then step reads the evidence of a traffic step, but the scenario has not sent any traffic yet.',
      'Put a When step such as `When pod "client" sends 10 HTTP requests to service "echo"` before it.',
    );
  return world.window;
}
