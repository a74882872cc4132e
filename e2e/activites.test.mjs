// A mediator reports an accompaniment in a real browser (Debian's Chromium), keyboard
// only: from /compte to their activities, the form with its defaults (today, 30 minutes,
// at home in their structure's commune), a first try without thématique (the error tied to
// its field), then one thématique ticked and the entry saved — the interactions that
// change something are counted (≤ 6) — and the list that shows it.
//
// Every page reached passes axe-core (WCAG 2.1 A/AA) with zero violations at 1280 and
// 320 px, has no CSP violation, no console error, and gets a screenshot in
// e2e/screenshots/activites-*.png.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';

import { createAccount, createStructure, startServer } from './lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { checkNotice, checkPage, goto, journey, openSession, pathOf, pressAndLoad, tabTo } from './lib/page.mjs';
import { enrol, loginWithPassword } from './lib/login.mjs';

const STRUCTURE = {
  siret: '13002526500013',
  nom: 'Médiathèque de Saint-Étienne',
  kind: 'collectivite',
  adresse: '24 rue Jo Gouttebarge, 42000 Saint-Étienne',
  commune: '42218',
};
const MEDIATEUR = {
  email: 'sacha.bernard@exemple.fr',
  givenName: 'Sacha',
  familyName: 'Bernard',
  password: 'phrase-de-passe-du-mediateur-7',
};

const HUB = {
  email: 'camille.hub@exemple.fr',
  givenName: 'Camille',
  familyName: 'Lefort',
  password: 'phrase-de-passe-du-hub-loire-3',
};

let server;
let browser;

before(async () => {
  server = await startServer({
    logName: 'server-activites.log',
    async seed(relais) {
      await createAccount(relais, MEDIATEUR);
      await createStructure(relais, STRUCTURE);
      await relais(['admin', 'attribuer-role', '--courriel', MEDIATEUR.email, '--siret', STRUCTURE.siret, '--role', 'mediateur']);
      await createAccount(relais, HUB);
      await relais(['admin', 'coordinateur-hub', '--courriel', HUB.email, '--perimetre', 'Loire']);
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// The field group `id` is in error: its message, linked by aria-describedby, matches `message`.
async function checkGroupError(page, id, message) {
  const text = await page.evaluate((id) => {
    const el = document.getElementById(id);
    const ids = (el?.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    return ids.map((d) => document.getElementById(d)?.textContent.trim() ?? '').join(' ');
  }, id);
  assert.match(text, message, `${id}: error message`);
}

describe('a mediator reports an accompaniment, keyboard only', () => {
  const step = journey();
  let s;
  let listPath;
  // What the person does that changes something: a box ticked, a form sent, a link followed.
  let interactions = 0;

  before(async () => {
    s = await openSession(browser, server, { screenshots: 'activites' });
  });
  after(async () => {
    await s?.context.close();
  });

  step('the mediator logs in and goes from /compte to their activities', async () => {
    const { page } = s;
    await loginWithPassword(s, MEDIATEUR);
    await enrol(s);
    s.problems.splice(0);
    assert.equal(pathOf(page), '/compte');
    await tabTo(page, 'main a[href$="/activites"]', { text: /^Mes activités à Médiathèque de Saint-Étienne$/ });
    await pressAndLoad(page);
    listPath = pathOf(page);
    assert.match(listPath, /^\/structures\/\d+\/activites$/);
    await checkPage(s, 'liste-vide', { title: 'Mes activités' });
    assert.match(await page.locator('main').innerText(), /Aucune activité enregistrée pour le moment\./);
  });

  step('the form opens with its defaults', async () => {
    const { page } = s;
    await tabTo(page, 'main a[href$="/activites/nouvelle"]', { text: /Nouvelle activité/ });
    await pressAndLoad(page);
    interactions += 1;
    assert.equal(pathOf(page), `${listPath}/nouvelle`);
    await checkPage(s, 'formulaire', { title: 'Nouvelle activité' });
    assert.ok(await page.isChecked('#type_activite-individuel'), 'individual by default');
    assert.ok(await page.isChecked('#duree-30'), '30 minutes by default');
    assert.ok(await page.isChecked('#type_lieu-domicile'), 'at home when the structure has no lieu');
    const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Paris' });
    assert.equal(await page.inputValue('#date'), today, 'today by default');
    assert.equal(await page.inputValue('#commune'), '42218', 'the structure’s commune by default');
  });

  step('sent without thématique: the error is tied to its group, the rest kept', async () => {
    const { page } = s;
    await tabTo(page, 'button[type="submit"]', { text: /Enregistrer l’activité/ });
    await pressAndLoad(page);
    await checkPage(s, 'erreur', { status: 422, title: 'Erreur : Nouvelle activité' });
    await checkGroupError(page, 'thematiques', /^Thématiques : choisissez au moins une thématique\.$/);
    assert.equal(await page.inputValue('#commune'), '42218', 'the commune is kept');
  });

  step('one thématique ticked with the keyboard, saved: the list shows it', async () => {
    const { page } = s;
    await tabTo(page, '#thematiques-email');
    await page.keyboard.press('Space');
    interactions += 1;
    assert.ok(await page.isChecked('#thematiques-email'));
    await tabTo(page, 'button[type="submit"]', { text: /Enregistrer l’activité/ });
    await pressAndLoad(page);
    interactions += 1;
    assert.equal(pathOf(page), `${listPath}?fait=enregistree`);
    await checkPage(s, 'liste', { title: 'Mes activités' });
    await checkNotice(page, /L’activité est enregistrée\./);
    const text = await page.locator('main').innerText();
    assert.match(text, /1 activité\(s\) enregistrée\(s\)/);
    assert.match(text, /Courriel/);
    assert.ok(interactions <= 6, `${interactions} interactions for an individual accompaniment`);
    assert.equal(interactions, 3, 'open the form, tick a thématique, save');
  });

  step('without network, an entry is kept on the device, then sent once when the network returns', async () => {
    const { page, context } = s;
    await tabTo(page, 'main a[href$="/activites/nouvelle"]', { text: /Nouvelle activité/ });
    await pressAndLoad(page);
    await context.setOffline(true);
    await tabTo(page, '#thematiques-sante');
    await page.keyboard.press('Space');
    await tabTo(page, 'button[type="submit"]', { text: /Enregistrer l’activité/ });
    await page.keyboard.press('Enter');
    const status = page.locator('#activites-attente');
    await status.waitFor({ state: 'visible' });
    assert.match(await status.innerText(), /^Une activité saisie sans réseau est gardée sur cet appareil/);
    assert.equal(pathOf(page), `${listPath}/nouvelle`, 'no page was left');
    await checkPage(s, 'hors-ligne', { title: 'Nouvelle activité' });
    const kept = await page.evaluate(() => JSON.parse(localStorage.getItem('relais.activites.attente')));
    assert.equal(kept.length, 1);

    await context.setOffline(false);
    await page.waitForFunction(() => document.getElementById('activites-attente').textContent.includes('a été envoyée'));
    assert.deepEqual(await page.evaluate(() => JSON.parse(localStorage.getItem('relais.activites.attente'))), []);
    // The answer lost and the entry sent again: the server writes it once.
    const again = await page.evaluate(async ({ action, body }) => {
      const res = await fetch(action, { method: 'POST', body, redirect: 'manual', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
      return res.type;
    }, kept[0]);
    assert.equal(again, 'opaqueredirect', 'accepted again (a redirection to the list), written once');
    // A redirection not followed on purpose (`redirect: 'manual'`) is reported as aborted:
    // those, and nothing else.
    const problems = s.problems.splice(0);
    assert.deepEqual(problems.filter((p) => !/activites\?fait=enregistree \(net::ERR_ABORTED\)$/.test(p)), [], problems.join('\n'));
    await goto(s, listPath);
    const text = await page.locator('main').innerText();
    assert.match(text, /2 activité\(s\) enregistrée\(s\)/, 'the first entry and the one made offline, once');
    assert.match(text, /Santé/);
  });

  step('the structure’s statistics, then the public ones: every chart has its table', async () => {
    const { page } = s;
    await goto(s, listPath.replace(/activites$/, 'statistiques'));
    await checkPage(s, 'statistiques-structure', { title: 'Statistiques des activités — Médiathèque de Saint-Étienne' });
    const charts = await page.locator('main svg[role="img"]').count();
    assert.ok(charts >= 5, `${charts} charts`);
    assert.equal(await page.locator('main table caption').count(), charts, 'one table per chart');
    assert.match(await page.locator('main').innerText(), /Activités : 2/);

    // The participations as a file for Excel: UTF-8 with its byte order mark.
    const csv = await page.evaluate(async () => {
      const href = document.querySelector('main a[href*="participations.csv"]').getAttribute('href');
      const res = await fetch(href);
      const bytes = new Uint8Array(await res.arrayBuffer());
      return { status: res.status, bom: [...bytes.slice(0, 3)], text: new TextDecoder().decode(bytes) };
    });
    assert.equal(csv.status, 200);
    assert.deepEqual(csv.bom, [0xef, 0xbb, 0xbf]);
    assert.match(csv.text, /^\uFEFF?Participation;Activité;Date;/);
    assert.equal(csv.text.trim().split('\r\n').length, 3, 'a header and two participations');

    await goto(s, '/statistiques?territoire=departement%3A42');
    await checkPage(s, 'statistiques-publiques', { title: 'Statistiques des activités — Loire (42)' });
    assert.match(await page.locator('main').innerText(), /Activités : moins de 11/, 'two activities are a secret count');
  });

  step('a followed beneficiary’s file opened with the keyboard, with consent, then their page', async () => {
    const { page } = s;
    await goto(s, listPath.replace(/activites$/, 'beneficiaires'));
    await checkPage(s, 'personnes-suivies-vide', { title: 'Personnes suivies' });
    await tabTo(page, 'main a[href$="/beneficiaires/nouvelle"]', { text: /Nouvelle fiche/ });
    await pressAndLoad(page);
    await checkPage(s, 'fiche-nouvelle', { title: 'Nouvelle fiche de personne suivie' });
    await tabTo(page, '#prenom');
    await page.keyboard.type('Jeanne');
    await tabTo(page, '#nom');
    await page.keyboard.type('Roux');
    await tabTo(page, 'button[type="submit"]', { text: /Ouvrir la fiche/ });
    await pressAndLoad(page);
    await checkPage(s, 'fiche-sans-accord', { status: 422, title: 'Erreur : Nouvelle fiche de personne suivie' });
    await checkGroupError(page, 'accord', /^Consentement : la personne doit accepter d’être suivie pour avoir une fiche\.$/);
    await tabTo(page, '#consentement');
    await page.keyboard.press('Space');
    await tabTo(page, 'button[type="submit"]', { text: /Ouvrir la fiche/ });
    await pressAndLoad(page);
    assert.match(pathOf(page), /\/beneficiaires\/\d+\?fait=creee$/);
    await checkPage(s, 'fiche', { title: 'Jeanne Roux — personne suivie' });
    await checkNotice(page, /La fiche est ouverte\./);
    await tabTo(page, 'main a[href$="/beneficiaires"]', { text: /Toutes les personnes suivies/ });
    await pressAndLoad(page);
    await checkPage(s, 'personnes-suivies', { title: 'Personnes suivies' });
    assert.match(await page.locator('main table').innerText(), /Jeanne Roux/);
  });

  step('the Loire hub’s coordinator sees their territory’s figures, none secret to them', async () => {
    const h = await openSession(browser, server, { screenshots: 'activites-hub' });
    try {
      await loginWithPassword(h, HUB);
      await enrol(h);
      h.problems.splice(0);
      await tabTo(h.page, 'main a[href="/hub/statistiques"]', { text: /statistiques des activités du hub/ });
      await pressAndLoad(h.page);
      await checkPage(h, 'statistiques-hub', { title: 'Statistiques des activités du hub — Loire (42)' });
      assert.match(await h.page.locator('main').innerText(), /Activités : 2/);
    } finally {
      await h.context.close();
    }
  });
});
