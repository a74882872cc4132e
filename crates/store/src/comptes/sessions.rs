//! Server-side sessions and rate-limit counters: in the database, so that any instance
//! can serve any request.

use relais_domain::comptes::sessions::{Session, Stage};
use relais_domain::ids::{PersonId, StructureId};
use sqlx::Row;

use crate::{Db, StoreError, Tx};

pub async fn create(db: &Db, s: &Session) -> Result<(), StoreError> {
    statement!(
        "INSERT INTO sessions (token_hash, person_id, stage, acting_structure, created_at, \
         last_seen_at, fresh_until, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &s.token_hash,
        s.person_id.0,
        s.stage.as_str(),
        s.acting_structure.map(i64::from),
        s.created_at,
        s.last_seen_at,
        s.fresh_until,
        &s.ip,
        &s.user_agent,
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

pub async fn find(db: &Db, token_hash: &str) -> Result<Option<Session>, StoreError> {
    let row = statement!(
        "SELECT token_hash, person_id, stage, acting_structure, created_at, last_seen_at, \
         fresh_until, ip, user_agent FROM sessions WHERE token_hash = $1",
        token_hash,
    )
    .fetch_optional(db.pool())
    .await?;
    Ok(row.and_then(|r| {
        Some(Session {
            token_hash: r.get(0),
            person_id: PersonId(r.get(1)),
            stage: Stage::parse(r.get::<&str, _>(2))?,
            acting_structure: r.get::<Option<i64>, _>(3).map(StructureId),
            created_at: r.get(4),
            last_seen_at: r.get(5),
            fresh_until: r.get(6),
            ip: r.get(7),
            user_agent: r.get(8),
        })
    }))
}

/// Records activity; `fresh_until` slides only while the second factor is still fresh.
pub async fn touch(
    db: &Db,
    token_hash: &str,
    now: i64,
    fresh_until: i64,
) -> Result<(), StoreError> {
    statement!(
        "UPDATE sessions SET last_seen_at = $2, fresh_until = $3 WHERE token_hash = $1",
        token_hash,
        now,
        fresh_until
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Moves the login to `stage` under a new token hash, in the transaction that journals the
/// step: the cookie issued before (which an attacker may have planted) opens nothing any
/// more. `false` when the session is gone (closed meanwhile).
pub async fn promote(
    tx: &mut Tx,
    token_hash: &str,
    new_token_hash: &str,
    stage: Stage,
    fresh_until: i64,
) -> Result<bool, StoreError> {
    let done = statement!(
        "UPDATE sessions SET token_hash = $2, stage = $3, fresh_until = $4 WHERE token_hash = $1",
        token_hash,
        new_token_hash,
        stage.as_str(),
        fresh_until
    )
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Changes the structure the session acts as, under a new token hash (a change of
/// privileges: the previous cookie opens nothing any more). `false` when the session is gone.
pub async fn set_acting_structure(
    db: &Db,
    token_hash: &str,
    new_token_hash: &str,
    structure: Option<StructureId>,
) -> Result<bool, StoreError> {
    let done = statement!(
        "UPDATE sessions SET token_hash = $2, acting_structure = $3 WHERE token_hash = $1",
        token_hash,
        new_token_hash,
        structure.map(i64::from)
    )
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An expired session, closed without a journal entry.
pub async fn delete(db: &Db, token_hash: &str) -> Result<(), StoreError> {
    statement!("DELETE FROM sessions WHERE token_hash = $1", token_hash)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Logout, in the transaction that journals it.
pub async fn close(tx: &mut Tx, token_hash: &str) -> Result<(), StoreError> {
    statement!("DELETE FROM sessions WHERE token_hash = $1", token_hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Logout everywhere, in the transaction that journals it.
pub async fn close_all_of(tx: &mut Tx, person: PersonId) -> Result<u64, StoreError> {
    Ok(
        statement!("DELETE FROM sessions WHERE person_id = $1", person.0)
            .execute(&mut **tx)
            .await?
            .rows_affected(),
    )
}

/// Removes sessions idle since `idle_before` or created before `created_before`.
pub async fn purge_expired(
    db: &Db,
    idle_before: i64,
    created_before: i64,
) -> Result<u64, StoreError> {
    Ok(statement!(
        "DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2",
        idle_before,
        created_before
    )
    .execute(db.pool())
    .await?
    .rows_affected())
}

/// Counts one hit in `bucket`'s fixed window of `window_ms` and returns the hits in the
/// current window, this one included. One statement: concurrent hits are all counted.
pub async fn hit(db: &Db, bucket: &str, now: i64, window_ms: i64) -> Result<i64, StoreError> {
    let row = statement!(
        "INSERT INTO rate_limits (bucket, window_start, hits) VALUES ($1, $2, 1) ON CONFLICT \
         (bucket) DO UPDATE SET hits = CASE WHEN rate_limits.window_start <= $3 THEN 1 ELSE \
         rate_limits.hits + 1 END, window_start = CASE WHEN rate_limits.window_start <= $3 THEN \
         $2 ELSE rate_limits.window_start END RETURNING hits",
        bucket,
        now,
        now - window_ms,
    )
    .fetch_one(db.pool())
    .await?;
    Ok(row.get(0))
}

/// Hits in the current window, without counting one.
pub async fn hits(db: &Db, bucket: &str, now: i64, window_ms: i64) -> Result<i64, StoreError> {
    Ok(statement!(
        "SELECT hits FROM rate_limits WHERE bucket = $1 AND window_start > $2",
        bucket,
        now - window_ms
    )
    .fetch_optional(db.pool())
    .await?
    .map_or(0, |r| r.get(0)))
}

/// Whether `bucket` is under `limit` hits in its current window; if so, counts this one.
/// Refused attempts are not counted.
pub async fn admit(
    db: &Db,
    bucket: &str,
    now: i64,
    window_ms: i64,
    limit: i64,
) -> Result<bool, StoreError> {
    if hits(db, bucket, now, window_ms).await? >= limit {
        return Ok(false);
    }
    hit(db, bucket, now, window_ms).await?;
    Ok(true)
}

pub async fn clear(db: &Db, bucket: &str) -> Result<(), StoreError> {
    statement!("DELETE FROM rate_limits WHERE bucket = $1", bucket)
        .execute(db.pool())
        .await?;
    Ok(())
}
