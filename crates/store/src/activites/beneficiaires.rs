//! A structure's file of followed beneficiaries: reading a file and its path, erasure,
//! merging two files of one person, and the files past their conservation.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{next_version, parse, parse_set, renumber_first};
use crate::{Db, StoreError, Tx};
use relais_domain::activites::vocabulaires::{
    Genre, StatutSocial, Thematique, TrancheAge, TypeActivite,
};
use relais_domain::ids::{ActiviteId, BeneficiaireId, PersonId, StructureId};

/// A live file (not erased, not merged), with its last trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fiche {
    pub id: BeneficiaireId,
    pub structure: StructureId,
    pub prenom: String,
    pub nom: String,
    pub commune: Option<String>,
    pub genre: Genre,
    pub tranche: TrancheAge,
    pub statut: StatutSocial,
    pub consentement_le: i64,
    pub cree_par: PersonId,
    pub partage: bool,
    pub created_at: i64,
    /// The day of their latest live activity (midnight UTC, Unix ms), if any.
    pub derniere_activite: Option<i64>,
    pub activites: i64,
}

const FICHE: &str = "SELECT b.id, b.structure_id, b.prenom, b.nom, b.commune, b.genre, \
     b.tranche_age, b.statut, b.consentement_le, b.cree_par, b.partage, b.created_at, \
     (SELECT MAX(a.date) FROM participations p JOIN activites a ON a.id = p.activite_id \
      WHERE p.beneficiaire_id = b.id AND a.supprimee_le IS NULL), \
     (SELECT COUNT(*) FROM participations p JOIN activites a ON a.id = p.activite_id \
      WHERE p.beneficiaire_id = b.id AND a.supprimee_le IS NULL) \
     FROM beneficiaires b";

fn fiche(r: &AnyRow) -> Result<Fiche, StoreError> {
    Ok(Fiche {
        id: BeneficiaireId(r.get(0)),
        structure: StructureId(r.get(1)),
        prenom: r.get(2),
        nom: r.get(3),
        commune: r.get(4),
        genre: parse(&r.get::<String, _>(5), Genre::parse)?,
        tranche: parse(&r.get::<String, _>(6), TrancheAge::parse)?,
        statut: parse(&r.get::<String, _>(7), StatutSocial::parse)?,
        consentement_le: r.get(8),
        cree_par: PersonId(r.get(9)),
        partage: r.get::<i64, _>(10) != 0,
        created_at: r.get(11),
        derniere_activite: r.get(12),
        activites: r.get(13),
    })
}

/// The live files of `structure` that `viewer` may see, by name.
pub async fn fiches(
    db: &Db,
    structure: StructureId,
    viewer: PersonId,
) -> Result<Vec<Fiche>, StoreError> {
    let sql = format!(
        "{FICHE} WHERE b.structure_id = $1 AND b.supprime_le IS NULL \
         AND b.fusionne_dans IS NULL AND (b.cree_par = $2 OR b.partage = 1) \
         ORDER BY b.nom, b.prenom, b.id"
    );
    sqlx::query(&sql)
        .bind(structure.0)
        .bind(viewer.0)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(fiche)
        .collect()
}

/// Live file `id`, whoever may see it (the caller checks).
pub async fn lire(db: &Db, id: BeneficiaireId) -> Result<Option<Fiche>, StoreError> {
    let sql =
        format!("{FICHE} WHERE b.id = $1 AND b.supprime_le IS NULL AND b.fusionne_dans IS NULL");
    sqlx::query(&sql)
        .bind(id.0)
        .fetch_optional(db.pool())
        .await?
        .as_ref()
        .map(fiche)
        .transpose()
}

/// One live activity of a beneficiary's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Etape {
    pub activite: ActiviteId,
    pub date: i64,
    pub type_activite: TypeActivite,
    pub duree: u32,
    pub thematiques: Vec<Thematique>,
    pub mediateur: String,
    pub premier: bool,
}

/// The live activities of beneficiary `id`, oldest first.
pub async fn parcours(db: &Db, id: BeneficiaireId) -> Result<Vec<Etape>, StoreError> {
    statement!(
        "SELECT a.id, a.date, a.type_activite, a.duree, a.thematiques, \
         m.given_name || ' ' || m.family_name, p.premier \
         FROM participations p JOIN activites a ON a.id = p.activite_id \
         JOIN persons m ON m.id = a.mediateur_id \
         WHERE p.beneficiaire_id = $1 AND a.supprimee_le IS NULL \
         ORDER BY a.date, a.id",
        id.0
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        Ok(Etape {
            activite: ActiviteId(r.get(0)),
            date: r.get(1),
            type_activite: parse(&r.get::<String, _>(2), TypeActivite::parse)?,
            duree: u32::try_from(r.get::<i64, _>(3)).unwrap_or(0),
            thematiques: parse_set(&r.get::<String, _>(4), Thematique::parse)?
                .into_iter()
                .collect(),
            mediateur: r.get(5),
            premier: r.get::<i64, _>(6) != 0,
        })
    })
    .collect()
}

/// Erases file `id`: its name and commune blanked, marked erased at `now`. Its
/// participations stay, with the figures copied then: the statistics do not change.
/// `false` if there was no live file `id`.
pub async fn effacer(tx: &mut Tx, id: BeneficiaireId, now: i64) -> Result<bool, StoreError> {
    let done = statement!(
        "UPDATE beneficiaires SET prenom = '', nom = '', commune = NULL, supprime_le = $1 \
         WHERE id = $2 AND supprime_le IS NULL AND fusionne_dans IS NULL",
        now,
        id.0
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Merges file `autre` into `garde` (both live, one structure): `autre`'s participations
/// become `garde`'s, `autre` points to `garde`, « premier accompagnement » is derived again
/// and every activity whose participations changed gets a new version, so the statistics
/// index reads them again. `false` (and nothing written: drop `tx`) if either file was not
/// live or they are of two structures.
pub async fn fusionner(
    tx: &mut Tx,
    garde: BeneficiaireId,
    autre: BeneficiaireId,
) -> Result<bool, StoreError> {
    if garde == autre {
        return Ok(false);
    }
    // First: the version row's lock orders this write with the activities' own.
    next_version(tx).await?;
    let marked = statement!(
        "UPDATE beneficiaires SET fusionne_dans = $1 WHERE id = $2 AND supprime_le IS NULL \
         AND fusionne_dans IS NULL AND EXISTS (SELECT 1 FROM beneficiaires g WHERE g.id = $1 \
         AND g.structure_id = beneficiaires.structure_id AND g.supprime_le IS NULL \
         AND g.fusionne_dans IS NULL)",
        garde.0,
        autre.0
    )
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if marked != 1 {
        return Ok(false);
    }
    let moved: Vec<i64> = statement!(
        "SELECT DISTINCT activite_id FROM participations WHERE beneficiaire_id = $1",
        autre.0
    )
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect();
    statement!(
        "UPDATE participations SET beneficiaire_id = $1 WHERE beneficiaire_id = $2",
        garde.0,
        autre.0
    )
    .execute(&mut **tx)
    .await?;
    for activite in moved {
        let version = next_version(tx).await?;
        statement!(
            "UPDATE activites SET version = $1 WHERE id = $2",
            version,
            activite
        )
        .execute(&mut **tx)
        .await?;
    }
    // No activity was just written: every one whose flag changes gets a new version.
    renumber_first(tx, [garde].into(), ActiviteId(0)).await?;
    Ok(true)
}

/// Up to `limite` live files whose last trace (latest live activity, else creation) is
/// before `avant`.
pub async fn expirees(
    db: &Db,
    avant: i64,
    limite: i64,
) -> Result<Vec<(BeneficiaireId, StructureId)>, StoreError> {
    Ok(statement!(
        "SELECT b.id, b.structure_id FROM beneficiaires b \
         WHERE b.supprime_le IS NULL AND b.fusionne_dans IS NULL AND b.created_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM participations p JOIN activites a \
         ON a.id = p.activite_id WHERE p.beneficiaire_id = b.id \
         AND a.supprimee_le IS NULL AND a.date >= $1) ORDER BY b.id LIMIT $2",
        avant,
        limite
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| (BeneficiaireId(r.get(0)), StructureId(r.get(1))))
    .collect())
}
