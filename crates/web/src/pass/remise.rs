//! A prescripteur hands a booklet their structure was given to a person: its number, and
//! what the programme's figures need of the person (age band, commune, situation), nothing
//! that names them.

use askama::Template;
use axum::response::Response;
use relais_domain::activites::vocabulaires::{StatutSocial, TrancheAge};
use relais_domain::calendrier::now_ms;
use relais_domain::ids::{ProgrammeId, StructureId};
use relais_services::pass::{self as svc, PassError, RemiseSaisie};
use serde::Deserialize;

use crate::activites::{Choix, choices};
use crate::auth::{CsrfForm, InStructure, Prescripteurs};
use crate::error::internal;
use crate::pages::{Page, PageContext};

#[derive(Template)]
#[template(path = "pass_remise.html")]
pub struct RemisePage {
    pub ctx: PageContext,
    pub structure_id: StructureId,
    pub programmes: Vec<Choix>,
    pub numero: String,
    pub commune: String,
    pub tranches: Vec<Choix>,
    pub situations: Vec<Choix>,
    pub message: Option<String>,
    /// The lieux suggested to the person after a hand-out: « name — address (n km) ».
    pub orientation: Vec<String>,
    pub erreur: Option<String>,
    /// The key of the diagnostic it is handed from, kept when the form is shown again.
    pub diagnostic: String,
}

impl RemisePage {
    /// Errors are said above the form.
    fn aucune(&self) -> Option<&str> {
        None
    }
}

#[derive(Deserialize, Default)]
pub struct Envoi {
    #[serde(default)]
    programme: String,
    #[serde(default)]
    numero: String,
    #[serde(default)]
    commune: String,
    #[serde(default)]
    tranche: String,
    #[serde(default)]
    situation: String,
    /// The key of the diagnostic whose result screen the booklet is handed from.
    #[serde(default)]
    diagnostic: String,
}

async fn page(
    state: &crate::AppState,
    ctx: PageContext,
    structure: StructureId,
    e: &Envoi,
    message: Option<(String, Vec<String>)>,
    erreur: Option<String>,
) -> Response {
    let (message, orientation) = message.map_or((None, Vec::new()), |(m, o)| (Some(m), o));
    let confies = match svc::a_remettre(&state.db, structure).await {
        Ok(p) => p,
        Err(err) => return internal(err),
    };
    let programmes = confies
        .into_iter()
        .map(|(id, nom, reste)| Choix {
            checked: e.programme == id.to_string(),
            value: id.to_string(),
            label: format!("{nom} ({reste} carnet(s) à remettre)"),
        })
        .collect();
    super::reponse(
        erreur.is_some(),
        RemisePage {
            ctx,
            structure_id: structure,
            programmes,
            numero: e.numero.clone(),
            commune: e.commune.clone(),
            tranches: choices(
                TrancheAge::ALL,
                TrancheAge::as_str,
                TrancheAge::label,
                |v| {
                    v == e.tranche
                        || (e.tranche.is_empty() && v == TrancheAge::NonCommunique.as_str())
                },
            ),
            situations: choices(
                StatutSocial::ALL,
                StatutSocial::as_str,
                StatutSocial::label,
                |v| {
                    v == e.situation
                        || (e.situation.is_empty() && v == StatutSocial::NonCommunique.as_str())
                },
            ),
            message,
            orientation,
            erreur,
            diagnostic: e.diagnostic.clone(),
        },
    )
}

/// `GET /structures/{id}/pass/remise`
pub async fn form(Page(state, ctx): Page, guard: InStructure<Prescripteurs>) -> Response {
    page(
        &state,
        ctx,
        guard.access.structure(),
        &Envoi::default(),
        None,
        None,
    )
    .await
}

/// `POST /structures/{id}/pass/remise`
pub async fn submit(
    Page(state, ctx): Page,
    guard: InStructure<Prescripteurs>,
    CsrfForm(e): CsrfForm<Envoi>,
) -> Response {
    let s = guard.access.structure();
    let (Ok(programme), Ok(numero)) = (
        e.programme.parse::<ProgrammeId>(),
        e.numero
            .trim()
            .trim_start_matches("n°")
            .trim()
            .parse::<i64>(),
    ) else {
        let m = "Choisissez le programme et tapez le numéro imprimé sur le carnet.".to_string();
        return page(&state, ctx, s, &e, None, Some(m)).await;
    };
    let saisie = RemiseSaisie {
        tranche_age: TrancheAge::parse(&e.tranche)
            .unwrap_or(TrancheAge::NonCommunique)
            .as_str()
            .into(),
        commune: e.commune.trim().to_uppercase(),
        situation: StatutSocial::parse(&e.situation)
            .unwrap_or(StatutSocial::NonCommunique)
            .as_str()
            .into(),
        orientation: Vec::new(),
        diagnostic: Some(e.diagnostic.trim().to_string()).filter(|d| !d.is_empty()),
    };
    // The lieux suggested to the person, kept with the hand-out.
    let lieux = match svc::orientation(&state.db, &state.territoires, programme, &saisie.commune, 5)
        .await
    {
        Ok(l) => l,
        Err(err) => return internal(err),
    };
    let saisie = RemiseSaisie {
        orientation: lieux.iter().map(|l| l.id.clone()).collect(),
        ..saisie
    };
    match svc::remettre(
        &state.db,
        &guard.access,
        programme,
        numero,
        &saisie,
        now_ms(),
    )
    .await
    {
        Ok(carnet) => {
            let m = format!(
                "Carnet n° {numero} remis : {} pass, à utiliser dans les lieux qualifiés du programme.",
                carnet.codes.len()
            );
            let lieux = lieux
                .into_iter()
                .map(|l| {
                    let loin = l
                        .distance_km
                        .map(|d| format!(" ({d:.0} km)"))
                        .unwrap_or_default();
                    format!("{} — {}{loin}", l.nom, l.adresse)
                })
                .collect();
            page(&state, ctx, s, &Envoi::default(), Some((m, lieux)), None).await
        }
        Err(PassError::Store(err)) => internal(err),
        Err(err) => {
            let m = format!("Le carnet n’est pas remis : {err}.");
            page(&state, ctx, s, &e, None, Some(m)).await
        }
    }
}
