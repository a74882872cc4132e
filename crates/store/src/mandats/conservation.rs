//! Retention: the mandates that ended long enough ago, and their deletion with what
//! hangs on them. The rule (how long) is `relais_domain::mandats::CONSERVATION_MS`.

use relais_domain::ids::{AutorisationId, MandatId, StructureId, UsagerId};
use sqlx::Row;

use crate::{Db, StoreError, Tx};

/// A mandate whose every démarche ended, expired or revoked, before a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fini {
    pub mandat: MandatId,
    pub structure: StructureId,
    pub usager: UsagerId,
}

/// The mandates whose every démarche ended before `avant` (at its end, or at its
/// revocation if that came first), oldest first, `n` at most.
pub async fn finis_avant(db: &Db, avant: i64, n: i64) -> Result<Vec<Fini>, StoreError> {
    Ok(statement!(
        "SELECT m.id, m.structure_id, m.usager_id FROM mandats m \
         JOIN autorisations a ON a.mandat_id = m.id \
         GROUP BY m.id, m.structure_id, m.usager_id \
         HAVING MAX(CASE WHEN a.revoquee_le IS NOT NULL AND a.revoquee_le < a.fin \
         THEN a.revoquee_le ELSE a.fin END) < $1 ORDER BY m.id LIMIT $2",
        avant,
        n
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| Fini {
        mandat: MandatId(r.get(0)),
        structure: StructureId(r.get(1)),
        usager: UsagerId(r.get(2)),
    })
    .collect())
}

/// The démarches of a mandate, in `tx`.
pub async fn autorisations(
    tx: &mut Tx,
    mandat: MandatId,
) -> Result<Vec<AutorisationId>, StoreError> {
    Ok(statement!(
        "SELECT id FROM autorisations WHERE mandat_id = $1 ORDER BY id",
        mandat.0
    )
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| AutorisationId(r.get(0)))
    .collect())
}

/// Deletes the mandate `f` and what hangs on it (its démarches, their uses, codes and
/// tokens, its transfers; a draft renewing it forgets it), and the usager with their
/// sessions when no other mandate of theirs remains: returns whether they were deleted.
pub async fn supprimer(tx: &mut Tx, f: &Fini) -> Result<bool, StoreError> {
    let of_mandate = "autorisation_id IN (SELECT id FROM autorisations WHERE mandat_id = $1)";
    for table in ["jetons_oidc", "codes_oidc", "utilisations"] {
        statement!(
            &format!("DELETE FROM {table} WHERE {of_mandate}"),
            f.mandat.0
        )
        .execute(&mut **tx)
        .await?;
    }
    for sql in [
        "DELETE FROM mandat_transferts WHERE mandat_id = $1",
        "UPDATE mandat_brouillons SET renouvelle = NULL WHERE renouvelle = $1",
        "DELETE FROM autorisations WHERE mandat_id = $1",
        "DELETE FROM mandats WHERE id = $1",
    ] {
        statement!(sql, f.mandat.0).execute(&mut **tx).await?;
    }
    let others: i64 = statement!(
        "SELECT COUNT(*) FROM mandats WHERE usager_id = $1",
        f.usager.0
    )
    .fetch_one(&mut **tx)
    .await?
    .get(0);
    if others > 0 {
        return Ok(false);
    }
    for sql in [
        "DELETE FROM usager_sessions WHERE usager_id = $1",
        "DELETE FROM usagers WHERE id = $1",
    ] {
        statement!(sql, f.usager.0).execute(&mut **tx).await?;
    }
    Ok(true)
}
