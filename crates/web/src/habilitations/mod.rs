//! Habilitation pages: a structure's référents ask that some of their professionals become
//! aidants and follow each one until activation; national administrators decide.
pub mod admin;
pub mod structure;

use axum::http::StatusCode;
use axum::response::Response;
use relais_domain::calendrier::date_fr;
use relais_domain::habilitations::TrainingError;
use relais_domain::habilitations::{COMMITMENTS, RequestStatus, TrainingField};
use relais_domain::ids::{HabilitationRequestId, PersonId};
use relais_services::habilitations::{CandidateDetail, RequestDetail, RequestLine};
use serde::Deserialize;

use crate::error::error_page;
use crate::pages::{Field, PageContext};

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
    pub id: HabilitationRequestId,
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

/// What both sides show of a request: its line, commitments, thread and candidates.
pub struct Shown {
    pub request: RequestRow,
    pub status: RequestStatus,
    pub commitments: Vec<(String, bool)>,
    pub thread: Vec<MessageView>,
    pub candidates: Vec<CandidateView>,
}

impl From<RequestDetail> for Shown {
    fn from(d: RequestDetail) -> Shown {
        let accepted: Vec<&str> = d.line.commitments.split_whitespace().collect();
        Shown {
            request: RequestRow::from(&d.line),
            status: d.line.status,
            commitments: COMMITMENTS
                .iter()
                .map(|(code, text)| (text.to_string(), accepted.contains(code)))
                .collect(),
            thread: d
                .thread
                .into_iter()
                .map(|m| MessageView {
                    author: m.author,
                    at: date_fr(m.created_at),
                    body: m.body,
                })
                .collect(),
            candidates: d.candidates.into_iter().map(CandidateView::from).collect(),
        }
    }
}

/// A candidate as shown on a request's page, with its forms' values and errors.
pub struct CandidateView {
    pub person_id: PersonId,
    pub name: String,
    pub email: String,
    /// "Formation de 7 h le 12/11/2026 (organisme)".
    pub training: Option<String>,
    /// "Réussi le 12/11/2026 (score : 350)".
    pub skills_test: Option<String>,
    pub missing: Vec<&'static str>,
    pub activated: Option<String>,
    /// The training form's fields.
    pub hours: Field,
    pub date: Field,
    pub organisation: Field,
    /// The skills test form's field.
    pub score: Field,
    pub activation_error: Option<String>,
}

impl CandidateView {
    pub fn ready(&self) -> bool {
        self.missing.is_empty() && self.activated.is_none()
    }

    fn has_error(&self) -> bool {
        [
            &self.hours.error,
            &self.date.error,
            &self.organisation.error,
            &self.score.error,
            &self.activation_error,
        ]
        .iter()
        .any(|e| e.is_some())
    }

    /// Puts each of the training form's errors next to its field.
    fn training_errors(&mut self, errors: &[TrainingError]) {
        for e in errors {
            let slot = match e.field() {
                TrainingField::Hours => &mut self.hours.error,
                TrainingField::Date => &mut self.date.error,
                TrainingField::Organisation => &mut self.organisation.error,
            };
            *slot = Some(e.to_string());
        }
    }
}

impl From<CandidateDetail> for CandidateView {
    fn from(CandidateDetail { line: c, missing }: CandidateDetail) -> CandidateView {
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
            missing: missing.iter().map(|m| m.label()).collect(),
            activated: c.activated_at.map(date_fr),
            hours: Field::default(),
            date: Field::default(),
            organisation: Field::default(),
            score: Field::default(),
            activation_error: None,
        }
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
