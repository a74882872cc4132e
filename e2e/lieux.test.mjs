// The public pages of the lieux map in a real browser, on the 687 demo lieux loaded at the
// first start: the national map and its list of départements, the search by commune with
// the keyboard, its list and its map (on demand), a lieu's
// page, "signaler une erreur", the widget framed by another site, and the list with
// JavaScript disabled.
//
// Every page passes axe-core (WCAG 2.1 A/AA) with zero violations at 1280 and 320 px, has
// no CSP violation, no console error, no failed sub-request (checkPage), and gets a
// full-page screenshot in e2e/screenshots/lieux-*.png.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { startServer } from './lib/server.mjs';
import { cspViolations, formatViolations, launchBrowser, newWatchedPage, runAxe } from './lib/browser.mjs';
import { SCREENSHOTS, checkPage, goto, journey, openSession, pathOf, pressAndLoad, settle, tabTo, typeInto } from './lib/page.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ logName: 'server-lieux.log' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// Axe at 1280 and 320 px on a page without the site's layout (the widget).
async function checkBare(page, name) {
  await page.screenshot({ path: join(SCREENSHOTS, `lieux-${name}.png`), fullPage: true });
  assert.equal(await page.getAttribute('html', 'lang'), 'fr', `${name}: lang`);
  for (const width of [1280, 320]) {
    await page.setViewportSize({ width, height: 640 });
    await page.waitForTimeout(100);
    const violations = await runAxe(page);
    assert.equal(violations.length, 0, `${name} at ${width} px:\n${formatViolations(violations)}`);
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth > document.documentElement.clientWidth);
    assert.ok(!sideways, `${name}: scrolls sideways at ${width} px`);
  }
  assert.deepEqual(await cspViolations(page), [], `${name}: CSP violations`);
}

describe('a visitor looks for a lieu with the keyboard', () => {
  const step = journey();
  let s;
  let lieu;

  step('the search page, reached from the home page', async () => {
    s = await openSession(browser, server, { screenshots: 'lieux' });
    await goto(s, '/');
    await tabTo(s.page, 'main a[href="/lieux"]');
    await pressAndLoad(s.page);
    assert.equal(pathOf(s.page), '/lieux');
    // Before any search, the lieux of France: on a wide screen the map is drawn at once,
    // each disc counting the lieux close together; the list of départements says the same.
    const groups = s.page.locator('#carte-france .relais-grappe');
    await groups.first().waitFor();
    const marks = () => s.page.locator('#carte-france .leaflet-marker-icon').evaluateAll((all) => all.map((m) => m.textContent || m.title).join('|'));
    const national = await marks();
    assert.ok((await groups.count()) >= 3, national);
    assert.equal(await s.page.locator('.relais-departements a[href="/lieux?departement=74#resultats"]').count(), 1);
    await checkPage(s, 'recherche', { title: 'Trouver un lieu de médiation numérique' });
    // A disc, clicked, comes closer: the groups split.
    await groups.first().click();
    await s.page.waitForFunction((before) => {
      const now = Array.from(document.querySelectorAll('#carte-france .leaflet-marker-icon')).map((m) => m.textContent || m.title).join('|');
      return now !== '' && now !== before;
    }, national);
    // With JavaScript, "Autour de moi" is offered.
    assert.ok(await s.page.locator('#autour-de-moi').isVisible());
  });

  step('a commune typed, Enter: the list and the map of its lieux', async () => {
    await typeInto(s.page, '#q', 'Saint-Étienne');
    await pressAndLoad(s.page);
    await checkPage(s, 'resultats', { title: 'Lieux de médiation numérique à Saint-Étienne (42)' });
    const items = s.page.locator('.relais-resultat');
    assert.equal(await items.count(), 20);
    const first = await items.first().innerText();
    assert.match(first, /\d+(,\d)? (km|m)/, 'distance in French');
    assert.match(first, /(Ouvert|Fermé) maintenant|Horaires non renseignés/i);
    // The map, asked for with the keyboard (Leaflet and the contours are loaded only then),
    // shows the same lieux, over the départements' contours (no tile server here).
    assert.ok(!(await s.page.locator('#carte').isVisible()), 'no map until asked for');
    assert.equal(await s.page.evaluate(() => typeof window.L), 'undefined', 'Leaflet not loaded yet');
    await tabTo(s.page, '#afficher-carte');
    await s.page.keyboard.press('Enter');
    await s.page.locator('#carte').waitFor({ state: 'visible' });
    assert.ok(await s.page.locator('#carte').isVisible());
    assert.ok(!(await s.page.locator('#afficher-carte').isVisible()), 'the button is gone once the map is drawn');
    assert.equal(await s.page.evaluate(() => document.activeElement.id), 'carte', 'focus on the map');
    assert.match(await s.page.locator('#carte-note').innerText(), /mêmes lieux que la liste/);
    await s.page.waitForFunction(() => document.querySelectorAll('#carte .leaflet-overlay-pane path').length > 0);
    const located = await s.page.locator('.relais-resultat[data-lat]').count();
    assert.equal(await s.page.locator('#carte .leaflet-marker-icon').count(), located);
    await checkPage(s, 'resultats-carte', { title: 'Lieux de médiation numérique à Saint-Étienne (42)' });
    // The markers are out of the tab order (the list repeats them): from the map, the
    // zoom buttons and the credits, then the first lieu of the list.
    await tabTo(s.page, '.relais-resultat h3 a', { max: 6 });
    // Before the map, a link leads to the list.
    await goto(s, pathOf(s.page));
    await tabTo(s.page, 'main a[href="#liste-lieux"]');
    await s.page.keyboard.press('Enter');
    assert.equal(await s.page.evaluate(() => document.activeElement.id), 'liste-lieux');
    await s.page.keyboard.press('Tab');
    assert.ok(await s.page.evaluate(() => document.activeElement.matches('.relais-resultat h3 a')), 'the next Tab is the first lieu');
    // The widget's code for this commune, to copy.
    assert.match(await s.page.locator('.relais-code').textContent(), /\/lieux\/widget\?commune=42218/);
  });

  step('the next lieux, then a lieu’s page', async () => {
    await tabTo(s.page, 'main a.fr-btn', { text: /^Lieux suivants$/ });
    await pressAndLoad(s.page);
    assert.match(pathOf(s.page), /curseur=/);
    await checkPage(s, 'resultats-suite', { title: 'Lieux de médiation numérique à Saint-Étienne (42)' });
    await tabTo(s.page, '.relais-resultat h3 a');
    lieu = (await s.page.evaluate(() => document.activeElement.textContent)).trim();
    await pressAndLoad(s.page);
    assert.match(pathOf(s.page), /^\/lieux\/[0-9a-f]+$/);
    await checkPage(s, 'lieu', { title: lieu });
  });

  step('signaler une erreur', async () => {
    await tabTo(s.page, 'main a', { text: /^Signaler une erreur$/ });
    await pressAndLoad(s.page);
    await checkPage(s, 'signalement', { title: `Signaler une erreur — ${lieu}` });
    await tabTo(s.page, '#motif');
    await s.page.selectOption('#motif', 'horaires');
    await typeInto(s.page, '#message', 'Le lieu est fermé le lundi matin.');
    await tabTo(s.page, 'main button[type="submit"]');
    await pressAndLoad(s.page);
    await checkPage(s, 'signalement-envoye', { title: `Signalement envoyé — ${lieu}` });
    assert.match(await s.page.locator('main .fr-alert--success').innerText(), /va vérifier/);
  });

  step('a lieu names its structure, whose page lists its lieux', async () => {
    await goto(s, '/lieux?q=Lapte');
    await tabTo(s.page, '.relais-resultat h3 a', { text: /^Mairie de Lapte$/ });
    await pressAndLoad(s.page);
    await checkPage(s, 'lieu-structure', { title: 'Mairie de Lapte' });
    await tabTo(s.page, 'main a[href^="/structures/"]');
    await pressAndLoad(s.page);
    await checkPage(s, 'structure', { title: 'Mairie de Lapte' });
    assert.match(await s.page.locator('main').textContent(), /Aidants Connect/);
    await tabTo(s.page, 'main a[href^="/lieux/"]', { text: /^Mairie de Lapte$/ });
  });

  step('an ambiguous name lists the communes; an unknown one is an error on the field', async () => {
    await goto(s, '/lieux');
    await typeInto(s.page, '#q', 'Sainte-Colombe');
    await pressAndLoad(s.page);
    await checkPage(s, 'communes', { title: 'Choisir une commune — trouver un lieu' });
    assert.ok(await s.page.locator('.relais-choix li').count() > 1);

    await typeInto(s.page, '#q', 'Xyzzyville');
    await pressAndLoad(s.page);
    await checkPage(s, 'commune-inconnue', { status: 404, title: 'Erreur : trouver un lieu de médiation numérique' });
    const described = await s.page.evaluate(() => {
      const q = document.querySelector('#q');
      return { invalid: q.getAttribute('aria-invalid'), text: document.getElementById(q.getAttribute('aria-describedby'))?.textContent };
    });
    assert.equal(described.invalid, 'true');
    assert.match(described.text, /Aucune commune ne s’appelle « Xyzzyville »/);
  });
});

test('the widget: compact, links to new tabs, framed by another site', async () => {
  const { context, page, problems } = await newWatchedPage(browser);
  try {
    await page.goto(server.url('/lieux/widget?commune=42218'), { waitUntil: 'networkidle' });
    await settle(page);
    assert.equal(await page.locator('header, footer').count(), 0);
    const links = page.locator('.relais-resultat a');
    assert.ok(await links.count() > 0);
    assert.equal(await links.first().getAttribute('target'), '_blank');
    assert.match(await links.first().innerText(), /nouvel onglet/);
    await checkBare(page, 'widget');

    // A page frames it: `X-Frame-Options: DENY` or `frame-ancestors 'none'` would block
    // even a page of the same origin. (widget.test.mjs frames it from another origin.)
    const mairie = server.url('/mairie.html');
    await context.route(mairie, (route) => route.fulfill({
      contentType: 'text/html; charset=utf-8',
      body: `<!doctype html><html lang="fr"><title>Mairie</title><iframe title="Lieux" src="${server.url('/lieux/widget?commune=42218')}"></iframe></html>`,
    }));
    const host = await context.newPage();
    await host.goto(mairie);
    const frame = host.frameLocator('iframe');
    await frame.locator('h1').waitFor({ state: 'attached', timeout: 10000 });
    assert.match(await frame.locator('h1').textContent(), /Saint-Étienne/);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

// Skipped for now: it hangs (over 5 minutes) in this run; to be debugged before enabling.
test('with JavaScript disabled, the list works: search, filters, next page', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 800 }, locale: 'fr-FR' });
  try {
    const page = await context.newPage();
    await page.goto(server.url('/lieux'), { waitUntil: 'load' });
    assert.ok(!(await page.locator('#autour-de-moi').isVisible()), '"Autour de moi" needs JavaScript');
    await page.locator('#q').focus();
    await page.keyboard.type('42000');
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    assert.match(await page.locator('h2').first().innerText(), /Lieux à Saint-Étienne \(42\)/);
    assert.equal(await page.locator('.relais-resultat').count(), 20);
    assert.ok(!(await page.locator('#carte').isVisible()), 'no map without JavaScript');
    await page.screenshot({ path: join(SCREENSHOTS, 'lieux-sans-javascript.png'), fullPage: true });
    // axe needs scripts: the same pages are checked with JavaScript on in the test above.

    // The next page, through its link.
    const first = await page.locator('.relais-resultat h3').allInnerTexts();
    await page.locator('a.fr-btn', { hasText: 'Lieux suivants' }).focus();
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    const second = await page.locator('.relais-resultat h3').allInnerTexts();
    assert.ok(second.length > 0 && second.every((n) => !first.includes(n)));

    // A filter: the summary opens with the keyboard, a box is checked with Space.
    await page.goto(server.url('/lieux?q=42000'), { waitUntil: 'load' });
    const count = async () => Number((await page.locator('#resultats > p').first().innerText()).match(/^(\d+|Aucun)/)[1].replace('Aucun', '0'));
    const all = await count();
    await page.locator('details.relais-filtres summary').first().focus();
    await page.keyboard.press('Enter');
    await page.locator('#ouvert-week-end').focus();
    await page.keyboard.press('Space');
    await page.locator('#recherche button[type="submit"]').focus();
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    assert.match(page.url(), /ouvert_week_end=1/);
    assert.ok(await page.locator('#ouvert-week-end').isChecked());
    assert.ok(await count() < all, 'fewer lieux open at the week-end');
  } finally {
    await context.close();
  }
});
