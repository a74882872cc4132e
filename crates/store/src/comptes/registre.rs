//! The structures a register (a producer's list of structures) made: read back by the
//! import to compare, created or updated by it.

use relais_domain::comptes::StructureKind;
use relais_domain::comptes::registre::{Preuve, StructureLabel};
use relais_domain::ids::{LieuId, StructureId};
use sqlx::Row;

use super::{SELECT_STRUCTURE, Structure, all_where, structure_from};
use crate::{Db, StoreError, Tx};

/// A structure as a register lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructureRegistre {
    /// Its id in the register.
    pub source_id: String,
    pub siret: String,
    pub nom: String,
    pub kind: StructureKind,
    pub adresse: String,
    pub commune: String,
    pub labels: Vec<StructureLabel>,
    pub qpv: Option<bool>,
    pub zrr: Option<bool>,
    pub active: bool,
}

/// The structures the register `source` made.
pub async fn of_source(db: &Db, source: &str) -> Result<Vec<Structure>, StoreError> {
    all_where(
        db,
        &format!("{SELECT_STRUCTURE} WHERE source = $1 ORDER BY id"),
        source.to_string(),
        structure_from,
    )
    .await
}

pub async fn insert(
    tx: &mut Tx,
    source: &str,
    s: &StructureRegistre,
    now: i64,
) -> Result<StructureId, StoreError> {
    let row = statement!(
        "INSERT INTO structures (siret, nom, kind, adresse, commune, created_at, \
         deactivated_at, labels, qpv, zrr, source, source_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        &s.siret,
        &s.nom,
        s.kind.as_str(),
        &s.adresse,
        &s.commune,
        now,
        (!s.active).then_some(now),
        StructureLabel::join(&s.labels),
        s.qpv.map(i64::from),
        s.zrr.map(i64::from),
        source,
        &s.source_id
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(StructureId(row.get(0)))
}

/// Writes the register's values over a structure it made; `deactivated_at` as the
/// caller decided it (kept when it stays inactive).
pub async fn update(
    tx: &mut Tx,
    id: StructureId,
    s: &StructureRegistre,
    deactivated_at: Option<i64>,
) -> Result<(), StoreError> {
    statement!(
        "UPDATE structures SET siret = $1, nom = $2, kind = $3, adresse = $4, commune = $5, \
         deactivated_at = $6, labels = $7, qpv = $8, zrr = $9 WHERE id = $10",
        &s.siret,
        &s.nom,
        s.kind.as_str(),
        &s.adresse,
        &s.commune,
        deactivated_at,
        StructureLabel::join(&s.labels),
        s.qpv.map(i64::from),
        s.zrr.map(i64::from),
        id.0
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces the lieux found for the structures of the register `source`.
pub async fn replace_lieux(
    tx: &mut Tx,
    source: &str,
    pairs: &[(StructureId, LieuId, Preuve)],
) -> Result<(), StoreError> {
    statement!(
        "DELETE FROM structure_lieux WHERE structure_id IN \
         (SELECT id FROM structures WHERE source = $1)",
        source
    )
    .execute(&mut **tx)
    .await?;
    for (structure, lieu, preuve) in pairs {
        statement!(
            "INSERT INTO structure_lieux (structure_id, lieu_id, preuve) VALUES ($1, $2, $3)",
            structure.0,
            lieu.as_str(),
            preuve.as_str()
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// The lieux found for a structure, with why.
pub async fn lieux_of(
    db: &Db,
    structure: StructureId,
) -> Result<Vec<(LieuId, Preuve)>, StoreError> {
    let rows = statement!(
        "SELECT lieu_id, preuve FROM structure_lieux WHERE structure_id = $1 ORDER BY lieu_id",
        structure.0
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some((
                LieuId(r.get::<String, _>(0)),
                Preuve::parse(r.get::<&str, _>(1))?,
            ))
        })
        .collect())
}

/// The structures a lieu was found to belong to: (id, name), by name.
pub async fn structures_of_lieu(
    db: &Db,
    lieu: &LieuId,
) -> Result<Vec<(StructureId, String)>, StoreError> {
    let rows = statement!(
        "SELECT s.id, s.nom FROM structure_lieux sl JOIN structures s ON s.id = sl.structure_id \
         WHERE sl.lieu_id = $1 ORDER BY s.nom",
        lieu.as_str()
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .iter()
        .map(|r| (StructureId(r.get(0)), r.get(1)))
        .collect())
}
