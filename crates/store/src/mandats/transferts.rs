//! A mandate's move to another structure: proposed by one, decided by the other.

use relais_domain::ids::{MandatId, PersonId, StructureId, TransfertId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfert {
    pub id: TransfertId,
    pub mandat: MandatId,
    pub de: StructureId,
    pub de_nom: String,
    pub vers: StructureId,
    pub vers_nom: String,
    pub propose_le: i64,
    /// `acceptee` or `refusee`, once decided.
    pub decision: Option<String>,
}

const SELECT: &str = "SELECT t.id, t.mandat_id, t.de_structure, d.nom, t.vers_structure, v.nom, \
     t.propose_le, t.decision FROM mandat_transferts t JOIN structures d ON d.id = t.de_structure \
     JOIN structures v ON v.id = t.vers_structure";

fn from_row(r: &AnyRow) -> Transfert {
    Transfert {
        id: TransfertId(r.get(0)),
        mandat: MandatId(r.get(1)),
        de: StructureId(r.get(2)),
        de_nom: r.get(3),
        vers: StructureId(r.get(4)),
        vers_nom: r.get(5),
        propose_le: r.get(6),
        decision: r.get(7),
    }
}

pub async fn create(
    tx: &mut Tx,
    mandat: MandatId,
    de: StructureId,
    vers: StructureId,
    by: PersonId,
    now: i64,
) -> Result<TransfertId, StoreError> {
    Ok(TransfertId(
        statement!(
            "INSERT INTO mandat_transferts (mandat_id, de_structure, vers_structure, propose_par, \
             propose_le) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            mandat.0,
            de.0,
            vers.0,
            by.0,
            now
        )
        .fetch_one(&mut **tx)
        .await?
        .get(0),
    ))
}

pub async fn transfert(db: &Db, id: TransfertId) -> Result<Option<Transfert>, StoreError> {
    let sql = format!("{SELECT} WHERE t.id = $1");
    Ok(statement!(&sql, id.0)
        .fetch_optional(db.pool())
        .await?
        .map(|r| from_row(&r)))
}

/// The transfers not decided yet that involve the structure, either way.
pub async fn en_attente(db: &Db, structure: StructureId) -> Result<Vec<Transfert>, StoreError> {
    let sql = format!(
        "{SELECT} WHERE t.decision IS NULL AND (t.de_structure = $1 OR t.vers_structure = $1) \
         ORDER BY t.id"
    );
    Ok(statement!(&sql, structure.0)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(from_row)
        .collect())
}

/// Decides a transfer still undecided: `false` when it already was.
pub async fn decide(
    tx: &mut Tx,
    id: TransfertId,
    by: PersonId,
    decision: &str,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(statement!(
        "UPDATE mandat_transferts SET decision = $2, decide_par = $3, decide_le = $4 \
         WHERE id = $1 AND decision IS NULL",
        id.0,
        decision,
        by.0,
        now
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// Moves the mandate to `vers`.
pub async fn move_mandat(
    tx: &mut Tx,
    mandat: MandatId,
    vers: StructureId,
) -> Result<(), StoreError> {
    statement!(
        "UPDATE mandats SET structure_id = $2 WHERE id = $1",
        mandat.0,
        vers.0
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
