/**
 * The CLI's cache of stripped TypeScript (support/strip-cache.js): a module runs the same from
 * the cache as from Node's own loading, without a warning on stderr; an unusable cache or
 * HOOKPOINT_STRIP_CACHE=0 leaves Node's own loading in place.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { run } from '../../support/exec/index.ts';

const STRIP_CACHE = pathToFileURL(path.resolve(import.meta.dirname, '../../support/strip-cache.js')).href;
const dir = mkdtempSync(path.join(tmpdir(), 'hp-strip-cache-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// A module whose types must be stripped, and whose line numbers must survive (a stack trace names them).
const moduleFile = path.join(dir, 'typed.ts');
writeFileSync(
  moduleFile,
  [
    'interface Hop { name: string; hops: number }',
    'const hop: Hop = { name: "cil_from_container", hops: 2 as number };',
    'export const line = (): number => Number(/:(\\d+):\\d+\\)?$/m.exec(new Error().stack!.split("\\n")[1]!)![1]);',
    'export const text = [hop.name, hop.hops].join("/");',
  ].join('\n'),
);

/** Run a fresh node that registers the cache (with `env`) and imports the module; its answer. */
async function runWith(env: Record<string, string>) {
  const script = [
    `const { useStripCache } = await import(${JSON.stringify(STRIP_CACHE)});`,
    'const used = useStripCache();',
    `const m = await import(${JSON.stringify(pathToFileURL(moduleFile).href)});`,
    'console.log(JSON.stringify({ used, text: m.text, line: m.line() }));',
  ].join('\n');
  const res = await run([process.execPath, '--input-type=module', '-e', script], {
    env: { HOOKPOINT_STRIP_CACHE: '', ...env },
    timeoutMs: 30_000,
    where: 'host',
    check: false,
  });
  assert.equal(res.exitCode, 0, res.stderr);
  return { ...JSON.parse(res.stdout), stderr: res.stderr };
}

describe('strip cache', () => {
  const cache = path.join(dir, 'cache');
  const stripped = () => readdirSync(path.join(cache, 'strip', process.version));

  it('the first load strips and keeps the JavaScript; a later one runs the same from the cache, silently', async () => {
    const first = await runWith({ HOOKPOINT_CACHE_DIR: cache });
    assert.deepEqual(first, { used: true, text: 'cil_from_container/2', line: 3, stderr: '' });
    assert.equal(stripped().filter((f) => f.endsWith('.js')).length, 1);
    const again = await runWith({ HOOKPOINT_CACHE_DIR: cache });
    assert.deepEqual(again, first);
    assert.equal(stripped().length, 1);
  });

  it('the same answer as Node loading the module itself', async () => {
    const own = await runWith({ HOOKPOINT_STRIP_CACHE: '0', HOOKPOINT_CACHE_DIR: path.join(dir, 'unused') });
    assert.deepEqual(own, { used: false, text: 'cil_from_container/2', line: 3, stderr: '' });
    assert.throws(() => readdirSync(path.join(dir, 'unused')), /ENOENT/);
  });

  it('a cache directory that cannot be made leaves Node loading the module', async () => {
    const blocked = path.join(dir, 'a-file');
    writeFileSync(blocked, '');
    assert.deepEqual(await runWith({ HOOKPOINT_CACHE_DIR: blocked }), {
      used: false,
      text: 'cil_from_container/2',
      line: 3,
      stderr: '',
    });
  });
});
