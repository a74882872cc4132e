// A mandate created in a real browser (Debian's Chromium), keyboard only: an aidant logs in
// (second factor enrolled), opens « Nouveau mandat » from their account, submits nothing
// first (the error), chooses two démarches and a duration, hands the screen to the usager
// who identifies with FranceConnect (played by testsupport/oidc, npm oidc-provider), then
// signs without the usager's consent (the error), signs with it and the aidant's code, and
// gets the printed mandate: two copies, the hash as text and QR code, and nothing of the
// site's frame when printed.
//
// Every page of Relais reached passes axe-core (WCAG 2.1 A/AA) with zero violations at 1280
// and 320 px, has no CSP violation, no console error, no failed sub-request, and gets a
// full-page screenshot in e2e/screenshots/mandats-*.png.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';

import { createAccount, createStructure, startServer } from './lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { CLIENT_ID, CLIENT_SECRET, startProvider } from './lib/oidc.mjs';
import { codeAtStep } from './lib/totp.mjs';
import { checkPage, escape, goto, journey, openSession, pathOf, pressAndLoad, tabTo, typeInto } from './lib/page.mjs';
import { enrol, loginWithPassword } from './lib/login.mjs';

const STRUCTURE = {
  siret: '21420218600018',
  nom: 'CCAS de Saint-Étienne',
  kind: 'collectivite',
  adresse: '10 place de l’Hôtel de ville, 42000 Saint-Étienne',
  commune: '42218',
};
const AIDANT = {
  email: 'ines.roux@exemple.fr',
  givenName: 'Inès',
  familyName: 'Roux',
  password: 'phrase-de-passe-de-l-aidante-5',
  role: 'aidant',
};

let server;
let franceconnect;
let browser;
let demarche; // { client_id } of a démarche service registered in the seed

before(async () => {
  server = await startServer({
    logName: 'server-mandats.log',
    selfPublicUrl: true,
    async seed(relais) {
      await createAccount(relais, AIDANT);
      await createStructure(relais, STRUCTURE);
      await relais(['admin', 'attribuer-role', '--courriel', AIDANT.email, '--siret', STRUCTURE.siret, '--role', AIDANT.role]);
      const { stdout } = await relais(['admin', 'enregistrer-service', '--nom', 'Démarche d’essai',
        '--adresse-retour', 'https://demarche.example/retour', '--demarches', 'social,papiers']);
      demarche = Object.fromEntries(stdout.trim().split('\n').map((l) => l.split('=')));
    },
    async env(baseUrl) {
      franceconnect = await startProvider({ redirectUri: `${baseUrl}/auth/franceconnect/callback`, profile: 'franceconnect' });
      return {
        RELAIS_FRANCECONNECT_EMETTEUR: franceconnect.issuer,
        RELAIS_FRANCECONNECT_CLIENT: CLIENT_ID,
        RELAIS_FRANCECONNECT_SECRET: CLIENT_SECRET,
        RELAIS_SEL_USAGERS: 'le sel des usagers des essais de bout en bout',
      };
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await franceconnect?.stop();
});

describe('an aidant creates a mandate with the usager, keyboard only', () => {
  const step = journey();
  let s;
  let totp;
  const title = (t) => `${t} — ${STRUCTURE.nom}`;

  before(async () => {
    s = await openSession(browser, server, { screenshots: 'mandats' });
  });
  after(async () => {
    await s?.context.close();
  });

  step('the aidant logs in and opens « Nouveau mandat » from their account', async () => {
    const { page } = s;
    await loginWithPassword(s, AIDANT);
    totp = await enrol(s);
    s.problems.splice(0);
    await tabTo(page, 'main a[href$="/mandats/nouveau"]', { text: new RegExp(`Nouveau mandat pour ${escape(STRUCTURE.nom)}`) });
    await pressAndLoad(page);
    assert.match(pathOf(page), /^\/structures\/\d+\/mandats\/nouveau$/);
    await checkPage(s, 'nouveau', { title: title('Nouveau mandat') });
    assert.equal(await page.locator('main input[type="checkbox"][name="demarche"]').count(), 10);
    assert.equal(await page.locator('main input[type="radio"][name="duree"]').count(), 4);
  });

  step('nothing chosen: the errors on both groups', async () => {
    const { page } = s;
    await tabTo(page, 'main button[type="submit"]', { text: /Identifier l’usager avec FranceConnect/ });
    await pressAndLoad(page);
    await checkPage(s, 'nouveau-erreur', { title: `Erreur : ${title('Nouveau mandat')}` });
    assert.match(await page.locator('#demarches-erreur').innerText(), /Choisissez au moins une démarche/);
  });

  step('two démarches and a month; the usager’s step shows the FranceConnect button', async () => {
    const { page } = s;
    for (const code of ['social', 'papiers']) {
      await tabTo(page, `#demarche-${code}`);
      await page.keyboard.press('Space');
      assert.ok(await page.isChecked(`#demarche-${code}`), `${code} ticked with Space`);
    }
    // Tab enters the group of radio buttons on its first one; an arrow chooses the next.
    await tabTo(page, '#duree-jour');
    await page.keyboard.press('ArrowDown');
    assert.ok(await page.isChecked('#duree-mois'), 'a month chosen with the arrow');
    await tabTo(page, 'main button[type="submit"]', { text: /Identifier l’usager/ });
    await pressAndLoad(page);
    assert.match(pathOf(page), /^\/structures\/\d+\/mandats\/brouillons\/\d+$/);
    await checkPage(s, 'identification', { title: title('Identification de l’usager') });
    const listed = await page.locator('main ul li').allInnerTexts();
    assert.deepEqual(listed.map((t) => t.trim()).sort(), ['Papiers, citoyenneté, élections', 'Social, santé'].sort());
  });

  step('the usager identifies with FranceConnect and comes back to the mandate to sign', async () => {
    const { page } = s;
    await tabTo(page, 'main a[href$="/franceconnect"]', { text: /S’identifier avec FranceConnect/ });
    await pressAndLoad(page);
    assert.match(pathOf(page), /^\/structures\/\d+\/mandats\/brouillons\/\d+$/);
    await checkPage(s, 'signature', { title: title('Signer le mandat') });
    const main = await page.locator('main').innerText();
    assert.match(main, /Lefèvre Dominique Marie/);
    assert.match(main, /21\/06\/1948/);
  });

  step('without the usager’s consent: said on the box, nothing signed', async () => {
    const { page } = s;
    await typeInto(page, '#code', codeAtStep(totp.secret, totp.step + 1));
    await pressAndLoad(page);
    await checkPage(s, 'signature-erreur', { title: `Erreur : ${title('Signer le mandat')}` });
    assert.match(await page.locator('#consentement-erreur').innerText(), /cochez la case/);
  });

  step('consent and the aidant’s code: the printed mandate, two copies', async () => {
    const { page } = s;
    await tabTo(page, '#consentement');
    await page.keyboard.press('Space');
    assert.ok(await page.isChecked('#consentement'));
    await typeInto(page, '#code', codeAtStep(totp.secret, totp.step + 1));
    await pressAndLoad(page);
    assert.match(pathOf(page), /^\/structures\/\d+\/mandats\/\d+\?fait=signe$/);
    await checkPage(s, 'mandat', { title: title('Mandat n° 1') });
    assert.equal(await page.locator('main article.relais-mandat').count(), 2);
    const hashes = await page.locator('main .relais-empreinte code').allInnerTexts();
    assert.equal(hashes.length, 2);
    assert.match(hashes[0], /^[0-9a-f]{64}$/);
    assert.equal(hashes[0], hashes[1]);
    assert.equal(await page.locator('main .relais-empreinte svg[role="img"]').count(), 2);

    // Printed: the site's frame and the notice are gone, both copies stay.
    await page.emulateMedia({ media: 'print' });
    for (const hidden of ['header.fr-header', 'footer.fr-footer', '.relais-no-print']) {
      assert.equal(await page.locator(hidden).first().isVisible(), false, `${hidden} hidden when printed`);
    }
    assert.equal(await page.locator('article.relais-mandat:visible').count(), 2);
    await page.emulateMedia({ media: 'screen' });
  });

  step('the structure’s mandates page lists it, with renewal and cancellation', async () => {
    const { page } = s;
    const structurePath = pathOf(page).replace(/\/\d+\?fait=signe$/, '');
    await goto(s, structurePath);
    await checkPage(s, 'structure', { title: title('Mandats') });
    const main = await page.locator('main').innerText();
    assert.match(main, /Lefèvre Dominique Marie/);
    assert.equal(await page.locator('main a[href$="/renouvellement"]').count(), 1);
  });

  step('a démarche asks Relais: the aidant picks the usager with the keyboard', async () => {
    const { page } = s;
    const params = new URLSearchParams({
      client_id: demarche.client_id,
      redirect_uri: 'https://demarche.example/retour',
      response_type: 'code',
      scope: 'openid social given_name family_name',
      state: 'etat-e2e',
      nonce: 'nonce-e2e',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    await goto(s, `/oidc/authorize?${params}`);
    await checkPage(s, 'oidc-choix', { title: 'Pour qui faites-vous cette démarche ?' });
    assert.match(await page.locator('main').innerText(), /Démarche d’essai/);
    await tabTo(page, 'main input[type="radio"][name="autorisation"]');
    await page.keyboard.press('Space');
    await tabTo(page, 'main button[type="submit"]', { text: /Continuer la démarche/ });
    const sent = page.waitForRequest((r) => r.url().startsWith('https://demarche.example/retour'));
    await page.route('https://demarche.example/**', (route) => route.fulfill({ status: 200, body: 'démarche' }));
    await page.keyboard.press('Enter');
    const url = new URL((await sent).url());
    assert.equal(url.searchParams.get('state'), 'etat-e2e');
    assert.match(url.searchParams.get('code'), /^[A-Za-z0-9_-]{43}$/);
    assert.equal(url.searchParams.get('iss'), server.url('/oidc'));
  });
});

describe('the usager reads their mandate and ends a démarche, keyboard only', () => {
  const step = journey();
  let s;

  before(async () => {
    s = await openSession(browser, server, { screenshots: 'mandats-usager' });
  });
  after(async () => {
    await s?.context.close();
  });

  step('« Mes mandats »: the page to enter, then FranceConnect, then the space', async () => {
    const { page } = s;
    await goto(s, '/usager');
    await checkPage(s, 'entree', { title: 'Mes mandats' });
    await tabTo(page, 'main a[href="/usager/connexion"]', { text: /Entrer avec FranceConnect/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), '/usager');
    await checkPage(s, 'espace', { title: 'Mes mandats' });
    const main = await page.locator('main').innerText();
    assert.match(main, new RegExp(`Mandat donné à ${escape(STRUCTURE.nom)}`));
    assert.match(main, /Social, santé : jusqu’au/);
  });

  step('two keys: « Arrêter », then « Oui, arrêter »; the démarche is ended, the other goes on', async () => {
    const { page } = s;
    await tabTo(page, 'main a[href^="/usager/autorisations/"]', { text: /Arrêter les démarches « Social, santé »/ });
    await pressAndLoad(page);
    await checkPage(s, 'fin', { title: 'Arrêter' });
    await tabTo(page, 'main button[type="submit"]', { text: /Oui, arrêter/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), '/usager?fait=fin');
    await checkPage(s, 'espace-apres', { title: 'Mes mandats' });
    const main = await page.locator('main').innerText();
    assert.match(main, /Social, santé : vous l’avez arrêté le/);
    assert.match(main, /Papiers, citoyenneté, élections : jusqu’au/);
  });
});
