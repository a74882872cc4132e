//! Habilitation pages: a structure's référents ask that some of their professionals become
//! aidants and follow each one until activation; national administrators decide.
pub mod admin;
pub mod structure;

use axum::http::StatusCode;
use axum::response::Response;
use relais_domain::calendrier::date_fr;
use relais_domain::habilitations::{COMMITMENTS, RequestStatus};
use relais_services::habilitations::{self as svc};
use relais_store::habilitations::{self as repo, CandidateLine, RequestLine};
use serde::Deserialize;

use crate::AppState;
use crate::error::error_page;
use crate::error::internal;
use crate::pages::PageContext;

fn not_found(ctx: &PageContext) -> Response {
    error_page(
        ctx,
        StatusCode::NOT_FOUND,
        "Page non trouvée",
        "Cette demande d’habilitation n’existe pas, ou plus.",
    )
}

/// A message for people: capital first letter (unless it opens an e-mail address), final period.
fn sentence(s: &str) -> String {
    let s = s.trim().to_string();
    let mut out = if s.split_whitespace().next().is_some_and(|w| w.contains('@')) {
        s
    } else {
        let mut c = s.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

fn badge(status: RequestStatus) -> &'static str {
    match status {
        RequestStatus::Submitted => "fr-badge--new",
        RequestStatus::ChangesRequested => "fr-badge--warning",
        RequestStatus::Accepted => "fr-badge--success",
        RequestStatus::Refused => "fr-badge--error",
    }
}

/// What a notice of `?fait=…` says after a successful action.
fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "envoi" => {
            "Votre demande d’habilitation est envoyée. Un administrateur national va l’examiner."
        }
        "reponse" => {
            "Votre réponse est envoyée et la demande est de nouveau en attente de décision."
        }
        "formation" => "La formation est enregistrée.",
        "test" => "Le test de compétences est enregistré.",
        "activation" => "La personne est maintenant aidant habilité de la structure.",
        "decision" => "Votre décision est enregistrée et la structure en est informée.",
        _ => return None,
    })
}

#[derive(Deserialize)]
pub struct DoneParam {
    fait: Option<String>,
}

/// One request in a list.
pub struct RequestRow {
    pub id: i64,
    pub structure: String,
    pub created: String,
    pub candidates: i64,
    pub status: &'static str,
    pub badge: &'static str,
}

impl From<&RequestLine> for RequestRow {
    fn from(r: &RequestLine) -> RequestRow {
        RequestRow {
            id: r.id,
            structure: r.structure_nom.clone(),
            created: date_fr(r.created_at),
            candidates: r.candidates,
            status: r.status.label(),
            badge: badge(r.status),
        }
    }
}

/// One message of a request's thread.
pub struct MessageView {
    pub author: String,
    pub at: String,
    pub body: String,
}

async fn thread(state: &AppState, request: i64) -> Result<Vec<MessageView>, Response> {
    let messages = repo::thread(&state.db, request).await.map_err(internal)?;
    Ok(messages
        .into_iter()
        .map(|m| MessageView {
            author: m.author,
            at: date_fr(m.created_at),
            body: m.body,
        })
        .collect())
}

/// The commitments' texts, and whether the request accepted each.
fn commitments_of(request: &RequestLine) -> Vec<(String, bool)> {
    let accepted: Vec<&str> = request.commitments.split_whitespace().collect();
    COMMITMENTS
        .iter()
        .map(|(code, text)| (text.to_string(), accepted.contains(code)))
        .collect()
}

/// A candidate as shown on a request's page, with its forms' values and errors.
pub struct CandidateView {
    pub person_id: i64,
    pub name: String,
    pub email: String,
    /// "Formation de 7 h le 12/11/2026 (organisme)".
    pub training: Option<String>,
    /// "Réussi le 12/11/2026 (score : 350)".
    pub skills_test: Option<String>,
    pub missing: Vec<&'static str>,
    pub activated: Option<String>,
    pub hours: String,
    pub date: String,
    pub organisation: String,
    pub score: String,
    pub hours_error: Option<String>,
    pub date_error: Option<String>,
    pub organisation_error: Option<String>,
    pub score_error: Option<String>,
    pub activation_error: Option<String>,
}

impl CandidateView {
    pub fn ready(&self) -> bool {
        self.missing.is_empty() && self.activated.is_none()
    }
}

async fn candidate_views(state: &AppState, request: i64) -> Result<Vec<CandidateView>, Response> {
    let lines = repo::candidate_lines(&state.db, request)
        .await
        .map_err(internal)?;
    let mut out = Vec::new();
    for c in lines {
        let missing = svc::missing(&state.db, request, c.person_id)
            .await
            .map_err(internal)?;
        out.push(candidate_view(
            c,
            missing.iter().map(|m| m.label()).collect(),
        ));
    }
    Ok(out)
}

fn candidate_view(c: CandidateLine, missing: Vec<&'static str>) -> CandidateView {
    let training = c.training_hours.map(|h| {
        let mut t = format!("Formation de {h} h");
        if let Some(d) = c.training_date {
            t.push_str(&format!(" le {}", date_fr(d)));
        }
        if let Some(o) = &c.training_organisation {
            t.push_str(&format!(" ({o})"));
        }
        t
    });
    let skills_test = c.skills_test_at.map(|at| match c.skills_test_score {
        Some(s) => format!("Réussi le {} (score : {s})", date_fr(at)),
        None => format!("Réussi le {}", date_fr(at)),
    });
    CandidateView {
        person_id: c.person_id,
        name: format!("{} {}", c.given_name, c.family_name),
        email: c.email,
        training,
        skills_test,
        missing,
        activated: c.activated_at.map(date_fr),
        hours: String::new(),
        date: String::new(),
        organisation: String::new(),
        score: String::new(),
        hours_error: None,
        date_error: None,
        organisation_error: None,
        score_error: None,
        activation_error: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn messages_for_people() {
        assert_eq!(
            sentence("aucun compte Relais pour x : invitez d’abord cette personne"),
            "Aucun compte Relais pour x : invitez d’abord cette personne."
        );
        assert_eq!(sentence("Déjà fini."), "Déjà fini.");
        assert_eq!(sentence("a@b.fr n’est pas prêt"), "a@b.fr n’est pas prêt.");
    }
}
