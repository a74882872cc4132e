// Logging in with the keyboard, and the enrolment of the second factor (TOTP codes computed
// here, in Node, by lib/totp.mjs), as the journey tests go through them.
//
//   loginWithPassword(s, person, { screenshot })   from /, up to the password form submitted
//   enrol(s, { screenshots })                      from the enrolment page to /compte;
//                                                  returns { secret, step } of the code used

import assert from 'node:assert/strict';

import { base32Decode, codeAtStep, currentStep, msLeftInStep } from './totp.mjs';
import { checkPage, goto, pathOf, pressAndLoad, sleep, tabTo, typeInto } from './page.mjs';

// The name of the logged-in person in the header (a link to /compte), or null.
export async function headerAccountText(page) {
  const link = page.locator('header .fr-header__tools-links a[href="/compte"]');
  if ((await link.count()) === 0) return null;
  return (await link.first().innerText()).trim();
}

export async function headerHasLoginLink(page) {
  const link = page.locator('header .fr-header__tools-links a[href="/connexion"]');
  return (await link.count()) === 1 && (await link.innerText()).trim() === 'Se connecter';
}

// From the home page: "Se connecter" in the header, then the password form, submitted with
// `person.email` and `person.password`. With `screenshot`, the login page is checked.
export async function loginWithPassword(s, person, { screenshot = null } = {}) {
  const { page } = s;
  await goto(s, '/');
  assert.ok(await headerHasLoginLink(page), 'the header of / shows "Se connecter"');
  await tabTo(page, 'header a[href="/connexion"]', { text: /^Se connecter$/ });
  await pressAndLoad(page);
  assert.equal(pathOf(page), '/connexion');
  if (screenshot) await checkPage(s, screenshot, { title: 'Se connecter' });
  else s.problems.splice(0);
  await typeInto(page, '#email', person.email);
  await typeInto(page, '#password', person.password);
  await pressAndLoad(page);
}

// Enrolment page: reads the key shown to the person; returns the secret.
export async function readKey(page) {
  const shown = (await page.locator('#cle').innerText()).trim();
  assert.match(shown, /^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$/, 'the key is base32, in groups of 4');
  const secret = base32Decode(shown);
  assert.ok(secret.length >= 16, `the secret has at least 128 bits (${secret.length * 8})`);
  return secret;
}

// Waits until at least `ms` are left in the current time step, so that a code computed now
// is still the code of the current step when the server checks it (and stays usable as
// "the last code used" for the next `ms` milliseconds).
export async function waitForStepMargin(ms) {
  const left = msLeftInStep();
  if (left < ms) await sleep(left + 200);
}

// Types a code (TOTP or recovery) into #code and submits it.
export async function submitCode(page, code) {
  await typeInto(page, '#code', code);
  await pressAndLoad(page);
}

// Enrolment page → recovery codes → "continuer" → /compte. With `screenshots`, the two pages
// on the way are checked (screenshots `<screenshots>-activation`, `<screenshots>-codes-secours`);
// without, what they logged is dropped. Returns the secret and the step of the code used.
export async function enrol(s, { screenshots = null } = {}) {
  const { page } = s;
  assert.equal(pathOf(page), '/connexion/activation?suite=/compte');
  if (screenshots) await checkPage(s, `${screenshots}-activation`, { title: 'Activer la double authentification' });
  else s.problems.splice(0);
  const secret = await readKey(page);
  await waitForStepMargin(5000);
  const step = currentStep();
  await submitCode(page, codeAtStep(secret, step));
  if (screenshots) await checkPage(s, `${screenshots}-codes-secours`, { title: 'Vos codes de secours' });
  else s.problems.splice(0);
  assert.equal(await page.locator('#codes-secours li').count(), 10, 'ten recovery codes');
  await tabTo(page, 'main a[href="/compte"]', { text: /continuer/ });
  await pressAndLoad(page);
  assert.equal(pathOf(page), '/compte');
  return { secret, step };
}
