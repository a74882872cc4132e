//! The mapping assistant's page: a file that does not follow the schema, the mapping
//! Relais proposes as a form (a select per field, a select per producer's value of a
//! vocabulary field), the preview of its first rows, and its import with that mapping.

use std::collections::HashMap;

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use relais_domain::lieux::proposition::{CHAMPS, Corrections, Origine, Proposition, vocabulaire};
use relais_services::lieux::assistant::{
    Assistant, AssistantError, PREVIEW_FIELDS, assistant, importer_corrige,
};

use super::gestion::{Owner, rapport};
use crate::AppState;
use crate::auth::{CsrfForm, HubCoordinator, InStructure, Referents};
use crate::error::{error_page, internal};
use crate::pages::{Page, PageContext, render};

/// The option that keeps what Relais proposed when it is no column (a rule, a constant).
const RELAIS: &str = "__relais__";

/// A select of the form: (value, label, selected) options.
pub struct Choix {
    pub name: String,
    pub libelle: String,
    pub aide: String,
    pub options: Vec<(String, String, bool)>,
}

/// The producer's values of one vocabulary field.
pub struct Valeurs {
    pub champ: &'static str,
    pub selects: Vec<(Choix, String)>,
}

#[derive(Template)]
#[template(path = "lieux_correspondance.html")]
pub struct AssistantPage {
    pub ctx: PageContext,
    pub titre: String,
    pub action: String,
    pub fichier: String,
    pub colonnes: Vec<Choix>,
    pub valeurs: Vec<Valeurs>,
    pub apercu_champs: &'static [&'static str],
    pub apercu: Vec<relais_services::lieux::assistant::Apercu>,
    pub erreur: Option<String>,
    pub corrections: usize,
}

/// The French name of a field of the schema, for its select.
fn libelle(champ: &str) -> &'static str {
    match champ {
        "id" => "Identifiant du lieu chez le producteur",
        "nom" => "Nom du lieu",
        "latitude" => "Latitude",
        "longitude" => "Longitude",
        "code_postal" => "Code postal",
        "code_insee" => "Code INSEE de la commune",
        "commune" => "Commune",
        "adresse" => "Adresse (numéro et voie)",
        "date_maj" => "Date de mise à jour",
        "telephone" => "Téléphone",
        "courriels" => "Courriels",
        "site_web" => "Site web",
        "horaires" => "Horaires",
        "pivot" => "SIRET",
        "complement_adresse" => "Complément d’adresse",
        "presentation_detail" => "Présentation",
        "typologie" => "Type de lieu",
        "services" => "Services",
        "modalites_accompagnement" => "Modalités d’accompagnement",
        _ => "Autre champ",
    }
}

fn page(
    ctx: PageContext,
    titre: String,
    action: String,
    a: Assistant,
    corrections: usize,
) -> AssistantPage {
    let p = &a.proposition;
    let colonnes = CHAMPS
        .iter()
        .map(|&champ| {
            let choix = p.choix.iter().find(|c| c.champ == champ);
            let courante = choix.map(|c| match &c.origine {
                Origine::Colonne(col) => col.clone(),
                _ => RELAIS.to_string(),
            });
            let mut options = vec![(
                String::new(),
                "— aucune colonne —".to_string(),
                courante.is_none(),
            )];
            if let Some(c) = choix.filter(|c| !matches!(c.origine, Origine::Colonne(_))) {
                options.push((
                    RELAIS.to_string(),
                    format!("Proposé par Relais : {}", c.pourquoi),
                    true,
                ));
            }
            options.extend(a.colonnes.iter().map(|col| {
                (
                    col.clone(),
                    format!("Colonne « {col} »"),
                    courante.as_deref() == Some(col),
                )
            }));
            Choix {
                name: format!("colonne-{champ}"),
                libelle: libelle(champ).to_string(),
                aide: choix.map_or_else(
                    || "Relais n’a trouvé aucune colonne pour ce champ.".to_string(),
                    |c| {
                        if c.pourquoi.is_empty() {
                            format!("Confiance {} %", c.confiance)
                        } else {
                            format!("Confiance {} % : {}", c.confiance, c.pourquoi)
                        }
                    },
                ),
                options,
            }
        })
        .collect();
    let valeurs = p
        .choix
        .iter()
        .filter(|c| !c.valeurs.is_empty())
        .filter_map(|c| Some((c, vocabulaire(c.champ)?)))
        .map(|(c, schema)| Valeurs {
            champ: c.champ,
            selects: c
                .valeurs
                .iter()
                .enumerate()
                .map(|(i, (valeur, choisie))| {
                    let mut options = vec![(
                        String::new(),
                        "— laisser de côté —".to_string(),
                        choisie.is_none(),
                    )];
                    options.extend(
                        schema
                            .iter()
                            .map(|v| (v.to_string(), v.to_string(), *choisie == Some(*v))),
                    );
                    (
                        Choix {
                            name: format!("valeur-{}-{i}", c.champ),
                            libelle: format!("« {valeur} »"),
                            aide: String::new(),
                            options,
                        },
                        valeur.clone(),
                    )
                })
                .collect(),
        })
        .collect();
    AssistantPage {
        ctx,
        titre,
        action,
        fichier: a.fichier,
        colonnes,
        valeurs,
        apercu_champs: &PREVIEW_FIELDS,
        apercu: a.apercu,
        erreur: a.erreur,
        corrections,
    }
}

/// What the person changed, field by field, against what Relais proposed.
fn corrections(base: &Proposition, form: &HashMap<String, String>) -> Corrections {
    let mut out = Corrections::default();
    for champ in CHAMPS {
        let Some(v) = form.get(&format!("colonne-{champ}")) else {
            continue;
        };
        let proposee = base
            .choix
            .iter()
            .find(|c| c.champ == champ)
            .map(|c| match &c.origine {
                Origine::Colonne(col) => col.as_str(),
                _ => RELAIS,
            });
        match (v.as_str(), proposee) {
            (RELAIS, _) | ("", None) => {}
            ("", Some(_)) => {
                out.colonnes.insert(champ.to_string(), None);
            }
            (col, Some(p)) if p == col => {}
            (col, _) => {
                out.colonnes
                    .insert(champ.to_string(), Some(col.to_string()));
            }
        }
    }
    for (key, valeur) in form {
        let Some(rest) = key
            .strip_prefix("valeur-")
            .and_then(|k| k.strip_suffix("-de"))
        else {
            continue;
        };
        let Some((champ, _)) = rest.rsplit_once('-') else {
            continue;
        };
        let Some(schema) = vocabulaire(champ) else {
            continue;
        };
        let choisie = form
            .get(&format!("valeur-{rest}"))
            .and_then(|v| schema.iter().find(|s| **s == v.as_str()).copied());
        let proposee = base
            .choix
            .iter()
            .find(|c| c.champ == champ)
            .and_then(|c| c.valeurs.iter().find(|(v, _)| v == valeur))
            .map(|(_, s)| *s);
        if proposee != Some(choisie) {
            out.valeurs
                .insert((champ.to_string(), valeur.clone()), choisie);
        }
    }
    out
}

fn gone(ctx: &PageContext) -> Response {
    error_page(
        ctx,
        StatusCode::NOT_FOUND,
        "Fichier introuvable",
        "Ce fichier n’attend plus sa correspondance (un fichier est gardé un jour, et jusqu’à son import). Importez-le de nouveau.",
    )
}

async fn show(state: &AppState, ctx: PageContext, owner: Owner<'_>, id: i64) -> Response {
    let import = match owner.page(state, ctx).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    match assistant(&state.db, owner.deposant(), id, &Corrections::default()).await {
        Ok(Some(a)) => render(page(
            import.ctx,
            import.titre,
            format!("{}/{id}", import.action),
            a,
            0,
        )),
        Ok(None) => gone(&import.ctx),
        Err(e) => internal(e),
    }
}

async fn submit(
    state: &AppState,
    ctx: PageContext,
    owner: Owner<'_>,
    id: i64,
    form: HashMap<String, String>,
) -> Response {
    let mut import = match owner.page(state, ctx).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let d = owner.deposant();
    let base = match assistant(&state.db, d, id, &Corrections::default()).await {
        Ok(Some(a)) => a,
        Ok(None) => return gone(&import.ctx),
        Err(e) => return internal(e),
    };
    let corrections = corrections(&base.proposition, &form);
    let action = format!("{}/{id}", import.action);
    if form.get("action").map(String::as_str) == Some("importer") {
        match importer_corrige(&state.db, &state.territoires, d, id, &corrections).await {
            Ok(Some(report)) => {
                let mut r = rapport(base.fichier, &report);
                r.notes.insert(
                    0,
                    "La correspondance est gardée : les prochains fichiers de ce producteur, avec les mêmes colonnes, seront importés directement.".to_string(),
                );
                import.rapport = Some(r);
                return render(import);
            }
            Ok(None) => return gone(&import.ctx),
            Err(AssistantError::Import(e)) => return internal(e),
            Err(e @ AssistantError::Correspondance(_)) => {
                let a = match assistant(&state.db, d, id, &corrections).await {
                    Ok(Some(a)) => a,
                    Ok(None) => return gone(&import.ctx),
                    Err(e) => return internal(e),
                };
                let mut p = page(import.ctx, import.titre, action, a, corrections.len());
                p.erreur = Some(crate::comptes::capitalize(&e.to_string()));
                return (StatusCode::UNPROCESSABLE_ENTITY, render(p)).into_response();
            }
        }
    }
    match assistant(&state.db, d, id, &corrections).await {
        Ok(Some(a)) => render(page(import.ctx, import.titre, action, a, corrections.len())),
        Ok(None) => gone(&import.ctx),
        Err(e) => internal(e),
    }
}

/// `GET /structures/{id}/lieux/import/{televersement}`
pub async fn structure_form(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Path((_, id)): Path<(String, i64)>,
) -> Response {
    show(&state, ctx, Owner::Structure(&guard.access), id).await
}

/// `POST /structures/{id}/lieux/import/{televersement}`
pub async fn structure_submit(
    Page(state, ctx): Page,
    guard: InStructure<Referents>,
    Path((_, id)): Path<(String, i64)>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Response {
    submit(&state, ctx, Owner::Structure(&guard.access), id, form).await
}

/// `GET /hub/lieux/import/{televersement}`
pub async fn hub_form(
    Page(state, ctx): Page,
    hub: HubCoordinator,
    Path(id): Path<i64>,
) -> Response {
    show(&state, ctx, Owner::Hub(&hub), id).await
}

/// `POST /hub/lieux/import/{televersement}`
pub async fn hub_submit(
    Page(state, ctx): Page,
    hub: HubCoordinator,
    Path(id): Path<i64>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Response {
    submit(&state, ctx, Owner::Hub(&hub), id, form).await
}
