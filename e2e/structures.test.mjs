// The register of structures in a real browser (Debian's Chromium), keyboard only but for
// the file picked in the upload field: an administrator logs in, opens the register's
// upload from /compte, imports a small register with one bad row, reads the report (counts,
// the SIRET repaired, the rejected row with its line, field, value and reason), then opens
// an imported structure's public page: its team per role, the way for its référent to join
// it, its lieux.
//
// Every page reached passes axe-core (WCAG 2.1 A/AA) with zero violations at 1280 and
// 320 px, has no CSP violation, no console error, no failed sub-request, and gets a
// full-page screenshot in e2e/screenshots/structures-*.png.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';

import { createAccount, startServer } from './lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { checkPage, goto, journey, openSession, pathOf, pressAndLoad, tabTo, typeInto } from './lib/page.mjs';
import { enrol, loginWithPassword } from './lib/login.mjs';

const ADMIN = {
  email: 'dominique.lefevre@exemple.fr',
  givenName: 'Dominique',
  familyName: 'Lefèvre',
  password: 'phrase-de-passe-administrateur-9',
  admin: true,
};

const CSV = [
  'Siret,Name,Address,Zip Code,City,City Insee Code,France Services Label',
  '21420218600000.0,Ville de Saint-Étienne,1 place de l’Hôtel de Ville,42000,Saint-Étienne,42218,true',
  '123,Association sans SIRET,3 rue du Crêt de Roc,42000,Saint-Étienne,42218,false',
].join('\n');

let server;
let browser;

before(async () => {
  server = await startServer({
    logName: 'server-structures.log',
    async seed(relais) {
      await createAccount(relais, ADMIN);
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('an administrator imports a register of structures', () => {
  const step = journey();
  let s;

  before(async () => { s = await openSession(browser, server, { screenshots: 'structures' }); });
  after(async () => { await s?.context.close(); });

  step('the upload page, reached from /compte', async () => {
    const { page } = s;
    await loginWithPassword(s, ADMIN);
    await enrol(s);
    await tabTo(page, 'main a[href="/admin/structures/import"]');
    await pressAndLoad(page);
    assert.equal(pathOf(page), '/admin/structures/import');
    await checkPage(s, 'formulaire', { title: 'Importer un registre de structures' });
  });

  step('a register with a bad row: the report', async () => {
    const { page } = s;
    await tabTo(page, '#fichier');
    await page.setInputFiles('#fichier', { name: 'registre-loire.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await typeInto(page, '#registre', 'reseau-loire');
    await tabTo(page, '#label-conseiller_numerique');
    await page.keyboard.press('Space');
    await tabTo(page, 'main button[type="submit"]', { text: /^Importer le registre$/ });
    await pressAndLoad(page);
    await checkPage(s, 'rapport', { title: 'Rapport d’import du registre' });
    assert.match(await page.locator('main [role="status"]').innerText(), /2 lignes lues, 1 gardée, 1 rejetée\./);
    assert.match(await page.locator('main').innerText(), /Registre « reseau-loire » : fichier « registre-loire\.csv »/);
    const rejected = await page.locator('#rejets-titre').locator('xpath=ancestor::table').locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
    assert.equal(rejected.length, 1);
    assert.deepEqual(rejected[0].slice(0, 3), ['3', 'siret', '123']);
  });

  step('a structure without référent: its team, and its référent is told how to join it', async () => {
    const { page } = s;
    await goto(s, '/lieux?q=Lapte');
    await tabTo(page, '.relais-resultat h3 a', { text: /^Mairie de Lapte$/ });
    await pressAndLoad(page);
    await tabTo(page, 'main a[href^="/structures/"]');
    await pressAndLoad(page);
    await checkPage(s, 'structure', { title: 'Mairie de Lapte' });
    const main = await page.locator('main').innerText();
    assert.match(main, /Référent de structure : personne/);
    assert.match(main, /n’a pas encore de référent dans Relais/);
    // The administrator is no employee of Lapte: ProConnect vouched for no SIRET of theirs.
    await tabTo(page, 'main button[type="submit"]', { text: /^Rejoindre cette structure comme référent$/ });
    await pressAndLoad(page);
    await checkPage(s, 'structure-refus', { status: 422, title: 'Mairie de Lapte' });
    assert.match(await page.locator('main [role="alert"]').innerText(), /ProConnect n’atteste pas que vous travaillez pour cette structure/);
  });
});
