//! A lieu's page and JSON, from a row imported the way producers' files are.

mod common;
use common::*;

use axum::http::StatusCode;
use relais_search::TerritoryIndex;
use relais_services::lieux::import::{import_bytes, lieu_id};
use relais_testkit::TestDb;

const CSV: &str =
    "id,nom,commune,code_postal,adresse,date_maj,services,horaires,telephone,frais_a_charge\n\
    m1,Médiathèque Tarentaize,Saint-Étienne,42000,20 rue Jo Gouttebarge,2024-06-01,\
    Aide aux démarches administratives|Accès internet et matériel informatique,\
    Mo-Fr 09:00-12:00; Sa off,04 77 43 09 77,Gratuit\n";

#[tokio::test]
async fn a_lieu_has_its_page_and_its_json() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    let index = TerritoryIndex::build(relais_services::territoires::parse_shipped().unwrap());
    let report = import_bytes(&t.db, &index, "essai", CSV.as_bytes(), &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.created, 1, "{report:?}");
    let id = lieu_id("essai", "m1");

    let res = send(&app, "GET", &format!("/lieux/{id}"), "", "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body(res).await;
    for expected in [
        "<h1>Médiathèque Tarentaize</h1>",
        "Aide aux démarches administratives",
        "du lundi au vendredi : 9 h – 12 h",
        "tel:+33477430977",
        "42000 Saint-Étienne",
        "Position sur la carte approximative",
        "source : essai",
    ] {
        assert!(html.contains(expected), "{expected} absent de la page");
    }
    assert!(html.contains("Ouvert maintenant") || html.contains("Fermé maintenant"));

    let res = send(&app, "GET", &format!("/api/v1/lieux/{id}"), "", "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&body(res).await).unwrap();
    assert_eq!(json["lieu"]["nom"], "Médiathèque Tarentaize");
    assert_eq!(json["code_insee"], "42218");
    assert_eq!(json["position"]["approximative"], true);
    assert_eq!(json["provenance"]["services"], "essai");

    let res = send(&app, "GET", "/lieux/inconnu", "", "").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(body(res).await.contains("Lieu introuvable"));
    let res = send(&app, "GET", "/api/v1/lieux/inconnu", "", "").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}
