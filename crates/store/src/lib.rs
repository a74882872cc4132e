//! The one storage layer of Relais: a [`Db`] over SQLite (the embedded default) or
//! PostgreSQL, the migrations of both, and one module of queries per aggregate.
//! This is the only crate that speaks SQL.

pub mod comptes;
mod db;
pub mod habilitations;
pub mod invitations;
pub mod jobs;
pub mod journal;
pub mod lieux;
mod migrations;
pub mod oidc;
pub mod roles;
pub mod sessions;
pub mod signalements;
pub mod territoires;

pub use db::{Backend, Db, StoreError, Tx, redact_url};

/// Commits a use case's transaction.
pub async fn commit(tx: Tx) -> Result<(), StoreError> {
    Ok(tx.commit().await?)
}

/// Milliseconds since the Unix epoch: every time in the database is stored this way so
/// that both backends read and compare it identically.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
