//! The lieux area's pages: the search and its map, the widget other sites embed, a lieu's
//! page, the management of a structure's lieux (import, edit) and the review of merges.

pub mod fiche;
pub mod fusions;
pub mod gestion;
pub mod recherche;
pub mod widget;

use axum::http::StatusCode;
use axum::response::Response;

use crate::pages::PageContext;

pub fn lieu_inconnu(ctx: &PageContext) -> Response {
    crate::error::error_page(
        ctx,
        StatusCode::NOT_FOUND,
        "Lieu introuvable",
        "Ce lieu n’existe pas, ou plus. Cherchez un autre lieu près de chez vous.",
    )
}
