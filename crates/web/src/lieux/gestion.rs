//! A structure's lieux, for its référents: the upload of a file of lieux (imported as the
//! structure's own source, with the import's report), the list of its lieux and the edit
//! of one; and the same upload for a hub's coordinator.

use askama::Template;
use axum::extract::{Path, Query, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::authz::StructureAccess;
use relais_domain::ids::{LieuId, StructureId};
use relais_domain::lieux::schema::value_shown;
use relais_domain::lieux::{
    Frais, ModaliteAcces, ModaliteAccompagnement, Public, Service, Vocabulary,
};
use relais_services::lieux::assistant::{Deposant, Televerse, televerser};
use relais_services::lieux::edition::{self as svc, EditError, Edition, FieldError};
use relais_services::lieux::import::{ImportError, ImportReport};
use serde::Deserialize;

use super::{Groupe, groupe};
use crate::AppState;
use crate::auth::{CsrfForm, HubCoordinator, InStructure, Referents};
use crate::error::error_page;
use crate::error::internal;
use crate::pages::{Field, Page, PageContext, render, structure_name};

use crate::upload::MAX_UPLOAD;
/// Rejections listed on the report page; the count says how many there are in all.
const REJECTIONS_SHOWN: usize = 1000;

// ---------------------------------------------------------------------------------------
// Upload and report.

/// One rejected row of the report.
pub struct Rejet {
    pub ligne: usize,
    pub champ: String,
    pub valeur: String,
    pub raison: String,
}

/// The import's report as the page shows it.
pub struct Rapport {
    pub fichier: String,
    pub lus: usize,
    pub gardes: usize,
    pub crees: usize,
    pub modifies: usize,
    pub inchanges: usize,
    pub fusionnes: usize,
    pub a_revoir: usize,
    pub approximatifs: usize,
    pub notes: Vec<String>,
    pub rejets: Vec<Rejet>,
    /// Rejections beyond those listed.
    pub rejets_caches: usize,
    pub rejetes: usize,
    pub avertissements: Vec<(usize, String)>,
}

#[derive(Template)]
#[template(path = "lieux_import.html")]
pub struct ImportPage {
    pub ctx: PageContext,
    /// `Lieux de <structure>` or `Lieux du hub <scope>`.
    pub titre: String,
    pub action: String,
    /// Where the owner's lieux are listed (structures only).
    pub liste: Option<String>,
    pub erreur: Option<String>,
    pub rapport: Option<Rapport>,
    pub max_mo: usize,
}

pub(super) fn rapport(fichier: String, r: &ImportReport) -> Rapport {
    let rejets: Vec<Rejet> = r
        .rejected
        .iter()
        .take(REJECTIONS_SHOWN)
        .map(|rejection| Rejet {
            ligne: rejection.line,
            champ: rejection.field.to_string(),
            valeur: value_shown(&rejection.value).into_owned(),
            raison: rejection.reason.to_string(),
        })
        .collect();
    Rapport {
        fichier,
        lus: r.read,
        gardes: r.kept(),
        crees: r.created,
        modifies: r.updated,
        inchanges: r.unchanged,
        fusionnes: r.merged,
        a_revoir: r.review,
        approximatifs: r.approximate,
        notes: r.notes.clone(),
        rejets_caches: r.rejected.len() - rejets.len(),
        rejets,
        rejetes: r.rejected_rows(),
        avertissements: r.warnings.iter().take(REJECTIONS_SHOWN).cloned().collect(),
    }
}

/// Who the file is imported for.
pub(super) enum Owner<'a> {
    Structure(&'a StructureAccess),
    Hub(&'a HubCoordinator),
}

impl Owner<'_> {
    pub(super) fn deposant(&self) -> Deposant<'_> {
        match self {
            Owner::Structure(access) => Deposant::Structure(access),
            Owner::Hub(hub) => Deposant::Hub(&hub.access),
        }
    }

    pub(super) async fn page(
        &self,
        state: &AppState,
        ctx: PageContext,
    ) -> Result<ImportPage, Response> {
        let (titre, action, liste) = match self {
            Owner::Structure(access) => {
                let id = access.structure();
                let nom = structure_name(state, access).await?;
                (
                    format!("Lieux de {nom}"),
                    format!("/structures/{id}/lieux/import"),
                    Some(format!("/structures/{id}/lieux")),
                )
            }
            Owner::Hub(hub) => (
                format!("Lieux du hub {}", hub.access.scope()),
                "/hub/lieux/import".to_string(),
                None,
            ),
        };
        Ok(ImportPage {
            ctx,
            titre,
            action,
            liste,
            erreur: None,
            rapport: None,
            max_mo: MAX_UPLOAD / (1024 * 1024),
        })
    }
}

/// `GET /structures/{id}/lieux/import`
pub async fn import_form(Page(state, ctx): Page, guard: InStructure<Referents>) -> Response {
    match Owner::Structure(&guard.access).page(&state, ctx).await {
        Ok(page) => render(page),
        Err(r) => r,
    }
}

/// `POST /structures/{id}/lieux/import`
pub async fn import(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    req: Request,
) -> Response {
    run_import(&state, ctx, Owner::Structure(&guard.access), req).await
}

/// `GET /hub/lieux/import`
pub async fn hub_import_form(Page(state, ctx): Page, hub: HubCoordinator) -> Response {
    match Owner::Hub(&hub).page(&state, ctx).await {
        Ok(page) => render(page),
        Err(r) => r,
    }
}

/// `POST /hub/lieux/import`
pub async fn hub_import(Page(state, ctx): Page, hub: HubCoordinator, req: Request) -> Response {
    run_import(&state, ctx, Owner::Hub(&hub), req).await
}

async fn run_import(
    state: &AppState,
    ctx: PageContext,
    owner: Owner<'_>,
    req: Request,
) -> Response {
    let upload = match crate::upload::read(&ctx, req).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (name, bytes) = (upload.name, upload.bytes);
    let mut page = match owner.page(state, ctx).await {
        Ok(page) => page,
        Err(r) => return r,
    };
    if bytes.is_empty() {
        page.erreur = Some("Choisissez un fichier CSV ou JSON à importer.".into());
        return (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response();
    }
    match televerser(
        &state.db,
        &state.territoires,
        owner.deposant(),
        &name,
        &bytes,
    )
    .await
    {
        Ok(Televerse::Importe(report)) => {
            page.rapport = Some(rapport(name, &report));
            render(page)
        }
        // Not the schema: the mapping assistant, at its own address.
        Ok(Televerse::ACorreler(a)) => {
            Redirect::to(&format!("{}/{}", page.action, a.id)).into_response()
        }
        Err(ImportError::File(e)) => {
            page.erreur = Some(format!(
                "Le fichier « {name} » n’a pas pu être lu : {e}. Aucun lieu n’a été importé."
            ));
            (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response()
        }
        Err(ImportError::Store(e)) => internal(e),
    }
}

// ---------------------------------------------------------------------------------------
// The structure's lieux.

#[derive(Template)]
#[template(path = "lieux_structure.html")]
pub struct ListePage {
    pub ctx: PageContext,
    pub id: StructureId,
    pub structure: String,
    pub lieux: Vec<svc::LieuDeStructure>,
    /// After an edit: (lieu id, message).
    pub notice: Option<(LieuId, &'static str)>,
}

#[derive(Deserialize)]
pub struct FaitParam {
    fait: Option<String>,
    lieu: Option<LieuId>,
}

/// `GET /structures/{id}/lieux`
pub async fn list(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Query(q): Query<FaitParam>,
) -> Response {
    let id = guard.access.structure();
    let structure = match structure_name(&state, &guard.access).await {
        Ok(nom) => nom,
        Err(r) => return r,
    };
    let lieux = match svc::lieux_of(&state.db, &guard.access).await {
        Ok(l) => l,
        Err(e) => return internal(e),
    };
    let notice = match (q.fait.as_deref(), q.lieu) {
        (Some("modifie"), Some(lieu)) => Some((
            lieu,
            "Le lieu est mis à jour, et sa date de mise à jour est celle d’aujourd’hui. La modification est inscrite au journal de la structure.",
        )),
        (Some("inchange"), Some(lieu)) => {
            Some((lieu, "Aucune valeur n’a changé : rien n’a été enregistré."))
        }
        _ => None,
    };
    render(ListePage {
        ctx,
        id,
        structure,
        lieux,
        notice,
    })
}

// ---------------------------------------------------------------------------------------
// Editing a lieu.

/// A text field of the form: what it is, its value and its error.
pub struct Champ {
    pub spec: &'static Spec,
    pub field: Field,
}

#[derive(Template)]
#[template(path = "lieu_modifier.html")]
pub struct EditPage {
    pub ctx: PageContext,
    pub id: StructureId,
    pub lieu_id: LieuId,
    pub nom: String,
    pub champs: Vec<Champ>,
    pub groupes: Vec<Groupe>,
    /// How many fields are refused.
    pub erreurs: usize,
}

/// A text field of the form, whatever its value.
pub struct Spec {
    pub name: &'static str,
    pub label: &'static str,
    pub hint: &'static str,
    pub required: bool,
    pub multiline: bool,
    pub input_type: &'static str,
    pub autocomplete: &'static str,
    pub maxlength: usize,
}

const TEXTES: [Spec; 10] = [
    Spec {
        name: "nom",
        label: "Nom du lieu",
        hint: "",
        required: true,
        multiline: false,
        input_type: "text",
        autocomplete: "organization",
        maxlength: 300,
    },
    Spec {
        name: "adresse",
        label: "Adresse",
        hint: "Numéro et voie, par exemple : 20 rue Jo Gouttebarge",
        required: true,
        multiline: false,
        input_type: "text",
        autocomplete: "street-address",
        maxlength: 300,
    },
    Spec {
        name: "code_postal",
        label: "Code postal",
        hint: "5 chiffres, par exemple : 42000",
        required: true,
        multiline: false,
        input_type: "text",
        autocomplete: "postal-code",
        maxlength: 10,
    },
    Spec {
        name: "commune",
        label: "Commune",
        hint: "",
        required: true,
        multiline: false,
        input_type: "text",
        autocomplete: "address-level2",
        maxlength: 200,
    },
    Spec {
        name: "telephone",
        label: "Téléphone (facultatif)",
        hint: "10 chiffres, par exemple : 04 77 00 00 00, ou +33 suivi de 9 chiffres",
        required: false,
        multiline: false,
        input_type: "tel",
        autocomplete: "tel",
        maxlength: 30,
    },
    Spec {
        name: "courriels",
        label: "Adresses électroniques (facultatif)",
        hint: "Format attendu : nom@domaine.fr ; séparez plusieurs adresses par des virgules",
        required: false,
        multiline: false,
        input_type: "text",
        autocomplete: "email",
        maxlength: 1000,
    },
    Spec {
        name: "site_web",
        label: "Sites web (facultatif)",
        hint: "Adresse commençant par https:// ; séparez plusieurs adresses par des espaces",
        required: false,
        multiline: false,
        input_type: "text",
        autocomplete: "url",
        maxlength: 1000,
    },
    Spec {
        name: "horaires",
        label: "Horaires d’ouverture (facultatif)",
        hint: "Au format OpenStreetMap, par exemple : Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00",
        required: false,
        multiline: false,
        input_type: "text",
        autocomplete: "off",
        maxlength: 1000,
    },
    Spec {
        name: "presentation_resume",
        label: "Présentation en une phrase (facultatif)",
        hint: "280 caractères au plus",
        required: false,
        multiline: true,
        input_type: "",
        autocomplete: "off",
        maxlength: 280,
    },
    Spec {
        name: "presentation_detail",
        label: "Présentation détaillée (facultatif)",
        hint: "",
        required: false,
        multiline: true,
        input_type: "",
        autocomplete: "off",
        maxlength: 10_000,
    },
];

fn vocabulary<T: Vocabulary>(
    name: &'static str,
    legende: &'static str,
    edition: &Edition,
) -> Groupe {
    let chosen: Vec<&str> = edition
        .get(name)
        .map(|v| v.split('|').collect())
        .unwrap_or_default();
    groupe::<T>(name, legende, |v| chosen.contains(&v.as_str()))
}

fn edit_page(
    ctx: PageContext,
    access: &StructureAccess,
    lieu_id: LieuId,
    nom: String,
    edition: &Edition,
    errors: &[FieldError],
) -> EditPage {
    let erreur = |name: &str| {
        errors
            .iter()
            .find(|e| e.field == name)
            .map(|e| e.message.clone())
    };
    let shown = |name: &str| {
        let v = edition.get(name).map_or("", String::as_str);
        match name {
            "courriels" => v.replace('|', ", "),
            "site_web" => v.replace('|', " "),
            _ => v.to_string(),
        }
    };
    let champs = TEXTES
        .iter()
        .map(|spec| Champ {
            spec,
            field: Field {
                value: shown(spec.name),
                error: erreur(spec.name),
            },
        })
        .collect();
    let mut groupes = vec![
        vocabulary::<Service>("services", "Services proposés", edition),
        vocabulary::<Public>(
            "publics_specifiquement_adresses",
            "Publics accueillis en particulier",
            edition,
        ),
        vocabulary::<Frais>("frais_a_charge", "Frais à la charge du public", edition),
        vocabulary::<ModaliteAcces>("modalites_acces", "Modalités d’accès", edition),
        vocabulary::<ModaliteAccompagnement>(
            "modalites_accompagnement",
            "Modalités d’accompagnement",
            edition,
        ),
    ];
    for g in &mut groupes {
        g.erreur = erreur(g.name);
    }
    EditPage {
        ctx,
        id: access.structure(),
        lieu_id,
        nom,
        champs,
        groupes,
        erreurs: errors.len(),
    }
}

fn not_yours(ctx: &PageContext) -> Response {
    error_page(
        ctx,
        StatusCode::NOT_FOUND,
        "Lieu introuvable",
        "Ce lieu n’existe pas, ou il n’est pas décrit par votre structure : vous ne pouvez pas le modifier. Importez d’abord le fichier de vos lieux.",
    )
}

/// `GET /structures/{id}/lieux/{lieu}/modifier`
pub async fn edit_form(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Path((_, lieu)): Path<(StructureId, LieuId)>,
) -> Response {
    match svc::editable(&state.db, &guard.access, &lieu).await {
        Ok(e) => {
            let nom = e.edition.get("nom").cloned().unwrap_or_default();
            render(edit_page(
                ctx,
                &guard.access,
                e.lieu_id,
                nom,
                &e.edition,
                &[],
            ))
        }
        Err(EditError::NotOwned) => not_yours(&ctx),
        Err(e) => internal(e),
    }
}

/// `POST /structures/{id}/lieux/{lieu}/modifier`: checkboxes repeat their name, so the
/// form is read as pairs.
pub async fn edit(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Path((_, lieu)): Path<(StructureId, LieuId)>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Response {
    let current = match svc::editable(&state.db, &guard.access, &lieu).await {
        Ok(e) => e,
        Err(EditError::NotOwned) => return not_yours(&ctx),
        Err(e) => return internal(e),
    };
    let mut edition = Edition::new();
    for (k, v) in pairs {
        if let Some(field) = svc::FIELDS.iter().find(|f| **f == k) {
            edition
                .entry(field.to_string())
                .and_modify(|all: &mut String| {
                    all.push('|');
                    all.push_str(&v);
                })
                .or_insert(v);
        }
    }
    match svc::edit(
        &state.db,
        &state.territoires,
        &guard.access,
        &current.lieu_id,
        &edition,
    )
    .await
    {
        Ok(done) => {
            let fait = if done.changed.is_empty() {
                "inchange"
            } else {
                "modifie"
            };
            Redirect::to(&format!(
                "/structures/{}/lieux?fait={fait}&lieu={}",
                guard.access.structure(),
                crate::auth::urlencode(done.lieu_id.as_str())
            ))
            .into_response()
        }
        Err(EditError::Invalid(errors)) => {
            let nom = current.edition.get("nom").cloned().unwrap_or_default();
            let page = edit_page(ctx, &guard.access, current.lieu_id, nom, &edition, &errors);
            (StatusCode::UNPROCESSABLE_ENTITY, render(page)).into_response()
        }
        Err(EditError::NotOwned) => not_yours(&ctx),
        Err(EditError::Store(e)) => internal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_problems_show_their_field_value_and_reason() {
        use relais_domain::lieux::{Reason, Rejection, RejectionReason};
        let report = ImportReport {
            rejected: vec![
                Rejection {
                    line: 3,
                    field: "code_postal",
                    value: "4200".into(),
                    reason: Reason::CodePostal.into(),
                },
                Rejection {
                    line: 3,
                    field: "nom",
                    value: String::new(),
                    reason: Reason::Missing.into(),
                },
                Rejection::of_row(
                    7,
                    RejectionReason::Unreadable("ligne illisible : 33 champs au lieu de 32".into()),
                ),
            ],
            ..ImportReport::default()
        };
        let r = rapport("f.csv".into(), &report);
        let parts: Vec<(usize, &str, &str, &str)> = r
            .rejets
            .iter()
            .map(|j| {
                (
                    j.ligne,
                    j.champ.as_str(),
                    j.valeur.as_str(),
                    j.raison.as_str(),
                )
            })
            .collect();
        assert_eq!(
            parts,
            [
                (3, "code_postal", "4200", "5 chiffres attendus"),
                (3, "nom", "", "champ obligatoire vide"),
                (7, "", "", "ligne illisible : 33 champs au lieu de 32"),
            ]
        );
        assert_eq!((r.rejetes, r.rejets_caches), (2, 0));
    }
}
