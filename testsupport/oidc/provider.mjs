#!/usr/bin/env node
// Local OpenID Connect provider standing in for ProConnect or FranceConnect in
// Relais integration tests. Test-only: in-memory storage, plain HTTP on 127.0.0.1, a login
// step that completes by itself as the "current test user", and control endpoints under
// /__test/ that let a test tamper with the id_token. Never expose it beyond the loopback.
//
// Usage:
//   node provider.mjs --port P --client-id ID --client-secret SECRET \
//     --redirect-uri URI [--redirect-uri URI2 ...] [--post-logout-redirect-uri URI ...] \
//     [--claims-in-id-token] [--userinfo-jwt] [--profile proconnect|franceconnect]
//
// stdout carries exactly one line, {"ready":true,"issuer":"http://127.0.0.1:P"}, once the
// server listens; every log line goes to stderr. See README.md.

import http from 'node:http';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';

import { CompactSign, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';

// --- stdout hygiene ------------------------------------------------------------------------
// oidc-provider prints notices with console.info (stdout). The caller parses stdout, so every
// console method goes to stderr and only the ready line is written to stdout.
for (const m of ['log', 'info', 'debug']) {
  console[m] = (...args) => console.error(...args);
}
const log = (...args) => console.error('[oidc-test-provider]', ...args);

// --- arguments -----------------------------------------------------------------------------
function usage(msg) {
  console.error(`error: ${msg}
usage: node provider.mjs --port P --client-id ID --client-secret SECRET --redirect-uri URI
       [--redirect-uri URI2 ...] [--post-logout-redirect-uri URI ...]
       [--claims-in-id-token] [--userinfo-jwt] [--profile proconnect|franceconnect]`);
  process.exit(2);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: {
      port: { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      'claims-in-id-token': { type: 'boolean', default: false },
      'userinfo-jwt': { type: 'boolean', default: false },
      profile: { type: 'string', default: 'proconnect' },
    },
    strict: true,
  }));
} catch (err) {
  usage(err.message);
}

const port = Number.parseInt(args.port ?? '', 10);
if (!/^\d+$/.test(args.port ?? '') || port > 65535) usage('--port must be an integer in 0..65535 (0: any free port)');
if (!args['client-id']) usage('--client-id is required');
if (!args['client-secret']) usage('--client-secret is required');
if (!args['redirect-uri']?.length) usage('at least one --redirect-uri is required');
if (!['proconnect', 'franceconnect'].includes(args.profile)) usage('--profile is proconnect or franceconnect');

const HOST = '127.0.0.1';

// --- test state ----------------------------------------------------------------------------
// The provider played: its test user, scopes and claims.
const PROFILES = {
  proconnect: {
    user: {
      sub: 'proconnect-agent-1',
      email: 'agent@exemple.gouv.fr',
      given_name: 'Camille',
      usual_name: 'Martin',
      siret: '13002526500013',
      uid: '1',
    },
    claims: ['email', 'given_name', 'usual_name', 'siret', 'uid'],
  },
  // FranceConnect's identité pivot: birthplace and birthcountry are INSEE codes.
  franceconnect: {
    user: {
      sub: 'franceconnect-usager-1',
      given_name: 'Dominique Marie',
      family_name: 'Lefèvre',
      birthdate: '1948-06-21',
      birthplace: '42218',
      birthcountry: '99100',
      gender: 'female',
      email: 'dominique.lefevre@exemple.fr',
    },
    claims: ['given_name', 'family_name', 'birthdate', 'birthplace', 'birthcountry', 'gender', 'email'],
  },
};
const PROFILE = PROFILES[args.profile];
const DEFAULT_USER = Object.freeze(PROFILE.user);

const MODES = new Set([
  'normal', 'wrong_nonce', 'expired', 'bad_signature', 'wrong_audience', 'wrong_issuer', 'future_iat',
]);

let currentUser = { ...DEFAULT_USER };
let mode = 'normal';
// Claims of every account that has logged in (or been set), by sub: the token and userinfo
// endpoints answer with the claims the user had when they logged in / were last set, so a
// test that switches the current user does not change an already issued login.
const accounts = new Map([[currentUser.sub, { ...currentUser }]]);

// --- keys ----------------------------------------------------------------------------------
// The key is generated (on libuv's thread pool) while oidc-provider loads: faster start.
const KID = `test-${randomBytes(6).toString('hex')}`;
const newRsaKey = async () => (await generateKeyPair('RS256', { modulusLength: 2048, extractable: true })).privateKey;
const [{ default: Provider }, signingKey] = await Promise.all([import('oidc-provider'), newRsaKey()]);
// Same kid, different key: what "bad_signature" signs with (made on first use).
let rogueKey;
const signingJwk = { ...(await exportJWK(signingKey)), kid: KID, alg: 'RS256', use: 'sig' };

// --- server ------------------------------------------------------------------------------
// Listen first so that --port 0 (an OS-chosen free port) gives an issuer with the real port.
let handler = (req, res) => {
  res.statusCode = 503;
  res.end('starting');
};
const server = http.createServer((req, res) => handler(req, res));

// Registered before the ready line, so a SIGTERM sent right after it is handled.
function shutdown(signal) {
  log(`${signal}: shutting down`);
  server.close(() => process.exit(0));
  server.closeAllConnections?.();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

await new Promise((resolve) => {
  server.on('error', (err) => {
    log('server error:', err.message);
    process.exit(1);
  });
  server.listen(port, HOST, resolve);
});

// --- provider ------------------------------------------------------------------------------
const issuer = `http://${HOST}:${server.address().port}`;

const client = {
  client_id: args['client-id'],
  client_secret: args['client-secret'],
  redirect_uris: args['redirect-uri'],
  post_logout_redirect_uris: args['post-logout-redirect-uri'] ?? [],
  response_types: ['code'],
  grant_types: ['authorization_code'],
  // oidc-provider accepts client_secret_post as well for a client registered with
  // client_secret_basic (both are "secret" methods, see lib/shared/token_auth.js).
  token_endpoint_auth_method: 'client_secret_basic',
  id_token_signed_response_alg: 'RS256',
  ...(args['userinfo-jwt'] ? { userinfo_signed_response_alg: 'RS256' } : {}),
};

const configuration = {
  clients: [client],
  jwks: { keys: [signingJwk] },
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  pkce: { methods: ['S256'], required: () => true },
  responseTypes: ['code'],
  scopes: ['openid', ...PROFILE.claims],
  claims: {
    acr: null,
    amr: null,
    auth_time: null,
    openid: ['sub'],
    ...Object.fromEntries(PROFILE.claims.map((c) => [c, [c]])),
  },
  // true (default): the id_token carries only the protocol claims (sub, nonce, ...) and the
  // profile claims come from userinfo, as with ProConnect. --claims-in-id-token adds them.
  conformIdTokenClaims: !args['claims-in-id-token'],
  enabledJWA: {
    idTokenSigningAlgValues: ['RS256'],
    userinfoSigningAlgValues: ['RS256'],
  },
  // ProConnect-like authentication context: "acr" (eidas1 unless the test user says otherwise)
  // and "amr" (["pwd"] unless ...) are in the id_token when asked, with acr_values or with the
  // claims parameter, e.g. claims={"id_token":{"amr":{"essential":true}}}.
  acrValues: ['eidas1', 'eidas2', 'eidas3'],
  features: {
    claimsParameter: { enabled: true },
    devInteractions: { enabled: false },
    userinfo: { enabled: true },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: { enabled: true },
    introspection: { enabled: false },
    revocation: { enabled: false },
  },
  interactions: {
    // Absolute, like every other Location this provider sends.
    url: (ctx, interaction) => `${issuer}/interaction/${interaction.uid}`,
  },
  async findAccount(ctx, sub) {
    const user = accounts.get(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        return { ...user, sub };
      },
    };
  },
  // Short, explicit lifetimes for tests.
  ttl: {
    AuthorizationCode: 60,
    AccessToken: 600,
    IdToken: 600,
    Interaction: 600,
    Session: 3600,
    Grant: 3600,
  },
  cookies: {
    keys: [randomBytes(32).toString('hex')],
    // Lax (not the default None): plain-HTTP loopback, no Secure attribute, and no duplicate
    // "legacy" cookies.
    long: { sameSite: 'lax' },
    short: { sameSite: 'lax' },
  },
  renderError(ctx, out, error) {
    ctx.type = 'json';
    ctx.body = out;
    log('error:', error?.message ?? error, out);
  },
};

const provider = new Provider(issuer, configuration);

// --- helpers -------------------------------------------------------------------------------
async function readJson(ctx) {
  const chunks = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += chunk.length;
    if (size > 64 * 1024) ctx.throw(413, 'body too large');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  } catch {
    ctx.throw(400, 'body is not JSON');
  }
}

function sendJson(ctx, status, body) {
  ctx.status = status;
  ctx.type = 'json';
  ctx.body = body;
}

async function signIdToken(payload, header, key) {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header)
    .sign(key);
}

async function tamperIdToken(idToken) {
  const header = decodeProtectedHeader(idToken);
  const payload = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  let key = signingKey;
  switch (mode) {
    case 'wrong_nonce':
      payload.nonce = `not-your-nonce-${randomBytes(8).toString('hex')}`;
      break;
    case 'expired':
      payload.iat = now - 2 * 3600;
      payload.exp = now - 3600;
      break;
    case 'bad_signature':
      rogueKey ??= await newRsaKey();
      key = rogueKey; // header (and its kid) unchanged
      break;
    case 'wrong_audience':
      payload.aud = 'autre-client';
      break;
    case 'wrong_issuer':
      payload.iss = 'http://evil.example';
      break;
    case 'future_iat':
      payload.iat = now + 3600;
      break;
    default:
      return idToken;
  }
  return signIdToken(payload, header, key);
}

async function endSessionOfOtherUser(ctx) {
  const sid = ctx.cookies.get(provider.cookieName('session'));
  if (!sid) return;
  const session = await provider.Session.find(sid);
  if (session?.accountId && session.accountId !== currentUser.sub) {
    log(`session of ${session.accountId} ended: the current test user is ${currentUser.sub}`);
    await session.destroy();
  }
}

// Auto-confirm of logout. oidc-provider answers with a page holding a form to POST to
// /session/end/confirm (with an xsrf token kept in the session) in two cases:
//  - GET /session/end (RP-initiated logout): a "do you want to sign out" page;
//  - GET /auth/:uid (resume) when the login that just happened is for another account than
//    the one of the browser session: an auto-submitting form that ends the old session and
//    comes back to /auth/:uid.
// This harness submits that form itself, with the caller's cookies, and hands the caller the
// resulting redirect, so that no step needs a form or JavaScript.
function cookieHeaderFor(ctx) {
  const jar = new Map();
  for (const part of (ctx.get('cookie') || '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) jar.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  const setCookies = ctx.response.headers['set-cookie'] ?? [];
  for (const sc of [].concat(setCookies)) {
    const first = sc.split(';')[0];
    const i = first.indexOf('=');
    if (i > 0) jar.set(first.slice(0, i).trim(), first.slice(i + 1).trim());
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

async function autoConfirmLogout(ctx) {
  if (ctx.status !== 200 || typeof ctx.body !== 'string') return;
  const m = /name="xsrf" value="([^"]+)"/.exec(ctx.body);
  if (!m) return;
  const res = await fetch(`${issuer}/session/end/confirm`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: cookieHeaderFor(ctx),
    },
    body: new URLSearchParams({ xsrf: m[1], logout: 'yes' }).toString(),
  });
  const location = res.headers.get('location');
  if (res.status < 300 || res.status >= 400 || !location) {
    log('logout auto-confirm failed:', res.status, await res.text());
    return;
  }
  const cookies = [].concat(ctx.response.headers['set-cookie'] ?? [], res.headers.getSetCookie());
  ctx.body = null;
  ctx.status = 303;
  ctx.set('location', location);
  if (cookies.length) ctx.set('set-cookie', cookies);
}

// --- harness routes ------------------------------------------------------------------------
provider.use(async (ctx, next) => {
  const { path, method } = ctx;

  // Interaction: complete login and consent at once as the current test user.
  if (path.startsWith('/interaction/')) {
    if (method !== 'GET' && method !== 'POST') ctx.throw(405);
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    const { params, prompt } = details;
    const user = { ...currentUser };
    accounts.set(user.sub, user);

    let { grantId } = details;
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: user.sub, clientId: params.client_id });
    if (params.scope) grant.addOIDCScope(params.scope);
    if (prompt.details?.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    if (params.claims) {
      const requested = JSON.parse(params.claims);
      const names = new Set([
        ...Object.keys(requested.id_token ?? {}),
        ...Object.keys(requested.userinfo ?? {}),
      ]);
      if (names.size) grant.addOIDCClaims([...names]);
    }
    grantId = await grant.save();

    const result = {
      login: {
        accountId: user.sub,
        acr: user.acr ?? 'eidas1',
        amr: Array.isArray(user.amr) ? user.amr : ['pwd'],
        remember: true,
      },
      consent: { grantId },
    };
    const location = await provider.interactionResult(ctx.req, ctx.res, result, {
      mergeWithLastSubmission: false,
    });
    log(`interaction ${details.uid}: logged in as ${user.sub}`);
    ctx.status = 303;
    ctx.redirect(location);
    return;
  }

  if (path === '/__test/user') {
    if (method === 'GET') return sendJson(ctx, 200, currentUser);
    if (method !== 'POST') ctx.throw(405);
    const body = await readJson(ctx);
    if (!body || typeof body !== 'object' || Array.isArray(body)) return sendJson(ctx, 400, { error: 'expected a JSON object' });
    if (typeof body.sub !== 'string' || !body.sub) return sendJson(ctx, 400, { error: 'sub (non-empty string) is required' });
    currentUser = { ...body };
    accounts.set(currentUser.sub, { ...currentUser });
    log('current user set to', currentUser.sub);
    return sendJson(ctx, 200, currentUser);
  }

  if (path === '/__test/mode') {
    if (method === 'GET') return sendJson(ctx, 200, { mode });
    if (method !== 'POST') ctx.throw(405);
    const body = await readJson(ctx);
    if (!MODES.has(body?.mode)) return sendJson(ctx, 400, { error: `mode must be one of ${[...MODES].join(', ')}` });
    mode = body.mode;
    log('mode set to', mode);
    return sendJson(ctx, 200, { mode });
  }

  if (path.startsWith('/__test/')) return sendJson(ctx, 404, { error: 'unknown test endpoint' });

  // The browser is always logged in as the current test user: a session cookie that belongs
  // to another account (the test switched users but kept its cookie jar) is ended server-side
  // before the authorization request, which then goes through the interaction like a fresh
  // browser. A session of the current user is reused (SSO: /auth answers straight with the
  // code, no interaction).
  if (path === '/auth') await endSessionOfOtherUser(ctx);

  await next();

  if (path === '/token' && method === 'POST' && ctx.status === 200 && mode !== 'normal') {
    let body = ctx.body;
    if (typeof body === 'string' || Buffer.isBuffer(body)) body = JSON.parse(body.toString());
    if (body?.id_token) {
      body = { ...body, id_token: await tamperIdToken(body.id_token) };
      ctx.body = body;
      log(`id_token tampered (${mode})`);
    }
  }

  if (path === '/session/end' || (method === 'GET' && /^\/auth\/[^/]+$/.test(path))) {
    await autoConfirmLogout(ctx);
  }
});

provider.on('server_error', (ctx, err) => log('server_error', err));
provider.on('grant.error', (ctx, err) => log('grant.error', err.message, err.error_description ?? ''));
provider.on('authorization.error', (ctx, err) => log('authorization.error', err.message, err.error_description ?? ''));
provider.on('grant.success', (ctx) => log('grant.success', ctx.oidc.client?.clientId));

// --- ready -------------------------------------------------------------------------------
handler = provider.callback();
process.stdout.write(`${JSON.stringify({ ready: true, issuer })}\n`);
log(`listening on ${issuer} (client ${client.client_id}, mode ${mode})`);
