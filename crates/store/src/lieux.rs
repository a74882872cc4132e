//! Lieux de médiation numérique: sources, what each source says (records), and the lieux
//! Relais publishes. Rows are schema v1.0.1 rows stored as JSON text, on both backends.

use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{Db, StoreError, Tx};

/// A lieu as stored: its row, where each field came from, and what the search needs.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLieu {
    pub id: String,
    /// Schema v1.0.1 row, JSON object.
    pub data: String,
    /// Field name → source name, JSON object.
    pub provenance: String,
    pub code_insee: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// The coordinates are the commune's.
    pub approximate: bool,
    pub date_maj: String,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, data, provenance, code_insee, latitude, longitude, approximate, date_maj, updated_at";

fn lieu_from(r: &AnyRow) -> StoredLieu {
    StoredLieu {
        id: r.get(0),
        data: r.get(1),
        provenance: r.get(2),
        code_insee: r.get(3),
        latitude: r.get(4),
        longitude: r.get(5),
        approximate: r.get::<i64, _>(6) != 0,
        date_maj: r.get(7),
        updated_at: r.get(8),
    }
}

/// The id of the source named `nom`, created on first use.
pub async fn source_id(tx: &mut Tx, nom: &str, now: i64) -> Result<i64, StoreError> {
    if let Some(row) = sqlx::query("SELECT id FROM lieu_sources WHERE nom = $1")
        .bind(nom)
        .fetch_optional(&mut **tx)
        .await?
    {
        return Ok(row.get(0));
    }
    let row =
        sqlx::query("INSERT INTO lieu_sources (nom, created_at) VALUES ($1, $2) RETURNING id")
            .bind(nom)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
    Ok(row.get(0))
}

/// What is stored of a source's row: the lieu it belongs to and the row's fingerprint.
pub async fn record(
    tx: &mut Tx,
    source: i64,
    external_id: &str,
) -> Result<Option<(String, String)>, StoreError> {
    Ok(sqlx::query(
        "SELECT lieu_id, fingerprint FROM lieu_records WHERE source_id = $1 AND external_id = $2",
    )
    .bind(source)
    .bind(external_id)
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| (r.get(0), r.get(1))))
}

/// A source's row, as it is now.
pub struct NewRecord<'a> {
    pub source: i64,
    pub external_id: &'a str,
    pub lieu_id: &'a str,
    pub data: &'a str,
    pub fingerprint: &'a str,
}

pub async fn put_record(tx: &mut Tx, r: &NewRecord<'_>, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO lieu_records (source_id, external_id, lieu_id, data, fingerprint, imported_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (source_id, external_id) DO UPDATE SET lieu_id = excluded.lieu_id, \
         data = excluded.data, fingerprint = excluded.fingerprint, imported_at = excluded.imported_at",
    )
    .bind(r.source)
    .bind(r.external_id)
    .bind(r.lieu_id)
    .bind(r.data)
    .bind(r.fingerprint)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Creates or replaces a lieu (its creation time is kept).
pub async fn put_lieu(tx: &mut Tx, l: &StoredLieu, now: i64) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO lieux (id, data, provenance, code_insee, latitude, longitude, approximate, date_maj, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, provenance = excluded.provenance, \
         code_insee = excluded.code_insee, latitude = excluded.latitude, longitude = excluded.longitude, \
         approximate = excluded.approximate, date_maj = excluded.date_maj, updated_at = excluded.updated_at",
    )
    .bind(&l.id)
    .bind(&l.data)
    .bind(&l.provenance)
    .bind(&l.code_insee)
    .bind(l.latitude)
    .bind(l.longitude)
    .bind(i64::from(l.approximate))
    .bind(&l.date_maj)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub async fn lieu(db: &Db, id: &str) -> Result<Option<StoredLieu>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM lieux WHERE id = $1");
    Ok(sqlx::query(&sql)
        .bind(id)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(lieu_from))
}

/// Every lieu, by id (the search index is built from them).
pub async fn all(db: &Db) -> Result<Vec<StoredLieu>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM lieux ORDER BY id");
    Ok(sqlx::query(&sql)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(lieu_from)
        .collect())
}

pub async fn count(db: &Db) -> Result<i64, StoreError> {
    Ok(sqlx::query("SELECT COUNT(*) FROM lieux")
        .fetch_one(db.pool())
        .await?
        .get(0))
}

/// Up to `limit` lieux whose id comes after `after`, by id: an export walks the whole
/// table page by page without holding it in memory.
pub async fn page_after(db: &Db, after: &str, limit: i64) -> Result<Vec<StoredLieu>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM lieux WHERE id > $1 ORDER BY id LIMIT $2");
    Ok(sqlx::query(&sql)
        .bind(after)
        .bind(limit)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(lieu_from)
        .collect())
}

/// Where a lieu comes from: a source's row that it was made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Lineage {
    pub lieu_id: String,
    pub source: String,
    pub external_id: String,
    pub imported_at: i64,
}

/// The records each of `ids` is made of, by lieu, source and row id.
pub async fn lineage(db: &Db, ids: &[String]) -> Result<Vec<Lineage>, StoreError> {
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
        q = q.bind(id);
    }
    Ok(q.fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| Lineage {
            lieu_id: r.get(0),
            source: r.get(1),
            external_id: r.get(2),
            imported_at: r.get(3),
        })
        .collect())
}
