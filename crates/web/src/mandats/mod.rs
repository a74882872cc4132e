//! Mandates in the browser: the creation flow (`creation`) and the printed mandate.

pub mod creation;
pub mod espace;
pub mod fournisseur;

use askama::Template;
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::response::Response;
use relais_domain::authz::StructureAccess;
use relais_domain::calendrier::date_fr;
use relais_domain::ids::{MandatId, StructureId};
use relais_domain::mandats::Demarche;
use relais_services::mandats::{self as svc, MandatImprime};

use crate::AppState;
use crate::auth::{InStructure, Members};
use crate::error::{gone, internal, not_found_page};
use crate::pages::{Page, PageContext, qr_svg, render};

/// A mandate of the structure in the path, for its members: `/structures/{id}/mandats/{mandat}`.
pub struct MandatOfStructure {
    pub access: StructureAccess,
    pub mandat: MandatId,
}

impl FromRequestParts<AppState> for MandatOfStructure {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let guard = InStructure::<Members>::from_request_parts(parts, state).await?;
        let Ok(Path((_, mandat))) =
            Path::<(StructureId, MandatId)>::from_request_parts(parts, state).await
        else {
            return Err(not_found_page(parts, state).await);
        };
        Ok(MandatOfStructure {
            access: guard.access,
            mandat,
        })
    }
}

/// One démarche family as the mandate lists it.
pub struct DemarcheLine {
    pub titre: &'static str,
    pub exemples: &'static str,
}

impl From<Demarche> for DemarcheLine {
    fn from(d: Demarche) -> Self {
        DemarcheLine {
            titre: d.titre(),
            exemples: d.exemples(),
        }
    }
}

#[derive(Template)]
#[template(path = "mandat.html")]
pub struct MandatPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub m: MandatImprime,
    pub demarches: Vec<DemarcheLine>,
    pub naissance: String,
    pub debut: String,
    pub fin: String,
    pub texte: Vec<&'static str>,
    pub qr: String,
    /// Shown once, right after the signature.
    pub signe: bool,
}

#[derive(serde::Deserialize)]
pub struct Signe {
    fait: Option<String>,
}

/// The printable mandate: two copies (usager, structure) with the hash as text and QR code;
/// the print stylesheet drops the site's frame.
pub async fn page(
    Page(state, ctx): Page,
    guard: MandatOfStructure,
    axum::extract::Query(q): axum::extract::Query<Signe>,
) -> Response {
    match svc::imprime(&state.db, &guard.access, guard.mandat).await {
        Ok(Some(m)) => render(MandatPage {
            ctx,
            structure_id: guard.access.structure(),
            demarches: m
                .demarches
                .iter()
                .copied()
                .map(DemarcheLine::from)
                .collect(),
            naissance: date_iso_fr(&m.usager.birthdate),
            debut: date_fr(m.mandat.debut),
            fin: date_fr(m.mandat.fin),
            texte: paragraphes(),
            qr: qr_svg(
                &m.mandat.empreinte,
                "Code QR de l’empreinte du mandat, la même que le texte ci-dessous",
            ),
            signe: q.fait.as_deref() == Some("signe"),
            m,
        }),
        Ok(None) => gone(&ctx),
        Err(e) => internal(e),
    }
}

/// `1950-03-04` → `4 mars 1950`; anything else as given.
pub fn date_iso_fr(iso: &str) -> String {
    relais_domain::calendrier::parse_date_iso(iso).map_or_else(|| iso.to_string(), date_fr)
}

/// The mandate's text, one paragraph per item.
pub fn paragraphes() -> Vec<&'static str> {
    relais_domain::mandats::TEXTE_MANDAT.split("\n\n").collect()
}
