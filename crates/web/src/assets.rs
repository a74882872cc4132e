//! Static files embedded at build time (see `build.rs`), served compressed when the
//! browser accepts it.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// One embedded file, with its compressed copies when compressing makes it smaller.
pub struct Asset {
    pub name: &'static str,
    pub bytes: &'static [u8],
    pub gzip: Option<&'static [u8]>,
    pub brotli: Option<&'static [u8]>,
}

mod embedded {
    use super::Asset;
    include!(concat!(env!("OUT_DIR"), "/assets.rs"));
}

/// The versioned prefix of every asset URL, e.g. `/static/3fa2c1d0`.
pub fn prefix() -> String {
    format!("/static/{}", embedded::VERSION)
}

/// An embedded file's content, by its name under `/static/<version>/`.
pub fn bytes(name: &str) -> Option<&'static [u8]> {
    embedded::FILES
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.bytes)
}

pub async fn serve(Path((version, path)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let Some(asset) = embedded::FILES.iter().find(|a| a.name == path) else {
        return crate::error::ApiError::NotFound.into_response();
    };
    // A page from the previous release may ask for an old version: serve the current
    // file, but do not let it be cached for long under the old name.
    let cache = if version == embedded::VERSION {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    let mut res = (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(&path)),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
        ],
    )
        .into_response();
    let accepted = |coding| accepts(&headers, coding);
    let (body, encoding) = match (asset.brotli, asset.gzip) {
        (Some(br), _) if accepted("br") => (br, Some("br")),
        (_, Some(gz)) if accepted("gzip") => (gz, Some("gzip")),
        _ => (asset.bytes, None),
    };
    if asset.gzip.is_some() || asset.brotli.is_some() {
        // Caches must keep one copy per encoding.
        res.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Some(encoding) = encoding {
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
    }
    *res.body_mut() = body.into();
    res
}

/// Whether `Accept-Encoding` allows `coding` (`br`, `gzip`): listed, or `*`, with a
/// quality other than zero.
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let name = parts.next()?;
            let zero = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case(coding) || name == "*").then_some(!zero)
        })
        .next()
        .unwrap_or(false)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "mp3" => "audio/mpeg",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn with(accept: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(accept).unwrap(),
        );
        h
    }

    #[test]
    fn accept_encoding_is_read_with_its_qualities() {
        assert!(accepts(&with("gzip, deflate, br, zstd"), "br"));
        assert!(accepts(&with("gzip;q=1.0, br; q=0.5"), "br"));
        assert!(!accepts(&with("gzip, br;q=0"), "br"));
        assert!(accepts(&with("*"), "gzip"));
        assert!(!accepts(&with("identity"), "gzip"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }
}
