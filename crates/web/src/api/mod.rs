//! The JSON API under `/api/v1`.

pub mod documentation;
pub mod export;
pub mod health;
pub mod lieux;
pub mod territoires;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::ApiError;

/// Query parameters whose malformation is a 400 problem with a stable code.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(ApiQuery(value)),
            Err(e) => Err(ApiError::bad_request(
                "requete_mal_formee",
                format!("paramètres illisibles : {}", e.body_text()),
            )),
        }
    }
}
