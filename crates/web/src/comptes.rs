//! Login (password, then second factor or its enrolment), logout, my account, team.

use askama::Template;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::calendrier::date_heure_fr;
use relais_domain::comptes::Role;
use relais_domain::totp;
use relais_services::comptes::{self as svc, Client, LoginError};
use relais_store::comptes as repo;
use relais_store::sessions::Stage;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{
    Authenticated, CsrfForm, InStructure, MaybeSession, PendingLogin, Referents, SESSION_COOKIE,
    set_cookie,
};
use crate::error::ApiError;
use crate::error::internal;
use crate::pages::{PageContext, render};

/// Where to go after the login: a path of this site only, never another host. Anything
/// that is not a plain relative reference starting with a single `/` (a control character
/// could be dropped by the browser and turn `/\t/evil.com` into `//evil.com`; it would
/// also make the `Location` header unbuildable) gives the account page.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(p) if is_local_path(p) => p.to_string(),
        _ => "/compte".to_string(),
    }
}

fn is_local_path(p: &str) -> bool {
    let b = p.as_bytes();
    b.first() == Some(&b'/')
        && !matches!(b.get(1), Some(b'/' | b'\\'))
        // Visible ASCII only: no control character (C0, DEL, C1), no space, no backslash.
        && b.iter().all(|c| (0x21..0x7f).contains(c) && *c != b'\\')
        && !p.contains("://")
        && p.parse::<axum::http::uri::PathAndQuery>().is_ok()
        && axum::http::HeaderValue::from_str(p).is_ok()
}

/// The address and browser of the visitor, for rate limits and the journal. The address
/// is the socket peer's, or the one a trusted proxy forwards ([`crate::client`]).
pub struct ClientInfo(pub Client);

impl FromRequestParts<AppState> for ClientInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let ip = crate::client::client_ip(
            &parts.extensions,
            &parts.headers,
            &state.config.trusted_proxies,
        )
        .map_or_else(|| "inconnue".to_string(), |ip| ip.to_string());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        Ok(ClientInfo(Client { ip, user_agent }))
    }
}

#[derive(Template)]
#[template(path = "connexion.html")]
pub struct LoginPage {
    pub ctx: PageContext,
    pub email: String,
    pub next: String,
    pub error: Option<String>,
    /// Show the ProConnect button (ProConnect is configured on this instance).
    pub proconnect: bool,
}

#[derive(Deserialize)]
pub struct NextParam {
    suite: Option<String>,
}

pub async fn login_form(
    State(state): State<AppState>,
    ctx: PageContext,
    MaybeSession(session): MaybeSession,
    Query(q): Query<NextParam>,
) -> Response {
    let next = safe_next(q.suite.as_deref());
    if session.is_some_and(|s| s.stage == Stage::Active) {
        return Redirect::to(&next).into_response();
    }
    render(LoginPage {
        ctx,
        email: String::new(),
        next,
        error: None,
        proconnect: state.proconnect.is_some(),
    })
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    suite: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    ctx: PageContext,
    ClientInfo(client): ClientInfo,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Response {
    let next = safe_next(form.suite.as_deref());
    match svc::login_with_password(
        &state.db,
        &state.policy,
        &form.email,
        &form.password,
        &client,
    )
    .await
    {
        Ok(opened) => {
            let step = match opened.stage {
                Stage::Enrolment => "/connexion/activation",
                _ => "/connexion/second-facteur",
            };
            let cookie = set_cookie(SESSION_COOKIE, &opened.token, None, state.config.hsts);
            (
                [(header::SET_COOKIE, cookie)],
                Redirect::to(&format!("{step}?suite={}", crate::auth::urlencode(&next))),
            )
                .into_response()
        }
        Err(LoginError::Store(e)) => internal(e),
        Err(e) => {
            let status = match e {
                LoginError::TooManyFromAddress => StatusCode::TOO_MANY_REQUESTS,
                _ => StatusCode::OK,
            };
            let page = LoginPage {
                ctx,
                email: form.email.trim().to_string(),
                next,
                error: Some(capitalize(&e.to_string())),
                proconnect: state.proconnect.is_some(),
            };
            (status, render(page)).into_response()
        }
    }
}

pub(crate) fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "second_facteur.html")]
pub struct SecondFactorPage {
    pub ctx: PageContext,
    pub next: String,
    pub error: Option<String>,
    /// Confirming the second factor before a sensitive action, not completing a login.
    pub confirming: bool,
}

pub async fn second_factor_form(
    ctx: PageContext,
    PendingLogin(session): PendingLogin,
    Query(q): Query<NextParam>,
) -> Response {
    if session.stage == Stage::Enrolment {
        return Redirect::to("/connexion/activation").into_response();
    }
    render(SecondFactorPage {
        ctx,
        next: safe_next(q.suite.as_deref()),
        error: None,
        confirming: false,
    })
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    code: String,
    suite: Option<String>,
}

pub async fn second_factor(
    State(state): State<AppState>,
    ctx: PageContext,
    PendingLogin(session): PendingLogin,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Response {
    check_code(&state, ctx, &session, form, false).await
}

/// Asks the second factor again before a sensitive action (see [`crate::auth::Fresh`]).
pub async fn confirmation_form(
    ctx: PageContext,
    _auth: Authenticated,
    Query(q): Query<NextParam>,
) -> Response {
    render(SecondFactorPage {
        ctx,
        next: safe_next(q.suite.as_deref()),
        error: None,
        confirming: true,
    })
}

pub async fn confirmation(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Authenticated,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Response {
    check_code(&state, ctx, &auth.session, form, true).await
}

async fn check_code(
    state: &AppState,
    ctx: PageContext,
    session: &relais_store::sessions::Session,
    form: CodeForm,
    confirming: bool,
) -> Response {
    let next = safe_next(form.suite.as_deref());
    match svc::verify_second_factor(&state.db, &state.policy, session, &form.code).await {
        // A new session id: the cookie from before the code opens nothing any more.
        Ok(token) => (
            [(header::SET_COOKIE, session_cookie(state, &token))],
            Redirect::to(&next),
        )
            .into_response(),
        Err(svc::SecondFactorError::Store(e)) => internal(e),
        Err(e) => render(SecondFactorPage {
            ctx,
            next,
            error: Some(capitalize(&e.to_string())),
            confirming,
        }),
    }
}

#[derive(Template)]
#[template(path = "activation.html")]
pub struct EnrolmentPage {
    pub ctx: PageContext,
    pub qr_svg: String,
    pub secret: String,
    pub next: String,
    pub error: Option<String>,
}

async fn enrolment_page(
    state: &AppState,
    ctx: PageContext,
    session: &relais_store::sessions::Session,
    next: String,
    error: Option<String>,
) -> Response {
    let (secret, email) = match svc::begin_enrolment(&state.db, session).await {
        Ok(found) => found,
        Err(e) => return internal(e),
    };
    let uri = totp::provisioning_uri(&secret, &email, "Relais");
    let spaced: Vec<String> = data_encoding::BASE32_NOPAD
        .encode(&secret)
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    render(EnrolmentPage {
        ctx,
        qr_svg: qr_svg(&uri),
        secret: spaced.join(" "),
        next,
        error,
    })
}

pub async fn enrolment_form(
    State(state): State<AppState>,
    ctx: PageContext,
    PendingLogin(session): PendingLogin,
    Query(q): Query<NextParam>,
) -> Response {
    if session.stage != Stage::Enrolment {
        return Redirect::to("/connexion/second-facteur").into_response();
    }
    enrolment_page(&state, ctx, &session, safe_next(q.suite.as_deref()), None).await
}

#[derive(Template)]
#[template(path = "codes_secours.html")]
pub struct RecoveryCodesPage {
    pub ctx: PageContext,
    pub codes: Vec<String>,
    pub next: String,
}

pub async fn enrolment(
    State(state): State<AppState>,
    ctx: PageContext,
    PendingLogin(session): PendingLogin,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Response {
    let next = safe_next(form.suite.as_deref());
    if session.stage != Stage::Enrolment {
        return Redirect::to("/connexion/second-facteur").into_response();
    }
    match svc::confirm_enrolment(&state.db, &state.policy, &session, &form.code).await {
        Ok(enrolled) => {
            // The page was started before the login completed: name the person now.
            let mut ctx = ctx;
            if let Ok(Some((name, structure))) = svc::header_badge(&state.db, &session).await {
                ctx.account = Some(crate::pages::AccountBadge { name, structure });
            }
            let page = render(RecoveryCodesPage {
                ctx,
                codes: enrolled.codes,
                next,
            });
            (
                [(header::SET_COOKIE, session_cookie(&state, &enrolled.token))],
                page,
            )
                .into_response()
        }
        Err(svc::SecondFactorError::Store(e)) => internal(e),
        Err(e) => {
            enrolment_page(
                &state,
                ctx,
                &session,
                next,
                Some(capitalize(&e.to_string())),
            )
            .await
        }
    }
}

/// The QR code as inline SVG paths (no style attribute: the CSP forbids inline styles).
fn qr_svg(data: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(data.as_bytes()) else {
        return String::new();
    };
    let width = code.width();
    let quiet = 4;
    let size = width + 2 * quiet;
    let mut path = String::new();
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            path.push_str(&format!(
                "M{} {}h1v1h-1z",
                i % width + quiet,
                i / width + quiet
            ));
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" width=\"240\" height=\"240\" role=\"img\" \
         aria-label=\"QR code à scanner avec votre application d’authentification\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
    )
}

pub async fn logout(
    State(state): State<AppState>,
    auth: Authenticated,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    if let Err(e) = svc::logout(&state.db, &auth.session).await {
        return internal(e);
    }
    signed_out(&state)
}

pub async fn logout_everywhere(
    State(state): State<AppState>,
    auth: Authenticated,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    if let Err(e) = svc::logout_everywhere(&state.db, &auth.session).await {
        return internal(e);
    }
    signed_out(&state)
}

/// The session cookie for a new token.
fn session_cookie(state: &AppState, token: &str) -> axum::http::HeaderValue {
    set_cookie(SESSION_COOKIE, token, None, state.config.hsts)
}

/// After a logout: the session cookie removed, back to the home page.
fn signed_out(state: &AppState) -> Response {
    let cookie = set_cookie(SESSION_COOKIE, "", Some(0), state.config.hsts);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
}

#[derive(Deserialize)]
pub struct Empty {}

/// One line of "my structures".
pub struct MyStructure {
    pub id: i64,
    pub nom: String,
    pub roles: String,
    pub acting: bool,
    pub referent: bool,
}

#[derive(Template)]
#[template(path = "compte.html")]
pub struct AccountPage {
    pub ctx: PageContext,
    pub name: String,
    pub email: String,
    pub structures: Vec<MyStructure>,
    pub global_roles: Vec<String>,
}

pub async fn account(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Authenticated,
) -> Response {
    let person = match repo::person(&state.db, auth.actor.person_id).await {
        Ok(Some(p)) => p,
        Ok(None) => return internal("personne absente"),
        Err(e) => return internal(e),
    };
    let memberships = match repo::memberships_of(&state.db, person.id).await {
        Ok(m) => m,
        Err(e) => return internal(e),
    };
    let mut structures: Vec<MyStructure> = Vec::new();
    for m in &memberships {
        match structures.iter_mut().find(|s| s.id == m.structure_id) {
            Some(s) => {
                s.roles.push_str(", ");
                s.roles.push_str(m.role.label());
                s.referent |= m.role == Role::Referent;
            }
            None => structures.push(MyStructure {
                id: m.structure_id,
                nom: m.structure_nom.clone(),
                roles: m.role.label().to_string(),
                acting: auth.actor.acting_structure == Some(m.structure_id),
                referent: m.role == Role::Referent,
            }),
        }
    }
    let global_roles = auth
        .actor
        .global_roles
        .iter()
        .map(|(r, scope)| {
            if scope.is_empty() {
                r.label().to_string()
            } else {
                format!("{} ({scope})", r.label())
            }
        })
        .collect();
    render(AccountPage {
        ctx,
        name: format!("{} {}", person.given_name, person.family_name),
        email: person.email,
        structures,
        global_roles,
    })
}

#[derive(Deserialize)]
pub struct ActAsForm {
    structure: i64,
}

pub async fn act_as(
    State(state): State<AppState>,
    ctx: PageContext,
    auth: Authenticated,
    CsrfForm(form): CsrfForm<ActAsForm>,
) -> Response {
    match svc::act_as(&state.db, &auth.session, &auth.actor, form.structure).await {
        Ok(Some(token)) => (
            [(header::SET_COOKIE, session_cookie(&state, &token))],
            Redirect::to("/compte"),
        )
            .into_response(),
        Ok(None) => crate::error::error_page(
            &ctx,
            StatusCode::FORBIDDEN,
            "Accès refusé",
            "Vous ne faites pas partie de cette structure : vous ne pouvez pas agir pour elle.",
        ),
        Err(e) => internal(e),
    }
}

pub struct JournalRow {
    pub seq: i64,
    pub at: String,
    pub action: &'static str,
    pub actor: String,
    pub subject: String,
}

#[derive(Template)]
#[template(path = "journal.html")]
pub struct JournalPage {
    pub ctx: PageContext,
    pub title: String,
    /// The page's own path, for the filter form and the next page.
    pub base: String,
    pub rows: Vec<JournalRow>,
    pub actions: Vec<(&'static str, &'static str, bool)>,
    pub more: Option<i64>,
}

#[derive(Deserialize)]
pub struct JournalQuery {
    action: Option<String>,
    avant: Option<i64>,
}

const JOURNAL_PAGE: u32 = 50;

fn journal_filter(q: &JournalQuery) -> relais_store::journal::JournalFilter {
    relais_store::journal::JournalFilter {
        action: q
            .action
            .as_deref()
            .and_then(relais_domain::journal::JournalAction::parse),
        before_seq: q.avant,
        ..Default::default()
    }
}

/// The whole journal, newest first, for national administrators.
pub async fn journal(
    State(state): State<AppState>,
    ctx: PageContext,
    admin: crate::auth::Admin,
    Query(q): Query<JournalQuery>,
) -> Response {
    let filter = journal_filter(&q);
    match svc::journal_for_admin(&state.db, &admin.access, &filter, JOURNAL_PAGE).await {
        Ok(entries) => journal_page(
            ctx,
            "Journal des actions".into(),
            "/admin/journal".into(),
            &filter,
            entries,
        ),
        Err(e) => internal(e),
    }
}

/// A structure's journal, newest first, for its référents.
pub async fn structure_journal(
    State(state): State<AppState>,
    ctx: PageContext,
    guard: InStructure<Referents>,
    Query(q): Query<JournalQuery>,
) -> Response {
    let filter = journal_filter(&q);
    let structure = match repo::structure(&state.db, guard.access.structure()).await {
        Ok(Some(s)) => s,
        Ok(None) => return ApiError::NotFound.into_response(),
        Err(e) => return internal(e),
    };
    match svc::journal_for_structure(&state.db, &guard.access, &filter, JOURNAL_PAGE).await {
        Ok(entries) => {
            let base = format!("/structures/{}/journal", structure.id);
            journal_page(
                ctx,
                format!("Journal de {}", structure.nom),
                base,
                &filter,
                entries,
            )
        }
        Err(e) => internal(e),
    }
}

fn journal_page(
    ctx: PageContext,
    title: String,
    base: String,
    filter: &relais_store::journal::JournalFilter,
    entries: Vec<relais_domain::journal::Entry>,
) -> Response {
    use relais_domain::journal::JournalAction;
    let more = (entries.len() == JOURNAL_PAGE as usize)
        .then(|| entries.last().map(|e| e.seq))
        .flatten();
    let rows = entries
        .iter()
        .map(|e| JournalRow {
            seq: e.seq,
            at: date_heure_fr(e.at),
            action: e.action.label(),
            actor: e
                .actor
                .map_or("système".to_string(), |a| format!("personne n° {a}")),
            subject: format!("{} {}", e.subject_kind, e.subject_id),
        })
        .collect();
    let actions = JournalAction::ALL
        .iter()
        .map(|a| (a.as_str(), a.label(), Some(*a) == filter.action))
        .collect();
    render(JournalPage {
        ctx,
        title,
        base,
        rows,
        actions,
        more,
    })
}

#[cfg(test)]
mod tests {
    use super::safe_next;
    use proptest::prelude::*;

    #[test]
    fn next_is_a_path_of_this_site() {
        for ok in [
            "/compte",
            "/structures/1/equipe?fait=invitation",
            "/lieux?q=a%20b#r",
        ] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
        for bad in [
            "/\t/evil.com",
            "/\n",
            "/\r\n",
            "/\0",
            "//evil.com",
            "/\\evil.com",
            "/a\\b",
            "https://evil.com",
            "evil.com",
            "/a b",
            "/\u{7f}",
            "/\u{85}",
            "/\u{202e}",
            "",
        ] {
            assert_eq!(safe_next(Some(bad)), "/compte", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/compte");
    }

    proptest! {
        #[test]
        fn any_next_gives_a_header_value_on_this_site(s in any::<String>()) {
            let next = safe_next(Some(&s));
            prop_assert!(axum::http::HeaderValue::from_str(&next).is_ok());
            prop_assert!(next.starts_with('/'));
            prop_assert!(!next.starts_with("//") && !next.starts_with("/\\"));
        }

        #[test]
        fn any_slash_prefixed_next_gives_a_header_value(s in "/[\\x00-\\x7f\\u{80}-\\u{ffff}]{0,12}") {
            let next = safe_next(Some(&s));
            prop_assert!(axum::http::HeaderValue::from_str(&next).is_ok());
            prop_assert!(next.starts_with('/'));
            prop_assert!(!next.starts_with("//") && !next.starts_with("/\\"));
        }
    }
}
