//! The usager's space, after FranceConnect: their mandates, what each allows until when,
//! every use, ending a démarche or a whole mandate (a button, then a confirmation), their
//! data to download. Words for everyone (FALC): short sentences, one idea each.

use askama::Template;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use relais_domain::calendrier::{date_fr, date_heure_fr, now_ms};
use relais_domain::ids::{AutorisationId, MandatId, UsagerId};
use relais_domain::mandats::Demarche;
use relais_services::mandats::RevocationError;
use relais_services::mandats::espace::{self as svc, Espace};
use serde::Deserialize;

use super::creation::{not_configured, refusal};
use crate::AppState;
use crate::auth::{CsrfForm, cookie, set_cookie};
use crate::comptes::Empty;
use crate::error::{error_page, internal};
use crate::pages::{Page, PageContext, render};

pub const USAGER_COOKIE: &str = "relais_usager";

/// The usager of the request's space session, if any.
pub struct UsagerSession(pub Option<(UsagerId, String)>);

impl FromRequestParts<AppState> for UsagerSession {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie(&parts.headers, USAGER_COOKIE) else {
            return Ok(UsagerSession(None));
        };
        match svc::session(&state.db, &token, now_ms()).await {
            Ok(found) => Ok(UsagerSession(found.map(|u| (u, token)))),
            Err(e) => Err(internal(e)),
        }
    }
}

/// The space's session just opened by FranceConnect: the cookie, then the space.
pub async fn opened(state: &AppState, usager: UsagerId, now: i64) -> Response {
    match svc::ouvrir_session(&state.db, usager, now).await {
        Ok(token) => (
            [(
                header::SET_COOKIE,
                set_cookie(USAGER_COOKIE, &token, None, state.config.hsts),
            )],
            Redirect::to("/usager"),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}

pub struct DemarcheLigne {
    pub autorisation: AutorisationId,
    pub titre: &'static str,
    pub fin: String,
    pub en_cours: bool,
    pub arretee: Option<String>,
}

pub struct MandatLigne {
    pub id: MandatId,
    pub structure: String,
    pub debut: String,
    pub fin: String,
    pub en_cours: bool,
    pub demarches: Vec<DemarcheLigne>,
}

pub struct UtilisationLigne {
    pub date: String,
    pub demarche: &'static str,
    pub aidant: String,
    pub structure: String,
    pub service: String,
}

#[derive(Template)]
#[template(path = "usager.html")]
pub struct SpacePage {
    pub ctx: PageContext,
    pub nom: String,
    pub mandats: Vec<MandatLigne>,
    pub utilisations: Vec<UtilisationLigne>,
    pub notice: Option<&'static str>,
}

#[derive(Template)]
#[template(path = "usager_connexion.html")]
pub struct LoginPage {
    pub ctx: PageContext,
    pub available: bool,
}

#[derive(Deserialize)]
pub struct Notice {
    fait: Option<String>,
}

fn lines(e: Espace) -> (Vec<MandatLigne>, Vec<UtilisationLigne>) {
    let mandats = e
        .mandats
        .into_iter()
        .map(|m| MandatLigne {
            id: m.mandat.id,
            structure: m.structure,
            debut: date_fr(m.mandat.debut),
            fin: date_fr(m.mandat.fin),
            en_cours: m.demarches.iter().any(|d| d.en_cours),
            demarches: m
                .demarches
                .into_iter()
                .map(|d| DemarcheLigne {
                    autorisation: d.autorisation,
                    titre: d.demarche.titre(),
                    fin: date_fr(d.fin),
                    en_cours: d.en_cours,
                    arretee: d.revoquee_le.map(date_fr),
                })
                .collect(),
        })
        .collect();
    let utilisations = e
        .utilisations
        .into_iter()
        .map(|u| UtilisationLigne {
            date: date_heure_fr(u.at),
            demarche: Demarche::parse(&u.demarche).map_or("Démarche", Demarche::titre),
            aidant: u.aidant,
            structure: u.structure,
            service: u.service,
        })
        .collect();
    (mandats, utilisations)
}

/// The space, or the page to log in with FranceConnect.
pub async fn space(
    Page(state, ctx): Page,
    UsagerSession(session): UsagerSession,
    Query(q): Query<Notice>,
) -> Response {
    let Some((usager, _)) = session else {
        return render(LoginPage {
            ctx,
            available: state.franceconnect.is_some(),
        });
    };
    match svc::espace(&state.db, usager, now_ms()).await {
        Ok(e) => {
            let nom = format!("{} {}", e.identite.given_name, e.identite.family_name);
            let (mandats, utilisations) = lines(e);
            render(SpacePage {
                ctx,
                nom,
                mandats,
                utilisations,
                notice: match q.fait.as_deref() {
                    Some("fin") => Some(
                        "C’est fait : la structure ne peut plus faire cette démarche pour vous.",
                    ),
                    Some("fin-mandat") => Some(
                        "C’est fait : la structure ne peut plus rien faire pour vous avec ce mandat.",
                    ),
                    _ => None,
                },
            })
        }
        Err(e) => internal(e),
    }
}

/// To FranceConnect, to open the space.
pub async fn login(Page(state, ctx): Page) -> Response {
    let Some(franceconnect) = &state.franceconnect else {
        return not_configured(&ctx);
    };
    match relais_services::mandats::franceconnect::commencer_espace(
        &state.db,
        franceconnect,
        now_ms(),
    )
    .await
    {
        Ok(url) => Redirect::to(&url).into_response(),
        Err(e) => refusal(&ctx, e),
    }
}

pub async fn logout(
    axum::extract::State(state): axum::extract::State<AppState>,
    UsagerSession(session): UsagerSession,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    if let Some((_, token)) = session
        && let Err(e) = svc::fermer_session(&state.db, &token).await
    {
        return internal(e);
    }
    (
        [(
            header::SET_COOKIE,
            set_cookie(USAGER_COOKIE, "", Some(0), state.config.hsts),
        )],
        Redirect::to("/usager"),
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "usager_fin.html")]
pub struct EndPage {
    pub ctx: PageContext,
    pub action: String,
    pub question: String,
    pub explication: &'static str,
}

fn to_login() -> Response {
    Redirect::to("/usager").into_response()
}

/// The confirmation before ending one démarche (the second click is the button there).
pub async fn end_demarche_form(
    Page(state, ctx): Page,
    UsagerSession(session): UsagerSession,
    Path(id): Path<AutorisationId>,
) -> Response {
    let Some((usager, _)) = session else {
        return to_login();
    };
    let e = match svc::espace(&state.db, usager, now_ms()).await {
        Ok(e) => e,
        Err(e) => return internal(e),
    };
    let found = e.mandats.iter().find_map(|m| {
        m.demarches
            .iter()
            .find(|d| d.autorisation == id && d.en_cours)
            .map(|d| (m.structure.clone(), d.demarche))
    });
    let Some((structure, demarche)) = found else {
        return gone(&ctx);
    };
    render(EndPage {
        ctx,
        action: format!("/usager/autorisations/{id}/fin"),
        question: format!(
            "Voulez-vous que {structure} arrête de faire les démarches « {} » pour vous ?",
            demarche.titre()
        ),
        explication: "Après, la structure ne pourra plus faire ces démarches pour vous. Les autres démarches du mandat continuent.",
    })
}

fn gone(ctx: &PageContext) -> Response {
    error_page(
        ctx,
        StatusCode::NOT_FOUND,
        "Rien à arrêter",
        "Cette démarche ne fait pas partie de vos mandats en cours, ou elle est déjà arrêtée.",
    )
}

pub async fn end_demarche(
    Page(state, ctx): Page,
    UsagerSession(session): UsagerSession,
    Path(id): Path<AutorisationId>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    let Some((usager, _)) = session else {
        return to_login();
    };
    match relais_services::mandats::revoquer_par_l_usager(&state.db, usager, id, now_ms()).await {
        Ok(()) => Redirect::to("/usager?fait=fin").into_response(),
        Err(RevocationError::Store(e)) => internal(e),
        Err(_) => gone(&ctx),
    }
}

/// The confirmation before ending a whole mandate.
pub async fn end_mandate_form(
    Page(state, ctx): Page,
    UsagerSession(session): UsagerSession,
    Path(id): Path<MandatId>,
) -> Response {
    let Some((usager, _)) = session else {
        return to_login();
    };
    let e = match svc::espace(&state.db, usager, now_ms()).await {
        Ok(e) => e,
        Err(e) => return internal(e),
    };
    let Some(m) = e
        .mandats
        .iter()
        .find(|m| m.mandat.id == id && m.demarches.iter().any(|d| d.en_cours))
    else {
        return gone(&ctx);
    };
    render(EndPage {
        ctx,
        action: format!("/usager/mandats/{id}/fin"),
        question: format!(
            "Voulez-vous arrêter tout le mandat donné à {} ?",
            m.structure
        ),
        explication: "Après, la structure ne pourra plus faire aucune démarche pour vous avec ce mandat.",
    })
}

pub async fn end_mandate(
    Page(state, ctx): Page,
    UsagerSession(session): UsagerSession,
    Path(id): Path<MandatId>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    let Some((usager, _)) = session else {
        return to_login();
    };
    match svc::revoquer_mandat(&state.db, usager, id, now_ms()).await {
        Ok(_) => Redirect::to("/usager?fait=fin-mandat").into_response(),
        Err(RevocationError::Store(e)) => internal(e),
        Err(_) => gone(&ctx),
    }
}

/// The usager's data, as a JSON file to keep.
pub async fn data(
    axum::extract::State(state): axum::extract::State<AppState>,
    UsagerSession(session): UsagerSession,
) -> Response {
    let Some((usager, _)) = session else {
        return to_login();
    };
    match svc::donnees(&state.db, usager, now_ms()).await {
        Ok(value) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    HeaderValue::from_static("attachment; filename=\"mes-donnees-relais.json\""),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            serde_json::to_string_pretty(&value).unwrap_or_default(),
        )
            .into_response(),
        Err(e) => internal(e),
    }
}
