// What a phone on a weak network downloads: the public pages (home, a search of lieux, a
// lieu) must transfer at most 150 KB before fonts, everything the page loads counted as
// Chromium's network reports it (CDP Network.loadingFinished.encodedDataLength: the bytes
// on the wire, compressed, headers included). Fonts are left out: they are cached once for
// the whole site and the text shows without them.
//
// The measured figures are printed (docs/BENCHMARKS.md keeps them):
//   cd e2e && RELAIS_BIN=$PWD/../target/debug/relais node --test budget.test.mjs

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

import { startServer } from './lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';

const BUDGET = 150 * 1024;

function demoLieuId(source, id) {
  return createHash('sha256').update(`${source}\u001f${id}`).digest('hex').slice(0, 16);
}

const PAGES = [
  { name: 'accueil', path: '/' },
  { name: 'recherche de lieux', path: '/lieux?q=Lyon' },
  { name: 'un lieu', path: `/lieux/${demoLieuId('hinaura-2022', '0')}` },
];

let server;
let browser;

before(async () => {
  server = await startServer({ logName: 'server-budget.log' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// Loads `path` in a fresh context (empty cache, a phone's screen) and returns what each
// response weighed on the wire, fonts apart.
async function measure(path) {
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, locale: 'fr-FR' });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  const requests = new Map();
  const sizes = [];
  cdp.on('Network.responseReceived', (e) => {
    // data: URLs (the DSFR's inline SVGs) cross no network.
    if (!e.response.url.startsWith('http')) return;
    requests.set(e.requestId, { url: e.response.url, type: e.type, encoding: e.response.headers['content-encoding'] || e.response.headers['Content-Encoding'] || '' });
  });
  cdp.on('Network.loadingFinished', (e) => {
    const r = requests.get(e.requestId);
    if (r) sizes.push({ ...r, bytes: e.encodedDataLength });
  });
  const response = await page.goto(server.url(path), { waitUntil: 'networkidle' });
  assert.equal(response.status(), 200, path);
  await context.close();
  const counted = sizes.filter((s) => s.type !== 'Font');
  const fonts = sizes.filter((s) => s.type === 'Font');
  const total = counted.reduce((sum, s) => sum + s.bytes, 0);
  return { counted, fonts, total, fontBytes: fonts.reduce((sum, s) => sum + s.bytes, 0) };
}

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

describe('weight of the public pages', () => {
  for (const { name, path } of PAGES) {
    test(`${name} (${path}): at most ${kb(BUDGET)} before fonts`, async () => {
      const { counted, total, fontBytes, fonts } = await measure(path);
      const lines = counted
        .sort((a, b) => b.bytes - a.bytes)
        .map((s) => `    ${kb(s.bytes).padStart(9)}  ${s.encoding || 'identity'}  ${new URL(s.url).pathname}`);
      console.log(`budget: ${path}: ${kb(total)} in ${counted.length} responses, fonts ${kb(fontBytes)} in ${fonts.length} more\n${lines.join('\n')}`);
      assert.ok(total <= BUDGET, `${path}: ${kb(total)} transferred before fonts, over ${kb(BUDGET)}`);
    });
  }
});
