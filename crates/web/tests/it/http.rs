//! The web layer through its real router: headers, pages, API answers and errors.

use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use relais_search::TerritoryIndex;
use relais_testkit::TestDb;
use relais_web::{AppState, WebConfig, router};
use serde_json::Value;
use tower::ServiceExt;

fn index() -> Arc<TerritoryIndex> {
    static INDEX: OnceLock<Arc<TerritoryIndex>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            Arc::new(TerritoryIndex::build(
                relais_services::territoires::parse_shipped().unwrap(),
            ))
        })
        .clone()
}

async fn app_with(hsts: bool) -> (Router, TestDb) {
    let t = TestDb::sqlite().await;
    let app = router(AppState {
        db: t.db.clone(),
        policy: relais_services::comptes::Policy::default(),
        territoires: index(),
        config: WebConfig {
            hsts,
            ..WebConfig::default()
        },
        lieux: Arc::new(relais_services::lieux::recherche::Lieux::new(
            relais_services::lieux::recherche::Recherche::empty(),
        )),
        proconnect: None,
        franceconnect: None,
        activites: Default::default(),
    });
    (app, t)
}

async fn get_path(app: &Router, path: &str) -> Response {
    app.clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap()
}

async fn get_encoded(app: &Router, path: &str, accept_encoding: &str) -> Response {
    app.clone()
        .oneshot(
            Request::get(path)
                .header(header::ACCEPT_ENCODING, accept_encoding)
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap()
}

async fn gunzip(res: Response) -> Vec<u8> {
    use std::io::Read as _;
    let bytes = to_bytes(res.into_body(), 10 << 20).await.unwrap();
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_end(&mut plain)
        .unwrap();
    plain
}

async fn body_text(res: Response) -> String {
    String::from_utf8(to_bytes(res.into_body(), 10 << 20).await.unwrap().to_vec()).unwrap()
}

async fn problem(app: &Router, path: &str) -> (StatusCode, String) {
    let res = get_path(app, path).await;
    let status = res.status();
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/problem+json",
        "{path}"
    );
    let json: Value = serde_json::from_str(&body_text(res).await).unwrap();
    assert_eq!(json["status"], status.as_u16());
    (status, json["code"].as_str().unwrap().to_string())
}

fn header<'a>(res: &'a Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or("")
}

#[tokio::test]
async fn every_page_renders_with_strict_headers_and_a_matching_nonce() {
    let (app, _t) = app_with(false).await;
    for path in [
        "/",
        "/accessibilite",
        "/mentions-legales",
        "/donnees-personnelles",
        "/plan-du-site",
        "/api",
    ] {
        let res = get_path(&app, path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        let csp = header(&res, "content-security-policy").to_string();
        assert!(
            !csp.contains("unsafe-inline") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(header(&res, "x-content-type-options"), "nosniff");
        assert!(!header(&res, "referrer-policy").is_empty());
        assert!(
            header(&res, "strict-transport-security").is_empty(),
            "no HSTS unless configured"
        );
        let nonce = csp
            .split("'nonce-")
            .nth(1)
            .unwrap()
            .split('\'')
            .next()
            .unwrap()
            .to_string();
        let html = body_text(res).await;
        assert!(html.contains("<html lang=\"fr\""), "{path}");
        assert!(
            html.contains("République") && html.contains("Relais"),
            "{path}"
        );
        let scripts = html.matches("<script").count();
        assert!(
            scripts > 0 && html.matches(&format!("nonce=\"{nonce}\"")).count() == scripts,
            "{path}: every script carries the nonce"
        );
    }
}

#[tokio::test]
async fn hsts_when_configured() {
    let (app, _t) = app_with(true).await;
    assert!(
        header(&get_path(&app, "/").await, "strict-transport-security").starts_with("max-age=")
    );
}

#[tokio::test]
async fn each_response_has_its_own_nonce_and_request_id() {
    let (app, _t) = app_with(false).await;
    let (a, b) = (get_path(&app, "/").await, get_path(&app, "/").await);
    assert_ne!(
        header(&a, "content-security-policy"),
        header(&b, "content-security-policy")
    );
    assert_ne!(header(&a, "x-request-id"), header(&b, "x-request-id"));
    let res = app
        .clone()
        .oneshot(
            Request::get("/healthz")
                .header("x-request-id", "lb-42")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        header(&res, "x-request-id"),
        "lb-42",
        "an id from the load balancer is kept"
    );
}

/// The versioned URL of an asset, as the home page links it (`/static/<version>/<path>`).
async fn asset_url(app: &Router, path: &str) -> String {
    let html = body_text(get_path(app, "/").await).await;
    let prefix = html
        .split('"')
        .find(|s| s.starts_with("/static/") && s.ends_with("dsfr-relais.min.css"))
        .unwrap()
        .trim_end_matches("dsfr/dsfr-relais.min.css")
        .to_string();
    prefix + path
}

#[tokio::test]
async fn static_assets_are_versioned_and_cached() {
    let (app, _t) = app_with(false).await;
    let css = asset_url(&app, "dsfr/dsfr-relais.min.css").await;
    let res = get_path(&app, &css).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), "text/css; charset=utf-8");
    assert!(header(&res, "cache-control").contains("immutable"));
    let old = get_path(&app, "/static/00000000/dsfr/dsfr-relais.min.css").await;
    assert_eq!(old.status(), StatusCode::OK);
    assert!(
        !header(&old, "cache-control").contains("immutable"),
        "an old version is not cached for long"
    );
    assert_eq!(
        get_path(&app, &css.replace("dsfr-relais.min.css", "absent.css"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn unknown_routes_get_a_page_or_a_problem() {
    let (app, _t) = app_with(false).await;
    let res = get_path(&app, "/nulle-part").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(header(&res, "content-type").starts_with("text/html"));
    assert!(body_text(res).await.contains("Page non trouvée"));
    assert_eq!(
        problem(&app, "/api/v1/nulle-part").await,
        (StatusCode::NOT_FOUND, "introuvable".into())
    );
}

#[tokio::test]
async fn commune_autocomplete() {
    let (app, _t) = app_with(false).await;
    let res = get_path(&app, "/api/v1/territoires/communes?q=st%20etienne&limite=3").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(header(&res, "content-type"), "application/json");
    let json: Value = serde_json::from_str(&body_text(res).await).unwrap();
    let communes = json["communes"].as_array().unwrap();
    assert_eq!(communes.len(), 3);
    assert_eq!(communes[0]["code"], "42218");
    assert_eq!(communes[0]["correspondance"], "exact");
    assert_eq!(communes[0]["codes_postaux"][0], "42000");
    let json: Value = serde_json::from_str(
        &body_text(get_path(&app, "/api/v1/territoires/communes?q=ile+d+yeu").await).await,
    )
    .unwrap();
    assert_eq!(json["communes"][0]["nom"], "L'Île-d'Yeu");
    let json: Value = serde_json::from_str(
        &body_text(get_path(&app, "/api/v1/territoires/communes?q=zzzzzz").await).await,
    )
    .unwrap();
    assert_eq!(
        json["communes"].as_array().unwrap().len(),
        0,
        "no match is an empty list, not an error"
    );
}

#[tokio::test]
async fn malformed_queries_get_a_400_with_a_stable_code() {
    let (app, _t) = app_with(false).await;
    let long = "a".repeat(101);
    for (path, code) in [
        ("/api/v1/territoires/communes", "q_manquant"),
        ("/api/v1/territoires/communes?q=", "q_manquant"),
        (
            "/api/v1/territoires/communes?q=lyon&limite=",
            "limite_invalide",
        ),
        (
            "/api/v1/territoires/communes/%2069123",
            "code_insee_invalide",
        ),
        (
            &format!("/api/v1/territoires/communes?q={long}") as &str,
            "q_trop_long",
        ),
        (
            "/api/v1/territoires/communes?q=lyon&limite=0",
            "limite_invalide",
        ),
        (
            "/api/v1/territoires/communes?q=lyon&limite=51",
            "limite_invalide",
        ),
        (
            "/api/v1/territoires/communes?q=lyon&limite=dix",
            "limite_invalide",
        ),
        (
            "/api/v1/territoires/communes?q=lyon&q=paris",
            "requete_mal_formee",
        ),
        ("/api/v1/territoires/communes/7505", "code_insee_invalide"),
        (
            "/api/v1/territoires/communes/proche?lat=91&lon=2",
            "coordonnees_invalides",
        ),
        (
            "/api/v1/territoires/communes/proche?lat=48.8",
            "coordonnees_invalides",
        ),
        (
            "/api/v1/territoires/communes/proche?lat=NaN&lon=2",
            "coordonnees_invalides",
        ),
    ] {
        assert_eq!(
            problem(&app, path).await,
            (StatusCode::BAD_REQUEST, code.to_string()),
            "{path}"
        );
    }
    assert_eq!(
        problem(&app, "/api/v1/territoires/communes/99999").await.0,
        StatusCode::NOT_FOUND
    );
    // openapi.json allows blanks (1 to 100 characters): they find nothing, they are no error.
    let res = get_path(&app, "/api/v1/territoires/communes?q=%20%20").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(body_text(res).await, r#"{"communes":[]}"#);
}

#[tokio::test]
async fn commune_with_its_parents_and_nearest_commune() {
    let (app, _t) = app_with(false).await;
    let json: Value = serde_json::from_str(
        &body_text(get_path(&app, "/api/v1/territoires/communes/69381").await).await,
    )
    .unwrap();
    assert_eq!(json["parents"]["commune"]["nom"], "Lyon");
    assert_eq!(json["parents"]["epci"]["code"], "200046977");
    assert_eq!(json["parents"]["departement"]["nom"], "Rhône");
    assert_eq!(json["parents"]["region"]["nom"], "Auvergne-Rhône-Alpes");
    let json: Value = serde_json::from_str(
        &body_text(
            get_path(
                &app,
                "/api/v1/territoires/communes/proche?lat=45.4397&lon=4.3872",
            )
            .await,
        )
        .await,
    )
    .unwrap();
    assert_eq!(json["code"], "42218");
    assert!(json["distance_m"].as_f64().unwrap() < 500.0);
}

#[tokio::test]
async fn health_and_readiness() {
    let (app, t) = app_with(false).await;
    assert_eq!(body_text(get_path(&app, "/healthz").await).await, "ok");
    let ready = get_path(&app, "/readyz").await;
    assert_eq!(ready.status(), StatusCode::OK);
    // The engine's code as openapi.json lists it (`sqlite|postgres`), not its display name.
    let ready: Value = serde_json::from_str(&body_text(ready).await).unwrap();
    assert_eq!(
        (&ready["statut"], &ready["base"]),
        (&"pret".into(), &"sqlite".into())
    );
    t.db.close().await;
    assert_eq!(
        problem(&app, "/readyz").await,
        (StatusCode::SERVICE_UNAVAILABLE, "indisponible".into())
    );
    assert_eq!(
        get_path(&app, "/healthz").await.status(),
        StatusCode::OK,
        "the process still answers"
    );
}

#[tokio::test]
async fn a_panic_becomes_a_500_page_or_problem() {
    let routes = Router::new()
        .route("/boum", get(|| async { panic!("exprès") as &'static str }))
        .route(
            "/api/v1/boum",
            get(|| async { panic!("exprès") as &'static str }),
        );
    let app = relais_web::harden(routes, false);
    let res = get_path(&app, "/boum").await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!header(&res, "content-security-policy").is_empty());
    let html = body_text(res).await;
    assert!(
        html.contains("Erreur inattendue") && !html.contains("exprès"),
        "no internal detail shown"
    );
    assert_eq!(
        problem(&app, "/api/v1/boum").await,
        (StatusCode::INTERNAL_SERVER_ERROR, "erreur_interne".into())
    );
}

#[tokio::test]
async fn static_assets_are_sent_compressed_when_the_browser_accepts_it() {
    let (app, _t) = app_with(false).await;
    let css = asset_url(&app, "dsfr/dsfr-relais.min.css").await;
    let plain = get_path(&app, &css).await;
    assert_eq!(header(&plain, "content-encoding"), "");
    assert_eq!(
        header(&plain, "vary").to_ascii_lowercase(),
        "accept-encoding"
    );
    let plain = to_bytes(plain.into_body(), 10 << 20).await.unwrap();

    let br = get_encoded(&app, &css, "gzip, deflate, br, zstd").await;
    assert_eq!(header(&br, "content-encoding"), "br");
    assert!(header(&br, "cache-control").contains("immutable"));
    let br = to_bytes(br.into_body(), 10 << 20).await.unwrap();
    assert!(
        br.len() * 4 < plain.len(),
        "{} vs {}",
        br.len(),
        plain.len()
    );

    let gz = get_encoded(&app, &css, "gzip").await;
    assert_eq!(header(&gz, "content-encoding"), "gzip");
    assert_eq!(header(&gz, "content-type"), "text/css; charset=utf-8");
    assert_eq!(gunzip(gz).await, plain, "the same file, compressed");

    let refused = get_encoded(&app, &css, "gzip;q=0, br;q=0").await;
    assert_eq!(header(&refused, "content-encoding"), "");

    // Fonts are compressed already: sent as they are, to everyone.
    let font = asset_url(&app, "dsfr/fonts/Marianne-Regular.woff2").await;
    let font = get_encoded(&app, &font, "gzip, br").await;
    assert_eq!(font.status(), StatusCode::OK);
    assert_eq!(header(&font, "content-encoding"), "");
}

#[tokio::test]
async fn pages_and_data_are_compressed_on_the_way_out() {
    let (app, _t) = app_with(false).await;
    let page = get_encoded(&app, "/", "gzip").await;
    assert_eq!(header(&page, "content-encoding"), "gzip");
    assert!(
        header(&page, "vary")
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    assert!(!header(&page, "content-security-policy").is_empty());
    let html = String::from_utf8(gunzip(page).await).unwrap();
    assert!(html.contains("<html lang=\"fr\""));

    let contours = get_encoded(&app, "/lieux/carte/departements.geojson", "br, gzip").await;
    assert_eq!(header(&contours, "content-encoding"), "br");
    assert!(header(&contours, "cache-control").contains("max-age="));

    let export = get_encoded(&app, "/api/v1/lieux/export.csv", "gzip").await;
    assert_eq!(export.status(), StatusCode::OK);
    assert_eq!(header(&export, "content-encoding"), "gzip");
    assert!(!gunzip(export).await.is_empty());

    let identity = get_path(&app, "/").await;
    assert_eq!(header(&identity, "content-encoding"), "");
}

#[tokio::test]
async fn home_and_site_map_say_what_is_open_and_what_is_coming() {
    let (app, _t) = app_with(false).await;
    let home = body_text(get_path(&app, "/").await).await;
    for open in [
        "Habilitations ouvertes",
        "Lieux ouverts",
        "Comptes ouverts",
        "Données ouvertes",
    ] {
        assert!(home.contains(open), "{open}");
    }
    assert_eq!(
        home.matches("Bientôt disponible").count(),
        1,
        "only the diagnostic has nothing open yet"
    );
    assert!(home.contains(
        "À venir : le diagnostic, les mandats, le Pass numérique et les comptes rendus d’activité."
    ));
    assert!(!home.contains("Modules comptes, activités et hubs"));
    let plan = body_text(get_path(&app, "/plan-du-site").await).await;
    for link in [
        "href=\"/lieux\"",
        "href=\"/connexion\"",
        "href=\"/compte\"",
        "href=\"/api/v1/lieux/export.csv\"",
        "href=\"/api/v1/openapi.json\"",
    ] {
        assert!(plan.contains(link), "{link}");
    }
    assert!(plan.contains(
        "Les modules à venir — diagnostic, mandats, Pass numérique, comptes rendus d’activité"
    ));
}

#[tokio::test]
async fn the_api_documentation_page_says_every_operation_of_openapi_json() {
    let (app, _db) = app_with(false).await;
    let res = get_path(&app, "/api").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body_text(res).await;
    let doc: Value =
        serde_json::from_str(&body_text(get_path(&app, "/api/v1/openapi.json").await).await)
            .unwrap();
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap();
            assert!(html.contains(&format!("<h3 id=\"{id}\">")), "{id}");
            let request = format!("{} {path}", method.to_uppercase())
                .replace('{', "&#123;")
                .replace('}', "&#125;");
            assert!(
                html.contains(&request)
                    || html.contains(&format!("{} {path}", method.to_uppercase())),
                "{request}"
            );
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().unwrap();
                assert!(
                    html.contains(&format!("<code>{name}</code>")),
                    "{id} : {name}"
                );
            }
        }
    }
    for name in doc["components"]["schemas"].as_object().unwrap().keys() {
        assert!(html.contains(&format!("id=\"schema-{name}\"")), "{name}");
    }
    // The zone's variants are tables of their fields; enumerations list their values;
    // the examples are links that answer.
    assert!(html.contains("Zone « point » : ses champs"));
    assert!(html.contains("<li><code>Aide aux démarches administratives</code></li>"));
    assert!(
        html.contains("href=\"/api/v1/lieux?lat=45.7676&amp;lon=4.8357\"")
            || html.contains("href=\"/api/v1/lieux?lat=45.7676&#38;lon=4.8357\""),
        "exemple"
    );
    assert!(html.contains("<code>Aide aux démarches administratives</code>"));
    // Reached from the footer of every page and from the home page.
    let home = body_text(get_path(&app, "/").await).await;
    assert!(home.contains("href=\"/api\""));
    assert!(html.contains("href=\"/api\" aria-current=\"page\""));
}
