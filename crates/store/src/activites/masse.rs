//! Bulk writes for the benchmark and the demo data: rows with their ids chosen, many per
//! statement, the « premier » flags given (the caller writes each beneficiary's activities
//! in date order). No journal: this is not how people's reports are written.

use sqlx::Row;

use super::{NouvelleActivite, Participant, words};
use crate::db::insert_rows_with_ids;
use crate::{Db, StoreError};
use relais_domain::activites::vocabulaires::{Materiel, Thematique};
use relais_domain::ids::LieuId;

/// Accounts `ids`, named after their number, without password.
pub async fn personnes(db: &Db, ids: &[i64], now: i64) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    insert_rows_with_ids(
        &mut tx,
        "persons",
        &["id", "email", "given_name", "family_name", "created_at"],
        ids,
        |q, id| {
            q.bind(*id)
                .bind(format!("mediateur-{id}@exemple.invalid"))
                .bind("Médiateur")
                .bind(format!("n° {id}"))
                .bind(now)
        },
    )
    .await?;
    crate::commit(tx).await
}

/// Structures `(id, commune)`, with a made-up SIRET each.
pub async fn structures(db: &Db, rows: &[(i64, String)], now: i64) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    insert_rows_with_ids(
        &mut tx,
        "structures",
        &[
            "id",
            "siret",
            "nom",
            "kind",
            "adresse",
            "commune",
            "created_at",
        ],
        rows,
        |q, (id, commune)| {
            q.bind(*id)
                .bind(format!("{id:014}"))
                .bind(format!("Structure n° {id}"))
                .bind("association")
                .bind("")
                .bind(commune.clone())
                .bind(now)
        },
    )
    .await?;
    crate::commit(tx).await
}

/// Lieux `(id, commune)` with no data but their commune.
pub async fn lieux(db: &Db, rows: &[(LieuId, String)], now: i64) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    crate::db::insert_rows(
        &mut tx,
        "lieux",
        &[
            "id",
            "data",
            "provenance",
            "code_insee",
            "date_maj",
            "created_at",
            "updated_at",
        ],
        rows,
        |q, (id, commune)| {
            q.bind(id.0.clone())
                .bind("{}")
                .bind("{}")
                .bind(commune.clone())
                .bind("2025-01-01")
                .bind(now)
                .bind(now)
        },
    )
    .await?;
    crate::commit(tx).await
}

/// Followed beneficiaries `(id, structure, created by, figures)`.
pub async fn beneficiaires(
    db: &Db,
    rows: &[(i64, i64, i64, Participant)],
    now: i64,
) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    insert_rows_with_ids(
        &mut tx,
        "beneficiaires",
        &[
            "id",
            "structure_id",
            "prenom",
            "nom",
            "commune",
            "genre",
            "tranche_age",
            "statut",
            "consentement_le",
            "cree_par",
            "created_at",
        ],
        rows,
        |q, (id, structure, cree_par, p)| {
            q.bind(*id)
                .bind(*structure)
                .bind("Bénéficiaire")
                .bind(format!("n° {id}"))
                .bind(p.commune.clone())
                .bind(p.genre.as_str())
                .bind(p.tranche.as_str())
                .bind(p.statut.as_str())
                .bind(now)
                .bind(*cree_par)
                .bind(now)
        },
    )
    .await?;
    crate::commit(tx).await
}

/// An activity of a bulk load: its id (its version too) and each participant's flag.
pub struct Ligne {
    pub id: i64,
    pub activite: NouvelleActivite,
    pub premiers: Vec<bool>,
}

/// Activities with their thématiques and participations, in one transaction.
pub async fn activites(db: &Db, lignes: &[Ligne], now: i64) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    insert_rows_with_ids(
        &mut tx,
        "activites",
        &[
            "id",
            "cle",
            "mediateur_id",
            "structure_id",
            "type_activite",
            "date",
            "duree",
            "type_lieu",
            "lieu_id",
            "commune",
            "thematiques",
            "demarches",
            "materiel",
            "precisions_demarche",
            "titre_atelier",
            "anonymes",
            "created_at",
            "updated_at",
            "version",
        ],
        lignes,
        |q, l| {
            let (a, r) = (&l.activite, &l.activite.rapport);
            q.bind(l.id)
                .bind(a.cle.clone())
                .bind(a.mediateur.0)
                .bind(a.structure.0)
                .bind(r.type_activite.as_str())
                .bind(r.date)
                .bind(i64::from(r.duree))
                .bind(r.type_lieu.as_str())
                .bind(r.lieu.as_ref().map(|l| l.0.clone()))
                .bind(r.commune.clone())
                .bind(words(r.thematiques.iter().copied(), Thematique::as_str))
                .bind("")
                .bind(words(r.materiel.iter().copied(), Materiel::as_str))
                .bind("")
                .bind("")
                .bind("{}")
                .bind(now)
                .bind(now)
                .bind(l.id)
        },
    )
    .await?;
    let thematiques: Vec<(i64, Thematique)> = lignes
        .iter()
        .flat_map(|l| l.activite.rapport.thematiques.iter().map(|t| (l.id, *t)))
        .collect();
    crate::db::insert_rows(
        &mut tx,
        "activite_thematiques",
        &["activite_id", "thematique"],
        &thematiques,
        |q, (id, t)| q.bind(*id).bind(t.as_str()),
    )
    .await?;
    let participations: Vec<(i64, bool, &Participant)> = lignes
        .iter()
        .flat_map(|l| {
            l.activite
                .participants
                .iter()
                .zip(&l.premiers)
                .map(|(p, premier)| (l.id, *premier, p))
        })
        .collect();
    crate::db::insert_rows(
        &mut tx,
        "participations",
        &[
            "activite_id",
            "beneficiaire_id",
            "premier",
            "genre",
            "tranche_age",
            "statut",
            "commune",
        ],
        &participations,
        |q, (id, premier, p)| {
            q.bind(*id)
                .bind(p.beneficiaire.map(|b| b.0))
                .bind(i64::from(*premier))
                .bind(p.genre.as_str())
                .bind(p.tranche.as_str())
                .bind(p.statut.as_str())
                .bind(p.commune.clone())
        },
    )
    .await?;
    crate::commit(tx).await
}

/// After a bulk load: the next version, and PostgreSQL's identity sequences, follow the
/// largest ids written.
pub async fn terminer(db: &Db) -> Result<(), StoreError> {
    let last: i64 = statement!("SELECT COALESCE(MAX(version), 0) FROM activites")
        .fetch_one(db.pool())
        .await?
        .get(0);
    statement!("UPDATE activites_versions SET derniere = $1", last)
        .execute(db.pool())
        .await?;
    if db.backend() == crate::Backend::Postgres {
        for table in ["persons", "structures", "beneficiaires", "activites"] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            ))
            .execute(db.pool())
            .await?;
        }
    }
    Ok(())
}
