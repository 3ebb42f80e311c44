/**
 * The single-file report is packed from the Allure site (support/report/single-file.ts): the
 * site's assets inlined, every other file embedded by path. test/browser opens the packed file
 * in Chromium and compares it with Allure's own `--single-file` output.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { packSingleFile, type SiteFiles } from '../../support/report/single-file.ts';

const INDEX = [
  '<!DOCTYPE html>',
  '<html><head>',
  '    <link rel="icon" href="assets/favicon-X.ico">',
  '    <link rel="stylesheet" href="assets/app-Y.css">',
  '</head><body>',
  '    <div id="content"></div>',
  '    <script src="assets/index-Z.js"></script>',
  '</body></html>',
].join('\n');

function site(over: Partial<SiteFiles> = {}): SiteFiles {
  return {
    index: INDEX,
    assets: new Map([
      ['assets/favicon-X.ico', Buffer.from([0, 1, 2, 255])],
      ['assets/app-Y.css', Buffer.from('body{color:red}')],
      ['assets/index-Z.js', Buffer.from('console.log("report")')],
    ]),
    data: new Map([
      ['data/suites.json', Buffer.from('{"uid":"s"}')],
      ['data/attachments/1a2b.txt', Buffer.from('KUBE-SEP-ABC 0 → 3 packets\n')],
      ['widgets/summary.json', Buffer.from('{}')],
    ]),
    ...over,
  };
}

const embedded = (html: string) =>
  new Map([...html.matchAll(/d\('([^']+)','([A-Za-z0-9+/=]*)'\)/g)].map((m) => [m[1]!, Buffer.from(m[2]!, 'base64')]));

describe('single-file report packed from the Allure site', () => {
  it('inlines every linked asset as a data: URI of its media type, byte for byte', () => {
    const html = packSingleFile(site());
    assert.ok(!html.includes('"assets/'), 'no asset is left as a relative link');
    const uris = [...html.matchAll(/"data:([^;]+)(?:; charset=utf-8)?;base64,([A-Za-z0-9+/=]+)"/g)].map((m) => [
      m[1],
      Buffer.from(m[2]!, 'base64').toString('latin1'),
    ]);
    assert.deepEqual(uris, [
      ['image/x-icon', Buffer.from([0, 1, 2, 255]).toString('latin1')],
      ['text/css', 'body{color:red}'],
      ['text/javascript', 'console.log("report")'],
    ]);
  });

  it('embeds every other file of the site by its path, with its exact bytes, inside <body>', () => {
    const html = packSingleFile(site());
    const files = embedded(html);
    assert.deepEqual([...files.keys()], ['data/suites.json', 'data/attachments/1a2b.txt', 'widgets/summary.json']);
    assert.equal(files.get('data/attachments/1a2b.txt')!.toString('utf8'), 'KUBE-SEP-ABC 0 → 3 packets\n');
    assert.ok(html.indexOf("d('data/suites.json'") < html.lastIndexOf('</body>'));
    assert.ok(html.includes('window.reportDataReady = true'), 'the report script is told when the data is loaded');
    assert.ok(html.indexOf('function d(name, value)') < html.indexOf("d('data/suites.json'"));
  });

  it('refuses a site whose index.html links an asset the site lacks', () => {
    const assets = new Map(site().assets);
    assets.delete('assets/index-Z.js');
    assert.throws(() => packSingleFile(site({ assets })), /links assets\/index-Z\.js, which the site does not contain/);
  });

  it('refuses a file path that cannot be quoted in the loader, and an index.html without </body>', () => {
    const data = new Map([["data/it's.json", Buffer.from('{}')]]);
    assert.throws(() => packSingleFile(site({ data })), /cannot be embedded: data\/it's\.json/);
    assert.throws(() => packSingleFile(site({ index: '<html><head></head>' })), /has no <\/body>/);
  });
});
