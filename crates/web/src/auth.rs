//! Sessions, CSRF and authorization guards as extractors: a handler that takes a guard
//! cannot run unless the guard could be built for this request.

use relais_domain::ids::StructureId;
use std::collections::HashMap;
use std::marker::PhantomData;

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::authz::{
    Actor, AdminAccess, AidantAccess, Denied, HubAccess, MediateurAccess, StructureAccess,
};
use relais_domain::comptes::Role;
use relais_domain::comptes::sessions::{Session, Stage};
use relais_services::comptes as svc;
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::error::{error_page, internal};
use crate::pages::PageContext;

pub const SESSION_COOKIE: &str = "relais_session";
pub const CSRF_COOKIE: &str = "relais_csrf";

/// The value of cookie `name` in the request.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, whole site; `Secure` behind HTTPS.
/// `max_age` 0 deletes the cookie; `None` keeps it for the browser session.
pub fn set_cookie(name: &str, value: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie values are ASCII")
}

/// The CSRF token of this visitor (from the cookie, or new: the security middleware then
/// sets the cookie). Every form carries it in a hidden field named `csrf`.
#[derive(Clone, Debug)]
pub struct CsrfToken(pub String);

/// A form whose CSRF token matches the visitor's cookie, and whose `Origin`, when sent,
/// is this site. Anything else is refused before the handler runs.
pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let ctx = PageContext::read(&mut parts, state).await;
        let bytes = axum::body::to_bytes(body, 64 * 1024)
            .await
            .map_err(|_| csrf_refused(&ctx))?;
        let field: CsrfField =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| csrf_refused(&ctx))?;
        if !csrf_verified(&parts.headers, field.csrf.as_deref()) {
            return Err(csrf_refused(&ctx));
        }
        let value = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            error_page(
                &ctx,
                StatusCode::BAD_REQUEST,
                "Formulaire illisible",
                &format!("Le formulaire reçu est incomplet ou mal formé : {e}."),
            )
        })?;
        Ok(CsrfForm(value))
    }
}

/// A JSON body sent by a signed-in person's device: its `x-csrf-token` header matches the
/// visitor's cookie, as a form's field would (see [`csrf_verified`]). Anything else is
/// refused with a problem before the handler runs.
pub struct CsrfJson<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for CsrfJson<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = req
            .headers()
            .get("x-csrf-token")
            .and_then(|t| t.to_str().ok());
        if !csrf_verified(req.headers(), token) {
            return Err(crate::error::problem(
                StatusCode::FORBIDDEN,
                "csrf",
                "Demande non vérifiée",
                "L’en-tête x-csrf-token doit reprendre le cookie relais_csrf de cette session.",
                serde_json::Map::new(),
            ));
        }
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(CsrfJson(value)),
            Err(e) => Err(crate::error::problem(
                e.status(),
                "json_invalide",
                "Requête illisible",
                &format!(
                    "Le corps JSON est incomplet ou mal formé : {}",
                    e.body_text()
                ),
                serde_json::Map::new(),
            )),
        }
    }
}

/// Whether a form may be trusted: its `Origin`, when sent, is this site, and its `csrf`
/// field (`token`) matches the visitor's cookie, compared in constant time. [`CsrfForm`]
/// checks url-encoded forms with it; a multipart form's handler calls it itself.
pub fn csrf_verified(headers: &HeaderMap, token: Option<&str>) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        if origin.split_once("://").map_or(origin, |(_, h)| h) != host {
            return false;
        }
    }
    match (cookie(headers, CSRF_COOKIE), token) {
        (Some(a), Some(b)) => !a.is_empty() && constant_time_eq(a.as_bytes(), b.as_bytes()),
        _ => false,
    }
}

/// The 403 « Formulaire expiré » page, for a form that fails [`csrf_verified`].
pub fn csrf_refused(ctx: &PageContext) -> Response {
    error_page(
        ctx,
        StatusCode::FORBIDDEN,
        "Formulaire expiré",
        "Ce formulaire n’a pas pu être vérifié (il a peut-être été ouvert il y a longtemps, ou depuis un autre site). Revenez en arrière, rechargez la page et renvoyez-le.",
    )
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `FromRequestParts` for a guard: `body` makes it from the request's `parts` and the
/// app's `state`, or refuses with a response.
macro_rules! guard {
    ($guard:ty, |$parts:ident, $state:ident| $body:block) => {
        impl FromRequestParts<AppState> for $guard {
            type Rejection = Response;

            async fn from_request_parts(
                $parts: &mut Parts,
                $state: &AppState,
            ) -> Result<Self, Self::Rejection> {
                $body
            }
        }
    };
}

/// The session behind the request's cookie, at any stage of the login, if alive.
pub struct MaybeSession(pub Option<Session>);

guard!(MaybeSession, |parts, state| {
    if let Some(found) = parts.extensions.get::<ResolvedSession>() {
        return Ok(MaybeSession(found.0.clone()));
    }
    let (session, caller) = match cookie(&parts.headers, SESSION_COOKIE) {
        None => (None, None),
        Some(token) => match svc::resolve(&state.db, &state.policy, &token)
            .await
            .map_err(|e| internal(format_args!("session illisible : {e}")))?
        {
            Some((session, caller)) => (Some(session), caller),
            None => (None, None),
        },
    };
    parts.extensions.insert(ResolvedSession(session.clone()));
    parts.extensions.insert(ResolvedCaller(caller));
    Ok(MaybeSession(session))
});

/// Resolved once per request, whatever the number of extractors asking.
#[derive(Clone)]
struct ResolvedSession(Option<Session>);

/// Where a visitor who must log in is sent, coming back here afterwards.
fn to_login(parts: &Parts) -> Response {
    if parts.uri.path().starts_with("/api/") {
        return crate::error::problem(
            StatusCode::UNAUTHORIZED,
            "non_connecte",
            "Connexion requise",
            "Connectez-vous à Relais sur cet appareil, puis renvoyez la demande.",
            serde_json::Map::new(),
        );
    }
    let path = parts
        .uri
        .path_and_query()
        .map(axum::http::uri::PathAndQuery::as_str)
        .unwrap_or("/");
    Redirect::to(&format!("/connexion?suite={}", urlencode(path))).into_response()
}

/// Percent-encodes a query value (a path's `/` kept readable).
pub fn urlencode(s: &str) -> String {
    relais_domain::text::percent_encode(s, b"/")
}

/// A login waiting for its second factor, or for its enrolment.
pub struct PendingLogin(pub Session);

guard!(PendingLogin, |parts, state| {
    match MaybeSession::from_request_parts(parts, state).await?.0 {
        Some(s) if s.stage != Stage::Active => Ok(PendingLogin(s)),
        Some(_) => Err(Redirect::to("/compte").into_response()),
        None => Err(Redirect::to("/connexion").into_response()),
    }
});

/// A complete login, with the person's live roles.
pub struct Authenticated {
    pub session: Session,
    pub actor: Actor,
}

guard!(Authenticated, |parts, state| {
    let session = MaybeSession::from_request_parts(parts, state).await?.0;
    match (session, caller(parts, state).await?) {
        (Some(session), Some(caller)) => Ok(Authenticated {
            session,
            actor: caller.actor,
        }),
        _ => Err(to_login(parts)),
    }
});

/// The person behind the request's complete session, read with the session once per
/// request whatever the number of extractors asking (the guard and the page's header).
pub async fn caller(parts: &mut Parts, state: &AppState) -> Result<Option<svc::Caller>, Response> {
    MaybeSession::from_request_parts(parts, state).await?;
    Ok(parts
        .extensions
        .get::<ResolvedCaller>()
        .and_then(|found| found.0.clone()))
}

#[derive(Clone)]
struct ResolvedCaller(Option<svc::Caller>);

/// The proof `check` makes from the logged-in actor's roles. A visitor is sent to log in;
/// a person without the right gets the 403 « Accès refusé » page saying why.
async fn authorize<T>(
    parts: &mut Parts,
    state: &AppState,
    check: impl FnOnce(&Actor) -> Result<T, Denied>,
) -> Result<T, Response> {
    let auth = Authenticated::from_request_parts(parts, state).await?;
    match check(&auth.actor) {
        Ok(proof) => Ok(proof),
        Err(denied) => {
            let ctx = PageContext::read(parts, state).await;
            Err(error_page(
                &ctx,
                StatusCode::FORBIDDEN,
                "Accès refusé",
                &format!("Vous ne pouvez pas ouvrir cette page : {denied}."),
            ))
        }
    }
}

/// The roles a [`InStructure`] guard requires.
pub trait RequiredRoles: Send + Sync {
    const ROLES: &'static [Role];
}

/// Référents only.
pub struct Referents;
impl RequiredRoles for Referents {
    const ROLES: &'static [Role] = &[Role::Referent];
}

/// Habilitated aidants only.
pub struct Aidants;
impl RequiredRoles for Aidants {
    const ROLES: &'static [Role] = &[Role::Aidant];
}

/// The structure's aidants and référents: who follows its mandates.
pub struct MandateTeam;
impl RequiredRoles for MandateTeam {
    const ROLES: &'static [Role] = &[Role::Aidant, Role::Referent];
}

/// Prescripteurs only: they hand out pass booklets.
pub struct Prescripteurs;
impl RequiredRoles for Prescripteurs {
    const ROLES: &'static [Role] = &[Role::Prescripteur];
}

/// Who takes a diagnostic with a person: mediators, aidants and prescripteurs.
pub struct Orienteurs;
impl RequiredRoles for Orienteurs {
    const ROLES: &'static [Role] = &[Role::Mediateur, Role::Aidant, Role::Prescripteur];
}

/// Any member of the structure, whatever their role.
pub struct Members;
impl RequiredRoles for Members {
    const ROLES: &'static [Role] = Role::ALL;
}

/// Proof that the actor holds one of `R::ROLES` in the structure of the path's `{id}`.
pub struct InStructure<R: RequiredRoles> {
    pub access: StructureAccess,
    _roles: PhantomData<R>,
}

impl<R: RequiredRoles> FromRequestParts<AppState> for InStructure<R> {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let id = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|Path(params)| params.get("id")?.parse::<StructureId>().ok());
        // Login first, then a path without a structure is not found, then the roles.
        let access = authorize(parts, state, |actor| {
            id.map(|id| actor.structure(id, R::ROLES)).transpose()
        })
        .await?;
        match access {
            Some(access) => Ok(InStructure {
                access,
                _roles: PhantomData,
            }),
            None => Err(crate::error::not_found_page(parts, state).await),
        }
    }
}

/// Proof that the actor is a mediator of the structure of the path's `{id}`.
pub struct MediateurDe {
    pub access: MediateurAccess,
}

guard!(MediateurDe, |parts, state| {
    let id = Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .ok()
        .and_then(|Path(params)| params.get("id")?.parse::<StructureId>().ok());
    let access = authorize(parts, state, |actor| {
        id.map(|id| actor.mediateur(id)).transpose()
    })
    .await?;
    match access {
        Some(access) => Ok(MediateurDe { access }),
        None => Err(crate::error::not_found_page(parts, state).await),
    }
});

/// A guard holding the proof one `Actor` method makes, with nothing from the path.
macro_rules! proof_guard {
    ($(#[$doc:meta])* $guard:ident($proof:ty) = $check:path) => {
        $(#[$doc])*
        pub struct $guard {
            pub access: $proof,
        }

        guard!($guard, |parts, state| {
            let access = authorize(parts, state, $check).await?;
            Ok($guard { access })
        });
    };
}

proof_guard! {
    /// A hub's coordinator (see [`Actor::hub`]).
    HubCoordinator(HubAccess) = Actor::hub
}

proof_guard! {
    /// An habilitated aidant of at least one structure (see [`Actor::aidant`]).
    Aidant(AidantAccess) = Actor::aidant
}

proof_guard! {
    /// Proof that the actor is a national administrator.
    Admin(AdminAccess) = Actor::admin
}

/// Proof that the actor confirmed their second factor recently: sensitive actions (granting
/// a role, inviting, deactivating) take it. Past the step-up delay, the person is sent to
/// confirm it, then back to the page they came from.
pub struct Fresh(());

guard!(Fresh, |parts, state| {
    let auth = Authenticated::from_request_parts(parts, state).await?;
    if svc::is_fresh(&auth.session) {
        return Ok(Fresh(()));
    }
    // A form's data cannot survive the detour: come back to the page that showed it.
    let back = if parts.method == axum::http::Method::GET {
        parts.uri.path_and_query().map(ToString::to_string)
    } else {
        same_site_referer(parts)
    };
    let back = crate::comptes::safe_next(back.as_deref());
    Err(Redirect::to(&format!(
        "/connexion/confirmation?suite={}",
        urlencode(&back)
    ))
    .into_response())
});

/// The path of the `Referer`, when it is a page of this site.
fn same_site_referer(parts: &Parts) -> Option<String> {
    let referer = parts.headers.get(header::REFERER)?.to_str().ok()?;
    let host = parts.headers.get(header::HOST)?.to_str().ok()?;
    let rest = referer.split_once("://")?.1;
    let (referer_host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    (referer_host == host && !path.is_empty()).then(|| path.to_string())
}
