// Pass numérique in a real browser (Debian's Chromium): a référent creates a programme,
// qualifies their structure and issues a booklet; as a prescripteur hands it to a person;
// then, as a mediator at the counter on a
// 320 px wide phone and with the keyboard alone, checks a pass before accepting it,
// accepts it, and is told when it was used when it comes back.
//
// Every page reached passes axe-core (WCAG 2.1 A/AA) with zero violations at 1280 and
// 320 px, has no CSP violation, no console error, and gets a screenshot in
// e2e/screenshots/pass-*.png.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { E2E_DIR, createAccount, createStructure, startServer } from './lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { checkNotice, checkPage, goto, journey, openSession, pathOf, pressAndLoad, tabTo, typeInto } from './lib/page.mjs';
import { enrol, loginWithPassword } from './lib/login.mjs';

// The texts of the QR codes of a PDF, page by page (testsupport/qr: poppler and ZXing).
function readQrCodes(pdf) {
  const dir = mkdtempSync(join(tmpdir(), 'relais-qr-'));
  try {
    writeFileSync(join(dir, 'carnet.pdf'), pdf);
    const out = execFileSync('python3', [join(E2E_DIR, '..', 'testsupport', 'qr', 'lire_qr.py'), join(dir, 'carnet.pdf')]);
    return JSON.parse(out.toString());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// A token re-signed by a key Relais does not hold, under the same key number.
function forged(token) {
  const bytes = Buffer.from(token, 'base64url');
  const { privateKey } = generateKeyPairSync('ed25519');
  const content = bytes.subarray(0, 36);
  return Buffer.concat([content, cryptoSign(null, content, privateKey)]).toString('base64url');
}

// The same token with its value changed from 10 € to 90 €, its signature kept.
function altered(token) {
  const bytes = Buffer.from(token, 'base64url');
  bytes.writeUInt32BE(9000, 1 + 4 + 15 + 8);
  return bytes.toString('base64url');
}

const STRUCTURE = {
  siret: '21420218600018',
  nom: 'Département de la Loire',
  kind: 'collectivite',
  adresse: '2 rue Charles de Gaulle, 42000 Saint-Étienne',
  commune: '42218',
};
// Référent (runs the programme), prescripteur (hands booklets) and mediator (at the
// counter) of the same structure.
const AGENT = {
  email: 'lou.martin@exemple.fr',
  givenName: 'Lou',
  familyName: 'Martin',
  password: 'phrase-de-passe-du-departement-9',
};

let server;
let browser;

before(async () => {
  server = await startServer({
    logName: 'server-pass.log',
    async seed(relais) {
      await createAccount(relais, AGENT);
      await createStructure(relais, STRUCTURE);
      for (const role of ['referent', 'mediateur', 'prescripteur']) {
        await relais(['admin', 'attribuer-role', '--courriel', AGENT.email, '--siret', STRUCTURE.siret, '--role', role]);
      }
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('a programme, a booklet, and a pass accepted at the counter', () => {
  const step = journey();
  let s;
  let hubPath;
  let programmePath;
  let code;
  let tokens;

  before(async () => {
    s = await openSession(browser, server, { screenshots: 'pass' });
  });
  after(async () => {
    await s?.context.close();
  });

  step('the référent goes from /compte to the Pass numérique page', async () => {
    const { page } = s;
    await loginWithPassword(s, AGENT);
    await enrol(s);
    s.problems.splice(0);
    await tabTo(page, 'main a[href$="/pass"]', { text: /^Pass numérique de Département de la Loire$/ });
    await pressAndLoad(page);
    hubPath = pathOf(page);
    assert.match(hubPath, /^\/structures\/\d+\/pass$/);
    await checkPage(s, 'accueil', { title: 'Pass numérique' });
  });

  step('a programme is created; a wrong IBAN is refused on its field first', async () => {
    const { page } = s;
    await tabTo(page, 'main a[href$="/pass/programmes/nouveau"]', { text: /Créer un programme/ });
    await pressAndLoad(page);
    await checkPage(s, 'programme-nouveau', { title: 'Nouveau programme de pass numériques' });
    await typeInto(page, '#nom', 'Pass numérique Loire');
    await typeInto(page, '#financeur1_nom', 'Département de la Loire');
    await typeInto(page, '#financeur1_siret', '21420218600018');
    await typeInto(page, '#financeur1_part', '100');
    await typeInto(page, '#financeur1_iban', 'FR76 3000 6000 0112 3456 7890 188');
    await typeInto(page, '#financeur1_bic', 'AGRIFRPP');
    await typeInto(page, '#budget', '1000');
    await page.fill('#dernier_jour', '2099-12-31');
    await typeInto(page, '#territoires', '42');
    await tabTo(page, '#publics-tout_public');
    await page.keyboard.press('Space');
    await tabTo(page, '#services-atelier_collectif');
    await page.keyboard.press('Space');
    await tabTo(page, 'button[type="submit"]', { text: /Créer le programme/ });
    await pressAndLoad(page);
    await checkPage(s, 'programme-erreur', { status: 422, title: 'Erreur : Nouveau programme de pass numériques' });
    const describedBy = await page.getAttribute('#financeur1_iban', 'aria-describedby');
    assert.match(await page.locator(`#${describedBy}`).innerText(), /IBAN n’est pas valide/);
    assert.equal(await page.inputValue('#nom'), 'Pass numérique Loire', 'the rest is kept');
    assert.ok(await page.isChecked('#services-atelier_collectif'), 'the boxes too');

    await typeInto(page, '#financeur1_iban', 'FR76 3000 6000 0112 3456 7890 189');
    await tabTo(page, 'button[type="submit"]', { text: /Créer le programme/ });
    await pressAndLoad(page);
    programmePath = pathOf(page);
    assert.match(programmePath, /^\/structures\/\d+\/pass\/programmes\/\d+$/);
    await checkPage(s, 'programme', { title: 'Pass numérique Loire' });
  });

  step('the structure applies, is qualified, and issues a booklet', async () => {
    const { page } = s;
    await goto(s, hubPath);
    await typeInto(page, '#titulaire', 'Département de la Loire');
    await typeInto(page, '#iban', 'FR7630006000011234567890189');
    await typeInto(page, '#bic', 'AGRIFRPP');
    await tabTo(page, '#services-atelier_collectif');
    await page.keyboard.press('Space');
    await tabTo(page, 'button[type="submit"]', { text: /Demander la qualification/ });
    await pressAndLoad(page);
    await checkPage(s, 'demande', { title: 'Pass numérique' });
    await checkNotice(page, /Votre demande est envoyée/);

    await goto(s, programmePath);
    await tabTo(page, 'button[value="accepter"]', { text: /Qualifier Département de la Loire/ });
    await pressAndLoad(page);
    await checkNotice(page, /La structure est qualifiée/);
    await typeInto(page, '#nombre', '1');
    await typeInto(page, '#siret', STRUCTURE.siret);
    await tabTo(page, 'button[type="submit"]', { text: /Émettre les carnets/ });
    await pressAndLoad(page);
    await checkPage(s, 'carnets', { title: 'Pass numérique Loire' });
    await checkNotice(page, /1 carnet\(s\) émis, nos 1 à 1\./);
    await tabTo(page, 'main a[href$="/carnets/1"]', { text: /Carnet n° 1/ });
    await pressAndLoad(page);
    await checkPage(s, 'carnet', { title: 'Carnet n° 1 — Pass numérique Loire' });
    code = (await page.locator('main tbody tr:first-child td:nth-child(2)').innerText()).trim();
    assert.match(code, /^[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    // The printed booklet, read as a phone's camera would (ZXing): a signed token a page.
    const pdf = await page.request.get(server.url(await page.getAttribute('main a[href$="/pdf"]', 'href')));
    assert.equal(pdf.headers()['content-type'], 'application/pdf');
    tokens = readQrCodes(await pdf.body()).map((page) => page[0]);
    assert.equal(tokens.length, 10);
  });

  step('the prescripteur hands the booklet to a person', async () => {
    const { page } = s;
    await goto(s, '/compte');
    await tabTo(page, 'main a[href$="/pass/remise"]', { text: /Remettre un carnet de pass à Département de la Loire/ });
    await pressAndLoad(page);
    await checkPage(s, 'remise', { title: 'Remettre un carnet de pass numériques' });
    await typeInto(page, '#numero', '1');
    await typeInto(page, '#commune', '42218');
    await tabTo(page, 'button[type="submit"]', { text: /Remettre le carnet/ });
    await pressAndLoad(page);
    await checkPage(s, 'remise-faite', { title: 'Remettre un carnet de pass numériques' });
    await checkNotice(page, /Carnet n° 1 remis : 10 pass/);
  });

  step('at the counter, 320 px wide, keyboard only: checked, then accepted', async () => {
    const { page } = s;
    await page.setViewportSize({ width: 320, height: 640 });
    await goto(s, '/compte');
    await tabTo(page, 'main a[href$="/pass/utilisation"]', { text: /Accepter un pass à Département de la Loire/ });
    await pressAndLoad(page);
    await checkPage(s, 'guichet', { title: 'Accepter un pass numérique' });
    await typeInto(page, '#code', code.toLowerCase().replaceAll('-', ' '));
    await tabTo(page, 'button[type="submit"]', { text: /Vérifier le pass/ });
    await pressAndLoad(page);
    await checkPage(s, 'guichet-valable', { title: 'Accepter un pass numérique' });
    assert.match(await page.locator('main').innerText(), /Ce pass est valable ici/);
    assert.match(await page.locator('main').innerText(), /10,00 €/);
    assert.ok(await page.isChecked('#service-atelier_collectif'), 'the one service is chosen');
    await tabTo(page, 'button[type="submit"]', { text: /Accepter le pass/ });
    await pressAndLoad(page);
    await checkPage(s, 'guichet-accepte', { title: 'Accepter un pass numérique' });
    await checkNotice(page, /Pass accepté/);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 320, `no sideways scroll (${width} px)`);
  });

  step('the use starts the activity report, a workshop already chosen', async () => {
    const { page } = s;
    await tabTo(page, 'main a[href*="/activites/nouvelle"]', { text: /^Compter cet accompagnement dans vos activités$/ });
    await pressAndLoad(page);
    await checkPage(s, 'activite-du-pass', { title: 'Nouvelle activité' });
    assert.ok(await page.isChecked('#type_activite-collectif'), 'a workshop, as the pass paid for');
    await page.goBack({ waitUntil: 'networkidle' });
  });

  step('the same pass again: refused, saying when and where it was used', async () => {
    const { page } = s;
    await typeInto(page, '#code', code);
    await tabTo(page, 'button[type="submit"]', { text: /Vérifier le pass/ });
    await pressAndLoad(page);
    await checkPage(s, 'guichet-deja-utilise', { status: 422, title: 'Erreur : Accepter un pass numérique' });
    const describedBy = await page.getAttribute('#code', 'aria-describedby');
    assert.match(await page.locator(`#${describedBy}`).innerText(), /^ce pass a déjà été utilisé le \d\d\/\d\d\/\d{4} à \d+ h \d\d \(Département de la Loire\)$/);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  step('the structure’s statements: the month’s pass, and its PDF', async () => {
    const { page } = s;
    await goto(s, '/compte');
    await tabTo(page, 'main a[href$="/pass/releves"]', { text: /Relevés des pass de Département de la Loire/ });
    await pressAndLoad(page);
    await checkPage(s, 'releves', { title: 'Relevés des pass acceptés' });
    const table = await page.locator('main table').innerText();
    assert.match(table, /Pass numérique Loire\s+1\s+10,00 €/);
    const pdf = page.locator('main table a').first();
    const response = await page.request.get(new URL(await pdf.getAttribute('href'), page.url()).href);
    assert.equal(response.headers()['content-type'], 'application/pdf');
  });

  step('without network, a scanned pass is checked on the device: forged, altered and replayed ones refused', async () => {
    const { page, context } = s;
    await goto(s, pathOf(page).replace(/releves$/, 'utilisation'));
    await page.waitForFunction(() => localStorage.getItem('relais.pass.cles') !== null);
    await context.setOffline(true);
    await page.waitForSelector('#pass-reseau:has-text("Pas de réseau")');
    const check = async (text) => {
      await typeInto(page, '#code', text);
      await tabTo(page, 'button[type="submit"]', { text: /Vérifier le pass/ });
      await page.keyboard.press('Enter');
    };
    const refusal = async (pattern) => {
      await page.waitForSelector('#code-erreur-hors-ligne');
      assert.match(await page.locator('#code-erreur-hors-ligne').innerText(), pattern);
      assert.equal(await page.getAttribute('#code', 'aria-describedby'), 'code-erreur-hors-ligne');
    };
    await check(code);
    await refusal(/^Sans réseau, seul le QR code d’un pass peut être vérifié/);
    await check(forged(tokens[1]));
    await refusal(/^Ce pass est falsifié/);
    await check(altered(tokens[1]));
    await refusal(/^Ce pass est falsifié/);
    const accept = async (token) => {
      await check(token);
      await page.waitForSelector('#pass-hors-ligne-valable:not([hidden])');
      assert.match(await page.locator('#pass-hors-ligne-resume').innerText(), /^Pass [0-9A-Z-]{17} de 10,00 € — Pass numérique Loire\.$/);
      assert.ok(await page.isChecked('#hors-ligne-service-atelier_collectif'), 'the one service is chosen');
      await tabTo(page, 'button[type="submit"]', { text: /Accepter le pass sans réseau/ });
      await page.keyboard.press('Enter');
      await page.waitForSelector('#pass-hors-ligne-valable[hidden]', { state: 'attached' });
    };
    await accept(tokens[1]);
    await checkPage(s, 'guichet-hors-ligne', { title: 'Accepter un pass numérique' });
    assert.match(await page.locator('#pass-file-liste').innerText(), /accepté le .* en attente du réseau/);
    await check(tokens[1]);
    await refusal(/^Ce pass a déjà été accepté sur cet appareil le /);
    // Meanwhile, another device with network uses the third pass.
    const csrf = await page.getAttribute('#pass-hors-ligne', 'data-csrf');
    const structure = await page.getAttribute('#pass-hors-ligne', 'data-structure');
    const ailleurs = await page.request.post(server.url(`/api/v1/structures/${structure}/pass/utilisations`), {
      headers: { 'x-csrf-token': csrf },
      data: { code: tokens[2], cle: 'autre-appareil-0000000001', service: 'atelier_collectif' },
    });
    assert.equal(ailleurs.status(), 200, await ailleurs.text());
    await accept(tokens[2]);
    assert.match(await page.locator('#pass-reseau').innerText(), /2 pass acceptés sans réseau attendent d’être enregistrés/);
  });

  step('the network returns: the queue is sent, the conflict told and shown on the statements', async () => {
    const { page, context } = s;
    await context.setOffline(false);
    await page.waitForFunction(() => document.querySelectorAll('#pass-file-liste li').length === 2
      && !/en attente/.test(document.getElementById('pass-file-liste').innerText));
    // The conflict's answer is a 409, which the browser logs: expected here.
    assert.equal(s.problems.length, 2, s.problems.join('\n'));
    assert.ok(s.problems.every((p) => p.includes('409')), s.problems.join('\n'));
    s.problems.splice(0);
    const told = await page.locator('#pass-file-liste').innerText();
    assert.match(told, /: enregistré\./);
    assert.match(told, /: déjà utilisé le .* \(Département de la Loire\)\. Le conflit est signalé/);
    // Recorded in the ledger: checked online, the second pass is told used.
    const second = (await page.locator('#pass-file-liste li', { hasText: 'enregistré' }).innerText()).match(/Pass ([0-9A-Z-]{17})/)[1];
    await typeInto(page, '#code', second);
    await tabTo(page, 'button[type="submit"]', { text: /Vérifier le pass/ });
    await pressAndLoad(page);
    await checkPage(s, 'guichet-synchronise', { status: 422, title: 'Erreur : Accepter un pass numérique' });
    assert.match(await page.locator('#code-erreur').innerText(), /^ce pass a déjà été utilisé le /);
    await goto(s, pathOf(page).replace(/utilisation$/, 'releves'));
    await checkPage(s, 'releves-conflit', { title: 'Relevés des pass acceptés' });
    const conflicts = await page.locator('main table', { hasText: 'Conflits signalés' }).innerText();
    assert.match(conflicts, /Pass numérique Loire\s+Département de la Loire, le .*\s+Département de la Loire, le /);
    assert.match(await page.locator('main table', { hasText: 'Relevés mensuels' }).innerText(), /Pass numérique Loire\s+3\s+30,00 €/);
  });

  step('the programme’s figures: the funnel by département of the people, the exports', async () => {
    const { page } = s;
    await goto(s, programmePath);
    await checkPage(s, 'programme-chiffres', { title: 'Pass numérique Loire' });
    const byTerritory = await page.locator('main table', { hasText: 'Par département des personnes' }).innerText();
    assert.match(byTerritory, /42 — Loire\s+10\s+10\s+10\s+3\s+0\s+0/);
    const xlsx = await page.request.get(server.url(`${programmePath}/chiffres.xlsx`));
    assert.equal(xlsx.status(), 200);
  });
});
