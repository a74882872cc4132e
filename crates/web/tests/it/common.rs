//! What the HTTP tests share: the router on a test database, requests sent with a
//! visitor's cookies, answers read back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, header};
use axum::response::Response;
use relais_domain::comptes::sessions::{Session, Stage};
use relais_domain::ids::PersonId;
use relais_domain::territoires::Territoires;
use relais_search::TerritoryIndex;
use relais_services::comptes::Policy;
use relais_services::lieux::recherche::{Lieux, Recherche};
use relais_store::Db;
use relais_testkit::TestDb;
use relais_web::{AppState, WebConfig, router};
use tower::ServiceExt;

pub use relais_testkit::fixtures::PASSWORD;
pub const CSRF: &str = "0123456789abcdef0123456789abcdef";
/// The host the requests are sent to, and the instance's public address.
pub const HOST: &str = "relais.exemple.fr";

/// The site on a test database that knows Saint-Étienne (42218).
pub async fn app(t: &TestDb) -> Router {
    app_with(t, Recherche::empty()).await
}

/// The same, searching `lieux`.
pub async fn app_with(t: &TestDb, lieux: Recherche) -> Router {
    app_over(t, lieux, Territoires::default()).await
}

/// The same, with the shipped territories in memory (pages that name or list them).
pub async fn app_with_territories(t: &TestDb) -> Router {
    static SHIPPED: std::sync::OnceLock<Territoires> = std::sync::OnceLock::new();
    let shipped = SHIPPED.get_or_init(|| relais_services::territoires::parse_shipped().unwrap());
    app_over(t, Recherche::empty(), shipped.clone()).await
}

async fn app_over(t: &TestDb, lieux: Recherche, territoires: Territoires) -> Router {
    relais_testkit::seed_commune(&t.db).await;
    router(AppState {
        db: t.db.clone(),
        policy: Policy::default(),
        territoires: Arc::new(TerritoryIndex::build(territoires)),
        config: WebConfig {
            public_url: format!("https://{HOST}"),
            ..WebConfig::default()
        },
        lieux: Arc::new(Lieux::new(lieux)),
        proconnect: None,
        franceconnect: None,
        activites: Default::default(),
    })
}

/// A request as a browser sends it from a page of the structure's team.
pub async fn send(app: &Router, method: &str, path: &str, cookie: &str, form: &str) -> Response {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::COOKIE, cookie)
        .header(header::HOST, HOST)
        .header(
            header::REFERER,
            format!("https://{HOST}/structures/1/equipe"),
        );
    if method == "POST" {
        req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    app.clone()
        .oneshot(req.body(Body::from(form.to_string())).unwrap())
        .await
        .unwrap()
}

/// A JSON request as a signed-in device sends it: the CSRF token in its header.
pub async fn send_json(app: &Router, path: &str, cookie: &str, json: &str) -> Response {
    let req = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::COOKIE, cookie)
        .header(header::HOST, HOST)
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-csrf-token", CSRF);
    app.clone()
        .oneshot(req.body(Body::from(json.to_string())).unwrap())
        .await
        .unwrap()
}

/// A form's body with the CSRF token.
pub fn form(fields: &[(&str, &str)]) -> String {
    let mut all = vec![("csrf", CSRF)];
    all.extend_from_slice(fields);
    serde_urlencoded::to_string(&all).unwrap()
}

pub const BOUNDARY: &str = "----relais-essai";

/// A `multipart/form-data` body: the text fields, then the file `fichier`.
pub fn multipart_form(fields: &[(&str, &str)], filename: &str, file: &str) -> String {
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{filename}\"\r\nContent-Type: text/csv\r\n\r\n{file}\r\n--{BOUNDARY}--\r\n"
    ));
    body
}

/// Posts a [`multipart_form`] body as a browser from this site would.
pub async fn upload(app: &Router, path: &str, cookie: &str, body: String) -> Response {
    let req = Request::builder()
        .method("POST")
        .uri(path)
        .header(header::COOKIE, cookie)
        .header(header::HOST, HOST)
        .header(header::ORIGIN, format!("https://{HOST}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::CONTENT_LENGTH, body.len())
        .body(Body::from(body))
        .unwrap();
    app.clone().oneshot(req).await.unwrap()
}

pub fn location(res: &Response) -> String {
    res.headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

pub async fn body(res: Response) -> String {
    String::from_utf8(to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
}

/// The value of the session cookie a response sets (a new session id).
pub fn session_cookie(res: &Response) -> String {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            v.strip_prefix("relais_session=")
                .map(|rest| rest.split(';').next().unwrap_or("").to_string())
        })
        .expect("a session cookie")
}

/// A new account: Camille Martin, with [`PASSWORD`].
pub async fn account(db: &Db, email: &str) -> PersonId {
    relais_testkit::fixtures::person(db, email, "Camille", "Martin").await
}

/// The cookies of a new session of `person` at `stage`, whose second factor was confirmed
/// a moment ago if `fresh`. Each call opens another session.
pub async fn cookie_of(db: &Db, person: PersonId, stage: Stage, fresh: bool) -> String {
    static OPENED: AtomicU64 = AtomicU64::new(0);
    let token = format!("jeton-{person}-{}", OPENED.fetch_add(1, Ordering::Relaxed));
    let now = relais_domain::calendrier::now_ms();
    relais_store::comptes::sessions::create(
        db,
        &Session {
            token_hash: relais_services::comptes::sha256_hex(&token),
            person_id: person,
            stage,
            acting_structure: None,
            created_at: now,
            last_seen_at: now,
            fresh_until: if fresh { now + 60_000 } else { now - 1 },
            ip: "test".into(),
            user_agent: "test".into(),
        },
    )
    .await
    .unwrap();
    format!("relais_csrf={CSRF}; relais_session={token}")
}

/// An XLSX file as openpyxl reads it (`testsupport/tableurs/lire_xlsx.py`): its sheets'
/// names and cells.
pub fn read_xlsx(bytes: &[u8]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.xlsx");
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testsupport/tableurs/lire_xlsx.py"
        ))
        .arg(&path)
        .output()
        .expect("python3 must be installed (scripts/test installs openpyxl)");
    assert!(
        out.status.success(),
        "openpyxl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
