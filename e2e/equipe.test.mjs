// Team management in a real browser (Debian's Chromium), keyboard only: a référent invites
// someone from the team page (an invalid address first), the invitation e-mail (an .eml file
// written by the server's worker, no SMTP) gives a link, the invited person creates their
// account through it and enrols their second factor, then the référent grants a role,
// removes one and removes the person from the team (but may not remove their own role, being
// the last référent). Then the step-up confirmation page, the password reset by e-mail (a
// known and an unknown address, a link used twice) and an unknown invitation link.
//
// Every page reached passes axe-core (WCAG 2.1 A/AA) with zero violations at 1280 and
// 320 px, has no CSP violation, no console error, no failed sub-request, and gets a
// full-page screenshot in e2e/screenshots/equipe-*.png.
//
// The référent and the structure are created before the server starts, with
// `relais admin …` on the same --dossier-donnees; the server runs with --url-publique set to its own
// address, so that the links of its e-mails lead to it.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { createAccount, createStructure, startServer } from './lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { codeAtStep, currentStep, msLeftInStep } from './lib/totp.mjs';
import { linkIn, mailFiles, readMails, waitForMail } from './lib/courriels.mjs';
import {
  checkNotice, checkPage, errorAlert, escape, fullName, goto, journey, members, openSession, pathOf, pressAndLoad, sleep, tabTo,
  typeInto,
} from './lib/page.mjs';
import { enrol, headerAccountText, loginWithPassword, submitCode } from './lib/login.mjs';

// E-mails must land in <data dir>/courriels, whatever the environment of the test run says.
delete process.env.RELAIS_URL_SMTP;

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
  newPassword: 'un-tout-nouveau-mot-de-passe-8',
  role: 'referent',
};
// Invited by the référent: no account before the invitation.
const INVITEE = {
  email: 'lea.rousseau@exemple.fr',
  givenName: 'Léa',
  familyName: 'Rousseau-Énard',
  password: 'la-phrase-de-passe-de-lea-5',
};

let server;
let browser;

before(async () => {
  server = await startServer({
    logName: 'server-equipe.log',
    selfPublicUrl: true,
    async seed(relais) {
      await createAccount(relais, REFERENT);
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

// Focuses a closed <select> with Tab and changes its value with the arrow keys.
async function choose(page, selector, value) {
  await tabTo(page, selector);
  const options = await page.locator(selector).evaluate((el) => [...el.options].map((o) => o.value));
  assert.ok(options.includes(value), `${selector} offers ${value} (it offers ${options.join(', ')})`);
  await page.keyboard.press('Home');
  for (let i = 0; i < options.length && (await page.inputValue(selector)) !== value; i++) {
    await page.keyboard.press('ArrowDown');
  }
  assert.equal(await page.inputValue(selector), value, `the arrow keys choose ${value} in ${selector}`);
}

// ---------------------------------------------------------------------------------------

describe('a référent manages the team, an invited person joins, keyboard only', () => {
  const step = journey();
  let referent; // the référent's tab
  let invitee; // the invited person's tab (another browser context: not logged in)
  let referentTotp;
  let teamPath;
  let invitationLink;
  let inviteeId;

  before(async () => { referent = await openSession(browser, server, { screenshots: 'equipe' }); });
  after(async () => {
    await referent?.context.close();
    await invitee?.context.close();
  });

  step('the référent logs in, enrols the second factor and opens the team page from /compte', async () => {
    const { page } = referent;
    await loginWithPassword(referent, REFERENT, { screenshot: 'connexion' });
    referentTotp = await enrol(referent, { screenshots: 'referent' });
    await checkPage(referent, 'referent-compte', { title: 'Mon compte' });

    await tabTo(page, 'main a[href^="/structures/"]', { text: new RegExp(escape(STRUCTURE.nom)) });
    await pressAndLoad(page);
    assert.match(pathOf(page), /^\/structures\/\d+\/equipe$/);
    teamPath = pathOf(page);
    await checkPage(referent, 'equipe', { title: `Équipe — ${STRUCTURE.nom}` });
    assert.equal((await page.locator('h1').innerText()).trim(), `Équipe de ${STRUCTURE.nom}`);

    const table = page.locator('main table');
    assert.equal(await table.count(), 1, 'one table');
    assert.match(await table.locator('caption').innerText(), /Membres/);
    assert.deepEqual(
      (await table.locator('thead th').allInnerTexts()).map((t) => t.trim()),
      ['Nom', 'Adresse électronique', 'Rôles', 'État', 'Actions'],
    );
    const rows = await members(page);
    assert.equal(rows.length, 1, 'the référent alone in the team');
    assert.deepEqual(
      { name: rows[0].name, email: rows[0].email, roles: rows[0].roles, state: rows[0].state },
      { name: fullName(REFERENT), email: REFERENT.email, roles: ['Référent de structure'], state: 'Actif' },
    );
    // Per member: a select of the roles still to grant, with its label.
    const me = rows[0].id;
    assert.ok(Number.isInteger(me), 'the forms name the person');
    // Alone, the référent cannot give up the role nor leave: not offered, and said why.
    assert.equal(await page.locator(`form[action$="/equipe/${me}/roles"] button`, { hasText: /^Retirer le rôle/ }).count(), 0);
    assert.match(await page.locator('main table tbody tr').first().innerText(), /seul référent : nommez-en un autre/);
    assert.deepEqual(await page.locator(`#role-${me} option`).evaluateAll((os) => os.map((o) => o.value)), ['mediateur', 'prescripteur']);
    assert.match(await page.locator(`label[for="role-${me}"]`).textContent(), new RegExp(`Rôle à ajouter à ${escape(fullName(REFERENT))}`));
    assert.equal(await page.locator(`form[action$="/equipe/${me}/depart"]`).count(), 0);
    assert.match(await page.locator('main').innerText(), /Aucune invitation en attente/);

    // The invitation form: labelled fields.
    for (const [id, label] of [['invitation-prenom', 'Prénom'], ['invitation-nom', 'Nom'], ['invitation-email', 'Adresse électronique'], ['invitation-role', 'Rôle']]) {
      const text = (await page.locator(`label[for="${id}"]`).innerText()).trim();
      assert.ok(text.startsWith(label), `#${id} is labelled “${label}” (“${text}”)`);
    }
    assert.deepEqual(await page.locator('#invitation-role option').evaluateAll((os) => os.map((o) => o.value)),
      ['mediateur', 'prescripteur', 'referent'], 'the roles an invitation may carry (not aidant)');
  });

  step('an invalid address is refused, the typed values kept', async () => {
    const { page } = referent;
    // Valid for the browser (type="email"), not for Relais: no dot in the domain.
    const bad = 'lea.rousseau@exemple';
    await typeInto(page, '#invitation-prenom', INVITEE.givenName);
    await typeInto(page, '#invitation-nom', INVITEE.familyName);
    await typeInto(page, '#invitation-email', bad);
    await choose(page, '#invitation-role', 'prescripteur');
    await tabTo(page, 'main button[type="submit"]', { text: /^Envoyer l’invitation$/, max: 3 });
    await pressAndLoad(page);
    assert.equal(pathOf(page), `${teamPath}/invitations`);
    assert.notEqual(pathOf(page), '/connexion/confirmation', 'no confirmation right after login');
    await checkPage(referent, 'invitation-erreur', { status: 422, title: `Erreur : Équipe — ${STRUCTURE.nom}` });
    assert.match(await errorAlert(page), new RegExp(`adresse électronique « ${escape(bad)} » n.est pas valide`, 'i'));
    assert.equal(await page.locator('#invitation-email').getAttribute('aria-describedby'), 'invitation-erreur', 'the error is tied to its field');
    assert.equal(await page.locator('#invitation-email').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.inputValue('#invitation-prenom'), INVITEE.givenName, 'the first name is kept');
    assert.equal(await page.inputValue('#invitation-nom'), INVITEE.familyName, 'the name is kept');
    assert.equal(await page.inputValue('#invitation-email'), bad, 'the address is kept');
    assert.equal(await page.inputValue('#invitation-role'), 'prescripteur', 'the role is kept');
    assert.match(await page.locator('main').innerText(), /Aucune invitation en attente/);
    assert.deepEqual(readMails(server.dataDir).filter((m) => /Invitation/.test(m.subject)), [], 'no e-mail sent');
  });

  step('a valid invitation is sent: success message, listed as pending', async () => {
    const { page } = referent;
    await typeInto(page, '#invitation-email', INVITEE.email);
    await choose(page, '#invitation-role', 'mediateur');
    await tabTo(page, 'main button[type="submit"]', { text: /^Envoyer l’invitation$/, max: 3 });
    await pressAndLoad(page);
    assert.equal(pathOf(page), `${teamPath}?fait=invitation`, 'no confirmation page right after login');
    await checkPage(referent, 'invitation-envoyee', { title: `Équipe — ${STRUCTURE.nom}` });
    await checkNotice(page, /L’invitation est envoyée : la personne a 7 jours pour l’accepter/);
    const pending = page.locator('main li', { hasText: INVITEE.email });
    assert.equal(await pending.count(), 1, 'the invitation is listed as pending');
    assert.match(await pending.innerText(), new RegExp(`${escape(fullName(INVITEE))} \\(${escape(INVITEE.email)}\\), médiateur numérique : valable jusqu’au`));
    assert.equal(await page.inputValue('#invitation-email'), '', 'the form is empty again');
  });

  step('the invitation e-mail arrives in courriels/ with the link', async () => {
    const mail = await waitForMail(server.dataDir, (m) => m.to.includes(INVITEE.email), { timeoutMs: 10000 });
    assert.equal(mail.subject, `Invitation à rejoindre ${STRUCTURE.nom} sur Relais`);
    assert.match(mail.body, new RegExp(`^Bonjour ${escape(INVITEE.givenName)},`));
    assert.match(mail.body, new RegExp(`${escape(fullName(REFERENT))} vous invite à rejoindre l’équipe de ${escape(STRUCTURE.nom)} sur Relais, avec le rôle de médiateur numérique`));
    const link = linkIn(mail, '/invitation/');
    assert.equal(link.origin, server.baseUrl, 'the link leads to the public URL of the server');
    assert.match(link.pathname, /^\/invitation\/[A-Za-z0-9_-]{43}$/, 'a 256-bit token, base64url');
    invitationLink = link.pathname;
  });

  step('the invited person opens the link (not logged in): "Rejoindre …", different passwords refused', async () => {
    invitee = await openSession(browser, server, { screenshots: 'equipe' });
    const { page } = invitee;
    await goto(invitee, invitationLink);
    await checkPage(invitee, 'invitation', { title: `Invitation — ${STRUCTURE.nom}` });
    assert.equal((await page.locator('h1').innerText()).trim(), `Rejoindre ${STRUCTURE.nom}`);
    const main = await page.locator('main').innerText();
    assert.match(main, new RegExp(`Bonjour ${escape(INVITEE.givenName)}`));
    assert.match(main, /avec le rôle de médiateur numérique/);
    assert.match(main, new RegExp(escape(INVITEE.email)));
    assert.equal(await headerAccountText(page), null, 'not logged in');

    await typeInto(page, '#password', INVITEE.password);
    await typeInto(page, '#confirmation', `${INVITEE.password}x`);
    await tabTo(page, 'main button[type="submit"]', { text: /^Créer mon compte$/, max: 3 });
    await pressAndLoad(page);
    assert.equal(pathOf(page), invitationLink);
    await checkPage(invitee, 'invitation-erreur', { status: 422, title: `Erreur : Invitation — ${STRUCTURE.nom}` });
    assert.match(await errorAlert(page), /Les deux mots de passe ne sont pas identiques/);
    assert.equal(await page.locator('#password').getAttribute('aria-describedby'), 'mot-de-passe-erreur', 'the error is tied to its field');
  });

  step('same password twice: account created, second factor enrolled, /compte lists the structure as Médiateur', async () => {
    const { page } = invitee;
    await typeInto(page, '#password', INVITEE.password);
    await typeInto(page, '#confirmation', INVITEE.password);
    await pressAndLoad(page);
    await enrol(invitee, { screenshots: 'invite' });
    await checkPage(invitee, 'invite-compte', { title: 'Mon compte' });
    const row = page.locator('main table tbody tr', { hasText: STRUCTURE.nom });
    assert.equal(await row.count(), 1, 'the structure is listed');
    assert.match(await row.innerText(), /Médiateur numérique/);
    assert.match(await headerAccountText(page) || '', new RegExp(`^${escape(fullName(INVITEE))}`), 'the header names the person');
  });

  step('the link, once used, says the invitation was accepted', async () => {
    await goto(invitee, invitationLink);
    await checkPage(invitee, 'invitation-acceptee', { status: 410, title: 'Invitation impossible à utiliser' });
    assert.match(await invitee.page.locator('main').innerText(), /Cette invitation a déjà été acceptée/);
  });

  step('the référent sees the new member, no pending invitation any more', async () => {
    const { page } = referent;
    await goto(referent, teamPath);
    await checkPage(referent, 'equipe-nouveau-membre', { title: `Équipe — ${STRUCTURE.nom}` });
    const row = (await members(page)).find((m) => m.email === INVITEE.email);
    assert.ok(row, 'the new member is listed');
    assert.deepEqual({ name: row.name, roles: row.roles, state: row.state },
      { name: fullName(INVITEE), roles: ['Médiateur numérique'], state: 'Actif' });
    inviteeId = row.id;
    assert.match(await page.locator('main').innerText(), /Aucune invitation en attente/);
  });

  step('"Ajouter le rôle": Prescripteur granted, with the success message', async () => {
    const { page } = referent;
    await choose(page, `#role-${inviteeId}`, 'prescripteur');
    await tabTo(page, `form[action$="/equipe/${inviteeId}/roles"] button[type="submit"]`, { text: /^Ajouter le rôle/, max: 3 });
    assert.match(await page.evaluate(() => document.activeElement.textContent), new RegExp(`Ajouter le rôle à ${escape(fullName(INVITEE))}`));
    await pressAndLoad(page);
    assert.equal(pathOf(page), `${teamPath}?fait=role`, 'no confirmation page: the second factor is fresh');
    await checkPage(referent, 'role-ajoute', { title: `Équipe — ${STRUCTURE.nom}` });
    await checkNotice(page, /Les rôles sont mis à jour/);
    const row = (await members(page)).find((m) => m.id === inviteeId);
    assert.deepEqual(row.roles.sort(), ['Médiateur numérique', 'Prescripteur']);
  });

  step('"Retirer" a role: Médiateur numérique removed, with the success message', async () => {
    const { page } = referent;
    await tabTo(page, `form[action$="/equipe/${inviteeId}/roles"] button[type="submit"]`,
      { text: new RegExp(`^Retirer le rôle Médiateur numérique de ${escape(fullName(INVITEE))}$`) });
    await pressAndLoad(page);
    assert.equal(pathOf(page), `${teamPath}?fait=role`);
    await checkPage(referent, 'role-retire', { title: `Équipe — ${STRUCTURE.nom}` });
    await checkNotice(page, /Les rôles sont mis à jour/);
    const row = (await members(page)).find((m) => m.id === inviteeId);
    assert.deepEqual({ roles: row.roles, state: row.state }, { roles: ['Prescripteur'], state: 'Actif' });
  });

  step('"Retirer de l’équipe": the person has left, with the success message', async () => {
    const { page } = referent;
    await tabTo(page, `form[action$="/equipe/${inviteeId}/depart"] button[type="submit"]`,
      { text: new RegExp(`^Retirer de l’équipe : ${escape(fullName(INVITEE))}$`) });
    await pressAndLoad(page);
    assert.equal(pathOf(page), `${teamPath}?fait=depart`);
    await checkPage(referent, 'depart', { title: `Équipe — ${STRUCTURE.nom}` });
    await checkNotice(page, /ne fait plus partie de l’équipe ; son historique est conservé/);
    const row = (await members(page)).find((m) => m.email === INVITEE.email);
    assert.ok(row, 'still listed (the history is kept)');
    assert.deepEqual({ roles: row.roles, state: row.state }, { roles: [], state: 'Parti' }, 'listed as gone, without a role');
    assert.equal(await page.locator(`form[action*="/equipe/${inviteeId}/"]`).count(), 0, 'no action on them any more');
    const me = (await members(page)).find((m) => m.email === REFERENT.email);
    assert.deepEqual({ roles: me.roles, state: me.state }, { roles: ['Référent de structure'], state: 'Actif' }, 'the référent is unchanged');
  });

  step('the last référent is not offered to remove their own role nor to leave, and is told why', async () => {
    const { page } = referent;
    const me = (await members(page)).find((m) => m.email === REFERENT.email);
    assert.deepEqual(me.roles, ['Référent de structure']);
    assert.equal(await page.locator(`form[action$="/equipe/${me.id}/roles"] input[name="action"][value="retirer"]`).count(), 0, 'no "Retirer" on the role');
    assert.equal(await page.locator(`form[action$="/equipe/${me.id}/depart"]`).count(), 0, 'no "Retirer de l’équipe"');
    assert.match(await page.locator('main table tbody tr', { hasText: REFERENT.email }).innerText(), /seul référent : nommez-en un autre/);
  });

  step('the step-up page "Confirmez votre identité" renders (opened directly while logged in)', async () => {
    const { page } = referent;
    await goto(referent, `/connexion/confirmation?suite=${encodeURIComponent(teamPath)}`);
    assert.equal(new URL(page.url()).pathname, '/connexion/confirmation');
    await checkPage(referent, 'confirmation', { title: 'Confirmez votre identité' });
    assert.equal((await page.locator('h1').innerText()).trim(), 'Confirmez votre identité');
    assert.equal(await page.locator('main form[action="/connexion/confirmation"] input[name="suite"]').inputValue(), teamPath,
      'back to the team page afterwards');
    assert.equal(await page.locator('main label[for="code"]').count(), 1, 'the code field has a label');
  });

  // ---- Password reset, from a browser that is not logged in.

  describe('password forgotten, keyboard only', () => {
    let s;
    let resetLink;
    let notice;

    before(async () => { s = await openSession(browser, server, { screenshots: 'equipe' }); });
    after(async () => { await s?.context.close(); });

    step('/connexion → "Mot de passe oublié ou compte verrouillé ?" → an unknown address gets the usual message', async () => {
      const { page } = s;
      await goto(s, '/connexion');
      s.problems.splice(0);
      await tabTo(page, 'main a[href="/connexion/mot-de-passe-oublie"]', { text: /^Mot de passe oublié ou compte verrouillé ?/ });
      await pressAndLoad(page);
      assert.equal(pathOf(page), '/connexion/mot-de-passe-oublie');
      await checkPage(s, 'mot-de-passe-oublie', { title: 'Mot de passe oublié' });
      await typeInto(page, '#email', 'personne.inconnue@exemple.fr');
      await pressAndLoad(page);
      await checkPage(s, 'mot-de-passe-oublie-inconnu', { title: 'Mot de passe oublié' });
      const alert = page.locator('main .fr-alert--success');
      assert.equal(await alert.getAttribute('role'), 'status');
      notice = (await alert.innerText()).trim();
      assert.match(notice, /Si cette adresse a un compte Relais, un courriel vient de lui être envoyé/);
    });

    step('the référent’s address: the very same message, and the e-mail arrives', async () => {
      const { page } = s;
      const before = mailFiles(server.dataDir);
      await goto(s, '/connexion/mot-de-passe-oublie');
      s.problems.splice(0);
      await typeInto(page, '#email', REFERENT.email);
      await tabTo(page, 'main button[type="submit"]', { text: /^Recevoir un lien$/, max: 3 });
      await pressAndLoad(page);
      await checkPage(s, 'mot-de-passe-oublie-envoye', { title: 'Mot de passe oublié' });
      assert.equal((await page.locator('main .fr-alert--success').innerText()).trim(), notice, 'the same message as for an unknown address');

      const mail = await waitForMail(server.dataDir, (m) => m.to.includes(REFERENT.email), { after: before });
      assert.equal(mail.subject, 'Choisir un nouveau mot de passe Relais');
      assert.match(mail.body, new RegExp(`^Bonjour ${escape(REFERENT.givenName)},`));
      const link = linkIn(mail, '/connexion/nouveau-mot-de-passe');
      assert.equal(link.origin, server.baseUrl);
      assert.match(link.search, /^\?jeton=[A-Za-z0-9_-]{43}$/);
      resetLink = link.pathname + link.search;
      // Requested first, so handled first by the worker: nothing went to the unknown address.
      assert.deepEqual(readMails(server.dataDir).filter((m) => m.to.includes('personne.inconnue')), [], 'no e-mail to an unknown address');
    });

    step('the link leads to "Nouveau mot de passe"; the new password is saved', async () => {
      const { page } = s;
      await goto(s, resetLink);
      await checkPage(s, 'nouveau-mot-de-passe', { title: 'Nouveau mot de passe' });
      await typeInto(page, '#password', REFERENT.newPassword);
      await typeInto(page, '#confirmation', REFERENT.newPassword);
      await tabTo(page, 'main button[type="submit"]', { text: /^Enregistrer le mot de passe$/, max: 3 });
      await pressAndLoad(page);
      assert.equal(pathOf(page), '/connexion/nouveau-mot-de-passe');
      await checkPage(s, 'nouveau-mot-de-passe-enregistre', { title: 'Nouveau mot de passe' });
      assert.match(await page.locator('main .fr-alert--success').innerText(), /Votre mot de passe est changé/);
    });

    step('the same link again: "plus valable"', async () => {
      const { page } = s;
      await goto(s, resetLink);
      await checkPage(s, 'nouveau-mot-de-passe-lien-use', { status: 410, title: 'Erreur : Nouveau mot de passe' });
      assert.match(await errorAlert(page), /Ce lien n’est plus valable/);
      assert.equal(await page.locator('main #password').count(), 0, 'no password form');
    });

    step('login: the old password is refused, the new one leads to the second factor, then /compte', async () => {
      const { page } = s;
      await loginWithPassword(s, REFERENT);
      assert.equal(pathOf(page), '/connexion');
      assert.match(await errorAlert(page), /Adresse électronique ou mot de passe incorrect/);
      s.problems.splice(0);

      await typeInto(page, '#email', REFERENT.email);
      await typeInto(page, '#password', REFERENT.newPassword);
      await pressAndLoad(page);
      assert.equal(pathOf(page), '/connexion/second-facteur?suite=/compte');
      await checkPage(s, 'second-facteur', { title: 'Code de vérification' });
      // A code not used yet: the one of a later step than the enrolment's.
      while (currentStep() <= referentTotp.step || msLeftInStep() < 3000) await sleep(Math.min(msLeftInStep() + 200, 5000));
      await submitCode(page, codeAtStep(referentTotp.secret, currentStep()));
      assert.equal(pathOf(page), '/compte');
      assert.match(await headerAccountText(page) || '', new RegExp(`^${escape(fullName(REFERENT))}`));
    });

    step('the password reset closed the référent’s other sessions', async () => {
      await goto(referent, teamPath);
      assert.equal(pathOf(referent.page), `/connexion?suite=${teamPath}`);
      referent.problems.splice(0);
    });
  });
});

describe('an unknown invitation link', () => {
  let s;
  before(async () => { s = await openSession(browser, server, { screenshots: 'equipe' }); });
  after(async () => { await s?.context.close(); });

  test('/invitation/inconnu: a clear error page', async () => {
    const { page } = s;
    await goto(s, '/invitation/inconnu');
    await checkPage(s, 'invitation-inconnue', { status: 404, title: 'Invitation impossible à utiliser' });
    assert.equal((await page.locator('h1').innerText()).trim(), 'Invitation impossible à utiliser');
    assert.match(await page.locator('main').innerText(), /Ce lien d’invitation n’est pas valide : vérifiez qu’il est complet, ou demandez une nouvelle invitation à votre référent/);
    assert.equal(await page.locator('main form').count(), 0, 'no form');
  });
});
