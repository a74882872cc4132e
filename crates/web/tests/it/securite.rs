//! Hardening found by a hostile test, on both backends: `suite=` never leaves the site nor
//! breaks the `Location` header; the second factor (and every change of privileges) gives
//! the session a new id; behind a trusted load balancer each client has its own rate-limit
//! bucket, and nobody else can choose theirs with a header; search cursors never wrap.

use crate::common;
use common::*;
use relais_domain::ids::PersonId;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use relais_domain::comptes::{Role, StructureKind};
use relais_domain::territoires::Territoires;
use relais_domain::totp;
use relais_search::TerritoryIndex;
use relais_services::comptes::{self as svc, Client, Policy};
use relais_services::lieux::recherche::{Lieux, Recherche};
use relais_store::Db;
use relais_testkit::TestDb;
use relais_testkit::fixtures::{grant, person, structure};
use relais_web::{AppState, TrustedProxies, WebConfig, router};
use tower::ServiceExt;

relais_testkit::backend_tests!(
    suite_never_leaves_the_site_nor_gives_a_500,
    the_second_factor_gives_a_new_session_id,
    enrolment_and_privilege_changes_give_a_new_session_id,
    forwarded_headers_are_ignored_from_untrusted_peers,
    behind_a_trusted_proxy_each_client_has_its_own_bucket,
);

/// `suite` values a hostile tester sent (already percent-encoded).
const HOSTILE_SUITES: [&str; 8] = [
    "/%09/evil.com",
    "/%0a",
    "/%0d%0a",
    "/%00",
    "//evil.com",
    "/%5Cevil.com",
    "/%5C/evil.com",
    "/%C2%85/evil.com",
];

async fn site(t: &TestDb, policy: Policy, trusted: &[&str]) -> Router {
    relais_testkit::seed_commune(&t.db).await;
    router(AppState {
        db: t.db.clone(),
        policy,
        territoires: Arc::new(TerritoryIndex::build(Territoires::default())),
        config: WebConfig {
            public_url: format!("https://{HOST}"),
            trusted_proxies: TrustedProxies::parse(trusted).unwrap(),
            ..WebConfig::default()
        },
        lieux: Arc::new(Lieux::new(Recherche::empty())),
        proconnect: None,
        franceconnect: None,
        activites: Default::default(),
    })
}

fn client() -> Client {
    Client {
        ip: "192.0.2.50".into(),
        user_agent: "test".into(),
    }
}

fn cookie(token: &str) -> String {
    format!("relais_csrf={CSRF}; relais_session={token}")
}

/// Whether the cookie opens the account page (a complete login).
async fn logged_in(app: &Router, token: &str) -> bool {
    send(app, "GET", "/compte", &cookie(token), "")
        .await
        .status()
        == StatusCode::OK
}

/// A person with the second factor set up: their TOTP secret and recovery codes.
async fn enrolled(db: &Db, email: &str) -> (PersonId, Vec<u8>, Vec<String>) {
    let policy = Policy::default();
    let id = account(db, email).await;
    let opened = svc::login_with_password(db, &policy, email, PASSWORD, &client())
        .await
        .unwrap();
    let session = svc::resolve_session(db, &policy, &opened.token)
        .await
        .unwrap()
        .unwrap();
    let (secret, _) = svc::begin_enrolment(db, &session).await.unwrap();
    let code = totp::code_at_step(
        &secret,
        totp::step_of(relais_domain::calendrier::now_ms() / 1000),
    );
    let done = svc::confirm_enrolment(db, &policy, &session, &format!("{code:06}"))
        .await
        .unwrap();
    (id, secret, done.codes)
}

/// The password step, as a browser would: the pending session's token.
async fn password_step(db: &Db, email: &str) -> String {
    svc::login_with_password(db, &Policy::default(), email, PASSWORD, &client())
        .await
        .unwrap()
        .token
}

async fn suite_never_leaves_the_site_nor_gives_a_500(t: &TestDb) {
    let app = site(t, Policy::default(), &[]).await;
    let (_, _, recovery) = enrolled(&t.db, "suite@exemple.fr").await;
    let mut codes = recovery.into_iter();

    // Logged in: the login page sends straight to `suite`, and only to a page of this site.
    let pending = password_step(&t.db, "suite@exemple.fr").await;
    let res = send(
        &app,
        "POST",
        "/connexion/second-facteur",
        &cookie(&pending),
        &form(&[("code", &codes.next().unwrap())]),
    )
    .await;
    let active = session_cookie(&res);
    for suite in HOSTILE_SUITES {
        let res = send(
            &app,
            "GET",
            &format!("/connexion?suite={suite}"),
            &cookie(&active),
            "",
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{suite}");
        assert_eq!(location(&res), "/compte", "{suite}");
    }
    let res = send(
        &app,
        "GET",
        "/connexion?suite=/structures/1/equipe%3Ffait%3Dinvitation",
        &cookie(&active),
        "",
    )
    .await;
    assert_eq!(location(&res), "/structures/1/equipe?fait=invitation");

    // The password step carries only a safe `suite` to the second factor.
    for suite in HOSTILE_SUITES {
        let res = send(
            &app,
            "POST",
            "/connexion",
            "relais_csrf=0123456789abcdef0123456789abcdef",
            &format!(
                "{}&suite={suite}",
                form(&[("email", "suite@exemple.fr"), ("password", PASSWORD)])
            ),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{suite}");
        assert_eq!(
            location(&res),
            "/connexion/second-facteur?suite=/compte",
            "{suite}"
        );
    }

    // Right after a good second factor (a recovery code each time: codes are single-use).
    for suite in &HOSTILE_SUITES[..6] {
        let pending = password_step(&t.db, "suite@exemple.fr").await;
        let res = send(
            &app,
            "POST",
            "/connexion/second-facteur",
            &cookie(&pending),
            &format!(
                "{}&suite={suite}",
                form(&[("code", &codes.next().unwrap())])
            ),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{suite}");
        assert_eq!(location(&res), "/compte", "{suite}");
    }
    // And the forms of the second factor never echo it either.
    let pending = password_step(&t.db, "suite@exemple.fr").await;
    for suite in HOSTILE_SUITES {
        let res = send(
            &app,
            "GET",
            &format!("/connexion/second-facteur?suite={suite}"),
            &cookie(&pending),
            "",
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{suite}");
        let html = body(res).await;
        assert!(html.contains("value=\"/compte\""), "{suite}");
    }
}

async fn the_second_factor_gives_a_new_session_id(t: &TestDb) {
    let app = site(t, Policy::default(), &[]).await;
    let (_, secret, recovery) = enrolled(&t.db, "fixation@exemple.fr").await;

    // An attacker who planted the cookie of the password step gains nothing.
    let planted = password_step(&t.db, "fixation@exemple.fr").await;
    let step = totp::step_of(relais_domain::calendrier::now_ms() / 1000) + 1;
    let code = format!("{:06}", totp::code_at_step(&secret, step));
    let res = send(
        &app,
        "POST",
        "/connexion/second-facteur",
        &cookie(&planted),
        &form(&[("code", &code)]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let renewed = session_cookie(&res);
    assert_ne!(renewed, planted);
    assert!(logged_in(&app, &renewed).await);
    assert!(
        !logged_in(&app, &planted).await,
        "the pre-authentication cookie opens nothing"
    );
    // Not even the pages of a login under way.
    let res = send(
        &app,
        "GET",
        "/connexion/second-facteur",
        &cookie(&planted),
        "",
    )
    .await;
    assert_eq!(location(&res), "/connexion");

    // Confirming the second factor before a sensitive action: a new id again.
    t.db.execute_admin("UPDATE sessions SET fresh_until = 0")
        .await
        .unwrap();
    let res = send(
        &app,
        "POST",
        "/connexion/confirmation",
        &cookie(&renewed),
        &format!(
            "{}&suite=/structures/1/equipe",
            form(&[("code", &recovery[0])])
        ),
    )
    .await;
    assert_eq!(location(&res), "/structures/1/equipe");
    let fresh = session_cookie(&res);
    assert_ne!(fresh, renewed);
    assert!(logged_in(&app, &fresh).await);
    assert!(!logged_in(&app, &renewed).await);
    let session = svc::resolve_session(&t.db, &Policy::default(), &fresh)
        .await
        .unwrap()
        .unwrap();
    assert!(svc::is_fresh(&session), "the new id keeps the confirmation");
}

async fn enrolment_and_privilege_changes_give_a_new_session_id(t: &TestDb) {
    let app = site(t, Policy::default(), &[]).await;
    let person = person(&t.db, "nouveau@exemple.fr", "C", "M").await;
    let s = structure(
        &t.db,
        "13002526500013",
        "Médiathèque Tarentaize",
        StructureKind::Collectivite,
    )
    .await;
    grant(&t.db, person, s, Role::Mediateur).await;
    let planted = password_step(&t.db, "nouveau@exemple.fr").await;
    let session = svc::resolve_session(&t.db, &Policy::default(), &planted)
        .await
        .unwrap()
        .unwrap();
    let (secret, _) = svc::begin_enrolment(&t.db, &session).await.unwrap();
    let code = totp::code_at_step(
        &secret,
        totp::step_of(relais_domain::calendrier::now_ms() / 1000),
    );
    let res = send(
        &app,
        "POST",
        "/connexion/activation",
        &cookie(&planted),
        &form(&[("code", &format!("{code:06}"))]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let enrolled = session_cookie(&res);
    assert_ne!(enrolled, planted);
    assert!(body(res).await.contains("<li><code>"), "the recovery codes");
    assert!(logged_in(&app, &enrolled).await);
    assert!(!logged_in(&app, &planted).await);

    // Acting for a structure changes what the session may do: a new id.
    let res = send(
        &app,
        "POST",
        "/compte/structure",
        &cookie(&enrolled),
        &form(&[("structure", &s.to_string())]),
    )
    .await;
    assert_eq!(location(&res), "/compte");
    let acting = session_cookie(&res);
    assert_ne!(acting, enrolled);
    assert!(logged_in(&app, &acting).await);
    assert!(!logged_in(&app, &enrolled).await);
}

/// Hits counted in a rate-limit bucket (the window is 15 minutes).
async fn hits(db: &Db, bucket: &str) -> i64 {
    relais_store::comptes::sessions::hits(
        db,
        bucket,
        relais_domain::calendrier::now_ms(),
        15 * 60 * 1000,
    )
    .await
    .unwrap()
}

/// A login attempt from the socket `peer`, with extra headers.
async fn attempt(
    app: &Router,
    peer: &str,
    headers: &[(&str, &str)],
    email: &str,
    password: &str,
) -> Response {
    let mut req = Request::post("/connexion")
        .header(header::HOST, HOST)
        .header(header::COOKIE, format!("relais_csrf={CSRF}"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut req = req
        .body(Body::from(form(&[
            ("email", email),
            ("password", password),
        ])))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
    app.clone().oneshot(req).await.unwrap()
}

async fn forwarded_headers_are_ignored_from_untrusted_peers(t: &TestDb) {
    let policy = Policy {
        ip_attempts: 3,
        ..Policy::default()
    };
    // Trusting another network: this peer's headers are still the visitor's own words.
    let app = site(t, policy, &["10.0.0.0/8"]).await;
    person(&t.db, "autre@exemple.fr", "C", "M").await;
    for n in 0..3 {
        let forged = format!("203.0.113.{n}");
        let res = attempt(
            &app,
            "198.51.100.4:5000",
            &[
                ("x-forwarded-for", &forged),
                ("forwarded", &format!("for={forged}")),
            ],
            &format!("essai{n}@exemple.fr"),
            "mauvais",
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "attempt {n}");
    }
    let res = attempt(
        &app,
        "198.51.100.4:5000",
        &[("x-forwarded-for", "203.0.113.99")],
        "autre@exemple.fr",
        PASSWORD,
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "a forged header does not give a new bucket"
    );
    assert_eq!(hits(&t.db, "ip:198.51.100.4").await, 3, "the peer's bucket");
    assert_eq!(
        hits(&t.db, "ip:203.0.113.0").await,
        0,
        "no bucket for a forged address"
    );
}

async fn behind_a_trusted_proxy_each_client_has_its_own_bucket(t: &TestDb) {
    let policy = Policy {
        ip_attempts: 3,
        ..Policy::default()
    };
    let app = site(t, policy, &["10.0.0.0/8", "2001:db8::/32"]).await;
    person(&t.db, "victime@exemple.fr", "C", "M").await;
    // One client (its own entry, forged, on the left: ignored) fills its bucket...
    for n in 0..3 {
        let res = attempt(
            &app,
            "10.0.0.2:40000",
            &[(
                "x-forwarded-for",
                &format!("192.0.2.{n}, 203.0.113.7, 10.1.1.1"),
            )],
            &format!("essai{n}@exemple.fr"),
            "mauvais",
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "attempt {n}");
    }
    let res = attempt(
        &app,
        "10.0.0.3:40000",
        &[("x-forwarded-for", "203.0.113.7")],
        "essai@exemple.fr",
        "mauvais",
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "still limited, whichever instance of the balancer"
    );
    // ...and another client behind the same balancer still logs in.
    let res = attempt(
        &app,
        "10.0.0.2:40000",
        &[("x-forwarded-for", "198.51.100.20")],
        "victime@exemple.fr",
        PASSWORD,
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with("/connexion/activation"));
    // RFC 7239, from an IPv6 balancer.
    let res = attempt(
        &app,
        "[2001:db8::5]:40000",
        &[(
            "forwarded",
            "for=\"[2001:db8:ffff::1]\", for=198.51.100.21;proto=https",
        )],
        "victime@exemple.fr",
        PASSWORD,
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(hits(&t.db, "ip:203.0.113.7").await, 3);
    assert_eq!(hits(&t.db, "ip:198.51.100.20").await, 1);
    assert_eq!(hits(&t.db, "ip:198.51.100.21").await, 1);
    assert_eq!(hits(&t.db, "ip:10.0.0.2").await, 0, "not the balancer's");
}

/// The demo lieux (687, around Lyon), searchable.
async fn demo_site(t: &TestDb) -> Router {
    let index = TerritoryIndex::build(relais_services::territoires::parse_shipped().unwrap());
    let demo = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../data/lieux/hinaura-2022-v0.json"
    ))
    .unwrap();
    relais_services::lieux::import::import_bytes(&t.db, &index, "hinaura", &demo, &mut |_, _| {})
        .await
        .unwrap();
    let recherche = relais_services::lieux::recherche::build(&t.db, &index)
        .await
        .unwrap();
    router(AppState {
        db: t.db.clone(),
        policy: Policy::default(),
        territoires: Arc::new(index),
        config: WebConfig::default(),
        lieux: Arc::new(Lieux::new(recherche)),
        proconnect: None,
        franceconnect: None,
        activites: Default::default(),
    })
}

async fn json(app: &Router, path: &str) -> (StatusCode, Option<String>, serde_json::Value) {
    let res = send(app, "GET", path, "", "").await;
    let status = res.status();
    let kind = res
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_string());
    (
        status,
        kind,
        serde_json::from_str(&body(res).await).unwrap(),
    )
}

#[tokio::test]
async fn search_cursors_never_wrap_around() {
    let t = TestDb::sqlite().await;
    let app = demo_site(&t).await;
    let near = "/api/v1/lieux?lat=45.7676&lon=4.8357";

    // A cursor that is a page's `suivant` goes on; the last allowed page says so.
    let (status, _, page) = json(&app, &format!("{near}&limite=20&curseur=20")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["suivant"], "40");
    let (status, _, page) = json(&app, &format!("{near}&limite=20&curseur=980")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["lieux"].as_array().unwrap().len(), 0, "687 lieux only");

    let max = u64::MAX.to_string();
    let huge = format!("{}0", u64::MAX);
    for cursor in [
        "18446744073709551596",
        "18446744073709551615",
        max.as_str(),
        "18446744073709551616",
        huge.as_str(),
        "999999999999999999999999999999999999",
        "-1",
        "-20",
        "1e3",
        "",
        "%20",
        "1001",
    ] {
        let (status, kind, problem) =
            json(&app, &format!("{near}&limite=20&curseur={cursor}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{cursor}: {problem}");
        assert_eq!(
            kind.as_deref(),
            Some("application/problem+json"),
            "{cursor}"
        );
        assert_eq!(problem["code"], "curseur_invalide", "{cursor}");
        assert!(
            problem["detail"].as_str().unwrap().contains("curseur"),
            "{cursor}: {problem}"
        );
    }

    // A territory's or a box's cursor that no page gave is refused, not page one again.
    for path in [
        "/api/v1/lieux?commune=69123&curseur=18446744073709551615",
        "/api/v1/lieux?commune=69123&curseur=",
        "/api/v1/lieux?departement=69&curseur=abc",
        "/api/v1/lieux?bbox=4.7,45.7,4.9,45.8&curseur=",
    ] {
        let (status, kind, problem) = json(&app, path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {problem}");
        assert_eq!(kind.as_deref(), Some("application/problem+json"), "{path}");
        assert_eq!(problem["code"], "curseur_invalide", "{path}");
    }
    let (status, _, first) = json(&app, "/api/v1/lieux?commune=69123&limite=2").await;
    assert_eq!(status, StatusCode::OK);
    let next =
        serde_urlencoded::to_string([("curseur", first["suivant"].as_str().unwrap())]).unwrap();
    let (status, _, second) = json(
        &app,
        &format!("/api/v1/lieux?commune=69123&limite=2&{next}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_ne!(first["lieux"][0]["id"], second["lieux"][0]["id"]);

    // The pages say it in French, with a 400, rather than showing page one.
    for path in [
        "/lieux?commune=69123&curseur=18446744073709551615",
        "/lieux/widget?commune=69123&curseur=abc",
    ] {
        let res = send(&app, "GET", path, "", "").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{path}");
        assert!(
            body(res).await.contains("Page de résultats introuvable"),
            "{path}"
        );
    }
    // The pages of "autour de moi" stay within their bounds whatever `page` says.
    for page in ["18446744073709551615", "-1", "0", "99"] {
        let res = send(
            &app,
            "GET",
            &format!("/lieux?lat=45.7676&lon=4.8357&page={page}"),
            "",
            "",
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "page={page}");
    }
}
