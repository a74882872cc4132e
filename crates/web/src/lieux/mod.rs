//! The lieux area's pages: the search and its map, the widget other sites embed, a lieu's
//! page, the management of a structure's lieux (import, edit) and the review of merges.

pub mod correspondance;
pub mod fiche;
pub mod fusions;
pub mod gestion;
pub mod recherche;
pub mod widget;

use axum::http::StatusCode;
use axum::response::Response;

use relais_domain::lieux::Vocabulary;

use crate::pages::PageContext;

/// A vocabulary as checkboxes (the search's filters, the edit form's lists).
pub struct Groupe {
    /// The form field's name, also the fieldset's id.
    pub name: &'static str,
    pub legende: &'static str,
    pub cases: Vec<Case>,
    pub erreur: Option<String>,
}

/// One checkbox.
pub struct Case {
    pub id: String,
    pub value: &'static str,
    pub checked: bool,
}

/// Every value of `T` as a checkbox of the field `name`, checked where `chosen` says.
pub fn groupe<T: Vocabulary>(
    name: &'static str,
    legende: &'static str,
    chosen: impl Fn(&T) -> bool,
) -> Groupe {
    Groupe {
        name,
        legende,
        cases: T::ALL
            .iter()
            .enumerate()
            .map(|(i, v)| Case {
                id: format!("{name}-{i}"),
                value: v.as_str(),
                checked: chosen(v),
            })
            .collect(),
        erreur: None,
    }
}

pub fn lieu_inconnu(ctx: &PageContext) -> Response {
    crate::error::error_page(
        ctx,
        StatusCode::NOT_FOUND,
        "Lieu introuvable",
        "Ce lieu n’existe pas, ou plus. Cherchez un autre lieu près de chez vous.",
    )
}
