//! `GET /api/v1/lieux`: the lieux nearest a point, or those of a territory page by page,
//! with the schema's filters.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use relais_domain::horaires::LocalTime;
use relais_domain::lieux::{Frais, Public, Service, Vocabulary};
use relais_domain::territoire::Point;
use relais_search::lieux::{Filter, Territory};
use serde::{Deserialize, Serialize};

use super::ApiQuery;
use crate::{ApiError, AppState};

#[derive(Deserialize)]
pub struct Params {
    lat: Option<f64>,
    lon: Option<f64>,
    commune: Option<String>,
    departement: Option<String>,
    /// Values of the schema separated by `|`.
    services: Option<String>,
    publics: Option<String>,
    frais: Option<String>,
    ouvert_maintenant: Option<bool>,
    ouvert_week_end: Option<bool>,
    q: Option<String>,
    limite: Option<usize>,
    curseur: Option<String>,
}

#[derive(Serialize)]
pub struct Found<'a> {
    id: &'a str,
    nom: &'a str,
    adresse: &'a str,
    code_postal: &'a str,
    commune: &'a str,
    latitude: Option<f64>,
    longitude: Option<f64>,
    position_approximative: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    distance_m: Option<f64>,
}

#[derive(Serialize)]
pub struct Out<'a> {
    lieux: Vec<Found<'a>>,
    /// To pass as `curseur` for the next page (territory listing only).
    #[serde(skip_serializing_if = "Option::is_none")]
    suivant: Option<String>,
}

const MAX: usize = 100;

fn values<T: Vocabulary>(name: &str, raw: Option<&str>) -> Result<Vec<T>, ApiError> {
    raw.unwrap_or("")
        .split('|')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(|v| {
            T::parse(v).ok_or_else(|| {
                ApiError::bad_request(
                    "valeur_inconnue",
                    format!("{name} : « {v} » n’est pas une valeur du schéma national."),
                )
            })
        })
        .collect()
}

pub async fn search(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<Params>,
) -> Result<Response, ApiError> {
    let limit = p.limite.unwrap_or(20);
    if limit == 0 || limit > MAX {
        return Err(ApiError::bad_request(
            "limite_invalide",
            format!("limite doit être entre 1 et {MAX}."),
        ));
    }
    let filter = Filter {
        services: values::<Service>("services", p.services.as_deref())?,
        publics: values::<Public>("publics", p.publics.as_deref())?,
        frais: values::<Frais>("frais", p.frais.as_deref())?,
        open_now: p
            .ouvert_maintenant
            .unwrap_or(false)
            .then(|| LocalTime::paris(relais_store::now_ms())),
        open_weekend: p.ouvert_week_end.unwrap_or(false),
        text: p.q.filter(|q| !q.trim().is_empty()),
        ..Filter::default()
    };
    let r = state.lieux.get();
    let (hits, next): (Vec<(usize, Option<f64>)>, _) =
        match (p.lat, p.lon, &p.commune, &p.departement) {
            (Some(lat), Some(lon), None, None) => {
                if !(lat.abs() <= 90.0 && lon.abs() <= 180.0) {
                    return Err(ApiError::bad_request(
                        "coordonnees_invalides",
                        "lat doit être entre -90 et 90, lon entre -180 et 180.",
                    ));
                }
                let found = r.index.nearest(Point { lat, lon }, limit, &filter);
                (
                    found
                        .into_iter()
                        .map(|(i, d)| (i, Some(d.round())))
                        .collect(),
                    None,
                )
            }
            (None, None, Some(code), None) | (None, None, None, Some(code)) => {
                let territory = if p.commune.is_some() {
                    Territory::Commune(code.clone())
                } else {
                    Territory::Departement(code.clone())
                };
                let page = r
                    .index
                    .in_territory(&territory, &filter, p.curseur.as_deref(), limit);
                (
                    page.items.into_iter().map(|i| (i, None)).collect(),
                    page.next,
                )
            }
            _ => {
                return Err(ApiError::bad_request(
                    "recherche_incomplete",
                    "Donnez soit lat et lon, soit commune (code INSEE), soit departement.",
                ))
            }
        };
    let lieux = hits
        .into_iter()
        .map(|(i, distance_m)| {
            let l = r.index.lieu(i);
            let s = &r.summaries[i];
            Found {
                id: &l.id,
                nom: &s.nom,
                adresse: &s.adresse,
                code_postal: &s.code_postal,
                commune: &s.commune,
                latitude: l.position.map(|p| p.lat),
                longitude: l.position.map(|p| p.lon),
                position_approximative: l.approximate,
                distance_m,
            }
        })
        .collect();
    Ok(Json(Out {
        lieux,
        suivant: next,
    })
    .into_response())
}
