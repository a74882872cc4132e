#!/usr/bin/env python3
"""A démarche service as an unmodified PyPI authlib would be: the client side of Relais'
OpenID Connect provider, for the tests of crates/web/tests/it/demarches.rs. Test-only; the
same commands and JSON as demarche.mjs (see there):

  python3 demarche.py start|exchange|userinfo '<json>'

The ID token is checked by authlib.jose with the provider's keys (JWKS) and authlib's
CodeIDToken rules (iss, aud, exp, iat, nonce).
"""

import json
import sys
import warnings

warnings.simplefilter("ignore")

import requests  # noqa: E402
from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.jose import JsonWebKey, jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken  # noqa: E402


def out(value):
    sys.stdout.write(json.dumps(value) + "\n")


def failure(e):
    error = getattr(e, "error", None) or type(e).__name__
    return {"ok": False, "error": error, "message": str(e)}


def tamper(jwt_text):
    h, payload, s = jwt_text.split(".")
    i = len(payload) // 2
    c = "B" if payload[i] == "A" else "A"
    return ".".join([h, payload[:i] + c + payload[i + 1:], s])


def main():
    command, p = sys.argv[1], json.loads(sys.argv[2])
    meta = requests.get(p["issuer"] + "/.well-known/openid-configuration", timeout=10).json()
    session = OAuth2Session(
        p["client_id"],
        p["client_secret"],
        scope=p.get("scope"),
        redirect_uri=p["redirect_uri"],
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    if command == "start":
        verifier = generate_token(48)
        nonce = generate_token(20)
        url, state = session.create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        out({"url": url, "code_verifier": verifier, "state": state, "nonce": nonce})
    elif command == "exchange":
        try:
            kwargs = {"authorization_response": p["callback"], "state": p["state"]}
            if p.get("code_verifier"):
                kwargs["code_verifier"] = p["code_verifier"]
            token = session.fetch_token(meta["token_endpoint"], **kwargs)
            id_token = token["id_token"]
            if p.get("tamper"):
                id_token = tamper(id_token)
            keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
            claims = jwt.decode(
                id_token,
                keys,
                claims_cls=CodeIDToken,
                claims_options={
                    "iss": {"essential": True, "value": p["issuer"]},
                    "aud": {"essential": True, "value": p["client_id"]},
                },
                claims_params={"nonce": p["nonce"], "client_id": p["client_id"]},
            )
            claims.validate()
            out({"ok": True, "access_token": token["access_token"], "claims": dict(claims)})
        except Exception as e:  # the test reads which refusal it was
            out(failure(e))
    elif command == "userinfo":
        session.token = {"access_token": p["access_token"], "token_type": "Bearer"}
        res = session.get(meta["userinfo_endpoint"], timeout=10)
        if res.status_code != 200:
            body = res.json() if res.headers.get("content-type", "").startswith("application/json") else {}
            out({"ok": False, "error": body.get("error", str(res.status_code)), "message": body.get("error_description", "")})
            return
        claims = res.json()
        if claims.get("sub") != p["sub"]:
            out({"ok": False, "error": "sub_mismatch", "message": claims.get("sub", "")})
            return
        out({"ok": True, "claims": claims})
    else:
        sys.stderr.write(f"commande inconnue : {command}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
