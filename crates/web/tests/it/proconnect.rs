//! ProConnect login against a real OpenID Connect provider (testsupport/oidc, npm
//! oidc-provider) started as a child process: the success paths and every refusal.

use relais_domain::ids::{PersonId, StructureId};

use crate::oidc_peer::{CLIENT_ID, CLIENT_SECRET, Provider};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use relais_domain::comptes::sessions::Stage;
use relais_domain::comptes::{GlobalRole, Role, StructureKind};
use relais_domain::journal::JournalAction;
use relais_domain::territoires::Territoires;
use relais_search::TerritoryIndex;
use relais_services::comptes as svc;
use relais_services::oidc_client::{OidcClient, OidcConfig};
use relais_store::comptes::sessions;
use relais_store::journal::{self, JournalFilter};
use relais_testkit::TestDb;
use relais_testkit::fixtures::{grant, structure};
use relais_web::{AppState, WebConfig, router};
use tower::ServiceExt;

const REDIRECT_URI: &str = "http://relais.test/auth/proconnect/callback";

struct Harness {
    provider: Provider,
    app: Router,
    http: reqwest::Client,
    t: TestDb,
    structure: StructureId,
}

async fn harness() -> Harness {
    harness_with(&[]).await
}

async fn harness_with(provider_args: &[&str]) -> Harness {
    harness_on(
        Provider::start(0, REDIRECT_URI, provider_args),
        svc::Policy::default(),
    )
    .await
}

async fn harness_on(provider: Provider, policy: svc::Policy) -> Harness {
    let t = TestDb::sqlite().await;
    for sql in [
        "INSERT INTO regions (code, nom) VALUES ('84', 'Auvergne-Rhône-Alpes')",
        "INSERT INTO departements (code, nom, region) VALUES ('42', 'Loire', '84')",
        "INSERT INTO communes (code, nom, kind, departement, region, codes_postaux, population) \
         VALUES ('42218', 'Saint-Étienne', 'commune-actuelle', '42', '84', '42000', 173136)",
    ] {
        t.db.execute_admin(sql).await.unwrap();
    }
    let structure = structure(
        &t.db,
        "13002526500013",
        "Médiathèque A",
        StructureKind::Collectivite,
    )
    .await;
    let pc = OidcClient::new(OidcConfig {
        issuer: provider.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uri: REDIRECT_URI.into(),
    })
    .unwrap();
    let app = router(AppState {
        db: t.db.clone(),
        policy,
        territoires: Arc::new(TerritoryIndex::build(Territoires::default())),
        config: WebConfig::default(),
        lieux: Arc::new(relais_services::lieux::recherche::Lieux::new(
            relais_services::lieux::recherche::Recherche::empty(),
        )),
        proconnect: Some(Arc::new(pc)),
        franceconnect: None,
        activites: Default::default(),
    });
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Harness {
        provider,
        app,
        http,
        t,
        structure,
    }
}

impl Harness {
    async fn account(&self, email: &str, role: Option<Role>) -> PersonId {
        let id = svc::create_account(
            &self.t.db,
            email,
            "Camille",
            "Martin",
            "une longue phrase de passe",
            None,
        )
        .await
        .unwrap();
        if let Some(role) = role {
            grant(&self.t.db, id, self.structure, role).await;
        }
        id
    }

    async fn control(&self, path: &str, body: serde_json::Value) {
        let res = self
            .http
            .post(format!("{}{path}", self.provider.issuer))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}: {}", res.status());
    }

    async fn user(&self, sub: &str, email: &str) {
        self.control(
            "/__test/user",
            serde_json::json!({"sub": sub, "email": email, "given_name": "Camille",
                "usual_name": "Martin", "siret": "13002526500013", "uid": "1"}),
        )
        .await;
    }

    async fn mode(&self, mode: &str) {
        self.control("/__test/mode", serde_json::json!({ "mode": mode }))
            .await;
    }

    async fn get(&self, uri: &str) -> Response {
        self.app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    /// /auth/proconnect, then the provider's hops: the callback's path and query on Relais.
    async fn authorize(&self, suite: &str) -> String {
        let res = self.get(&format!("/auth/proconnect?suite={suite}")).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let mut url = location(&res);
        assert!(url.starts_with(&self.provider.issuer), "{url}");
        assert!(url.contains("code_challenge_method=S256"), "{url}");
        assert!(url.contains("nonce="), "{url}");
        for _ in 0..6 {
            if let Some(rest) = url.strip_prefix("http://relais.test") {
                return rest.to_string();
            }
            let res = self.http.get(&url).send().await.unwrap();
            assert_eq!(res.status().as_u16(), 303, "{url}");
            url = res.headers()["location"].to_str().unwrap().to_string();
        }
        panic!("the provider never sent back to Relais");
    }

    /// The whole login; the callback's answer.
    async fn login(&self) -> Response {
        let callback = self.authorize("/compte").await;
        self.get(&callback).await
    }

    async fn journal(&self, action: JournalAction) -> Vec<relais_domain::journal::Entry> {
        let filter = JournalFilter {
            action: Some(action),
            ..Default::default()
        };
        journal::list(&self.t.db, &filter, 100).await.unwrap()
    }
}

fn location(res: &Response) -> String {
    res.headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn session_token(res: &Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("relais_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
}

async fn body(res: Response) -> String {
    String::from_utf8(to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
}

/// A refusal: a DSFR page with this status and message, and no session.
async fn assert_refused(res: Response, status: StatusCode, message: &str) {
    assert_eq!(res.status(), status, "{}", location(&res));
    assert!(session_token(&res).is_none());
    let text = body(res).await;
    assert!(text.contains("fr-container"), "not a DSFR page: {text}");
    let text = text.replace("&#x27;", "'").replace("&#39;", "'");
    assert!(text.contains(message), "{message:?} not in {text}");
    assert!(!text.contains(CLIENT_SECRET));
}

#[tokio::test]
async fn mediateur_gets_an_active_session_and_the_account_is_linked() {
    let h = harness().await;
    let id = h
        .account("mediateur@exemple.fr", Some(Role::Mediateur))
        .await;
    h.user("sub-mediateur", "Mediateur@Exemple.fr").await;

    let res = h.login().await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/compte");
    let token = session_token(&res).expect("session cookie");
    let session = sessions::find(&h.t.db, &svc::sha256_hex(&token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((session.person_id, session.stage), (id, Stage::Active));
    let person = relais_store::comptes::person(&h.t.db, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(person.proconnect_sub.as_deref(), Some("sub-mediateur"));
    // The organisation ProConnect vouches for: with it, a structure without référent is claimed.
    assert_eq!(person.proconnect_siret.as_deref(), Some("13002526500013"));
    assert_eq!(h.journal(JournalAction::ProConnectLinked).await.len(), 1);
    let logins = h.journal(JournalAction::LoginSucceeded).await;
    assert_eq!(logins.len(), 1);
    assert_eq!(logins[0].content.details, "{\"via\":\"proconnect\"}");

    // The account page opens with that cookie.
    let res = h
        .app
        .clone()
        .oneshot(
            Request::get("/compte")
                .header(header::COOKIE, format!("relais_session={token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Next time the subject finds the person, even with another address at ProConnect.
    h.user("sub-mediateur", "nouvelle@exemple.fr").await;
    let res = h.login().await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", location(&res));
    assert!(session_token(&res).is_some());
    assert_eq!(h.journal(JournalAction::ProConnectLinked).await.len(), 1);
}

/// As ProConnect does: userinfo as a signed JWT.
#[tokio::test]
async fn signed_userinfo_is_read() {
    let h = harness_with(&["--userinfo-jwt"]).await;
    h.account("mediateur@exemple.fr", Some(Role::Mediateur))
        .await;
    h.user("sub-mediateur", "mediateur@exemple.fr").await;
    let res = h.login().await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/compte");
    assert!(session_token(&res).is_some());
}

#[tokio::test]
async fn aidant_and_admin_must_still_give_their_second_factor() {
    let h = harness().await;
    let aidant = h.account("aidant@exemple.fr", Some(Role::Aidant)).await;
    let mut tx = h.t.db.begin().await.unwrap();
    relais_store::comptes::enroll_totp(&mut tx, aidant, "00112233", 1, &[], 1)
        .await
        .unwrap();
    relais_store::commit(tx).await.unwrap();
    h.user("sub-aidant", "aidant@exemple.fr").await;
    let res = h.login().await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/connexion/second-facteur?suite=/compte");
    let token = session_token(&res).unwrap();
    let session = sessions::find(&h.t.db, &svc::sha256_hex(&token))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.stage, Stage::SecondFactor);
    // Not logged in yet: the success is journaled by the second factor.
    assert!(h.journal(JournalAction::LoginSucceeded).await.is_empty());
    // The code completes the login under a new session id: the callback's cookie is dead.
    let csrf = "0123456789abcdef0123456789abcdef";
    let step = relais_domain::totp::step_of(relais_domain::calendrier::now_ms() / 1000);
    let code = relais_domain::totp::code_at_step(&[0x00, 0x11, 0x22, 0x33], step);
    let res = h
        .app
        .clone()
        .oneshot(
            Request::post("/connexion/second-facteur")
                .header(
                    header::COOKIE,
                    format!("relais_csrf={csrf}; relais_session={token}"),
                )
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("csrf={csrf}&code={code:06}")))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(location(&res), "/compte");
    let renewed = session_token(&res).expect("a new session id");
    assert_ne!(renewed, token);
    assert!(
        sessions::find(&h.t.db, &svc::sha256_hex(&token))
            .await
            .unwrap()
            .is_none()
    );
    let session = sessions::find(&h.t.db, &svc::sha256_hex(&renewed))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.stage, Stage::Active);

    // An administrator who has not set up the second factor yet: enrolment first.
    let admin = h.account("admin@exemple.fr", None).await;
    svc::grant_global_role(&h.t.db, admin, GlobalRole::Administrateur, "", None)
        .await
        .unwrap();
    h.user("sub-admin", "admin@exemple.fr").await;
    let res = h.login().await;
    assert_eq!(location(&res), "/connexion/activation?suite=/compte");
}

#[tokio::test]
async fn unknown_state_is_refused() {
    let h = harness().await;
    h.account("mediateur@exemple.fr", Some(Role::Mediateur))
        .await;
    h.user("sub-mediateur", "mediateur@exemple.fr").await;
    let callback = h.authorize("/compte").await;
    let forged = regex_replace_state(&callback, "etat-invente");
    let res = h.get(&forged).await;
    assert_refused(
        res,
        StatusCode::BAD_REQUEST,
        "inconnue, a déjà servi ou a expiré",
    )
    .await;
    // The genuine callback still works once, then its state is spent.
    let res = h.get(&callback).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = h.get(&callback).await;
    assert_refused(
        res,
        StatusCode::BAD_REQUEST,
        "inconnue, a déjà servi ou a expiré",
    )
    .await;
}

#[tokio::test]
async fn expired_login_state_is_refused() {
    let h = harness().await;
    h.account("mediateur@exemple.fr", Some(Role::Mediateur))
        .await;
    h.user("sub-mediateur", "mediateur@exemple.fr").await;
    let callback = h.authorize("/compte").await;
    let eleven_minutes_ago = relais_domain::calendrier::now_ms() - 11 * 60 * 1000;
    h.t.db
        .execute_admin(&format!(
            "UPDATE oidc_logins SET created_at = {eleven_minutes_ago}"
        ))
        .await
        .unwrap();
    let res = h.get(&callback).await;
    assert_refused(res, StatusCode::BAD_REQUEST, "a expiré").await;
}

fn regex_replace_state(callback: &str, state: &str) -> String {
    let (path, query) = callback.split_once('?').unwrap();
    let query: Vec<String> = query
        .split('&')
        .map(|kv| {
            if kv.starts_with("state=") {
                format!("state={state}")
            } else {
                kv.to_string()
            }
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

fn param(callback: &str, name: &str) -> String {
    callback
        .split_once('?')
        .unwrap()
        .1
        .split('&')
        .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
        .unwrap()
        .to_string()
}

/// A tampered ID token: refused, and no session.
async fn tampered(mode: &str) {
    let h = harness().await;
    h.account("mediateur@exemple.fr", Some(Role::Mediateur))
        .await;
    h.user("sub-mediateur", "mediateur@exemple.fr").await;
    h.mode(mode).await;
    let res = h.login().await;
    assert_refused(
        res,
        StatusCode::FORBIDDEN,
        "L’identité transmise par ProConnect n’a pas pu être vérifiée",
    )
    .await;
    assert!(h.journal(JournalAction::LoginSucceeded).await.is_empty());
}

#[tokio::test]
async fn wrong_nonce_is_refused() {
    tampered("wrong_nonce").await;
}

#[tokio::test]
async fn expired_id_token_is_refused() {
    tampered("expired").await;
}

#[tokio::test]
async fn badly_signed_id_token_is_refused() {
    tampered("bad_signature").await;
}

#[tokio::test]
async fn id_token_for_another_audience_is_refused() {
    tampered("wrong_audience").await;
}

#[tokio::test]
async fn id_token_from_another_issuer_is_refused() {
    tampered("wrong_issuer").await;
}

#[tokio::test]
async fn id_token_issued_in_the_future_is_refused() {
    tampered("future_iat").await;
}

#[tokio::test]
async fn iss_parameter_of_another_issuer_is_refused() {
    let h = harness().await;
    h.account("mediateur@exemple.fr", Some(Role::Mediateur))
        .await;
    h.user("sub-mediateur", "mediateur@exemple.fr").await;
    let callback = h.authorize("/compte").await;
    let iss = param(&callback, "iss");
    let forged = callback.replace(&format!("iss={iss}"), "iss=http%3A%2F%2Fevil.example");
    let res = h.get(&forged).await;
    assert_refused(
        res,
        StatusCode::BAD_REQUEST,
        "ne vient pas du fournisseur d’identité attendu",
    )
    .await;
}

#[tokio::test]
async fn replayed_code_is_refused() {
    let h = harness().await;
    h.account("mediateur@exemple.fr", Some(Role::Mediateur))
        .await;
    h.user("sub-mediateur", "mediateur@exemple.fr").await;
    let callback = h.authorize("/compte").await;
    // A second pending login with the same verifier and nonce, so that only the code is
    // replayed.
    let state = param(&callback, "state");
    h.t.db
        .execute_admin(&format!(
            "INSERT INTO oidc_logins (state_hash, nonce, pkce_verifier, next_path, created_at) \
             SELECT '{}', nonce, pkce_verifier, next_path, created_at FROM oidc_logins \
             WHERE state_hash = '{}'",
            svc::sha256_hex("etat-rejoue"),
            svc::sha256_hex(&state)
        ))
        .await
        .unwrap();
    let res = h.get(&callback).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let replay = regex_replace_state(&callback, "etat-rejoue");
    let res = h.get(&replay).await;
    assert_refused(
        res,
        StatusCode::BAD_REQUEST,
        "a refusé le code de connexion",
    )
    .await;
}

#[tokio::test]
async fn no_account_for_that_address_is_refused() {
    let h = harness().await;
    h.user("sub-inconnu", "inconnu@exemple.fr").await;
    let res = h.login().await;
    assert_refused(
        res,
        StatusCode::FORBIDDEN,
        "Aucun compte Relais n’est associé à cette adresse : demandez une invitation au référent de votre structure.",
    )
    .await;
}

#[tokio::test]
async fn deactivated_account_is_refused_and_journaled() {
    let h = harness().await;
    let id = h
        .account("mediateur@exemple.fr", Some(Role::Mediateur))
        .await;
    h.t.db
        .execute_admin(&format!(
            "UPDATE persons SET deactivated_at = 1 WHERE id = {id}"
        ))
        .await
        .unwrap();
    h.user("sub-mediateur", "mediateur@exemple.fr").await;
    let res = h.login().await;
    assert_refused(res, StatusCode::FORBIDDEN, "Ce compte Relais est désactivé").await;
    let failed = h.journal(JournalAction::LoginFailed).await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].content.subject_id, id.to_string());
}

#[tokio::test]
async fn next_path_stays_on_this_site_and_login_page_shows_the_button() {
    let h = harness().await;
    h.account("mediateur@exemple.fr", Some(Role::Mediateur))
        .await;
    h.user("sub-mediateur", "mediateur@exemple.fr").await;
    let callback = h.authorize("https://evil.example/").await;
    let res = h.get(&callback).await;
    assert_eq!(location(&res), "/compte");

    let res = h.get("/connexion?suite=/compte").await;
    let page = body(res).await;
    assert!(
        page.contains("href=\"/auth/proconnect?suite=/compte\""),
        "{page}"
    );
}

#[tokio::test]
async fn without_configuration_there_is_no_proconnect() {
    let t = TestDb::sqlite().await;
    let app = router(AppState {
        db: t.db.clone(),
        policy: svc::Policy::default(),
        territoires: Arc::new(TerritoryIndex::build(Territoires::default())),
        config: WebConfig::default(),
        lieux: Arc::new(relais_services::lieux::recherche::Lieux::new(
            relais_services::lieux::recherche::Recherche::empty(),
        )),
        proconnect: None,
        franceconnect: None,
        activites: Default::default(),
    });
    for uri in [
        "/auth/proconnect",
        "/auth/proconnect/callback?code=x&state=y",
    ] {
        let res = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_refused(
            res,
            StatusCode::NOT_FOUND,
            "ProConnect n’est pas configurée sur cette instance",
        )
        .await;
    }
    let res = app
        .oneshot(Request::get("/connexion").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert!(!body(res).await.contains("/auth/proconnect"));
}

#[tokio::test]
async fn starting_logins_is_limited_per_address() {
    let policy = svc::Policy {
        ip_attempts: 3,
        ..svc::Policy::default()
    };
    let h = harness_on(Provider::start(0, REDIRECT_URI, &[]), policy).await;
    for _ in 0..3 {
        let res = h.get("/auth/proconnect?suite=/compte").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let res = h.get("/auth/proconnect?suite=/compte").await;
    assert_eq!(res.headers()[header::RETRY_AFTER], "900");
    assert_refused(
        res,
        StatusCode::TOO_MANY_REQUESTS,
        "Trop de tentatives de connexion depuis votre réseau : réessayez dans 15 minutes.",
    )
    .await;
    // Refused before anything is recorded: three logins under way, not four.
    let pending =
        relais_store::oidc_client::purge_expired(&h.t.db, relais_domain::calendrier::now_ms() + 1)
            .await
            .unwrap();
    assert_eq!(pending, 3);
}

#[tokio::test]
async fn provider_metadata_is_reused_between_logins() {
    let mut h = harness().await;
    h.account("mediateur@exemple.fr", Some(Role::Mediateur))
        .await;
    h.user("sub-mediateur", "mediateur@exemple.fr").await;
    let res = h.login().await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let callback = h.authorize("/compte").await;
    h.provider.child.kill().unwrap();
    h.provider.child.wait().unwrap();
    // The provider gone, a login still starts: the authorization endpoint comes from the
    // copy of the discovery document, not from a new fetch.
    let res = h.get("/auth/proconnect?suite=/compte").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(location(&res).starts_with(&h.provider.issuer));
    // It is really gone: the code exchange, which needs it, fails.
    let res = h.get(&callback).await;
    assert_refused(res, StatusCode::BAD_GATEWAY, "ProConnect est injoignable").await;
}

#[tokio::test]
async fn new_signing_key_is_fetched_once_unknown() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut h = harness_on(
        Provider::start(port, REDIRECT_URI, &[]),
        svc::Policy::default(),
    )
    .await;
    h.account("mediateur@exemple.fr", Some(Role::Mediateur))
        .await;
    h.user("sub-mediateur", "mediateur@exemple.fr").await;
    assert_eq!(h.login().await.status(), StatusCode::SEE_OTHER);
    // The provider restarts on the same address with a new key (new kid): the cached keys
    // do not know it, so they are fetched again and the login goes through.
    h.provider.child.kill().unwrap();
    h.provider.child.wait().unwrap();
    h.provider = Provider::start(port, REDIRECT_URI, &[]);
    // Let the pooled connections to the old process see it closed.
    tokio::time::sleep(Duration::from_millis(100)).await;
    h.user("sub-mediateur", "mediateur@exemple.fr").await;
    let res = h.login().await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", location(&res));
    assert_eq!(location(&res), "/compte");
    assert!(session_token(&res).is_some());
}
