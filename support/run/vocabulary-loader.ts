/** Load the step definitions the way a run does (cucumber's own loader), and return their catalog. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfiguration, loadSupport } from '@cucumber/cucumber/api';
import { catalog, type StepDoc } from '../scenario/vocabulary.ts';

export async function loadVocabulary(root = process.cwd()): Promise<StepDoc[]> {
  const { default: base } = (await import(pathToFileURL(path.join(root, 'cucumber.js')).href)) as {
    default: Record<string, unknown>;
  };
  const { runConfiguration } = await loadConfiguration({ file: false, provided: { ...base, format: [] } });
  await loadSupport(runConfiguration);
  return [...catalog];
}
