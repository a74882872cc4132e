//! Password reset links: single-use tokens sent by e-mail, of which only the SHA-256 is
//! stored.

use relais_domain::ids::PersonId;
use sqlx::Row;

use crate::{Db, StoreError, Tx};

/// A new reset link (only the SHA-256 of its token is stored).
pub async fn create(
    tx: &mut Tx,
    person: PersonId,
    token_hash: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    statement!(
        "INSERT INTO password_resets (token_hash, person_id, created_at, expires_at) VALUES ($1, \
         $2, $3, $4)",
        token_hash,
        person.0,
        now,
        expires_at,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The person a reset link is for, if the link is unused and not expired at `now`.
pub async fn person_of(
    db: &Db,
    token_hash: &str,
    now: i64,
) -> Result<Option<PersonId>, StoreError> {
    Ok(statement!(
        "SELECT person_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND \
         expires_at > $2",
        token_hash,
        now,
    )
    .fetch_optional(db.pool())
    .await?
    .map(|r| PersonId(r.get(0))))
}

/// Uses a reset link, and every other open link of the same person: false if it was no longer valid.
pub async fn consume(
    tx: &mut Tx,
    token_hash: &str,
    person: PersonId,
    now: i64,
) -> Result<bool, StoreError> {
    let done = statement!(
        "UPDATE password_resets SET used_at = $3 \
         WHERE token_hash = $1 AND person_id = $2 AND used_at IS NULL AND expires_at > $3",
        token_hash,
        person.0,
        now
    )
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    statement!(
        "UPDATE password_resets SET used_at = $2 WHERE person_id = $1 AND used_at IS NULL",
        person.0,
        now
    )
    .execute(&mut **tx)
    .await?;
    Ok(true)
}
