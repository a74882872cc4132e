//! The jobs table: enqueue, claim (one worker per job), finish; and recurring schedules.

use relais_domain::calendrier::now_ms;
use sqlx::Row;

use crate::{Backend, Db, StoreError, Tx};

/// A job a worker has claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
    pub max_attempts: i64,
}

/// Counts of jobs by status, for the health of the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueCounts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

pub async fn enqueue(
    db: &Db,
    kind: &str,
    payload: &str,
    run_at: i64,
    max_attempts: i64,
) -> Result<i64, StoreError> {
    let mut tx = db.begin().await?;
    let id = enqueue_in(&mut tx, kind, payload, run_at, max_attempts).await?;
    crate::commit(tx).await?;
    Ok(id)
}

/// Puts a job in the queue within a use case's transaction: the job exists if and only if
/// the change that asked for it was committed.
pub async fn enqueue_in(
    tx: &mut Tx,
    kind: &str,
    payload: &str,
    run_at: i64,
    max_attempts: i64,
) -> Result<i64, StoreError> {
    let now = now_ms();
    let row = statement!(
        "INSERT INTO jobs (kind, payload, status, attempts, max_attempts, run_at, created_at, \
         updated_at) VALUES ($1, $2, 'queued', 0, $3, $4, $5, $5) RETURNING id",
        kind,
        payload,
        max_attempts,
        run_at,
        now,
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.get(0))
}

/// Claims the oldest job that is due, or whose worker has held it past `stale_before`
/// (a worker that died). One statement, so two workers never claim the same job: on
/// PostgreSQL the candidate row is locked with SKIP LOCKED, on SQLite writes are serial.
pub async fn claim(
    db: &Db,
    worker: &str,
    now: i64,
    stale_before: i64,
) -> Result<Option<ClaimedJob>, StoreError> {
    let lock = match db.backend() {
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let sql = format!(
        "UPDATE jobs SET status = 'running', locked_by = $1, locked_at = $2, attempts = attempts + 1, updated_at = $2 \
         WHERE id = (SELECT id FROM jobs \
                     WHERE (status = 'queued' AND run_at <= $2) OR (status = 'running' AND locked_at < $3) \
                     ORDER BY run_at, id LIMIT 1 {lock}) \
         RETURNING id, kind, payload, attempts, max_attempts"
    );
    let row = statement!(&sql, worker, now, stale_before)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.map(|r| ClaimedJob {
        id: r.get(0),
        kind: r.get(1),
        payload: r.get(2),
        attempts: r.get(3),
        max_attempts: r.get(4),
    }))
}

pub async fn mark_done(db: &Db, id: i64, now: i64) -> Result<(), StoreError> {
    statement!(
        "UPDATE jobs SET status = 'done', locked_by = NULL, locked_at = NULL, last_error = NULL, \
         updated_at = $2 WHERE id = $1",
        id,
        now,
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Records a failure: the job runs again at `retry_at`, or is marked failed for good.
pub async fn mark_failed(
    db: &Db,
    id: i64,
    error: &str,
    retry_at: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    let (status, run_at) = match retry_at {
        Some(t) => ("queued", t),
        None => ("failed", now),
    };
    statement!(
        "UPDATE jobs SET status = $2, run_at = $3, last_error = $4, locked_by = NULL, locked_at = \
         NULL, updated_at = $5 WHERE id = $1",
        id,
        status,
        run_at,
        error,
        now,
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Deletes finished jobs (done, or failed for good) last touched before `before`.
pub async fn purge_finished(db: &Db, before: i64) -> Result<u64, StoreError> {
    let done = statement!(
        "DELETE FROM jobs WHERE status IN ('done', 'failed') AND updated_at < $1",
        before
    )
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}

pub async fn counts(db: &Db) -> Result<QueueCounts, StoreError> {
    let rows = sqlx::query("SELECT status, COUNT(*) FROM jobs GROUP BY status")
        .fetch_all(db.pool())
        .await?;
    let mut c = QueueCounts::default();
    for r in rows {
        let n: i64 = r.get(1);
        match r.get::<String, _>(0).as_str() {
            "queued" => c.queued = n,
            "running" => c.running = n,
            "done" => c.done = n,
            _ => c.failed = n,
        }
    }
    Ok(c)
}

/// The status and last error of one job.
pub async fn status(db: &Db, id: i64) -> Result<Option<(String, i64, Option<String>)>, StoreError> {
    Ok(statement!(
        "SELECT status, attempts, last_error FROM jobs WHERE id = $1",
        id
    )
    .fetch_optional(db.pool())
    .await?
    .map(|r| (r.get(0), r.get(1), r.get(2))))
}

/// Creates the schedule, or updates its spec (keeping its next run when the spec is unchanged).
pub async fn upsert_schedule(
    db: &Db,
    name: &str,
    spec: &str,
    next_run_at: i64,
) -> Result<(), StoreError> {
    statement!(
        "INSERT INTO job_schedules (name, spec, next_run_at) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, next_run_at = excluded.next_run_at \
         WHERE job_schedules.spec <> excluded.spec",
        name,
        spec,
        next_run_at
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Schedules due at `now`: (name, next_run_at).
pub async fn due_schedules(db: &Db, now: i64) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(statement!(
        "SELECT name, next_run_at FROM job_schedules WHERE next_run_at <= $1 ORDER BY name",
        now
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

/// Moves a due schedule to its next run and enqueues this run, atomically; only the
/// worker whose compare-and-set succeeds enqueues, so a run is enqueued once.
pub async fn fire_schedule(
    db: &Db,
    name: &str,
    due_at: i64,
    next_run_at: i64,
    max_attempts: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let moved = statement!(
        "UPDATE job_schedules SET next_run_at = $3 WHERE name = $1 AND next_run_at = $2",
        name,
        due_at,
        next_run_at
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved == 1 {
        enqueue_in(&mut tx, name, "{}", now_ms(), max_attempts).await?;
    }
    crate::commit(tx).await?;
    Ok(moved == 1)
}
