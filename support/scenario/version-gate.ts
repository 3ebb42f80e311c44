/** `@cilium:>=1.16` style gates: a scenario skipped, with the reason, where it does not apply. */
import { UsageError } from '../errors.ts';

function parts(v: string): number[] {
  return v
    .replace(/^v/, '')
    .split(/[.-]/)
    .slice(0, 3)
    .map((x) => Number.parseInt(x, 10) || 0);
}

function compare(a: string, b: string): number {
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
}

/** True when version satisfies a gate like ">=1.16", "<1.18", "=1.17.15", or a comma list of them (all must hold). */
export function versionSatisfies(version: string, gate: string): boolean {
  return gate.split(',').every((g) => {
    const m = /^(>=|<=|>|<|=)?(\d+(?:\.\d+){0,2})$/.exec(g.trim());
    if (!m)
      throw new UsageError(
        `Invalid version gate "@cilium:${gate}".`,
        'Write it like @cilium:>=1.16 or @cilium:>=1.15,<1.18.',
      );
    const c = compare(version, m[2]!);
    switch (m[1] ?? '=') {
      case '>=':
        return c >= 0;
      case '<=':
        return c <= 0;
      case '>':
        return c > 0;
      case '<':
        return c < 0;
      default:
        return compare(version.split('.').slice(0, parts(m[2]!).length).join('.'), m[2]!) === 0;
    }
  });
}
