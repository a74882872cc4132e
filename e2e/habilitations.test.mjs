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

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { E2E_DIR, startServer } from './lib/server.mjs';
import { cspViolations, formatViolations, launchBrowser, newWatchedPage, runAxe } from './lib/browser.mjs';
import { base32Decode, codeAtStep, currentStep, msLeftInStep } from './lib/totp.mjs';

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

const fullName = (p) => `${p.givenName} ${p.familyName}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

let server;
let browser;

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  server = await startServer({
    logName: 'server-habilitations.log',
    async seed(relais) {
      for (const p of [REFERENT, ADMIN, CANDIDATE]) {
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
      await relais(['admin', 'grant-role', '--email', REFERENT.email, '--siret', STRUCTURE.siret, '--role', REFERENT.role]);
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

// ---------------------------------------------------------------------------------------
// A browser tab that follows one person through several pages (as in comptes.test.mjs).

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

// Navigates by typing an address (to come back to a page another person changed).
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
async function tabTo(page, selector, { text = null, max = 120 } = {}) {
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
  await page.screenshot({ path: join(SCREENSHOTS, `habilitations-${name}.png`), fullPage: true });

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
  // Headings in order: no level skipped.
  const levels = await page.locator('main :is(h1, h2, h3, h4, h5, h6)').evaluateAll((hs) => hs.map((h) => Number(h.tagName[1])));
  levels.forEach((l, i) => assert.ok(i === 0 ? l === 1 : l <= levels[i - 1] + 1, `${name}: heading levels ${levels.join(', ')}`));

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
    await page.screenshot({ path: join(SCREENSHOTS, `habilitations-${name}-320px.png`), fullPage: true });
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

async function successNotice(page) {
  const notice = page.locator('main .fr-alert--success');
  return (await notice.count()) === 1 ? (await notice.innerText()).trim() : null;
}

// From the home page: "Se connecter", the password, then the enrolment of the second factor
// (its code computed here) and the recovery codes. Returns the secret and the step used.
async function loginAndEnrol(s, person) {
  const { page } = s;
  await goto(s, '/');
  await tabTo(page, 'header a[href="/connexion"]', { text: /^Se connecter$/ });
  await pressAndLoad(page);
  await fill(page, '#email', person.email);
  await fill(page, '#password', person.password);
  await pressAndLoad(page);
  assert.equal(pathOf(page), '/connexion/activation?suite=/compte');
  const secret = base32Decode((await page.locator('#cle').innerText()).trim());
  if (msLeftInStep() < 5000) await sleep(msLeftInStep() + 200);
  const step = currentStep();
  await fill(page, '#code', codeAtStep(secret, step));
  await pressAndLoad(page);
  assert.equal(await page.locator('#codes-secours li').count(), 10, 'recovery codes shown');
  s.problems.splice(0);
  return { secret, step };
}

async function toAccount(s) {
  const { page } = s;
  await tabTo(page, 'main a[href="/compte"]', { text: /continuer/ });
  await pressAndLoad(page);
  assert.equal(pathOf(page), '/compte');
  s.problems.splice(0);
}

// The steps of the journey depend on each other: after a failed step, the following ones
// are skipped rather than failing for the same reason.
function journey() {
  let failed = null;
  return (name, fn) => {
    test(name, async (t) => {
      if (failed) {
        t.skip(`an earlier step failed: ${failed}`);
        return;
      }
      try {
        await fn(t);
      } catch (e) {
        failed = name;
        throw e;
      }
    });
  };
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
    referent = await openSession();
    admin = await openSession();
    candidate = await openSession();
  });
  after(async () => {
    for (const s of [referent, admin, candidate]) await s?.context.close();
  });

  step('the référent goes from /compte to the structure’s habilitations, then to the request form', async () => {
    const { page } = referent;
    referentTotp = await loginAndEnrol(referent, REFERENT);
    await toAccount(referent);
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
    await fill(page, '#emails', CANDIDATE.email);
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
    assert.match(await successNotice(page) || '', /est envoyée/);
    const main = await page.locator('main').innerText();
    assert.match(main, /En attente de décision/i);
    assert.match(main, new RegExp(fullName(CANDIDATE)));
    assert.match(main, /demande pas encore acceptée/);
  });

  step('the administrator finds the request from /compte and asks for changes', async () => {
    const { page } = admin;
    await loginAndEnrol(admin, ADMIN);
    await toAccount(admin);
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
    await fill(page, '#message', 'Précisez la fonction d’Alex dans la structure.');
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
    await fill(page, '#reponse', 'Alex est conseiller numérique, salarié de la médiathèque.');
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

    await fill(page, `#formation-${person}-organisme`, 'Les Assembleurs');
    await tabTo(page, 'main button[type="submit"]', { text: /Enregistrer la formation/ });
    await pressAndLoad(page);
    assert.equal(pathOf(page), `${requestPath}?fait=formation`);
    await checkPage(referent, 'formation-enregistree', { title: `Demande d’habilitation n° ${requestId}` });
    assert.match(await page.locator('main').innerText(), /Formation de 7 h le 03\/03\/2026 \(Les Assembleurs\)/);

    await fill(page, `#test-${person}-score`, '350');
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
      await fill(page, '#code', codeAtStep(referentTotp.secret, currentStep()));
      await pressAndLoad(page);
      assert.equal(pathOf(page), requestPath, 'back to the request after the confirmation');
      referent.problems.splice(0);
      await tabTo(page, 'main form[action$="/activation"] button[type="submit"]');
      await pressAndLoad(page);
    }
    assert.equal(pathOf(page), `${requestPath}?fait=activation`);
    await checkPage(referent, 'active', { title: `Demande d’habilitation n° ${requestId}` });
    assert.match(await successNotice(page) || '', /aidant habilité/);
    assert.match(await page.locator('main').innerText(), /Aidant habilité depuis le \d\d\/\d\d\/\d{4}/i);

    // The team now lists the candidate as an aidant.
    await goto(referent, requestPath.replace(/\/habilitations\/\d+$/, '/equipe'));
    referent.problems.splice(0);
    const row = page.locator('main table tbody tr', { hasText: fullName(CANDIDATE) });
    assert.equal(await row.count(), 1, 'the candidate is in the team');
    assert.match(await row.innerText(), /Aidant habilité/);
  });
});
