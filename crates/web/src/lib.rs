//! The web layer: server-rendered DSFR pages, the JSON API, security headers, static
//! assets. Handlers are thin: extract, ask the store or an index, render.

mod api;
mod auth;
mod comptes;
mod assets;
mod error;
mod pages;
mod security;

use std::sync::Arc;

use axum::routing::{get, post};
use axum::Router;
use relais_search::TerritoryIndex;
use relais_store::Db;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use error::ApiError;

/// Settings of the web layer.
#[derive(Debug, Clone, Default)]
pub struct WebConfig {
    /// Send `Strict-Transport-Security`: only when Relais is reached over HTTPS.
    pub hsts: bool,
}

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub policy: relais_services::comptes::Policy,
    pub territoires: Arc<TerritoryIndex>,
    pub config: WebConfig,
}

pub fn router(state: AppState) -> Router {
    let hsts = state.config.hsts;
    let routes = Router::new()
        .merge(pages::routes())
        .route("/connexion", get(comptes::login_form).post(comptes::login))
        .route("/connexion/second-facteur", get(comptes::second_factor_form).post(comptes::second_factor))
        .route("/connexion/activation", get(comptes::enrolment_form).post(comptes::enrolment))
        .route("/deconnexion", post(comptes::logout))
        .route("/deconnexion/partout", post(comptes::logout_everywhere))
        .route("/compte", get(comptes::account))
        .route("/compte/structure", post(comptes::act_as))
        .route("/structures/{id}/equipe", get(comptes::team))
        .route("/admin/journal", get(comptes::journal))
        .nest("/api/v1", api::routes())
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        .route("/static/{version}/{*path}", get(assets::serve))
        .fallback(error::not_found)
        .with_state(state);
    harden(routes, hsts)
}

/// The layers every route sits behind: security headers and panic handling, request id, logs.
pub fn harden(routes: Router, hsts: bool) -> Router {
    routes
        .layer(axum::middleware::from_fn(move |req, next| {
            security::headers(hsts, req, next)
        }))
        // Outermost last: the id is set first, then the request is logged with it.
        .layer(PropagateRequestIdLayer::new(security::REQUEST_ID))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(security::request_span)
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(SetRequestIdLayer::new(
            security::REQUEST_ID,
            security::RandomRequestId,
        ))
}
