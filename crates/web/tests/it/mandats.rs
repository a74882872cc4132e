//! Creating a mandate in the browser's steps, with FranceConnect played by a real OpenID
//! Connect provider (testsupport/oidc, `--profile franceconnect`): the success path, the
//! printed mandate, and FranceConnect's failures (unknown state, bad nonce, bad signature,
//! another person's draft).

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;
use relais_domain::comptes::sessions::Stage;
use relais_domain::comptes::{Role, StructureKind};
use relais_domain::ids::StructureId;
use relais_domain::journal::JournalAction;
use relais_domain::mandats::cle_usager;
use relais_domain::territoires::Territoires;
use relais_domain::totp;
use relais_search::TerritoryIndex;
use relais_services::comptes::{self as svc, Client, Policy};
use relais_services::lieux::recherche::{Lieux, Recherche};
use relais_services::mandats::franceconnect::FranceConnect;
use relais_services::oidc_client::{OidcClient, OidcConfig};
use relais_store::journal::{self, JournalFilter};
use relais_testkit::TestDb;
use relais_testkit::fixtures::{grant, person, structure};
use relais_web::{AppState, WebConfig, router};

use crate::common::{CSRF, HOST, body, cookie_of, form, location, send, session_cookie};
use crate::oidc_peer::{CLIENT_ID, CLIENT_SECRET, Provider};

const REDIRECT_URI: &str = "https://relais.exemple.fr/auth/franceconnect/callback";
const SEL: &[u8] = b"le sel des usagers pour les essais, 32+";

struct Harness {
    provider: Provider,
    app: Router,
    http: reqwest::Client,
    t: TestDb,
    structure: StructureId,
    /// The aidant's cookies, and their TOTP secret.
    cookie: String,
    secret: Vec<u8>,
}

async fn harness() -> Harness {
    let provider = Provider::start(0, REDIRECT_URI, &["--profile", "franceconnect"]);
    let t = TestDb::sqlite().await;
    relais_testkit::seed_commune(&t.db).await;
    let s = structure(
        &t.db,
        "21420218600018",
        "CCAS de Saint-Étienne",
        StructureKind::Collectivite,
    )
    .await;
    let aidant = person(&t.db, "aidante@exemple.fr", "Inès", "Roux").await;
    grant(&t.db, aidant, s, Role::Aidant).await;
    let (cookie, secret) = enrolled(&t, aidant).await;
    let client = OidcClient::new(OidcConfig {
        issuer: provider.issuer.clone(),
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        redirect_uri: REDIRECT_URI.into(),
    })
    .unwrap();
    let app = router(AppState {
        db: t.db.clone(),
        policy: Policy::default(),
        territoires: Arc::new(TerritoryIndex::build(Territoires::default())),
        config: WebConfig {
            public_url: format!("https://{HOST}"),
            ..WebConfig::default()
        },
        lieux: Arc::new(Lieux::new(Recherche::empty())),
        proconnect: None,
        franceconnect: Some(Arc::new(FranceConnect::new(client, SEL.to_vec()).unwrap())),
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
        structure: s,
        cookie,
        secret,
    }
}

/// An active session of `person` with a second factor enrolled: the cookies and the secret.
async fn enrolled(t: &TestDb, person: relais_domain::ids::PersonId) -> (String, Vec<u8>) {
    let client = Client {
        ip: "test".into(),
        user_agent: "test".into(),
    };
    let opened = svc::open_session(&t.db, person, Stage::Enrolment, &client)
        .await
        .unwrap();
    let session = svc::resolve_session(&t.db, &Policy::default(), &opened.token)
        .await
        .unwrap()
        .unwrap();
    let (secret, _) = svc::begin_enrolment(&t.db, &session).await.unwrap();
    let enrolled = svc::confirm_enrolment(&t.db, &Policy::default(), &session, &code(&secret, 0))
        .await
        .unwrap();
    (
        format!("relais_csrf={CSRF}; relais_session={}", enrolled.token),
        secret,
    )
}

/// The app's code `ahead` steps after now (each code serves once).
fn code(secret: &[u8], ahead: i64) -> String {
    let step = totp::step_of(relais_domain::calendrier::now_ms() / 1000) + ahead;
    format!("{:06}", totp::code_at_step(secret, step))
}

impl Harness {
    fn path(&self, rest: &str) -> String {
        format!("/structures/{}/mandats{rest}", self.structure)
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

    /// The choice posted, the draft's button, then FranceConnect's hops: the callback's
    /// path and query.
    async fn identify(&self, cookie: &str) -> String {
        let res = send(
            &self.app,
            "POST",
            &self.path("/nouveau"),
            cookie,
            &form(&[
                ("demarche", "social"),
                ("demarche", "papiers"),
                ("duree", "mois"),
            ]),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let draft = location(&res);
        assert!(draft.starts_with(&self.path("/brouillons/")), "{draft}");
        let page = self.get(&draft, cookie).await;
        let button = format!("{draft}/franceconnect");
        assert_page(page, StatusCode::OK, &format!("href=\"{button}\"")).await;
        let res = self.get(&button, cookie).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let url = location(&res);
        assert!(url.starts_with(&self.provider.issuer), "{url}");
        for part in [
            "code_challenge_method=S256",
            "nonce=",
            "acr_values=eidas1",
            "birthdate",
        ] {
            assert!(url.contains(part), "{part} not in {url}");
        }
        self.back_to_relais(url).await
    }

    /// FranceConnect's hops from `url` until it sends back to Relais: that path and query.
    async fn back_to_relais(&self, mut url: String) -> String {
        for _ in 0..6 {
            if let Some(rest) = url.strip_prefix(&format!("https://{HOST}")) {
                return rest.to_string();
            }
            let res = self.http.get(&url).send().await.unwrap();
            assert_eq!(res.status().as_u16(), 303, "{url}");
            url = res.headers()["location"].to_str().unwrap().to_string();
        }
        panic!("FranceConnect never sent back to Relais");
    }

    async fn get(&self, path: &str, cookie: &str) -> Response {
        send(&self.app, "GET", path, cookie, "").await
    }
}

async fn assert_page(res: Response, status: StatusCode, text: &str) -> String {
    assert_eq!(res.status(), status, "{}", location(&res));
    let page = body(res).await.replace("&#x27;", "'").replace("&#39;", "'");
    assert!(page.contains(text), "{text:?} not in {page}");
    page
}

#[tokio::test]
async fn an_aidant_creates_a_mandate_with_the_usager_identified_by_franceconnect() {
    let h = harness().await;
    let page = h.get(&h.path("/nouveau"), &h.cookie).await;
    let page = assert_page(
        page,
        StatusCode::OK,
        "Identifier l’usager avec FranceConnect",
    )
    .await;
    assert!(page.contains("value=\"etranger\""));

    // Nothing chosen: said, and nothing sent to FranceConnect.
    let res = send(
        &h.app,
        "POST",
        &h.path("/nouveau"),
        &h.cookie,
        &form(&[("duree", "mois")]),
    )
    .await;
    assert_page(res, StatusCode::OK, "Choisissez au moins une démarche.").await;

    let callback = h.identify(&h.cookie).await;
    assert!(
        callback.starts_with("/auth/franceconnect/callback?"),
        "{callback}"
    );
    let res = h.get(&callback, &h.cookie).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let recap = location(&res);
    assert!(recap.starts_with(&h.path("/brouillons/")), "{recap}");
    // The callback served once.
    let again = h.get(&callback, &h.cookie).await;
    assert_page(
        again,
        StatusCode::BAD_REQUEST,
        "inconnue, a déjà servi ou a expiré",
    )
    .await;

    let page = h.get(&recap, &h.cookie).await;
    let page = assert_page(page, StatusCode::OK, "Lefèvre Dominique Marie").await;
    assert!(page.contains("21/06/1948"), "{page}");
    assert!(page.contains("Social"), "{page}");

    // Without the usager's consent, or with a wrong code: not signed, said.
    let res = send(
        &h.app,
        "POST",
        &recap,
        &h.cookie,
        &form(&[("code", &code(&h.secret, 1))]),
    )
    .await;
    assert_page(res, StatusCode::OK, "cochez la case").await;
    let res = send(
        &h.app,
        "POST",
        &recap,
        &h.cookie,
        &form(&[("consentement", "oui"), ("code", "000000")]),
    )
    .await;
    assert_page(res, StatusCode::OK, "Le mandat n’est pas signé").await;

    let res = send(
        &h.app,
        "POST",
        &recap,
        &h.cookie,
        &form(&[("consentement", "oui"), ("code", &code(&h.secret, 1))]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", body(res).await);
    let printed = location(&res);
    assert!(printed.ends_with("?fait=signe"), "{printed}");
    let cookie = format!(
        "relais_csrf={CSRF}; relais_session={}",
        session_cookie(&res)
    );

    // The usager is kept under the salted hash of their sub, never the sub itself.
    let usagers =
        h.t.db
            .query_admin("SELECT sub_hash || ' ' || family_name FROM usagers")
            .await
            .unwrap();
    assert_eq!(
        usagers,
        [format!(
            "{} Lefèvre",
            cle_usager(SEL, "franceconnect-usager-1")
        )]
    );
    let filter = JournalFilter {
        action: Some(JournalAction::MandatCreated),
        ..JournalFilter::default()
    };
    let created = journal::list(&h.t.db, &filter, 10).await.unwrap();
    assert_eq!(created.len(), 1);
    let details: serde_json::Value = serde_json::from_str(&created[0].content.details).unwrap();
    let empreinte = details["empreinte"].as_str().unwrap().to_string();

    // The printed mandate: two copies, the hash as text and QR code.
    let page = h.get(&printed, &cookie).await;
    let page = assert_page(page, StatusCode::OK, "Exemplaire de l’usager").await;
    assert!(page.contains("Exemplaire de la structure"));
    assert_eq!(page.matches(&empreinte).count(), 2, "{page}");
    assert_eq!(page.matches("<svg").count(), 2);
    let today = relais_domain::calendrier::date_fr(relais_domain::calendrier::now_ms());
    assert!(page.contains(&format!("du {today} au ")), "{page}");

    // The PDF, read by an independent reader (poppler): tagged, French, both copies, the hash.
    let pdf_path = printed.replace("?fait=signe", "/pdf");
    let res = h.get(&pdf_path, &cookie).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let bytes = axum::body::to_bytes(res.into_body(), 10 << 20)
        .await
        .unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &bytes).unwrap();
    let run = |tool: &str, args: &[&str]| {
        let out = std::process::Command::new(tool)
            .args(args)
            .arg(file.path())
            .args(if tool == "pdftotext" {
                &["-"][..]
            } else {
                &[][..]
            })
            .output()
            .unwrap_or_else(|_| {
                panic!("{tool} (poppler-utils) must be installed: scripts/test does it")
            });
        assert!(
            out.status.success(),
            "{tool}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let info = run("pdfinfo", &[]);
    assert!(info.contains("Tagged:          yes"), "{info}");
    assert!(info.contains("Pages:           2"), "{info}");
    assert!(info.contains("Title:           Mandat n° 1"), "{info}");
    let text = run("pdftotext", &["-layout"]);
    for part in [
        "Exemplaire de l’usager",
        "Exemplaire de la structure",
        "Lefèvre Dominique Marie",
        "Social, santé",
    ] {
        assert!(
            text.contains(part),
            "{part:?} not in the PDF's text:\n{text}"
        );
    }
    assert_eq!(text.matches(&empreinte).count(), 2, "{text}");

    // The draft is gone: a second signature creates nothing.
    let res = send(
        &h.app,
        "POST",
        &recap,
        &cookie,
        &form(&[("consentement", "oui"), ("code", &code(&h.secret, 2))]),
    )
    .await;
    assert_page(res, StatusCode::NOT_FOUND, "déjà signé").await;
    assert_eq!(journal::list(&h.t.db, &filter, 10).await.unwrap().len(), 1);

    // A renewal: the same usager, no FranceConnect step: straight to the signature.
    let mandat = printed
        .trim_end_matches("?fait=signe")
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let renew = h.path(&format!("/{mandat}/renouvellement"));
    let page = h.get(&renew, &cookie).await;
    let page = assert_page(
        page,
        StatusCode::OK,
        &format!("Renouveler le mandat n° {mandat}"),
    )
    .await;
    assert!(
        page.contains("value=\"social\" checked"),
        "the démarches in force are ticked"
    );
    let res = send(
        &h.app,
        "POST",
        &renew,
        &cookie,
        &form(&[("demarche", "social"), ("duree", "annee")]),
    )
    .await;
    let draft = location(&res);
    assert!(draft.starts_with(&h.path("/brouillons/")), "{draft}");
    let page = h.get(&draft, &cookie).await;
    assert_page(page, StatusCode::OK, "Lire et signer le mandat").await;

    // The structure's page lists it; the aidant cancels it (second factor fresh), journaled.
    let page = h.get(&h.path(""), &cookie).await;
    let page = assert_page(page, StatusCode::OK, "Lefèvre Dominique Marie").await;
    assert!(page.contains("en cours"), "{page}");
    let mandat = printed
        .trim_end_matches("?fait=signe")
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let cancel = h.path(&format!("/{mandat}/annulation"));
    let res = send(&h.app, "POST", &cancel, &cookie, &form(&[])).await;
    assert_eq!(location(&res), h.path("?fait=annule"));
    let page = h.get(&h.path("?fait=annule"), &cookie).await;
    assert_page(page, StatusCode::OK, "Le mandat est annulé").await;
    let cancelled = JournalFilter {
        action: Some(JournalAction::MandatCancelled),
        ..JournalFilter::default()
    };
    assert_eq!(
        journal::list(&h.t.db, &cancelled, 10).await.unwrap().len(),
        1
    );
    let again = send(&h.app, "POST", &cancel, &cookie, &form(&[])).await;
    assert_eq!(
        again.status(),
        StatusCode::NOT_FOUND,
        "nothing left to cancel"
    );
}

#[tokio::test]
async fn the_usager_reads_their_mandate_ends_a_demarche_and_downloads_their_data() {
    let h = harness().await;
    // A mandate first, through the aidant's steps.
    let callback = h.identify(&h.cookie).await;
    let recap = location(&h.get(&callback, &h.cookie).await);
    let res = send(
        &h.app,
        "POST",
        &recap,
        &h.cookie,
        &form(&[("consentement", "oui"), ("code", &code(&h.secret, 1))]),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // The usager alone, in another browser: the page to enter, then FranceConnect.
    let visitor = format!("relais_csrf={CSRF}");
    let page = h.get("/usager", &visitor).await;
    assert_page(page, StatusCode::OK, "Entrer avec FranceConnect").await;
    let res = h.get("/usager/connexion", &visitor).await;
    let callback = h.back_to_relais(location(&res)).await;
    let res = h.get(&callback, &visitor).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/usager");
    let token = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .find_map(|v| v.to_str().unwrap().strip_prefix("relais_usager="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .expect("the space's cookie");
    let cookie = format!("relais_csrf={CSRF}; relais_usager={token}");

    let page = h.get("/usager", &cookie).await;
    let page = assert_page(page, StatusCode::OK, "Mandat donné à CCAS de Saint-Étienne").await;
    assert!(page.contains("Social, santé"), "{page}");
    let end = page
        .split("href=\"")
        .filter_map(|p| p.split('"').next())
        .find(|href| href.starts_with("/usager/autorisations/"))
        .expect("a link to end a démarche")
        .to_string();

    // Two clicks: the question, then « Oui, arrêter ».
    let question = h.get(&end, &cookie).await;
    assert_page(question, StatusCode::OK, "arrête de faire les démarches").await;
    let res = send(&h.app, "POST", &end, &cookie, &form(&[])).await;
    assert_eq!(location(&res), "/usager?fait=fin");
    let page = h.get("/usager?fait=fin", &cookie).await;
    assert_page(page, StatusCode::OK, "vous l’avez arrêté le").await;
    // Once ended, nothing more to end.
    let again = send(&h.app, "POST", &end, &cookie, &form(&[])).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);

    // The data, as a file.
    let res = h.get("/usager/donnees.json", &cookie).await;
    assert_eq!(res.status(), StatusCode::OK);
    let data: serde_json::Value = serde_json::from_str(&body(res).await).unwrap();
    assert_eq!(data["identite"]["nom"], "Lefèvre");
    assert_eq!(data["mandats"].as_array().unwrap().len(), 1);
    let demarches = data["mandats"][0]["demarches"].as_array().unwrap();
    let ended: Vec<&str> = demarches
        .iter()
        .filter(|d| d["revoquee_le"].is_string())
        .map(|d| d["demarche"].as_str().unwrap())
        .collect();
    assert_eq!(ended.len(), 1, "one of the two démarches ended: {data}");
    assert!(end.ends_with("/fin") && demarches.len() == 2);

    // Someone FranceConnect knows but no mandate names: said, no session.
    h.control(
        "/__test/user",
        serde_json::json!({"sub": "inconnu", "given_name": "A", "family_name": "B", "birthdate": "1990-01-01"}),
    )
    .await;
    let res = h.get("/usager/connexion", &visitor).await;
    let callback = h.back_to_relais(location(&res)).await;
    let res = h.get(&callback, &visitor).await;
    assert_page(
        res,
        StatusCode::NOT_FOUND,
        "Aucun mandat n’a été établi à votre nom",
    )
    .await;
}

#[tokio::test]
async fn franceconnect_failures_are_refused_and_identify_no_one() {
    let h = harness().await;
    let refused = |res: Response, status, text: &'static str| async move {
        assert_page(res, status, text).await;
    };

    // A state Relais never sent.
    let res = h
        .get(
            "/auth/franceconnect/callback?code=abc&state=inconnu",
            &h.cookie,
        )
        .await;
    refused(
        res,
        StatusCode::BAD_REQUEST,
        "inconnue, a déjà servi ou a expiré",
    )
    .await;

    // Another person's session cannot complete the aidant's identification.
    let other = person(&h.t.db, "autre@exemple.fr", "Sam", "Autre").await;
    grant(&h.t.db, other, h.structure, Role::Aidant).await;
    let other_cookie = cookie_of(&h.t.db, other, Stage::Active, true).await;
    let callback = h.identify(&h.cookie).await;
    let res = h.get(&callback, &other_cookie).await;
    refused(
        res,
        StatusCode::BAD_REQUEST,
        "inconnue, a déjà servi ou a expiré",
    )
    .await;

    // An ID token with another nonce, or signed by another key.
    for mode in ["wrong_nonce", "bad_signature", "wrong_audience", "expired"] {
        h.control("/__test/mode", serde_json::json!({ "mode": mode }))
            .await;
        let callback = h.identify(&h.cookie).await;
        let res = h.get(&callback, &h.cookie).await;
        refused(res, StatusCode::FORBIDDEN, "n’a pas pu être vérifiée").await;
    }
    // FranceConnect's answer must come from FranceConnect (RFC 9207).
    h.control("/__test/mode", serde_json::json!({ "mode": "normal" }))
        .await;
    let callback = h.identify(&h.cookie).await;
    let forged = callback.replace("iss=", "iss=https%3A%2F%2Fevil.example&ancien=");
    let res = h.get(&forged, &h.cookie).await;
    refused(
        res,
        StatusCode::BAD_REQUEST,
        "ne vient pas de FranceConnect",
    )
    .await;

    let usagers =
        h.t.db
            .query_admin("SELECT sub_hash FROM usagers")
            .await
            .unwrap();
    assert!(usagers.is_empty(), "{usagers:?}");
    let identified =
        h.t.db
            .query_admin("SELECT sub_hash FROM mandat_brouillons WHERE sub_hash IS NOT NULL")
            .await
            .unwrap();
    assert!(identified.is_empty(), "{identified:?}");
}

#[tokio::test]
async fn without_franceconnect_no_mandate_can_be_started() {
    let t = TestDb::sqlite().await;
    let app = crate::common::app(&t).await;
    let s = structure(&t.db, "21420218600018", "CCAS", StructureKind::Collectivite).await;
    let aidant = person(&t.db, "aidante@exemple.fr", "Inès", "Roux").await;
    grant(&t.db, aidant, s, Role::Aidant).await;
    let cookie = cookie_of(&t.db, aidant, Stage::Active, true).await;
    let res = send(
        &app,
        "GET",
        &format!("/structures/{s}/mandats/nouveau"),
        &cookie,
        "",
    )
    .await;
    assert_page(
        res,
        StatusCode::NOT_FOUND,
        "FranceConnect n’est pas disponible ici",
    )
    .await;
}

#[tokio::test]
async fn an_administrator_registers_a_demarche_service_and_sees_its_secret_once() {
    let t = TestDb::sqlite().await;
    let app = crate::common::app(&t).await;
    let admin = person(&t.db, "admin@exemple.fr", "Ada", "Admin").await;
    svc::grant_global_role(
        &t.db,
        admin,
        relais_domain::comptes::GlobalRole::Administrateur,
        "",
        None,
    )
    .await
    .unwrap();
    let cookie = cookie_of(&t.db, admin, Stage::Active, true).await;
    // A bad address: said, what was typed kept.
    let res = send(
        &app,
        "POST",
        "/admin/services",
        &cookie,
        &form(&[
            ("nom", "Impôts"),
            ("redirections", "http://impots.example/retour"),
            ("demarche", "argent"),
        ]),
    )
    .await;
    let page = assert_page(
        res,
        StatusCode::OK,
        "une adresse https complète est attendue",
    )
    .await;
    assert!(page.contains("value=\"argent\" checked"));
    let res = send(
        &app,
        "POST",
        "/admin/services",
        &cookie,
        &form(&[
            ("nom", "Impôts"),
            ("redirections", "https://impots.example/retour"),
            ("demarche", "argent"),
        ]),
    )
    .await;
    let page = assert_page(res, StatusCode::OK, "Service enregistré").await;
    let secret = page
        .split("Secret (client_secret) : <code>")
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .unwrap()
        .to_string();
    let clients = relais_store::mandats::fournisseur::clients(&t.db)
        .await
        .unwrap();
    assert_eq!(clients.len(), 1);
    assert_eq!(
        clients[0].secret_hash,
        svc::sha256_hex(&secret),
        "only its hash is kept"
    );
    let list = send(&app, "GET", "/admin/services", &cookie, "").await;
    let list = assert_page(list, StatusCode::OK, "https://impots.example/retour").await;
    assert!(!list.contains(&secret), "the secret is shown once");
}
