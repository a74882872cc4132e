// The diagnostic in a real browser (Debian's Chromium), taken alone from the public site:
// with the keyboard alone, then with JavaScript off, from the start to the result sheet.
// Every question and answer has its reading aloud, served by Relais itself and playable
// offline; every page passes checkPage (axe-core at 1280 and 320 px, headings, CSP) and
// gets a screenshot in e2e/screenshots/diagnostic-*.png.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { startServer } from './lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { checkPage, goto, journey, openSession, pathOf, pressAndLoad, tabTo } from './lib/page.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ logName: 'server-diagnostic.log' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// The readings of the page: each <audio>'s label, and whether its recording, fetched
// from Relais (no other host is reached), is decoded by the browser into speech that lasts.
async function readings(page) {
  return page.locator('main audio').evaluateAll((audios) => Promise.all(audios.map(async (a) => {
    const found = { label: a.getAttribute('aria-label'), src: a.src, ok: false, duration: 0 };
    try {
      const bytes = await (await fetch(a.src)).arrayBuffer();
      const sound = await new OfflineAudioContext(1, 1, 16000).decodeAudioData(bytes);
      found.duration = sound.duration;
      found.ok = sound.duration > 0.3 && new URL(a.src).origin === location.origin;
    } catch (e) {
      found.error = String(e);
    }
    return found;
  })));
}

describe('a diagnostic alone, with the keyboard alone', () => {
  const step = journey();
  let s;
  let adresse;

  before(async () => {
    s = await openSession(browser, server, { screenshots: 'diagnostic' });
  });
  after(async () => {
    await s?.context.close();
  });

  step('the start page says how it goes and reads it aloud', async () => {
    await goto(s, '/diagnostic');
    await checkPage(s, 'accueil', { title: 'Diagnostic numérique' });
    const r = await readings(s.page);
    assert.equal(r.length, 1);
    assert.ok(r[0].ok, `the instructions' recording plays: ${JSON.stringify(r[0])}`);
    await tabTo(s.page, 'button[type="submit"]', { text: /Commencer le diagnostic/ });
    await pressAndLoad(s.page);
    adresse = pathOf(s.page);
    assert.match(adresse, /^\/diagnostic\/[a-z2-7]{26}$/);
  });

  step('no answer chosen: told on the group, the question stays', async () => {
    const { page } = s;
    const enonce = await page.locator('h1').innerText();
    // The browser refuses an empty required group itself; without that check (an old
    // browser, a form sent by hand) Relais says it.
    await page.evaluate(() => document.querySelector('main form').setAttribute('novalidate', ''));
    await tabTo(page, 'button[type="submit"]', { text: /Valider ma réponse/ });
    await pressAndLoad(page);
    await checkPage(s, 'question-erreur', { status: 422, title: 'Erreur : Question 1 — Diagnostic numérique' });
    assert.match(await page.locator('#choix-erreur').innerText(), /Choisissez une réponse/);
    assert.equal(await page.locator('h1').innerText(), enonce);
  });

  step('each question, its answers and « je ne sais pas » are read aloud; answered to the end', async () => {
    const { page } = s;
    // Reloaded, the page shows the same question, answered now.
    const enonce = await page.locator('h1').innerText();
    await goto(s, adresse);
    assert.equal(await page.locator('h1').innerText(), enonce);
    for (let n = 1; n <= 20; n++) {
      if (!/Question \d+/.test(await page.title())) break;
      if (n <= 2) await checkPage(s, `question-${n}`, { title: `Question ${n} — Diagnostic numérique` });
      const answers = await page.locator('main input[name="choix"]').count();
      assert.ok(answers >= 3 && answers <= 5, `2 to 4 answers and « je ne sais pas » (${answers})`);
      assert.equal(await page.locator('#choix-nsp + label').innerText(), 'Je ne sais pas');
      const r = await readings(page);
      assert.equal(r.length, answers + 1, 'a reading for the question and for each answer');
      assert.equal(r[0].label, 'Écouter la question');
      for (const x of r) assert.ok(x.ok, `${x.label}: ${x.src}`);
      assert.ok(await page.locator('main img[alt]').getAttribute('alt'), 'the illustration has its text');
      // The first radio of the group takes the focus; Space chooses the first answer, the
      // arrow keys another one: « je ne sais pas » one question out of three.
      await tabTo(page, 'input[name="choix"]');
      if (n % 3 === 0) await page.keyboard.press('ArrowUp');
      else await page.keyboard.press('Space');
      assert.equal(await page.locator('input[name="choix"]:checked').count(), 1);
      await tabTo(page, 'button[type="submit"]', { text: /Valider ma réponse/ });
      await pressAndLoad(page);
    }
    assert.equal(pathOf(page), adresse);
    await checkPage(s, 'resultat', { title: 'Votre résultat — Diagnostic numérique' });
    assert.ok(await page.locator('main .fr-callout').count() >= 10, 'at least ten questions asked');
  });

  step('the result is in words, read aloud, and leads to the lieux and to the sheet', async () => {
    const { page } = s;
    const lignes = await page.locator('main .diagnostic-lignes li').allInnerTexts();
    assert.equal(lignes.length, 5, 'one line per domain');
    for (const l of lignes) assert.match(l, /^(Vous savez|À travailler :) /);
    const r = await readings(page);
    for (const x of r) assert.ok(x.ok, `${x.label}: ${x.src}`);
    // Where to learn: the lieux search, filtered on the service that teaches what is to work on.
    const lieux = decodeURIComponent(await page.getAttribute('main a.fr-btn >> nth=0', 'href'));
    assert.match(lieux, /^\/lieux(\?services=(Maîtrise des outils numériques du quotidien|Aide aux démarches administratives|Utilisation sécurisée du numérique))?$/);
    await tabTo(page, 'main a[href$="/fiche"]', { text: /Voir la fiche à imprimer/ });
    await pressAndLoad(page);
    await checkPage(s, 'fiche', { title: 'Fiche de résultat — Diagnostic numérique' });
    assert.match(await page.locator('main a[href^="mailto:"]').getAttribute('href'), /fiche/);
    // Printed, the page keeps the result and leaves out the site's frame and the buttons.
    await page.emulateMedia({ media: 'print' });
    assert.ok(!(await page.locator('header.fr-header').isVisible()));
    assert.ok(!(await page.locator('main .fr-btns-group').isVisible()));
    assert.ok(await page.locator('main .diagnostic-lignes').isVisible());
    await page.emulateMedia({ media: 'screen' });
  });
});

test('with JavaScript off, a diagnostic goes from its start to its result', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 320, height: 640 }, locale: 'fr-FR' });
  try {
    const page = await context.newPage();
    await page.goto(server.url('/diagnostic'), { waitUntil: 'load' });
    await page.locator('main button[type="submit"]').focus();
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    let n = 0;
    while (/Question \d+/.test(await page.title())) {
      n += 1;
      assert.ok(n <= 20);
      await page.locator('#choix-nsp').focus();
      await page.keyboard.press('Space');
      await page.locator('main button[type="submit"]').focus();
      await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    }
    assert.ok(n >= 10, `${n} questions`);
    assert.equal(await page.title(), 'Votre résultat — Diagnostic numérique — Relais');
    assert.match(await page.locator('main').innerText(), /Votre niveau : Premiers pas\./);
    assert.equal(await page.locator('main .diagnostic-lignes li').count(), 5);
  } finally {
    await context.close();
  }
});
