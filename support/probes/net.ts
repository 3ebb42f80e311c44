/**
 * Routes, neighbours and links of a node or a pod, read with iproute2's JSON output (`ip -j …`)
 * in the target's network namespace. An `ip` without JSON support (busybox) is asked again in
 * text form; the parsers read both.
 */
import type { Backend, ExecTarget } from '../backends/types.ts';
import { InfraError } from '../errors.ts';
import type { Evidence } from '../evidence/index.ts';
import type { RunResult } from '../exec/index.ts';
import { type Interface, type Neighbour, parseIpAddr, parseIpNeigh, parseIpRoute, type Route } from '../parsers/ip.ts';
import { commandOf, describeTarget, tail } from './common.ts';

const TIMEOUT_MS = 10_000;

async function ipShow(
  backend: Backend,
  target: ExecTarget,
  object: 'route' | 'neigh' | 'addr',
): Promise<{ res: RunResult; commands: string[] }> {
  const commands: string[] = [];
  let res = await backend.exec(target, ['ip', '-j', object, 'show'], { timeoutMs: TIMEOUT_MS, check: false });
  commands.push(commandOf(res));
  if (res.exitCode !== 0 && /unknown|invalid|usage/i.test(res.stderr)) {
    res = await backend.exec(target, ['ip', object, 'show'], { timeoutMs: TIMEOUT_MS, check: false });
    commands.push(commandOf(res));
  }
  if (res.exitCode !== 0) {
    throw new InfraError(
      `Could not read the ${object === 'neigh' ? 'neighbours' : `${object}s`} of ${describeTarget(target)}: \`${commandOf(res)}\` exited with ${res.exitCode}${tail(res.stderr) ? ` — ${tail(res.stderr)}` : ''}.`,
    );
  }
  return { res, commands };
}

export async function routes(backend: Backend, target: ExecTarget): Promise<Evidence<Route[]>> {
  const { res, commands } = await ipShow(backend, target, 'route');
  const list = parseIpRoute(res.stdout).routes;
  const where = describeTarget(target);
  const def = list.find((r) => r.dst === 'default');
  return {
    kind: 'routes',
    where,
    commands,
    raw: res.stdout,
    data: list,
    summary: `${list.length} routes of ${where}${def ? `; default via ${def.gateway ?? '(none)'}${def.dev ? ` dev ${def.dev}` : ''}` : '; no default route'}`,
  };
}

export async function neighbours(backend: Backend, target: ExecTarget): Promise<Evidence<Neighbour[]>> {
  const { res, commands } = await ipShow(backend, target, 'neigh');
  const list = parseIpNeigh(res.stdout).neighbours;
  const where = describeTarget(target);
  return {
    kind: 'neigh',
    where,
    commands,
    raw: res.stdout,
    data: list,
    summary: `${list.length} neighbour entries of ${where}${
      list.length
        ? `: ${list
            .slice(0, 4)
            .map((n) => `${n.ip} ${n.lladdr ?? '(no MAC)'} ${n.state ?? ''}`.trim())
            .join('; ')}`
        : ''
    }`,
  };
}

export async function links(backend: Backend, target: ExecTarget): Promise<Evidence<Interface[]>> {
  const { res, commands } = await ipShow(backend, target, 'addr');
  const list = parseIpAddr(res.stdout).interfaces;
  const where = describeTarget(target);
  return {
    kind: 'links',
    where,
    commands,
    raw: res.stdout,
    data: list,
    summary: `${list.length} interfaces of ${where}: ${list.map((i) => i.name).join(', ')}`,
  };
}
