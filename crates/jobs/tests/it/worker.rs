//! The worker over both backends: retries, failures and panics, schedules, and concurrent
//! workers that never run the same job.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use relais_domain::calendrier::now_ms;
use relais_domain::schedule::Schedule;
use relais_jobs::{JobError, Outcome, Registry, Worker, WorkerConfig, enqueue};
use relais_store::{Db, jobs};
use relais_testkit::{TestDb, store_tests};

store_tests!(
    a_failing_job_is_retried_then_succeeds,
    failing_and_panicking_jobs_never_stop_the_worker,
    an_unknown_kind_fails_at_once,
    a_due_schedule_is_enqueued_once,
);

fn quick(id: &str) -> WorkerConfig {
    WorkerConfig {
        backoff: Duration::ZERO,
        poll: Duration::from_millis(20),
        ..WorkerConfig::new(id)
    }
}

async fn a_failing_job_is_retried_then_succeeds(db: Db) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let registry = Registry::default().handle("fragile", move |_, _| {
        let n = counter.fetch_add(1, Ordering::SeqCst);
        async move {
            if n < 2 {
                Err(JobError::Failed(format!("échec n° {}", n + 1)))
            } else {
                Ok(())
            }
        }
    });
    let worker = Worker::new(db.clone(), registry, quick("w"));
    let id = enqueue(&db, "fragile", "{}").await.unwrap();
    assert_eq!(
        worker.run_one().await.unwrap(),
        Some((
            id,
            Outcome::Retry {
                error: "échec n° 1".into()
            }
        ))
    );
    assert_eq!(
        worker.run_one().await.unwrap(),
        Some((
            id,
            Outcome::Retry {
                error: "échec n° 2".into()
            }
        ))
    );
    assert_eq!(worker.run_one().await.unwrap(), Some((id, Outcome::Done)));
    assert_eq!(worker.run_one().await.unwrap(), None);
    assert_eq!(jobs::status(&db, id).await.unwrap().unwrap().1, 3);
}

async fn failing_and_panicking_jobs_never_stop_the_worker(db: Db) {
    let done = Arc::new(AtomicUsize::new(0));
    let counter = done.clone();
    let registry = Registry::default()
        .handle("panique", |_, _| async { panic!("boum") })
        .handle("echec", |_, _| async {
            Err(JobError::Failed("toujours".into()))
        })
        .handle("ok", move |_, _| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        });
    let panicking = jobs::enqueue(&db, "panique", "{}", 0, 2).await.unwrap();
    let failing = jobs::enqueue(&db, "echec", "{}", 0, 2).await.unwrap();
    jobs::enqueue(&db, "ok", "{}", 1, 2).await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(Worker::new(db.clone(), registry, quick("w")).run(stopped));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while jobs::counts(&db).await.unwrap()
        != (jobs::QueueCounts {
            queued: 0,
            running: 0,
            done: 1,
            failed: 2,
        })
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            jobs::counts(&db).await.unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(done.load(Ordering::SeqCst), 1);
    let (status, attempts, error) = jobs::status(&db, panicking).await.unwrap().unwrap();
    assert_eq!((status.as_str(), attempts), ("failed", 2));
    assert!(error.unwrap().contains("boum"));
    assert_eq!(
        jobs::status(&db, failing)
            .await
            .unwrap()
            .unwrap()
            .2
            .as_deref(),
        Some("toujours")
    );
    stop.send(true).unwrap();
    running.await.expect("the worker ends cleanly");
}

async fn an_unknown_kind_fails_at_once(db: Db) {
    let id = enqueue(&db, "inconnue", "{}").await.unwrap();
    let worker = Worker::new(db.clone(), Registry::default(), quick("w"));
    match worker.run_one().await.unwrap() {
        Some((job, Outcome::Failed { error })) => {
            assert!(job == id && error.contains("inconnue"), "{error}");
        }
        other => panic!("{other:?}"),
    }
}

async fn a_due_schedule_is_enqueued_once(db: Db) {
    let registry = || {
        Registry::default().recurring(
            "tic",
            Schedule::parse("*/5 * * * *").unwrap(),
            |_, _| async { Ok(()) },
        )
    };
    let (a, b) = (
        Worker::new(db.clone(), registry(), quick("a")),
        Worker::new(db.clone(), registry(), quick("b")),
    );
    a.register_schedules().await.unwrap();
    b.register_schedules().await.unwrap();
    let now = now_ms();
    assert_eq!(a.fire_due_schedules(now).await.unwrap(), 0, "not due yet");
    let later = now + 6 * 60_000;
    assert_eq!(
        a.fire_due_schedules(later).await.unwrap() + b.fire_due_schedules(later).await.unwrap(),
        1
    );
    assert_eq!(
        a.run_one().await.unwrap().map(|(_, o)| o),
        Some(Outcome::Done)
    );
    let next = jobs::due_schedules(&db, i64::MAX).await.unwrap()[0].1;
    assert!(
        next > now && next % 300_000 == 0,
        "next run on a 5-minute boundary"
    );
}

/// Four workers, each with its own pool (as separate processes would be), drain 300 jobs:
/// every job runs exactly once.
async fn concurrent_workers_run_each_job_once(t: &TestDb) {
    const JOBS: usize = 300;
    for n in 0..JOBS {
        enqueue(&t.db, "compter", &n.to_string()).await.unwrap();
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for w in 0..4 {
        let db = Db::connect(&t.url).await.unwrap();
        let seen = seen.clone();
        let registry = Registry::default().handle("compter", move |_, payload| {
            let seen = seen.clone();
            async move {
                seen.lock().unwrap().push(payload);
                tokio::task::yield_now().await;
                Ok(())
            }
        });
        let worker = Worker::new(db, registry, quick(&format!("w{w}")));
        tasks.push(tokio::spawn(async move {
            let mut ran = 0;
            while worker.run_one().await.unwrap().is_some() {
                ran += 1;
            }
            ran
        }));
    }
    let mut per_worker = Vec::new();
    for task in tasks {
        per_worker.push(task.await.unwrap());
    }
    let seen = seen.lock().unwrap().clone();
    let distinct: HashSet<&String> = seen.iter().collect();
    assert_eq!(
        (seen.len(), distinct.len()),
        (JOBS, JOBS),
        "each job once; per worker: {per_worker:?}"
    );
    assert_eq!(jobs::counts(&t.db).await.unwrap().done, JOBS as i64);
    assert!(
        per_worker.iter().filter(|n| **n > 0).count() >= 2,
        "work was shared: {per_worker:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_run_each_job_once_on_postgres() {
    let t = TestDb::postgres().await;
    concurrent_workers_run_each_job_once(&t).await;
    t.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_workers_run_each_job_once_on_sqlite() {
    let t = TestDb::sqlite().await;
    concurrent_workers_run_each_job_once(&t).await;
    t.cleanup().await;
}
