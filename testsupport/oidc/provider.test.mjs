// Self-test of the local OIDC provider (provider.mjs), driven by a real relying-party library
// (openid-client) with PKCE, state and nonce.
// Run: cd testsupport/oidc && npm ci && node --test

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';

import * as oidc from 'openid-client';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';

const PROVIDER = fileURLToPath(new URL('./provider.mjs', import.meta.url));
const CLIENT_ID = 'relais-test';
const CLIENT_SECRET = 'un-secret-de-test';
// Nothing listens there: the harness never follows the last redirect, it only reads it.
const REDIRECT_URI = 'http://127.0.0.1:9/auth/proconnect/callback';
const REDIRECT_URI_2 = 'http://127.0.0.1:9/autre/callback';
const POST_LOGOUT_URI = 'http://127.0.0.1:9/deconnecte';
const SCOPE = 'openid email given_name usual_name siret uid';
const DEFAULT_USER = {
  sub: 'proconnect-agent-1',
  email: 'agent@exemple.gouv.fr',
  given_name: 'Camille',
  usual_name: 'Martin',
  siret: '13002526500013',
  uid: '1',
};

// --- provider process ----------------------------------------------------------------------
async function startProvider(extraArgs = []) {
  const child = spawn(process.execPath, [
    PROVIDER,
    '--port', '0',
    '--client-id', CLIENT_ID,
    '--client-secret', CLIENT_SECRET,
    '--redirect-uri', REDIRECT_URI,
    '--redirect-uri', REDIRECT_URI_2,
    '--post-logout-redirect-uri', POST_LOGOUT_URI,
    ...extraArgs,
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = [];
  child.stderr.setEncoding('utf8').on('data', (d) => stderr.push(d));
  const lines = createInterface({ input: child.stdout });
  const stdoutLines = [];
  const ready = new Promise((resolve, reject) => {
    lines.on('line', (line) => {
      stdoutLines.push(line);
      if (stdoutLines.length === 1) resolve(JSON.parse(line));
    });
    child.on('exit', (code) => reject(new Error(`provider exited (${code}): ${stderr.join('')}`)));
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const info = await ready;
  clearTimeout(timer);
  return {
    child,
    issuer: info.issuer,
    info,
    stdoutLines,
    stderr,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      return code;
    },
  };
}

async function control(issuer, path, body) {
  const res = await fetch(`${issuer}/__test/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

// --- a tiny browser: cookie jar + manual redirects -----------------------------------------
class Browser {
  cookies = new Map(); // "name path" -> { name, value, path }

  store(res) {
    for (const sc of res.headers.getSetCookie()) {
      const [pair, ...attrs] = sc.split(';').map((s) => s.trim());
      const i = pair.indexOf('=');
      const name = pair.slice(0, i);
      const value = pair.slice(i + 1);
      let path = '/';
      let expired = false;
      for (const a of attrs) {
        const [k, v] = a.split('=');
        if (k.toLowerCase() === 'path') path = v;
        if (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) expired = true;
      }
      const key = `${name} ${path}`;
      if (expired || value === '') this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path });
    }
  }

  header(url) {
    const { pathname } = new URL(url);
    return [...this.cookies.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`) || c.path === '/')
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }

  // Follows redirects until one leaves the issuer; returns that URL and the hops.
  async follow(startUrl, issuer, maxHops = 10) {
    const hops = [];
    let url = String(startUrl);
    for (let i = 0; i < maxHops; i += 1) {
      const res = await fetch(url, { redirect: 'manual', headers: { cookie: this.header(url) } });
      this.store(res);
      const location = res.headers.get('location');
      hops.push({ url, status: res.status, location });
      if (!location) {
        throw new Error(`no redirect from ${url} (${res.status}): ${await res.text()}`);
      }
      const next = new URL(location, url).href;
      if (!next.startsWith(`${issuer}/`)) return { final: new URL(next), hops };
      url = next;
    }
    throw new Error(`too many redirects: ${JSON.stringify(hops)}`);
  }
}

// --- relying party helpers -----------------------------------------------------------------
async function rp(issuer, { auth = 'basic', metadata = {}, nonRepudiation = true } = {}) {
  const clientAuth = auth === 'basic'
    ? oidc.ClientSecretBasic(CLIENT_SECRET)
    : oidc.ClientSecretPost(CLIENT_SECRET);
  const config = await oidc.discovery(
    new URL(issuer),
    CLIENT_ID,
    { client_secret: CLIENT_SECRET, ...metadata },
    clientAuth,
    { execute: [oidc.allowInsecureRequests] },
  );
  // openid-client skips the signature check of an id_token received straight from the token
  // endpoint (OIDC Core 3.1.3.7 allows it over TLS); a relying party that wants it (and
  // bad_signature is about it) turns it on.
  if (nonRepudiation) oidc.enableNonRepudiationChecks(config);
  return config;
}

async function authorize(config, issuer, browser = new Browser(), params = {}) {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: SCOPE,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  const { final, hops } = await browser.follow(url, issuer);
  return { callback: final, hops, codeVerifier, state, nonce, browser };
}

function exchange(config, { callback, codeVerifier, state, nonce }) {
  return oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: codeVerifier,
    expectedState: state,
    expectedNonce: nonce,
    idTokenExpected: true,
  });
}

// --- tests ---------------------------------------------------------------------------------
describe('oidc test provider (default: ProConnect-like, claims from userinfo)', () => {
  let p;
  before(async () => { p = await startProvider(); });
  after(async () => { await p?.stop(); });

  test('prints exactly one ready line on stdout with the issuer', async () => {
    assert.deepEqual(p.info, { ready: true, issuer: p.issuer });
    assert.match(p.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${p.issuer}/.well-known/openid-configuration`);
    const d = await res.json();
    assert.equal(d.issuer, p.issuer);
    assert.deepEqual(d.code_challenge_methods_supported, ['S256']);
    assert.deepEqual(d.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post']);
    assert.deepEqual(d.id_token_signing_alg_values_supported, ['RS256']);
    for (const s of SCOPE.split(' ')) assert.ok(d.scopes_supported.includes(s), s);
    for (const k of ['jwks_uri', 'userinfo_endpoint', 'end_session_endpoint', 'token_endpoint']) assert.ok(d[k], k);
    const jwks = await (await fetch(d.jwks_uri)).json();
    assert.equal(jwks.keys.length, 1);
    assert.equal(jwks.keys[0].kty, 'RSA');
    assert.equal(jwks.keys[0].d, undefined, 'no private part published');
    assert.equal(p.stdoutLines.length, 1);
  });

  test('normal flow: 3 redirects, code + state, claims in userinfo (client_secret_basic)', async () => {
    const config = await rp(p.issuer, { auth: 'basic' });
    const a = await authorize(config, p.issuer);
    const shape = (u) => new URL(u).pathname.replace(/^\/(auth|interaction)\/[^/]+$/, '/$1/:uid');
    assert.deepEqual(a.hops.map((h) => [h.status, shape(h.url)]), [
      [303, '/auth'], // GET /auth?... -> 303 {issuer}/interaction/:uid
      [303, '/interaction/:uid'], // -> 303 {issuer}/auth/:uid
      [303, '/auth/:uid'], // -> 303 redirect_uri?code=...&state=...&iss=...
    ]);
    assert.ok(a.hops.every((h) => /^http:\/\//.test(h.location)), 'absolute Locations');
    assert.equal(a.callback.origin + a.callback.pathname, REDIRECT_URI);
    assert.equal(a.callback.searchParams.get('state'), a.state);
    assert.equal(a.callback.searchParams.get('iss'), p.issuer);
    assert.ok(a.callback.searchParams.get('code'));

    const tokens = await exchange(config, a);
    const claims = tokens.claims();
    assert.equal(claims.sub, DEFAULT_USER.sub);
    assert.equal(claims.nonce, a.nonce);
    assert.equal(claims.iss, p.issuer);
    assert.equal(claims.aud, CLIENT_ID);
    assert.equal(claims.email, undefined, 'profile claims are in userinfo, not in the id_token');

    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
    assert.deepEqual(userinfo, DEFAULT_USER);
  });

  test('client_secret_post is accepted too, scopes limit the claims', async () => {
    const config = await rp(p.issuer, { auth: 'post' });
    const a = await authorize(config, p.issuer, new Browser(), { scope: 'openid email' });
    const tokens = await exchange(config, a);
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, tokens.claims().sub);
    assert.deepEqual(userinfo, { sub: DEFAULT_USER.sub, email: DEFAULT_USER.email });
  });

  test('wrong client secret is refused', async () => {
    const config = await oidc.discovery(new URL(p.issuer), CLIENT_ID, 'pas-le-bon', undefined, {
      execute: [oidc.allowInsecureRequests],
    });
    const a = await authorize(config, p.issuer);
    await assert.rejects(exchange(config, a), (err) => err.error === 'invalid_client');
  });

  test('PKCE is required', async () => {
    const url = new URL(`${p.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: CLIENT_ID, response_type: 'code', scope: 'openid', redirect_uri: REDIRECT_URI, state: 'st',
    }).toString();
    const { final, hops } = await new Browser().follow(url, p.issuer);
    assert.equal(hops.length, 1);
    assert.equal(final.searchParams.get('error'), 'invalid_request');
    assert.match(final.searchParams.get('error_description'), /PKCE/);
  });

  test('a replayed authorization code gets invalid_grant', async () => {
    const config = await rp(p.issuer);
    const a = await authorize(config, p.issuer);
    const tokens = await exchange(config, a);
    await assert.rejects(exchange(config, a), (err) => {
      assert.ok(err instanceof oidc.ResponseBodyError, err);
      assert.equal(err.error, 'invalid_grant');
      return true;
    });
    // oidc-provider also revokes what the code gave (RFC 6749 4.1.2).
    await assert.rejects(oidc.fetchUserInfo(config, tokens.access_token, tokens.claims().sub));
  });

  test('the current test user can be switched, even with the same cookie jar', async () => {
    const config = await rp(p.issuer);
    const browser = new Browser();
    const first = await exchange(config, await authorize(config, p.issuer, browser));
    assert.equal(first.claims().sub, DEFAULT_USER.sub);

    // Same user again: the session is reused (SSO), the code comes at once.
    const again = await authorize(config, p.issuer, browser);
    assert.equal(again.hops.length, 1);
    assert.equal((await exchange(config, again)).claims().sub, DEFAULT_USER.sub);

    const other = {
      sub: 'proconnect-agent-2', email: 'zoe.lefevre@exemple.gouv.fr', given_name: 'Zoé',
      usual_name: 'Lefèvre-Müller', siret: '21750001600019', uid: '42',
    };
    await control(p.issuer, 'user', other);
    try {
      const b = await authorize(config, p.issuer, browser);
      assert.equal(b.hops.length, 3);
      const tokens = await exchange(config, b);
      assert.equal(tokens.claims().sub, other.sub);
      assert.deepEqual(await oidc.fetchUserInfo(config, tokens.access_token, other.sub), other);
    } finally {
      await control(p.issuer, 'user', DEFAULT_USER);
    }
  });

  test('acr and amr come in the id_token when asked (ProConnect-like)', async () => {
    const config = await rp(p.issuer);
    const plain = await exchange(config, await authorize(config, p.issuer));
    assert.equal(plain.claims().amr, undefined);

    const claims = JSON.stringify({ id_token: { amr: { essential: true }, acr: { essential: true } } });
    const dflt = await exchange(config, await authorize(config, p.issuer, new Browser(), { claims }));
    assert.deepEqual([dflt.claims().acr, dflt.claims().amr], ['eidas1', ['pwd']]);

    await control(p.issuer, 'user', { ...DEFAULT_USER, acr: 'eidas2', amr: ['pwd', 'mfa'] });
    try {
      const mfa = await exchange(config, await authorize(config, p.issuer, new Browser(), { claims }));
      assert.deepEqual([mfa.claims().acr, mfa.claims().amr], ['eidas2', ['pwd', 'mfa']]);
      const userinfo = await oidc.fetchUserInfo(config, mfa.access_token, DEFAULT_USER.sub);
      assert.deepEqual(userinfo, DEFAULT_USER, 'acr/amr are not userinfo claims');
    } finally {
      await control(p.issuer, 'user', DEFAULT_USER);
    }
  });

  test('end_session: one 303 to post_logout_redirect_uri, then login is needed again', async () => {
    const config = await rp(p.issuer);
    const browser = new Browser();
    const tokens = await exchange(config, await authorize(config, p.issuer, browser));
    const url = oidc.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token,
      post_logout_redirect_uri: POST_LOGOUT_URI,
      state: 'au-revoir',
    });
    const { final, hops } = await browser.follow(url, p.issuer);
    assert.equal(hops.length, 1);
    assert.equal(hops[0].status, 303);
    assert.equal(final.href, `${POST_LOGOUT_URI}?state=au-revoir`);
    const next = await authorize(config, p.issuer, browser);
    assert.equal(next.hops.length, 3, 'the session is gone');
  });

  describe('tamper modes', () => {
    const expectations = {
      wrong_nonce: /nonce/,
      expired: /"exp"/,
      bad_signature: /signature/i,
      wrong_audience: /"aud"/,
      wrong_issuer: /"iss"/,
    };

    after(async () => { await control(p.issuer, 'mode', { mode: 'normal' }); });

    for (const [mode, message] of Object.entries(expectations)) {
      test(`${mode}: openid-client rejects the id_token`, async () => {
        const config = await rp(p.issuer);
        await control(p.issuer, 'mode', { mode });
        const a = await authorize(config, p.issuer);
        await assert.rejects(exchange(config, a), (err) => {
          // openid-client wraps the precise reason (from oauth4webapi) in err.cause.
          const reason = `${err.message} / ${err.cause?.message ?? ''}`;
          assert.match(reason, message);
          return true;
        });
      });
    }

    // Pins a fact for whoever writes a relying party: openid-client 6 does not verify the
    // signature of an id_token that comes straight from the token endpoint unless asked
    // (enableNonRepudiationChecks), which OIDC Core 3.1.3.7 point 6 allows over TLS.
    test('bad_signature passes openid-client without enableNonRepudiationChecks', async () => {
      const config = await rp(p.issuer, { nonRepudiation: false });
      await control(p.issuer, 'mode', { mode: 'bad_signature' });
      const tokens = await exchange(config, await authorize(config, p.issuer));
      assert.equal(tokens.claims().sub, DEFAULT_USER.sub);
    });

    test('the tampered claims are the ones asked for, the rest untouched', async () => {
      const config = await rp(p.issuer, { nonRepudiation: false });
      const raw = async (mode) => {
        await control(p.issuer, 'mode', { mode });
        const a = await authorize(config, p.issuer);
        const body = new URLSearchParams({
          grant_type: 'authorization_code',
          code: a.callback.searchParams.get('code'),
          redirect_uri: REDIRECT_URI,
          code_verifier: a.codeVerifier,
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
        });
        const res = await fetch(`${p.issuer}/token`, { method: 'POST', body });
        assert.equal(res.status, 200);
        const { id_token: idToken } = await res.json();
        return { idToken, claims: decodeJwt(idToken), nonce: a.nonce };
      };
      const now = Math.floor(Date.now() / 1000);
      const jwks = createRemoteJWKSet(new URL(`${p.issuer}/jwks`));

      const normal = await raw('normal');
      await jwtVerify(normal.idToken, jwks, { issuer: p.issuer, audience: CLIENT_ID });
      assert.equal(normal.claims.nonce, normal.nonce);

      const t = await raw('wrong_nonce');
      assert.notEqual(t.claims.nonce, t.nonce);
      await jwtVerify(t.idToken, jwks); // still validly signed

      const e = await raw('expired');
      assert.ok(e.claims.exp <= now - 3000 && e.claims.iat < e.claims.exp);

      const s = await raw('bad_signature');
      await assert.rejects(jwtVerify(s.idToken, jwks), /signature verification failed/);
      assert.equal(s.claims.nonce, s.nonce);

      assert.equal((await raw('wrong_audience')).claims.aud, 'autre-client');
      assert.equal((await raw('wrong_issuer')).claims.iss, 'http://evil.example');

      const f = await raw('future_iat');
      assert.ok(f.claims.iat >= now + 3000);
      await jwtVerify(f.idToken, jwks, { issuer: p.issuer, audience: CLIENT_ID }); // signed
    });

    // openid-client 6 (oauth4webapi) has no check that "iat" is not in the future (neither
    // had 5.x): OIDC Core 3.1.3.7 point 10 leaves it to the relying party. This test pins
    // that fact, and shows the check a relying party must add (here with jose).
    test('future_iat: openid-client does not check it; an explicit iat check rejects it', async () => {
      const config = await rp(p.issuer);
      await control(p.issuer, 'mode', { mode: 'future_iat' });
      const a = await authorize(config, p.issuer);
      const tokens = await exchange(config, a); // accepted by openid-client 6.8.9
      const jwks = createRemoteJWKSet(new URL(`${p.issuer}/jwks`));
      await assert.rejects(
        jwtVerify(tokens.id_token, jwks, {
          issuer: p.issuer, audience: CLIENT_ID, maxTokenAge: '10 minutes', clockTolerance: 60,
        }),
        /"iat" claim timestamp check failed \(it should be in the past\)/,
      );
    });

    test('the mode endpoint refuses an unknown mode', async () => {
      const res = await fetch(`${p.issuer}/__test/mode`, { method: 'POST', body: '{"mode":"nope"}' });
      assert.equal(res.status, 400);
    });
  });

  test('exits cleanly on SIGTERM', async () => {
    const q = await startProvider();
    assert.equal(await q.stop(), 0);
  });
});

describe('oidc test provider with --claims-in-id-token --userinfo-jwt', () => {
  let p;
  before(async () => { p = await startProvider(['--claims-in-id-token', '--userinfo-jwt']); });
  after(async () => { await p?.stop(); });

  test('claims in the id_token, userinfo as a signed JWT', async () => {
    const config = await rp(p.issuer, { metadata: { userinfo_signed_response_alg: 'RS256' } });
    const a = await authorize(config, p.issuer);
    const tokens = await exchange(config, a);
    const { nonce, sub, email, given_name: gn, usual_name: un, siret, uid } = tokens.claims();
    assert.equal(nonce, a.nonce);
    assert.deepEqual({ sub, email, given_name: gn, usual_name: un, siret, uid }, DEFAULT_USER);

    const res = await fetch(`${p.issuer}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.match(res.headers.get('content-type'), /^application\/jwt/);
    const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, sub);
    for (const [k, v] of Object.entries(DEFAULT_USER)) assert.equal(userinfo[k], v, k);
  });
});
