//! Headers every response carries (CSP with a per-request nonce, and the usual hardening),
//! the request id, request logs, and the conversion of a panic into a 500 page.

use std::panic::AssertUnwindSafe;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use futures::FutureExt;

use crate::auth::{CSRF_COOKIE, CsrfToken, cookie, set_cookie};
use rand::Rng;
use tower_http::request_id::{MakeRequestId, RequestId};

/// The nonce that allows this response's own `<script>` elements and nothing else.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

fn random_hex(bytes: usize) -> String {
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

/// Set on a page holding a form whose answer sends the browser to another site (the
/// démarche's address, from `/oidc/authorize`): the page's CSP `form-action` allows that
/// address too (browsers check it against the redirect that follows the form).
#[derive(Clone, Debug)]
pub struct FormTarget(pub String);

/// The widget of lieux: the one page other sites may show in a frame.
const FRAMEABLE: &str = "/lieux/widget";

/// The CSP source of a tile server's URL template (`https://{s}.tile.osm.org/{z}/{x}/{y}.png`
/// gives `https://*.tile.osm.org`); `None` if it is not a plain http(s) host.
pub fn tile_source(template: &str) -> Option<String> {
    let (scheme, rest) = template.split_once("://")?;
    let host = rest.split('/').next()?.replace("{s}", "*");
    let plain = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-.:*".contains(&b));
    ((scheme == "https" || scheme == "http") && !host.is_empty() && plain)
        .then(|| format!("{scheme}://{host}"))
}

/// The CSP source of an http(s) address: its scheme, host and port, if plain.
fn form_source(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    let plain = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b));
    ((scheme == "https" || scheme == "http") && !host.is_empty() && plain)
        .then(|| format!("{scheme}://{host}"))
}

pub async fn headers(
    hsts: bool,
    tiles: std::sync::Arc<str>,
    mut req: Request,
    next: Next,
) -> Response {
    let frameable = req.uri().path() == FRAMEABLE;
    let nonce = random_hex(16);
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let existing_csrf = cookie(req.headers(), CSRF_COOKIE).filter(|c| c.len() == 32);
    let csrf = existing_csrf.clone().unwrap_or_else(|| random_hex(16));
    req.extensions_mut().insert(CsrfToken(csrf.clone()));
    let ctx = crate::pages::PageContext::new(nonce.clone(), req.uri().path(), csrf.clone());
    let mut res = match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(res) => res,
        Err(_) => {
            tracing::error!("panique pendant le traitement de la requête");
            crate::error::internal_error(&ctx)
        }
    };
    let form_target = res
        .extensions()
        .get::<FormTarget>()
        .and_then(|t| form_source(&t.0))
        .map(|s| format!(" {s}"))
        .unwrap_or_default();
    let h = res.headers_mut();
    let ancestors = if frameable { "*" } else { "'none'" };
    let tiles = if tiles.is_empty() {
        String::new()
    } else {
        format!(" {tiles}")
    };
    let csp = format!(
        "default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:{tiles}; \
         font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'{form_target}; frame-ancestors {ancestors}"
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_str(&csp).expect("ascii"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    if !frameable {
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(
        HeaderName::from_static("permissions-policy"),
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(self), payment=()"),
    );
    h.insert(
        HeaderName::from_static("cross-origin-opener-policy"),
        HeaderValue::from_static("same-origin"),
    );
    let is_page = h
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if existing_csrf.is_none() && is_page {
        h.append(
            header::SET_COOKIE,
            set_cookie(CSRF_COOKIE, &csrf, None, hsts),
        );
    }
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=63072000; includeSubDomains"),
        );
    }
    res
}

/// A random request id, unless the client (a load balancer) sent one.
#[derive(Clone, Copy)]
pub struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&random_hex(8))
            .ok()
            .map(RequestId::new)
    }
}

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The log span of a request, carrying its id.
pub fn request_span(req: &Request) -> tracing::Span {
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    // The route's pattern, not the path: paths may hold secrets (invitation and reset links).
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("(aucune route)", |m| m.as_str());
    tracing::info_span!("requete", id = %id, method = %req.method(), route = %route)
}
