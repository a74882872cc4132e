// The header on a phone (320×640): without JavaScript, « Menu » opens the menu through its
// anchor and « Se connecter » is reached with the keyboard; with JavaScript, the DSFR's own
// menu (a modal) holds the same links, and the no-JavaScript links are not shown.
//
// The pages themselves pass axe-core with JavaScript on in the other tests (checkPage).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';

import { startServer } from './lib/server.mjs';
import { launchBrowser, runAxe, formatViolations } from './lib/browser.mjs';
import { SCREENSHOTS, tabTo } from './lib/page.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ logName: 'server-entete.log' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const PHONE = { width: 320, height: 640 };

test('without JavaScript at 320 px, the menu opens and « Se connecter » is reached', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: PHONE, locale: 'fr-FR' });
  try {
    const page = await context.newPage();
    await page.goto(server.url('/'), { waitUntil: 'load' });
    const signIn = page.locator('.fr-header__menu a', { hasText: 'Se connecter' });
    assert.ok(!(await page.locator('#bouton-menu').isVisible()), 'the DSFR button needs JavaScript');
    assert.ok(!(await page.locator('.fr-header__tools-links').isVisible()), 'the tool links are in the menu at 320 px');
    assert.ok(!(await signIn.isVisible()), 'the menu is closed');

    await tabTo(page, '#lien-menu');
    await page.keyboard.press('Enter');
    await signIn.waitFor({ state: 'visible' });
    assert.equal(new URL(page.url()).hash, '#menu-mobile');
    await page.screenshot({ path: join(SCREENSHOTS, 'entete-sans-javascript-menu.png') });

    await tabTo(page, '.fr-header__menu a', { text: /^Se connecter$/ });
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    assert.equal(new URL(page.url()).pathname, '/connexion');
    assert.match(await page.locator('h1').innerText(), /connecter/i);

    // « Fermer » closes the menu again.
    await page.goto(server.url('/#menu-mobile'), { waitUntil: 'load' });
    await signIn.waitFor({ state: 'visible' });
    await tabTo(page, '#lien-fermer-menu');
    await page.keyboard.press('Enter');
    await signIn.waitFor({ state: 'hidden' });
  } finally {
    await context.close();
  }
});

test('with JavaScript at 320 px, the DSFR menu holds « Se connecter » and the links are hidden', async () => {
  const context = await browser.newContext({ viewport: PHONE, locale: 'fr-FR', reducedMotion: 'reduce' });
  try {
    const page = await context.newPage();
    await page.goto(server.url('/'), { waitUntil: 'load' });
    await page.waitForFunction(() => document.documentElement.getAttribute('data-fr-js') === 'true');
    assert.ok(!(await page.locator('#lien-menu').isVisible()), 'no anchor link once the DSFR script runs');
    assert.ok(await page.locator('#bouton-menu').isVisible());
    await tabTo(page, '#bouton-menu');
    await page.keyboard.press('Enter');
    const signIn = page.locator('.fr-header__menu a', { hasText: 'Se connecter' });
    await signIn.waitFor({ state: 'visible' });
    assert.equal(await signIn.count(), 1, 'the link once in the menu');
    assert.ok(!(await page.locator('#lien-fermer-menu').isVisible()));
    assert.ok(await page.locator('.fr-header__menu button.fr-btn--close').isVisible());
    const violations = await runAxe(page);
    assert.equal(violations.length, 0, `the open menu: axe-core violations:\n${formatViolations(violations)}`);
    await page.screenshot({ path: join(SCREENSHOTS, 'entete-menu.png') });
  } finally {
    await context.close();
  }
});
