/** Load the step definitions the same way a run does, and return their catalog. */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { catalog, type StepDoc } from '../vocabulary.ts';

export async function loadVocabulary(root = process.cwd()): Promise<StepDoc[]> {
  const dir = path.join(root, 'steps');
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.ts'))
    .sort())
    await import(pathToFileURL(path.join(dir, f)).href);
  return [...catalog];
}
