// The diagnostic in a real browser (Debian's Chromium). Taken alone from the public site:
// with the keyboard alone, then with JavaScript off, from the start to the result sheet;
// every question and answer has its reading aloud, served by Relais itself. Then the whole
// path, with the keyboard: an agent takes a diagnostic with a person they follow, hands a
// pass booklet from the result screen, the lieu accepts a pass and reports the
// accompaniment, and a second diagnostic shows the person's progress on their file.
// Every page passes checkPage (axe-core at 1280 and 320 px, headings, CSP) and gets a
// screenshot in e2e/screenshots/diagnostic-*.png.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { E2E_DIR, createAccount, createStructure, startServer } from './lib/server.mjs';
import { launchBrowser } from './lib/browser.mjs';
import { checkNotice, checkPage, goto, journey, openSession, pathOf, pressAndLoad, tabTo, typeInto } from './lib/page.mjs';
import { enrol, loginWithPassword } from './lib/login.mjs';

const STRUCTURE = {
  siret: '21420218600018',
  nom: 'Département de la Loire',
  kind: 'collectivite',
  adresse: '2 rue Charles de Gaulle, 42000 Saint-Étienne',
  commune: '42218',
};
// Référent (runs a pass programme), prescripteur (hands booklets) and mediator (follows
// people, accepts passes) of the same structure.
const AGENT = {
  email: 'sam.durand@exemple.fr',
  givenName: 'Sam',
  familyName: 'Durand',
  password: 'phrase-de-passe-du-diagnostic-7',
};

// The right answer of each question of the bank, by id (data/diagnostic/questions.toml).
const BONNES = new Map(
  readFileSync(join(E2E_DIR, '..', 'data', 'diagnostic', 'questions.toml'), 'utf8')
    .split('[[question]]')
    .slice(1)
    .map((q) => [q.match(/^id = "([^"]+)"/m)[1], Number(q.match(/^bonne = (\d+)/m)[1])]),
);

let server;
let browser;

before(async () => {
  server = await startServer({
    logName: 'server-diagnostic.log',
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

// The readings of the page: each <audio>'s label, and whether its recording, fetched
// from Relais (no other host is reached), is decoded by the browser into speech that lasts.
async function readings(page) {
  return page.locator('main audio').evaluateAll((audios) => Promise.all(audios.map(async (a) => {
    const found = { label: a.getAttribute('aria-label'), src: a.src, ok: false, duration: 0 };
    try {
      const bytes = await (await fetch(a.src)).arrayBuffer();
      const sound = await new OfflineAudioContext(1, 1, 16000).decodeAudioData(bytes);
      found.duration = sound.duration;
      found.ok = sound.duration > 0.3 && new URL(a.src).origin === location.origin;
    } catch (e) {
      found.error = String(e);
    }
    return found;
  })));
}

describe('a diagnostic alone, with the keyboard alone', () => {
  const step = journey();
  let s;
  let adresse;

  before(async () => {
    s = await openSession(browser, server, { screenshots: 'diagnostic' });
  });
  after(async () => {
    await s?.context.close();
  });

  step('the start page says how it goes and reads it aloud', async () => {
    await goto(s, '/diagnostic');
    await checkPage(s, 'accueil', { title: 'Diagnostic numérique' });
    const r = await readings(s.page);
    assert.equal(r.length, 1);
    assert.ok(r[0].ok, `the instructions' recording plays: ${JSON.stringify(r[0])}`);
    await tabTo(s.page, 'button[type="submit"]', { text: /Commencer le diagnostic/ });
    await pressAndLoad(s.page);
    adresse = pathOf(s.page);
    assert.match(adresse, /^\/diagnostic\/[a-z2-7]{26}$/);
  });

  step('no answer chosen: told on the group, the question stays', async () => {
    const { page } = s;
    const enonce = await page.locator('h1').innerText();
    // The browser refuses an empty required group itself; without that check (an old
    // browser, a form sent by hand) Relais says it.
    await page.evaluate(() => document.querySelector('main form').setAttribute('novalidate', ''));
    await tabTo(page, 'button[type="submit"]', { text: /Valider ma réponse/ });
    await pressAndLoad(page);
    await checkPage(s, 'question-erreur', { status: 422, title: 'Erreur : Question 1 — Diagnostic numérique' });
    assert.match(await page.locator('#choix-erreur').innerText(), /Choisissez une réponse/);
    assert.equal(await page.locator('h1').innerText(), enonce);
  });

  step('each question, its answers and « je ne sais pas » are read aloud; answered to the end', async () => {
    const { page } = s;
    // Reloaded, the page shows the same question, answered now.
    const enonce = await page.locator('h1').innerText();
    await goto(s, adresse);
    assert.equal(await page.locator('h1').innerText(), enonce);
    for (let n = 1; n <= 20; n++) {
      if (!/Question \d+/.test(await page.title())) break;
      if (n <= 2) await checkPage(s, `question-${n}`, { title: `Question ${n} — Diagnostic numérique` });
      const answers = await page.locator('main input[name="choix"]').count();
      assert.ok(answers >= 3 && answers <= 5, `2 to 4 answers and « je ne sais pas » (${answers})`);
      assert.equal(await page.locator('#choix-nsp + label').innerText(), 'Je ne sais pas');
      const r = await readings(page);
      assert.equal(r.length, answers + 1, 'a reading for the question and for each answer');
      assert.equal(r[0].label, 'Écouter la question');
      for (const x of r) assert.ok(x.ok, `${x.label}: ${x.src}`);
      assert.ok(await page.locator('main img[alt]').getAttribute('alt'), 'the illustration has its text');
      // The first radio of the group takes the focus; Space chooses the first answer, the
      // arrow keys another one: « je ne sais pas » one question out of three.
      await tabTo(page, 'input[name="choix"]');
      if (n % 3 === 0) await page.keyboard.press('ArrowUp');
      else await page.keyboard.press('Space');
      assert.equal(await page.locator('input[name="choix"]:checked').count(), 1);
      await tabTo(page, 'button[type="submit"]', { text: /Valider ma réponse/ });
      await pressAndLoad(page);
    }
    assert.equal(pathOf(page), adresse);
    await checkPage(s, 'resultat', { title: 'Votre résultat — Diagnostic numérique' });
    assert.ok(await page.locator('main .fr-callout').count() >= 10, 'at least ten questions asked');
  });

  step('the result is in words, read aloud, and leads to the lieux and to the sheet', async () => {
    const { page } = s;
    const lignes = await page.locator('main .diagnostic-lignes li').allInnerTexts();
    assert.equal(lignes.length, 5, 'one line per domain');
    for (const l of lignes) assert.match(l, /^(Vous savez|À travailler :) /);
    const r = await readings(page);
    for (const x of r) assert.ok(x.ok, `${x.label}: ${x.src}`);
    // Where to learn: the lieux search, filtered on the service that teaches what is to work on.
    const lieux = decodeURIComponent(await page.getAttribute('main a.fr-btn >> nth=0', 'href'));
    assert.match(lieux, /^\/lieux(\?services=(Maîtrise des outils numériques du quotidien|Aide aux démarches administratives|Utilisation sécurisée du numérique))?$/);
    // Near the person's commune: the lieux that teach it, free ones first.
    await typeInto(page, '#commune', 'zzzz');
    await tabTo(page, 'button[type="submit"]', { text: /Voir les lieux proches/ });
    await pressAndLoad(page);
    assert.match(await page.locator('#commune-erreur').innerText(), /Aucune commune ne répond à « zzzz »/);
    await typeInto(page, '#commune', '42000');
    await tabTo(page, 'button[type="submit"]', { text: /Voir les lieux proches/ });
    await pressAndLoad(page);
    await checkPage(s, 'resultat-lieux', { title: 'Votre résultat — Diagnostic numérique' });
    assert.match(await page.locator('#lieux').innerText(), /Saint-Étienne/);
    await tabTo(page, 'main a[href$="/fiche"]', { text: /Voir la fiche à imprimer/ });
    await pressAndLoad(page);
    await checkPage(s, 'fiche', { title: 'Fiche de résultat — Diagnostic numérique' });
    assert.match(await page.locator('main a[href^="mailto:"]').getAttribute('href'), /fiche/);
    // Printed, the page keeps the result and leaves out the site's frame and the buttons.
    await page.emulateMedia({ media: 'print' });
    assert.ok(!(await page.locator('header.fr-header').isVisible()));
    assert.ok(!(await page.locator('main .fr-btns-group').isVisible()));
    assert.ok(await page.locator('main .diagnostic-lignes').isVisible());
    await page.emulateMedia({ media: 'screen' });
  });
});

test('with JavaScript off, a diagnostic goes from its start to its result', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 320, height: 640 }, locale: 'fr-FR' });
  try {
    const page = await context.newPage();
    await page.goto(server.url('/diagnostic'), { waitUntil: 'load' });
    await page.locator('main button[type="submit"]').focus();
    await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    let n = 0;
    while (/Question \d+/.test(await page.title())) {
      n += 1;
      assert.ok(n <= 20);
      await page.locator('#choix-nsp').focus();
      await page.keyboard.press('Space');
      await page.locator('main button[type="submit"]').focus();
      await Promise.all([page.waitForEvent('load'), page.keyboard.press('Enter')]);
    }
    assert.ok(n >= 10, `${n} questions`);
    assert.equal(await page.title(), 'Votre résultat — Diagnostic numérique — Relais');
    assert.match(await page.locator('main').innerText(), /Votre niveau : Premiers pas\./);
    assert.equal(await page.locator('main .diagnostic-lignes li').count(), 5);
  } finally {
    await context.close();
  }
});

// Answers every question with the keyboard: rightly (`juste`) or « je ne sais pas ».
async function answerAll(page, juste) {
  let n = 0;
  while (/Question \d+/.test(await page.title())) {
    n += 1;
    assert.ok(n <= 20, 'at most 20 questions');
    const id = await page.getAttribute('main input[name="question"]', 'value');
    const target = juste ? `#choix-${BONNES.get(id)}` : '#choix-nsp';
    await tabTo(page, 'input[name="choix"]');
    for (let i = 0; i < 5 && !(await page.isChecked(target)); i++) await page.keyboard.press('ArrowDown');
    assert.ok(await page.isChecked(target), `${target} chosen with the arrow keys`);
    await tabTo(page, 'button[type="submit"]', { text: /Valider ma réponse/ });
    await pressAndLoad(page);
  }
  assert.ok(n >= 10, `${n} questions`);
}

describe('the whole path: a diagnostic with an agent, a pass, an accompaniment, a second diagnostic', () => {
  const step = journey();
  let s;
  let structurePath;
  let fichePath;
  let code;

  before(async () => {
    s = await openSession(browser, server, { screenshots: 'diagnostic-parcours' });
  });
  after(async () => {
    await s?.context.close();
  });

  step('the structure runs a pass programme, is qualified, and holds a booklet to hand out', async () => {
    const { page } = s;
    await loginWithPassword(s, AGENT);
    await enrol(s);
    s.problems.splice(0);
    await goto(s, '/compte');
    await tabTo(page, 'main a[href$="/pass"]', { text: /^Pass numérique de Département de la Loire$/ });
    await pressAndLoad(page);
    const hubPath = pathOf(page);
    structurePath = hubPath.replace(/\/pass$/, '');
    await goto(s, `${hubPath}/programmes/nouveau`);
    await typeInto(page, '#nom', 'Pass numérique Loire');
    await typeInto(page, '#financeur1_nom', 'Département de la Loire');
    await typeInto(page, '#financeur1_siret', '21420218600018');
    await typeInto(page, '#financeur1_part', '100');
    await typeInto(page, '#financeur1_iban', 'FR76 3000 6000 0112 3456 7890 189');
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
    const programmePath = pathOf(page);
    assert.match(programmePath, /\/pass\/programmes\/\d+$/);
    await goto(s, hubPath);
    await typeInto(page, '#titulaire', 'Département de la Loire');
    await typeInto(page, '#iban', 'FR7630006000011234567890189');
    await typeInto(page, '#bic', 'AGRIFRPP');
    await tabTo(page, '#services-atelier_collectif');
    await page.keyboard.press('Space');
    await tabTo(page, 'button[type="submit"]', { text: /Demander la qualification/ });
    await pressAndLoad(page);
    await goto(s, programmePath);
    await tabTo(page, 'button[value="accepter"]', { text: /Qualifier Département de la Loire/ });
    await pressAndLoad(page);
    await typeInto(page, '#nombre', '1');
    await typeInto(page, '#siret', STRUCTURE.siret);
    await tabTo(page, 'button[type="submit"]', { text: /Émettre les carnets/ });
    await pressAndLoad(page);
    await checkNotice(page, /1 carnet\(s\) émis, nos 1 à 1\./);
    await goto(s, `${programmePath}/carnets/1`);
    code = (await page.locator('main tbody tr:first-child td:nth-child(2)').innerText()).trim();
    assert.match(code, /^[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}$/);
  });

  step('the agent opens the file of the person they follow', async () => {
    const { page } = s;
    await goto(s, `${structurePath}/beneficiaires/nouvelle`);
    await typeInto(page, '#prenom', 'Émile');
    await typeInto(page, '#nom', 'Zola');
    await typeInto(page, '#commune', '42218');
    await tabTo(page, '#consentement');
    await page.keyboard.press('Space');
    await tabTo(page, 'button[type="submit"]', { text: /Ouvrir la fiche/ });
    await pressAndLoad(page);
    fichePath = pathOf(page).replace(/\?.*$/, '');
    assert.match(fichePath, /\/beneficiaires\/\d+$/);
  });

  step('from /compte, a diagnostic with the person: joined to the file only once they agree', async () => {
    const { page } = s;
    await goto(s, '/compte');
    await tabTo(page, 'main a[href$="/diagnostics"]', { text: /^Diagnostic numérique à Département de la Loire$/ });
    await pressAndLoad(page);
    await checkPage(s, 'structure', { title: 'Diagnostic numérique — Département de la Loire' });
    await tabTo(page, '#beneficiaire');
    await page.keyboard.press('ArrowDown');
    assert.match(await page.locator('#beneficiaire option:checked').innerText(), /Émile Zola/);
    await tabTo(page, 'button[type="submit"]', { text: /Commencer le diagnostic/ });
    await pressAndLoad(page);
    await checkPage(s, 'structure-sans-accord', { status: 422, title: 'Erreur : Diagnostic numérique — Département de la Loire' });
    assert.match(await page.locator('main .fr-alert--error').innerText(), /doit accepter que son résultat rejoigne sa fiche/);
    await tabTo(page, '#consentement');
    await page.keyboard.press('Space');
    await tabTo(page, 'button[type="submit"]', { text: /Commencer le diagnostic/ });
    await pressAndLoad(page);
    assert.match(pathOf(page), /^\/diagnostic\/[a-z2-7]{26}$/);
    await answerAll(page, false);
    await checkPage(s, 'premier-resultat', { title: 'Votre résultat — Diagnostic numérique' });
    assert.match(await page.locator('main').innerText(), /Votre niveau : Premiers pas\./);
  });

  step('from the result screen, the agent hands a booklet', async () => {
    const { page } = s;
    // The person's commune comes from their file.
    assert.equal(await page.inputValue('#remise-commune'), '42218');
    await typeInto(page, '#remise-numero', '1');
    await tabTo(page, 'button[type="submit"]', { text: /Remettre le carnet/ });
    await pressAndLoad(page);
    await checkPage(s, 'remise', { title: 'Remettre un carnet de pass numériques' });
    await checkNotice(page, /Carnet n° 1 remis : 10 pass/);
  });

  step('the lieu accepts a pass of it, then reports the accompaniment with the person', async () => {
    const { page } = s;
    await goto(s, `${structurePath}/pass/utilisation`);
    await typeInto(page, '#code', code);
    await tabTo(page, 'button[type="submit"]', { text: /Vérifier le pass/ });
    await pressAndLoad(page);
    await tabTo(page, 'button[type="submit"]', { text: /Accepter le pass/ });
    await pressAndLoad(page);
    await checkNotice(page, /Pass accepté/);
    await tabTo(page, 'main a[href*="/activites/nouvelle"]', { text: /^Compter cet accompagnement dans vos activités$/ });
    await pressAndLoad(page);
    await tabTo(page, '#thematiques-navigation_sur_internet');
    await page.keyboard.press('Space');
    await tabTo(page, 'input[name="suivis"]');
    await page.keyboard.press('Space');
    await tabTo(page, 'button[type="submit"]', { text: /Enregistrer l’activité/ });
    await pressAndLoad(page);
    await checkNotice(page, /L’activité est enregistrée\./);
  });

  step('a second diagnostic shows the progress, on the result and on the person’s path', async () => {
    const { page } = s;
    await goto(s, `${structurePath}/diagnostics`);
    await tabTo(page, '#beneficiaire');
    await page.keyboard.press('ArrowDown');
    await tabTo(page, '#consentement');
    await page.keyboard.press('Space');
    await tabTo(page, 'button[type="submit"]', { text: /Commencer le diagnostic/ });
    await pressAndLoad(page);
    await answerAll(page, true);
    assert.doesNotMatch(await page.locator('main').innerText(), /Votre niveau : Premiers pas\./);
    // The result leads the mediator to report the diagnostic and to the person's file.
    assert.match(await page.getAttribute('main a:has-text("Consigner l’accompagnement")', 'href'), /thematiques=diagnostic_numerique&suivis=\d+$/);
    await tabTo(page, 'main a[href$="' + fichePath + '"]', { text: /Voir son parcours/ });
    await pressAndLoad(page);
    await checkPage(s, 'parcours', { title: 'Émile Zola — personne suivie' });
    const text = await page.locator('main').innerText();
    assert.equal(await page.locator('main h2:has-text("Ses diagnostics") + ul li').count(), 2);
    assert.match(text, /niveau\(x\) gagné\(s\)/);
    assert.match(text, /Carnet n° 1 du programme « Pass numérique Loire », remis le \d\d\/\d\d\/\d{4} : 1 pass utilisé\(s\) sur 10/);
    assert.match(await page.locator('main table').innerText(), /Atelier collectif/);
    await goto(s, `${structurePath}/diagnostics`);
    await checkPage(s, 'structure-progres', { title: 'Diagnostic numérique — Département de la Loire' });
    assert.match(await page.locator('main table').innerText(), /42 — Loire\s+1\s+1/);
  });
});
