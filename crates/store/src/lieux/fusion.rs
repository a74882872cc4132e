//! The cross-source merge: records as the merge sees them, decisions on pairs, the
//! review list, merged lieux and the aliases of their former ids.

use std::collections::{BTreeMap, HashMap};

use relais_domain::ids::{LieuId, SourceId};
use sqlx::Row;
use sqlx::any::AnyRow;

use super::records::{RECORD_COLUMNS, RECORD_TABLES, Record, record_from};
use super::{COLUMNS, LieuOrigines, UPSERT_ROWS, lieu_origines_from, values};
use crate::db::marks;
use crate::{Db, StoreError, Tx};

/// The records of a block (a whole commune, `domain::territoires::commune_entiere`, with
/// its arrondissements; or a group of neighbouring communes), in no order.
pub async fn commune_records(tx: &mut Tx, bloc: &str) -> Result<Vec<Record>, StoreError> {
    records_of_communes(tx, &[bloc]).await
}

/// One record.
pub async fn record(tx: &mut Tx, key: &RecordKey) -> Result<Option<Record>, StoreError> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM {RECORD_TABLES} \
         WHERE r.source_id = $1 AND r.external_id = $2"
    );
    Ok(statement!(&sql, key.source_id.0, &key.external_id)
        .fetch_optional(&mut **tx)
        .await?
        .as_ref()
        .map(record_from))
}

/// A record of a lieu and the merge's block it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPlace {
    pub key: RecordKey,
    pub bloc: Option<String>,
}

/// The records a lieu is made of, by source and row id.
pub async fn lieu_records(db: &Db, lieu_id: &LieuId) -> Result<Vec<RecordPlace>, StoreError> {
    Ok(statement!(
        "SELECT source_id, external_id, bloc FROM lieu_records WHERE lieu_id = $1 \
         ORDER BY source_id, external_id",
        lieu_id.as_str()
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| RecordPlace {
        key: key_from(r, 0),
        bloc: r.get(2),
    })
    .collect())
}

/// How many records of `source` are merged with another record.
pub async fn merged_records(db: &Db, source: &str) -> Result<i64, StoreError> {
    Ok(statement!(
        "SELECT COUNT(*) FROM lieu_records r JOIN lieu_sources s ON s.id = r.source_id \
         WHERE s.nom = $1 AND EXISTS (SELECT 1 FROM lieu_records o WHERE o.lieu_id = r.lieu_id \
         AND (o.source_id <> r.source_id OR o.external_id <> r.external_id))",
        source
    )
    .fetch_one(db.pool())
    .await?
    .get(0))
}

/// Pairs to review with a record of `source` on one side.
pub async fn review_count(db: &Db, source: &str) -> Result<i64, StoreError> {
    Ok(statement!(
        "SELECT COUNT(*) FROM fusion_revue f JOIN lieu_sources s ON s.nom = $1 \
         WHERE f.source_a = s.id OR f.source_b = s.id",
        source
    )
    .fetch_one(db.pool())
    .await?
    .get(0))
}

/// A record by its source and row id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordKey {
    pub source_id: SourceId,
    pub external_id: String,
}

/// The record key in the columns `at` (source id) and `at + 1` (row id).
fn key_from(r: &AnyRow, at: usize) -> RecordKey {
    RecordKey {
        source_id: SourceId(r.get(at)),
        external_id: r.get(at + 1),
    }
}

/// What a person decided about two records.
#[derive(Debug, Clone, PartialEq)]
pub struct PairDecision {
    pub a: RecordKey,
    pub b: RecordKey,
    /// `distinct` or `same`.
    pub decision: String,
}

/// The decisions taken on records of a commune.
pub async fn decisions(tx: &mut Tx, code_insee: &str) -> Result<Vec<PairDecision>, StoreError> {
    Ok(decisions_of_communes(tx, &[code_insee])
        .await?
        .remove(code_insee)
        .unwrap_or_default())
}

/// Records (or replaces) a decision on a pair, `a` before `b`; the pair leaves the review.
pub async fn put_decision(
    tx: &mut Tx,
    d: &PairDecision,
    code_insee: &str,
    now: i64,
) -> Result<(), StoreError> {
    statement!(
        "INSERT INTO fusion_decisions (source_a, external_a, source_b, external_b, code_insee, \
         decision, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (source_a, \
         external_a, source_b, external_b) DO UPDATE SET decision = excluded.decision, code_insee \
         = excluded.code_insee, decided_at = excluded.decided_at",
        d.a.source_id.0,
        &d.a.external_id,
        d.b.source_id.0,
        &d.b.external_id,
        code_insee,
        &d.decision,
        now,
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A pair the rules could not decide.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewPair {
    pub a: RecordKey,
    pub b: RecordKey,
    pub score: f64,
    pub details: String,
}

/// The review list of a commune becomes `pairs`.
pub async fn replace_review(
    tx: &mut Tx,
    code_insee: &str,
    pairs: &[ReviewPair],
    now: i64,
) -> Result<(), StoreError> {
    statement!("DELETE FROM fusion_revue WHERE code_insee = $1", code_insee)
        .execute(&mut **tx)
        .await?;
    for p in pairs {
        statement!(
            "INSERT INTO fusion_revue (source_a, external_a, source_b, external_b, code_insee, \
             score, details, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            p.a.source_id.0,
            &p.a.external_id,
            p.b.source_id.0,
            &p.b.external_id,
            code_insee,
            p.score,
            &p.details,
            now,
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// A pair to review as a person reads it: both lieux, their names and sources.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewItem {
    pub code_insee: String,
    pub score: f64,
    pub details: String,
    pub lieu_a: LieuId,
    pub source_a: String,
    pub external_a: String,
    pub data_a: String,
    pub lieu_b: LieuId,
    pub source_b: String,
    pub external_b: String,
    pub data_b: String,
}

/// Every pair to review, highest score first.
pub async fn review(db: &Db) -> Result<Vec<ReviewItem>, StoreError> {
    Ok(sqlx::query(
        "SELECT v.code_insee, v.score, v.details, ra.lieu_id, sa.nom, ra.external_id, ra.data, \
         rb.lieu_id, sb.nom, rb.external_id, rb.data \
         FROM fusion_revue v \
         JOIN lieu_records ra ON ra.source_id = v.source_a AND ra.external_id = v.external_a \
         JOIN lieu_sources sa ON sa.id = v.source_a \
         JOIN lieu_records rb ON rb.source_id = v.source_b AND rb.external_id = v.external_b \
         JOIN lieu_sources sb ON sb.id = v.source_b \
         ORDER BY v.score DESC, v.code_insee, ra.lieu_id, rb.lieu_id",
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| ReviewItem {
        code_insee: r.get(0),
        score: r.get(1),
        details: r.get(2),
        lieu_a: LieuId(r.get(3)),
        source_a: r.get(4),
        external_a: r.get(5),
        data_a: r.get(6),
        lieu_b: LieuId(r.get(7)),
        source_b: r.get(8),
        external_b: r.get(9),
        data_b: r.get(10),
    })
    .collect())
}

/// What the merge looks at: the blocks that have records, and the records without a
/// commune.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeBlocks {
    pub communes: Vec<String>,
    pub alone: Vec<RecordKey>,
}

pub async fn merge_blocks(db: &Db) -> Result<MergeBlocks, StoreError> {
    let communes =
        sqlx::query("SELECT DISTINCT bloc FROM lieu_records WHERE bloc IS NOT NULL ORDER BY bloc")
            .fetch_all(db.pool())
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
    let alone = sqlx::query(
        "SELECT source_id, external_id FROM lieu_records WHERE bloc IS NULL \
         ORDER BY source_id, external_id",
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| key_from(r, 0))
    .collect();
    Ok(MergeBlocks { communes, alone })
}

/// How many records each lieu of a block's records has, whatever their block: a lieu
/// that also holds records of elsewhere is not the block's to rebuild.
pub async fn lieu_sizes_of_commune(tx: &mut Tx, bloc: &str) -> Result<Sizes, StoreError> {
    let rows = statement!(
        "SELECT lieu_id, COUNT(*) FROM lieu_records WHERE lieu_id IN \
         (SELECT lieu_id FROM lieu_records WHERE bloc = $1) GROUP BY lieu_id",
        bloc
    )
    .fetch_all(&mut **tx)
    .await?;
    Ok(sizes_from(&rows))
}

/// How many records each lieu has.
pub type Sizes = HashMap<LieuId, i64>;

fn sizes_from(rows: &[AnyRow]) -> Sizes {
    rows.iter().map(|r| (LieuId(r.get(0)), r.get(1))).collect()
}

/// How many records the lieu `id` has.
pub async fn lieu_size(tx: &mut Tx, id: &LieuId) -> Result<i64, StoreError> {
    Ok(statement!(
        "SELECT COUNT(*) FROM lieu_records WHERE lieu_id = $1",
        id.as_str()
    )
    .fetch_one(&mut **tx)
    .await?
    .get(0))
}

/// A record with an exact position and a commune: what the merge needs to join
/// neighbouring communes.
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedRecord {
    pub key: RecordKey,
    pub commune: String,
    pub latitude: f64,
    pub longitude: f64,
}

/// The records with an exact position and a commune that may be within `reach_m` of a
/// record of another commune: those in a cell, 2 × `reach_m` a side, holding records of
/// two communes, in one of four grids offset by half a cell. Two points within reach share
/// a cell of one of them (along each axis, half a cell apart at most), so no such pair is
/// left out; the cells are counted by the database, and only the records of mixed cells
/// are read (a tenth of them on a national file, instead of all).
pub async fn records_near_other_communes(
    db: &Db,
    reach_m: f64,
) -> Result<Vec<PlacedRecord>, StoreError> {
    // Degrees per cell: 111 km per degree of latitude, at least 70 km per degree of
    // longitude up to 51° N. Integer casts truncate (SQLite) or round (PostgreSQL): either
    // way each grid is regular and the two offsets differ by half a cell.
    let (ky, kx) = (111_000.0 / (2.0 * reach_m), 70_000.0 / (2.0 * reach_m));
    let cell = |offset: &str| {
        format!(
            "CAST(latitude * {ky} + {offset} AS INT) AS y{offset_name}, \
             CAST(longitude * {kx} + {offset} AS INT) AS x{offset_name}",
            offset_name = if offset == "0" { "0" } else { "1" }
        )
    };
    let mixed = |y: &str, x: &str| {
        format!(
            "({y}, {x}) IN (SELECT {y}, {x} FROM cells GROUP BY {y}, {x} \
             HAVING MIN(commune_entiere) <> MAX(commune_entiere))"
        )
    };
    let sql = format!(
        "WITH cells AS MATERIALIZED (SELECT source_id, external_id, commune_entiere, latitude, longitude, \
         {}, {} FROM lieu_records WHERE approximate = 0 AND latitude IS NOT NULL \
         AND longitude IS NOT NULL AND commune_entiere IS NOT NULL) \
         SELECT source_id, external_id, commune_entiere, latitude, longitude FROM cells \
         WHERE {} OR {} OR {} OR {}",
        cell("0"),
        cell("0.5"),
        mixed("y0", "x0"),
        mixed("y0", "x1"),
        mixed("y1", "x0"),
        mixed("y1", "x1"),
    );
    Ok(sqlx::query(&sql)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|r| PlacedRecord {
            key: key_from(r, 0),
            commune: r.get(2),
            latitude: r.get(3),
            longitude: r.get(4),
        })
        .collect())
}

/// The records of `keys` that exist, a query per source and list of [`IN_LIST`] ids.
pub async fn records_by_keys(db: &Db, keys: &[RecordKey]) -> Result<Vec<Record>, StoreError> {
    let mut by_source: BTreeMap<SourceId, Vec<&str>> = BTreeMap::new();
    for k in keys {
        by_source
            .entry(k.source_id)
            .or_default()
            .push(k.external_id.as_str());
    }
    let mut tx = db.begin().await?;
    let mut out = Vec::new();
    for (source, ids) in by_source {
        let sql = |marks: &str| {
            format!(
                "SELECT {RECORD_COLUMNS} FROM {RECORD_TABLES} \
                 WHERE r.source_id = {source} AND r.external_id IN ({marks})",
                source = source.0
            )
        };
        out.extend(fetch_in(&mut tx, sql, &ids).await?.iter().map(record_from));
    }
    crate::commit(tx).await?;
    Ok(out)
}

/// The communes whose records are in another block than their own, with that block.
pub async fn grouped_communes(db: &Db) -> Result<Vec<(String, String)>, StoreError> {
    Ok(sqlx::query(
        "SELECT DISTINCT commune_entiere, bloc FROM lieu_records \
         WHERE commune_entiere IS NOT NULL AND bloc <> commune_entiere ORDER BY 1, 2",
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect())
}

/// Puts the records of each commune in its block, (commune, block), in one transaction;
/// the blocks they leave.
pub async fn set_blocs(db: &Db, moves: &[(&str, &str)]) -> Result<Vec<String>, StoreError> {
    let mut tx = db.begin().await?;
    let mut left = Vec::new();
    for (commune, bloc) in moves {
        left.extend(
            statement!(
                "SELECT DISTINCT bloc FROM lieu_records WHERE commune_entiere = $1 AND bloc <> $2",
                *commune,
                *bloc
            )
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|r| r.get::<String, _>(0)),
        );
        statement!(
            "UPDATE lieu_records SET bloc = $1 WHERE commune_entiere = $2 AND bloc <> $1",
            *bloc,
            *commune
        )
        .execute(&mut *tx)
        .await?;
    }
    crate::commit(tx).await?;
    Ok(left)
}

// ---- The merge by batches: many communes per query, many lieux per statement ---------

/// Communes (or ids) per `IN (…)` list: far below SQLite's limit on bound parameters.
const IN_LIST: usize = 500;

/// `sql(marks)` run for `keys` by lists of [`IN_LIST`] (`marks`: as many parameters as
/// keys, for an `IN (…)`), the rows of every list together.
async fn fetch_in<K: AsRef<str>>(
    tx: &mut Tx,
    sql: impl Fn(&str) -> String,
    keys: &[K],
) -> Result<Vec<AnyRow>, StoreError> {
    let mut out = Vec::new();
    for chunk in keys.chunks(IN_LIST) {
        let sql = sql(&marks(tx, 1, chunk.len()));
        let mut q = sqlx::query(&sql);
        for k in chunk {
            q = q.bind(k.as_ref());
        }
        out.extend(q.fetch_all(&mut **tx).await?);
    }
    Ok(out)
}

/// The records of `codes`, in no order (sorting a thousand wide rows in SQLite costs more
/// than sorting them after).
pub async fn records_of_communes<K: AsRef<str>>(
    tx: &mut Tx,
    codes: &[K],
) -> Result<Vec<Record>, StoreError> {
    let sql = |marks: &str| {
        format!("SELECT {RECORD_COLUMNS} FROM {RECORD_TABLES} WHERE r.bloc IN ({marks})")
    };
    Ok(fetch_in(tx, sql, codes)
        .await?
        .iter()
        .map(record_from)
        .collect())
}

/// The decisions taken on records of `codes`, by commune.
pub async fn decisions_of_communes<K: AsRef<str>>(
    tx: &mut Tx,
    codes: &[K],
) -> Result<HashMap<String, Vec<PairDecision>>, StoreError> {
    let sql = |marks: &str| {
        // By the block its first record is in now, not the one it was taken in: a group
        // of communes formed or parted since keeps its decisions.
        format!(
            "SELECT r.bloc, d.source_a, d.external_a, d.source_b, d.external_b, d.decision \
             FROM fusion_decisions d JOIN lieu_records r \
             ON r.source_id = d.source_a AND r.external_id = d.external_a \
             WHERE r.bloc IN ({marks})"
        )
    };
    let mut out: HashMap<String, Vec<PairDecision>> = HashMap::new();
    for r in fetch_in(tx, sql, codes).await? {
        out.entry(r.get(0)).or_default().push(PairDecision {
            a: key_from(&r, 1),
            b: key_from(&r, 3),
            decision: r.get(5),
        });
    }
    Ok(out)
}

/// How many records each of the lieux `ids` has (those that have some).
pub async fn lieu_sizes(tx: &mut Tx, ids: &[LieuId]) -> Result<Sizes, StoreError> {
    let sql = |marks: &str| {
        format!(
            "SELECT lieu_id, COUNT(*) FROM lieu_records WHERE lieu_id IN ({marks}) GROUP BY lieu_id"
        )
    };
    Ok(sizes_from(&fetch_in(tx, sql, ids).await?))
}

/// The review lists of `codes`, by commune, each by pair.
pub async fn review_of_communes(
    tx: &mut Tx,
    codes: &[String],
) -> Result<HashMap<String, Vec<ReviewPair>>, StoreError> {
    let sql = |marks: &str| {
        format!(
            "SELECT code_insee, source_a, external_a, source_b, external_b, score, details \
             FROM fusion_revue WHERE code_insee IN ({marks}) \
             ORDER BY code_insee, source_a, external_a, source_b, external_b"
        )
    };
    let mut out: HashMap<String, Vec<ReviewPair>> = HashMap::new();
    for r in fetch_in(tx, sql, codes).await? {
        out.entry(r.get(0)).or_default().push(ReviewPair {
            a: key_from(&r, 1),
            b: key_from(&r, 3),
            score: r.get(5),
            details: r.get(6),
        });
    }
    Ok(out)
}

/// The lieux among `ids` that exist, with their origins, read inside a transaction.
pub async fn lieux_for_update(
    tx: &mut Tx,
    ids: &[LieuId],
) -> Result<Vec<LieuOrigines>, StoreError> {
    let sql = |marks: &str| format!("SELECT {COLUMNS}, origines FROM lieux WHERE id IN ({marks})");
    Ok(fetch_in(tx, sql, ids)
        .await?
        .iter()
        .map(lieu_origines_from)
        .collect())
}

/// Creates or replaces merged lieux with the origins of their values, many per statement
/// (their creation time is kept); each id at most once.
pub async fn put_merged_lieux(
    tx: &mut Tx,
    lieux: &[LieuOrigines],
    now: i64,
) -> Result<(), StoreError> {
    for chunk in lieux.chunks(UPSERT_ROWS) {
        let sql = format!(
            "INSERT INTO lieux (id, data, provenance, code_insee, latitude, longitude, approximate, \
             date_maj, created_at, origines, updated_at) VALUES {} \
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, provenance = excluded.provenance, \
             code_insee = excluded.code_insee, latitude = excluded.latitude, \
             longitude = excluded.longitude, approximate = excluded.approximate, \
             date_maj = excluded.date_maj, updated_at = excluded.updated_at, \
             origines = excluded.origines",
            values(tx, chunk.len(), 11)
        );
        let mut q = sqlx::query(&sql);
        for LieuOrigines { lieu: l, origines } in chunk {
            q = q.bind(l.id.as_str()).bind(&l.data).bind(&l.provenance);
            q = super::bind_location(q, &l.location)
                .bind(&l.date_maj)
                .bind(now)
                .bind(origines)
                .bind(now);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Attaches records to other lieux: (record, its new lieu), each record once.
pub async fn set_records_lieux(
    tx: &mut Tx,
    moves: &[(RecordKey, LieuId)],
) -> Result<(), StoreError> {
    for chunk in moves.chunks(IN_LIST / 5) {
        let mut cases = String::new();
        let mut keys = Vec::new();
        for i in 0..chunk.len() {
            let m = marks(tx, i * 3 + 1, 3);
            let m: Vec<&str> = m.split(", ").collect();
            cases.push_str(&format!(
                " WHEN source_id = {} AND external_id = {} THEN {}",
                m[0], m[1], m[2]
            ));
        }
        let from = chunk.len() * 3 + 1;
        for i in 0..chunk.len() {
            let m = marks(tx, from + i * 2, 2);
            let m: Vec<&str> = m.split(", ").collect();
            keys.push(format!("(source_id = {} AND external_id = {})", m[0], m[1]));
        }
        let sql = format!(
            "UPDATE lieu_records SET lieu_id = CASE{cases} END WHERE {}",
            keys.join(" OR ")
        );
        let mut q = sqlx::query(&sql);
        for (key, lieu_id) in chunk {
            q = q
                .bind(key.source_id.0)
                .bind(key.external_id.as_str())
                .bind(lieu_id.as_str());
        }
        for (key, _) in chunk {
            q = q.bind(key.source_id.0).bind(key.external_id.as_str());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Deletes lieux left without records (the caller knows they are).
pub async fn delete_lieux(tx: &mut Tx, ids: &[LieuId]) -> Result<(), StoreError> {
    fetch_in(
        tx,
        |marks| format!("DELETE FROM lieux WHERE id IN ({marks})"),
        ids,
    )
    .await?;
    Ok(())
}

/// Forgets `ids` as former ids (lieux about to be written under them).
pub async fn delete_aliases(tx: &mut Tx, ids: &[&LieuId]) -> Result<(), StoreError> {
    let sql = |marks: &str| format!("DELETE FROM lieu_alias WHERE old_id IN ({marks})");
    fetch_in(tx, sql, ids).await?;
    Ok(())
}

/// Makes each old id answer with its lieu: (old id, lieu id), no lieu id among the old
/// ids; aliases that pointed to an old id now point to its lieu.
pub async fn put_aliases(
    tx: &mut Tx,
    aliases: &[(LieuId, LieuId)],
    now: i64,
) -> Result<(), StoreError> {
    for chunk in aliases.chunks(IN_LIST / 5) {
        let sql = format!(
            "INSERT INTO lieu_alias (old_id, lieu_id, created_at) VALUES {} \
             ON CONFLICT (old_id) DO UPDATE SET lieu_id = excluded.lieu_id",
            values(tx, chunk.len(), 3)
        );
        let mut q = sqlx::query(&sql);
        for (old, new) in chunk {
            q = q.bind(old.as_str()).bind(new.as_str()).bind(now);
        }
        q.execute(&mut **tx).await?;
        let mut cases = String::new();
        for i in 0..chunk.len() {
            let m = marks(tx, i * 2 + 1, 2);
            let m: Vec<&str> = m.split(", ").collect();
            cases.push_str(&format!(" WHEN {} THEN {}", m[0], m[1]));
        }
        let sql = format!(
            "UPDATE lieu_alias SET lieu_id = CASE lieu_id{cases} END WHERE lieu_id IN ({})",
            marks(tx, chunk.len() * 2 + 1, chunk.len())
        );
        let mut q = sqlx::query(&sql);
        for (old, new) in chunk {
            q = q.bind(old.as_str()).bind(new.as_str());
        }
        for (old, _) in chunk {
            q = q.bind(old.as_str());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
