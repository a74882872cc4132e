//! The national administrators' side: the requests to decide, and the decision.

use askama::Template;
use axum::extract::{Path, Query};
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::habilitations::{Decision, DecisionField, RequestStatus};
use relais_domain::ids::HabilitationRequestId;
use relais_services::habilitations::{self as svc, WorkflowError};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Admin, CsrfForm};
use crate::error::internal;
use crate::pages::{Page, PageContext, render};

use super::*;

#[derive(Template)]
#[template(path = "habilitations_admin.html")]
pub struct AdminListPage {
    pub ctx: PageContext,
    pub requests: Vec<RequestRow>,
    /// (wire value, label, selected) of each status.
    pub statuses: Vec<(&'static str, &'static str, bool)>,
    /// The label of the status filtered on.
    pub filtered: Option<&'static str>,
}

#[derive(Deserialize)]
pub struct StatusQuery {
    statut: Option<String>,
}

const STATUSES: [RequestStatus; 4] = [
    RequestStatus::Submitted,
    RequestStatus::ChangesRequested,
    RequestStatus::Accepted,
    RequestStatus::Refused,
];

pub async fn admin_list(
    Page(state, ctx): Page,
    admin: Admin,
    Query(q): Query<StatusQuery>,
) -> Response {
    let status = q.statut.as_deref().and_then(RequestStatus::parse);
    match svc::requests_for_admin(&state.db, &admin.access, status).await {
        Ok(lines) => render(AdminListPage {
            ctx,
            requests: lines.iter().map(RequestRow::from).collect(),
            statuses: STATUSES
                .iter()
                .map(|s| (s.as_str(), s.label(), Some(*s) == status))
                .collect(),
            filtered: status.map(RequestStatus::label),
        }),
        Err(e) => internal(e),
    }
}

#[derive(Template)]
#[template(path = "habilitation_admin.html")]
pub struct AdminRequestPage {
    pub ctx: PageContext,
    pub shown: Shown,
    pub siret: String,
    pub requested_by: String,
    /// The decision form is shown (the request awaits it, or a decision failed).
    pub decidable: bool,
    pub decision: String,
    pub message: String,
    pub decision_error: Option<String>,
    pub message_error: Option<String>,
    pub alert: Option<String>,
    pub notice: Option<&'static str>,
}

impl AdminRequestPage {
    fn has_error(&self) -> bool {
        self.alert.is_some() || self.decision_error.is_some() || self.message_error.is_some()
    }

    fn decisions(&self) -> &'static [(&'static str, &'static str)] {
        &DECISIONS
    }
}

const DECISIONS: [(&str, &str); 3] = [
    ("accepter", "Accepter la demande"),
    ("modifications", "Demander des modifications à la structure"),
    ("refuser", "Refuser la demande"),
];

async fn admin_page(
    state: &AppState,
    ctx: PageContext,
    admin: &Admin,
    request: HabilitationRequestId,
    notice: Option<&'static str>,
    adjust: impl FnOnce(&mut AdminRequestPage),
) -> Response {
    let found = match svc::request_for_admin(&state.db, &admin.access, request).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(&ctx),
        Err(e) => return internal(e),
    };
    let shown = Shown::from(found.detail);
    let mut page = AdminRequestPage {
        ctx,
        decidable: shown.status == RequestStatus::Submitted,
        shown,
        siret: found.siret,
        requested_by: found
            .requested_by
            .map(|p| format!("{} ({})", p.name, p.email))
            .unwrap_or_default(),
        decision: String::new(),
        message: String::new(),
        decision_error: None,
        message_error: None,
        alert: None,
        notice,
    };
    adjust(&mut page);
    render(page)
}

pub async fn admin_show(
    Page(state, ctx): Page,
    admin: Admin,
    Path(raw): Path<String>,
    Query(q): Query<DoneParam>,
) -> Response {
    match raw.parse() {
        Ok(id) => admin_page(&state, ctx, &admin, id, notice(q.fait.as_deref()), |_| {}).await,
        Err(_) => not_found(&ctx),
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    message: String,
}

pub async fn decide(
    Page(state, ctx): Page,
    admin: Admin,
    Path(raw): Path<String>,
    CsrfForm(form): CsrfForm<DecisionForm>,
) -> Response {
    let Ok(request) = raw.parse::<HabilitationRequestId>() else {
        return not_found(&ctx);
    };
    let (mut decision_error, mut message_error, mut alert) = (None, None, None);
    match Decision::parse(&form.decision, &form.message) {
        Ok(decision) => {
            let message = Some(form.message.trim());
            match svc::decide(&state.db, &admin.access, request, decision, message).await {
                Ok(_) => {
                    return Redirect::to(&format!("/admin/habilitations/{request}?fait=decision"))
                        .into_response();
                }
                Err(WorkflowError::UnknownRequest) => return not_found(&ctx),
                Err(WorkflowError::Store(e)) => return internal(e),
                Err(e) => alert = Some(sentence(&e.to_string())),
            }
        }
        Err(e) => match e.field() {
            DecisionField::Decision => decision_error = Some(e.to_string()),
            DecisionField::Message => message_error = Some(e.to_string()),
        },
    }
    admin_page(&state, ctx, &admin, request, None, |page| {
        page.decidable = true;
        page.decision = form.decision;
        page.message = form.message;
        page.decision_error = decision_error;
        page.message_error = message_error;
        page.alert = alert;
    })
    .await
}
