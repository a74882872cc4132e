//! The journal: read by those allowed to (the proof is the parameter), and its signed
//! checkpoints, now (`relais journal checkpoint`) and now and then wherever background
//! jobs run.

use std::sync::Arc;
use std::time::Duration;

use relais_domain::calendrier::now_ms;
use relais_domain::journal::checkpoint::{Checkpoint, SigningKey};
use relais_store::{Db, StoreError, journal};

pub use relais_store::journal::JournalFilter;

/// Up to `limit` signed checkpoints after entry `after_seq`, oldest first: public.
pub async fn checkpoints(
    db: &Db,
    after_seq: i64,
    limit: u32,
) -> Result<Vec<Checkpoint>, StoreError> {
    journal::checkpoints(db, after_seq, limit).await
}

/// Signs the head now, unless it has not moved since the last checkpoint.
pub async fn checkpoint(db: &Db, key: &SigningKey) -> Result<Option<Checkpoint>, StoreError> {
    journal::checkpoint(db, key, now_ms()).await
}

/// Signs the head every `every` until `stop`: the first time right away, so that a
/// restart leaves no long unsigned stretch. Concurrent instances sign a head once.
pub async fn checkpoint_loop(
    db: Db,
    key: Arc<SigningKey>,
    every: Duration,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let (db, key) = (&db, &key);
    crate::periodic::every(every, true, stop, || async move {
        match checkpoint(db, key).await {
            Ok(Some(c)) => tracing::info!(
                entree = c.seq,
                cle = %c.key_id(),
                "point de contrôle du journal signé"
            ),
            Ok(None) => {}
            Err(e) => tracing::warn!(
                error = %e,
                "point de contrôle du journal impossible, nouvel essai au prochain tour"
            ),
        }
    })
    .await;
}

/// The whole journal, for a national administrator only (the proof is the parameter).
pub async fn journal_for_admin(
    db: &Db,
    _admin: &relais_domain::authz::AdminAccess,
    filter: &JournalFilter,
    limit: u32,
) -> Result<Vec<relais_domain::journal::Entry>, StoreError> {
    journal::list(db, filter, limit).await
}

/// A structure's journal, for its référents: the filter is narrowed to that structure.
pub async fn journal_for_structure(
    db: &Db,
    access: &relais_domain::authz::StructureAccess,
    filter: &JournalFilter,
    limit: u32,
) -> Result<Vec<relais_domain::journal::Entry>, StoreError> {
    let filter = JournalFilter {
        structure: Some(access.structure()),
        ..filter.clone()
    };
    journal::list(db, &filter, limit).await
}
