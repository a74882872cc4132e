//! Reports of an error on a lieu: the public form and the administrators' list.

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use relais_domain::calendrier::date_heure_fr;
use relais_domain::ids::LieuId;
use relais_services::signalements::{self as svc, MOTIFS, SignalementError};

use crate::AppState;
use crate::auth::{Admin, CsrfForm};
use crate::comptes::ClientInfo;
use crate::error::internal;
use crate::lieux::lieu_inconnu;
use crate::pages::{Page, PageContext, render};

#[derive(Template)]
#[template(path = "signalement.html")]
pub struct SignalementPage {
    pub ctx: PageContext,
    pub lieu_id: LieuId,
    pub nom: String,
    pub motifs: &'static [(&'static str, &'static str)],
    pub motif: String,
    pub message: String,
    pub email: String,
    /// (field, message) of each field that is not right.
    pub erreurs: Vec<(&'static str, String)>,
    /// Refused as a whole (too many reports).
    pub refus: Option<String>,
    pub envoye: bool,
    pub message_max: usize,
}

impl SignalementPage {
    fn selected(&self, value: &str) -> bool {
        self.motif == value
    }

    fn erreur(&self, field: &str) -> Option<&str> {
        self.erreurs
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }
}

/// The name of a lieu of the search.
fn lieu_nom(state: &AppState, id: &LieuId) -> Option<String> {
    let r = state.lieux.get();
    r.index
        .get(id.as_str())
        .map(|(i, _)| r.summaries[i].nom.clone())
}

fn signalement_page(ctx: PageContext, lieu_id: LieuId, nom: String) -> SignalementPage {
    SignalementPage {
        ctx,
        lieu_id,
        nom,
        motifs: MOTIFS,
        motif: String::new(),
        message: String::new(),
        email: String::new(),
        erreurs: Vec::new(),
        refus: None,
        envoye: false,
        message_max: svc::MESSAGE_MAX,
    }
}

/// `GET /lieux/{lieu}/signalement`
pub async fn report_form(Page(state, ctx): Page, Path(id): Path<LieuId>) -> Response {
    match lieu_nom(&state, &id) {
        Some(nom) => render(signalement_page(ctx, id, nom)),
        None => lieu_inconnu(&ctx),
    }
}

/// `POST /lieux/{lieu}/signalement`
pub async fn report(
    Page(state, ctx): Page,
    ClientInfo(client): ClientInfo,
    Path(id): Path<LieuId>,
    CsrfForm(sent): CsrfForm<svc::Report>,
) -> Response {
    let Some(nom) = lieu_nom(&state, &id) else {
        return lieu_inconnu(&ctx);
    };
    let outcome = svc::report(&state.db, &id, &sent, &client).await;
    let mut page = signalement_page(ctx, id, nom);
    let status = match outcome {
        Ok(_) => {
            page.envoye = true;
            return render(page);
        }
        Err(SignalementError::Invalid(errors)) => {
            page.erreurs = errors.iter().map(|e| (e.field(), e.message())).collect();
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(e @ SignalementError::TooMany) => {
            page.refus = Some(crate::comptes::capitalized(&e));
            StatusCode::TOO_MANY_REQUESTS
        }
        Err(SignalementError::Store(e)) => return internal(e),
    };
    page.motif = sent.motif;
    page.message = sent.message;
    page.email = sent.email;
    (status, render(page)).into_response()
}

pub struct Ligne {
    pub date: String,
    pub lieu_id: LieuId,
    pub lieu_nom: String,
    pub motif: String,
    pub message: String,
    pub email: Option<String>,
}

#[derive(Template)]
#[template(path = "signalements_admin.html")]
pub struct SignalementsAdminPage {
    pub ctx: PageContext,
    pub lignes: Vec<Ligne>,
}

/// `GET /admin/lieux/signalements`: the latest reports, newest first.
pub async fn admin_list(Page(state, ctx): Page, admin: Admin) -> Response {
    let found = match svc::latest(&state.db, &admin.access).await {
        Ok(found) => found,
        Err(e) => return internal(e),
    };
    let r = state.lieux.get();
    let lignes = found
        .into_iter()
        .map(|s| Ligne {
            date: date_heure_fr(s.created_at),
            lieu_nom: r.index.get(s.lieu_id.as_str()).map_or_else(
                || s.lieu_id.to_string(),
                |(i, _)| r.summaries[i].nom.clone(),
            ),
            lieu_id: s.lieu_id,
            motif: svc::motif_label(&s.motif).to_string(),
            message: s.message,
            email: s.email,
        })
        .collect();
    render(SignalementsAdminPage { ctx, lignes })
}
