//! Errors as responses: `application/problem+json` (RFC 9457) with a stable `code` for the
//! API, DSFR error pages for people.

use askama::Template;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::pages::{ErrorPage, PageContext};

/// What went wrong with an API request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    NotFound,
    /// The request is malformed: `code` is stable, `detail` says what to fix, in French.
    BadRequest {
        code: &'static str,
        detail: String,
    },
    Unavailable {
        detail: String,
    },
    Internal,
}

impl ApiError {
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError::BadRequest {
            code,
            detail: detail.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, title, detail) = match &self {
            ApiError::NotFound => (
                StatusCode::NOT_FOUND,
                "introuvable",
                "Ressource introuvable",
                "Aucune ressource ne correspond à cette adresse.",
            ),
            ApiError::BadRequest { code, detail } => (
                StatusCode::BAD_REQUEST,
                *code,
                "Requête invalide",
                detail.as_str(),
            ),
            ApiError::Unavailable { detail } => (
                StatusCode::SERVICE_UNAVAILABLE,
                "indisponible",
                "Service momentanément indisponible",
                detail.as_str(),
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "erreur_interne",
                "Erreur interne",
                "Une erreur inattendue est survenue. Elle a été consignée ; réessayez plus tard.",
            ),
        };
        problem(status, code, title, detail, serde_json::Map::new())
    }
}

/// An `application/problem+json` answer; `extra` adds members (what a client may act on).
pub fn problem(
    status: StatusCode,
    code: &str,
    title: &str,
    detail: &str,
    extra: serde_json::Map<String, serde_json::Value>,
) -> Response {
    let mut body = serde_json::json!({
        "type": "about:blank",
        "title": title,
        "status": status.as_u16(),
        "code": code,
        "detail": detail,
    });
    if let Some(members) = body.as_object_mut() {
        members.extend(extra);
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

/// Unknown route: a problem for the API, the DSFR 404 page for people.
pub async fn not_found(ctx: PageContext, req: Request) -> Response {
    if req.uri().path().starts_with("/api/") {
        return ApiError::NotFound.into_response();
    }
    error_page(
        &ctx,
        StatusCode::NOT_FOUND,
        "Page non trouvée",
        "La page que vous cherchez est introuvable. L’adresse a peut-être été mal saisie, ou la page a été déplacée.",
    )
}

/// The 404 page, from an extractor that found no such resource.
pub async fn not_found_page(
    parts: &mut axum::http::request::Parts,
    state: &crate::AppState,
) -> Response {
    let ctx = PageContext::read(parts, state).await;
    error_page(
        &ctx,
        StatusCode::NOT_FOUND,
        "Page non trouvée",
        "Cette page n’existe pas, ou plus.",
    )
}

/// The 404 page for a resource a handler did not find (or may not say exists).
pub fn gone(ctx: &PageContext) -> Response {
    error_page(
        ctx,
        StatusCode::NOT_FOUND,
        "Page non trouvée",
        "Cette page n’existe pas, ou plus.",
    )
}

/// The answer to a failure the visitor can do nothing about (the database is down, a row
/// does not read): logged in full inside the request's span, which names the route;
/// answered with a bare 500.
pub fn internal(e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "erreur interne");
    ApiError::Internal.into_response()
}

/// The 500 response, also used when a handler panics.
pub fn internal_error(ctx: &PageContext) -> Response {
    if ctx.path.starts_with("/api/") {
        return ApiError::Internal.into_response();
    }
    error_page(
        ctx,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Erreur inattendue",
        "Désolé, le service rencontre un problème. Il a été consigné et nous y travaillons ; réessayez dans quelques instants.",
    )
}

/// The error page, or for the API the same words as a problem.
pub fn error_page(ctx: &PageContext, status: StatusCode, title: &str, message: &str) -> Response {
    if ctx.path.starts_with("/api/") {
        let code = match status {
            StatusCode::UNAUTHORIZED => "non_connecte",
            StatusCode::FORBIDDEN => "interdit",
            StatusCode::NOT_FOUND => "introuvable",
            _ => "erreur",
        };
        return problem(status, code, title, message, serde_json::Map::new());
    }
    let page = ErrorPage {
        ctx: ctx.clone(),
        status: status.as_u16(),
        title: title.into(),
        message: message.into(),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page d’erreur non rendue");
            (status, "Erreur").into_response()
        }
    }
}
