/** Where an executable is, found without spawning anything (PATH plus the sbin dirs root uses). */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
/** Find an executable on PATH (and the sbin dirs root uses) without spawning anything. */
export function which(tool: string, envPath = process.env.PATH ?? ''): string | null {
  const dirs = [...envPath.split(':'), '/usr/sbin', '/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const p = path.join(dir, tool);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}
