//! A lieu's page and its JSON: what it offers, when it is open, how to get there and get help.

use askama::Template;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use relais_domain::horaires::LocalTime;
use relais_domain::ids::LieuId;
use relais_domain::lieux::Vocabulary;
use relais_services::lieux::fiche::{Fiche, fiche};

use crate::AppState;
use crate::error::ApiError;
use crate::pages::{Page, PageContext, render};

#[derive(Template)]
#[template(path = "lieu.html")]
pub struct LieuPage {
    pub ctx: PageContext,
    pub id: LieuId,
    pub nom: String,
    pub adresse: Vec<String>,
    pub resume: Option<String>,
    pub detail: Option<String>,
    /// (title, values) of each list that is not empty.
    pub listes: Vec<(&'static str, Vec<&'static str>)>,
    pub horaires: Vec<String>,
    /// Hours given but unreadable, shown as given.
    pub horaires_bruts: Option<String>,
    pub ouvert: Option<bool>,
    pub telephone: Option<String>,
    pub courriels: Vec<String>,
    pub sites: Vec<String>,
    pub prise_rdv: Option<String>,
    pub acces_libre: Option<String>,
    pub approximate: bool,
    pub date_maj: String,
    pub sources: String,
    /// The structures it belongs to: (id, name).
    pub structures: Vec<(relais_domain::ids::StructureId, String)>,
}

fn labels<T: Vocabulary>(values: &[T]) -> Vec<&'static str> {
    values.iter().map(|v| v.as_str()).collect()
}

async fn find(state: &AppState, id: &LieuId) -> Result<Fiche, Response> {
    match fiche(&state.db, id).await {
        Ok(Some(f)) => Ok(f),
        Ok(None) => Err(ApiError::NotFound.into_response()),
        Err(e) => Err(crate::error::internal(e)),
    }
}

pub async fn page(Page(state, ctx): Page, Path(id): Path<LieuId>) -> Response {
    let Ok(f) = find(&state, &id).await else {
        return super::lieu_inconnu(&ctx);
    };
    let l = &f.lieu;
    let a = &l.adresse;
    let mut adresse = vec![a.adresse.clone()];
    adresse.extend(a.complement.clone());
    adresse.push(format!("{} {}", a.code_postal.as_str(), a.commune));
    let listes = [
        ("Services", labels(&l.services)),
        ("Publics accueillis en particulier", labels(&l.publics)),
        ("Prise en charge spécifique", labels(&l.prise_en_charge)),
        ("Frais", labels(&l.frais)),
        ("Comment y accéder", labels(&l.modalites_acces)),
        ("Accompagnement", labels(&l.modalites_accompagnement)),
        (
            "Dispositifs et programmes nationaux",
            labels(&l.dispositifs),
        ),
        ("Formations et labels", labels(&l.formations_labels)),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect();
    let now = LocalTime::paris(relais_domain::calendrier::now_ms());
    let (horaires, horaires_bruts, ouvert) = match &f.horaires {
        Some(Ok(h)) => (h.in_words(), None, Some(h.is_open(now))),
        Some(Err(_)) => (Vec::new(), l.horaires.clone(), None),
        None => (Vec::new(), None, None),
    };
    let mut sources: Vec<&str> = f.provenance.values().map(String::as_str).collect();
    sources.sort_unstable();
    sources.dedup();
    render(LieuPage {
        ctx,
        id: f.stored.id.clone(),
        nom: l.nom.clone(),
        adresse,
        resume: l.presentation_resume.clone(),
        detail: l.presentation_detail.clone(),
        listes,
        horaires,
        horaires_bruts,
        ouvert,
        telephone: l.telephone.as_ref().map(ToString::to_string),
        courriels: l.courriels.iter().map(|e| e.as_str().to_string()).collect(),
        sites: l.sites_web.clone(),
        prise_rdv: l.prise_rdv.clone(),
        acces_libre: l.fiche_acces_libre.clone(),
        approximate: f.stored.location.approximate,
        date_maj: l.date_maj.to_string(),
        sources: sources.join(", "),
        structures: f.structures.clone(),
    })
}

/// The lieu as a schema v1.0.1 row, with Relais' id, position and sources.
pub async fn json(State(state): State<AppState>, Path(id): Path<LieuId>) -> Response {
    let f = match find(&state, &id).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let row: serde_json::Value = serde_json::from_str(&f.stored.data).unwrap_or_default();
    Json(serde_json::json!({
        "id": f.stored.id,
        "lieu": row,
        "position": f.stored.location.position.map(|p| {
            serde_json::json!({ "latitude": p.lat, "longitude": p.lon, "approximative": f.stored.location.approximate })
        }),
        "code_insee": f.stored.location.code_insee,
        "provenance": f.provenance,
    }))
    .into_response()
}
