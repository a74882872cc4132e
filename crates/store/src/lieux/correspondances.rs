//! The mapping assistant's storage: files waiting for a person to confirm their mapping,
//! and the mapping kept per producer (a source).

use relais_domain::ids::PersonId;
use sqlx::Row;

use crate::{Db, StoreError};

/// A file uploaded that does not follow the schema, waiting for its mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Televersement {
    pub id: i64,
    pub source: String,
    pub nom: String,
    pub bytes: Vec<u8>,
    pub created_at: i64,
}

/// Keeps an uploaded file; files older than `forget_before` are forgotten at once.
pub async fn keep_upload(
    db: &Db,
    source: &str,
    nom: &str,
    bytes: &[u8],
    now: i64,
    forget_before: i64,
) -> Result<i64, StoreError> {
    statement!(
        "DELETE FROM televersements WHERE created_at < $1",
        forget_before
    )
    .execute(db.pool())
    .await?;
    let row = statement!(
        "INSERT INTO televersements (source, nom, contenu, created_at) VALUES ($1, $2, $3, $4) \
         RETURNING id",
        source,
        nom,
        data_encoding::BASE64.encode(bytes),
        now
    )
    .fetch_one(db.pool())
    .await?;
    Ok(row.get(0))
}

/// The file `id` of `source`, if kept since `since`.
pub async fn upload(
    db: &Db,
    source: &str,
    id: i64,
    since: i64,
) -> Result<Option<Televersement>, StoreError> {
    let row = statement!(
        "SELECT id, source, nom, contenu, created_at FROM televersements \
         WHERE id = $1 AND source = $2 AND created_at >= $3",
        id,
        source,
        since
    )
    .fetch_optional(db.pool())
    .await?;
    row.map(|r| {
        let text: String = r.get(3);
        let bytes = data_encoding::BASE64
            .decode(text.as_bytes())
            .map_err(|e| StoreError::Corrupt(format!("téléversement {id} : {e}")))?;
        Ok(Televersement {
            id: r.get(0),
            source: r.get(1),
            nom: r.get(2),
            bytes,
            created_at: r.get(4),
        })
    })
    .transpose()
}

pub async fn forget_upload(db: &Db, id: i64) -> Result<(), StoreError> {
    statement!("DELETE FROM televersements WHERE id = $1", id)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The mapping kept for the producer `source` (TOML).
pub async fn mapping_of(db: &Db, source: &str) -> Result<Option<String>, StoreError> {
    Ok(
        statement!("SELECT toml FROM correspondances WHERE source = $1", source)
            .fetch_optional(db.pool())
            .await?
            .map(|r| r.get(0)),
    )
}

pub async fn keep_mapping(
    db: &Db,
    source: &str,
    toml: &str,
    by: PersonId,
    now: i64,
) -> Result<(), StoreError> {
    statement!(
        "INSERT INTO correspondances (source, toml, updated_at, updated_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (source) DO UPDATE SET toml = excluded.toml, updated_at = excluded.updated_at, \
         updated_by = excluded.updated_by",
        source,
        toml,
        now,
        by.0
    )
    .execute(db.pool())
    .await?;
    Ok(())
}
