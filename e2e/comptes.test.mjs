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
// `relais admin …` on the same --data-dir.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { E2E_DIR, startServer } from './lib/server.mjs';
import { cspViolations, formatViolations, launchBrowser, newWatchedPage, runAxe } from './lib/browser.mjs';
import { base32Decode, codeAtStep, currentStep, msLeftInStep, stepOf, wrongCode } from './lib/totp.mjs';

const SCREENSHOTS = join(E2E_DIR, 'screenshots');

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

const fullName = (p) => `${p.givenName} ${p.familyName}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let server;
let browser;

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  server = await startServer({
    logName: 'server-comptes.log',
    async seed(relais) {
      for (const p of [REFERENT, MEDIATEUR, ADMIN]) {
        await relais([
          'admin', 'create-account',
          '--email', p.email, '--given-name', p.givenName, '--family-name', p.familyName,
          ...(p.admin ? ['--admin'] : []),
        ], { RELAIS_NEW_PASSWORD: p.password });
      }
      await relais([
        'admin', 'create-structure',
        '--siret', STRUCTURE.siret, '--nom', STRUCTURE.nom, '--kind', STRUCTURE.kind,
        '--adresse', STRUCTURE.adresse, '--commune', STRUCTURE.commune,
      ]);
      for (const p of [REFERENT, MEDIATEUR]) {
        await relais(['admin', 'grant-role', '--email', p.email, '--siret', STRUCTURE.siret, '--role', p.role]);
      }
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// ---------------------------------------------------------------------------------------
// A browser tab that follows one person through several pages.

async function openSession() {
  const watched = await newWatchedPage(browser);
  const { page } = watched;
  const session = { ...watched, lastDocument: null };
  page.on('response', (res) => {
    if (res.request().isNavigationRequest() && res.frame() === page.mainFrame()) session.lastDocument = res;
  });
  return session;
}

async function settle(page) {
  await page.waitForLoadState('networkidle');
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
}

// Navigates by typing an address (the only way to reach pages no link leads to).
async function goto(s, path) {
  await s.page.goto(server.url(path), { waitUntil: 'networkidle' });
  await settle(s.page);
}

async function describeFocus(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return '(body)';
    const text = (el.textContent || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 40);
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}[${el.getAttribute('href') || el.getAttribute('name') || el.getAttribute('type') || ''}] “${text}”`;
  });
}

// Presses Tab until the focused element matches `selector` (and, if given, its text matches
// `text`); fails with the list of elements the focus went through.
async function tabTo(page, selector, { text = null, max = 80 } = {}) {
  const seen = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const hit = await page.evaluate(({ selector, text }) => {
      const el = document.activeElement;
      if (!el || !el.matches(selector)) return false;
      return text === null || new RegExp(text).test(el.textContent.trim().replace(/\s+/g, ' '));
    }, { selector, text: text && text.source });
    if (hit) return;
    seen.push(await describeFocus(page));
  }
  assert.fail(`Tab never reached ${selector}${text ? ' ' + text : ''} on ${page.url()}; the focus went through:\n${seen.join('\n')}`);
}

// Focuses a text field with Tab and replaces its content by typing.
async function fill(page, selector, value) {
  await tabTo(page, selector);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(value);
  assert.equal(await page.evaluate(() => document.activeElement.value), value, `typed into ${selector}`);
}

// Presses a key that leads to another document (a link, a form submission) and waits for it.
async function pressAndLoad(page, key = 'Enter') {
  const loaded = page.waitForEvent('load', { timeout: 15000 });
  await page.keyboard.press(key);
  await loaded;
  await settle(page);
}

function pathOf(page) {
  const u = new URL(page.url());
  return u.pathname + u.search;
}

// The checks every page passes; the screenshot comes first, to help when a check fails.
async function checkPage(s, name, { status = 200, title }) {
  const { page } = s;
  await page.screenshot({ path: join(SCREENSHOTS, `comptes-${name}.png`), fullPage: true });

  assert.ok(s.lastDocument, `${name}: no document loaded`);
  assert.equal(s.lastDocument.status(), status, `${name}: status of ${page.url()}`);
  const html = await s.lastDocument.text();
  assert.doesNotMatch(html, /<style[\s>]/i, `${name}: no <style> element`);
  assert.doesNotMatch(html, /\sstyle\s*=/i, `${name}: no style attribute`);
  for (const tag of html.match(/<script\b[^>]*>/gi) || []) {
    assert.match(tag, /\snonce="[^"]+"/, `${name}: script without nonce: ${tag}`);
    assert.match(tag, /\ssrc="[^"]+"/, `${name}: inline script: ${tag}`);
  }

  assert.equal(await page.getAttribute('html', 'lang'), 'fr', `${name}: lang`);
  assert.equal(await page.title(), `${title} — Relais`, `${name}: title`);
  assert.equal(await page.locator('h1').count(), 1, `${name}: exactly one h1`);
  assert.equal(await page.locator('main#contenu').count(), 1, `${name}: main#contenu`);
  assert.equal(await page.getAttribute('html', 'data-fr-js'), 'true', `${name}: the DSFR JavaScript ran`);

  const violations = await runAxe(page);
  assert.equal(violations.length, 0, `${name}: axe-core violations on ${page.url()}:\n${formatViolations(violations)}`);

  const csp = await cspViolations(page);
  assert.deepEqual(csp, [], `${name}: CSP violations on ${page.url()}:\n${csp.join('\n')}`);
  const problems = s.problems.splice(0);
  assert.deepEqual(problems, [], `${name}: problems on ${page.url()}:\n${problems.join('\n')}`);

  // Reflow (WCAG 1.4.10): at 320 CSS pixels wide, nothing makes the page scroll sideways
  // (a table may scroll inside its own container).
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: 320, height: 640 });
  try {
    await page.waitForTimeout(100);
    await page.screenshot({ path: join(SCREENSHOTS, `comptes-${name}-320px.png`), fullPage: true });
    const overflow = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const wide = [...document.querySelectorAll('body *')]
        .filter((el) => {
          const r = el.getBoundingClientRect();
          return r.width > 0 && r.right > width + 1 && !el.closest('.fr-table table');
        })
        .map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${[...el.classList].join('.')} (right ${Math.round(el.getBoundingClientRect().right)})`);
      return { scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 10) };
    });
    assert.ok(overflow.scrollWidth <= overflow.width,
      `${name}: the page scrolls sideways at 320 px (${overflow.scrollWidth} > ${overflow.width}):\n${overflow.wide.join('\n')}`);
    const narrow = await runAxe(page);
    assert.equal(narrow.length, 0, `${name}: axe-core violations at 320 px on ${page.url()}:\n${formatViolations(narrow)}`);
  } finally {
    await page.setViewportSize(viewport);
  }
}

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

async function headerAccountText(page) {
  const link = page.locator('header .fr-header__tools-links a[href="/compte"]');
  if ((await link.count()) === 0) return null;
  return (await link.first().innerText()).trim();
}

async function headerHasLoginLink(page) {
  const link = page.locator('header .fr-header__tools-links a[href="/connexion"]');
  return (await link.count()) === 1 && (await link.innerText()).trim() === 'Se connecter';
}

// From the home page: "Se connecter" in the header, then the password form.
async function loginWithPassword(s, person, { screenshot = null } = {}) {
  const { page } = s;
  await goto(s, '/');
  assert.ok(await headerHasLoginLink(page), 'the header of / shows "Se connecter"');
  await tabTo(page, 'header a[href="/connexion"]', { text: /^Se connecter$/ });
  await pressAndLoad(page);
  assert.equal(pathOf(page), '/connexion');
  if (screenshot) await checkPage(s, screenshot, { title: 'Se connecter' });
  else s.problems.splice(0);
  await fill(page, '#email', person.email);
  await fill(page, '#password', person.password);
  await pressAndLoad(page);
}

// Enrolment page: reads the key shown to the person.
async function readKey(page) {
  const shown = (await page.locator('#cle').innerText()).trim();
  assert.match(shown, /^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/, 'the key is base32, in groups of 4');
  const secret = base32Decode(shown);
  assert.ok(secret.length >= 16, `the secret has at least 128 bits (${secret.length * 8})`);
  return { shown, secret };
}

// Waits until at least `ms` are left in the current time step, so that a code computed now
// is still the code of the current step when the server checks it (and stays usable as
// "the last code used" for the next `ms` milliseconds).
async function waitForStepMargin(ms) {
  const left = msLeftInStep();
  if (left < ms) await sleep(left + 200);
}

async function submitCode(page, code) {
  await fill(page, '#code', code);
  await pressAndLoad(page);
}

// The steps of one person's journey depend on each other: after a failed step, the
// following ones are skipped rather than failing for the same reason.
function journey() {
  let failed = null;
  const step = (name, options, fn) => {
    if (typeof options === 'function') { fn = options; options = {}; }
    test(name, options, async (t) => {
      if (failed && !options.todo) {
        t.skip(`an earlier step failed: ${failed}`);
        return;
      }
      try {
        await fn(t);
      } catch (e) {
        if (!options.todo) failed = name;
        throw e;
      }
    });
  };
  step.failed = () => failed;
  return step;
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

  before(async () => { s = await openSession(); });
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
    await fill(page, '#email', REFERENT.email);
    await fill(page, '#password', REFERENT.password);
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

    secret = (await readKey(page)).secret;
  });

  step('a wrong code is refused, its error linked to the field; the key stays the same', async () => {
    const { page } = s;
    await submitCode(page, wrongCode(secret, currentStep()));
    assert.equal(pathOf(page), '/connexion/activation');
    await checkPage(s, 'activation-erreur', { title: 'Erreur : Activer la double authentification' });
    await checkCodeError(s, 'activation-erreur', /n.est pas valide/);
    const again = await readKey(page);
    assert.deepEqual([...again.secret], [...secret], 'the same key after an error (the person may have scanned it already)');
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
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.cells].map((td) => td.textContent.trim())));
    const byName = Object.fromEntries(rows.map((r) => [r[0], r]));
    // Name, address, state; the roles cell also holds the forms that change them.
    const summary = (r) => [r[0], r[1], r[2].split('\n')[0], r[3]];
    assert.deepEqual(summary(byName[fullName(REFERENT)]), [fullName(REFERENT), REFERENT.email, 'Référent de structure', 'Actif']);
    assert.deepEqual(summary(byName[fullName(MEDIATEUR)]), [fullName(MEDIATEUR), MEDIATEUR.email, 'Médiateur numérique', 'Actif']);
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

  before(async () => { s = await openSession(); });
  after(async () => { await s?.context.close(); });

  step('enrolment, recovery codes, account page', async () => {
    const { page } = s;
    await loginWithPassword(s, ADMIN);
    assert.equal(pathOf(page), '/connexion/activation?suite=/compte');
    s.problems.splice(0);
    const { secret } = await readKey(page);
    await waitForStepMargin(5000);
    await submitCode(page, codeAtStep(secret, currentStep()));
    assert.equal(await page.locator('#codes-secours li').count(), 10);
    s.problems.splice(0);
    await tabTo(page, 'main a[href="/compte"]', { text: /continuer/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), '/compte');
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
