/** The hookpoint CLI as a lab test or script drives it: tear a lab down, read a run's Allure results. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { run } from '../../../support/exec/index.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
const BIN = path.join(REPO, 'bin', 'hookpoint.js');

/** `hookpoint lab down --cluster <cluster>`, never failing the caller (it also runs on Ctrl-C). */
export async function labDown(cluster: string): Promise<void> {
  await run([process.execPath, BIN, 'lab', 'down', '--cluster', cluster], {
    timeoutMs: 120_000,
    where: 'host',
    cwd: REPO,
    check: false,
    cleanup: true,
  });
}

export interface AllureResult {
  name: string;
  status: string;
  /** statusDetails.message with white space folded to single spaces ('' when none). */
  message: string;
}

/** Every scenario result a run wrote under `<reports>/allure-results` (none if the directory is missing). */
export function allureResults(reports: string): AllureResult[] {
  const dir = path.join(reports, 'allure-results');
  const out: AllureResult[] = [];
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    if (!f.endsWith('-result.json')) continue;
    const r = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as {
      name: string;
      status: string;
      statusDetails?: { message?: string };
    };
    out.push({ name: r.name, status: r.status, message: (r.statusDetails?.message ?? '').replace(/\s+/g, ' ') });
  }
  return out;
}
