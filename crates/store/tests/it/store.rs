//! Store tests, each run on SQLite and on PostgreSQL.

use relais_domain::territoires::*;
use relais_store::{Db, jobs, territoires};
use relais_testkit::{TestDb, store_tests};

store_tests!(
    migrations_are_idempotent,
    a_newer_schema_is_refused,
    territories_round_trip,
    failed_replace_keeps_previous_territories,
    job_lifecycle,
    stale_job_is_reclaimed,
    schedule_fires_once_per_due_time,
    finished_jobs_are_purged,
);

fn fixture() -> Territoires {
    let commune = |code: &str, nom: &str, parent: Option<&str>| Commune {
        code: CodeInsee::parse(code).unwrap(),
        nom: nom.into(),
        kind: if parent.is_some() {
            CommuneKind::ArrondissementMunicipal
        } else {
            CommuneKind::CommuneActuelle
        },
        commune_parent: parent.map(|p| CodeInsee::parse(p).unwrap()),
        departement: "69".into(),
        region: "84".into(),
        epci: parent.is_none().then(|| "200046977".to_string()),
        codes_postaux: vec![
            CodePostal::parse("69001").unwrap(),
            CodePostal::parse("69002").unwrap(),
        ],
        population: 520_774,
        position: Some(Point {
            lat: 45.7676,
            lon: 4.8351,
        }),
    };
    Territoires {
        regions: vec![Region {
            code: "84".into(),
            nom: "Auvergne-Rhône-Alpes".into(),
        }],
        departements: vec![Departement {
            code: "69".into(),
            nom: "Rhône".into(),
            region: "84".into(),
        }],
        epci: vec![Epci {
            code: "200046977".into(),
            nom: "Métropole de Lyon".into(),
            kind: "MET69".into(),
            population: 1_400_000,
        }],
        // The arrondissement comes first: the store must still insert its parent before it.
        communes: vec![
            commune("69381", "Lyon 1er Arrondissement", Some("69123")),
            commune("69123", "Lyon", None),
        ],
    }
}

async fn migrations_are_idempotent(db: Db) {
    assert_eq!(
        db.migrate().await.unwrap(),
        0,
        "a second run applies nothing"
    );
    db.ping().await.unwrap();
}

async fn a_newer_schema_is_refused(db: Db) {
    db.execute_admin(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
    )
    .await
    .unwrap();
    let err = db.migrate().await.unwrap_err();
    assert!(
        matches!(err, relais_store::StoreError::UnknownMigration(999)),
        "{err}"
    );
    assert!(err.to_string().contains("mettez Relais à jour"));
}

async fn territories_round_trip(db: Db) {
    assert_eq!(territoires::loaded_version(&db).await.unwrap(), None);
    let t = fixture();
    territoires::replace_all(&db, &t, "v1").await.unwrap();
    let back = territoires::load_all(&db).await.unwrap();
    let mut expected = t.clone();
    expected.communes.sort_by(|a, b| a.code.cmp(&b.code));
    assert_eq!(back, expected);
    territoires::replace_all(&db, &t, "v2").await.unwrap();
    assert_eq!(
        territoires::loaded_version(&db).await.unwrap().as_deref(),
        Some("v2")
    );
    assert_eq!(territoires::load_all(&db).await.unwrap().communes.len(), 2);
}

async fn failed_replace_keeps_previous_territories(db: Db) {
    territoires::replace_all(&db, &fixture(), "v1")
        .await
        .unwrap();
    let mut broken = fixture();
    broken.communes[1].departement = "99".into(); // no such département: foreign key refuses
    assert!(territoires::replace_all(&db, &broken, "v2").await.is_err());
    assert_eq!(
        territoires::loaded_version(&db).await.unwrap().as_deref(),
        Some("v1")
    );
    assert_eq!(territoires::load_all(&db).await.unwrap().communes.len(), 2);
}

async fn job_lifecycle(db: Db) {
    let now = 1_000_000;
    let due = jobs::enqueue(&db, "exemple", "{\"n\":1}", now - 10, 3)
        .await
        .unwrap();
    let later = jobs::enqueue(&db, "exemple", "{}", now + 60_000, 3)
        .await
        .unwrap();
    let job = jobs::claim(&db, "w1", now, now - 300_000)
        .await
        .unwrap()
        .expect("a due job");
    assert_eq!(
        (
            job.id,
            job.kind.as_str(),
            job.payload.as_str(),
            job.attempts
        ),
        (due, "exemple", "{\"n\":1}", 1)
    );
    assert_eq!(
        jobs::claim(&db, "w2", now, now - 300_000).await.unwrap(),
        None,
        "the other job is not due"
    );

    jobs::mark_failed(&db, due, "échec passager", Some(now + 1_000), now)
        .await
        .unwrap();
    assert_eq!(
        jobs::claim(&db, "w2", now + 500, now - 300_000)
            .await
            .unwrap(),
        None
    );
    let again = jobs::claim(&db, "w2", now + 1_000, now - 300_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.id, again.attempts), (due, 2));
    jobs::mark_done(&db, due, now + 1_001).await.unwrap();

    let last = jobs::claim(&db, "w1", now + 60_000, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(last.id, later);
    jobs::mark_failed(&db, later, "échec définitif", None, now + 60_001)
        .await
        .unwrap();
    let (status, attempts, error) = jobs::status(&db, later).await.unwrap().unwrap();
    assert_eq!(
        (status.as_str(), attempts, error.as_deref()),
        ("failed", 1, Some("échec définitif"))
    );
    assert_eq!(
        jobs::counts(&db).await.unwrap(),
        jobs::QueueCounts {
            queued: 0,
            running: 0,
            done: 1,
            failed: 1
        }
    );
}

async fn stale_job_is_reclaimed(db: Db) {
    let id = jobs::enqueue(&db, "exemple", "{}", 0, 3).await.unwrap();
    assert!(jobs::claim(&db, "mort", 1_000, 0).await.unwrap().is_some());
    // Still held by a live worker: not claimable.
    assert_eq!(jobs::claim(&db, "w2", 2_000, 500).await.unwrap(), None);
    // Its worker vanished: past the lease, another worker takes it over.
    let job = jobs::claim(&db, "w2", 400_000, 100_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((job.id, job.attempts), (id, 2));
}

async fn schedule_fires_once_per_due_time(db: Db) {
    jobs::upsert_schedule(&db, "purge", "0 3 * * *", 5_000)
        .await
        .unwrap();
    // Re-registering the same spec keeps the planned run.
    jobs::upsert_schedule(&db, "purge", "0 3 * * *", 9_999)
        .await
        .unwrap();
    assert_eq!(jobs::due_schedules(&db, 4_999).await.unwrap(), vec![]);
    assert_eq!(
        jobs::due_schedules(&db, 6_000).await.unwrap(),
        vec![("purge".to_string(), 5_000)]
    );
    assert!(
        jobs::fire_schedule(&db, "purge", 5_000, 90_000, 3)
            .await
            .unwrap()
    );
    assert!(
        !jobs::fire_schedule(&db, "purge", 5_000, 90_000, 3)
            .await
            .unwrap(),
        "the second worker loses"
    );
    assert_eq!(jobs::counts(&db).await.unwrap().queued, 1);
    // A changed spec replaces the planned run.
    jobs::upsert_schedule(&db, "purge", "0 4 * * *", 7_000)
        .await
        .unwrap();
    assert_eq!(
        jobs::due_schedules(&db, 8_000).await.unwrap(),
        vec![("purge".to_string(), 7_000)]
    );
}

async fn finished_jobs_are_purged(db: Db) {
    let a = jobs::enqueue(&db, "exemple", "{}", 0, 1).await.unwrap();
    let b = jobs::enqueue(&db, "exemple", "{}", 0, 1).await.unwrap();
    jobs::enqueue(&db, "exemple", "{}", 0, 1).await.unwrap();
    jobs::claim(&db, "w", 10, 0).await.unwrap();
    jobs::claim(&db, "w", 10, 0).await.unwrap();
    jobs::mark_done(&db, a, 100).await.unwrap();
    jobs::mark_failed(&db, b, "x", None, 100).await.unwrap();
    assert_eq!(jobs::purge_finished(&db, 50).await.unwrap(), 0);
    assert_eq!(jobs::purge_finished(&db, 101).await.unwrap(), 2);
    assert_eq!(
        jobs::counts(&db).await.unwrap().queued,
        1,
        "queued jobs are kept"
    );
}

/// Both migration trees describe the same tables and columns.
#[tokio::test]
async fn sqlite_and_postgres_schemas_match() {
    let (lite, pg) = (TestDb::sqlite().await, TestDb::postgres().await);
    let (a, b) = (
        lite.db.schema_columns().await.unwrap(),
        pg.db.schema_columns().await.unwrap(),
    );
    assert!(a.len() > 20, "{a:?}");
    assert_eq!(a, b);
    lite.cleanup().await;
    pg.cleanup().await;
}

/// A server keeps SQLite's 2 MB page cache per connection; imports ask for 64 MB (idle
/// memory: docs/BENCHMARKS.md).
#[tokio::test]
async fn sqlite_page_cache_is_small_unless_for_bulk_work() {
    let dir = std::env::temp_dir().join(format!("relais-cache-{}", std::process::id()));
    let cache = |db: Db| async move {
        let mut tx = db.begin().await.unwrap();
        let kib: i64 = sqlx::query_scalar("PRAGMA cache_size")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        drop(tx);
        db.close().await;
        kib
    };
    assert_eq!(cache(Db::open_data_dir(&dir).await.unwrap()).await, -2_048);
    assert_eq!(
        cache(Db::open_data_dir_bulk(&dir).await.unwrap()).await,
        -65_536
    );
    let _ = std::fs::remove_dir_all(&dir);
}
