//! Logins sent to an OpenID Connect provider (ProConnect, FranceConnect), waiting for their
//! callback: keyed by the hash of `state`, single use.

use sqlx::Row;

use crate::{Db, StoreError};

/// The provider a login was sent to: a callback only takes the logins of its provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    ProConnect,
    FranceConnect,
}

impl Provider {
    pub fn code(self) -> &'static str {
        match self {
            Provider::ProConnect => "proconnect",
            Provider::FranceConnect => "franceconnect",
        }
    }
}

/// A login sent to the provider, waiting for its callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    pub provider: Provider,
    pub state_hash: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub next_path: String,
    /// FranceConnect at mandate creation: the draft the usager's identity goes to.
    pub brouillon: Option<i64>,
    pub created_at: i64,
}

pub async fn create_login(db: &Db, login: &PendingLogin) -> Result<(), StoreError> {
    statement!(
        "INSERT INTO oidc_logins \
         (state_hash, nonce, pkce_verifier, next_path, created_at, provider, brouillon) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &login.state_hash,
        &login.nonce,
        &login.pkce_verifier,
        &login.next_path,
        login.created_at,
        login.provider.code(),
        login.brouillon
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Takes the login of this state, started for this provider, once: it is deleted in the same statement, so a second
/// callback with the same state (or a concurrent one) finds nothing. Logins created before
/// `not_before` are expired: deleted, not returned.
pub async fn take_login(
    db: &Db,
    provider: Provider,
    state_hash: &str,
    not_before: i64,
) -> Result<Option<PendingLogin>, StoreError> {
    let row = statement!(
        "DELETE FROM oidc_logins WHERE state_hash = $1 AND provider = $2 \
         RETURNING state_hash, nonce, pkce_verifier, next_path, created_at, brouillon",
        state_hash,
        provider.code()
    )
    .fetch_optional(db.pool())
    .await?;
    Ok(row
        .map(|r| PendingLogin {
            provider,
            state_hash: r.get(0),
            nonce: r.get(1),
            pkce_verifier: r.get(2),
            next_path: r.get(3),
            created_at: r.get(4),
            brouillon: r.get(5),
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
