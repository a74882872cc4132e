//! A structure's monthly statements of the passes it accepted: the page, every statement
//! as CSV, and each as a PDF to keep or send to its accountant.

use askama::Template;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use relais_domain::calendrier::date_heure_fr;
use relais_domain::ids::{ProgrammeId, StructureId};
use relais_domain::pass::reglement::euros;
use relais_services::pass::{self as svc, ReleveLu};

use crate::auth::{InStructure, Members};
use crate::error::{gone, internal};
use crate::pages::{Disposition, Page, PageContext, fichier, render};

/// A statement as the page lists it.
pub struct Ligne {
    pub mois: String,
    /// `AAAA-MM`, for the PDF's address.
    pub cle: String,
    pub programme_id: ProgrammeId,
    pub programme: String,
    pub pass: i64,
    pub total: String,
    pub parts: String,
}

/// A pass accepted offline and used elsewhere, as the page lists it.
pub struct ConflitLu {
    pub code: String,
    pub programme: String,
    /// « Structure (lieu), le … » on each side.
    pub hors_ligne: String,
    pub utilise: String,
}

#[derive(Template)]
#[template(path = "pass_releves.html")]
pub struct RelevesPage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub lignes: Vec<Ligne>,
    pub conflits: Vec<ConflitLu>,
}

fn ou_et_quand((_, structure, lieu): &(StructureId, String, Option<String>), le: i64) -> String {
    let lieu = lieu.as_ref().map(|l| format!(" ({l})")).unwrap_or_default();
    format!("{structure}{lieu}, le {}", date_heure_fr(le))
}

fn parts(r: &ReleveLu) -> Vec<(String, i64)> {
    r.financeurs
        .iter()
        .cloned()
        .zip(r.releve.par_financeur.iter().copied())
        .collect()
}

/// `GET /structures/{id}/pass/releves`
pub async fn page(Page(state, ctx): Page, guard: InStructure<Members>) -> Response {
    let (releves, conflits) = match tokio::try_join!(
        svc::releves_de(&state.db, &guard.access),
        svc::conflits(&state.db, &guard.access)
    ) {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let conflits = conflits
        .into_iter()
        .map(|c| ConflitLu {
            hors_ligne: ou_et_quand(&c.hors_ligne, c.hors_ligne_le),
            utilise: ou_et_quand(&c.utilise, c.utilise_le),
            code: relais_domain::pass::code::CodePass::parse(&c.code)
                .map_or(c.code, |code| code.to_string()),
            programme: c.programme,
        })
        .collect();
    let lignes = releves
        .iter()
        .map(|r| {
            let (y, m) = r.releve.mois;
            Ligne {
                mois: format!("{m:02}/{y}"),
                cle: format!("{y}-{m:02}"),
                programme_id: r.releve.programme,
                programme: r.programme.clone(),
                pass: r.releve.pass,
                total: euros(r.releve.total_centimes),
                parts: parts(r)
                    .iter()
                    .map(|(nom, c)| format!("{nom} : {}", euros(*c)))
                    .collect::<Vec<_>>()
                    .join(" ; "),
            }
        })
        .collect();
    render(RelevesPage {
        ctx,
        structure_id: guard.access.structure(),
        lignes,
        conflits,
    })
    .into_response()
}

/// Cents as a CSV number: `1234.56`.
fn decimal(c: i64) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// `GET /structures/{id}/pass/releves.csv`: one line per funder of each statement.
pub async fn csv(Page(state, _): Page, guard: InStructure<Members>) -> Response {
    let releves = match svc::releves_de(&state.db, &guard.access).await {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let mut out = String::from("mois,programme,pass,total_euros,financeur,part_euros\r\n");
    let champ = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    for r in &releves {
        let (y, m) = r.releve.mois;
        for (nom, part) in parts(r) {
            out.push_str(&format!(
                "{y}-{m:02},{},{},{},{},{}\r\n",
                champ(&r.programme),
                r.releve.pass,
                decimal(r.releve.total_centimes),
                champ(&nom),
                decimal(part)
            ));
        }
    }
    fichier(
        "text/csv; charset=utf-8",
        Disposition::Telecharger,
        &format!("releves-pass-{}.csv", guard.access.structure()),
        out,
    )
}

/// `GET /structures/{id}/pass/releves/{programme}/{mois}`: a statement as a PDF.
pub async fn pdf(
    Page(state, ctx): Page,
    guard: InStructure<Members>,
    Path((_, programme, mois)): Path<(StructureId, ProgrammeId, String)>,
) -> Response {
    let loaded = async {
        Ok::<_, relais_store::StoreError>((
            svc::releves_de(&state.db, &guard.access).await?,
            relais_store::comptes::structure(&state.db, guard.access.structure()).await?,
        ))
    }
    .await;
    let (releves, structure) = match loaded {
        Ok(v) => v,
        Err(e) => return internal(e),
    };
    let Some(r) = releves.iter().find(|r| {
        let (y, m) = r.releve.mois;
        r.releve.programme == programme && format!("{y}-{m:02}") == mois
    }) else {
        return gone(&ctx);
    };
    let nom = structure.map(|s| s.nom).unwrap_or_default();
    match svc::releve_pdf(&nom, r) {
        Ok(bytes) => fichier(
            "application/pdf",
            Disposition::Afficher,
            &format!("releve-pass-{mois}.pdf"),
            bytes,
        ),
        Err(e) => internal(e),
    }
}
