//! "Mot de passe oublié": ask for a link, then choose a new password through it.

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use relais_services::comptes::password_reset::{self as svc, ResetError};
use serde::Deserialize;

use crate::auth::CsrfForm;
use crate::comptes::{ClientInfo, capitalize};
use crate::error::ApiError;
use crate::pages::{Page, PageContext, render};

#[derive(Template)]
#[template(path = "mot_de_passe.html")]
pub struct PasswordPage {
    pub ctx: PageContext,
    pub heading: &'static str,
    /// The link's token: the new-password form is shown.
    pub token: Option<String>,
    pub notice: Option<&'static str>,
    pub error: Option<String>,
}

const FORGOTTEN: &str = "Mot de passe oublié";
const NEW: &str = "Nouveau mot de passe";

fn show(
    ctx: PageContext,
    heading: &'static str,
    token: Option<String>,
    outcome: Result<Option<&'static str>, ResetError>,
) -> Response {
    let (status, notice, error) = match outcome {
        Ok(notice) => (StatusCode::OK, notice, None),
        Err(ResetError::Store(e)) => {
            tracing::error!(error = %e, "réinitialisation impossible");
            return ApiError::Internal.into_response();
        }
        Err(e) => {
            let status = match e {
                ResetError::TooMany => StatusCode::TOO_MANY_REQUESTS,
                ResetError::InvalidLink => StatusCode::GONE,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            (status, None, Some(capitalize(&e.to_string())))
        }
    };
    let page = PasswordPage {
        ctx,
        heading,
        token,
        notice,
        error,
    };
    (status, render(page)).into_response()
}

pub async fn forgotten_form(ctx: PageContext) -> Response {
    show(ctx, FORGOTTEN, None, Ok(None))
}

#[derive(Deserialize)]
pub struct EmailForm {
    #[serde(default)]
    email: String,
}

pub async fn forgotten(
    Page(state, ctx): Page,
    ClientInfo(client): ClientInfo,
    CsrfForm(form): CsrfForm<EmailForm>,
) -> Response {
    let outcome = svc::request(&state.db, &form.email, &client, &state.config.public_url)
        .await
        .map(|()| {
            Some("Si cette adresse a un compte Relais, un courriel vient de lui être envoyé avec un lien valable une heure. Pensez à regarder dans les indésirables.")
        });
    show(ctx, FORGOTTEN, None, outcome)
}

#[derive(Deserialize)]
pub struct TokenParam {
    #[serde(default)]
    jeton: String,
}

pub async fn new_form(Page(state, ctx): Page, Query(q): Query<TokenParam>) -> Response {
    match svc::check(&state.db, &q.jeton).await {
        Ok(()) => show(ctx, NEW, Some(q.jeton), Ok(None)),
        Err(e) => show(ctx, NEW, None, Err(e)),
    }
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    jeton: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirmation: String,
}

pub async fn new_password(
    Page(state, ctx): Page,
    CsrfForm(form): CsrfForm<NewPasswordForm>,
) -> Response {
    match svc::reset(&state.db, &form.jeton, &form.password, &form.confirmation).await {
        Ok(()) => show(
            ctx,
            NEW,
            None,
            Ok(Some(
                "Votre mot de passe est changé et votre compte déverrouillé. Connectez-vous avec le nouveau mot de passe.",
            )),
        ),
        // The link still works: the form again, with why.
        Err(e @ (ResetError::Password(_) | ResetError::PasswordsDiffer)) => {
            show(ctx, NEW, Some(form.jeton), Err(e))
        }
        Err(e) => show(ctx, NEW, None, Err(e)),
    }
}
