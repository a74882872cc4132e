//! Liveness (`/healthz`: the process answers) and readiness (`/readyz`: the database answers).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::{ApiError, AppState};

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match tokio::time::timeout(Duration::from_secs(2), state.db.ping()).await {
        Ok(Ok(())) => Ok(Json(
            json!({ "statut": "pret", "base": state.db.backend().code() }),
        )),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "base de données injoignable");
            Err(ApiError::Unavailable {
                detail: "La base de données ne répond pas.".into(),
            })
        }
        Err(_) => Err(ApiError::Unavailable {
            detail: "La base de données ne répond pas à temps.".into(),
        }),
    }
}
