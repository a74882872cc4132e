//! Open data over HTTP, on both backends: `/api/v1/lieux/export.{csv,json,geojson}`
//! stream the lieux in a stable order, several chunks for several pages, with the right
//! type and a dated file name.

use crate::common;
use common::*;
use relais_testkit::fixtures::DEMO_LIEUX;

use axum::http::{StatusCode, header};
use axum::response::Response;
use futures::StreamExt;
use relais_search::TerritoryIndex;
use relais_services::lieux::export::{Export, Format, today};
use relais_services::lieux::import::import_bytes;
use relais_testkit::TestDb;

#[tokio::test]
async fn exports_stream_in_order_on_sqlite() {
    let t = TestDb::sqlite().await;
    exports_stream_in_order(&t).await;
    t.cleanup().await;
}

#[tokio::test]
async fn exports_stream_in_order_on_postgres() {
    let t = TestDb::postgres().await;
    exports_stream_in_order(&t).await;
    t.cleanup().await;
}

#[tokio::test]
async fn an_empty_base_exports_empty_files_on_sqlite() {
    let t = TestDb::sqlite().await;
    an_empty_base_exports_empty_files(&t).await;
    t.cleanup().await;
}

#[tokio::test]
async fn an_empty_base_exports_empty_files_on_postgres() {
    let t = TestDb::postgres().await;
    an_empty_base_exports_empty_files(&t).await;
    t.cleanup().await;
}

/// The body's chunks as they come.
async fn chunks(res: Response) -> Vec<Vec<u8>> {
    let mut stream = res.into_body().into_data_stream();
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.push(chunk.unwrap().to_vec());
    }
    out
}

fn check_headers(res: &Response, content_type: &str, extension: &str) {
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], content_type);
    assert_eq!(
        res.headers()[header::CONTENT_DISPOSITION],
        format!(
            "attachment; filename=\"lieux-mediation-numerique-{}.{extension}\"",
            today()
        )
        .as_str()
    );
}

async fn exports_stream_in_order(t: &TestDb) {
    let index = TerritoryIndex::build(relais_services::territoires::parse_shipped().unwrap());
    let demo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/lieux/hinaura-2022-v0.json"
    ))
    .unwrap();
    import_bytes(&t.db, &index, "hinaura", &demo, &mut |_, _| {})
        .await
        .unwrap();
    let app = app(t).await;

    let res = send(&app, "GET", "/api/v1/lieux/export.csv", "", "").await;
    check_headers(&res, "text/csv; charset=utf-8", "csv");
    let parts = chunks(res).await;
    assert!(
        parts.len() >= 2,
        "streamed a page at a time: {}",
        parts.len()
    );
    let csv = parts.concat();
    let header = relais_domain::lieux::COLUMNS.join(",") + "\r\n";
    assert!(csv.starts_with(header.as_bytes()));
    // The file is the service's export, byte for byte.
    let mut export = Export::new(t.db.clone(), Format::Csv);
    let mut expected = Vec::new();
    while let Some(chunk) = export.next_chunk().await.unwrap() {
        expected.extend(chunk);
    }
    assert_eq!(csv, expected);

    let res = send(&app, "GET", "/api/v1/lieux/export.json", "", "").await;
    check_headers(&res, "application/json", "json");
    let json: serde_json::Value = serde_json::from_slice(&chunks(res).await.concat()).unwrap();
    let json_ids: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(json_ids.len(), DEMO_LIEUX);
    assert!(json_ids.windows(2).all(|w| w[0] < w[1]), "ordered by id");
    assert_eq!(json[0]["sources"][0]["source"], "hinaura");

    let res = send(&app, "GET", "/api/v1/lieux/export.geojson", "", "").await;
    check_headers(&res, "application/geo+json", "geojson");
    let geo: serde_json::Value = serde_json::from_slice(&chunks(res).await.concat()).unwrap();
    assert_eq!(geo["type"], "FeatureCollection");
    let features = geo["features"].as_array().unwrap();
    assert_eq!(features.len(), DEMO_LIEUX);
    assert_eq!(features[0]["id"], json_ids[0]);
    assert_eq!(features[0]["geometry"]["type"], "Point");

    // The same base, the same bytes.
    let first = send(&app, "GET", "/api/v1/lieux/export.csv", "", "").await;
    assert_eq!(chunks(first).await.concat(), csv);
}

async fn an_empty_base_exports_empty_files(t: &TestDb) {
    let app = app(t).await;
    let res = send(&app, "GET", "/api/v1/lieux/export.json", "", "").await;
    check_headers(&res, "application/json", "json");
    assert_eq!(body(res).await.trim(), "[\n]");
    let res = send(&app, "GET", "/api/v1/lieux/export.csv", "", "").await;
    assert_eq!(body(res).await.lines().count(), 1, "the header line only");
}
