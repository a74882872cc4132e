//! The counter, for a qualified structure's mediators, on a phone as on a desk: type the
//! code, see whether the pass may be used *before* accepting it, choose the service, accept.
//! Works without JavaScript; the key of a use is drawn when the pass is checked, so that
//! pressing « Accepter » twice records it once.

use askama::Template;
use axum::response::Response;
use rand::Rng;
use relais_domain::calendrier::now_ms;
use relais_domain::ids::LieuId;
use relais_domain::pass::programme::ServicePass;
use relais_domain::pass::reglement::euros;
use relais_domain::pass::utilisation::Refus;
use relais_services::pass::{self as svc, DemandeUtilisation, PassValable, UtilisationError};
use serde::Deserialize;

use crate::activites::{Choix, choices};
use relais_domain::authz::MediateurAccess;

use crate::auth::{CsrfForm, MediateurDe};
use crate::error::internal;
use crate::pages::{Page, PageContext};

/// What the counter shows after a step.
pub enum Etat {
    /// Nothing typed yet, or a pass just accepted: its summary, and the address of the
    /// activity report it starts.
    Saisie { accepte: Option<(String, String)> },
    /// The pass may be used: its summary, the services to choose from, the use's key.
    Valable {
        resume: String,
        services: Vec<Choix>,
        cle: String,
    },
}

#[derive(Template)]
#[template(path = "pass_utilisation.html")]
pub struct CounterPage {
    pub ctx: PageContext,
    pub structure_id: relais_domain::ids::StructureId,
    pub code: String,
    pub lieux: Vec<Choix>,
    pub etat: Etat,
    pub erreur: Option<String>,
    /// A code one typo away that exists: offered to check instead.
    pub suggestion: Option<String>,
    /// What the page's script keeps to accept passes without network (JSON): the
    /// programmes the structure accepts and the services each pays for.
    pub hors_ligne: String,
}

impl CounterPage {
    /// No error on the services' radios: a service outside the list is refused with the code.
    fn aucune(&self) -> Option<&str> {
        None
    }
}

#[derive(Deserialize, Default)]
pub struct Envoi {
    #[serde(default)]
    code: String,
    #[serde(default)]
    lieu: String,
    /// `verifier` or `accepter`.
    #[serde(default)]
    etape: String,
    #[serde(default)]
    cle: String,
    #[serde(default)]
    service: String,
}

/// The activity form, filled with what the use says: its type and theme from the service,
/// the lieu, the day.
fn compte_rendu(access: &MediateurAccess, d: &DemandeUtilisation) -> String {
    let (type_activite, thematique) = d.service.activite();
    let mut champs = Vec::new();
    if let Some(t) = type_activite {
        champs.push(("type_activite", t.as_str()));
    }
    if let Some(t) = thematique {
        champs.push(("thematiques", t.as_str()));
    }
    if let Some(l) = &d.lieu {
        champs.push(("type_lieu", "lieu_activite"));
        champs.push(("lieu", l.as_str()));
    }
    format!(
        "/structures/{}/activites/nouvelle?{}",
        access.structure(),
        serde_urlencoded::to_string(&champs).unwrap_or_default()
    )
}

fn resume(p: &PassValable) -> String {
    format!(
        "Pass {} de {} — {}",
        p.code,
        euros(p.valeur_centimes),
        p.programme
    )
}

async fn page(
    state: &crate::AppState,
    ctx: PageContext,
    access: &MediateurAccess,
    envoi: &Envoi,
    etat: Etat,
    erreur: Option<(String, Option<String>)>,
) -> Response {
    let (lieux, programmes) = match tokio::try_join!(
        relais_services::activites::noms_des_lieux(&state.db, access.structure()),
        svc::programmes_acceptes(&state.db, access)
    ) {
        Ok(r) => r,
        Err(e) => return internal(e),
    };
    let hors_ligne = serde_json::json!({
        "programmes": programmes.iter().map(|(id, nom, services)| (id.0.to_string(), serde_json::json!({
            "nom": nom,
            "services": services.iter().map(|s| [s.as_str(), s.label()]).collect::<Vec<_>>(),
        }))).collect::<serde_json::Map<_, _>>(),
    })
    .to_string();
    let mut choix = vec![Choix {
        value: String::new(),
        label: "Les locaux de la structure".into(),
        checked: envoi.lieu.is_empty(),
    }];
    choix.extend(lieux.into_iter().map(|(id, nom)| Choix {
        checked: envoi.lieu == id.as_str(),
        value: id.0,
        label: nom,
    }));
    let (erreur, suggestion) = erreur.map_or((None, None), |(e, s)| (Some(e), s));
    super::reponse(
        erreur.is_some(),
        CounterPage {
            ctx,
            structure_id: access.structure(),
            code: envoi.code.clone(),
            lieux: choix,
            etat,
            erreur,
            suggestion,
            hors_ligne,
        },
    )
}

/// `GET /structures/{id}/pass/utilisation`
pub async fn form(Page(state, ctx): Page, MediateurDe { access }: MediateurDe) -> Response {
    page(
        &state,
        ctx,
        &access,
        &Envoi::default(),
        Etat::Saisie { accepte: None },
        None,
    )
    .await
}

/// `POST /structures/{id}/pass/utilisation`: check the code typed, or accept the pass
/// checked.
pub async fn submit(
    Page(state, ctx): Page,
    MediateurDe { access }: MediateurDe,
    CsrfForm(envoi): CsrfForm<Envoi>,
) -> Response {
    let territoires = &*state.territoires;
    let lieu = (!envoi.lieu.is_empty()).then(|| LieuId(envoi.lieu.clone()));
    let now = now_ms();
    let result = if envoi.etape == "accepter" {
        let demande = DemandeUtilisation {
            code: envoi.code.clone(),
            cle: envoi.cle.clone(),
            lieu,
            service: ServicePass::parse(&envoi.service).unwrap_or(ServicePass::AtelierCollectif),
            utilise_le: now,
            hors_ligne: false,
        };
        svc::utiliser(&state.db, &access, territoires, &demande, now)
            .await
            .map(|p| Etat::Saisie {
                accepte: Some((resume(&p), compte_rendu(&access, &demande))),
            })
    } else {
        svc::verifier(
            &state.db,
            &access,
            territoires,
            &envoi.code,
            lieu.as_ref(),
            now,
        )
        .await
        .map(|p| Etat::Valable {
            resume: resume(&p),
            services: choices(&p.services, ServicePass::as_str, ServicePass::label, |v| {
                p.services.len() == 1 || v == envoi.service
            }),
            cle: data_encoding::BASE64URL_NOPAD.encode(&rand::rng().random::<[u8; 16]>()),
        })
    };
    match result {
        Ok(etat @ Etat::Saisie { .. }) => {
            let vide = Envoi {
                lieu: envoi.lieu.clone(),
                ..Envoi::default()
            };
            page(&state, ctx, &access, &vide, etat, None).await
        }
        Ok(etat) => page(&state, ctx, &access, &envoi, etat, None).await,
        Err(UtilisationError::Store(e)) => internal(e),
        Err(e) => {
            let suggestion = match &e {
                UtilisationError::Refus(Refus::FauteDeFrappe {
                    suggestion: Some(code),
                }) => Some(code.to_string()),
                _ => None,
            };
            let erreur = Some((e.to_string(), suggestion));
            page(
                &state,
                ctx,
                &access,
                &envoi,
                Etat::Saisie { accepte: None },
                erreur,
            )
            .await
        }
    }
}
