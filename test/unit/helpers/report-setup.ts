/**
 * What the Allure report tests share: scratch directories removed after the file's tests, and
 * the skip reason when this machine has no Java (never skipped under CI=true: CI installs it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { findJava } from '../../../support/report/render.ts';

const tmps: string[] = [];
after(async () => {
  for (const d of tmps) await rm(d, { recursive: true, force: true });
});

/** A fresh directory under os.tmpdir() as it is now, removed after this file's tests. */
export async function tmp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'hookpoint-test-'));
  tmps.push(d);
  return d;
}

let javaMissing = '';
try {
  await findJava();
} catch (e) {
  javaMissing = (e as Error).message;
}

/** For `test(name, { skip }, …)`: false when Java is here or under CI=true, else why it is skipped. */
export const skipWithoutJava: string | false =
  javaMissing && process.env.CI !== 'true' ? `Java is missing (${javaMissing})` : false;
