//! `GET /api/v1/journal/checkpoints` on both backends: public, paged, oldest first, and
//! each checkpoint's signature checks with the key it names.

use crate::common;
use common::*;

use axum::http::StatusCode;
use relais_domain::journal::checkpoint::{Checkpoint, SigningKey};
use relais_domain::journal::{JournalAction, NewEntry};
use relais_store::journal;
use relais_testkit::TestDb;
use serde_json::Value;

#[tokio::test]
async fn checkpoints_are_published_on_sqlite() {
    let t = TestDb::sqlite().await;
    checkpoints_are_published(&t).await;
    t.cleanup().await;
}

#[tokio::test]
async fn checkpoints_are_published_on_postgres() {
    let t = TestDb::postgres().await;
    checkpoints_are_published(&t).await;
    t.cleanup().await;
}

async fn get(app: &axum::Router, path: &str) -> (StatusCode, Value) {
    let res = send(app, "GET", path, "", "").await;
    let status = res.status();
    (status, serde_json::from_str(&body(res).await).unwrap())
}

async fn checkpoints_are_published(t: &TestDb) {
    let app = app(t).await;
    assert_eq!(
        get(&app, "/api/v1/journal/checkpoints").await,
        (StatusCode::OK, serde_json::json!({ "points": [] }))
    );
    let key = SigningKey::from_seed(&[3; 32]);
    for i in 0..3 {
        let mut tx = t.db.begin().await.unwrap();
        let e = NewEntry::new(JournalAction::PersonInvited, "personne", i.to_string());
        journal::append(&mut tx, &e).await.unwrap();
        tx.commit().await.unwrap();
        journal::checkpoint(&t.db, &key, 1_000 + i).await.unwrap();
    }
    let (status, page) = get(&app, "/api/v1/journal/checkpoints?limite=2").await;
    assert_eq!(status, StatusCode::OK);
    let points: Vec<Checkpoint> = serde_json::from_value(page["points"].clone()).unwrap();
    assert_eq!(points.iter().map(|c| c.seq).collect::<Vec<_>>(), [1, 2]);
    assert!(points.iter().all(Checkpoint::signature_valid));
    assert_eq!(points[0].public_key, key.public_key().to_base64());
    assert_eq!(page["suivant"], "2");
    let (_, last) = get(&app, "/api/v1/journal/checkpoints?limite=2&curseur=2").await;
    assert_eq!(last["points"][0]["numero"], 3);
    assert_eq!(last.get("suivant"), None);
    for bad in [
        "limite=0",
        "limite=1001",
        "curseur=-1",
        "curseur=abc",
        "curseur=99999999999999999999",
        "limite=x",
    ] {
        let res = send(
            &app,
            "GET",
            &format!("/api/v1/journal/checkpoints?{bad}"),
            "",
            "",
        )
        .await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{bad}"
        );
    }
}
