// What the journey tests (comptes, habilitations, equipe) share: a browser tab that follows
// one person through several pages, the checks every page passes, the keyboard helpers
// (Tab to an element, type, press Enter and wait for the next document) and the steps of a
// journey that depend on each other.
//
//   openSession(browser, server, { screenshots })   a watched tab; `screenshots` prefixes
//                                                    the file names of its screenshots
//   checkPage(s, name, { status, title })           status, HTML, title, h1, axe at 1280 and
//                                                    320 px, reflow, CSP, console problems

import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { E2E_DIR } from './server.mjs';
import { cspViolations, formatViolations, newWatchedPage, runAxe } from './browser.mjs';

export const SCREENSHOTS = join(E2E_DIR, 'screenshots');

export const fullName = (p) => `${p.givenName} ${p.familyName}`;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// A text to match literally inside a RegExp.
export const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---------------------------------------------------------------------------------------
// A browser tab that follows one person through several pages. It keeps the last document
// loaded, so that checkPage can look at its status and at the HTML as served.

export async function openSession(browser, server, { screenshots }) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const watched = await newWatchedPage(browser);
  const { page } = watched;
  const session = { ...watched, server, screenshots, lastDocument: null };
  page.on('response', (res) => {
    if (res.request().isNavigationRequest() && res.frame() === page.mainFrame()) session.lastDocument = res;
  });
  return session;
}

export async function settle(page) {
  await page.waitForLoadState('networkidle');
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
}

// Navigates by typing an address: to reach pages no link leads to, to come back to a page
// another person changed, or to follow the link of an e-mail.
export async function goto(s, path) {
  await s.page.goto(s.server.url(path), { waitUntil: 'networkidle' });
  await settle(s.page);
}

export function pathOf(page) {
  const u = new URL(page.url());
  return u.pathname + u.search;
}

// ---------------------------------------------------------------------------------------
// Keyboard only: Tab to focus, type, Enter; no mouse click.

async function describeFocus(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return '(body)';
    const text = (el.textContent || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 60);
    return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}[${el.getAttribute('href') || el.getAttribute('name') || el.getAttribute('type') || ''}] “${text}”`;
  });
}

// Presses Tab until the focused element matches `selector` (and, if given, its text matches
// `text`); fails with the list of elements the focus went through. `max` bounds the search
// (the longest pages have about a hundred focusable elements); a call passes a small `max`
// to check that the element comes right after the focused one.
export async function tabTo(page, selector, { text = null, max = 120 } = {}) {
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
export async function typeInto(page, selector, value) {
  await tabTo(page, selector);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(value);
  assert.equal(await page.evaluate(() => document.activeElement.value), value, `typed into ${selector}`);
}

// Presses a key that leads to another document (a link, a form submission) and waits for it.
export async function pressAndLoad(page, key = 'Enter') {
  const loaded = page.waitForEvent('load', { timeout: 15000 });
  await page.keyboard.press(key);
  await loaded;
  await settle(page);
}

// ---------------------------------------------------------------------------------------
// The checks every page passes; the screenshot comes first, to help when a check fails.

export async function checkPage(s, name, { status = 200, title }) {
  const { page } = s;
  await page.screenshot({ path: join(SCREENSHOTS, `${s.screenshots}-${name}.png`), fullPage: true });

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
    await page.screenshot({ path: join(SCREENSHOTS, `${s.screenshots}-${name}-320px.png`), fullPage: true });
    const overflow = await page.evaluate(() => {
      const width = document.documentElement.clientWidth;
      const wide = [...document.querySelectorAll('body *')]
        .filter((el) => {
          const r = el.getBoundingClientRect();
          // Inside a table, only what escapes its scrolling container: absolutely positioned
          // elements whose containing block is outside it.
          return r.width > 0 && r.right > width + 1
            && (!el.closest('.fr-table table') || getComputedStyle(el).position === 'absolute');
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

// The success message shown after a change (DSFR alert, role="status").
export async function checkNotice(page, message) {
  const notice = page.locator('main .fr-alert--success');
  assert.equal(await notice.count(), 1, `one success message on ${page.url()}`);
  assert.equal(await notice.getAttribute('role'), 'status');
  assert.match(await notice.innerText(), message);
}

// The text of the one error message of the page (DSFR alert, role="alert").
export async function errorAlert(page) {
  const alert = page.locator('main .fr-alert--error');
  assert.equal(await alert.count(), 1, `one error message on ${page.url()}`);
  assert.equal(await alert.getAttribute('role'), 'alert');
  return (await alert.innerText()).trim();
}

// The members table of the team page: one object per row.
export async function members(page) {
  return page.locator('main table tbody tr').evaluateAll((trs) => trs.map((tr) => {
    const cells = [...tr.cells];
    return {
      name: cells[0].textContent.trim(),
      email: cells[1].textContent.trim(),
      // The role names, without the words of the buttons and the select.
      roles: [...cells[2].querySelectorAll('.relais-role')].map((r) => r.textContent.trim()),
      state: cells[3].textContent.trim(),
      // The person's id, from the action of their forms.
      id: Number((tr.querySelector('form[action*="/equipe/"]')?.getAttribute('action') || '').match(/\/equipe\/(\d+)\//)?.[1] ?? NaN),
    };
  }));
}

// ---------------------------------------------------------------------------------------
// The steps of one person's journey depend on each other: after a failed step, the
// following ones are skipped rather than failing for the same reason (a `todo` step
// neither is skipped nor stops the others). `step.failed()` names the step that failed.

export function journey() {
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
