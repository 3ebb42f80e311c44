/**
 * Arranging a staging copy of the results the way a reviewer reads them, before anything is
 * rendered: the packet-path picture, drawn in the scenario's After hook (which Allure files under
 * "Tear down"), moves to the scenario's top level; and every scenario gets parentSuite / suite
 * labels (the feature's folder, then the feature) so Allure's Suites tab groups by feature.
 * Only the staging copy is changed; the run's own results stay as written.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RESULT_SUFFIX } from './results.ts';

const CONTAINER_SUFFIX = '-container.json';
/** Attachment names of the picture: `<nn>-packet-path-<where>.svg` (evidence naming). */
const PICTURE = /^\d+-packet-path-.*\.svg$/;

interface Attachment {
  name: string;
  source: string;
  type: string;
}
interface Step {
  name?: string;
  attachments?: Attachment[];
  steps?: Step[];
}
interface Result {
  uuid?: string;
  labels?: Array<{ name: string; value: string }>;
  titlePath?: string[];
  attachments?: Attachment[];
}

/** The feature's folder under features/ and the feature's name, from the result's title path. */
export function suitesOf(r: Result): { parentSuite?: string; suite?: string } {
  const feature = r.labels?.find((l) => l.name === 'feature')?.value;
  const titles = r.titlePath ?? [];
  const folders = titles.slice(0, -1).filter((t, i) => !(i === 0 && titles.length > 2) && t !== 'features');
  return { parentSuite: folders.join('/') || undefined, suite: feature ?? titles[titles.length - 1] };
}

export async function arrangeResults(dir: string): Promise<void> {
  const names = await readdir(dir);
  const pictures = new Map<string, Attachment[]>();
  for (const n of names.filter((x) => x.endsWith(CONTAINER_SUFFIX))) {
    const file = path.join(dir, n);
    const c = JSON.parse(await readFile(file, 'utf8')) as { children?: string[]; afters?: Step[] };
    let moved = false;
    for (const after of c.afters ?? []) {
      const keep: Step[] = [];
      for (const s of after.steps ?? []) {
        const pics = (s.attachments ?? []).filter((a) => PICTURE.test(a.name));
        if (pics.length === 0) {
          keep.push(s);
          continue;
        }
        moved = true;
        for (const child of c.children ?? []) pictures.set(child, [...(pictures.get(child) ?? []), ...pics]);
      }
      after.steps = keep;
    }
    if (moved) await writeFile(file, JSON.stringify(c));
  }
  for (const n of names.filter((x) => x.endsWith(RESULT_SUFFIX))) {
    const file = path.join(dir, n);
    let r: Result;
    try {
      r = JSON.parse(await readFile(file, 'utf8')) as Result;
    } catch {
      continue; // readResults names the broken file.
    }
    r.labels ??= [];
    const labels = r.labels;
    const { parentSuite, suite } = suitesOf(r);
    const has = (name: string) => labels.some((l) => l.name === name);
    if (parentSuite && !has('parentSuite')) labels.push({ name: 'parentSuite', value: parentSuite });
    if (suite && !has('suite')) labels.push({ name: 'suite', value: suite });
    const pics = r.uuid ? pictures.get(r.uuid) : undefined;
    if (pics) r.attachments = [...pics, ...(r.attachments ?? [])];
    await writeFile(file, JSON.stringify(r));
  }
}
