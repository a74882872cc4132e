//! Relais as OpenID Connect provider, judged by two unmodified client libraries acting as the
//! démarche: npm openid-client (testsupport/oidc/demarche.mjs) and PyPI authlib
//! (testsupport/oidc/demarche.py). Relais listens on 127.0.0.1; this test plays the aidant's
//! browser (the choice of the usager) and changes the world between steps (a revoked
//! démarche, an expired mandate, an aged code); each library does its part of the flow and
//! must succeed, or refuse, as the case says.

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;

use relais_domain::authz::{Actor, Membership};
use relais_domain::comptes::sessions::Stage;
use relais_domain::comptes::{Role, StructureKind};
use relais_domain::ids::{AutorisationId, PersonId, StructureId};
use relais_domain::journal::JournalAction;
use relais_domain::mandats::{Demande, Demarche, cle_usager, modele};
use relais_domain::territoires::Territoires;
use relais_search::TerritoryIndex;
use relais_services::comptes::Policy;
use relais_services::lieux::recherche::{Lieux, Recherche};
use relais_services::mandats::{self as mandats, Consentement};
use relais_store::journal::{self, JournalFilter};
use relais_store::mandats::Identite;
use relais_testkit::TestDb;
use relais_testkit::fixtures::{grant, person, structure};
use relais_web::{AppState, WebConfig, router};
use serde_json::{Value, json};

use crate::common::{CSRF, cookie_of};
use crate::oidc_peer::harness_dir;

const REDIRECT: &str = "http://127.0.0.1:9/demarche/retour";

/// One of the two libraries.
#[derive(Clone, Copy, Debug)]
enum Library {
    OpenidClient,
    Authlib,
}

impl Library {
    fn run(self, command: &str, params: &Value) -> Value {
        let dir = harness_dir();
        let mut cmd = match self {
            Library::OpenidClient => {
                let mut c = Command::new("node");
                c.arg(dir.join("demarche.mjs"));
                c
            }
            Library::Authlib => {
                let mut c = Command::new("python3");
                c.arg(dir.join("demarche.py"));
                c
            }
        };
        let out = cmd
            .arg(command)
            .arg(params.to_string())
            .output()
            .expect("node and python3 must be installed (scripts/test installs the libraries)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(stdout.lines().last().unwrap_or("")).unwrap_or_else(|_| {
            panic!(
                "{self:?} {command}: no JSON answer\nstdout: {stdout}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }
}

struct World {
    t: TestDb,
    base: String,
    http: reqwest::Client,
    cookie: String,
    client_id: String,
    client_secret: String,
    /// The « social » authorization of the usager in the aidant's structure.
    social: AutorisationId,
    /// The « social » authorization of another structure's usager.
    elsewhere: AutorisationId,
}

async fn mandate(
    db: &relais_store::Db,
    aidant: PersonId,
    s: StructureId,
    sub: &str,
    family_name: &str,
    codes: &[&str],
) -> AutorisationId {
    let access = Actor {
        person_id: aidant,
        memberships: vec![Membership {
            structure: s,
            role: Role::Aidant,
        }],
        global_roles: Vec::new(),
        acting_structure: Some(s),
    }
    .structure(s, &[Role::Aidant])
    .unwrap();
    let all: BTreeSet<Demarche> = Demarche::ALL.into_iter().collect();
    let demande = Demande::new(s, aidant, codes, "mois", &all).unwrap();
    let consentement = Consentement {
        cle: cle_usager(b"un sel de test de trente-deux octets !!", sub),
        identite: Identite {
            given_name: "Dominique Marie".into(),
            family_name: family_name.into(),
            birthdate: "1948-06-21".into(),
            birthplace: Some("42218".into()),
            birthcountry: Some("99100".into()),
            gender: Some("female".into()),
            email: Some("dominique@exemple.fr".into()),
        },
    };
    let now = relais_domain::calendrier::now_ms();
    let m = mandats::creer(db, &access, &demande, &consentement, &modele(), now)
        .await
        .unwrap();
    let all = relais_store::mandats::autorisations_du_mandat(db, m.id)
        .await
        .unwrap();
    all.iter()
        .find(|a| a.autorisation.demarche == Demarche::Social)
        .unwrap()
        .id
}

async fn world() -> World {
    let t = TestDb::sqlite().await;
    relais_testkit::seed_commune(&t.db).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router(AppState {
        db: t.db.clone(),
        policy: Policy::default(),
        territoires: Arc::new(TerritoryIndex::build(Territoires::default())),
        config: WebConfig {
            public_url: base.clone(),
            ..WebConfig::default()
        },
        lieux: Arc::new(Lieux::new(Recherche::empty())),
        proconnect: None,
        franceconnect: None,
        activites: Default::default(),
    });
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let now = relais_domain::calendrier::now_ms();
    mandats::fournisseur::tourner_cles(&t.db, now)
        .await
        .unwrap();

    let s = structure(
        &t.db,
        "21420218600018",
        "CCAS de Saint-Étienne",
        StructureKind::Collectivite,
    )
    .await;
    let other = structure(
        &t.db,
        "13002526500013",
        "Médiathèque",
        StructureKind::Collectivite,
    )
    .await;
    let aidant = person(&t.db, "aidante@exemple.fr", "Inès", "Roux").await;
    let other_aidant = person(&t.db, "autre@exemple.fr", "Sam", "Autre").await;
    grant(&t.db, aidant, s, Role::Aidant).await;
    grant(&t.db, other_aidant, other, Role::Aidant).await;
    let social = mandate(&t.db, aidant, s, "fc-1", "Lefèvre", &["social", "papiers"]).await;
    let elsewhere = mandate(&t.db, other_aidant, other, "fc-2", "Martin", &["social"]).await;
    let client = mandats::fournisseur::enregistrer_client(
        &t.db,
        None,
        "Démarche de test",
        REDIRECT,
        &["social", "papiers"],
        now,
    )
    .await
    .unwrap();
    let cookie = cookie_of(&t.db, aidant, Stage::Active, true).await;
    World {
        t,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base,
        cookie,
        client_id: client.client_id,
        client_secret: client.secret,
        social,
        elsewhere,
    }
}

/// What a library's `start` gave.
struct Started {
    url: String,
    verifier: String,
    state: String,
    nonce: String,
}

impl World {
    fn params(&self, extra: Value) -> Value {
        let mut p = json!({
            "issuer": format!("{}/oidc", self.base),
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "redirect_uri": REDIRECT,
            "scope": "openid social given_name family_name birthdate",
        });
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        p
    }

    fn start(&self, lib: Library, extra: Value) -> Started {
        let s = lib.run("start", &self.params(extra));
        let text = |k: &str| {
            s[k].as_str()
                .unwrap_or_else(|| panic!("{lib:?} start: {s}"))
                .to_string()
        };
        Started {
            url: text("url"),
            verifier: text("code_verifier"),
            state: text("state"),
            nonce: text("nonce"),
        }
    }

    /// The aidant's browser at `/oidc/authorize`: the page, then the choice of `autorisation`.
    /// Returns where Relais sends the browser (the démarche's callback), or the status of a
    /// refusal with no redirect.
    async fn choose(&self, url: &str, autorisation: AutorisationId) -> Result<String, u16> {
        let page = self
            .http
            .get(url)
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        if let Some(to) = page.headers().get("location") {
            return Ok(to.to_str().unwrap().to_string());
        }
        if page.status() != 200 {
            return Err(page.status().as_u16());
        }
        let query = url.split_once('?').unwrap().1;
        let mut form: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        form.push(("csrf".into(), CSRF.into()));
        form.push(("autorisation".into(), autorisation.to_string()));
        let res = self
            .http
            .post(format!("{}/oidc/authorize", self.base))
            .header("cookie", &self.cookie)
            .header("origin", &self.base)
            .form(&form)
            .send()
            .await
            .unwrap();
        match res.headers().get("location") {
            Some(to) if res.status() == 303 => Ok(to.to_str().unwrap().to_string()),
            _ => Err(res.status().as_u16()),
        }
    }

    fn exchange(&self, lib: Library, s: &Started, callback: &str, extra: Value) -> Value {
        let mut p = json!({
            "callback": callback,
            "code_verifier": s.verifier,
            "state": s.state,
            "nonce": s.nonce,
        });
        for (k, v) in extra.as_object().unwrap() {
            p[k] = v.clone();
        }
        lib.run("exchange", &self.params(p))
    }

    fn userinfo(&self, lib: Library, token: &str, sub: &str) -> Value {
        lib.run(
            "userinfo",
            &self.params(json!({"access_token": token, "sub": sub})),
        )
    }

    /// A whole login for the « social » authorization: the library's tokens and claims.
    async fn login(&self, lib: Library) -> (Started, String, Value) {
        let s = self.start(lib, json!({}));
        let callback = self.choose(&s.url, self.social).await.unwrap();
        let done = self.exchange(lib, &s, &callback, json!({}));
        assert_eq!(done["ok"], true, "{lib:?}: {done}");
        (s, callback, done)
    }

    async fn journal(&self, action: JournalAction) -> usize {
        let filter = JournalFilter {
            action: Some(action),
            ..JournalFilter::default()
        };
        journal::list(&self.t.db, &filter, 1000)
            .await
            .unwrap()
            .len()
    }
}

fn refused(answer: &Value, lib: Library, case: &str) {
    assert_eq!(answer["ok"], false, "{lib:?} {case}: accepted: {answer}");
}

async fn every_case(lib: Library) {
    let w = world().await;

    // A full login: the ID token names the aidant, the structure and the démarche; userinfo
    // gives the usager's identity, with the same pairwise sub.
    let (s, callback, done) = w.login(lib).await;
    let claims = &done["claims"];
    assert_eq!(claims["aidant"], "Inès Roux", "{lib:?}: {claims}");
    assert_eq!(claims["structure_siret"], "21420218600018");
    assert_eq!(claims["demarche"], "social");
    assert_eq!(claims["iss"], format!("{}/oidc", w.base));
    let sub = claims["sub"].as_str().unwrap().to_string();
    let token = done["access_token"].as_str().unwrap().to_string();
    let info = w.userinfo(lib, &token, &sub);
    assert_eq!(info["ok"], true, "{lib:?}: {info}");
    assert_eq!(info["claims"]["family_name"], "Lefèvre");
    assert_eq!(info["claims"]["birthdate"], "1948-06-21");
    assert!(
        info["claims"].get("email").is_none(),
        "email was not asked: {info}"
    );
    assert_eq!(w.journal(JournalAction::MandatUsed).await, 1);

    // The same code again: refused, the tokens it gave are revoked, journaled.
    let replay = w.exchange(lib, &s, &callback, json!({}));
    refused(&replay, lib, "replayed code");
    assert_eq!(replay["error"], "invalid_grant", "{lib:?}: {replay}");
    refused(
        &w.userinfo(lib, &token, &sub),
        lib,
        "token of a replayed code",
    );
    assert_eq!(w.journal(JournalAction::CodeReplayRefused).await, 1);

    // A redirect URI that is not registered, or only starts like one: no redirect at all.
    for bad in [
        format!("{REDIRECT}/../vol"),
        format!("{REDIRECT}x"),
        "http://127.0.0.1:9/demarche".to_string(),
    ] {
        let s = w.start(lib, json!({ "redirect_uri": bad }));
        assert_eq!(w.choose(&s.url, w.social).await, Err(400), "{lib:?} {bad}");
    }

    // Without the PKCE verifier, or with another one.
    let s = w.start(lib, json!({}));
    let cb = w.choose(&s.url, w.social).await.unwrap();
    let none = w.exchange(lib, &s, &cb, json!({"code_verifier": null}));
    refused(&none, lib, "no verifier");
    assert_eq!(none["error"], "invalid_grant", "{lib:?}: {none}");
    let s = w.start(lib, json!({}));
    let cb = w.choose(&s.url, w.social).await.unwrap();
    let other = "x".repeat(43);
    let wrong = w.exchange(lib, &s, &cb, json!({ "code_verifier": other }));
    refused(&wrong, lib, "wrong verifier");
    assert_eq!(wrong["error"], "invalid_grant", "{lib:?}: {wrong}");

    // A wrong client secret.
    let s = w.start(lib, json!({}));
    let cb = w.choose(&s.url, w.social).await.unwrap();
    let bad = w.exchange(lib, &s, &cb, json!({"client_secret": "pas-le-bon-secret"}));
    refused(&bad, lib, "wrong secret");
    assert_eq!(bad["error"], "invalid_client", "{lib:?}: {bad}");

    // An expired code (older than 60 s).
    let s = w.start(lib, json!({}));
    let cb = w.choose(&s.url, w.social).await.unwrap();
    w.t.db
        .execute_admin(
            "UPDATE codes_oidc SET created_at = created_at - 61000 WHERE used_at IS NULL",
        )
        .await
        .unwrap();
    let old = w.exchange(lib, &s, &cb, json!({}));
    refused(&old, lib, "expired code");
    assert_eq!(old["error"], "invalid_grant", "{lib:?}: {old}");

    // A scope the client may not ask: sent back as an error, no code.
    let s = w.start(lib, json!({"scope": "openid argent"}));
    let cb = w.choose(&s.url, w.social).await.unwrap();
    assert!(cb.contains("error=invalid_scope"), "{cb}");
    refused(
        &w.exchange(lib, &s, &cb, json!({})),
        lib,
        "scope not allowed",
    );

    // Another structure's usager: the aidant cannot choose them.
    let s = w.start(lib, json!({}));
    assert_eq!(
        w.choose(&s.url, w.elsewhere).await,
        Err(200),
        "{lib:?}: the page comes back with an error, no code"
    );

    // A tampered ID token: the library refuses it.
    let s = w.start(lib, json!({}));
    let cb = w.choose(&s.url, w.social).await.unwrap();
    refused(
        &w.exchange(lib, &s, &cb, json!({"tamper": true})),
        lib,
        "tampered ID token",
    );

    // The usager ends « social » in their space (the two clicks): the démarche's next
    // userinfo is refused, and the aidant is not offered the usager any more.
    let (_, _, done) = w.login(lib).await;
    let token = done["access_token"].as_str().unwrap().to_string();
    let usager = relais_store::mandats::fournisseur::utilisable(&w.t.db, w.social)
        .await
        .unwrap()
        .unwrap()
        .autorisation
        .usager;
    let now = relais_domain::calendrier::now_ms();
    let space = mandats::espace::ouvrir_session(&w.t.db, usager, now)
        .await
        .unwrap();
    let cookie = format!("relais_csrf={CSRF}; relais_usager={space}");
    let end = format!("{}/usager/autorisations/{}/fin", w.base, w.social);
    let question = w
        .http
        .get(&end)
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(question.status(), 200);
    let res = w
        .http
        .post(&end)
        .header("cookie", &cookie)
        .header("origin", &w.base)
        .form(&[("csrf", CSRF)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["location"], "/usager?fait=fin");
    refused(&w.userinfo(lib, &token, &sub), lib, "revoked démarche");
    let s = w.start(lib, json!({}));
    assert_eq!(
        w.choose(&s.url, w.social).await,
        Err(200),
        "{lib:?}: a revoked démarche is not offered"
    );

    // An expired mandate (« papiers » still in force, then past its end).
    let s = w.start(lib, json!({"scope": "openid papiers"}));
    let papiers = relais_store::mandats::autorisations_de_l_usager(&w.t.db, usager)
        .await
        .unwrap()
        .into_iter()
        .find(|a| a.autorisation.demarche == Demarche::Papiers)
        .unwrap()
        .id;
    let cb = w.choose(&s.url, papiers).await.unwrap();
    let done = w.exchange(lib, &s, &cb, json!({}));
    assert_eq!(done["ok"], true, "{lib:?}: {done}");
    w.t.db
        .execute_admin(&format!(
            "UPDATE autorisations SET fin = 1 WHERE id = {papiers}"
        ))
        .await
        .unwrap();
    let token = done["access_token"].as_str().unwrap();
    let sub = done["claims"]["sub"].as_str().unwrap();
    refused(&w.userinfo(lib, token, sub), lib, "expired mandate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openid_client_logs_in_and_every_refusal_holds() {
    every_case(Library::OpenidClient).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_logs_in_and_every_refusal_holds() {
    every_case(Library::Authlib).await;
}
