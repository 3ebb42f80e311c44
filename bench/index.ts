/**
 * `npm run bench`: every benchmark under bench/ (each exports `bench()`), in name order, or only
 * those named: `npm run bench -- parsers lab`. Speed goals are measured here, never in tests.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'index.ts')
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.ts$/, '')))
  .sort();
for (const f of files) {
  const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { bench?: () => Promise<void> };
  if (!mod.bench) continue;
  process.stdout.write(`\n== bench/${f}\n`);
  await mod.bench();
}
