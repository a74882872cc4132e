//! Login pages: password, second factor (and asking it again), enrolment, logout.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::comptes::sessions::Stage;
use relais_domain::totp;
use relais_services::comptes::{self as svc, LoginError};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Authenticated, CsrfForm, MaybeSession, PendingLogin};
use crate::error::internal;
use crate::pages::{Page, PageContext, render};

use super::{
    ClientInfo, Empty, NextParam, capitalize, opened, safe_next, session_cookie, signed_out,
};

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

pub async fn login_form(
    Page(state, ctx): Page,
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
    Page(state, ctx): Page,
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
        Ok(session) => opened(&state, &session, &next),
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
    Page(state, ctx): Page,
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
    Page(state, ctx): Page,
    auth: Authenticated,
    CsrfForm(form): CsrfForm<CodeForm>,
) -> Response {
    check_code(&state, ctx, &auth.session, form, true).await
}

async fn check_code(
    state: &AppState,
    ctx: PageContext,
    session: &relais_domain::comptes::sessions::Session,
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
    session: &relais_domain::comptes::sessions::Session,
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
        qr_svg: crate::pages::qr_svg(
            &uri,
            "QR code à scanner avec votre application d’authentification",
        ),
        secret: spaced.join(" "),
        next,
        error,
    })
}

pub async fn enrolment_form(
    Page(state, ctx): Page,
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
    Page(state, ctx): Page,
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
            // The promoted session has a new token: look the person up by it.
            if let Ok(Some((_, Some(caller)))) =
                svc::resolve(&state.db, &state.policy, &enrolled.token).await
            {
                ctx.account = Some(caller.badge);
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
