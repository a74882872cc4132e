//! The counter's JSON API, for the device of a qualified structure's mediator (a phone
//! signed in to Relais): check a code, then use the pass. The device draws the use's key
//! once; sending the same use again (a lost answer, a queue replayed after a network
//! outage) gets the first answer, never a second use. Refusals are problems
//! (RFC 9457) whose stable `code` the device acts on.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use relais_domain::calendrier::now_ms;
use relais_domain::ids::LieuId;
use relais_domain::pass::programme::ServicePass;
use relais_domain::pass::utilisation::Refus;
use relais_services::pass::{self as svc, DemandeUtilisation, PassValable, UtilisationError};
use serde::Deserialize;

use crate::auth::{CsrfJson, MediateurDe};
use crate::error::{internal, problem};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    /// The code typed, or the token its QR code holds.
    code: String,
    #[serde(default)]
    lieu: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Utilisation {
    code: String,
    /// Drawn by the device once per use (16 to 64 characters).
    cle: String,
    #[serde(default)]
    lieu: Option<String>,
    service: String,
    /// When the pass was taken, on the device (Unix ms); now if absent.
    #[serde(default)]
    utilise_le: Option<i64>,
    /// Taken without network, sent from the device's queue: a pass used elsewhere
    /// meanwhile is a conflict reported to both structures.
    #[serde(default)]
    hors_ligne: bool,
}

fn valable(p: &PassValable) -> Response {
    Json(serde_json::json!({
        "code": p.code.to_string(),
        "programme": p.programme,
        "valeur_centimes": p.valeur_centimes,
        "services": p.services.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
    }))
    .into_response()
}

fn refus(e: UtilisationError) -> Response {
    let mut extra = serde_json::Map::new();
    let (status, code) = match &e {
        UtilisationError::Store(e) => return internal(e),
        UtilisationError::Refus(r) => {
            match r {
                Refus::FauteDeFrappe {
                    suggestion: Some(c),
                } => {
                    extra.insert("suggestion".into(), c.to_string().into());
                }
                Refus::DejaUtilise(u) => {
                    extra.insert("utilise_le".into(), u.le.into());
                    extra.insert("ou".into(), u.ou.clone().into());
                }
                _ => {}
            }
            let status = match r {
                Refus::DejaUtilise(_) => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            (status, r.code())
        }
        UtilisationError::TropDEssais => (StatusCode::TOO_MANY_REQUESTS, "trop_d_essais"),
        UtilisationError::ServiceHorsProgramme => {
            (StatusCode::UNPROCESSABLE_ENTITY, "service_hors_programme")
        }
        UtilisationError::CleReutilisee => (StatusCode::CONFLICT, "cle_reutilisee"),
        UtilisationError::LieuAilleurs => (StatusCode::UNPROCESSABLE_ENTITY, "lieu_ailleurs"),
        UtilisationError::Jeton(j) => (StatusCode::UNPROCESSABLE_ENTITY, j.code()),
    };
    problem(status, code, "Pass refusé", &e.to_string(), extra)
}

fn invalide(code: &'static str, detail: &str) -> Response {
    problem(
        StatusCode::BAD_REQUEST,
        code,
        "Requête invalide",
        detail,
        serde_json::Map::new(),
    )
}

/// `POST /api/v1/structures/{id}/pass/verifications`: whether the pass may be used here;
/// nothing is recorded.
pub async fn verifier(
    state: axum::extract::State<crate::AppState>,
    MediateurDe { access }: MediateurDe,
    CsrfJson(v): CsrfJson<Verification>,
) -> Response {
    let lieu = v.lieu.map(LieuId);
    match svc::verifier(
        &state.db,
        &access,
        &state.territoires,
        &v.code,
        lieu.as_ref(),
        now_ms(),
    )
    .await
    {
        Ok(p) => valable(&p),
        Err(e) => refus(e),
    }
}

/// `POST /api/v1/structures/{id}/pass/utilisations`: uses the pass, exactly once.
pub async fn utiliser(
    state: axum::extract::State<crate::AppState>,
    MediateurDe { access }: MediateurDe,
    CsrfJson(u): CsrfJson<Utilisation>,
) -> Response {
    if !(16..=64).contains(&u.cle.len()) {
        return invalide(
            "cle",
            "la clé d’utilisation compte de 16 à 64 caractères, tirés au hasard par l’appareil",
        );
    }
    let Some(service) = ServicePass::parse(&u.service) else {
        return invalide("service", "ce service n’existe pas");
    };
    let now = now_ms();
    let demande = DemandeUtilisation {
        code: u.code,
        cle: u.cle,
        lieu: u.lieu.map(LieuId),
        service,
        utilise_le: u.utilise_le.unwrap_or(now),
        hors_ligne: u.hors_ligne,
    };
    match svc::utiliser(&state.db, &access, &state.territoires, &demande, now).await {
        Ok(p) => valable(&p),
        Err(e) => refus(e),
    }
}

/// `GET /api/v1/pass/cles`: the public keys a device keeps to check passes offline.
pub async fn cles(state: axum::extract::State<crate::AppState>) -> Response {
    match svc::carnets::cles_publiques(&state.db).await {
        Ok(cles) => Json(serde_json::json!({
            "cles": cles.iter().map(|c| serde_json::json!({
                "numero": c.numero,
                "ed25519": data_encoding::BASE64URL_NOPAD.encode(&c.octets),
            })).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(e) => internal(e),
    }
}
