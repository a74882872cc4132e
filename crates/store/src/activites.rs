//! Activities, their participations and the « premier accompagnement » the store derives.
//!
//! Every write takes the next version from `activites_versions` first: that one row orders
//! the writers, so the statistics index reading `version > n` never misses a write that
//! commits late. A write that changes which participation is a beneficiary's first gives
//! the other activity it touched a new version too: the index then reads it again.

use std::collections::{BTreeMap, BTreeSet};

use relais_domain::activites::rapport::{Anonymes, Rapport};
use relais_domain::activites::statistiques::{Figures, Filtres, Participation, Totaux, mois};
use relais_domain::activites::vocabulaires::{
    Autonomie, Genre, Materiel, NiveauAtelier, StatutSocial, StructureDeRedirection, Thematique,
    ThematiqueDemarche, TrancheAge, TrancheDuree, TypeActivite, TypeLieu,
};
use relais_domain::ids::{ActiviteId, BeneficiaireId, LieuId, PersonId, StructureId};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::insert_rows;
use crate::{Db, StoreError, Tx};

pub mod beneficiaires;
pub mod export;
pub mod masse;

/// One person of an activity as it is written: a followed beneficiary with the figures of
/// their file, or an anonymous one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    pub beneficiaire: Option<BeneficiaireId>,
    /// An anonymous participant already accompanied before (followed ones: derived).
    pub deja_accompagne: bool,
    pub genre: Genre,
    pub tranche: TrancheAge,
    pub statut: StatutSocial,
    pub commune: Option<String>,
}

/// An activity to write: the checked report and its participants.
#[derive(Debug, Clone)]
pub struct NouvelleActivite {
    /// Chosen by the device that made the entry: the same key is written once.
    pub cle: String,
    pub mediateur: PersonId,
    pub structure: StructureId,
    pub rapport: Rapport,
    /// The anonymous counts as entered (JSON), to reopen the form.
    pub anonymes_json: String,
    pub participants: Vec<Participant>,
}

/// What [`enregistrer`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enregistrement {
    Nouvelle(ActiviteId),
    /// The key was already written (an entry sent twice): nothing more was.
    DejaRecue {
        id: ActiviteId,
        mediateur: PersonId,
    },
}

fn words<T: Copy>(values: impl IntoIterator<Item = T>, wire: impl Fn(T) -> &'static str) -> String {
    values.into_iter().map(wire).collect::<Vec<_>>().join(" ")
}

async fn next_version(tx: &mut Tx) -> Result<i64, StoreError> {
    Ok(
        statement!("UPDATE activites_versions SET derniere = derniere + 1 RETURNING derniere")
            .fetch_one(&mut **tx)
            .await?
            .get(0),
    )
}

/// Writes a new activity, unless its key already was.
pub async fn enregistrer(
    db: &Db,
    a: &NouvelleActivite,
    now: i64,
) -> Result<Enregistrement, StoreError> {
    let mut tx = db.begin().await?;
    let version = next_version(&mut tx).await?;
    // After the version: a second copy of the entry waits for the first to commit, then
    // finds it.
    if let Some(row) = statement!(
        "SELECT id, mediateur_id FROM activites WHERE cle = $1",
        &a.cle
    )
    .fetch_optional(&mut *tx)
    .await?
    {
        return Ok(Enregistrement::DejaRecue {
            id: ActiviteId(row.get(0)),
            mediateur: PersonId(row.get(1)),
        });
    }
    let r = &a.rapport;
    let id: i64 = statement!(
        "INSERT INTO activites (cle, mediateur_id, structure_id, type_activite, date, duree, \
         type_lieu, lieu_id, commune, thematiques, demarches, materiel, autonomie, niveau, \
         orientation, precisions_demarche, titre_atelier, anonymes, created_at, updated_at, \
         version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
         $16, $17, $18, $19, $19, $20) RETURNING id",
        &a.cle,
        a.mediateur.0,
        a.structure.0,
        r.type_activite.as_str(),
        r.date,
        i64::from(r.duree),
        r.type_lieu.as_str(),
        r.lieu.as_ref().map(LieuId::as_str),
        &r.commune,
        words(r.thematiques.iter().copied(), Thematique::as_str),
        words(r.demarches.iter().copied(), ThematiqueDemarche::as_str),
        words(r.materiel.iter().copied(), Materiel::as_str),
        r.autonomie.map(Autonomie::as_str),
        r.niveau.map(NiveauAtelier::as_str),
        r.orientation.map(StructureDeRedirection::as_str),
        &r.precisions_demarche,
        &r.titre_atelier,
        &a.anonymes_json,
        now,
        version
    )
    .fetch_one(&mut *tx)
    .await?
    .get(0);
    let id = ActiviteId(id);
    write_details(&mut tx, id, a).await?;
    let suivis = a.participants.iter().filter_map(|p| p.beneficiaire);
    renumber_first(&mut tx, suivis.collect(), id).await?;
    crate::commit(tx).await?;
    Ok(Enregistrement::Nouvelle(id))
}

async fn write_details(
    tx: &mut Tx,
    id: ActiviteId,
    a: &NouvelleActivite,
) -> Result<(), StoreError> {
    let thematiques: Vec<Thematique> = a.rapport.thematiques.iter().copied().collect();
    insert_rows(
        tx,
        "activite_thematiques",
        &["activite_id", "thematique"],
        &thematiques,
        |q, t| q.bind(id.0).bind(t.as_str()),
    )
    .await?;
    insert_rows(
        tx,
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
        &a.participants,
        |q, p| {
            let premier = p.beneficiaire.is_none() && !p.deja_accompagne;
            q.bind(id.0)
                .bind(p.beneficiaire.map(|b| b.0))
                .bind(i64::from(premier))
                .bind(p.genre.as_str())
                .bind(p.tranche.as_str())
                .bind(p.statut.as_str())
                .bind(p.commune.clone())
        },
    )
    .await
}

/// Sets `premier` on each of `suivis`' participations (their earliest live activity's), and
/// gives a new version to the activities other than `written` whose flag changed.
async fn renumber_first(
    tx: &mut Tx,
    suivis: BTreeSet<BeneficiaireId>,
    written: ActiviteId,
) -> Result<(), StoreError> {
    let mut touched = BTreeSet::new();
    for b in suivis {
        let rows = statement!(
            "SELECT p.id, p.activite_id, p.premier FROM participations p \
             JOIN activites a ON a.id = p.activite_id \
             WHERE p.beneficiaire_id = $1 AND a.supprimee_le IS NULL \
             ORDER BY a.date, a.id, p.id",
            b.0
        )
        .fetch_all(&mut **tx)
        .await?;
        for (i, row) in rows.iter().enumerate() {
            let (id, activite, premier): (i64, i64, i64) = (row.get(0), row.get(1), row.get(2));
            let wanted = i64::from(i == 0);
            if premier != wanted {
                statement!(
                    "UPDATE participations SET premier = $1 WHERE id = $2",
                    wanted,
                    id
                )
                .execute(&mut **tx)
                .await?;
                if activite != written.0 {
                    touched.insert(activite);
                }
            }
        }
    }
    for activite in touched {
        let version = next_version(tx).await?;
        statement!(
            "UPDATE activites SET version = $1 WHERE id = $2",
            version,
            activite
        )
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn beneficiaires_of(
    tx: &mut Tx,
    id: ActiviteId,
) -> Result<BTreeSet<BeneficiaireId>, StoreError> {
    Ok(statement!(
        "SELECT beneficiaire_id FROM participations \
         WHERE activite_id = $1 AND beneficiaire_id IS NOT NULL",
        id.0
    )
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| BeneficiaireId(r.get(0)))
    .collect())
}

/// Replaces activity `id` of `a.mediateur` (not deleted) by `a`; `false` if there is none.
pub async fn modifier(
    db: &Db,
    id: ActiviteId,
    a: &NouvelleActivite,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let version = next_version(&mut tx).await?;
    let r = &a.rapport;
    let changed = statement!(
        "UPDATE activites SET type_activite = $1, date = $2, duree = $3, type_lieu = $4, \
         lieu_id = $5, commune = $6, thematiques = $7, demarches = $8, materiel = $9, \
         autonomie = $10, niveau = $11, orientation = $12, precisions_demarche = $13, \
         titre_atelier = $14, anonymes = $15, updated_at = $16, version = $17 \
         WHERE id = $18 AND mediateur_id = $19 AND supprimee_le IS NULL",
        r.type_activite.as_str(),
        r.date,
        i64::from(r.duree),
        r.type_lieu.as_str(),
        r.lieu.as_ref().map(LieuId::as_str),
        &r.commune,
        words(r.thematiques.iter().copied(), Thematique::as_str),
        words(r.demarches.iter().copied(), ThematiqueDemarche::as_str),
        words(r.materiel.iter().copied(), Materiel::as_str),
        r.autonomie.map(Autonomie::as_str),
        r.niveau.map(NiveauAtelier::as_str),
        r.orientation.map(StructureDeRedirection::as_str),
        &r.precisions_demarche,
        &r.titre_atelier,
        &a.anonymes_json,
        now,
        version,
        id.0,
        a.mediateur.0
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Ok(false);
    }
    let mut suivis = beneficiaires_of(&mut tx, id).await?;
    for table in ["activite_thematiques", "participations"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE activite_id = $1"))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
    }
    write_details(&mut tx, id, a).await?;
    suivis.extend(a.participants.iter().filter_map(|p| p.beneficiaire));
    renumber_first(&mut tx, suivis, id).await?;
    crate::commit(tx).await?;
    Ok(true)
}

/// Deletes (softly) activity `id` of `mediateur`; `false` if there is none.
pub async fn supprimer(
    db: &Db,
    id: ActiviteId,
    mediateur: PersonId,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    let version = next_version(&mut tx).await?;
    let changed = statement!(
        "UPDATE activites SET supprimee_le = $1, version = $2 \
         WHERE id = $3 AND mediateur_id = $4 AND supprimee_le IS NULL",
        now,
        version,
        id.0,
        mediateur.0
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Ok(false);
    }
    let suivis = beneficiaires_of(&mut tx, id).await?;
    renumber_first(&mut tx, suivis, id).await?;
    crate::commit(tx).await?;
    Ok(true)
}

/// The last version written.
pub async fn derniere_version(db: &Db) -> Result<i64, StoreError> {
    Ok(statement!("SELECT derniere FROM activites_versions")
        .fetch_one(db.pool())
        .await?
        .get(0))
}

/// An activity as the statistics read it: its participations, none if it was deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ecriture {
    pub version: i64,
    pub activite: ActiviteId,
    pub participations: Vec<Participation>,
}

fn parse<T>(value: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(value)
        .ok_or_else(|| StoreError::Corrupt(format!("valeur d’activité inconnue « {value} »")))
}

fn parse_set<T: Ord>(
    values: &str,
    one: impl Fn(&str) -> Option<T>,
) -> Result<BTreeSet<T>, StoreError> {
    values.split_whitespace().map(|v| parse(v, &one)).collect()
}

/// The columns [`ecritures`] reads, in the order [`participation`] parses them.
const ECRITURE: [&str; 19] = [
    "a.version",
    "a.id",
    "a.mediateur_id",
    "a.structure_id",
    "a.date",
    "a.type_activite",
    "a.duree",
    "a.type_lieu",
    "a.lieu_id",
    "a.commune",
    "a.thematiques",
    "a.materiel",
    "a.supprimee_le",
    "p.beneficiaire_id",
    "p.premier",
    "p.genre",
    "p.tranche_age",
    "p.statut",
    "p.commune",
];

fn participation(f: &[&str]) -> Result<Participation, StoreError> {
    let int = |i: usize| -> Result<i64, StoreError> {
        f[i].parse()
            .map_err(|_| StoreError::Corrupt(format!("nombre attendu : « {} »", f[i])))
    };
    let maybe = |i: usize| (!f[i].is_empty()).then(|| f[i].to_string());
    Ok(Participation {
        activite: ActiviteId(int(1)?),
        mediateur: PersonId(int(2)?),
        structure: StructureId(int(3)?),
        date: int(4)?,
        type_activite: parse(f[5], TypeActivite::parse)?,
        duree: u32::try_from(int(6)?).unwrap_or(0),
        type_lieu: parse(f[7], TypeLieu::parse)?,
        lieu: maybe(8).map(LieuId),
        commune: f[9].to_string(),
        thematiques: parse_set(f[10], Thematique::parse)?,
        materiel: parse_set(f[11], Materiel::parse)?,
        beneficiaire: maybe(13)
            .map(|b| b.parse().map(BeneficiaireId))
            .transpose()
            .map_err(|_| StoreError::Corrupt(format!("bénéficiaire illisible : « {} »", f[13])))?,
        premier: f[14] == "1",
        genre: parse(f[15], Genre::parse)?,
        tranche: parse(f[16], TrancheAge::parse)?,
        statut: parse(f[17], StatutSocial::parse)?,
        commune_beneficiaire: maybe(18),
    })
}

/// The activities written at versions `apres + 1 ..= jusqu_a`, in version order, each with
/// its participations as they are now; one statement, so one consistent state.
///
/// The rows come back as one text (a line per participation, fields separated by `|`,
/// which no stored value holds): the driver's cost per row (12 µs with SQLite, against
/// 1.5 µs for SQLite itself) made reading 10 million rows take minutes
/// (docs/BENCHMARKS.md).
pub async fn ecritures(db: &Db, apres: i64, jusqu_a: i64) -> Result<Vec<Ecriture>, StoreError> {
    let fields: Vec<String> = ECRITURE
        .iter()
        .map(|c| format!("COALESCE(CAST({c} AS TEXT), '')"))
        .collect();
    let sql = format!(
        // The separator is a newline written in the literal: both backends take it.
        "SELECT string_agg({}, '\n' ORDER BY a.version, p.id) \
         FROM activites a JOIN participations p ON p.activite_id = a.id \
         WHERE a.version > $1 AND a.version <= $2",
        fields.join(" || '|' || ")
    );
    let text: Option<String> = statement!(&sql, apres, jusqu_a)
        .fetch_one(db.pool())
        .await?
        .get(0);
    let mut out: Vec<Ecriture> = Vec::new();
    for line in text.as_deref().unwrap_or("").lines() {
        let f: Vec<&str> = line.split('|').collect();
        if f.len() != ECRITURE.len() {
            return Err(StoreError::Corrupt(format!(
                "ligne d’activité illisible : « {line} »"
            )));
        }
        let version: i64 = f[0]
            .parse()
            .map_err(|_| StoreError::Corrupt(format!("version illisible : « {} »", f[0])))?;
        if out.last().is_none_or(|e| e.version != version) {
            out.push(Ecriture {
                version,
                activite: ActiviteId(f[1].parse().unwrap_or(0)),
                participations: Vec::new(),
            });
        }
        let deleted = !f[12].is_empty();
        if !deleted && let Some(last) = out.last_mut() {
            last.participations.push(participation(&f)?);
        }
    }
    Ok(out)
}

/// A followed beneficiary's file, as a structure records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NouveauBeneficiaire {
    pub structure: StructureId,
    pub prenom: String,
    pub nom: String,
    pub commune: Option<String>,
    pub genre: Genre,
    pub tranche: TrancheAge,
    pub statut: StatutSocial,
    pub consentement_le: i64,
    pub cree_par: PersonId,
    /// The person agreed that the structure's other mediators see their file.
    pub partage: bool,
}

pub async fn creer_beneficiaire(
    db: &Db,
    b: &NouveauBeneficiaire,
    now: i64,
) -> Result<BeneficiaireId, StoreError> {
    Ok(BeneficiaireId(
        statement!(
            "INSERT INTO beneficiaires (structure_id, prenom, nom, commune, genre, tranche_age, \
             statut, consentement_le, cree_par, created_at, partage) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            b.structure.0,
            &b.prenom,
            &b.nom,
            b.commune.as_deref(),
            b.genre.as_str(),
            b.tranche.as_str(),
            b.statut.as_str(),
            b.consentement_le,
            b.cree_par.0,
            now,
            i64::from(b.partage)
        )
        .fetch_one(db.pool())
        .await?
        .get(0),
    ))
}

/// Of `ids`, the followed beneficiaries in `structure`'s file (not erased, not merged) that
/// `viewer` may see, with the figures an activity copies.
pub async fn suivis_de(
    db: &Db,
    structure: StructureId,
    viewer: PersonId,
    ids: &BTreeSet<BeneficiaireId>,
) -> Result<Vec<Participant>, StoreError> {
    let mut out = Vec::new();
    for id in ids {
        let row = statement!(
            "SELECT genre, tranche_age, statut, commune FROM beneficiaires \
             WHERE id = $1 AND structure_id = $2 AND supprime_le IS NULL \
             AND fusionne_dans IS NULL AND (cree_par = $3 OR partage = 1)",
            id.0,
            structure.0,
            viewer.0
        )
        .fetch_optional(db.pool())
        .await?;
        if let Some(r) = row {
            out.push(Participant {
                beneficiaire: Some(*id),
                deja_accompagne: false,
                genre: parse(&r.get::<String, _>(0), Genre::parse)?,
                tranche: parse(&r.get::<String, _>(1), TrancheAge::parse)?,
                statut: parse(&r.get::<String, _>(2), StatutSocial::parse)?,
                commune: r.get(3),
            });
        }
    }
    Ok(out)
}

/// One line of a mediator's list of activities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActiviteListee {
    pub id: ActiviteId,
    pub date: i64,
    pub type_activite: TypeActivite,
    pub duree: u32,
    pub type_lieu: TypeLieu,
    pub lieu: Option<LieuId>,
    pub commune: String,
    pub thematiques: BTreeSet<Thematique>,
    pub participants: i64,
}

/// The live activities `mediateur` reported in `structure`, latest day first, at most
/// `limit`.
pub async fn du_mediateur(
    db: &Db,
    mediateur: PersonId,
    structure: StructureId,
    limit: i64,
) -> Result<Vec<ActiviteListee>, StoreError> {
    let rows = statement!(
        "SELECT a.id, a.date, a.type_activite, a.duree, a.type_lieu, a.commune, a.thematiques, \
         (SELECT COUNT(*) FROM participations p WHERE p.activite_id = a.id), a.lieu_id \
         FROM activites a WHERE a.mediateur_id = $1 AND a.structure_id = $2 \
         AND a.supprimee_le IS NULL ORDER BY a.date DESC, a.id DESC LIMIT $3",
        mediateur.0,
        structure.0,
        limit
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ActiviteListee {
                id: ActiviteId(r.get(0)),
                date: r.get(1),
                type_activite: parse(&r.get::<String, _>(2), TypeActivite::parse)?,
                duree: u32::try_from(r.get::<i64, _>(3)).unwrap_or(0),
                type_lieu: parse(&r.get::<String, _>(4), TypeLieu::parse)?,
                lieu: r.get::<Option<String>, _>(8).map(LieuId),
                commune: r.get(5),
                thematiques: parse_set(&r.get::<String, _>(6), Thematique::parse)?,
                participants: r.get(7),
            })
        })
        .collect()
}

/// Live activity `id` of `mediateur` as it was written: its key, its report (the anonymous
/// counts left empty), the counts as entered (JSON) and how many anonymous people it had.
pub async fn lire(
    db: &Db,
    id: ActiviteId,
    mediateur: PersonId,
) -> Result<Option<(String, Rapport, String, u32)>, StoreError> {
    let Some(r) = statement!(
        "SELECT cle, type_activite, date, duree, type_lieu, lieu_id, commune, thematiques, \
         demarches, materiel, autonomie, niveau, orientation, precisions_demarche, \
         titre_atelier, anonymes, \
         (SELECT COUNT(*) FROM participations p WHERE p.activite_id = a.id \
          AND p.beneficiaire_id IS NULL) \
         FROM activites a WHERE id = $1 AND mediateur_id = $2 AND supprimee_le IS NULL",
        id.0,
        mediateur.0
    )
    .fetch_optional(db.pool())
    .await?
    else {
        return Ok(None);
    };
    let suivis = statement!(
        "SELECT beneficiaire_id FROM participations \
         WHERE activite_id = $1 AND beneficiaire_id IS NOT NULL",
        id.0
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| BeneficiaireId(r.get(0)))
    .collect();
    let text = |i: usize| -> String { r.get(i) };
    let maybe = |i: usize| -> Option<String> { r.get(i) };
    let rapport = Rapport {
        type_activite: parse(&text(1), TypeActivite::parse)?,
        date: r.get(2),
        duree: u32::try_from(r.get::<i64, _>(3)).unwrap_or(0),
        type_lieu: parse(&text(4), TypeLieu::parse)?,
        lieu: maybe(5).map(LieuId),
        commune: text(6),
        thematiques: parse_set(&text(7), Thematique::parse)?,
        demarches: parse_set(&text(8), ThematiqueDemarche::parse)?,
        materiel: parse_set(&text(9), Materiel::parse)?,
        autonomie: maybe(10).map(|v| parse(&v, Autonomie::parse)).transpose()?,
        niveau: maybe(11)
            .map(|v| parse(&v, NiveauAtelier::parse))
            .transpose()?,
        orientation: maybe(12)
            .map(|v| parse(&v, StructureDeRedirection::parse))
            .transpose()?,
        precisions_demarche: text(13),
        titre_atelier: text(14),
        suivis,
        anonymes: Anonymes::default(),
    };
    let total = u32::try_from(r.get::<i64, _>(16)).unwrap_or(0);
    Ok(Some((text(0), rapport, text(15), total)))
}

/// The followed beneficiaries of `structure`'s file (not erased, not merged) that `viewer`
/// may see (`domain::activites::beneficiaires::visible`), by name.
pub async fn beneficiaires(
    db: &Db,
    structure: StructureId,
    viewer: PersonId,
) -> Result<Vec<(BeneficiaireId, String)>, StoreError> {
    Ok(statement!(
        "SELECT id, prenom, nom FROM beneficiaires WHERE structure_id = $1 \
         AND supprime_le IS NULL AND fusionne_dans IS NULL AND (cree_par = $2 OR partage = 1) \
         ORDER BY nom, prenom, id",
        structure.0,
        viewer.0
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| {
        (
            BeneficiaireId(r.get(0)),
            format!("{} {}", r.get::<String, _>(1), r.get::<String, _>(2)),
        )
    })
    .collect())
}

/// The `WHERE` of [`figures_par_group_by`] over `activites a`, with its values in order.
fn where_clause(f: &Filtres) -> (String, Vec<Valeur>) {
    let mut sql = vec!["a.supprimee_le IS NULL".to_string()];
    let mut values: Vec<Valeur> = Vec::new();
    let mark = |values: &mut Vec<Valeur>, v: Valeur| {
        values.push(v);
        format!("${}", values.len())
    };
    if let Some(d) = f.du {
        sql.push(format!("a.date >= {}", mark(&mut values, Valeur::Int(d))));
    }
    if let Some(d) = f.au {
        sql.push(format!("a.date <= {}", mark(&mut values, Valeur::Int(d))));
    }
    let mut one_of = |sql: &mut Vec<String>, column: &str, list: Vec<Valeur>| {
        if !list.is_empty() {
            let marks: Vec<String> = list.into_iter().map(|v| mark(&mut values, v)).collect();
            sql.push(format!("{column} IN ({})", marks.join(", ")));
        }
    };
    let texts = |it: Vec<&str>| {
        it.into_iter()
            .map(|s| Valeur::Text(s.to_string()))
            .collect()
    };
    one_of(
        &mut sql,
        "a.type_activite",
        texts(f.types.iter().map(|t| t.as_str()).collect()),
    );
    one_of(
        &mut sql,
        "a.mediateur_id",
        f.mediateurs.iter().map(|m| Valeur::Int(m.0)).collect(),
    );
    one_of(
        &mut sql,
        "a.structure_id",
        f.structures.iter().map(|s| Valeur::Int(s.0)).collect(),
    );
    one_of(
        &mut sql,
        "a.lieu_id",
        texts(f.lieux.iter().map(LieuId::as_str).collect()),
    );
    one_of(
        &mut sql,
        "a.commune",
        texts(f.communes.iter().map(String::as_str).collect()),
    );
    if !f.thematiques.is_empty() {
        let mut inner = Vec::new();
        one_of(
            &mut inner,
            "t.thematique",
            texts(f.thematiques.iter().map(|t| t.as_str()).collect()),
        );
        sql.push(format!(
            "EXISTS (SELECT 1 FROM activite_thematiques t WHERE t.activite_id = a.id AND {})",
            inner[0]
        ));
    }
    (sql.join(" AND "), values)
}

enum Valeur {
    Int(i64),
    Text(String),
}

async fn select(db: &Db, sql: &str, values: &[Valeur]) -> Result<Vec<AnyRow>, StoreError> {
    let mut q = sqlx::query(sql);
    for v in values {
        q = match v {
            Valeur::Int(i) => q.bind(*i),
            Valeur::Text(s) => q.bind(s.clone()),
        };
    }
    Ok(q.fetch_all(db.pool()).await?)
}

/// Counts `(value, n)` rows into a distribution of vocabulary values.
fn counted<K: Ord>(
    rows: &[AnyRow],
    key: impl Fn(&AnyRow) -> Result<K, StoreError>,
) -> Result<BTreeMap<K, u64>, StoreError> {
    let mut out = BTreeMap::new();
    for r in rows {
        let n: i64 = r.get(1);
        *out.entry(key(r)?).or_insert(0) += n as u64;
    }
    Ok(out)
}

/// The same figures as the index, by plain `GROUP BY`s over the participations: the
/// reference the benchmark compares with (one scan per distribution).
pub async fn figures_par_group_by(db: &Db, f: &Filtres) -> Result<Figures, StoreError> {
    let (filter, values) = where_clause(f);
    let from =
        format!("FROM participations p JOIN activites a ON a.id = p.activite_id WHERE {filter}");
    let by = |column: &str| format!("SELECT {column}, COUNT(*) {from} GROUP BY {column}");
    let text = |r: &AnyRow| -> String { r.get(0) };
    let totals = select(
        db,
        &format!(
            "SELECT COUNT(DISTINCT a.id), \
             COUNT(DISTINCT CASE WHEN a.type_activite = 'individuel' THEN a.id END), \
             COUNT(*), COUNT(DISTINCT p.beneficiaire_id), \
             CAST(COALESCE(SUM(CASE WHEN p.beneficiaire_id IS NULL THEN 1 ELSE 0 END), 0) AS BIGINT), \
             CAST(COALESCE(SUM(p.premier), 0) AS BIGINT) {from}"
        ),
        &values,
    )
    .await?;
    let t = &totals[0];
    let count = |i: usize| t.get::<i64, _>(i) as u64;
    let totaux = Totaux {
        activites: count(0),
        activites_individuelles: count(1),
        activites_collectives: count(0) - count(1),
        participations: count(2),
        beneficiaires: count(3) + count(4),
        beneficiaires_suivis: count(3),
        beneficiaires_anonymes: count(4),
        nouveaux: count(5),
    };
    let mut par_mois = BTreeMap::new();
    for (day, n) in counted(&select(db, &by("a.date"), &values).await?, |r| {
        Ok(r.get::<i64, _>(0))
    })? {
        *par_mois.entry(mois(day)).or_insert(0) += n;
    }
    let mut par_duree = BTreeMap::new();
    for (minutes, n) in counted(&select(db, &by("a.duree"), &values).await?, |r| {
        Ok(r.get::<i64, _>(0))
    })? {
        *par_duree
            .entry(TrancheDuree::de(u32::try_from(minutes).unwrap_or(u32::MAX)))
            .or_insert(0) += n;
    }
    let thematiques = select(
        db,
        &format!(
            "SELECT th.thematique, COUNT(*) FROM participations p \
             JOIN activites a ON a.id = p.activite_id \
             JOIN activite_thematiques th ON th.activite_id = a.id \
             WHERE {filter} GROUP BY th.thematique"
        ),
        &values,
    )
    .await?;
    // The matériels are words of one column: one sum per value, in one scan.
    let sums: Vec<String> = Materiel::ALL
        .iter()
        .map(|m| {
            format!(
                "CAST(COALESCE(SUM(CASE WHEN ' ' || a.materiel || ' ' LIKE '% {} %' THEN 1 ELSE 0 END), 0) AS BIGINT)",
                m.as_str()
            )
        })
        .collect();
    let materiel = select(db, &format!("SELECT {} {from}", sums.join(", ")), &values).await?;
    let par_materiel = Materiel::ALL
        .iter()
        .enumerate()
        .map(|(i, m)| (*m, materiel[0].get::<i64, _>(i) as u64))
        .filter(|(_, n)| *n > 0)
        .collect();
    let communes = select(
        db,
        &format!(
            "SELECT p.commune, COUNT(*) {from} AND p.beneficiaire_id IS NOT NULL \
             AND p.commune IS NOT NULL GROUP BY p.commune"
        ),
        &values,
    )
    .await?;
    Ok(Figures {
        totaux,
        par_mois,
        par_type: counted(&select(db, &by("a.type_activite"), &values).await?, |r| {
            parse(&text(r), TypeActivite::parse)
        })?,
        par_duree,
        par_type_lieu: counted(&select(db, &by("a.type_lieu"), &values).await?, |r| {
            parse(&text(r), TypeLieu::parse)
        })?,
        par_thematique: counted(&thematiques, |r| parse(&text(r), Thematique::parse))?,
        par_materiel,
        par_genre: counted(&select(db, &by("p.genre"), &values).await?, |r| {
            parse(&text(r), Genre::parse)
        })?,
        par_tranche: counted(&select(db, &by("p.tranche_age"), &values).await?, |r| {
            parse(&text(r), TrancheAge::parse)
        })?,
        par_statut: counted(&select(db, &by("p.statut"), &values).await?, |r| {
            parse(&text(r), StatutSocial::parse)
        })?,
        par_commune_beneficiaire: counted(&communes, |r| Ok(text(r)))?,
    })
}
