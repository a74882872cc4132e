//! Sources and their records: what each source's row says, and who owns the source.

use std::collections::HashMap;

use relais_domain::ids::{LieuId, ProgrammeId, SourceId, StructureId};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{COLUMNS, Location, StoredLieu, UPSERT_ROWS, lieux_from, values};
use crate::db::marks;
use crate::{Db, StoreError, Tx};

/// The id of the source named `nom`, created on first use.
pub async fn source_id(tx: &mut Tx, nom: &str, now: i64) -> Result<SourceId, StoreError> {
    if let Some(row) = statement!("SELECT id FROM lieu_sources WHERE nom = $1", nom)
        .fetch_optional(&mut **tx)
        .await?
    {
        return Ok(SourceId(row.get(0)));
    }
    let row = statement!(
        "INSERT INTO lieu_sources (nom, created_at) VALUES ($1, $2) RETURNING id",
        nom,
        now
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(SourceId(row.get(0)))
}

/// What is stored of a source's row: the lieu it belongs to, the row's fingerprint, and
/// the commune the import resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordState {
    pub lieu_id: LieuId,
    pub fingerprint: String,
    pub code_insee: Option<String>,
    /// Whether its lieu is written (the merge writes a new record's lieu).
    pub lieu_written: bool,
}

/// A source's row, as it is now.
pub struct NewRecord<'a> {
    pub source: SourceId,
    pub external_id: &'a str,
    pub lieu_id: &'a LieuId,
    pub data: &'a str,
    pub fingerprint: &'a str,
    pub location: &'a Location,
}

/// Creates or replaces one record (an edit).
pub async fn put_record(tx: &mut Tx, r: &NewRecord<'_>, now: i64) -> Result<(), StoreError> {
    put_records(tx, std::slice::from_ref(r), now).await
}

/// A source: its id and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub id: SourceId,
    pub nom: String,
}

/// Every source, by id.
pub async fn sources(db: &Db) -> Result<Vec<Source>, StoreError> {
    Ok(sqlx::query("SELECT id, nom FROM lieu_sources ORDER BY id")
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| Source {
            id: SourceId(r.get(0)),
            nom: r.get(1),
        })
        .collect())
}

// Owners of sources (structures, hubs) and their lieux.

/// Records who owns the source `source_id`: a structure, or a hub (its coordinator's
/// scope). A source keeps its first owner.
pub async fn set_source_owner(
    tx: &mut Tx,
    source_id: SourceId,
    structure: Option<StructureId>,
    hub: Option<&str>,
    now: i64,
) -> Result<(), StoreError> {
    statement!(
        "INSERT INTO lieu_source_owners (source_id, structure_id, hub, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (source_id) DO NOTHING",
        source_id.0,
        structure.map(|s| s.0),
        hub,
        now
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The lieux of `structure`, by id: those holding a record of a source it owns, and those
/// the register found to be its (`structure_lieux`).
pub async fn structure_lieux(
    db: &Db,
    structure: StructureId,
) -> Result<Vec<StoredLieu>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM lieux WHERE id IN (SELECT r.lieu_id FROM lieu_records r \
         JOIN lieu_source_owners o ON o.source_id = r.source_id WHERE o.structure_id = $1) \
         OR id IN (SELECT lieu_id FROM structure_lieux WHERE structure_id = $1) \
         ORDER BY id"
    );
    let rows = statement!(&sql, structure.0).fetch_all(db.pool()).await?;
    Ok(lieux_from(rows))
}

/// The lieux of the structures qualified to accept `programme`'s passes (as
/// [`structure_lieux`] finds a structure's).
pub async fn qualified_lieux(
    db: &Db,
    programme: ProgrammeId,
) -> Result<Vec<StoredLieu>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM lieux WHERE id IN (SELECT r.lieu_id FROM lieu_records r \
         JOIN lieu_source_owners o ON o.source_id = r.source_id \
         JOIN qualifications_pass q ON q.structure_id = o.structure_id \
         WHERE q.programme_id = $1 AND q.statut = $2) \
         OR id IN (SELECT sl.lieu_id FROM structure_lieux sl \
         JOIN qualifications_pass q ON q.structure_id = sl.structure_id \
         WHERE q.programme_id = $1 AND q.statut = $2) ORDER BY id"
    );
    let rows = statement!(&sql, programme.0, crate::pass::ACCEPTEE)
        .fetch_all(db.pool())
        .await?;
    Ok(lieux_from(rows))
}

/// A source's row as the merge and the edit read it: the row, its source's name, and the
/// lieu it is attached to.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub source_id: SourceId,
    pub source: String,
    pub external_id: String,
    pub lieu_id: LieuId,
    pub data: String,
    pub location: Location,
    /// When the lieu it is attached to was created (its age decides the merged id); for a
    /// lieu not written yet, when the record was imported.
    pub lieu_created_at: i64,
    /// Whether that lieu is written (a new record names the lieu it will make alone, which
    /// the merge writes).
    pub lieu_written: bool,
    /// When this version of the row was imported (a re-import of the same row keeps it).
    pub imported_at: i64,
    /// The merge's block (`lieu_records.bloc`): its whole commune, or the group of
    /// neighbouring communes it was joined to; `None` without a commune.
    pub bloc: Option<String>,
}

/// The columns of a [`Record`], read `FROM` [`RECORD_TABLES`].
pub(super) const RECORD_COLUMNS: &str = "r.source_id, s.nom, r.external_id, r.lieu_id, r.data, \
     r.code_insee, r.latitude, r.longitude, r.approximate, COALESCE(l.created_at, r.imported_at), \
     CAST(CASE WHEN l.id IS NULL THEN 0 ELSE 1 END AS BIGINT), r.imported_at, r.bloc";
pub(super) const RECORD_TABLES: &str = "lieu_records r JOIN lieu_sources s ON s.id = r.source_id \
     LEFT JOIN lieux l ON l.id = r.lieu_id";

pub(super) fn record_from(r: &AnyRow) -> Record {
    Record {
        source_id: SourceId(r.get(0)),
        source: r.get(1),
        external_id: r.get(2),
        lieu_id: LieuId(r.get(3)),
        data: r.get(4),
        location: super::location_at(r, 5),
        lieu_created_at: r.get(9),
        lieu_written: r.get::<i64, _>(10) != 0,
        imported_at: r.get(11),
        bloc: r.get(12),
    }
}

/// The record that `structure`'s sources give the lieu `lieu_id` (the first by source and
/// row id when there are several), read in the caller's transaction.
pub async fn structure_record(
    tx: &mut Tx,
    structure: StructureId,
    lieu_id: &LieuId,
) -> Result<Option<Record>, StoreError> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM {RECORD_TABLES} \
         JOIN lieu_source_owners o ON o.source_id = r.source_id \
         WHERE o.structure_id = $1 AND r.lieu_id = $2 \
         ORDER BY r.source_id, r.external_id LIMIT 1"
    );
    Ok(statement!(&sql, structure.0, lieu_id.as_str())
        .fetch_optional(&mut **tx)
        .await?
        .as_ref()
        .map(record_from))
}

/// The stored rows of a source among `external_ids`, by external id: one query for a
/// batch of an import instead of one per row.
pub async fn records(
    tx: &mut Tx,
    source: SourceId,
    external_ids: &[&str],
) -> Result<HashMap<String, RecordState>, StoreError> {
    if external_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT r.external_id, r.lieu_id, r.fingerprint, r.code_insee, \
         CAST(CASE WHEN l.id IS NULL THEN 0 ELSE 1 END AS BIGINT) \
         FROM lieu_records r LEFT JOIN lieux l ON l.id = r.lieu_id \
         WHERE r.source_id = {} AND r.external_id IN ({})",
        marks(tx, 1, 1),
        marks(tx, 2, external_ids.len())
    );
    let mut query = statement!(&sql, source.0);
    for id in external_ids {
        query = query.bind(*id);
    }
    Ok(query
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| {
            (
                r.get(0),
                RecordState {
                    lieu_id: LieuId(r.get(1)),
                    fingerprint: r.get(2),
                    code_insee: r.get(3),
                    lieu_written: r.get::<i64, _>(4) != 0,
                },
            )
        })
        .collect())
}

/// Creates or replaces records (an import's batch), many per statement; each
/// (source, row id) at most once.
pub async fn put_records(
    tx: &mut Tx,
    records: &[NewRecord<'_>],
    now: i64,
) -> Result<(), StoreError> {
    for chunk in records.chunks(UPSERT_ROWS) {
        let sql = format!(
            "INSERT INTO lieu_records (source_id, external_id, lieu_id, data, fingerprint, \
             imported_at, code_insee, latitude, longitude, approximate, commune_entiere, bloc) \
             VALUES {} \
             ON CONFLICT (source_id, external_id) DO UPDATE SET lieu_id = excluded.lieu_id, \
             data = excluded.data, fingerprint = excluded.fingerprint, \
             imported_at = excluded.imported_at, code_insee = excluded.code_insee, \
             latitude = excluded.latitude, longitude = excluded.longitude, \
             approximate = excluded.approximate, commune_entiere = excluded.commune_entiere, \
             bloc = excluded.bloc",
            values(tx, chunk.len(), 12)
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.source.0)
                .bind(r.external_id)
                .bind(r.lieu_id.as_str())
                .bind(r.data)
                .bind(r.fingerprint)
                .bind(now);
            // Its whole commune; the merge joins it to a group of communes if it must
            // (`services::lieux::fusion::regroup`), before it looks at the block.
            let commune = r
                .location
                .code_insee
                .as_deref()
                .map(relais_domain::territoires::commune_entiere);
            q = super::bind_location(q, r.location)
                .bind(commune)
                .bind(commune);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
