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
    let index = TerritoryIndex::build(relais_services::territoires::parse_shipped().unwrap());
    let report = import_bytes(&t.db, &index, "essai", CSV.as_bytes(), &mut |_, _| {})
        .await
        .unwrap();
    assert_eq!(report.created, 1, "{report:?}");
    let app = app(&t).await;
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

#[tokio::test]
async fn lieux_are_found_near_a_point_or_in_a_commune() {
    let t = TestDb::sqlite().await;
    let index = TerritoryIndex::build(relais_services::territoires::parse_shipped().unwrap());
    let demo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/lieux/hinaura-2022-v0.json"
    ))
    .unwrap();
    import_bytes(&t.db, &index, "hinaura", &demo, &mut |_, _| {})
        .await
        .unwrap();
    let recherche = relais_services::lieux::recherche::build(&t.db, &index)
        .await
        .unwrap();
    assert_eq!(recherche.index.len(), 687);
    let app = app_with(&t, recherche).await;
    let get = |path: String| {
        let app = app.clone();
        async move {
            let res = send(&app, "GET", &path, "", "").await;
            let status = res.status();
            (
                status,
                serde_json::from_str::<serde_json::Value>(&body(res).await).unwrap(),
            )
        }
    };

    // Near Lyon's town hall, nearest first, with the distance.
    let (status, json) = get("/api/v1/lieux?lat=45.7676&lon=4.8357&limite=5".into()).await;
    assert_eq!(status, StatusCode::OK);
    let lieux = json["lieux"].as_array().unwrap();
    assert_eq!(lieux.len(), 5);
    let d: Vec<f64> = lieux
        .iter()
        .map(|l| l["distance_m"].as_f64().unwrap())
        .collect();
    assert!(d.windows(2).all(|w| w[0] <= w[1]), "{d:?}");
    // With a filter, every result offers the service.
    let (_, json) = get(
        "/api/v1/lieux?lat=45.7676&lon=4.8357&limite=5&services=Parentalit%C3%A9%20et%20%C3%A9ducation%20avec%20le%20num%C3%A9rique".into(),
    )
    .await;
    for l in json["lieux"].as_array().unwrap() {
        let (_, one) = get(format!("/api/v1/lieux/{}", l["id"].as_str().unwrap())).await;
        assert!(one["lieu"]["services"]
            .as_str()
            .unwrap()
            .contains("Parentalité"));
    }

    // A commune's lieux, page by page, without repeats.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (_, json) = get(format!("/api/v1/lieux?commune=69123&limite=3{cursor}")).await;
        for l in json["lieux"].as_array().unwrap() {
            seen.push(l["id"].as_str().unwrap().to_string());
        }
        match json["suivant"].as_str() {
            Some(next) => cursor = format!("&curseur={}", relais_web_encode(next)),
            None => break,
        }
    }
    let unique: std::collections::BTreeSet<&String> = seen.iter().collect();
    assert!(seen.len() > 3 && unique.len() == seen.len(), "{seen:?}");

    // Bad requests: said, with a stable code.
    for (path, code) in [
        ("/api/v1/lieux", "recherche_incomplete"),
        ("/api/v1/lieux?lat=45&lon=4&limite=0", "limite_invalide"),
        ("/api/v1/lieux?lat=95&lon=4", "coordonnees_invalides"),
        ("/api/v1/lieux?lat=45&lon=4&frais=Offert", "valeur_inconnue"),
        ("/api/v1/lieux?lat=abc&lon=4", "requete_mal_formee"),
    ] {
        let (status, json) = get(path.into()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(json["code"], code, "{path}: {json}");
    }
}

fn relais_web_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
