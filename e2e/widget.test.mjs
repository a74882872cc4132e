// The widget of lieux framed by another site, in a real browser: a second local origin (a
// Node server on 127.0.0.1, another port) serves a town's page that embeds
// `/lieux/widget?commune=42218` in an iframe. The frame loads and lists lieux
// (`frame-ancestors *`, no `X-Frame-Options`), with no CSP violation in either document;
// the same origin framing `/lieux` is refused (`frame-ancestors 'none'`, `X-Frame-Options:
// DENY`), so the site's other pages cannot be framed (clickjacking).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';

import { startServer } from './lib/server.mjs';
import { cspViolations, formatViolations, launchBrowser, newWatchedPage, runAxe } from './lib/browser.mjs';
import { SCREENSHOTS } from './lib/page.mjs';

let server;
let browser;
let mairie;
let mairieUrl;

// The town's site: one page per framed path of Relais.
function townPage(src) {
  return `<!doctype html>
<html lang="fr">
<head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Mairie de Saint-Étienne</title></head>
<body>
<main>
<h1>Se faire aider avec le numérique</h1>
<iframe title="Lieux de médiation numérique à Saint-Étienne" src="${src}" width="400" height="600"></iframe>
</main>
</body>
</html>`;
}

before(async () => {
  server = await startServer({ logName: 'server-widget.log' });
  browser = await launchBrowser();
  const pages = {
    '/lieux.html': townPage(server.url('/lieux/widget?commune=42218')),
    '/recherche.html': townPage(server.url('/lieux?q=42000')),
  };
  mairie = createServer((req, res) => {
    const body = pages[req.url];
    if (!body) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  });
  await new Promise((ok) => mairie.listen(0, '127.0.0.1', ok));
  mairieUrl = `http://127.0.0.1:${mairie.address().port}`;
  assert.notEqual(new URL(mairieUrl).origin, new URL(server.baseUrl).origin, 'two origins');
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((ok) => (mairie ? mairie.close(ok) : ok()));
});

// The console messages of a page, kept for the assertions.
function consoleOf(page) {
  const messages = [];
  page.on('console', (m) => messages.push(m.text()));
  return messages;
}

test('another site frames the widget: it loads and lists the commune’s lieux', async () => {
  const { context, page, problems } = await newWatchedPage(browser);
  try {
    const widgetResponse = page.waitForResponse((r) => r.url().startsWith(server.url('/lieux/widget')));
    await page.goto(`${mairieUrl}/lieux.html`, { waitUntil: 'networkidle' });
    const res = await widgetResponse;
    assert.equal(res.status(), 200);
    const headers = res.headers();
    assert.match(headers['content-security-policy'], /frame-ancestors \*/);
    assert.equal(headers['x-frame-options'], undefined);

    const frame = page.frames().find((f) => f.url().startsWith(server.url('/lieux/widget')));
    assert.ok(frame, `the widget's frame is there (${page.frames().map((f) => f.url()).join(', ')})`);
    const inside = page.frameLocator('iframe');
    await inside.locator('h1').waitFor({ state: 'attached', timeout: 10000 });
    assert.match(await inside.locator('h1').textContent(), /Saint-Étienne/);
    const items = inside.locator('.relais-resultat');
    assert.ok(await items.count() > 0, 'the widget lists lieux');
    // Links leave the town's page for Relais, in a new tab.
    assert.equal(await items.first().locator('a').first().getAttribute('target'), '_blank');
    await page.screenshot({ path: join(SCREENSHOTS, 'widget-mairie.png'), fullPage: true });

    assert.deepEqual(await cspViolations(page), [], 'no CSP violation on the town’s page');
    assert.deepEqual(await frame.evaluate(() => window.__cspViolations || []), [], 'no CSP violation in the widget');
    // The widget as framed (400 px wide); runAxe needs only `evaluate`, which a frame has.
    const violations = await runAxe(frame);
    assert.equal(violations.length, 0, `axe in the frame:\n${formatViolations(violations)}`);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the same site cannot frame the search page', async () => {
  const { context, page } = await newWatchedPage(browser);
  const messages = consoleOf(page);
  try {
    const searchResponse = page.waitForResponse((r) => r.url().startsWith(server.url('/lieux?')));
    await page.goto(`${mairieUrl}/recherche.html`, { waitUntil: 'networkidle' });
    const res = await searchResponse;
    const headers = res.headers();
    assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(headers['x-frame-options'], 'DENY');
    // Chromium shows its error page in the frame instead of the document.
    await page.waitForTimeout(500);
    const inside = page.frameLocator('iframe');
    assert.equal(await inside.locator('#recherche, .relais-resultat, main#contenu').count(), 0, 'nothing of Relais in the frame');
    const frame = page.frames().find((f) => f !== page.mainFrame());
    assert.ok(!frame || !frame.url().startsWith(server.baseUrl), `the frame holds no page of Relais (${frame?.url()})`);
    assert.ok(
      messages.some((m) => /frame-ancestors|X-Frame-Options/.test(m)),
      `the browser says why it refused:\n${messages.join('\n')}`,
    );
  } finally {
    await context.close();
  }
});
