//! A structure's public page (what the register says of it, its lieux, its team) and an
//! administrator's upload of a register of structures.

use askama::Template;
use axum::extract::{Path, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::comptes::Role;
use relais_domain::comptes::registre::StructureLabel;
use relais_domain::comptes::sessions::Stage;
use relais_domain::ids::{LieuId, StructureId};
use relais_services::comptes::registre::{
    RapportRegistre, RegistreError, RevendicationError, equipe, fiche, import_as_admin,
    proposer_correspondance, revendiquer,
};

use crate::AppState;
use crate::auth::{Admin, Authenticated, CsrfForm, Fresh, MaybeSession};
use crate::pages::{Page, PageContext, render};
use crate::upload::MAX_UPLOAD;

#[derive(Template)]
#[template(path = "structure.html")]
pub struct StructurePage {
    pub ctx: PageContext,
    pub id: StructureId,
    pub nom: String,
    pub siret: String,
    pub kind: &'static str,
    pub adresse: String,
    pub commune: String,
    pub labels: Vec<&'static str>,
    pub active: bool,
    pub registre: Option<String>,
    pub lieux: Vec<(LieuId, String, String)>,
    /// (role, how many hold it), every role.
    pub equipe: Vec<(&'static str, usize)>,
    pub sans_referent: bool,
    /// The visitor is logged in (they may claim the structure).
    pub connecte: bool,
    /// Why a claim was refused.
    pub refus: Option<String>,
}

fn inconnue(ctx: &PageContext) -> Response {
    crate::error::error_page(
        ctx,
        StatusCode::NOT_FOUND,
        "Structure introuvable",
        "Cette structure n’existe pas dans Relais.",
    )
}

pub async fn page(
    Page(state, ctx): Page,
    MaybeSession(session): MaybeSession,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return inconnue(&ctx);
    };
    let connecte = session.is_some_and(|s| s.stage == Stage::Active);
    show(&state, ctx, StructureId(id), connecte, None).await
}

async fn show(
    state: &AppState,
    ctx: PageContext,
    id: StructureId,
    connecte: bool,
    refus: Option<String>,
) -> Response {
    let (f, equipe) = match tokio::try_join!(fiche(&state.db, id), equipe(&state.db, id)) {
        Ok((Some(f), equipe)) => (f, equipe),
        Ok((None, _)) => return inconnue(&ctx),
        Err(e) => return crate::error::internal(e),
    };
    let s = f.structure;
    let commune = state.territoires.commune(&s.commune).map_or_else(
        || s.commune.clone(),
        |c| format!("{} ({})", c.nom, c.departement),
    );
    let sans_referent = equipe
        .iter()
        .any(|(role, n)| *role == Role::Referent && *n == 0);
    // A claim refused is a form's answer, not an access denied: the page says why.
    let status = if refus.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = StructurePage {
        ctx,
        id,
        nom: s.nom,
        siret: s.siret,
        kind: s.kind.label(),
        adresse: s.adresse,
        commune,
        labels: s.labels.iter().map(|l| l.label()).collect(),
        active: s.deactivated_at.is_none(),
        registre: s.source.map(|(source, _)| source),
        lieux: f.lieux,
        equipe: equipe.into_iter().map(|(r, n)| (r.label(), n)).collect(),
        sans_referent,
        connecte,
        refus,
    };
    (status, render(page)).into_response()
}

#[derive(serde::Deserialize)]
pub struct Vide {}

/// `POST /structures/{id}/revendication`: the logged-in person becomes the référent of a
/// structure without one, when ProConnect vouched for its SIRET (second factor fresh).
pub async fn claim(
    Page(state, ctx): Page,
    auth: Authenticated,
    _fresh: Fresh,
    Path(id): Path<String>,
    CsrfForm(Vide {}): CsrfForm<Vide>,
) -> Response {
    let Ok(id) = id.parse::<i64>().map(StructureId) else {
        return inconnue(&ctx);
    };
    match revendiquer(&state.db, &auth.actor, id).await {
        Ok(()) => Redirect::to(&format!("/structures/{id}/equipe")).into_response(),
        Err(RevendicationError::Introuvable) => inconnue(&ctx),
        Err(RevendicationError::Store(e)) => crate::error::internal(e),
        Err(e) => {
            show(
                &state,
                ctx,
                id,
                true,
                Some(crate::comptes::capitalize(&e.to_string())),
            )
            .await
        }
    }
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
    /// The correspondence of the columns, as sent, or as proposed after columns were
    /// missing (`propose`).
    pub correspondance: String,
    pub propose: bool,
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
            correspondance: String::new(),
            propose: false,
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
    page.correspondance = upload
        .fields
        .get("correspondance")
        .map(|c| c.trim().to_string())
        .unwrap_or_default();
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
        &page.correspondance,
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
            // Columns not recognised: the page proposes a correspondence from the file.
            if matches!(e, RegistreError::MissingColumns { .. })
                && page.correspondance.is_empty()
                && let Ok(proposed) = proposer_correspondance(&upload.bytes, &upload.name)
            {
                page.correspondance = proposed;
                page.propose = true;
            }
            page.erreur = Some(format!(
                "Le fichier « {} » n’a pas pu être importé : {e}. Aucune structure n’a été enregistrée.",
                upload.name
            ));
            (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response()
        }
    }
}
