//! The one storage layer of Relais: a [`Db`] over SQLite (the embedded default) or
//! PostgreSQL, the migrations of both, and one module of queries per aggregate.
//! This is the only crate that speaks SQL.

// First, for the `statement!` macro every module below uses.
#[macro_use]
mod db;

pub mod activites;
pub mod comptes;
pub mod diagnostic;
pub mod habilitations;
pub mod jobs;
pub mod journal;
pub mod lieux;
pub mod mandats;
mod migrations;
pub mod oidc_client;
pub mod pass;
pub mod roles;
pub mod signalements;
pub mod territoires;

// Until `services/src/signalements.rs` (lieux area) names `comptes::sessions`: its rate
// limits count in the sessions' buckets.
#[doc(hidden)]
pub use comptes::sessions;

pub(crate) use db::AnyQuery;
pub use db::{Backend, Db, StoreError, Tx, redact_url};

/// Commits a use case's transaction.
pub async fn commit(tx: Tx) -> Result<(), StoreError> {
    Ok(tx.commit().await?)
}
