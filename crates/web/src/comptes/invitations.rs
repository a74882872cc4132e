//! The page behind an invitation link: create the account, or accept with the existing one.

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::comptes::sessions::Stage;
use relais_services::comptes as accounts;
use relais_services::comptes::invitations::{self as svc, Invitation, InvitationError};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{CsrfForm, MaybeSession};
use crate::comptes::{ClientInfo, capitalize, opened};
use crate::error::{ApiError, error_page};
use crate::pages::{Page, PageContext, render};

#[derive(Template)]
#[template(path = "invitation.html")]
pub struct InvitationPage {
    pub ctx: PageContext,
    pub token: String,
    pub structure: String,
    pub given_name: String,
    pub email: String,
    pub role: &'static str,
    pub expires: String,
    pub has_account: bool,
    pub logged_in: bool,
    pub error: Option<String>,
}

/// A link that cannot be used: say why, with the status that fits.
fn refused(ctx: &PageContext, e: InvitationError) -> Response {
    let status = match e {
        InvitationError::Unknown => StatusCode::NOT_FOUND,
        InvitationError::Expired(_) | InvitationError::Accepted | InvitationError::Withdrawn => {
            StatusCode::GONE
        }
        InvitationError::Store(e) => {
            tracing::error!(error = %e, "invitation illisible");
            return ApiError::Internal.into_response();
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    error_page(
        ctx,
        status,
        "Invitation impossible à utiliser",
        &capitalize(&e.to_string()),
    )
}

async fn page(
    state: &AppState,
    ctx: PageContext,
    token: String,
    invitation: Invitation,
    logged_in: bool,
    error: Option<String>,
) -> Response {
    let has_account = match svc::has_account(&state.db, &invitation).await {
        Ok(found) => found,
        Err(e) => return refused(&ctx, e.into()),
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = InvitationPage {
        ctx,
        token,
        structure: invitation.structure_nom,
        given_name: invitation.given_name,
        email: invitation.email,
        role: invitation.role.label(),
        expires: relais_domain::calendrier::date_fr(invitation.expires_at),
        has_account,
        logged_in,
        error,
    };
    (status, render(page)).into_response()
}

fn logged_in(session: &Option<relais_domain::comptes::sessions::Session>) -> bool {
    session.as_ref().is_some_and(|s| s.stage == Stage::Active)
}

pub async fn show(
    Page(state, ctx): Page,
    MaybeSession(session): MaybeSession,
    Path(token): Path<String>,
) -> Response {
    match svc::find(&state.db, &token).await {
        Ok(invitation) => page(&state, ctx, token, invitation, logged_in(&session), None).await,
        Err(e) => refused(&ctx, e),
    }
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirmation: String,
}

pub async fn accept(
    Page(state, ctx): Page,
    MaybeSession(session): MaybeSession,
    ClientInfo(client): ClientInfo,
    Path(token): Path<String>,
    CsrfForm(form): CsrfForm<AcceptForm>,
) -> Response {
    if let Some(s) = session.filter(|s| s.stage == Stage::Active) {
        return match svc::accept_as(&state.db, &token, s.person_id).await {
            Ok(()) => Redirect::to("/compte").into_response(),
            Err(e) => retry(&state, ctx, token, true, e).await,
        };
    }
    match svc::accept_with_new_account(&state.db, &token, &form.password, &form.confirmation).await
    {
        // The new account goes straight to its second-factor enrolment.
        Ok(person) => {
            match accounts::open_session(&state.db, person, Stage::Enrolment, &client).await {
                Ok(session) => opened(&state, &session, "/compte"),
                Err(e) => refused(&ctx, e.into()),
            }
        }
        Err(e) => retry(&state, ctx, token, false, e).await,
    }
}

/// The form again with the error, while the invitation can still be used; otherwise why not.
async fn retry(
    state: &AppState,
    ctx: PageContext,
    token: String,
    logged_in: bool,
    e: InvitationError,
) -> Response {
    match svc::find(&state.db, &token).await {
        Ok(invitation) => {
            let why = Some(capitalize(&e.to_string()));
            page(state, ctx, token, invitation, logged_in, why).await
        }
        Err(gone) => refused(&ctx, gone),
    }
}
