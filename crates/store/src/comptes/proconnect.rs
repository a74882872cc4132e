//! OpenID Connect client state: logins under way (keyed by the hash of `state`) and the
//! link between a person and their ProConnect subject.

use sqlx::Row;

use relais_domain::ids::PersonId;

use super::{Person, SELECT_PERSON, person_from, row_by};
use crate::db::duplicate_as;
use crate::{Db, StoreError, Tx};

/// A login sent to the provider, waiting for its callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    pub state_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next_path: String,
    pub created_at: i64,
}

pub async fn create_login(db: &Db, login: &PendingLogin) -> Result<(), StoreError> {
    statement!(
        "INSERT INTO oidc_logins (state_hash, nonce, pkce_verifier, next_path, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
        &login.state_hash,
        &login.nonce,
        &login.pkce_verifier,
        &login.next_path,
        login.created_at
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Takes the login of this state once: it is deleted in the same statement, so a second
/// callback with the same state (or a concurrent one) finds nothing. Logins created before
/// `not_before` are expired: deleted, not returned.
pub async fn take_login(
    db: &Db,
    state_hash: &str,
    not_before: i64,
) -> Result<Option<PendingLogin>, StoreError> {
    let row = statement!(
        "DELETE FROM oidc_logins WHERE state_hash = $1 \
         RETURNING state_hash, nonce, pkce_verifier, next_path, created_at",
        state_hash
    )
    .fetch_optional(db.pool())
    .await?;
    Ok(row
        .map(|r| PendingLogin {
            state_hash: r.get(0),
            nonce: r.get(1),
            pkce_verifier: r.get(2),
            next_path: r.get(3),
            created_at: r.get(4),
        })
        .filter(|l| l.created_at >= not_before))
}

/// Forgets the logins that were never completed.
pub async fn purge_expired(db: &Db, not_before: i64) -> Result<u64, StoreError> {
    let done = statement!("DELETE FROM oidc_logins WHERE created_at < $1", not_before)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}

pub async fn person_by_proconnect_sub(db: &Db, sub: &str) -> Result<Option<Person>, StoreError> {
    row_by(
        db,
        SELECT_PERSON,
        "proconnect_sub",
        sub.to_string(),
        person_from,
    )
    .await
}

/// Keeps the SIRET ProConnect gave at this login (`None`: it gave none).
pub async fn set_proconnect_siret(
    db: &Db,
    person: PersonId,
    siret: Option<&str>,
) -> Result<(), StoreError> {
    statement!(
        "UPDATE persons SET proconnect_siret = $2 WHERE id = $1",
        person.0,
        siret
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Links a person to their ProConnect subject (first ProConnect login).
pub async fn link_proconnect(tx: &mut Tx, person: PersonId, sub: &str) -> Result<(), StoreError> {
    statement!(
        "UPDATE persons SET proconnect_sub = $2 WHERE id = $1",
        person.0,
        sub
    )
    .execute(&mut **tx)
    .await
    .map_err(duplicate_as("proconnect_sub"))?;
    Ok(())
}
