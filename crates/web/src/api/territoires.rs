//! `GET /api/v1/territoires/communes…`: autocomplete, one commune with its parents, nearest commune.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use relais_domain::territoires::{CodeError, CodeInsee, Commune, Point};
use relais_search::MatchKind;
use relais_search::territoires::Chain;
use serde::{Deserialize, Serialize};

use super::ApiQuery;
use crate::error::internal;
use crate::{ApiError, AppState};

const MAX_QUERY_CHARS: usize = 100;
const DEFAULT_LIMIT: usize = 10;
const MAX_LIMIT: usize = 50;

#[derive(Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    limite: Option<String>,
}

#[derive(Serialize)]
pub struct CommuneOut<'a> {
    code: &'a str,
    nom: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    codes_postaux: Vec<&'a str>,
    departement: &'a str,
    region: &'a str,
    epci: Option<&'a str>,
    commune_parent: Option<&'a str>,
    population: u32,
    position: Option<Point>,
}

impl<'a> From<&'a Commune> for CommuneOut<'a> {
    fn from(c: &'a Commune) -> Self {
        CommuneOut {
            code: c.code.as_str(),
            nom: &c.nom,
            kind: c.kind.as_str(),
            codes_postaux: c
                .codes_postaux
                .iter()
                .map(relais_domain::territoires::CodePostal::as_str)
                .collect(),
            departement: &c.departement,
            region: &c.region,
            epci: c.epci.as_deref(),
            commune_parent: c.commune_parent.as_ref().map(CodeInsee::as_str),
            population: c.population,
            position: c.position,
        }
    }
}

#[derive(Serialize)]
pub struct Found<'a> {
    #[serde(flatten)]
    commune: CommuneOut<'a>,
    correspondance: MatchKind,
}

#[derive(Serialize)]
pub struct SearchOut<'a> {
    communes: Vec<Found<'a>>,
}

pub async fn search(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Response, ApiError> {
    // As `openapi.json` says: present, 1 to 100 characters; blanks only find nothing.
    let q = p.q.as_deref().unwrap_or("");
    if q.is_empty() {
        return Err(ApiError::bad_request(
            "q_manquant",
            "Le paramètre q (nom, code postal ou code INSEE) est obligatoire.",
        ));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(ApiError::bad_request(
            "q_trop_long",
            format!("Le paramètre q ne doit pas dépasser {MAX_QUERY_CHARS} caractères."),
        ));
    }
    let limit = match p.limite.as_deref() {
        None => DEFAULT_LIMIT,
        Some(raw) => raw.parse().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
            ApiError::bad_request("limite_invalide", format!("Le paramètre limite doit être un entier de 1 à {MAX_LIMIT} (reçu : « {raw} »)."))
        })?,
    };
    let q = q.trim();
    if q.is_empty() {
        return Ok(to_json(&SearchOut {
            communes: Vec::new(),
        }));
    }
    let communes = state
        .territoires
        .search(q, limit)
        .into_iter()
        .map(|m| Found {
            commune: m.commune.into(),
            correspondance: m.kind,
        })
        .collect();
    Ok(to_json(&SearchOut { communes }))
}

#[derive(Serialize)]
pub struct ChainOut<'a> {
    #[serde(flatten)]
    commune: CommuneOut<'a>,
    parents: Parents<'a>,
}

#[derive(Serialize)]
struct Parents<'a> {
    commune: Option<Named<'a>>,
    epci: Option<Named<'a>>,
    departement: Option<Named<'a>>,
    region: Option<Named<'a>>,
}

#[derive(Serialize)]
struct Named<'a> {
    code: &'a str,
    nom: &'a str,
}

pub async fn commune(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    // The path holds the code alone (`openapi.json`'s pattern): no blanks around it.
    let code = if code.trim() == code {
        CodeInsee::parse(&code)
    } else {
        Err(CodeError::Insee(code))
    }
    .map_err(|e| ApiError::bad_request("code_insee_invalide", e.to_string()))?;
    let Chain {
        commune,
        commune_parent,
        epci,
        departement,
        region,
    } = state
        .territoires
        .chain(code.as_str())
        .ok_or(ApiError::NotFound)?;
    Ok(to_json(&ChainOut {
        commune: commune.into(),
        parents: Parents {
            commune: commune_parent.map(|c| Named {
                code: c.code.as_str(),
                nom: &c.nom,
            }),
            epci: epci.map(|e| Named {
                code: &e.code,
                nom: &e.nom,
            }),
            departement: departement.map(|d| Named {
                code: &d.code,
                nom: &d.nom,
            }),
            region: region.map(|r| Named {
                code: &r.code,
                nom: &r.nom,
            }),
        },
    }))
}

#[derive(Deserialize)]
pub struct PointParams {
    lat: Option<String>,
    lon: Option<String>,
}

#[derive(Serialize)]
pub struct NearestOut<'a> {
    #[serde(flatten)]
    commune: CommuneOut<'a>,
    distance_m: f64,
}

pub async fn nearest(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<PointParams>,
) -> Result<Response, ApiError> {
    let coordinate = |name: &str, raw: Option<&str>, max: f64| -> Result<f64, ApiError> {
        raw.and_then(|r| r.trim().parse::<f64>().ok())
            .filter(|v| v.is_finite() && v.abs() <= max)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "coordonnees_invalides",
                    format!(
                        "Le paramètre {name} doit être un nombre décimal entre -{max} et {max}."
                    ),
                )
            })
    };
    let point = Point {
        lat: coordinate("lat", p.lat.as_deref(), 90.0)?,
        lon: coordinate("lon", p.lon.as_deref(), 180.0)?,
    };
    let (commune, distance) = state.territoires.nearest(point).ok_or(ApiError::NotFound)?;
    Ok(to_json(&NearestOut {
        commune: commune.into(),
        distance_m: distance.round(),
    }))
}

/// Serialises straight to the body: the results borrow from the index, no copy.
fn to_json(value: &impl Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => internal(e),
    }
}
