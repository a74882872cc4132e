//! `GET /api/v1/lieux/export.{csv,json,geojson}`: the national dataset of lieux, open
//! data, streamed a page of lieux at a time in a stable order (by id).

use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use relais_services::lieux::export::{self, Export, Format};

use crate::AppState;
use crate::error::internal;

pub async fn csv(State(state): State<AppState>) -> Result<Response, Response> {
    stream(state, Format::Csv).await
}

pub async fn json(State(state): State<AppState>) -> Result<Response, Response> {
    stream(state, Format::Json).await
}

pub async fn geojson(State(state): State<AppState>) -> Result<Response, Response> {
    stream(state, Format::GeoJson).await
}

async fn stream(state: AppState, format: Format) -> Result<Response, Response> {
    let mut export = Export::new(state.db.clone(), format);
    // The first page is read before answering, so that a database that fails at once
    // gives a problem rather than a truncated file.
    let first = export
        .next_chunk()
        .await
        .map_err(|e| internal(format_args!("export des lieux impossible : {e}")))?;
    let rest = futures::stream::try_unfold(export, |mut export| async move {
        match export.next_chunk().await {
            Ok(Some(chunk)) => Ok(Some((chunk, export))),
            Ok(None) => Ok(None),
            Err(e) => {
                tracing::error!(error = %e, "export des lieux interrompu");
                Err(e)
            }
        }
    });
    let body = futures::StreamExt::chain(
        futures::stream::iter(first.map(Ok::<_, export::ExportError>)),
        rest,
    );
    let name = format!(
        "lieux-mediation-numerique-{}.{}",
        export::today(),
        format.extension()
    );
    Ok(crate::pages::fichier(
        format.content_type(),
        crate::pages::Disposition::Telecharger,
        &name,
        Body::from_stream(body),
    ))
}
