//! Open-data exports on both backends: a stable order, streamed page by page, the
//! schema's CSV imported back into an empty base gives the same rows, and data·inclusion
//! structures and services import back into the same lieux.

use relais_testkit::fixtures::DEMO_LIEUX;
use std::collections::BTreeMap;

use crate::index;
use relais_services::lieux::data_inclusion;
use relais_services::lieux::export::{self, DataInclusionExport, Export, Format};
use relais_services::lieux::import::{ImportReport, import_bytes};
use relais_store::{Backend, Db, lieux};
use relais_testkit::{TestDb, store_tests};

store_tests!(
    csv_is_stable_and_imports_back_to_the_same_rows,
    json_and_geojson_stream_across_pages_with_lineage,
    an_empty_base_gives_empty_files,
    data_inclusion_imports_back
);

fn demo() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/lieux/hinaura-2022-v0.json"
    ))
    .unwrap()
}

async fn load(db: &Db, source: &str, bytes: &[u8]) -> ImportReport {
    let report = import_bytes(db, index(), source, bytes, &mut |_, _| {})
        .await
        .unwrap();
    assert!(
        report.rejected.is_empty(),
        "{:?}",
        crate::rejected(&report).first()
    );
    report
}

/// Another empty base on the same backend.
async fn empty_like(db: &Db) -> TestDb {
    match db.backend() {
        Backend::Sqlite => TestDb::sqlite().await,
        Backend::Postgres => TestDb::postgres().await,
    }
}

/// The whole export, and the number of chunks it came in.
async fn export(db: &Db, format: Format, page: i64) -> (Vec<u8>, usize) {
    let mut e = Export::with_page_size(db.clone(), format, page);
    let (mut bytes, mut chunks) = (Vec::new(), 0);
    while let Some(chunk) = e.next_chunk().await.unwrap() {
        bytes.extend(chunk);
        chunks += 1;
    }
    (bytes, chunks)
}

fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let mut reader = csv::Reader::from_reader(bytes);
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect();
    let rows = reader
        .records()
        .map(|r| {
            header
                .iter()
                .cloned()
                .zip(r.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect();
    (header, rows)
}

/// Lieu id → the `id` of its row (the id it had in the file it came from).
async fn row_ids(db: &Db) -> BTreeMap<String, String> {
    lieux::all(db)
        .await
        .unwrap()
        .into_iter()
        .map(|l| {
            let data: serde_json::Value = serde_json::from_str(&l.data).unwrap();
            (l.id.to_string(), data["id"].as_str().unwrap().to_string())
        })
        .collect()
}

async fn csv_is_stable_and_imports_back_to_the_same_rows(db: Db) {
    load(&db, "hinaura", &demo()).await;
    let (paged, chunks) = export(&db, Format::Csv, 50).await;
    assert!(chunks > 687 / 50, "one chunk per page: {chunks}");
    let (whole, _) = export(&db, Format::Csv, 10_000).await;
    assert_eq!(paged, whole, "the page size changes nothing");
    let (again, _) = export(&db, Format::Csv, 50).await;
    assert_eq!(paged, again, "the same base gives the same bytes");

    let (header, rows) = csv_rows(&paged);
    assert_eq!(header, relais_domain::lieux::COLUMNS);
    assert_eq!(rows.len(), DEMO_LIEUX);
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ordered by id");
    let with_insee = rows.iter().filter(|r| !r["code_insee"].is_empty()).count();
    assert!(
        with_insee > 650,
        "resolved communes fill code_insee: {with_insee}"
    );

    // Into an empty base, then out again: the same rows (the new base's ids are its own;
    // the rows' ids are the first base's).
    let other = empty_like(&db).await;
    let report = load(&other.db, "export", &paged).await;
    assert_eq!((report.created, report.rejected_rows()), (DEMO_LIEUX, 0));
    let (back, _) = export(&other.db, Format::Csv, 100).await;
    let first_ids = row_ids(&other.db).await;
    let (_, back_rows) = csv_rows(&back);
    let mut back_rows: Vec<BTreeMap<String, String>> = back_rows
        .into_iter()
        .map(|mut r| {
            r.insert("id".into(), first_ids[&r["id"]].clone());
            r
        })
        .collect();
    back_rows.sort_by(|a, b| a["id"].cmp(&b["id"]));
    for (a, b) in rows.iter().zip(&back_rows) {
        assert_eq!(a, b);
    }
    assert_eq!(rows.len(), back_rows.len());
    other.cleanup().await;
}

async fn json_and_geojson_stream_across_pages_with_lineage(db: Db) {
    load(&db, "hinaura", &demo()).await;
    let (bytes, chunks) = export(&db, Format::Json, 100).await;
    assert!(chunks >= 7, "{chunks} chunks");
    assert!(
        bytes.starts_with(b"[\n{\"id\":\""),
        "fields in the schema's order"
    );
    let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let items = json.as_array().unwrap();
    assert_eq!(items.len(), DEMO_LIEUX);
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ordered by id");
    let first = &items[0];
    assert_eq!(first["sources"][0]["source"], "hinaura");
    assert!(first["sources"][0]["id"].is_string());
    assert!(
        first["sources"][0]["importe_le"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    assert!(first["nom"].is_string());
    let with_position = items.iter().find(|i| i["latitude"].is_number()).unwrap();
    assert!(with_position["longitude"].is_number());
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), relais_domain::lieux::COLUMNS.len() + 1);

    let (bytes, _) = export(&db, Format::GeoJson, 100).await;
    let geo: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(geo["type"], "FeatureCollection");
    let features = geo["features"].as_array().unwrap();
    assert_eq!(features.len(), DEMO_LIEUX);
    for (f, id) in features.iter().zip(&ids) {
        assert_eq!(f["type"], "Feature");
        assert_eq!(f["id"], *id);
        assert_eq!(f["properties"]["id"], *id);
        assert_eq!(f["geometry"]["type"], "Point", "every demo lieu is placed");
        let c = f["geometry"]["coordinates"].as_array().unwrap();
        let (lon, lat) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        assert!((-6.0..10.0).contains(&lon) && (41.0..52.0).contains(&lat));
        assert!(f["properties"]["coordonnees_approximatives"].is_boolean());
        assert_eq!(f["properties"]["sources"][0]["source"], "hinaura");
    }
}

async fn an_empty_base_gives_empty_files(db: Db) {
    let (csv, _) = export(&db, Format::Csv, 10).await;
    let (header, rows) = csv_rows(&csv);
    assert_eq!((header.len(), rows.len()), (32, 0));
    let (json, _) = export(&db, Format::Json, 10).await;
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&json).unwrap(),
        serde_json::json!([])
    );
    let (geo, _) = export(&db, Format::GeoJson, 10).await;
    let geo: serde_json::Value = serde_json::from_slice(&geo).unwrap();
    assert_eq!(geo["features"], serde_json::json!([]));
}

/// The fields data·inclusion v1 carries, compared after the round trip.
const KEPT: [&str; 22] = [
    "nom",
    "commune",
    "code_postal",
    "code_insee",
    "adresse",
    "complement_adresse",
    "latitude",
    "longitude",
    "telephone",
    "horaires",
    "date_maj",
    "services",
    "publics_specifiquement_adresses",
    "prise_en_charge_specifique",
    "frais_a_charge",
    "modalites_acces",
    "fiche_acces_libre",
    "prise_rdv",
    "site_web",
    "courriels",
    "pivot",
    "dispositif_programmes_nationaux",
];

async fn data_inclusion_imports_back(db: Db) {
    load(&db, "hinaura", &demo()).await;
    let mut e = DataInclusionExport::with_page_size(db.clone(), export::today(), 100);
    let (mut structures, mut services) = (Vec::new(), Vec::new());
    while let Some((s, v)) = e.next_chunks().await.unwrap() {
        structures.extend(s);
        services.extend(v);
    }
    assert!(e.skipped.is_empty(), "{:?}", e.skipped);
    let parsed: Vec<data_inclusion::DiStructure> = serde_json::from_slice(&structures).unwrap();
    let offers: Vec<data_inclusion::DiService> = serde_json::from_slice(&services).unwrap();
    assert_eq!(parsed.len(), DEMO_LIEUX);
    assert!(
        offers.len() >= DEMO_LIEUX,
        "at least one service per structure"
    );
    assert!(
        offers
            .iter()
            .all(|o| parsed.iter().any(|s| s.id == o.structure_id))
    );
    assert!(parsed.iter().all(|s| s.id.starts_with("relais--")));

    let other = empty_like(&db).await;
    let report = data_inclusion::import_files(
        &other.db,
        index(),
        "di",
        &structures,
        &services,
        &mut |_, _| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (report.created, report.rejected_rows()),
        (DEMO_LIEUX, 0),
        "{:?}",
        crate::rejected(&report).first()
    );
    let (_, rows) = csv_rows(&export(&db, Format::Csv, 500).await.0);
    let (_, back) = csv_rows(&export(&other.db, Format::Csv, 500).await.0);
    let ids = row_ids(&other.db).await;
    let back: BTreeMap<String, BTreeMap<String, String>> = back
        .into_iter()
        .map(|r| {
            let first = ids[&r["id"]].strip_prefix("relais--").unwrap().to_string();
            (first, r)
        })
        .collect();
    let mut differences = Vec::new();
    for a in &rows {
        let b = &back[&a["id"]];
        for field in KEPT {
            let (mut va, vb) = (a[field].clone(), b[field].clone());
            match field {
                // data·inclusion keeps one address and one site.
                "courriels" | "site_web" => {
                    va = va.split('|').next().unwrap_or("").to_string();
                }
                // A SIRET only.
                "pivot" if va.len() != 14 => continue,
                // Programmes data·inclusion has no network for are lost.
                "dispositif_programmes_nationaux" => continue,
                _ => {}
            }
            if va != vb {
                differences.push(format!("{} {field}: {va:?} ≠ {vb:?}", a["id"]));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "{} differences, e.g. {:?}",
        differences.len(),
        &differences[..differences.len().min(10)]
    );
    other.cleanup().await;
}
