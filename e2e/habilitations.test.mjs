// Habilitation of aidants in a real browser (Debian's Chromium), keyboard only: a référent
// asks for the habilitation of a professional (a commitment forgotten first), the
// administrator asks for changes, the référent answers, the administrator accepts, the
// référent records the training (an error first) and the skills test, the page shows what
// is still missing (the candidate's second factor), the candidate enrols it, and the
// référent activates the aidant, who then appears in the team.
//
// Every page reached passes axe-core (WCAG 2.1 A/AA) with zero violations at 1280 and
// 320 px, has no CSP violation, no console error, no failed sub-request, and gets a
// full-page screenshot in e2e/screenshots/habilitations-*.png.

import { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';

import { createAccount, createStructure, startServer } from './lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { codeAtStep, currentStep, msLeftInStep } from './lib/totp.mjs';
import { checkNotice, checkPage, escape, fullName, goto, journey, openSession, pathOf, pressAndLoad, sleep, tabTo, typeInto } from './lib/page.mjs';
import { enrol, loginWithPassword, submitCode } from './lib/login.mjs';

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
  role: 'referent',
};
const ADMIN = {
  email: 'dominique.lefevre@exemple.fr',
  givenName: 'Dominique',
  familyName: 'Lefèvre',
  password: 'phrase-de-passe-administrateur-9',
  admin: true,
};
// No role yet: the habilitation makes them an aidant.
const CANDIDATE = {
  email: 'alex.durand@exemple.fr',
  givenName: 'Alex',
  familyName: 'Durand',
  password: 'phrase-de-passe-du-candidat-3',
};

let server;
let browser;

before(async () => {
  server = await startServer({
    logName: 'server-habilitations.log',
    async seed(relais) {
      for (const p of [REFERENT, ADMIN, CANDIDATE]) await createAccount(relais, p);
      await createStructure(relais, STRUCTURE);
      await relais(['admin', 'attribuer-role', '--courriel', REFERENT.email, '--siret', STRUCTURE.siret, '--role', REFERENT.role]);
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// From the home page to /compte: the password, the enrolment of the second factor and the
// recovery codes, none of them checked here (comptes.test.mjs does). Returns the secret and
// the step of the code used.
async function loginAndEnrol(s, person) {
  await loginWithPassword(s, person);
  const totp = await enrol(s);
  s.problems.splice(0);
  return totp;
}

// The field `selector` is in error: its message, linked by aria-describedby, matches `message`.
async function checkFieldError(page, selector, message) {
  const found = await page.evaluate((selector) => {
    const el = document.querySelector(selector);
    const ids = (el?.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    return ids.map((id) => document.getElementById(id)?.textContent.trim() ?? null);
  }, selector);
  assert.ok(found.length > 0 && found.every((d) => d !== null), `${selector} is described by existing messages (${found})`);
  assert.match(found.join(' '), message, `${selector}: error message`);
}

// ---------------------------------------------------------------------------------------

describe('a habilitation, from the request to the active aidant, keyboard only', () => {
  const step = journey();
  let referent;
  let admin;
  let candidate;
  let referentTotp;
  let requestPath;
  let adminRequestPath;
  let requestId;

  before(async () => {
    referent = await openSession(browser, server, { screenshots: 'habilitations' });
    admin = await openSession(browser, server, { screenshots: 'habilitations' });
    candidate = await openSession(browser, server, { screenshots: 'habilitations' });
  });
  after(async () => {
    for (const s of [referent, admin, candidate]) await s?.context.close();
  });

  step('the référent goes from /compte to the structure’s habilitations, then to the request form', async () => {
    const { page } = referent;
    referentTotp = await loginAndEnrol(referent, REFERENT);
    await tabTo(page, 'main a[href$="/habilitations"]', { text: new RegExp(`Habilitations de ${escape(STRUCTURE.nom)}`) });
    await pressAndLoad(page);
    assert.match(pathOf(page), /^\/structures\/\d+\/habilitations$/);
    await checkPage(referent, 'liste-vide', { title: `Habilitations — ${STRUCTURE.nom}` });
    assert.match(await page.locator('main').innerText(), /Aucune demande pour le moment/);

    await tabTo(page, 'main a[href$="/habilitations/nouvelle"]', { text: /Demander une habilitation/ });
    await pressAndLoad(page);
    assert.match(pathOf(page), /^\/structures\/\d+\/habilitations\/nouvelle$/);
    await checkPage(referent, 'nouvelle', { title: `Demander une habilitation — ${STRUCTURE.nom}` });
    const legend = await page.locator('main fieldset legend').first().innerText();
    assert.match(legend, /engagements/);
    assert.equal(await page.locator('main input[type="checkbox"][name="engagement"]').count(), 5);
    assert.match(await page.locator('main').innerText(), /Aucun élu n’utilisera le service\./);
  });

  step('a commitment left unticked: the error on the group, the address and the other ticks kept', async () => {
    const { page } = referent;
    await typeInto(page, '#emails', CANDIDATE.email);
    for (const code of ['conditions', 'professionnels', 'formation_gratuite', 'dpo']) {
      await tabTo(page, `#engagement-${code}`);
      await page.keyboard.press('Space');
      assert.ok(await page.isChecked(`#engagement-${code}`), `${code} ticked with Space`);
    }
    await tabTo(page, 'main button[type="submit"]', { text: /Envoyer la demande/ });
    await pressAndLoad(page);
    await checkPage(referent, 'nouvelle-erreur', { title: `Erreur : Demander une habilitation — ${STRUCTURE.nom}` });
    await checkFieldError(page, 'fieldset#engagements', /il manque « Aucun élu n’utilisera le service »/);
    assert.equal(await page.inputValue('#emails'), CANDIDATE.email, 'the address is kept');
    assert.equal(await page.locator('main input[name="engagement"]:checked').count(), 4, 'the ticks are kept');
  });

  step('every commitment ticked: the request is sent and its page lists the candidate', async () => {
    const { page } = referent;
    await tabTo(page, '#engagement-elus');
    await page.keyboard.press('Space');
    await tabTo(page, 'main button[type="submit"]', { text: /Envoyer la demande/ });
    await pressAndLoad(page);
    const match = pathOf(page).match(/^(\/structures\/\d+\/habilitations\/(\d+))\?fait=envoi$/);
    assert.ok(match, `the request's page: ${pathOf(page)}`);
    [, requestPath, requestId] = match;
    await checkPage(referent, 'demande-envoyee', { title: `Demande d’habilitation n° ${requestId}` });
    await checkNotice(page, /est envoyée/);
    const main = await page.locator('main').innerText();
    assert.match(main, /En attente de décision/i);
    assert.match(main, new RegExp(fullName(CANDIDATE)));
    assert.match(main, /demande pas encore acceptée/);
  });

  step('the administrator finds the request from /compte and asks for changes', async () => {
    const { page } = admin;
    await loginAndEnrol(admin, ADMIN);
    await tabTo(page, 'main a[href="/admin/habilitations"]');
    await pressAndLoad(page);
    assert.equal(pathOf(page), '/admin/habilitations');
    await checkPage(admin, 'admin-liste', { title: 'Demandes d’habilitation' });

    // The status filter, with the arrow keys.
    await tabTo(page, 'main select#statut');
    for (let i = 0; i < 6 && (await page.inputValue('#statut')) !== 'soumise'; i++) await page.keyboard.press('ArrowDown');
    assert.equal(await page.inputValue('#statut'), 'soumise');
    await tabTo(page, 'main button[type="submit"]', { text: /^Filtrer$/, max: 5 });
    await pressAndLoad(page);
    assert.equal(pathOf(page), '/admin/habilitations?statut=soumise');
    await checkPage(admin, 'admin-liste-filtre', { title: 'Demandes d’habilitation' });
    const row = page.locator('main table tbody tr', { hasText: `Demande n° ${requestId}` });
    assert.equal(await row.count(), 1, 'the request is listed');
    assert.match(await row.innerText(), new RegExp(escape(STRUCTURE.nom)));

    await tabTo(page, `main a[href="/admin/habilitations/${requestId}"]`);
    await pressAndLoad(page);
    adminRequestPath = `/admin/habilitations/${requestId}`;
    assert.equal(pathOf(page), adminRequestPath);
    await checkPage(admin, 'admin-demande', { title: `Demande d’habilitation n° ${requestId} — ${STRUCTURE.nom}` });
    const main = await page.locator('main').innerText();
    assert.match(main, new RegExp(STRUCTURE.siret));
    assert.match(main, new RegExp(escape(CANDIDATE.email)));
    assert.match(main, /La structure accepte les conditions d’utilisation du service\./);

    // A radio group is one Tab stop; the arrows choose within it.
    await tabTo(page, '#decision-accepter');
    await page.keyboard.press('ArrowDown');
    assert.ok(await page.isChecked('#decision-modifications'), 'the arrow chose "modifications"');
    await typeInto(page, '#message', 'Précisez la fonction d’Alex dans la structure.');
    await tabTo(page, 'main button[type="submit"]', { text: /Enregistrer la décision/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), `${adminRequestPath}?fait=decision`);
    await checkPage(admin, 'admin-modifications', { title: `Demande d’habilitation n° ${requestId} — ${STRUCTURE.nom}` });
    assert.match(await page.locator('main').innerText(), /Modifications demandées/i);
  });

  step('the référent reads the message, answers and submits again', async () => {
    const { page } = referent;
    await goto(referent, requestPath);
    await checkPage(referent, 'demande-modifications', { title: `Demande d’habilitation n° ${requestId}` });
    assert.match(await page.locator('main').innerText(), /Précisez la fonction d’Alex dans la structure\./);
    await typeInto(page, '#reponse', 'Alex est conseiller numérique, salarié de la médiathèque.');
    await tabTo(page, 'main button[type="submit"]', { text: /Répondre et soumettre de nouveau/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), `${requestPath}?fait=reponse`);
    await checkPage(referent, 'demande-renvoyee', { title: `Demande d’habilitation n° ${requestId}` });
    const main = await page.locator('main').innerText();
    assert.match(main, /En attente de décision/i);
    assert.match(main, /Alex est conseiller numérique/);
  });

  step('the administrator accepts', async () => {
    const { page } = admin;
    await goto(admin, adminRequestPath);
    admin.problems.splice(0);
    await tabTo(page, '#decision-accepter');
    await page.keyboard.press('Space');
    assert.ok(await page.isChecked('#decision-accepter'));
    await tabTo(page, 'main button[type="submit"]', { text: /Enregistrer la décision/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), `${adminRequestPath}?fait=decision`);
    await checkPage(admin, 'admin-acceptee', { title: `Demande d’habilitation n° ${requestId} — ${STRUCTURE.nom}` });
    assert.match(await page.locator('main').innerText(), /Acceptée/i);
    assert.equal(await page.locator('main form[action$="/decision"]').count(), 0, 'no second decision');
  });

  step('the référent records the training (the organisation forgotten first) and the skills test', async () => {
    const { page } = referent;
    await goto(referent, requestPath);
    await checkPage(referent, 'demande-acceptee', { title: `Demande d’habilitation n° ${requestId}` });
    const person = await page.locator('main form[action$="/formation"] input[name="personne"]').inputValue();

    await tabTo(page, `#formation-${person}-7`);
    await page.keyboard.press('Space');
    assert.ok(await page.isChecked(`#formation-${person}-7`), '7 h chosen with Space');
    // The date field takes the digits segment after segment, in the order of the browser's
    // own language (jj/mm/aaaa in French, mm/dd/yyyy in English): a day equal to its month
    // reads the same in both.
    await tabTo(page, `#formation-${person}-date`);
    await page.keyboard.type('03032026');
    assert.equal(await page.inputValue(`#formation-${person}-date`), '2026-03-03');
    await tabTo(page, 'main button[type="submit"]', { text: /Enregistrer la formation/ });
    await pressAndLoad(page);
    await checkPage(referent, 'formation-erreur', { title: `Erreur : Demande d’habilitation n° ${requestId}` });
    await checkFieldError(page, `#formation-${person}-organisme`, /Indiquez l’organisme/);
    assert.ok(await page.isChecked(`#formation-${person}-7`), 'the duration is kept');
    assert.equal(await page.inputValue(`#formation-${person}-date`), '2026-03-03', 'the date is kept');

    await typeInto(page, `#formation-${person}-organisme`, 'Les Assembleurs');
    await tabTo(page, 'main button[type="submit"]', { text: /Enregistrer la formation/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), `${requestPath}?fait=formation`);
    await checkPage(referent, 'formation-enregistree', { title: `Demande d’habilitation n° ${requestId}` });
    assert.match(await page.locator('main').innerText(), /Formation de 7 h le 03\/03\/2026 \(Les Assembleurs\)/);

    await typeInto(page, `#test-${person}-score`, '350');
    await tabTo(page, 'main button[type="submit"]', { text: /Enregistrer le test/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), `${requestPath}?fait=test`);
    await checkPage(referent, 'test-enregistre', { title: `Demande d’habilitation n° ${requestId}` });
    const main = await page.locator('main').innerText();
    assert.match(main, /score : 350/);
    // Only the candidate's second factor is missing: no activation yet.
    const missing = (await page.locator(`#manque-${person} li`).allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(missing, ['double authentification à activer']);
    assert.equal(await page.locator('main form[action$="/activation"]').count(), 0, 'no activation button yet');
  });

  step('the candidate enrols their second factor; the référent activates them as aidant', async () => {
    await loginAndEnrol(candidate, CANDIDATE);

    const { page } = referent;
    await goto(referent, requestPath);
    await checkPage(referent, 'pret', { title: `Demande d’habilitation n° ${requestId}` });
    assert.match(await page.locator('main').innerText(), /Toutes les étapes sont franchies/);
    await tabTo(page, 'main form[action$="/activation"] button[type="submit"]', { text: new RegExp(`Activer ${fullName(CANDIDATE)} comme aidant`) });
    await pressAndLoad(page);
    if (pathOf(page).startsWith('/connexion/confirmation')) {
      // The second factor is asked again: a code of a step not used yet.
      while (currentStep() <= referentTotp.step || msLeftInStep() < 3000) await sleep(1000);
      await submitCode(page, codeAtStep(referentTotp.secret, currentStep()));
      assert.equal(pathOf(page), requestPath, 'back to the request after the confirmation');
      referent.problems.splice(0);
      await tabTo(page, 'main form[action$="/activation"] button[type="submit"]');
      await pressAndLoad(page);
    }
    assert.equal(pathOf(page), `${requestPath}?fait=activation`);
    await checkPage(referent, 'active', { title: `Demande d’habilitation n° ${requestId}` });
    await checkNotice(page, /aidant habilité/);
    assert.match(await page.locator('main').innerText(), /Aidant habilité depuis le \d\d\/\d\d\/\d{4}/i);

    // The team now lists the candidate as an aidant.
    await goto(referent, requestPath.replace(/\/habilitations\/\d+$/, '/equipe'));
    referent.problems.splice(0);
    const row = page.locator('main table tbody tr', { hasText: fullName(CANDIDATE) });
    assert.equal(await row.count(), 1, 'the candidate is in the team');
    assert.match(await row.innerText(), /Aidant habilité/);
  });
});
