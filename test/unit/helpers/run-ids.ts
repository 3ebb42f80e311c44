/**
 * Which run each output in a reports directory names: summary.md, summary.json, junit.xml, the
 * results' and the Allure site's environment, the single file's embedded environment and the
 * transcripts. "One run, one report" means every present output names the same run id.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export function runIdsOf(reports: string): Record<string, string | undefined> {
  const at = (p: string) => path.join(reports, p);
  const read = (p: string) => (existsSync(at(p)) ? readFileSync(at(p), 'utf8') : undefined);
  const ids: Record<string, string | undefined> = {};
  const md = read('summary.md');
  if (md !== undefined) ids['summary.md'] = /Run `([^`]+)`|run (\S+) stopped/.exec(md)?.slice(1).find(Boolean);
  const json = read('summary.json');
  if (json !== undefined) ids['summary.json'] = JSON.parse(json).run?.id;
  const junit = read('junit.xml');
  if (junit !== undefined) ids['junit.xml'] = /<property name="run\.id" value="([^"]+)"/.exec(junit)?.[1];
  const props = read('allure-results/environment.properties');
  if (props !== undefined) ids['allure-results/environment.properties'] = /^run\.id=(.*)$/m.exec(props)?.[1];
  const env = read('allure-report/widgets/environment.json');
  if (env !== undefined)
    ids['allure-report'] = (JSON.parse(env) as Array<{ name: string; values: string[] }>).find(
      (e) => e.name === 'run.id',
    )?.values[0];
  const html = read('hookpoint-report.html');
  if (html !== undefined) {
    const m = /d\('widgets\/environment\.json','([A-Za-z0-9+/=]+)'\)/.exec(html);
    const widget = m
      ? (JSON.parse(Buffer.from(m[1]!, 'base64').toString('utf8')) as Array<{ name: string; values: string[] }>)
      : [];
    ids['hookpoint-report.html'] = widget.find((e) => e.name === 'run.id')?.values[0];
  }
  if (existsSync(at('transcripts')))
    for (const f of readdirSync(at('transcripts')))
      ids[`transcripts/${f}`] = JSON.parse(readFileSync(at(`transcripts/${f}`), 'utf8')).run;
  return ids;
}

/** The one run id every output names; throws naming the outputs that disagree. */
export function oneRunId(reports: string): string {
  const ids = runIdsOf(reports);
  const distinct = [...new Set(Object.values(ids))];
  if (distinct.length !== 1 || distinct[0] === undefined)
    throw new Error(`the outputs in ${reports} name different runs: ${JSON.stringify(ids, null, 1)}`);
  return distinct[0];
}
