//! A lieu's page and JSON, from a row imported the way producers' files are.

use crate::common;
use common::*;
use relais_testkit::fixtures::DEMO_LIEUX;

use axum::http::StatusCode;
use relais_domain::lieux::{
    Dispositif, FormationLabel, ModaliteAcces, ModaliteAccompagnement, PriseEnCharge, Public,
    Vocabulary,
};
use relais_search::TerritoryIndex;
use relais_services::lieux::import::{import_bytes, lieu_id};
use relais_testkit::TestDb;

const CSV: &str = "id,nom,commune,code_postal,adresse,date_maj,services,horaires,telephone,frais_a_charge\n\
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
    assert_eq!(recherche.index.len(), DEMO_LIEUX);
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
        assert!(
            one["lieu"]["services"]
                .as_str()
                .unwrap()
                .contains("Parentalité")
        );
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

    // Every filter family: the results have one of the wanted values, and some family
    // with some value finds lieux.
    let mut found_some = 0;
    for (param, field, all) in [
        (
            "prise_en_charge",
            "prise_en_charge_specifique",
            names::<PriseEnCharge>(),
        ),
        (
            "modalites_acces",
            "modalites_acces",
            names::<ModaliteAcces>(),
        ),
        (
            "modalites_accompagnement",
            "modalites_accompagnement",
            names::<ModaliteAccompagnement>(),
        ),
        (
            "dispositifs",
            "dispositif_programmes_nationaux",
            names::<Dispositif>(),
        ),
        ("labels", "formations_labels", names::<FormationLabel>()),
        (
            "publics",
            "publics_specifiquement_adresses",
            names::<Public>(),
        ),
    ] {
        for value in all {
            let (status, json) = get(format!(
                "/api/v1/lieux?lat=45.7676&lon=4.8357&limite=3&{param}={}",
                relais_web_encode(value)
            ))
            .await;
            assert_eq!(status, StatusCode::OK, "{param}={value}: {json}");
            for l in json["lieux"].as_array().unwrap() {
                found_some += 1;
                let (_, one) = get(format!("/api/v1/lieux/{}", l["id"].as_str().unwrap())).await;
                let got = one["lieu"][field].as_str().unwrap_or("");
                assert!(got.split('|').any(|v| v == value), "{param}={value}: {got}");
            }
        }
    }
    assert!(found_some > 10, "{found_some}");

    // An EPCI's lieux (Métropole de Lyon), by name, all in it.
    let (status, json) = get("/api/v1/lieux?epci=200046977&limite=100".into()).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = json["lieux"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["nom"].as_str().unwrap())
        .collect();
    assert!(names.len() > 10, "{names:?}");

    // Nearest first, page by page: the pages follow each other.
    let (_, all) = get("/api/v1/lieux?lat=45.7676&lon=4.8357&limite=10".into()).await;
    let (_, first) = get("/api/v1/lieux?lat=45.7676&lon=4.8357&limite=4".into()).await;
    let next = first["suivant"].as_str().unwrap();
    let (_, second) = get(format!(
        "/api/v1/lieux?lat=45.7676&lon=4.8357&limite=6&curseur={next}"
    ))
    .await;
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["lieux"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!([ids(&first), ids(&second)].concat(), ids(&all));

    // A map tile: the bounding box of Lyon, page by page, by id, every lieu inside once.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (status, json) = get(format!(
            "/api/v1/lieux?bbox=4.77,45.70,4.90,45.81&limite=7{cursor}"
        ))
        .await;
        assert_eq!(status, StatusCode::OK, "{json}");
        for l in json["lieux"].as_array().unwrap() {
            let (lat, lon) = (
                l["latitude"].as_f64().unwrap(),
                l["longitude"].as_f64().unwrap(),
            );
            assert!((45.70..=45.81).contains(&lat) && (4.77..=4.90).contains(&lon));
            seen.push(l["id"].as_str().unwrap().to_string());
        }
        match json["suivant"].as_str() {
            Some(next) => cursor = format!("&curseur={}", relais_web_encode(next)),
            None => break,
        }
    }
    assert!(seen.len() > 7, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "{seen:?}");

    // GeoJSON: the same search as features, with its media type.
    let res = send(
        &app,
        "GET",
        "/api/v1/lieux?bbox=4.77,45.70,4.90,45.81&limite=3&format=geojson",
        "",
        "",
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/geo+json");
    let geo: serde_json::Value = serde_json::from_str(&body(res).await).unwrap();
    assert_eq!(geo["type"], "FeatureCollection");
    let features = geo["features"].as_array().unwrap();
    assert_eq!(features.len(), 3);
    assert_eq!(features[0]["type"], "Feature");
    assert_eq!(features[0]["geometry"]["type"], "Point");
    let c = features[0]["geometry"]["coordinates"].as_array().unwrap();
    assert!(
        (4.77..=4.90).contains(&c[0].as_f64().unwrap()),
        "[lon, lat]"
    );
    assert_eq!(features[0]["id"], seen[0].as_str());
    assert!(features[0]["properties"]["nom"].is_string());
    assert!(geo["suivant"].is_string());

    // Bad requests: said, with a stable code.
    for (path, code) in [
        ("/api/v1/lieux", "recherche_incomplete"),
        (
            "/api/v1/lieux?lat=45&lon=4&commune=69123",
            "recherche_incomplete",
        ),
        ("/api/v1/lieux?lat=45", "recherche_incomplete"),
        (
            "/api/v1/lieux?commune=69123&epci=200046977",
            "recherche_incomplete",
        ),
        ("/api/v1/lieux?commune=Lyon", "commune_invalide"),
        ("/api/v1/lieux?commune=690", "commune_invalide"),
        ("/api/v1/lieux?lat=45&lon=4&limite=0", "limite_invalide"),
        ("/api/v1/lieux?lat=95&lon=4", "coordonnees_invalides"),
        ("/api/v1/lieux?lat=45&lon=4&frais=Offert", "valeur_inconnue"),
        (
            "/api/v1/lieux?lat=45&lon=4&labels=Inconnu",
            "valeur_inconnue",
        ),
        ("/api/v1/lieux?lat=abc&lon=4", "requete_mal_formee"),
        ("/api/v1/lieux?bbox=4,45,5", "bbox_invalide"),
        ("/api/v1/lieux?bbox=a,45,5,46", "bbox_invalide"),
        ("/api/v1/lieux?bbox=4,45,5,1e1", "bbox_invalide"),
        ("/api/v1/lieux?bbox=4,45,5,%2046", "bbox_invalide"),
        ("/api/v1/lieux?lat=45&lon=4&curseur=abc", "curseur_invalide"),
        ("/api/v1/lieux?lat=45&lon=4&curseur=", "curseur_invalide"),
        (
            "/api/v1/lieux?lat=45&lon=4&curseur=%2B5",
            "curseur_invalide",
        ),
        (
            "/api/v1/lieux?lat=45&lon=4&curseur=1001",
            "curseur_invalide",
        ),
        (
            "/api/v1/lieux?lat=45&lon=4&curseur=18446744073709551615",
            "curseur_invalide",
        ),
        ("/api/v1/lieux?lat=45&lon=4&format=kml", "format_inconnu"),
        // The document lists every parameter: another one is refused.
        ("/api/v1/lieux?lat=45&lon=4&limit=5", "requete_mal_formee"),
        // Exact values only, as the document's enum says.
        (
            "/api/v1/lieux?lat=45&lon=4&frais=%20Gratuit",
            "valeur_inconnue",
        ),
    ] {
        let (status, json) = get(path.into()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert_eq!(json["code"], code, "{path}: {json}");
    }

    // What openapi.json calls valid is answered (schemathesis found these refused).
    for path in [
        // Latitudes in either order: the same band.
        "/api/v1/lieux?bbox=4.77,45.81,4.90,45.70",
        // Empty filter values are ignored.
        "/api/v1/lieux?lat=45&lon=4&frais=&services=%7C",
        "/api/v1/lieux?lat=45&lon=4&curseur=0000999",
    ] {
        let (status, json) = get(path.into()).await;
        assert_eq!(status, StatusCode::OK, "{path}: {json}");
    }
    let (_, swapped) = get("/api/v1/lieux?bbox=4.77,45.81,4.90,45.70&limite=100".into()).await;
    let (_, ordered) = get("/api/v1/lieux?bbox=4.77,45.70,4.90,45.81&limite=100".into()).await;
    assert_eq!(swapped, ordered);
    // The last page around a point stops at the depth, without a next page.
    let (status, json) =
        get("/api/v1/lieux?lat=45.7676&lon=4.8357&curseur=990&limite=20".into()).await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert!(json["lieux"].as_array().unwrap().len() <= 10, "{json}");
    assert!(json.get("suivant").is_none(), "{json}");
}

fn names<T: Vocabulary>() -> Vec<&'static str> {
    T::ALL.iter().map(|v| v.as_str()).collect()
}

/// The OpenAPI document is served, and describes every route of the API.
#[tokio::test]
async fn the_openapi_document_covers_every_api_route() {
    let t = TestDb::sqlite().await;
    let app = app(&t).await;
    let res = send(&app, "GET", "/api/v1/openapi.json", "", "").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/json");
    let doc: serde_json::Value = serde_json::from_str(&body(res).await).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for (method, path) in relais_web::ROUTES {
        if path.starts_with("/api/") {
            let op = &paths
                .get(*path)
                .unwrap_or_else(|| panic!("{path} absent de openapi.json"))
                [method.to_ascii_lowercase()];
            assert!(op.is_object(), "{method} {path} absent de openapi.json");
            // Path parameters are described.
            for segment in path.split('/').filter(|s| s.starts_with('{')) {
                let name = segment.trim_matches(['{', '}']);
                assert!(
                    op["parameters"]
                        .as_array()
                        .is_some_and(|ps| ps.iter().any(|p| p["name"] == name)),
                    "{path}: paramètre {name} non décrit"
                );
            }
        }
    }
    // And nothing the site does not answer.
    for path in paths.keys() {
        assert!(
            relais_web::ROUTES.iter().any(|(_, p)| p == path),
            "{path} décrit mais absent des routes"
        );
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
