//! A structure's public page (what the register says of it, its lieux, its team) and an
//! administrator's upload of a register of structures.

use askama::Template;
use axum::extract::{Path, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use relais_domain::comptes::registre::StructureLabel;
use relais_domain::ids::{LieuId, StructureId};
use relais_services::comptes::registre::{RapportRegistre, RegistreError, fiche, import_as_admin};

use crate::auth::Admin;
use crate::pages::{Page, PageContext, render};
use crate::upload::MAX_UPLOAD;

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

// ---------------------------------------------------------------------------------------
// An administrator's upload of a register.

/// A rejected row as the report shows it.
pub struct RejetVue {
    pub ligne: usize,
    pub champ: &'static str,
    pub valeur: String,
    pub raison: String,
}

/// Rejections listed on the report page; the count says how many there are in all.
const REJETS_AFFICHES: usize = 1000;

#[derive(Template)]
#[template(path = "registre_import.html")]
pub struct ImportPage {
    pub ctx: PageContext,
    pub registre: String,
    /// (value, label, checked)
    pub labels: Vec<(&'static str, &'static str, bool)>,
    pub erreur: Option<String>,
    pub fichier: String,
    pub rapport: Option<RapportRegistre>,
    pub rejets: Vec<RejetVue>,
    pub max_mo: usize,
}

impl ImportPage {
    fn new(ctx: PageContext) -> ImportPage {
        ImportPage {
            ctx,
            registre: String::new(),
            labels: StructureLabel::ALL
                .iter()
                .map(|l| (l.as_str(), l.label(), false))
                .collect(),
            erreur: None,
            fichier: String::new(),
            rapport: None,
            rejets: Vec::new(),
            max_mo: MAX_UPLOAD / (1024 * 1024),
        }
    }
}

/// `GET /admin/structures/import`
pub async fn import_form(Page(_state, ctx): Page, _admin: Admin) -> Response {
    render(ImportPage::new(ctx))
}

/// `POST /admin/structures/import`: the file, the register's name and the labels its
/// structures get.
pub async fn import(Page(state, ctx): Page, admin: Admin, req: Request) -> Response {
    let upload = match crate::upload::read(&ctx, req).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let mut page = ImportPage::new(ctx);
    for l in &mut page.labels {
        l.2 = upload.fields.contains_key(&format!("label-{}", l.0));
    }
    let labels: Vec<StructureLabel> = StructureLabel::ALL
        .iter()
        .copied()
        .filter(|l| upload.fields.contains_key(&format!("label-{}", l.as_str())))
        .collect();
    page.fichier.clone_from(&upload.name);
    // By default the register is named after its file, as `relais import structures`.
    page.registre = upload
        .fields
        .get("registre")
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| {
            std::path::Path::new(&upload.name).file_stem().map_or_else(
                || "registre".to_string(),
                |s| s.to_string_lossy().into_owned(),
            )
        });
    if upload.bytes.is_empty() {
        page.erreur = Some("Choisissez un fichier CSV ou JSON à importer.".into());
        return (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response();
    }
    match import_as_admin(
        &state.db,
        &state.territoires,
        &admin.access,
        &page.registre,
        &upload.bytes,
        &labels,
    )
    .await
    {
        Ok(r) => {
            page.rejets = r
                .rejected
                .iter()
                .take(REJETS_AFFICHES)
                .map(|x| RejetVue {
                    ligne: x.line,
                    champ: x.field,
                    valeur: x.value.clone(),
                    raison: x.reason.to_string(),
                })
                .collect();
            page.rapport = Some(r);
            render(page)
        }
        Err(RegistreError::Store(e)) => crate::error::internal(e),
        Err(e) => {
            page.erreur = Some(format!(
                "Le fichier « {} » n’a pas pu être importé : {e}. Aucune structure n’a été enregistrée.",
                upload.name
            ));
            (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response()
        }
    }
}
