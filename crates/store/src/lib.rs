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
