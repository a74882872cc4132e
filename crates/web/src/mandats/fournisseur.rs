//! Relais as an OpenID Connect provider, over HTTP: discovery, keys, `/authorize` (the aidant
//! picks the usager), `/token` and `/userinfo` for the démarche services. The rules are in
//! `relais_services::mandats::fournisseur`.

use askama::Template;
use std::sync::Arc;

use axum::extract::Query;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Json};
use relais_domain::calendrier::{date_fr, now_ms};
use relais_domain::ids::AutorisationId;
use relais_services::mandats::fournisseur::{
    self as svc, AuthorizeError, AuthorizeParams, ClientAuth, Demande, Fournisseur, TokenError,
    TokenForm, UserinfoError,
};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Aidant, CsrfForm};
use crate::error::{error_page, internal};
use crate::pages::{Page, PageContext, render};
use crate::security::FormTarget;

/// The provider, shared by every request (it keeps the clients and keys it read).
pub type Shared = Extension<Arc<Fournisseur>>;

/// A JSON answer nobody may cache (tokens, claims).
fn no_store(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        Json(body),
    )
        .into_response()
}

pub async fn discovery(Extension(f): Shared) -> Response {
    Json(f.discovery()).into_response()
}

pub async fn jwks(axum::extract::State(state): axum::extract::State<AppState>) -> Response {
    match svc::jwks(&state.db).await {
        Ok(keys) => Json(keys).into_response(),
        Err(e) => internal(e),
    }
}

/// One usager the aidant may choose.
pub struct Choix {
    pub autorisation: AutorisationId,
    pub nom: String,
    pub naissance: String,
    pub structure: String,
    pub fin: String,
}

#[derive(Template)]
#[template(path = "oidc_autoriser.html")]
pub struct AuthorizePage {
    pub ctx: PageContext,
    pub service: String,
    pub demarche: &'static str,
    pub choix: Vec<Choix>,
    pub params: Vec<(&'static str, String)>,
    pub error: Option<String>,
}

fn hidden(d: &Demande) -> Vec<(&'static str, String)> {
    vec![
        ("client_id", d.client.client_id.clone()),
        ("redirect_uri", d.redirect_uri.clone()),
        ("response_type", "code".into()),
        ("scope", d.scope.clone()),
        ("state", d.state.clone()),
        ("nonce", d.nonce.clone()),
        ("code_challenge", d.code_challenge.clone()),
        ("code_challenge_method", "S256".into()),
    ]
}

fn refusal(f: &Fournisseur, ctx: &PageContext, e: AuthorizeError) -> Response {
    match e {
        AuthorizeError::Store(e) => internal(e),
        AuthorizeError::Affiche(message) => error_page(
            ctx,
            StatusCode::BAD_REQUEST,
            "Demande de connexion refusée",
            &message,
        ),
        AuthorizeError::Renvoi {
            redirect_uri,
            state: s,
            error,
            description,
        } => {
            let mut pairs = vec![
                ("error", error),
                ("error_description", description.as_str()),
            ];
            if let Some(s) = s.as_deref() {
                pairs.push(("state", s));
            }
            Redirect::to(&f.renvoi(&redirect_uri, &pairs)).into_response()
        }
    }
}

async fn authorize_page(
    state: &AppState,
    ctx: PageContext,
    aidant: &Aidant,
    demande: &Demande,
    error: Option<String>,
) -> Response {
    let now = now_ms();
    let found = match svc::usagers(&state.db, &aidant.access, demande.demarche, now).await {
        Ok(found) => found,
        Err(e) => return internal(e),
    };
    let choix = found
        .into_iter()
        .map(|u| Choix {
            autorisation: u.autorisation.id,
            nom: format!("{} {}", u.usager.family_name, u.usager.given_name),
            naissance: super::date_iso_fr(&u.usager.birthdate),
            structure: u.structure_nom,
            fin: date_fr(u.autorisation.autorisation.fin),
        })
        .collect();
    let mut res = render(AuthorizePage {
        ctx,
        service: demande.client.nom.clone(),
        demarche: demande.demarche.titre(),
        choix,
        params: hidden(demande),
        error,
    });
    // The form's answer sends the browser to the démarche: the CSP of the page holding the
    // form is the one browsers apply to where it may go, redirects included.
    res.extensions_mut()
        .insert(FormTarget(demande.redirect_uri.clone()));
    res
}

/// The démarche sent the aidant here: the request checked, then the usagers they may act
/// for in it.
pub async fn authorize(
    Page(state, ctx): Page,
    Extension(f): Shared,
    aidant: Aidant,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    match svc::verifier_demande(&state.db, &f, &p, now_ms()).await {
        Ok(demande) => authorize_page(&state, ctx, &aidant, &demande, None).await,
        Err(e) => refusal(&f, &ctx, e),
    }
}

#[derive(Deserialize)]
pub struct ChoiceForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    // A string: numbers do not survive `flatten` with url-encoded forms.
    autorisation: Option<String>,
}

/// The aidant chose the usager: a code, and back to the démarche.
pub async fn choose(
    Page(state, ctx): Page,
    Extension(f): Shared,
    aidant: Aidant,
    CsrfForm(form): CsrfForm<ChoiceForm>,
) -> Response {
    let demande = match svc::verifier_demande(&state.db, &f, &form.params, now_ms()).await {
        Ok(d) => d,
        Err(e) => return refusal(&f, &ctx, e),
    };
    let Some(autorisation) = form
        .autorisation
        .as_deref()
        .and_then(|a| a.parse::<AutorisationId>().ok())
    else {
        let error = "Choisissez la personne pour qui vous faites cette démarche.".to_string();
        return authorize_page(&state, ctx, &aidant, &demande, Some(error)).await;
    };
    match svc::autoriser(
        &state.db,
        &f,
        &aidant.access,
        &demande,
        autorisation,
        now_ms(),
    )
    .await
    {
        Ok(url) => {
            let mut res = Redirect::to(&url).into_response();
            // The CSP lets this form's answer go to the démarche's address only.
            res.extensions_mut()
                .insert(FormTarget(demande.redirect_uri.clone()));
            res
        }
        Err(AuthorizeError::Affiche(message)) => {
            authorize_page(&state, ctx, &aidant, &demande, Some(message)).await
        }
        Err(e) => refusal(&f, &ctx, e),
    }
}

/// The client's credentials: HTTP Basic (RFC 6749 §2.3.1: each part form-urlencoded), else
/// the form's `client_id` and `client_secret`.
fn client_auth(headers: &HeaderMap, form: &TokenForm) -> ClientAuth {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| data_encoding::BASE64.decode(b.trim().as_bytes()).ok())
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            let (id, secret) = pair.split_once(':')?;
            let decode = |s: &str| {
                serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={s}"))
                    .ok()
                    .and_then(|mut v| v.pop())
                    .map(|(_, v)| v)
            };
            Some((decode(id)?, decode(secret)?))
        });
    match basic {
        Some((id, secret)) => ClientAuth {
            client_id: Some(id),
            client_secret: Some(secret),
        },
        None => ClientAuth {
            client_id: form.client_id.clone(),
            client_secret: form.client_secret.clone(),
        },
    }
}

pub async fn token(
    axum::extract::State(state): axum::extract::State<AppState>,
    Extension(f): Shared,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<TokenForm>(&body) else {
        return no_store(
            StatusCode::BAD_REQUEST,
            serde_json::json!({"error": "invalid_request", "error_description": "formulaire illisible"}),
        );
    };
    let auth = client_auth(&headers, &form);
    match svc::jeton(&state.db, &f, &auth, &form, now_ms()).await {
        Ok(answer) => no_store(
            StatusCode::OK,
            serde_json::to_value(answer).unwrap_or_default(),
        ),
        Err(TokenError::Store(e)) => internal(e),
        Err(e) => {
            let status = if matches!(e, TokenError::InvalidClient) {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::BAD_REQUEST
            };
            let mut res = no_store(
                status,
                serde_json::json!({"error": e.code_oauth(), "error_description": e.to_string()}),
            );
            if status == StatusCode::UNAUTHORIZED {
                res.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"relais\""),
                );
            }
            res
        }
    }
}

pub async fn userinfo(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: HeaderMap,
) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let refuse = |description: &str| {
        let mut res = no_store(
            StatusCode::UNAUTHORIZED,
            serde_json::json!({"error": "invalid_token", "error_description": description}),
        );
        let value = format!("Bearer error=\"invalid_token\", error_description=\"{description}\"");
        if let Ok(v) = HeaderValue::from_str(&value.replace(|c: char| !c.is_ascii(), "_")) {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        res
    };
    let Some(bearer) = bearer else {
        return refuse("jeton absent");
    };
    match svc::userinfo(&state.db, bearer, now_ms()).await {
        Ok(claims) => no_store(StatusCode::OK, claims),
        Err(UserinfoError::InvalidToken(why)) => refuse(why),
        Err(UserinfoError::Store(e)) => internal(e),
    }
}
