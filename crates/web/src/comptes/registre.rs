//! A structure's public page: what the register says of it, and its lieux.

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use relais_domain::ids::{LieuId, StructureId};
use relais_services::comptes::registre::fiche;

use crate::pages::{Page, PageContext, render};

#[derive(Template)]
#[template(path = "structure.html")]
pub struct StructurePage {
    pub ctx: PageContext,
    pub nom: String,
    pub siret: String,
    pub kind: &'static str,
    pub adresse: String,
    pub commune: String,
    pub labels: Vec<&'static str>,
    pub active: bool,
    pub registre: Option<String>,
    pub lieux: Vec<(LieuId, String, String)>,
}

fn inconnue(ctx: &PageContext) -> Response {
    crate::error::error_page(
        ctx,
        StatusCode::NOT_FOUND,
        "Structure introuvable",
        "Cette structure n’existe pas dans Relais.",
    )
}

pub async fn page(Page(state, ctx): Page, Path(id): Path<String>) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return inconnue(&ctx);
    };
    let f = match fiche(&state.db, StructureId(id)).await {
        Ok(Some(f)) => f,
        Ok(None) => return inconnue(&ctx),
        Err(e) => return crate::error::internal(e),
    };
    let s = f.structure;
    let commune = state.territoires.commune(&s.commune).map_or_else(
        || s.commune.clone(),
        |c| format!("{} ({})", c.nom, c.departement),
    );
    render(StructurePage {
        ctx,
        nom: s.nom,
        siret: s.siret,
        kind: s.kind.label(),
        adresse: s.adresse,
        commune,
        labels: s.labels.iter().map(|l| l.label()).collect(),
        active: s.deactivated_at.is_none(),
        registre: s.source.map(|(source, _)| source),
        lieux: f.lieux,
    })
}
