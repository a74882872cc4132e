//! The upload of a file from a form (`multipart/form-data`): read within the size a person
//! may send, its CSRF token checked, for the imports of lieux and of registers.

use std::collections::HashMap;

use axum::extract::{DefaultBodyLimit, FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};
use axum::response::Response;
use tower::{Layer, ServiceExt};

use crate::auth::{csrf_refused, csrf_verified};
use crate::error::error_page;
use crate::pages::PageContext;

/// The largest file a person may upload: bigger ones go through `relais import`.
pub const MAX_UPLOAD: usize = relais_domain::lieux::fichier::MAX_UPLOAD as usize;

/// A form with its file (the field `fichier`) and its other fields.
pub struct Upload {
    /// The file's name as the browser gave it.
    pub name: String,
    pub bytes: Vec<u8>,
    pub fields: HashMap<String, String>,
}

fn too_big(ctx: &PageContext) -> Response {
    error_page(
        ctx,
        StatusCode::PAYLOAD_TOO_LARGE,
        "Fichier trop volumineux",
        &format!(
            "Le fichier dépasse {} Mo. Découpez-le en plusieurs fichiers (par département, par exemple), ou demandez à l’équipe de Relais de l’importer pour vous.",
            MAX_UPLOAD / (1024 * 1024)
        ),
    )
}

/// The multipart form, read within [`MAX_UPLOAD`] rather than the router's default limit.
async fn multipart(
    req: Request,
) -> Result<Multipart, axum::extract::multipart::MultipartRejection> {
    let read = tower::service_fn(|req: Request| async move {
        Ok::<_, std::convert::Infallible>(Multipart::from_request(req, &()).await)
    });
    DefaultBodyLimit::max(MAX_UPLOAD + 64 * 1024)
        .layer(read)
        .oneshot(req)
        .await
        .unwrap_or_else(|e| match e {})
}

/// Reads the form; the page to answer instead when it is too big, unreadable or its CSRF
/// token is not the session's.
pub async fn read(ctx: &PageContext, req: Request) -> Result<Upload, Response> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD + 64 * 1024) {
        return Err(too_big(ctx));
    }
    let headers = req.headers().clone();
    let Ok(mut form) = multipart(req).await else {
        return Err(error_page(
            ctx,
            StatusCode::BAD_REQUEST,
            "Formulaire illisible",
            "Le fichier n’a pas été reçu : envoyez-le depuis le formulaire d’import.",
        ));
    };
    let mut upload = Upload {
        name: String::new(),
        bytes: Vec::new(),
        fields: HashMap::new(),
    };
    loop {
        match form.next_field().await {
            Ok(Some(field)) => match field.name().map(str::to_string) {
                Some(name) if name == "fichier" => {
                    upload.name = field.file_name().unwrap_or("").to_string();
                    match field.bytes().await {
                        Ok(b) => upload.bytes = b.to_vec(),
                        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                            return Err(too_big(ctx));
                        }
                        Err(_) => return Err(csrf_refused(ctx)),
                    }
                }
                Some(name) => {
                    if let Ok(text) = field.text().await {
                        upload.fields.insert(name, text);
                    }
                }
                None => {}
            },
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_big(ctx)),
            Err(_) => return Err(csrf_refused(ctx)),
        }
    }
    if !csrf_verified(&headers, upload.fields.get("csrf").map(String::as_str)) {
        return Err(csrf_refused(ctx));
    }
    Ok(upload)
}
