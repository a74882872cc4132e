// The review of the merge in a real browser, keyboard only: two producers' small files
// describe the same two buildings differently (`relais import lieux`, before the server
// starts, on its data directory), so the merge leaves two pairs to a person. An
// administrator logs in (TOTP computed in Node), goes from /compte to the review page,
// compares the two records of a pair side by side, decides « Lieux distincts », and sees
// the notice, one pair left, and the decision listed with their name; the operator's
// command (`relais lieux revue`) agrees.
//
// Every page passes axe-core (WCAG 2.1 A/AA) with zero violations at 1280 and 320 px, has
// no CSP violation, no console error, no failed sub-request, and gets a full-page
// screenshot in e2e/screenshots/fusion-*.png.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createAccount, runRelais, startServer } from './lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { checkNotice, checkPage, journey, openSession, pathOf, pressAndLoad, tabTo } from './lib/page.mjs';
import { enrol, loginWithPassword } from './lib/login.mjs';

const ADMIN = {
  email: 'dominique.lefevre@exemple.fr',
  givenName: 'Dominique',
  familyName: 'Lefèvre',
  password: 'phrase-de-passe-administrateur-9',
  admin: true,
};

const HEADER = 'id,pivot,nom,commune,code_postal,code_insee,adresse,latitude,longitude,telephone,courriels,date_maj,services';
// The town's file and a network's: at each address, a place of each, nothing else in common.
const VILLE = [
  HEADER,
  '1,21420218600017,Médiathèque Tarentaize,Saint-Étienne,42000,42218,20 rue Jo Gouttebarge,45.4330,4.3925,04 77 12 34 56,,2023-01-15,Aide aux démarches administratives',
  '2,,Centre social de Beaulieu,Saint-Étienne,42100,42218,8 rue Jean Dasté,45.4290,4.4020,04 77 25 11 00,,2023-03-02,Aide aux démarches administratives',
].join('\n');
const RESEAU = [
  HEADER,
  'E-1,,Espace numérique,Saint-Étienne,42000,42218,20 rue Jo Gouttebarge,45.4330,4.3925,,espace@exemple.fr,2024-09-01,Maîtrise des outils numériques du quotidien',
  'E-2,,Point numérique,Saint-Étienne,42100,42218,8 rue Jean Dasté,45.4290,4.4020,,point@exemple.fr,2024-09-01,Maîtrise des outils numériques du quotidien',
].join('\n');

let server;
let browser;
let files;

before(async () => {
  files = mkdtempSync(join(tmpdir(), 'relais-e2e-fusion-'));
  writeFileSync(join(files, 'ville-saint-etienne.csv'), VILLE);
  writeFileSync(join(files, 'reseau-numerique.csv'), RESEAU);
  server = await startServer({
    logName: 'server-fusion.log',
    async seed(relais) {
      await createAccount(relais, ADMIN);
      // With lieux in the base, the server loads no demonstration lieux.
      await relais(['import', 'lieux', join(files, 'ville-saint-etienne.csv')]);
      const { stdout } = await relais(['import', 'lieux', join(files, 'reseau-numerique.csv')]);
      assert.match(stdout, / 2 paire\(s\) à revoir/, stdout);
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (files) rmSync(files, { recursive: true, force: true });
});

describe('an administrator reviews the merge, keyboard only', () => {
  const step = journey();
  let admin;

  before(async () => {
    admin = await openSession(browser, server, { screenshots: 'fusion' });
  });
  after(async () => {
    await admin?.context.close();
  });

  step('from /compte to the review page: two pairs, each record side by side', async () => {
    const { page } = admin;
    await loginWithPassword(admin, ADMIN);
    await enrol(admin);
    admin.problems.splice(0);
    await tabTo(page, 'main a[href="/admin/lieux/fusions"]', { text: /fusions de lieux à revoir/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), '/admin/lieux/fusions');
    await checkPage(admin, 'liste', { title: 'Fusions de lieux à revoir' });
    assert.match(await page.locator('#fusions-total').innerText(), /^2 paires à revoir/);
    assert.equal(await page.locator('section.relais-paire').count(), 2);
    const pair = page.locator('section.relais-paire', { hasText: 'Espace numérique' });
    const table = await pair.locator('table').innerText();
    for (const text of ['Médiathèque Tarentaize', 'ville-saint-etienne', 'reseau-numerique', '21420218600017', '04 77 12 34 56', 'espace@exemple.fr', '01/09/2024', '42000 Saint-Étienne']) {
      assert.ok(table.includes(text), `${text} in the table:\n${table}`);
    }
    assert.match(await pair.innerText(), /Distance entre les deux : 0 m/);
    assert.match(await pair.innerText(), /même adresse/);
  });

  step('« Lieux distincts » with the keyboard: the notice, one pair left, the decision listed', async () => {
    const { page } = admin;
    const id = await page.locator('section.relais-paire', { hasText: 'Espace numérique' }).getAttribute('id');
    await tabTo(page, `#${id} button[value="distincts"]`, { text: /^Lieux distincts/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), '/admin/lieux/fusions?fait=distincts');
    await checkPage(admin, 'decision', { title: 'Fusions de lieux à revoir' });
    await checkNotice(page, /restent distincts/);
    assert.match(await page.locator('#fusions-total').innerText(), /^1 paire à revoir/);
    assert.equal(await page.locator('section.relais-paire', { hasText: 'Espace numérique' }).count(), 0);
    assert.equal(await page.locator('section.relais-paire', { hasText: 'Point numérique' }).count(), 1);
    const decisions = await page.locator('table', { has: page.locator('caption', { hasText: 'Dernières décisions' }) }).innerText();
    assert.match(decisions, /Dominique Lefèvre/);
    assert.match(decisions, /Médiathèque Tarentaize/);
    assert.match(decisions, /Espace numérique/);
    assert.match(decisions, /Lieux distincts/);
  });

  step('the operator’s command sees the same review list', async () => {
    const { stdout } = await runRelais(server.dataDir, ['lieux', 'revue']);
    assert.match(stdout, /^1 paire\(s\) à revoir/m, stdout);
    assert.match(stdout, /Point numérique/);
    assert.doesNotMatch(stdout, /Espace numérique/);
  });
});
