//! Usagers, their mandates and each mandate's authorizations (one per démarche family);
//! Relais as OpenID Connect provider in `fournisseur`.

pub mod conservation;
pub mod espace;
pub mod fournisseur;
pub mod transferts;

use relais_domain::ids::{AutorisationId, BrouillonId, MandatId, PersonId, StructureId, UsagerId};
use relais_domain::mandats::{Autorisation, Demarche, Duree};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{Db, StoreError, Tx};

/// What FranceConnect said of an usager that a mandate keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identite {
    pub given_name: String,
    pub family_name: String,
    pub birthdate: String,
    pub birthplace: Option<String>,
    pub birthcountry: Option<String>,
    pub gender: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usager {
    pub id: UsagerId,
    pub identite: Identite,
}

/// The usager of `sub_hash`, created or brought up to date with what FranceConnect says
/// now (a name changes with a marriage).
pub async fn put_usager(
    tx: &mut Tx,
    sub_hash: &str,
    identite: &Identite,
    now: i64,
) -> Result<UsagerId, StoreError> {
    let row = statement!(
        "INSERT INTO usagers (sub_hash, given_name, family_name, birthdate, birthplace, \
         birthcountry, gender, email, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         ON CONFLICT (sub_hash) DO UPDATE SET given_name = excluded.given_name, \
         family_name = excluded.family_name, birthdate = excluded.birthdate, \
         birthplace = excluded.birthplace, birthcountry = excluded.birthcountry, \
         gender = excluded.gender, email = excluded.email, updated_at = excluded.updated_at \
         RETURNING id",
        sub_hash,
        &identite.given_name,
        &identite.family_name,
        &identite.birthdate,
        identite.birthplace.as_deref(),
        identite.birthcountry.as_deref(),
        identite.gender.as_deref(),
        identite.email.as_deref(),
        now,
    )
    .fetch_one(&mut **tx)
    .await?;
    Ok(UsagerId(row.get(0)))
}

pub async fn usager(db: &Db, id: UsagerId) -> Result<Option<Usager>, StoreError> {
    Ok(statement!(
        "SELECT id, given_name, family_name, birthdate, birthplace, birthcountry, gender, \
         email FROM usagers WHERE id = $1",
        id.0
    )
    .fetch_optional(db.pool())
    .await?
    .map(|r| Usager {
        id: UsagerId(r.get(0)),
        identite: Identite {
            given_name: r.get(1),
            family_name: r.get(2),
            birthdate: r.get(3),
            birthplace: r.get(4),
            birthcountry: r.get(5),
            gender: r.get(6),
            email: r.get(7),
        },
    }))
}

/// A mandate about to be written: its authorizations start at `debut` and end at `fin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NouveauMandat<'a> {
    pub structure: StructureId,
    pub usager: UsagerId,
    pub aidant: PersonId,
    pub duree: Duree,
    pub demarches: &'a [Demarche],
    pub debut: i64,
    pub fin: i64,
    pub empreinte: &'a str,
}

/// Writes a mandate and one authorization per démarche family.
pub async fn create_mandat(tx: &mut Tx, m: &NouveauMandat<'_>) -> Result<MandatId, StoreError> {
    let id = MandatId(
        statement!(
            "INSERT INTO mandats (structure_id, usager_id, aidant_id, duree, debut, fin, \
             empreinte, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $5) RETURNING id",
            m.structure.0,
            m.usager.0,
            m.aidant.0,
            m.duree.code(),
            m.debut,
            m.fin,
            m.empreinte,
        )
        .fetch_one(&mut **tx)
        .await?
        .get(0),
    );
    for d in m.demarches {
        statement!(
            "INSERT INTO autorisations (mandat_id, demarche, fin) VALUES ($1, $2, $3)",
            id.0,
            d.code(),
            m.fin
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(id)
}

/// An authorization as stored, with its mandate's structure and usager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutorisationStockee {
    pub id: AutorisationId,
    pub mandat: MandatId,
    pub structure: StructureId,
    pub usager: UsagerId,
    pub autorisation: Autorisation,
}

const AUTORISATION_COLUMNS: &str = "a.id, a.mandat_id, m.structure_id, m.usager_id, a.demarche, \
     a.fin, a.revoquee_le";

pub(crate) fn autorisation_from(r: &AnyRow) -> Result<AutorisationStockee, StoreError> {
    let code: String = r.get(4);
    let demarche = Demarche::parse(&code)
        .ok_or_else(|| StoreError::Corrupt(format!("autorisations.demarche « {code} »")))?;
    Ok(AutorisationStockee {
        id: AutorisationId(r.get(0)),
        mandat: MandatId(r.get(1)),
        structure: StructureId(r.get(2)),
        usager: UsagerId(r.get(3)),
        autorisation: Autorisation {
            demarche,
            fin: r.get(5),
            revoquee_le: r.get(6),
        },
    })
}

/// One authorization, read in the caller's transaction.
pub async fn autorisation(
    tx: &mut Tx,
    id: AutorisationId,
) -> Result<Option<AutorisationStockee>, StoreError> {
    let sql = format!(
        "SELECT {AUTORISATION_COLUMNS} FROM autorisations a JOIN mandats m ON m.id = a.mandat_id \
         WHERE a.id = $1"
    );
    statement!(&sql, id.0)
        .fetch_optional(&mut **tx)
        .await?
        .as_ref()
        .map(autorisation_from)
        .transpose()
}

/// The authorizations the structure holds for the usager, active at `now`.
pub async fn autorisations_actives(
    tx: &mut Tx,
    structure: StructureId,
    usager: UsagerId,
    now: i64,
) -> Result<Vec<AutorisationStockee>, StoreError> {
    let sql = format!(
        "SELECT {AUTORISATION_COLUMNS} FROM autorisations a JOIN mandats m ON m.id = a.mandat_id \
         WHERE m.structure_id = $1 AND m.usager_id = $2 AND a.revoquee_le IS NULL AND a.fin > $3 \
         ORDER BY a.id"
    );
    statement!(&sql, structure.0, usager.0, now)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(autorisation_from)
        .collect()
}

/// Every authorization of the usager's mandates, newest mandate first.
pub async fn autorisations_de_l_usager(
    db: &Db,
    usager: UsagerId,
) -> Result<Vec<AutorisationStockee>, StoreError> {
    let sql = format!(
        "SELECT {AUTORISATION_COLUMNS} FROM autorisations a JOIN mandats m ON m.id = a.mandat_id \
         WHERE m.usager_id = $1 ORDER BY m.id DESC, a.id"
    );
    statement!(&sql, usager.0)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(autorisation_from)
        .collect()
}

/// Revokes the authorizations `ids` still in force at `now`; how many it revoked.
pub async fn revoquer(tx: &mut Tx, ids: &[AutorisationId], now: i64) -> Result<u64, StoreError> {
    let mut n = 0;
    for id in ids {
        n += statement!(
            "UPDATE autorisations SET revoquee_le = $1 WHERE id = $2 AND revoquee_le IS NULL",
            now,
            id.0
        )
        .execute(&mut **tx)
        .await?
        .rows_affected();
    }
    Ok(n)
}

/// A mandate being made: what the aidant chose, then who FranceConnect identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brouillon {
    pub id: BrouillonId,
    pub structure: StructureId,
    pub aidant: PersonId,
    pub demarches: Vec<Demarche>,
    pub duree: Duree,
    /// The salted hash of the usager's `sub` and their identity, once FranceConnect answered
    /// (or from the start, for a renewal).
    pub usager: Option<(String, Identite)>,
    /// The mandate a renewal renews.
    pub renouvelle: Option<MandatId>,
    pub created_at: i64,
}

pub async fn create_brouillon(
    db: &Db,
    structure: StructureId,
    aidant: PersonId,
    demarches: &[Demarche],
    duree: Duree,
    now: i64,
) -> Result<BrouillonId, StoreError> {
    let codes: Vec<&str> = demarches.iter().map(|d| d.code()).collect();
    let row = statement!(
        "INSERT INTO mandat_brouillons (structure_id, aidant_id, demarches, duree, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        structure.0,
        aidant.0,
        codes.join(" "),
        duree.code(),
        now
    )
    .fetch_one(db.pool())
    .await?;
    Ok(BrouillonId(row.get(0)))
}

pub async fn brouillon(db: &Db, id: BrouillonId) -> Result<Option<Brouillon>, StoreError> {
    let row = statement!(
        "SELECT id, structure_id, aidant_id, demarches, duree, sub_hash, given_name, \
         family_name, birthdate, birthplace, birthcountry, gender, email, created_at, renouvelle \
         FROM mandat_brouillons WHERE id = $1",
        id.0
    )
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let codes: String = r.get(3);
    let demarches = codes
        .split_whitespace()
        .map(|c| {
            Demarche::parse(c)
                .ok_or_else(|| StoreError::Corrupt(format!("mandat_brouillons.demarches « {c} »")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let duree: String = r.get(4);
    let duree = Duree::parse(&duree)
        .ok_or_else(|| StoreError::Corrupt(format!("mandat_brouillons.duree « {duree} »")))?;
    let sub_hash: Option<String> = r.get(5);
    let usager = sub_hash.map(|h| {
        (
            h,
            Identite {
                given_name: r.get::<Option<String>, _>(6).unwrap_or_default(),
                family_name: r.get::<Option<String>, _>(7).unwrap_or_default(),
                birthdate: r.get::<Option<String>, _>(8).unwrap_or_default(),
                birthplace: r.get(9),
                birthcountry: r.get(10),
                gender: r.get(11),
                email: r.get(12),
            },
        )
    });
    Ok(Some(Brouillon {
        id: BrouillonId(r.get(0)),
        structure: StructureId(r.get(1)),
        aidant: PersonId(r.get(2)),
        demarches,
        duree,
        usager,
        created_at: r.get(13),
        renouvelle: r.get::<Option<i64>, _>(14).map(MandatId),
    }))
}

/// Marks the draft as the renewal of `mandat`.
pub async fn set_renouvelle(db: &Db, id: BrouillonId, mandat: MandatId) -> Result<(), StoreError> {
    statement!(
        "UPDATE mandat_brouillons SET renouvelle = $2 WHERE id = $1",
        id.0,
        mandat.0
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// The salted key of a mandate's usager.
pub async fn cle_de_l_usager(db: &Db, usager: UsagerId) -> Result<Option<String>, StoreError> {
    Ok(
        statement!("SELECT sub_hash FROM usagers WHERE id = $1", usager.0)
            .fetch_optional(db.pool())
            .await?
            .map(|r| r.get(0)),
    )
}

/// Mandates whose every démarche ended before `now` (expired or revoked) and whose end was
/// not journaled yet: (mandate, structure, usager, the last end).
pub async fn fins_a_journaliser(
    db: &Db,
    now: i64,
) -> Result<Vec<(MandatId, StructureId, UsagerId, i64)>, StoreError> {
    Ok(statement!(
        "SELECT m.id, m.structure_id, m.usager_id, MAX(a.fin) FROM mandats m \
         JOIN autorisations a ON a.mandat_id = m.id \
         WHERE m.expiration_journalisee_le IS NULL AND m.fin <= $1 \
         GROUP BY m.id, m.structure_id, m.usager_id \
         HAVING SUM(CASE WHEN a.revoquee_le IS NULL AND a.fin > $1 THEN 1 ELSE 0 END) = 0 \
         ORDER BY m.id",
        now
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        (
            MandatId(r.get(0)),
            StructureId(r.get(1)),
            UsagerId(r.get(2)),
            r.get(3),
        )
    })
    .collect())
}

/// Records that the mandate's end was journaled.
pub async fn marquer_expiration(
    tx: &mut Tx,
    mandat: MandatId,
    now: i64,
) -> Result<bool, StoreError> {
    Ok(statement!(
        "UPDATE mandats SET expiration_journalisee_le = $2 \
         WHERE id = $1 AND expiration_journalisee_le IS NULL",
        mandat.0,
        now
    )
    .execute(&mut **tx)
    .await?
    .rows_affected()
        == 1)
}

/// Records who FranceConnect identified for the draft.
pub async fn identifier_brouillon(
    db: &Db,
    id: BrouillonId,
    sub_hash: &str,
    identite: &Identite,
) -> Result<(), StoreError> {
    statement!(
        "UPDATE mandat_brouillons SET sub_hash = $2, given_name = $3, family_name = $4, \
         birthdate = $5, birthplace = $6, birthcountry = $7, gender = $8, email = $9 \
         WHERE id = $1",
        id.0,
        sub_hash,
        &identite.given_name,
        &identite.family_name,
        &identite.birthdate,
        identite.birthplace.as_deref(),
        identite.birthcountry.as_deref(),
        identite.gender.as_deref(),
        identite.email.as_deref()
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Deletes the draft as it is signed: `false` when it was already gone (signed twice).
pub async fn supprimer_brouillon(tx: &mut Tx, id: BrouillonId) -> Result<bool, StoreError> {
    Ok(
        statement!("DELETE FROM mandat_brouillons WHERE id = $1", id.0)
            .execute(&mut **tx)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Forgets the drafts made before `not_before` and never signed.
pub async fn purger_brouillons(db: &Db, not_before: i64) -> Result<u64, StoreError> {
    Ok(statement!(
        "DELETE FROM mandat_brouillons WHERE created_at < $1",
        not_before
    )
    .execute(db.pool())
    .await?
    .rows_affected())
}

/// A mandate as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MandatStocke {
    pub id: MandatId,
    pub structure: StructureId,
    pub usager: UsagerId,
    pub aidant: PersonId,
    pub duree: Duree,
    pub debut: i64,
    pub fin: i64,
    pub empreinte: String,
}

pub async fn mandat(db: &Db, id: MandatId) -> Result<Option<MandatStocke>, StoreError> {
    let row = statement!(
        "SELECT id, structure_id, usager_id, aidant_id, duree, debut, fin, empreinte \
         FROM mandats WHERE id = $1",
        id.0
    )
    .fetch_optional(db.pool())
    .await?;
    let Some(r) = row else { return Ok(None) };
    let duree: String = r.get(4);
    Ok(Some(MandatStocke {
        id: MandatId(r.get(0)),
        structure: StructureId(r.get(1)),
        usager: UsagerId(r.get(2)),
        aidant: PersonId(r.get(3)),
        duree: Duree::parse(&duree)
            .ok_or_else(|| StoreError::Corrupt(format!("mandats.duree « {duree} »")))?,
        debut: r.get(5),
        fin: r.get(6),
        empreinte: r.get(7),
    }))
}

/// The authorizations of one mandate, in the order they were written.
pub async fn autorisations_du_mandat(
    db: &Db,
    mandat: MandatId,
) -> Result<Vec<AutorisationStockee>, StoreError> {
    let sql = format!(
        "SELECT {AUTORISATION_COLUMNS} FROM autorisations a JOIN mandats m ON m.id = a.mandat_id \
         WHERE m.id = $1 ORDER BY a.id"
    );
    statement!(&sql, mandat.0)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(autorisation_from)
        .collect()
}
