//! The référents' side: a structure's requests, from the form to the aidants' activation.

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::authz::StructureAccess;
use relais_domain::calendrier::now_ms;
use relais_domain::habilitations::{
    COMMITMENTS, HabilitationError, RequestStatus, Training, candidate_emails, parse_score,
};
use relais_domain::ids::{HabilitationRequestId, PersonId, StructureId};
use relais_services::habilitations::{self as svc, WorkflowError};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{CsrfForm, Fresh, InStructure, Referents};
use crate::error::internal;
use crate::pages::{Field, Page, PageContext, render, structure_name};

use super::*;

/// A request of the structure in the path, for its référents: `/structures/{id}/habilitations/{demande}…`.
pub struct RequestOfStructure {
    pub access: StructureAccess,
    pub request: HabilitationRequestId,
}

impl FromRequestParts<AppState> for RequestOfStructure {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let guard = InStructure::<Referents>::from_request_parts(parts, state).await?;
        let Ok(Path((_, request))) =
            Path::<(StructureId, HabilitationRequestId)>::from_request_parts(parts, state).await
        else {
            return Err(crate::error::not_found_page(parts, state).await);
        };
        Ok(RequestOfStructure {
            access: guard.access,
            request,
        })
    }
}

#[derive(Template)]
#[template(path = "habilitations.html")]
pub struct ListPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub structure: String,
    pub requests: Vec<RequestRow>,
}

pub async fn list(Page(state, ctx): Page, guard: InStructure<Referents>) -> Response {
    let structure = match structure_name(&state, &guard.access).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    match svc::requests_of_structure(&state.db, &guard.access).await {
        Ok(lines) => render(ListPage {
            ctx,
            structure_id: guard.access.structure(),
            structure,
            requests: lines.iter().map(RequestRow::from).collect(),
        }),
        Err(e) => internal(e),
    }
}

/// One commitment's checkbox.
pub struct CommitmentBox {
    pub code: &'static str,
    pub text: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "habilitation_nouvelle.html")]
pub struct NewRequestPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub structure: String,
    pub emails: String,
    pub commitments: Vec<CommitmentBox>,
    pub emails_error: Option<String>,
    pub commitments_error: Option<String>,
}

impl NewRequestPage {
    fn has_error(&self) -> bool {
        self.emails_error.is_some() || self.commitments_error.is_some()
    }
}

fn commitment_boxes(checked: &[&str]) -> Vec<CommitmentBox> {
    COMMITMENTS
        .iter()
        .map(|(code, text)| CommitmentBox {
            code,
            text: text.to_string(),
            checked: checked.contains(code),
        })
        .collect()
}

pub async fn new_form(Page(state, ctx): Page, guard: InStructure<Referents>) -> Response {
    match structure_name(&state, &guard.access).await {
        Ok(structure) => render(NewRequestPage {
            ctx,
            structure_id: guard.access.structure(),
            structure,
            emails: String::new(),
            commitments: commitment_boxes(&[]),
            emails_error: None,
            commitments_error: None,
        }),
        Err(r) => r,
    }
}

/// The request form: `emails` (one a line) and one `engagement` per ticked commitment
/// (a repeated field, hence pairs).
pub async fn submit(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let id = guard.access.structure();
    let emails_text = form
        .iter()
        .find(|(k, _)| k == "emails")
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_default();
    let ticked: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "engagement")
        .map(|(_, v)| v.as_str())
        .collect();
    let emails = candidate_emails(&emails_text);
    let emails_ref: Vec<&str> = emails.iter().map(String::as_str).collect();
    let (emails_error, commitments_error) =
        match svc::submit(&state.db, &guard.access, &emails_ref, &ticked).await {
            Ok(request) => {
                return Redirect::to(&format!(
                    "/structures/{id}/habilitations/{request}?fait=envoi"
                ))
                .into_response();
            }
            Err(WorkflowError::Rule(HabilitationError::MissingCommitment(code))) => {
                let text = COMMITMENTS
                    .iter()
                    .find(|(c, _)| *c == code)
                    .map_or(code, |(_, t)| t);
                (
                    None,
                    Some(format!(
                        "Cochez les cinq engagements : il manque « {} »",
                        text.trim_end_matches('.')
                    )),
                )
            }
            Err(WorkflowError::Rule(HabilitationError::NoCandidate)) => (
                Some("Indiquez l’adresse électronique d’au moins une personne à habiliter.".into()),
                None,
            ),
            Err(e @ WorkflowError::UnknownPerson(_)) => (Some(sentence(&e.to_string())), None),
            Err(e) => return internal(e),
        };
    let structure = match structure_name(&state, &guard.access).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    render(NewRequestPage {
        ctx,
        structure_id: id,
        structure,
        emails: emails_text,
        commitments: commitment_boxes(&ticked),
        emails_error,
        commitments_error,
    })
}

#[derive(Template)]
#[template(path = "habilitation.html")]
pub struct RequestPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub accepted: bool,
    pub changes_requested: bool,
    pub shown: Shown,
    pub answer: String,
    pub answer_error: Option<String>,
    /// An error that belongs to no field.
    pub alert: Option<String>,
    pub notice: Option<&'static str>,
}

impl RequestPage {
    fn has_error(&self) -> bool {
        self.alert.is_some()
            || self.answer_error.is_some()
            || self.shown.candidates.iter().any(CandidateView::has_error)
    }

    /// The candidate a form was about, to put its input and errors back.
    fn candidate(&mut self, person: PersonId) -> Option<&mut CandidateView> {
        self.shown
            .candidates
            .iter_mut()
            .find(|c| c.person_id == person)
    }
}

/// The request's page for its structure; `adjust` puts a form's input and errors back.
async fn request_page(
    state: &AppState,
    ctx: PageContext,
    guard: &RequestOfStructure,
    notice: Option<&'static str>,
    adjust: impl FnOnce(&mut RequestPage),
) -> Response {
    let shown = match svc::request_of_structure(&state.db, &guard.access, guard.request).await {
        Ok(Some(detail)) => Shown::from(detail),
        Ok(None) => return not_found(&ctx),
        Err(e) => return internal(e),
    };
    let mut page = RequestPage {
        ctx,
        structure_id: guard.access.structure(),
        accepted: shown.status == RequestStatus::Accepted,
        changes_requested: shown.status == RequestStatus::ChangesRequested,
        shown,
        answer: String::new(),
        answer_error: None,
        alert: None,
        notice,
    };
    adjust(&mut page);
    render(page)
}

pub async fn show(
    Page(state, ctx): Page,
    guard: RequestOfStructure,
    Query(q): Query<DoneParam>,
) -> Response {
    request_page(&state, ctx, &guard, notice(q.fait.as_deref()), |_| {}).await
}

/// The answer to a step of the workflow: done, back to the request with its notice; a
/// request not of this structure, 404; the database, 500; otherwise the refusal, for the form.
fn settle(
    ctx: &PageContext,
    guard: &RequestOfStructure,
    result: Result<(), WorkflowError>,
    done: &str,
) -> Result<Response, WorkflowError> {
    match result {
        Ok(()) => Ok(back_to(guard, done)),
        Err(WorkflowError::UnknownRequest | WorkflowError::OtherStructure) => Ok(not_found(ctx)),
        Err(WorkflowError::Store(e)) => Ok(internal(e)),
        Err(e) => Err(e),
    }
}

fn back_to(guard: &RequestOfStructure, done: &str) -> Response {
    Redirect::to(&format!(
        "/structures/{}/habilitations/{}?fait={done}",
        guard.access.structure(),
        guard.request
    ))
    .into_response()
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    message: String,
}

/// The structure answers a request for changes, which sends the request back to the administrator.
pub async fn answer(
    Page(state, ctx): Page,
    guard: RequestOfStructure,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> Response {
    let result = svc::resubmit(&state.db, &guard.access, guard.request, &form.message).await;
    let error = match settle(&ctx, &guard, result, "reponse") {
        Ok(answer) => return answer,
        Err(e) => e,
    };
    request_page(&state, ctx, &guard, None, |page| {
        match error {
            WorkflowError::Rule(HabilitationError::EmptyMessage) => {
                page.answer_error =
                    Some("Écrivez votre réponse à l’administrateur avant de l’envoyer.".into());
            }
            other => page.alert = Some(sentence(&other.to_string())),
        }
        page.answer = form.message;
    })
    .await
}

#[derive(Deserialize)]
pub struct TrainingForm {
    #[serde(default)]
    personne: String,
    #[serde(default)]
    heures: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    organisme: String,
}

/// The candidate a form names (`personne`); one that names nobody names no candidate.
fn candidate_person(raw: &str) -> PersonId {
    raw.trim().parse().unwrap_or(PersonId(0))
}

/// Records a candidate's training.
pub async fn training(
    Page(state, ctx): Page,
    guard: RequestOfStructure,
    CsrfForm(form): CsrfForm<TrainingForm>,
) -> Response {
    let person = candidate_person(&form.personne);
    let mut alert = None;
    let errors = match Training::parse(&form.heures, &form.date, &form.organisme, now_ms()) {
        Ok(t) => {
            let recorded =
                svc::record_training(&state.db, &guard.access, guard.request, person, &t).await;
            match settle(&ctx, &guard, recorded, "formation") {
                Ok(answer) => return answer,
                Err(e) => alert = Some(sentence(&e.to_string())),
            }
            Vec::new()
        }
        Err(errors) => errors,
    };
    request_page(&state, ctx, &guard, None, |page| {
        page.alert = alert;
        if let Some(c) = page.candidate(person) {
            c.hours.value = form.heures;
            c.date.value = form.date;
            c.organisation.value = form.organisme;
            c.training_errors(&errors);
        } else if page.alert.is_none() {
            page.alert = Some("Cette personne ne fait pas partie de la demande.".into());
        }
    })
    .await
}

#[derive(Deserialize)]
pub struct SkillsTestForm {
    #[serde(default)]
    personne: String,
    #[serde(default)]
    score: String,
}

/// Records a candidate's passed skills test, with its score if known.
pub async fn skills_test(
    Page(state, ctx): Page,
    guard: RequestOfStructure,
    CsrfForm(form): CsrfForm<SkillsTestForm>,
) -> Response {
    let person = candidate_person(&form.personne);
    let (score_error, alert) = match parse_score(&form.score) {
        Err(e) => (Some(e.to_string()), None),
        Ok(score) => {
            let result =
                svc::record_skills_test(&state.db, &guard.access, guard.request, person, score)
                    .await;
            match settle(&ctx, &guard, result, "test") {
                Ok(answer) => return answer,
                Err(e) => (None, Some(sentence(&e.to_string()))),
            }
        }
    };
    request_page(&state, ctx, &guard, None, |page| {
        page.alert = alert;
        if let Some(c) = page.candidate(person) {
            c.score = Field {
                value: form.score,
                error: score_error,
            };
        }
    })
    .await
}

#[derive(Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    personne: String,
}

/// Makes a ready candidate an aidant of the structure: a role granted, so the second
/// factor must have been confirmed recently.
pub async fn activate(
    Page(state, ctx): Page,
    guard: RequestOfStructure,
    _fresh: Fresh,
    CsrfForm(form): CsrfForm<PersonForm>,
) -> Response {
    let person = candidate_person(&form.personne);
    let result = svc::activate(&state.db, &guard.access, guard.request, person).await;
    let error = match settle(&ctx, &guard, result, "activation") {
        Ok(answer) => return answer,
        Err(e) => sentence(&e.to_string()),
    };
    request_page(&state, ctx, &guard, None, |page| {
        match page.candidate(person) {
            Some(c) => c.activation_error = Some(error),
            None => page.alert = Some(error),
        }
    })
    .await
}
