//! Errors reported by visitors on a lieu's page.

use relais_domain::ids::{LieuId, SignalementId};
use sqlx::Row;

use crate::{Db, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSignalement {
    pub lieu_id: LieuId,
    pub motif: String,
    pub message: String,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signalement {
    pub id: SignalementId,
    pub lieu_id: LieuId,
    pub motif: String,
    pub message: String,
    pub email: Option<String>,
    pub created_at: i64,
}

pub async fn create(db: &Db, new: &NewSignalement, now: i64) -> Result<SignalementId, StoreError> {
    let row = statement!(
        "INSERT INTO signalements (lieu_id, motif, message, email, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        new.lieu_id.as_str(),
        &new.motif,
        &new.message,
        new.email.as_deref(),
        now
    )
    .fetch_one(db.pool())
    .await?;
    Ok(SignalementId(row.get(0)))
}

/// The latest reports first, at most `limit`.
pub async fn latest(db: &Db, limit: i64) -> Result<Vec<Signalement>, StoreError> {
    let rows = statement!(
        "SELECT id, lieu_id, motif, message, email, created_at FROM signalements \
         ORDER BY created_at DESC, id DESC LIMIT $1",
        limit
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| Signalement {
            id: SignalementId(r.get(0)),
            lieu_id: LieuId(r.get(1)),
            motif: r.get(2),
            message: r.get(3),
            email: r.get(4),
            created_at: r.get(5),
        })
        .collect())
}
