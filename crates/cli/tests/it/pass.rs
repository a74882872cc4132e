//! `kill -9` during a burst of pass redemptions through the devices' API, on both
//! backends: after a restart, every use the server acknowledged is in the ledger, none is
//! there twice, and each device replaying its queue (same keys) gets the first answer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use relais_domain::comptes::sessions::Stage;
use relais_domain::ids::StructureId;
use relais_services::comptes as comptes_svc;
use relais_store::Db;
use relais_testkit::TestDb;

use crate::common::{Server, relais};

const CSRF: &str = "0123456789abcdef0123456789abcdef";
const DEVICES: usize = 8;

/// What a device knows of a use it sent: acknowledged, or sent with no answer (the
/// server died meanwhile).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Sent {
    Acknowledged,
    NoAnswer,
}

/// The circuit, 2,000 passes, a mediator's session: (structure, cookie, codes).
async fn seed(db: &Db) -> (StructureId, String, Vec<String>) {
    // Every territory, as `relais serve` would load them on an empty base.
    relais_services::territoires::ensure_loaded(db)
        .await
        .unwrap();
    let now = relais_domain::calendrier::now_ms();
    let c = relais_testkit::pass::circuit(db, now, 2_000_000).await;
    c.qualifier(db, now).await;
    let codes = c.emettre(db, 400, now).await;
    let client = comptes_svc::Client {
        ip: "127.0.0.1".into(),
        user_agent: "essai".into(),
    };
    let opened = comptes_svc::open_session(db, c.mediateur.person(), Stage::Active, &client)
        .await
        .unwrap();
    let cookie = format!("relais_csrf={CSRF}; relais_session={}", opened.token);
    (c.mediateur.structure(), cookie, codes)
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    cookie: &str,
    code: &str,
    cle: &str,
) -> reqwest::Result<(u16, String)> {
    let r = http
        .post(url)
        .header("cookie", cookie)
        .header("x-csrf-token", CSRF)
        .json(&serde_json::json!({ "code": code, "cle": cle, "service": "atelier_collectif" }))
        .send()
        .await?;
    let status = r.status().as_u16();
    Ok((status, r.text().await?))
}

fn cle(i: usize) -> String {
    format!("appareil-cle-{i:08}")
}

/// Devices send uses until the server dies; it is killed once 40 were acknowledged.
async fn burst(server: Server, url: &str, cookie: &str, codes: &[String]) -> Vec<Option<Sent>> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let acknowledged = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for d in 0..DEVICES {
        let (http, url, cookie, codes, acknowledged) = (
            http.clone(),
            url.to_string(),
            cookie.to_string(),
            codes.to_vec(),
            acknowledged.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut sent = Vec::new();
            for i in (d..codes.len()).step_by(DEVICES) {
                match post(&http, &url, &cookie, &codes[i], &cle(i)).await {
                    Ok((200, _)) => {
                        sent.push((i, Sent::Acknowledged));
                        acknowledged.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok((status, body)) => panic!("{status} {body}"),
                    Err(e) => {
                        eprintln!("appareil {d}, après l’arrêt : {e}");
                        sent.push((i, Sent::NoAnswer));
                        break;
                    }
                }
            }
            sent
        }));
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while acknowledged.load(Ordering::Relaxed) < 40 {
        assert!(
            std::time::Instant::now() < deadline && tasks.iter().all(|t| !t.is_finished()),
            "the burst ended before 40 acknowledged uses"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.kill();
    let mut state = vec![None; codes.len()];
    for task in tasks {
        for (i, s) in task.await.unwrap() {
            state[i] = Some(s);
        }
    }
    state
}

/// `serve` starts Relais on `db`; `open` opens it again once Relais has stopped.
async fn kill_9_during_a_burst(serve: impl Fn() -> Server, open: impl AsyncFn() -> Db, db: Db) {
    let (structure, cookie, codes) = seed(&db).await;
    db.close().await;
    let url_of = |server: &Server| {
        format!(
            "http://{}/api/v1/structures/{structure}/pass/utilisations",
            server.addr
        )
    };
    let server = serve();
    let url = url_of(&server);
    let state = burst(server, &url, &cookie, &codes).await;
    let acknowledged = state
        .iter()
        .filter(|s| **s == Some(Sent::Acknowledged))
        .count();
    assert!(acknowledged >= 40, "{acknowledged}");
    assert!(
        acknowledged < codes.len(),
        "the server died after the burst, not during it"
    );

    // After a restart, each device replays what it sent: the same answer for each use, and
    // a new attempt on any of them is told the pass was used.
    let server = serve();
    let url = url_of(&server);
    let http = reqwest::Client::new();
    let mut used = 0;
    for (i, s) in state.iter().enumerate() {
        let Some(s) = s else { continue };
        let (status, body) = post(&http, &url, &cookie, &codes[i], &cle(i))
            .await
            .unwrap();
        assert_eq!(status, 200, "{s:?} {i}: {body}");
        let (status, body) = post(&http, &url, &cookie, &codes[i], "une-autre-cle-0000")
            .await
            .unwrap();
        assert_eq!(status, 409, "{s:?} {i}: {body}");
        assert!(body.contains("\"deja_utilise\""), "{body}");
        used += 1;
    }
    let (ok, err) = server.terminate();
    assert!(ok, "{err}");
    // The ledger holds each of them once, with the key its device drew.
    let db = open().await;
    let ledger = relais_store::pass::uses_between(&db, i64::MIN, i64::MAX, None, None)
        .await
        .unwrap();
    assert_eq!(ledger.len(), used);
    for (i, s) in state.iter().enumerate() {
        let vu = relais_store::pass::pass_vu(&db, &codes[i], structure, None)
            .await
            .unwrap()
            .unwrap();
        let recorded = vu.usage.map(|u| u.cle);
        assert_eq!(recorded, s.map(|_| cle(i)), "{i}");
    }
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_a_burst_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("donnees");
    let db = Db::open_data_dir(&data).await.unwrap();
    db.migrate().await.unwrap();
    let serve = || {
        Server::start(
            relais()
                .args([
                    "serve",
                    "--demo",
                    "false",
                    "--taches",
                    "false",
                    "--dossier-donnees",
                ])
                .arg(&data)
                .env("RELAIS_TRACES_REQUETES", "non"),
        )
    };
    kill_9_during_a_burst(serve, async || Db::open_data_dir(&data).await.unwrap(), db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_a_burst_on_postgres() {
    let t = TestDb::postgres().await;
    let url = t.url.clone();
    let serve = || {
        Server::start(
            relais()
                .args([
                    "serve", "--demo", "false", "--taches", "false", "--base", &url,
                ])
                .env("RELAIS_AUTORISER_SUPERUTILISATEUR", "true")
                .env("RELAIS_TRACES_REQUETES", "non"),
        )
    };
    kill_9_during_a_burst(
        serve,
        async || Db::connect(&url).await.unwrap(),
        t.db.clone(),
    )
    .await;
    t.cleanup().await;
}
