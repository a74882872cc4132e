//! Lieux de médiation numérique: sources, what each source says (records), and the lieux
//! Relais publishes. Rows are schema v1.0.1 rows stored as JSON text, on both backends.
//! Here the published lieux; the sources' records, the merge and the export's reads
//! beside.

pub mod correspondances;
mod export;
mod fusion;
mod records;

pub use export::*;
pub use fusion::*;
pub use records::*;
use relais_domain::ids::LieuId;
use relais_domain::lieux::Location;
use relais_domain::territoires::Point;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{AnyQuery, Db, StoreError, Tx};

/// Rows per multi-row upsert (10 or 11 parameters each).
const UPSERT_ROWS: usize = 200;

/// The `VALUES` of a multi-row insert: `rows` groups of `width` parameters.
fn values(conn: &sqlx::AnyConnection, rows: usize, width: usize) -> String {
    (0..rows)
        .map(|i| format!("({})", crate::db::marks(conn, i * width + 1, width)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A lieu as stored: its row, where each field came from, and what the search needs.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredLieu {
    pub id: LieuId,
    /// Schema v1.0.1 row, JSON object.
    pub data: String,
    /// Field name → source name, JSON object.
    pub provenance: String,
    pub location: Location,
    pub date_maj: String,
    pub updated_at: i64,
}

const COLUMNS: &str =
    "id, data, provenance, code_insee, latitude, longitude, approximate, date_maj, updated_at";

fn lieu_from(r: &AnyRow) -> StoredLieu {
    StoredLieu {
        id: LieuId(r.get(0)),
        data: r.get(1),
        provenance: r.get(2),
        location: location_at(r, 3),
        date_maj: r.get(7),
        updated_at: r.get(8),
    }
}

/// The four columns `code_insee, latitude, longitude, approximate` from column `i` on.
fn location_at(r: &AnyRow, i: usize) -> Location {
    let (lat, lon): (Option<f64>, Option<f64>) = (r.get(i + 1), r.get(i + 2));
    Location {
        code_insee: r.get(i),
        position: lat.zip(lon).map(|(lat, lon)| Point { lat, lon }),
        approximate: r.get::<i64, _>(i + 3) != 0,
    }
}

/// Binds a location as its four columns: `code_insee, latitude, longitude, approximate`.
fn bind_location<'q>(q: AnyQuery<'q>, l: &'q Location) -> AnyQuery<'q> {
    q.bind(l.code_insee.as_deref())
        .bind(l.position.map(|p| p.lat))
        .bind(l.position.map(|p| p.lon))
        .bind(i64::from(l.approximate))
}

/// The lieux of a query's rows, in their order.
fn lieux_from(rows: Vec<AnyRow>) -> Vec<StoredLieu> {
    rows.iter().map(lieu_from).collect()
}

/// A lieu with the origins of its values (JSON, `None` until the merge writes them).
#[derive(Debug, Clone, PartialEq)]
pub struct LieuOrigines {
    pub lieu: StoredLieu,
    pub origines: Option<String>,
}

fn lieu_origines_from(r: &AnyRow) -> LieuOrigines {
    LieuOrigines {
        lieu: lieu_from(r),
        origines: r.get(9),
    }
}

pub async fn lieu(db: &Db, id: &LieuId) -> Result<Option<StoredLieu>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM lieux WHERE id = $1");
    Ok(statement!(&sql, id.as_str())
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(lieu_from))
}

/// Every lieu, by id (the search index is built from them).
pub async fn all(db: &Db) -> Result<Vec<StoredLieu>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM lieux ORDER BY id");
    Ok(lieux_from(sqlx::query(&sql).fetch_all(db.pool()).await?))
}

pub async fn count(db: &Db) -> Result<i64, StoreError> {
    Ok(sqlx::query("SELECT COUNT(*) FROM lieux")
        .fetch_one(db.pool())
        .await?
        .get(0))
}

/// A lieu read inside a transaction, with its origins (JSON) if the merge wrote them.
pub async fn lieu_for_update(tx: &mut Tx, id: &LieuId) -> Result<Option<LieuOrigines>, StoreError> {
    let sql = format!("SELECT {COLUMNS}, origines FROM lieux WHERE id = $1");
    Ok(statement!(&sql, id.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .as_ref()
        .map(lieu_origines_from))
}

/// Field name → the sources (and their dates) that gave its value, as JSON.
pub async fn origines(db: &Db, id: &LieuId) -> Result<Option<String>, StoreError> {
    Ok(
        statement!("SELECT origines FROM lieux WHERE id = $1", id.as_str())
            .fetch_optional(db.pool())
            .await?
            .and_then(|r| r.get(0)),
    )
}

/// The current id of the lieu known as `id`: itself, or the merged lieu that absorbed it.
pub async fn resolve_id(db: &Db, id: &LieuId) -> Result<Option<LieuId>, StoreError> {
    if let Some(r) = statement!("SELECT id FROM lieux WHERE id = $1", id.as_str())
        .fetch_optional(db.pool())
        .await?
    {
        return Ok(Some(LieuId(r.get(0))));
    }
    Ok(statement!(
        "SELECT a.lieu_id FROM lieu_alias a JOIN lieux l ON l.id = a.lieu_id WHERE a.old_id = $1",
        id.as_str()
    )
    .fetch_optional(db.pool())
    .await?
    .map(|r| LieuId(r.get(0))))
}

/// The lieu known as `id`, following aliases of merged lieux.
pub async fn lieu_or_alias(db: &Db, id: &LieuId) -> Result<Option<StoredLieu>, StoreError> {
    match resolve_id(db, id).await? {
        Some(current) => lieu(db, &current).await,
        None => Ok(None),
    }
}

/// A cheap signature of the lieux table. The search index is rebuilt when it changes (an
/// import in another process, an edit, a merge); a deletion changes the count, any write
/// the latest time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signature {
    pub count: i64,
    /// The latest `updated_at`; `None` without lieux.
    pub latest: Option<i64>,
}

pub async fn signature(db: &Db) -> Result<Signature, StoreError> {
    let row = sqlx::query("SELECT COUNT(*), MAX(updated_at) FROM lieux")
        .fetch_one(db.pool())
        .await?;
    Ok(Signature {
        count: row.get(0),
        latest: row.get(1),
    })
}
