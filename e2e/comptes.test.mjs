// Professional accounts in a real browser (Debian's Chromium): login with password, second
// factor enrolment (TOTP computed here, in Node), recovery codes, account and team pages,
// logout, second login with the second factor, the journal of administrators and its
// 403 page for everybody else. Keyboard only: Tab to focus, type, Enter; no mouse click.
//
// Every page reached passes axe-core (WCAG 2.1 A/AA) with zero violations, has no CSP
// violation, no console error, no failed sub-request, and gets a full-page screenshot in
// e2e/screenshots/comptes-*.png.
//
// The accounts, the structure and the roles are created before the server starts, with
// `relais admin …` on the same --dossier-donnees.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { createAccount, createStructure, startServer } from './lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { base32Decode, codeAtStep, currentStep, stepOf, wrongCode } from './lib/totp.mjs';
import { checkPage, fullName, goto, journey, members, openSession, pathOf, pressAndLoad, tabTo, typeInto } from './lib/page.mjs';
import { enrol, headerAccountText, headerHasLoginLink, loginWithPassword, readKey, submitCode, waitForStepMargin } from './lib/login.mjs';

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
const MEDIATEUR = {
  email: 'sacha.petit@exemple.fr',
  givenName: 'Sacha',
  familyName: 'Petit',
  password: 'une-autre-phrase-de-passe-7',
  role: 'mediateur',
};
const ADMIN = {
  email: 'dominique.lefevre@exemple.fr',
  givenName: 'Dominique',
  familyName: 'Lefèvre',
  password: 'phrase-de-passe-administrateur-9',
  admin: true,
};

let server;
let browser;

before(async () => {
  server = await startServer({
    logName: 'server-comptes.log',
    async seed(relais) {
      for (const p of [REFERENT, MEDIATEUR, ADMIN]) await createAccount(relais, p);
      await createStructure(relais, STRUCTURE);
      for (const p of [REFERENT, MEDIATEUR]) {
        await relais(['admin', 'attribuer-role', '--courriel', p.email, '--siret', STRUCTURE.siret, '--role', p.role]);
      }
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// The field #code is in error: DSFR error classes, message linked by aria-describedby, and
// exposed as the accessible description of the field.
async function checkCodeError(s, name, message) {
  const { page } = s;
  const field = await page.evaluate(() => {
    const input = document.querySelector('#code');
    const ids = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    return {
      describedBy: ids,
      descriptions: ids.map((id) => document.getElementById(id)?.textContent.trim() ?? null),
      inputError: input.classList.contains('fr-input--error'),
      groupError: input.closest('.fr-input-group')?.classList.contains('fr-input-group--error') ?? false,
      value: input.value,
    };
  });
  assert.ok(field.describedBy.includes('code-erreur'), `${name}: #code is described by #code-erreur (${field.describedBy})`);
  assert.ok(field.descriptions.every((d) => d !== null), `${name}: aria-describedby points to existing ids`);
  assert.match(field.descriptions.join(' '), message, `${name}: error message`);
  assert.ok(field.inputError && field.groupError, `${name}: DSFR error classes`);

  // What assistive technologies get: the accessible description of the field.
  const cdp = await page.context().newCDPSession(page);
  try {
    const { nodes } = await cdp.send('Accessibility.getFullAXTree');
    const textbox = nodes.find((n) => n.role?.value === 'textbox' && /code/i.test(n.name?.value || ''));
    assert.ok(textbox, `${name}: the code field is in the accessibility tree`);
    assert.match(textbox.description?.value || '', message, `${name}: accessible description of the code field`);
  } finally {
    await cdp.detach();
  }
}

// ---------------------------------------------------------------------------------------

describe('TOTP computed by the tests', () => {
  test('RFC 6238 appendix B vectors (SHA1, truncated to 6 digits)', () => {
    const secret = Buffer.from('12345678901234567890');
    for (const [t, expected] of [
      [59, '287082'], [1111111109, '081804'], [1111111111, '050471'],
      [1234567890, '005924'], [2000000000, '279037'], [20000000000, '353130'],
    ]) {
      assert.equal(codeAtStep(secret, stepOf(t)), expected, `t = ${t}`);
    }
    assert.deepEqual([...base32Decode('GEZD GNBV GY3T QOJQ')], [...Buffer.from('1234567890')]);
  });
});

const referentJourney = journey();

describe('a référent de structure, keyboard only', () => {
  const step = referentJourney;
  let s;
  let secret;
  let enrolmentStep;
  let recoveryCodes;
  let headerOnCodesPage;

  before(async () => { s = await openSession(browser, server, { screenshots: 'comptes' }); });
  after(async () => { await s?.context.close(); });

  step('/ → "Se connecter" → /connexion; a wrong password gives the generic error and keeps the address', async () => {
    const { page } = s;
    await loginWithPassword(s, { ...REFERENT, password: 'pas-le-bon-mot-de-passe' }, { screenshot: 'connexion' });
    assert.equal(pathOf(page), '/connexion');
    await checkPage(s, 'connexion-erreur', { title: 'Erreur : Se connecter' });
    const alert = page.locator('main .fr-alert--error');
    assert.equal(await alert.count(), 1, 'one error alert');
    assert.equal(await alert.getAttribute('role'), 'alert');
    assert.match(await alert.innerText(), /Adresse électronique ou mot de passe incorrect/);
    assert.equal(await page.inputValue('#email'), REFERENT.email, 'the address typed is kept');
    assert.equal(await page.inputValue('#password'), '', 'the password is not sent back');
    assert.equal(await headerAccountText(page), null, 'not logged in');
  });

  step('the right password leads to the enrolment of the second factor', async () => {
    const { page } = s;
    await typeInto(page, '#email', REFERENT.email);
    await typeInto(page, '#password', REFERENT.password);
    await pressAndLoad(page);
    assert.equal(pathOf(page), '/connexion/activation?suite=/compte');
    await checkPage(s, 'activation', { title: 'Activer la double authentification' });

    // The QR code: an inline SVG, visible, square, large enough to be scanned.
    const qr = page.locator('main svg[role="img"]');
    assert.equal(await qr.count(), 1, 'one QR code');
    assert.match(await qr.getAttribute('aria-label'), /QR code/);
    const box = await qr.boundingBox();
    assert.ok(box && box.width >= 160, `QR code wide enough: ${JSON.stringify(box)}`);
    assert.ok(Math.abs(box.width - box.height) < 1, `QR code square: ${JSON.stringify(box)}`);
    const viewBox = (await qr.getAttribute('viewBox')).split(/\s+/).map(Number);
    assert.equal(viewBox[2], viewBox[3], 'square viewBox');

    secret = await readKey(page);
  });

  step('a wrong code is refused, its error linked to the field; the key stays the same', async () => {
    const { page } = s;
    await submitCode(page, wrongCode(secret, currentStep()));
    assert.equal(pathOf(page), '/connexion/activation');
    await checkPage(s, 'activation-erreur', { title: 'Erreur : Activer la double authentification' });
    await checkCodeError(s, 'activation-erreur', /n.est pas valide/);
    const again = await readKey(page);
    assert.deepEqual([...again], [...secret], 'the same key after an error (the person may have scanned it already)');
  });

  step('the right code gives ten recovery codes, then the account page', async () => {
    const { page } = s;
    // The code of this step must still be "the last used" when the second login happens.
    await waitForStepMargin(20000);
    enrolmentStep = currentStep();
    await submitCode(page, codeAtStep(secret, enrolmentStep));
    await checkPage(s, 'codes-secours', { title: 'Vos codes de secours' });
    recoveryCodes = await page.locator('#codes-secours li').allInnerTexts();
    recoveryCodes = recoveryCodes.map((c) => c.trim());
    assert.equal(recoveryCodes.length, 10, 'ten recovery codes');
    for (const c of recoveryCodes) assert.match(c, /^[A-Z0-9]{5}-[A-Z0-9]{5}$/, `recovery code ${c}`);
    assert.equal(new Set(recoveryCodes).size, 10, 'all different');
    headerOnCodesPage = await headerAccountText(page);

    await tabTo(page, 'main a[href="/compte"]', { text: /continuer/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), '/compte');
  });

  step('/compte shows the person, the structure and the role; the header shows the name', async () => {
    const { page } = s;
    await checkPage(s, 'compte', { title: 'Mon compte' });
    const main = await page.locator('main').innerText();
    assert.match(main, new RegExp(fullName(REFERENT)));
    assert.match(main, new RegExp(REFERENT.email.replace(/\./g, '\\.')));
    const row = page.locator('main table tbody tr', { hasText: STRUCTURE.nom });
    assert.equal(await row.count(), 1, 'the structure is listed');
    assert.match(await row.innerText(), /Référent de structure/);
    assert.match(await headerAccountText(page) || '', new RegExp(`^${fullName(REFERENT)}`), 'the header names the person');
  });

  step('the structure link leads to the team page', async () => {
    const { page } = s;
    await tabTo(page, 'main a[href^="/structures/"]', { text: new RegExp(STRUCTURE.nom) });
    await pressAndLoad(page);
    assert.match(pathOf(page), /^\/structures\/\d+\/equipe$/);
    await checkPage(s, 'equipe', { title: `Équipe — ${STRUCTURE.nom}` });
    assert.match(await page.locator('h1').innerText(), new RegExp(STRUCTURE.nom));
    const table = page.locator('main table');
    assert.equal(await table.count(), 1, 'one table');
    assert.match(await table.locator('caption').innerText(), /Membres/);
    assert.deepEqual(
      (await table.locator('thead th').allInnerTexts()).map((t) => t.trim()),
      ['Nom', 'Adresse électronique', 'Rôles', 'État', 'Actions'],
    );
    const byName = Object.fromEntries((await members(page)).map((m) => [m.name, m]));
    // Name, address, roles (the role names only: the cell also holds the forms that change
    // them and, for the last référent, why the role cannot be removed), state.
    const summary = (m) => [m.name, m.email, m.roles, m.state];
    assert.deepEqual(summary(byName[fullName(REFERENT)]), [fullName(REFERENT), REFERENT.email, ['Référent de structure'], 'Actif']);
    assert.deepEqual(summary(byName[fullName(MEDIATEUR)]), [fullName(MEDIATEUR), MEDIATEUR.email, ['Médiateur numérique'], 'Actif']);
    assert.match(await headerAccountText(page) || '', new RegExp(`^${fullName(REFERENT)}`), 'the header names the person');

    // On a narrow screen the table scrolls inside its container: the keyboard reaches that
    // container (named by the caption), shows the focus on it, and scrolls it with the arrows.
    const viewport = page.viewportSize();
    await page.setViewportSize({ width: 320, height: 640 });
    try {
      await tabTo(page, 'main .fr-table__container[tabindex="0"]');
      const region = page.locator('main .fr-table__container');
      assert.equal(await region.getAttribute('role'), 'region');
      const box = await region.boundingBox();
      const clip = { x: Math.max(0, box.x - 8), y: Math.max(0, box.y - 8), width: Math.min(320, box.width + 16), height: box.height + 16 };
      const focused = await page.screenshot({ clip });
      await region.evaluate((el) => el.blur());
      const blurred = await page.screenshot({ clip });
      assert.ok(!focused.equals(blurred), 'the focus on the table container is visible');
      await region.evaluate((el) => el.focus());
      const before = await region.evaluate((el) => el.scrollLeft);
      await page.keyboard.press('ArrowRight');
      await page.waitForFunction((x) => document.querySelector('main .fr-table__container').scrollLeft > x, before, { timeout: 3000 });
    } finally {
      await page.setViewportSize(viewport);
    }
  });

  step('"Se déconnecter" leads back to / with "Se connecter" in the header', async () => {
    const { page } = s;
    await tabTo(page, 'header a[href="/compte"]');
    await pressAndLoad(page);
    assert.equal(pathOf(page), '/compte');
    s.problems.splice(0);
    await tabTo(page, 'main form[action="/deconnexion"] button[type="submit"]', { text: /^Se déconnecter$/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), '/');
    assert.ok(await headerHasLoginLink(page), 'the header shows "Se connecter"');
    assert.equal(await headerAccountText(page), null, 'the header no longer names the person');
    s.problems.splice(0);
    await goto(s, '/compte');
    assert.equal(pathOf(page), '/connexion?suite=/compte', '/compte now asks to log in');
  });

  step('second login: the code already used is refused, the code of the next step is accepted', async () => {
    const { page } = s;
    await loginWithPassword(s, REFERENT);
    assert.equal(pathOf(page), '/connexion/second-facteur?suite=/compte');
    await checkPage(s, 'second-facteur', { title: 'Code de vérification' });
    assert.notEqual(await page.getAttribute('#code', 'inputmode'), 'numeric',
      'the field also takes recovery codes, which have letters: no numeric keypad');

    const now = currentStep();
    assert.ok(now <= enrolmentStep + 1,
      `the test is too slow: the enrolment code (step ${enrolmentStep}) is no longer in the window of step ${now}`);
    await submitCode(page, codeAtStep(secret, enrolmentStep));
    assert.equal(pathOf(page), '/connexion/second-facteur');
    await checkPage(s, 'second-facteur-erreur', { title: 'Erreur : Code de vérification' });
    await checkCodeError(s, 'second-facteur-erreur', /déjà été utilisé/);

    await submitCode(page, codeAtStep(secret, enrolmentStep + 1));
    assert.equal(pathOf(page), '/compte');
    assert.match(await headerAccountText(page) || '', new RegExp(`^${fullName(REFERENT)}`));
    s.problems.splice(0);
  });

  step('/admin/journal answers 403 to a non-administrator', async () => {
    const { page } = s;
    await goto(s, '/admin/journal');
    assert.equal(pathOf(page), '/admin/journal');
    await checkPage(s, 'journal-403', { status: 403, title: 'Accès refusé' });
    assert.match(await page.locator('main').innerText(), /réservée aux administrateurs nationaux/);
  });

  step('the header names the logged-in person on every page', async () => {
    const { page } = s;
    const missing = [];
    if (headerOnCodesPage === null) missing.push('recovery codes page (/connexion/activation after the code)');
    for (const path of ['/', '/plan-du-site', '/admin/journal']) {
      await goto(s, path);
      if (!(await headerAccountText(page) || '').startsWith(fullName(REFERENT))) missing.push(path);
    }
    s.problems.splice(0);
    assert.deepEqual(missing, [], `pages whose header does not name the logged-in person:\n${missing.join('\n')}`);
  });

  step('a recovery code opens a session once, and only once', async () => {
    const { page } = s;
    await goto(s, '/compte');
    s.problems.splice(0);
    await tabTo(page, 'main form[action="/deconnexion"] button[type="submit"]', { text: /^Se déconnecter$/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), '/');

    await loginWithPassword(s, REFERENT);
    assert.equal(pathOf(page), '/connexion/second-facteur?suite=/compte');
    await submitCode(page, recoveryCodes[3].toLowerCase());
    assert.equal(pathOf(page), '/compte', 'a recovery code (typed in lower case) is accepted');
    s.problems.splice(0);

    await tabTo(page, 'main form[action="/deconnexion"] button[type="submit"]', { text: /^Se déconnecter$/ });
    await pressAndLoad(page);
    await loginWithPassword(s, REFERENT);
    await submitCode(page, recoveryCodes[3]);
    assert.equal(pathOf(page), '/connexion/second-facteur');
    await checkPage(s, 'second-facteur-secours-erreur', { title: 'Erreur : Code de vérification' });
    await checkCodeError(s, 'second-facteur-secours-erreur', /a déjà servi/);
  });
});

describe('an administrator, keyboard only', () => {
  const step = journey();
  let s;

  before(async () => { s = await openSession(browser, server, { screenshots: 'comptes' }); });
  after(async () => { await s?.context.close(); });

  step('enrolment, recovery codes, account page', async () => {
    const { page } = s;
    await loginWithPassword(s, ADMIN);
    await enrol(s);
    await checkPage(s, 'compte-admin', { title: 'Mon compte' });
    assert.match(await page.locator('main').innerText(), /Administrateur/);
    assert.match(await headerAccountText(page) || '', new RegExp(`^${fullName(ADMIN)}`));
  });

  step('/admin/journal lists the entries, newest first', async () => {
    const { page } = s;
    await goto(s, '/admin/journal');
    await checkPage(s, 'journal', { title: 'Journal des actions' });
    const rows = await page.locator('main table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent.trim())));
    assert.ok(rows.length > 0, 'entries are listed');
    const actions = rows.map((r) => r[2]);
    const expectedActions = ['Personne invitée', 'Structure créée', 'Rôle attribué', 'Connexion', 'Second facteur activé'];
    // What the référent did before, if their journey went well.
    if (!referentJourney.failed()) expectedActions.push('Connexion refusée', 'Second facteur refusé', 'Déconnexion');
    for (const expected of expectedActions) {
      assert.ok(actions.includes(expected), `the journal lists "${expected}" (it lists: ${[...new Set(actions)].join(', ')})`);
    }
    const seqs = rows.map((r) => Number(r[0]));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => b - a), 'newest first');
    assert.match(await headerAccountText(page) || '', new RegExp(`^${fullName(ADMIN)}`));
  });

  step('the action filter works with the keyboard', async () => {
    const { page } = s;
    await tabTo(page, 'main select#action');
    // A closed select changes its value with the arrow keys.
    for (let i = 0; i < 30 && (await page.inputValue('#action')) !== 'connexion'; i++) {
      await page.keyboard.press('ArrowDown');
    }
    assert.equal(await page.inputValue('#action'), 'connexion', 'the arrow keys choose "Connexion"');
    await tabTo(page, 'main button[type="submit"]', { text: /^Filtrer$/, max: 5 });
    await pressAndLoad(page);
    assert.equal(pathOf(page), '/admin/journal?action=connexion');
    await checkPage(s, 'journal-filtre', { title: 'Journal des actions' });
    assert.equal(await page.inputValue('#action'), 'connexion', 'the filter stays selected');
    const actions = await page.locator('main table tbody tr td:nth-child(3)').allInnerTexts();
    const logins = referentJourney.failed() ? 1 : 4;
    assert.ok(actions.length >= logins, `every login is listed (${actions.length})`);
    assert.deepEqual([...new Set(actions.map((a) => a.trim()))], ['Connexion'], 'only logins');
  });
});
