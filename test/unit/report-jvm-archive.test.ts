import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { cacheDir } from '../../support/cache-dir.js';
import { archiveName, classArchive } from '../../support/report/jvm-archive.ts';

const tmps: string[] = [];
async function tmp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hookpoint-jsa-'));
  tmps.push(d);
  return d;
}
after(async () => {
  for (const d of tmps) await rm(d, { recursive: true, force: true });
});

test('cache dir: HOOKPOINT_CACHE_DIR, else XDG_CACHE_HOME/hookpoint, else ~/.cache/hookpoint', () => {
  assert.equal(cacheDir({ HOOKPOINT_CACHE_DIR: '/x/y', XDG_CACHE_HOME: '/c' }), '/x/y');
  assert.equal(cacheDir({ XDG_CACHE_HOME: '/c' }), '/c/hookpoint');
  assert.equal(cacheDir({ HOME: '/home/qa' }), '/home/qa/.cache/hookpoint');
});

test('archive name: one per JVM build and Allure version', () => {
  const java = { path: '/usr/lib/jvm/java-17/bin/java', size: 14_000, mtimeMs: 1_700_000_000_123.7 };
  const name = archiveName(java, '2.32.0');
  assert.match(name, /^allure-2\.32\.0-[0-9a-f]{16}\.jsa$/);
  assert.equal(archiveName({ ...java }, '2.32.0'), name, 'the same JVM and Allure: the same archive');
  const others = [
    archiveName({ ...java, path: '/opt/jdk-21/bin/java' }, '2.32.0'),
    archiveName({ ...java, size: 14_001 }, '2.32.0'),
    archiveName({ ...java, mtimeMs: 1_700_000_001_000 }, '2.32.0'),
    archiveName(java, '2.33.0'),
  ];
  assert.equal(new Set([name, ...others]).size, 5, 'another build or version: another archive');
});

test('the first run writes the archive under a name of its own, later runs map it', async () => {
  const dir = await tmp();
  const java = path.join(dir, 'java');
  await writeFile(java, 'not a real java');
  const env = { HOOKPOINT_CACHE_DIR: path.join(dir, 'cache') };

  const first = await classArchive(java, '2.32.0', env);
  assert.equal(first.jvmOptions.length, 1);
  const partial = first.jvmOptions[0]!.replace(/^-XX:ArchiveClassesAtExit=/, '');
  assert.notEqual(partial, first.jvmOptions[0], `writes at exit: ${first.jvmOptions[0]}`);
  assert.match(path.basename(partial), /\.jsa\.\d+\.partial$/);
  await writeFile(partial, 'classes');
  await first.commit();
  const files = await readdir(env.HOOKPOINT_CACHE_DIR);
  assert.deepEqual(files, [path.basename(partial).replace(/\.\d+\.partial$/, '')]);

  const second = await classArchive(java, '2.32.0', env);
  assert.deepEqual(second.jvmOptions, [`-XX:SharedArchiveFile=${path.join(env.HOOKPOINT_CACHE_DIR, files[0]!)}`]);
  // Another Allure: a new archive is written, the old one is not mapped.
  const upgraded = await classArchive(java, '2.33.0', env);
  assert.match(upgraded.jvmOptions[0]!, /^-XX:ArchiveClassesAtExit=.*allure-2\.33\.0-/);
});

test('a failed run leaves no archive, and an empty one is never mapped', async () => {
  const dir = await tmp();
  const java = path.join(dir, 'java');
  await writeFile(java, 'x');
  const env = { HOOKPOINT_CACHE_DIR: path.join(dir, 'cache') };
  const run = await classArchive(java, '2.32.0', env);
  const partial = run.jvmOptions[0]!.split('=')[1]!;
  await writeFile(partial, 'half');
  await run.discard();
  assert.deepEqual(await readdir(env.HOOKPOINT_CACHE_DIR), []);
  // A JVM that wrote nothing (an archive it could not dump): commit moves nothing into place.
  const empty = await classArchive(java, '2.32.0', env);
  await writeFile(empty.jvmOptions[0]!.split('=')[1]!, '');
  await empty.commit();
  assert.deepEqual(await readdir(env.HOOKPOINT_CACHE_DIR), []);
  assert.match((await classArchive(java, '2.32.0', env)).jvmOptions[0]!, /^-XX:ArchiveClassesAtExit=/);
});

test('no archive when the cache cannot be written or java cannot be found', async () => {
  const dir = await tmp();
  const java = path.join(dir, 'java');
  await writeFile(java, 'x');
  const blocker = path.join(dir, 'file');
  await writeFile(blocker, 'a file where the cache directory would be');
  assert.deepEqual(
    (await classArchive(java, '2.32.0', { HOOKPOINT_CACHE_DIR: path.join(blocker, 'c') })).jvmOptions,
    [],
  );
  assert.deepEqual(
    (await classArchive(path.join(dir, 'missing'), '2.32.0', { HOOKPOINT_CACHE_DIR: dir })).jvmOptions,
    [],
  );
});
