/**
 * The single-file report (`hookpoint-report.html`, opens from file://) packed from the Allure site
 * `allure-report/` that one `allure generate` already wrote, instead of a second JVM running
 * `allure generate --single-file` on the same results. The shape is Allure 2's own single-file
 * layout (allure-commandline 2.x): the site's index.html with its assets (favicon, script, styles)
 * inlined as data: URIs, and every other file of the site registered by path through a `d(path,
 * base64)` call that the report's script reads instead of fetching.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Media types of the assets a site's index.html links (Allure 2 ships a favicon, a script, styles). */
const ASSET_MEDIA: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.ico': 'image/x-icon',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** What the packer needs of a site: its index.html, its assets by path, every other file by path. */
export interface SiteFiles {
  index: string;
  assets: ReadonlyMap<string, Buffer>;
  data: ReadonlyMap<string, Buffer>;
}

/**
 * Pure: the single-file HTML of a site. Throws when index.html links an asset the site lacks, or
 * when a data path could not be quoted in the `d('…')` call (Allure's own paths never need it).
 */
export function packSingleFile(site: SiteFiles): string {
  let html = site.index.replace(/(<link\b[^>]*\bhref=|<script\b[^>]*\bsrc=)"(assets\/[^"]+)"/g, (_m, head, ref) => {
    const body = site.assets.get(ref);
    if (!body) throw new Error(`the Allure site's index.html links ${ref}, which the site does not contain`);
    const media = ASSET_MEDIA[path.extname(ref).toLowerCase()] ?? 'application/octet-stream';
    return `${head}"data:${media};base64,${body.toString('base64')}"`;
  });
  const calls: string[] = [];
  for (const [name, body] of site.data) {
    if (!/^[\w./-]+$/.test(name))
      throw new Error(`the Allure site holds a file whose path cannot be embedded: ${name}`);
    calls.push(`        d('${name}','${body.toString('base64')}'),`);
  }
  const loader = [
    '    <script async>',
    '        window.reportDataReady = false;',
    '        window.reportData = window.reportData || {};',
    '        function d(name, value){',
    '            return new Promise(function (resolve) {window.reportData[name] = value;resolve(true)});',
    '        }',
    '    </script>',
    '    <script defer>',
    '      Promise.allSettled([',
    ...calls,
    '      ]).then(function(){window.reportDataReady = true;})',
    '    </script>',
    '',
  ].join('\n');
  const end = html.lastIndexOf('</body>');
  if (end < 0) throw new Error("the Allure site's index.html has no </body>");
  html = `${html.slice(0, end)}${loader}${html.slice(end)}`;
  return html;
}

async function filesUnder(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
    const p = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await filesUnder(dir, p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** Read an Allure site directory into SiteFiles (assets/ apart, index.html apart). */
export async function readSite(siteDir: string): Promise<SiteFiles> {
  const index = await readFile(path.join(siteDir, 'index.html'), 'utf8');
  const assets = new Map<string, Buffer>();
  const data = new Map<string, Buffer>();
  for (const rel of await filesUnder(siteDir)) {
    if (rel === 'index.html') continue;
    const body = await readFile(path.join(siteDir, rel));
    (rel.startsWith('assets/') ? assets : data).set(rel, body);
  }
  return { index, assets, data };
}

/** Write the single-file report of the site at `siteDir` to `outFile`. */
export async function writeSingleFile(siteDir: string, outFile: string): Promise<void> {
  await writeFile(outFile, packSingleFile(await readSite(siteDir)));
}
