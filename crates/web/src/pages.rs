//! Server-rendered pages (askama templates under `templates/`).

use std::convert::Infallible;

use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{Html, IntoResponse, Response};

use crate::AppState;
use crate::auth::CsrfToken;
use crate::security::CspNonce;
use relais_domain::authz::StructureAccess;

/// What the base layout needs on every page.
#[derive(Clone, Debug)]
pub struct PageContext {
    pub nonce: String,
    /// Versioned prefix of static assets.
    pub assets: String,
    /// Path of the current page, to mark the current link.
    pub path: String,
    pub service_name: String,
    /// This visitor's CSRF token, for the hidden field of every form.
    pub csrf: String,
    /// The logged-in person, shown in the header (set by pages behind a login).
    pub account: Option<AccountBadge>,
}

/// The header's name badge: the person and the structure they act as.
pub use relais_services::comptes::HeaderBadge as AccountBadge;

impl PageContext {
    pub fn new(nonce: String, path: &str, csrf: String) -> PageContext {
        PageContext {
            nonce,
            assets: crate::assets::prefix(),
            path: path.to_string(),
            service_name: "Relais".to_string(),
            csrf,
            account: None,
        }
    }
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(PageContext::read(parts, state).await)
    }
}

/// A form's field as it was typed, and why it was refused.
#[derive(Debug, Default)]
pub struct Field {
    pub value: String,
    pub error: Option<String>,
}

/// What every page handler needs: the application and the page's context, in one
/// extractor (`Page(state, ctx): Page`).
pub struct Page(pub AppState, pub PageContext);

impl FromRequestParts<AppState> for Page {
    type Rejection = Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Page(state.clone(), PageContext::read(parts, state).await))
    }
}

impl PageContext {
    /// The context of the page answering this request (the extractor, for code that
    /// holds the request's parts).
    pub async fn read(parts: &mut Parts, state: &AppState) -> PageContext {
        let nonce = parts
            .extensions
            .get::<CspNonce>()
            .map(|n| n.0.clone())
            .unwrap_or_default();
        let csrf = parts
            .extensions
            .get::<CsrfToken>()
            .map(|t| t.0.clone())
            .unwrap_or_default();
        let mut ctx = PageContext::new(nonce, parts.uri.path(), csrf);
        ctx.account = account_badge(parts, state).await;
        ctx
    }
}

/// The logged-in person shown in the header, if the request has a complete session.
async fn account_badge(parts: &mut Parts, state: &AppState) -> Option<AccountBadge> {
    crate::auth::caller(parts, state)
        .await
        .ok()
        .flatten()
        .map(|c| c.badge)
}

/// Pages with no data of their own: a template and its handler each.
macro_rules! static_pages {
    ($($handler:ident => $name:ident, $file:literal;)*) => {
        $(
            #[derive(Template)]
            #[template(path = $file)]
            pub struct $name {
                pub ctx: PageContext,
            }

            pub async fn $handler(ctx: PageContext) -> Response {
                render($name { ctx })
            }
        )*
    };
}

static_pages! {
    home => HomePage, "home.html";
    accessibilite => AccessibilitePage, "accessibilite.html";
    mentions_legales => MentionsLegalesPage, "mentions_legales.html";
    donnees_personnelles => DonneesPersonnellesPage, "donnees_personnelles.html";
    plan_du_site => PlanDuSitePage, "plan_du_site.html";
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub ctx: PageContext,
    pub status: u16,
    pub title: String,
    pub message: String,
}

/// How a file is given: saved by the browser, or shown in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    Telecharger,
    Afficher,
}

/// A file: its type, its name and how the browser takes it.
pub fn fichier(
    content_type: &str,
    disposition: Disposition,
    nom: &str,
    body: impl Into<axum::body::Body>,
) -> Response {
    let disposition = match disposition {
        Disposition::Telecharger => "attachment",
        Disposition::Afficher => "inline",
    };
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("{disposition}; filename=\"{nom}\""),
            ),
        ],
        body.into(),
    )
        .into_response()
}

pub fn render(page: impl Template) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => crate::error::internal(format_args!("page non rendue : {e}")),
    }
}

/// The name of the structure an access is for, for a page: not found when the
/// structure is gone.
pub async fn structure_name(
    state: &AppState,
    access: &StructureAccess,
) -> Result<String, Response> {
    match relais_services::comptes::structure(&state.db, access).await {
        Ok(Some(s)) => Ok(s.nom),
        Ok(None) => Err(crate::error::ApiError::NotFound.into_response()),
        Err(e) => Err(crate::error::internal(e)),
    }
}

/// The QR code as inline SVG paths (no style attribute: the CSP forbids inline styles).
pub fn qr_svg(data: &str, label: &str) -> String {
    let Ok(code) = qrcode::QrCode::new(data.as_bytes()) else {
        return String::new();
    };
    let width = code.width();
    let quiet = 4;
    let size = width + 2 * quiet;
    let mut path = String::new();
    for (i, color) in code.to_colors().iter().enumerate() {
        if *color == qrcode::Color::Dark {
            path.push_str(&format!(
                "M{} {}h1v1h-1z",
                i % width + quiet,
                i / width + quiet
            ));
        }
    }
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" width=\"240\" height=\"240\" role=\"img\" \
         aria-label=\"{label}\" shape-rendering=\"crispEdges\">\
         <rect width=\"{size}\" height=\"{size}\" fill=\"#fff\"/><path fill=\"#000\" d=\"{path}\"/></svg>"
    )
}
