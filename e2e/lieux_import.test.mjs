// A référent's lieux in a real browser (Debian's Chromium), keyboard only but for the file
// picked in the upload field: the référent logs in, opens the structure's lieux from
// /compte, uploads a small CSV with one bad row, reads the report (counts and the rejected
// row with its line, field, value and reason), edits a lieu (a malformed `horaires` first,
// refused with the error tied to its field), and sees the change on the public page.
//
// Every page reached passes axe-core (WCAG 2.1 A/AA) with zero violations at 1280 and
// 320 px, has no CSP violation, no console error, no failed sub-request, and gets a
// full-page screenshot in e2e/screenshots/lieux-import-*.png.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';

import { createAccount, createStructure, startServer } from './lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { checkNotice, checkPage, errorAlert, escape, goto, journey, openSession, pathOf, pressAndLoad, tabTo, typeInto } from './lib/page.mjs';
import { enrol, loginWithPassword } from './lib/login.mjs';

const STRUCTURE = {
  siret: '13002526500013',
  nom: 'Médiathèque de Saint-Étienne',
  kind: 'collectivite',
  adresse: '24 rue Jo Gouttebarge, 42000 Saint-Étienne',
  commune: '42218',
};
const REFERENT = {
  email: 'camille.martin@exemple.fr',
  givenName: 'Camille',
  familyName: 'Martin',
  password: 'correct-cheval-pile-agrafe-42',
};

const CSV = [
  'id,nom,commune,code_postal,adresse,latitude,longitude,telephone,horaires,date_maj,services',
  'e2e-1,Médiathèque Tarentaize,Saint-Étienne,42000,20 rue Jo Gouttebarge,45.4400,4.3870,04 77 00 00 01,Tu-Sa 10:00-18:00,2024-06-01,Aide aux démarches administratives',
  'e2e-2,Espace numérique du Soleil,Saint-Étienne,4200,1 place Jean Jaurès,45.4350,4.3900,,,2024-06-01,',
  'e2e-3,Tiers-lieu du Crêt de Roc,Saint-Étienne,42000,3 rue du Crêt de Roc,45.4450,4.3950,,Mo-Fr 09:00-17:00,2024-06-01,',
].join('\n');

// A producer's own export: its columns are not the schema's.
const PRODUCER_CSV = [
  'Structure;Coordonnées;Tél.;Offre;Mise à jour',
  'Cyber-base du Soleil;8 rue du Soleil 42000 Saint-Étienne;04 77 00 00 05;Aide aux démarches administratives;12/03/2024',
  'Point numérique Beaubrun;2 place Beaubrun 42000 Saint-Étienne;04 77 00 00 06;Aide aux démarches administratives;13/03/2024',
].join('\r\n');

let server;
let browser;

before(async () => {
  server = await startServer({
    logName: 'server-lieux-import.log',
    async seed(relais) {
      await createAccount(relais, REFERENT);
      await createStructure(relais, STRUCTURE);
      await relais(['admin', 'attribuer-role', '--courriel', REFERENT.email, '--siret', STRUCTURE.siret, '--role', 'referent']);
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('a référent imports the structure’s lieux and edits one', () => {
  const step = journey();
  let s;
  let listPath;
  let lieuPath;

  before(async () => { s = await openSession(browser, server, { screenshots: 'lieux-import' }); });
  after(async () => { await s?.context.close(); });

  step('the référent logs in and opens the structure’s lieux from /compte', async () => {
    const { page } = s;
    await loginWithPassword(s, REFERENT);
    await enrol(s);
    await tabTo(page, 'main a[href$="/lieux"]', { text: new RegExp(`^Lieux de ${escape(STRUCTURE.nom)}$`) });
    await pressAndLoad(page);
    assert.match(pathOf(page), /^\/structures\/\d+\/lieux$/);
    listPath = pathOf(page);
    await checkPage(s, 'liste-vide', { title: `Lieux — ${STRUCTURE.nom}` });
    assert.match(await page.locator('main').innerText(), /aucun lieu/);
  });

  step('the upload page takes a CSV file and shows the report', async () => {
    const { page } = s;
    await tabTo(page, 'main a[href$="/lieux/import"]', { text: /^Importer un fichier de lieux$/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), `${listPath}/import`);
    await checkPage(s, 'formulaire', { title: `Importer un fichier — Lieux de ${STRUCTURE.nom}` });
    assert.match((await page.locator('label[for="fichier"]').innerText()).trim(), /^Fichier de lieux/);

    // The file field is reached with Tab; the file itself is chosen the way a file
    // dialog would, then the form is sent with the keyboard.
    await tabTo(page, '#fichier');
    await page.setInputFiles('#fichier', { name: 'lieux.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    await tabTo(page, 'main button[type="submit"]', { text: /^Importer le fichier$/, max: 3 });
    await pressAndLoad(page);
    await checkPage(s, 'rapport', { title: `Rapport d’import — Lieux de ${STRUCTURE.nom}` });
    assert.match(await page.locator('main [role="status"]').innerText(), /3 lignes lues, 2 gardées, 1 rejetée\./);
    const rejected = await page.locator('#rejets-titre').locator('xpath=ancestor::table').locator('tbody tr')
      .evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent.trim())));
    assert.deepEqual(rejected, [['3', 'code_postal', '4200', '5 chiffres attendus']]);
  });

  step('the list shows the two lieux kept; the edit form opens with the keyboard', async () => {
    const { page } = s;
    await tabTo(page, 'main a', { text: /^Voir et modifier les lieux$/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), listPath);
    await checkPage(s, 'liste', { title: `Lieux — ${STRUCTURE.nom}` });
    const names = await page.locator('main table tbody tr td:first-child').allInnerTexts();
    assert.deepEqual(names.map((n) => n.trim()), ['Médiathèque Tarentaize', 'Tiers-lieu du Crêt de Roc']);
    await tabTo(page, 'main a[href$="/modifier"]', { text: /^Modifier Médiathèque Tarentaize$/ });
    await pressAndLoad(page);
    assert.match(pathOf(page), new RegExp(`^${escape(listPath)}/[0-9a-f]{16}/modifier$`));
    lieuPath = `/lieux/${pathOf(page).split('/')[4]}`;
    await checkPage(s, 'modifier', { title: 'Modifier le lieu — Médiathèque Tarentaize' });
    assert.equal(await page.inputValue('#horaires'), 'Tu-Sa 10:00-18:00');
  });

  step('malformed hours are refused, tied to their field, nothing lost', async () => {
    const { page } = s;
    await typeInto(page, '#telephone', '04 77 12 34 56');
    await typeInto(page, '#horaires', 'du lundi au vendredi de 9h à 12h');
    await tabTo(page, 'main button[type="submit"]', { text: /^Enregistrer$/ });
    await pressAndLoad(page);
    await checkPage(s, 'modifier-erreur', { status: 422, title: 'Erreur : Modifier le lieu — Médiathèque Tarentaize' });
    assert.match(await errorAlert(page), /Rien n’est enregistré/);
    assert.equal(await page.getAttribute('#horaires', 'aria-invalid'), 'true');
    assert.equal(await page.getAttribute('#horaires', 'aria-describedby'), 'horaires-erreur');
    assert.match(await page.locator('#horaires-erreur').innerText(), /^Horaires illisibles/);
    assert.equal(await page.inputValue('#telephone'), '04 77 12 34 56', 'the phone typed is kept');
  });

  step('valid values are saved; the public page shows them', async () => {
    const { page } = s;
    await typeInto(page, '#horaires', 'Mo-Fr 09:00-12:00');
    // One more service, checked with the space bar.
    const box = page.locator('#services input[value="Maîtrise des outils numériques du quotidien"]');
    const id = await box.getAttribute('id');
    await tabTo(page, `#${id}`);
    await page.keyboard.press('Space');
    assert.ok(await box.isChecked());
    await tabTo(page, 'main button[type="submit"]', { text: /^Enregistrer$/ });
    await pressAndLoad(page);
    assert.match(pathOf(page), new RegExp(`^${escape(listPath)}\\?fait=modifie&lieu=`));
    await checkPage(s, 'liste-modifiee', { title: `Lieux — ${STRUCTURE.nom}` });
    await checkNotice(page, /Le lieu est mis à jour/);
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Paris' }).format(new Date());
    assert.match(await page.locator('main table tbody tr', { hasText: 'Médiathèque Tarentaize' }).innerText(), new RegExp(today));

    await tabTo(page, 'main .fr-alert a', { text: /^Voir la fiche publique du lieu$/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), lieuPath);
    await checkPage(s, 'lieu', { title: 'Médiathèque Tarentaize' });
    const text = await page.locator('main').innerText();
    assert.match(text, /du lundi au vendredi : 9 h – 12 h/);
    assert.match(text, /Maîtrise des outils numériques du quotidien/);
    assert.equal(await page.locator('main a[href="tel:+33477123456"]').count(), 1);
  });
  step('a file of the producer’s own columns: the mapping assistant, with the keyboard', async () => {
    const { page } = s;
    await goto(s, `${listPath}/import`);
    await tabTo(page, '#fichier');
    await page.setInputFiles('#fichier', { name: 'producteur.csv', mimeType: 'text/csv', buffer: Buffer.from(PRODUCER_CSV) });
    await tabTo(page, 'main button[type="submit"]', { text: /^Importer le fichier$/, max: 3 });
    await pressAndLoad(page);
    assert.match(pathOf(page), new RegExp(`^${escape(listPath)}/import/\\d+$`));
    await checkPage(s, 'correspondance', { title: `Vérifier la correspondance — Lieux de ${STRUCTURE.nom}` });
    assert.equal(await page.inputValue('#colonne-nom'), 'Structure');
    // One correction with the keyboard: the services are read from « Offre ».
    await tabTo(page, '#colonne-services');
    await page.selectOption('#colonne-services', 'Offre');
    await tabTo(page, 'main button[type="submit"]', { text: /^Voir l’aperçu avec ces choix$/ });
    await pressAndLoad(page);
    await checkPage(s, 'correspondance-apercu', { title: `Vérifier la correspondance — Lieux de ${STRUCTURE.nom}` });
    assert.equal(await page.inputValue('#colonne-services'), 'Offre');
    assert.match(await page.locator('main').innerText(), /1 correction par rapport à la proposition de Relais/);
    await tabTo(page, 'main button[type="submit"]', { text: /^Importer avec cette correspondance$/ });
    await pressAndLoad(page);
    await checkPage(s, 'correspondance-rapport', { title: `Rapport d’import — Lieux de ${STRUCTURE.nom}` });
    assert.match(await page.locator('main [role="status"]').innerText(), /2 lignes lues, 2 gardées, 0 rejetée\./);
    assert.match(await page.locator('main').innerText(), /La correspondance est gardée/);
  });
});
