#!/usr/bin/env node
// A démarche service as an unmodified npm openid-client (v6) would be: the client side of
// Relais' OpenID Connect provider, for the tests of crates/web/tests/it/demarches.rs.
// Test-only; each call does one step of the flow and prints one JSON line on stdout.
//
//   node demarche.mjs start    '{"issuer","client_id","client_secret","redirect_uri","scope"}'
//     → {"url","code_verifier","state","nonce"}
//   node demarche.mjs exchange '{…, "callback","code_verifier","state","nonce","tamper"?}'
//     → {"ok":true,"access_token","claims"} | {"ok":false,"error","message"}
//   node demarche.mjs userinfo '{…, "access_token","sub"}'
//     → {"ok":true,"claims"} | {"ok":false,"error","message"}
//
// "tamper": true changes one character of the ID token's payload on its way from the
// token endpoint to the library (through openid-client's customFetch hook): the library
// must refuse it.

import * as client from 'openid-client';

const [command, raw] = process.argv.slice(2);
const p = JSON.parse(raw ?? '{}');

function print(value) {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

// The refusal as the library reports it; for a challenge (401 with WWW-Authenticate), the
// OAuth error of the body it comes with.
async function failure(e) {
  let body = null;
  if (e?.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE' && e.response && !e.response.bodyUsed) {
    body = await e.response.json().catch(() => null);
  }
  return {
    ok: false,
    error: body?.error ?? e?.error ?? e?.cause?.error ?? e?.code ?? 'erreur',
    status: e?.status ?? e?.cause?.status ?? null,
    message: String(body?.error_description ?? e?.error_description ?? e?.message ?? e),
  };
}

// One character of the payload replaced: the signature no longer matches.
function tamperJwt(jwt) {
  const [h, payload, s] = jwt.split('.');
  const i = Math.floor(payload.length / 2);
  const c = payload[i] === 'A' ? 'B' : 'A';
  return [h, payload.slice(0, i) + c + payload.slice(i + 1), s].join('.');
}

async function configuration() {
  const config = await client.discovery(
    new URL(p.issuer),
    p.client_id,
    { client_secret: p.client_secret, id_token_signed_response_alg: 'EdDSA' },
    client.ClientSecretBasic(p.client_secret),
    { execute: [client.allowInsecureRequests] },
  );
  if (p.tamper) {
    config[client.customFetch] = async (url, options) => {
      const res = await fetch(url, options);
      if (!String(url).endsWith('/token') || res.status !== 200) return res;
      const body = await res.json();
      body.id_token = tamperJwt(body.id_token);
      return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
    };
  }
  return config;
}

try {
  const config = await configuration();
  switch (command) {
    case 'start': {
      const code_verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: p.redirect_uri,
        scope: p.scope,
        code_challenge: await client.calculatePKCECodeChallenge(code_verifier),
        code_challenge_method: 'S256',
        state,
        nonce,
      });
      print({ url: url.href, code_verifier, state, nonce });
      break;
    }
    case 'exchange': {
      try {
        const checks = { expectedState: p.state, expectedNonce: p.nonce };
        if (p.code_verifier) checks.pkceCodeVerifier = p.code_verifier;
        const tokens = await client.authorizationCodeGrant(config, new URL(p.callback), checks,
          p.redirect_uri_sent ? { redirect_uri: p.redirect_uri_sent } : undefined);
        print({ ok: true, access_token: tokens.access_token, claims: tokens.claims() });
      } catch (e) {
        print(await failure(e));
      }
      break;
    }
    case 'userinfo': {
      try {
        print({ ok: true, claims: await client.fetchUserInfo(config, p.access_token, p.sub) });
      } catch (e) {
        print(await failure(e));
      }
      break;
    }
    default:
      console.error(`commande inconnue : ${command}`);
      process.exit(2);
  }
} catch (e) {
  print(await failure(e));
  process.exit(1);
}
