// Debian's Chromium driven by playwright-core. No browser is ever downloaded.
//
//   CHROMIUM_PATH   path of the Chromium binary (default: /usr/bin/chromium)

import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

export const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

export async function launchBrowser() {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`Chromium not found at ${executablePath}: install it with 'apt-get install -y chromium' or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

// A page that records what must never happen: console errors, uncaught errors,
// Content-Security-Policy violations, failed sub-requests.
export async function newWatchedPage(browser, { viewport = { width: 1280, height: 800 }, documentStatus = 200 } = {}) {
  const context = await browser.newContext({ viewport, locale: 'fr-FR', reducedMotion: 'reduce' });
  const page = await context.newPage();
  const problems = [];
  // Status of the last document loaded in the page (a page may navigate to an error page
  // on purpose, e.g. a 403 in the middle of a flow).
  let lastDocumentStatus = documentStatus;
  page.on('response', (res) => {
    if (res.request().isNavigationRequest() && res.frame() === page.mainFrame()) {
      lastDocumentStatus = res.status();
    }
  });
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const where = msg.location().url || '';
    // An error page is served with its error status on purpose: Chromium logs that
    // status for the document itself, which is not a problem of the page.
    const expected = Math.max(documentStatus, lastDocumentStatus);
    if (expected >= 400 && where === page.url() && /status of \d+/.test(msg.text())) return;
    problems.push(`console error: ${msg.text()} (${where || 'no url'})`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught error: ${err.message}`));
  page.on('requestfailed', (req) => problems.push(`request failed: ${req.url()} (${req.failure()?.errorText})`));
  page.on('response', (res) => {
    // The document itself may be an error page on purpose; its sub-resources may not.
    if (res.status() >= 400 && res.request().resourceType() !== 'document') {
      problems.push(`sub-request answered ${res.status()}: ${res.url()}`);
    }
  });
  // Evaluated through the DevTools protocol, so the page's CSP does not apply to it.
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || '(inline)'} at ${e.sourceFile || '?'}:${e.lineNumber}`);
    });
  });
  return { context, page, problems };
}

export async function cspViolations(page) {
  return page.evaluate(() => window.__cspViolations || []);
}

// Runs axe-core in the page. The CSP forbids injected <script> elements, so axe's
// source is evaluated through the DevTools protocol instead.
export async function runAxe(page) {
  const hasAxe = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!hasAxe) await page.evaluate(AXE_SOURCE);
  return page.evaluate(async (tags) => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, summary: n.failureSummary })),
    }));
  }, AXE_TAGS);
}

export function formatViolations(violations) {
  return violations
    .map((v) => [
      `- [${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})`,
      ...v.nodes.map((n) => `    at ${n.target}\n      ${n.html}\n      ${(n.summary || '').replace(/\n/g, '\n      ')}`),
    ].join('\n'))
    .join('\n');
}
