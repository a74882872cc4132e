//! `GET /api/v1/journal/checkpoints`: the journal's signed checkpoints, public so that
//! third parties keep copies of them (docs/SECURITY.md). They hold hashes and signatures,
//! nothing about anyone.

use axum::Json;
use axum::extract::State;
use relais_domain::journal::checkpoint::Checkpoint;
use serde::{Deserialize, Serialize};

use crate::api::ApiQuery;
use crate::{ApiError, AppState};

/// The query string. Every field must be in `openapi.json`.
#[derive(Deserialize)]
pub struct Params {
    limite: Option<u32>,
    /// The `suivant` of the previous page: the number of its last checkpointed entry.
    curseur: Option<String>,
}

#[derive(Serialize)]
pub struct Out {
    /// Oldest first.
    points: Vec<Checkpoint>,
    /// To pass as `curseur` for the next page.
    #[serde(skip_serializing_if = "Option::is_none")]
    suivant: Option<String>,
}

const MAX: u32 = 1_000;

pub async fn checkpoints(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<Params>,
) -> Result<Json<Out>, ApiError> {
    let limit = p.limite.unwrap_or(100);
    if !(1..=MAX).contains(&limit) {
        return Err(ApiError::bad_request(
            "limite_invalide",
            format!("limite doit être entre 1 et {MAX}."),
        ));
    }
    let after = match p.curseur.as_deref() {
        None => 0,
        Some(c) => c.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            ApiError::bad_request(
                "curseur_invalide",
                "curseur : donnez la valeur de « suivant » de la page précédente.",
            )
        })?,
    };
    let points = relais_services::journal::checkpoints(&state.db, after, limit)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "points de contrôle illisibles");
            ApiError::Internal
        })?;
    let suivant = (points.len() == limit as usize)
        .then(|| points.last().map(|c| c.seq.to_string()))
        .flatten();
    Ok(Json(Out { points, suivant }))
}
