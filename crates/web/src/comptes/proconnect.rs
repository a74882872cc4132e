//! ProConnect login: the start (redirect to the provider) and the callback. The checks are
//! in `relais_services::comptes::proconnect`; refusals are DSFR pages that say what happened.

use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use relais_services::comptes::proconnect::{self as svc, Callback, ProConnectError};
use serde::Deserialize;

use crate::comptes::{ClientInfo, NextParam, opened, safe_next};
use crate::error::{ApiError, error_page};
use crate::pages::{Page, PageContext};

fn not_configured(ctx: &PageContext) -> Response {
    error_page(
        ctx,
        StatusCode::NOT_FOUND,
        "ProConnect n’est pas disponible ici",
        "La connexion avec ProConnect n’est pas configurée sur cette instance de Relais. Connectez-vous avec votre adresse électronique et votre mot de passe Relais.",
    )
}

fn refusal(ctx: &PageContext, e: ProConnectError) -> Response {
    let (status, title) = match &e {
        ProConnectError::Store(err) => {
            tracing::error!(error = %err, "erreur pendant la connexion ProConnect");
            return ApiError::Internal.into_response();
        }
        ProConnectError::Unavailable => (StatusCode::BAD_GATEWAY, "ProConnect indisponible"),
        ProConnectError::TooManyFromAddress => {
            let mut page = error_page(
                ctx,
                StatusCode::TOO_MANY_REQUESTS,
                "Trop de tentatives de connexion",
                &e.to_string(),
            );
            page.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("900"));
            return page;
        }
        ProConnectError::UnknownState
        | ProConnectError::Denied
        | ProConnectError::WrongIssuer
        | ProConnectError::CodeRejected => (StatusCode::BAD_REQUEST, "Connexion interrompue"),
        _ => (StatusCode::FORBIDDEN, "Connexion refusée"),
    };
    error_page(ctx, status, title, &e.to_string())
}

/// Starts the login: records it, then sends the browser to ProConnect. Limited per IP
/// address (`Policy::ip_attempts`), as the password login is.
pub async fn start(
    Page(state, ctx): Page,
    ClientInfo(client): ClientInfo,
    Query(q): Query<NextParam>,
) -> Response {
    let Some(pc) = &state.proconnect else {
        return not_configured(&ctx);
    };
    let next = safe_next(q.suite.as_deref());
    match svc::begin(&state.db, pc, &state.policy, &client, &next).await {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => refusal(&ctx, e),
    }
}

#[derive(Deserialize)]
pub struct CallbackParams {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// The provider's answer: opens a session, then the second factor when the person needs it.
pub async fn callback(
    Page(state, ctx): Page,
    ClientInfo(client): ClientInfo,
    Query(q): Query<CallbackParams>,
) -> Response {
    let Some(pc) = &state.proconnect else {
        return not_configured(&ctx);
    };
    let callback = Callback {
        code: q.code,
        state: q.state,
        iss: q.iss,
        error: q.error,
    };
    match svc::complete(&state.db, pc, &callback, &client).await {
        Ok(done) => opened(&state, &done.opened, &safe_next(Some(&done.next))),
        Err(e) => refusal(&ctx, e),
    }
}
