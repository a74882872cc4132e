// End-to-end tests of the Relais web pages in a real browser (Debian's Chromium).
// Run from e2e/: `npm ci && node --test` (the server binary must be built first:
// `cargo build -p relais-cli`, or set RELAIS_BIN).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

import { E2E_DIR, startServer } from './lib/server.mjs';
import { cspViolations, formatViolations, launchBrowser, newWatchedPage, runAxe } from './lib/browser.mjs';

function demoLieuId(source, id) {
  return createHash('sha256').update(`${source}\u001f${id}`).digest('hex').slice(0, 16);
}

const PAGES = [
  { name: 'accueil', path: '/', status: 200, title: 'Accueil — Relais' },
  { name: 'accessibilite', path: '/accessibilite', status: 200, title: 'Déclaration d’accessibilité — Relais' },
  { name: 'mentions-legales', path: '/mentions-legales', status: 200, title: 'Mentions légales — Relais' },
  { name: 'donnees-personnelles', path: '/donnees-personnelles', status: 200, title: 'Données personnelles — Relais' },
  { name: 'plan-du-site', path: '/plan-du-site', status: 200, title: 'Plan du site — Relais' },
  { name: 'api', path: '/api', status: 200, title: 'Documentation de l’API — Relais' },
  { name: 'erreur-404', path: '/cette-page-n-existe-pas', status: 404, title: null },
  // A demo lieu (loaded into the empty embedded base): its id derives from source and row id.
  { name: 'lieu', path: `/lieux/${demoLieuId('hinaura-2022', '0')}`, status: 200, title: "MAISON DE SERVICES AU PUBLIC D'ABONDANCE — Relais" },
];

const FOOTER_LINKS = [
  ['/accessibilite', /^Accessibilité : (non|partiellement|totalement) conforme$/],
  ['/mentions-legales', /^Mentions légales$/],
  ['/donnees-personnelles', /^Données personnelles$/],
  ['/plan-du-site', /^Plan du site$/],
  ['/api', /^API et données ouvertes$/],
];

const SCREENSHOTS = join(E2E_DIR, 'screenshots');

let server;
let browser;

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// Loads a page in a fresh browser context and waits until its fonts are loaded.
async function open(path, documentStatus = 200) {
  const watched = await newWatchedPage(browser, { documentStatus });
  const response = await watched.page.goto(server.url(path), { waitUntil: 'networkidle' });
  await watched.page.evaluate(() => document.fonts.ready.then(() => undefined));
  return { ...watched, response };
}

describe('pages', () => {
  for (const p of PAGES) {
    test(`${p.path} (${p.name})`, async () => {
      const { context, page, problems, response } = await open(p.path, p.status);
      try {
        assert.equal(response.status(), p.status, `status of ${p.path}`);
        assert.match(response.headers()['content-type'] || '', /^text\/html/);

        // The served HTML has no inline style, no <style>, and only nonced external scripts.
        const html = await response.text();
        assert.doesNotMatch(html, /<style[\s>]/i, 'no <style> element');
        assert.doesNotMatch(html, /\sstyle\s*=/i, 'no style attribute');
        for (const tag of html.match(/<script\b[^>]*>/gi) || []) {
          assert.match(tag, /\snonce="[^"]+"/, `script without nonce: ${tag}`);
          assert.match(tag, /\ssrc="[^"]+"/, `inline script: ${tag}`);
        }

        // Document basics.
        assert.equal(await page.getAttribute('html', 'lang'), 'fr');
        const title = await page.title();
        if (p.title) assert.equal(title, p.title);
        else assert.match(title, / — Relais$/);
        assert.equal(await page.locator('h1').count(), 1, 'exactly one h1');

        // DSFR header: bloc-marque, service name and tagline, home link.
        const header = page.locator('header.fr-header');
        assert.equal(await header.count(), 1, 'one DSFR header');
        assert.match((await header.locator('.fr-logo').innerText()).replace(/\s+/g, ' '), /République Française/i);
        assert.equal((await header.locator('.fr-header__service-title').innerText()).trim(), 'Relais');
        assert.equal((await header.locator('.fr-header__service-tagline').innerText()).trim(),
          'Plateforme nationale de l’inclusion numérique');
        assert.equal(await header.locator('.fr-header__service a[href="/"]').count(), 1, 'service home link');

        // Skip links and main.
        assert.equal(await page.locator('.fr-skiplinks a[href="#contenu"]').innerText(), 'Contenu');
        assert.equal(await page.locator('.fr-skiplinks a[href="#pied-de-page"]').innerText(), 'Pied de page');
        assert.equal(await page.locator('main#contenu').count(), 1, 'main#contenu');

        // DSFR footer with the mandatory links.
        const footer = page.locator('footer.fr-footer#pied-de-page');
        assert.equal(await footer.count(), 1, 'one DSFR footer');
        for (const [href, text] of FOOTER_LINKS) {
          const link = footer.locator(`.fr-footer__bottom-link[href="${href}"]`);
          assert.equal(await link.count(), 1, `footer link to ${href}`);
          assert.match((await link.innerText()).trim(), text);
          const current = await link.getAttribute('aria-current');
          assert.equal(current, href === p.path ? 'page' : null, `aria-current of footer link ${href}`);
        }
        assert.match(await footer.innerText(), /etalab-2\.0/);
        for (const site of ['info.gouv.fr', 'service-public', 'legifrance.gouv.fr', 'data.gouv.fr']) {
          assert.equal(await footer.locator(`.fr-footer__content-link[href*="${site}"]`).count(), 1, `footer link to ${site}`);
        }

        // The DSFR is really applied: its CSS (Marianne font loaded) and its JavaScript.
        const style = await page.evaluate(() => ({
          fontFamily: getComputedStyle(document.body).fontFamily,
          marianneLoaded: [...document.fonts].some((f) => f.family.replace(/["']/g, '') === 'Marianne' && f.status === 'loaded'),
          dsfrJs: document.documentElement.getAttribute('data-fr-js'),
        }));
        assert.match(style.fontFamily, /Marianne/, 'body font-family');
        assert.ok(style.marianneLoaded, 'the Marianne font is loaded');
        assert.equal(style.dsfrJs, 'true', 'the DSFR JavaScript ran (html[data-fr-js="true"])');

        // Accessibility: zero axe-core violations.
        const violations = await runAxe(page);
        assert.equal(violations.length, 0, `axe-core violations on ${p.path}:\n${formatViolations(violations)}`);

        // No CSP violation, no console error, no failed sub-request.
        const csp = await cspViolations(page);
        assert.deepEqual(csp, [], `CSP violations on ${p.path}:\n${csp.join('\n')}`);
        assert.deepEqual(problems, [], `problems on ${p.path}:\n${problems.join('\n')}`);

        await page.screenshot({ path: join(SCREENSHOTS, `${p.name}.png`), fullPage: true });
      } finally {
        await context.close();
      }
    });
  }

  test('every internal link of every page answers 200', async () => {
    const links = new Set();
    for (const p of PAGES) {
      const { context, page } = await open(p.path, p.status);
      try {
        const hrefs = await page.evaluate(() => [...document.querySelectorAll('a[href]')]
          .filter((a) => !a.getAttribute('href').startsWith('#'))
          .map((a) => a.href));
        for (const href of hrefs) {
          const u = new URL(href);
          if (u.origin === server.baseUrl) links.add(u.pathname + u.search);
        }
      } finally {
        await context.close();
      }
    }
    const dead = [];
    for (const link of links) {
      const res = await fetch(server.url(link));
      if (res.status !== 200) dead.push(`${link} → ${res.status}`);
    }
    assert.deepEqual(dead, [], `dead internal links:\n${dead.join('\n')}`);
  });
});

describe('keyboard', () => {
  test('the first Tab focuses the "Contenu" skip link, Enter moves to the main content', async () => {
    const { context, page } = await open('/');
    try {
      await page.keyboard.press('Tab');
      const first = await page.evaluate(() => {
        const el = document.activeElement;
        const r = el.getBoundingClientRect();
        return { text: el.textContent.trim(), href: el.getAttribute('href'), visible: r.width > 0 && r.height > 0 && r.bottom > 0 };
      });
      assert.deepEqual(first, { text: 'Contenu', href: '#contenu', visible: true });

      await page.keyboard.press('Enter');
      await page.waitForFunction(() => location.hash === '#contenu');
      const focusedId = await page.evaluate(() => document.activeElement.id);
      assert.equal(focusedId, 'contenu', 'focus is on main#contenu after following the skip link');

      // The next Tab stays in the main content.
      await page.keyboard.press('Tab');
      const inMain = await page.evaluate(() => document.querySelector('main').contains(document.activeElement));
      assert.ok(inMain, 'Tab after the skip link focuses an element of the main content');
    } finally {
      await context.close();
    }
  });

  test('Tabbing through the header reaches the service home link', async () => {
    const { context, page } = await open('/mentions-legales');
    try {
      let reached = false;
      const seen = [];
      for (let i = 0; i < 10 && !reached; i++) {
        await page.keyboard.press('Tab');
        const info = await page.evaluate(() => {
          const el = document.activeElement;
          return {
            desc: `${el.tagName.toLowerCase()}[href=${el.getAttribute('href')}] ${el.textContent.trim().slice(0, 40)}`,
            isHome: el.matches('header .fr-header__service a[href="/"]'),
          };
        });
        seen.push(info.desc);
        reached = info.isHome;
      }
      assert.ok(reached, `the header home link was not reached; focus went through:\n${seen.join('\n')}`);
    } finally {
      await context.close();
    }
  });

  for (const p of PAGES) {
    test(`every focusable element of ${p.path} shows a visible focus`, async () => {
      const { context, page } = await open(p.path, p.status);
      try {
        const invisible = [];
        const visited = new Set();
        for (let i = 0; i < 200; i++) {
          await page.keyboard.press('Tab');
          const handle = await page.evaluateHandle(() => document.activeElement);
          const info = await handle.evaluate((el) => {
            if (!el || el === document.body || el === document.documentElement) return null;
            const path = [];
            for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
              const idx = n.parentElement ? [...n.parentElement.children].indexOf(n) : 0;
              path.unshift(`${n.tagName.toLowerCase()}:${idx}`);
            }
            const r = el.getBoundingClientRect();
            return {
              key: path.join('>'),
              desc: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}[${el.getAttribute('href') || el.getAttribute('type') || ''}] “${(el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 50)}”`,
              size: r.width > 0 && r.height > 0,
            };
          });
          if (!info || visited.has(info.key)) break; // back to the start: every element was visited
          visited.add(info.key);
          if (!info.size) {
            invisible.push(`${info.desc}: focused but has no size`);
            continue;
          }
          await handle.evaluate((el) => el.scrollIntoView({ block: 'center', inline: 'nearest' }));
          const focused = await page.screenshot();
          await handle.evaluate((el) => el.blur());
          const blurred = await page.screenshot();
          await handle.evaluate((el) => el.focus());
          if (focused.equals(blurred)) invisible.push(`${info.desc}: focusing it changes nothing on screen`);
        }
        assert.ok(visited.size > 0, 'no element took the focus');
        assert.deepEqual(invisible, [], `elements without visible focus on ${p.path}:\n${invisible.join('\n')}`);
      } finally {
        await context.close();
      }
    });
  }
});

describe('api', () => {
  test('GET /api/v1/nope answers 404 application/problem+json', async () => {
    const res = await fetch(server.url('/api/v1/nope'));
    assert.equal(res.status, 404);
    assert.match(res.headers.get('content-type') || '', /^application\/problem\+json/);
    const body = await res.json();
    assert.equal(typeof body, 'object');
  });

  test('GET /api/v1/territoires/communes?q=… answers JSON', async () => {
    const res = await fetch(server.url('/api/v1/territoires/communes?q=Lyon'));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') || '', /^application\/json/);
    await res.json();
  });
});
