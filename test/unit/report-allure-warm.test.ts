/**
 * The warm Allure (support/report/allure-warm.ts) renders what the cold launcher renders: the
 * same files and the same data for the same results, read from a real JVM on both sides.
 */
import assert from 'node:assert/strict';
import { cp, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { run } from '../../support/exec/index.ts';
import { launcherClasspath, startWarmAllure, takeWarmAllure } from '../../support/report/allure-warm.ts';
import { allureLauncher, findJava } from '../../support/report/render.ts';
import { skipWithoutJava as skip, tmp } from './helpers/report-setup.ts';

const RESULTS = path.join(import.meta.dirname, '..', 'fixtures', 'allure-results-cilium-1.16.5');

/** Every file under dir, relative, with Allure's random ids replaced so two renders compare. */
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.push(path.relative(dir, p).replace(/[0-9a-f]{12,}/g, '<id>'));
    }
  };
  await walk(dir);
  return out.sort();
}

/** A JSON document of the site without Allure's random ids and times, lists in a canonical order (Allure orders children by id). */
async function data(site: string, rel: string): Promise<unknown> {
  const text = await readFile(path.join(site, rel), 'utf8');
  return JSON.parse(text.replace(/"[0-9a-f]{12,}"/g, '"<id>"'), (k, v) => {
    if (['uid', 'start', 'stop', 'duration', 'sumDuration', 'maxDuration', 'minDuration', 'time'].includes(k))
      return '<varies>';
    return Array.isArray(v) ? [...v].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) : v;
  });
}

test("the launcher's classpath is read in its order, every entry a file of allure-commandline", async () => {
  const launcher = await allureLauncher();
  const home = path.dirname(path.dirname(launcher));
  const cp = launcherClasspath(await readFile(launcher, 'utf8'), home);
  assert.ok(cp, 'a CLASSPATH= line');
  const entries = cp.split(':');
  assert.match(entries[0]!, /\/lib\/allure-commandline-[\d.]+\.jar$/);
  assert.equal(entries.at(-1), path.join(home, 'lib', 'config'));
  for (const e of entries) await stat(e);
  assert.equal(launcherClasspath('#!/bin/sh\nexec java "$@"\n', home), undefined);
});

test('warm and cold Allure render the same site from the same results', { skip, timeout: 180_000 }, async () => {
  const java = await findJava();
  const launcher = await allureLauncher();
  const cache = await tmp();
  // A private TMPDIR: the exchange directory is looked for there, apart from other runs' on this machine.
  const privateTmp = await tmp();
  const saved = process.env.HOOKPOINT_CACHE_DIR;
  const savedTmp = process.env.TMPDIR;
  process.env.HOOKPOINT_CACHE_DIR = cache;
  process.env.TMPDIR = privateTmp;
  try {
    startWarmAllure(async () => ({
      java,
      launcher,
      version: 'test',
      jvmOptions: ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'],
      env: { ALLURE_NO_ANALYTICS: 'true' },
    }));
    const warmResults = await tmp();
    await cp(RESULTS, warmResults, { recursive: true });
    const warmSite = path.join(await tmp(), 'site');
    const warm = await takeWarmAllure();
    assert.ok(warm, 'the warm Allure started (its class compiled into the cache)');
    // A run waits for a warm-up still going only briefly; this test waits until it is done.
    assert.equal(await warm.render(warmResults, warmSite, 120_000, 120_000), true, 'rendered warm');
    assert.ok((await readdir(path.join(cache, 'allure-warm'))).length === 1, 'the class is cached');

    const coldResults = await tmp();
    await cp(RESULTS, coldResults, { recursive: true });
    const coldSite = path.join(await tmp(), 'site');
    await run([launcher, 'generate', coldResults, '-o', coldSite, '--clean'], {
      timeoutMs: 120_000,
      env: { ALLURE_NO_ANALYTICS: 'true', JAVA_OPTS: '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC' },
    });
    assert.deepEqual(await files(warmSite), await files(coldSite));
    for (const rel of ['widgets/summary.json', 'widgets/status-chart.json', 'data/categories.json', 'data/suites.json'])
      assert.deepEqual(await data(warmSite, rel), await data(coldSite, rel), rel);
    // index.html differs only in the report's own uuid (each render gets one).
    const page = async (site: string) =>
      (await readFile(path.join(site, 'index.html'), 'utf8')).replace(/content="[0-9a-f-]{36}"/, 'content="<uuid>"');
    assert.equal(await page(warmSite), await page(coldSite));
    await warm.stop();
    assert.deepEqual(
      (await readdir(privateTmp)).filter((n) => n.startsWith('hookpoint-allure-warm-')),
      [],
      'the exchange directory is gone',
    );
  } finally {
    if (saved === undefined) delete process.env.HOOKPOINT_CACHE_DIR;
    else process.env.HOOKPOINT_CACHE_DIR = saved;
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  }
});
