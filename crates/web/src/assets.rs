//! Static files embedded at build time (see `build.rs`).

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// The versioned prefix of every asset URL, e.g. `/static/3fa2c1d0`.
pub fn prefix() -> String {
    format!("/static/{}", embedded::VERSION)
}

pub async fn serve(Path((version, path)): Path<(String, String)>) -> Response {
    let Some((_, bytes)) = embedded::FILES.iter().find(|(name, _)| *name == path) else {
        return crate::error::ApiError::NotFound.into_response();
    };
    // A page from the previous release may ask for an old version: serve the current
    // file, but do not let it be cached for long under the old name.
    let cache = if version == embedded::VERSION {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&path)),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
        *bytes,
    )
        .into_response()
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "json" => "application/json",
        "webmanifest" => "application/manifest+json",
        "md" | "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
