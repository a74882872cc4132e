//! The export's reads: every lieu page by page, and where each comes from.

use relais_domain::ids::LieuId;
use sqlx::Row;

use super::{COLUMNS, StoredLieu, lieux_from};
use crate::{Db, StoreError};

/// Up to `limit` lieux whose id comes after `after`, by id: an export walks the whole
/// table page by page without holding it in memory.
pub async fn page_after(
    db: &Db,
    after: &LieuId,
    limit: i64,
) -> Result<Vec<StoredLieu>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM lieux WHERE id > $1 ORDER BY id LIMIT $2");
    let rows = statement!(&sql, after.as_str(), limit)
        .fetch_all(db.pool())
        .await?;
    Ok(lieux_from(rows))
}

/// Where a lieu comes from: a source's row that it was made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Lineage {
    pub lieu_id: LieuId,
    pub source: String,
    pub external_id: String,
    pub imported_at: i64,
}

/// The records each of `ids` is made of, by lieu, source and row id.
pub async fn lineage(db: &Db, ids: &[LieuId]) -> Result<Vec<Lineage>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT r.lieu_id, s.nom, r.external_id, r.imported_at FROM lieu_records r \
         JOIN lieu_sources s ON s.id = r.source_id WHERE r.lieu_id IN ({}) \
         ORDER BY r.lieu_id, s.nom, r.external_id",
        marks.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id.as_str());
    }
    Ok(q.fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| Lineage {
            lieu_id: LieuId(r.get(0)),
            source: r.get(1),
            external_id: r.get(2),
            imported_at: r.get(3),
        })
        .collect())
}
